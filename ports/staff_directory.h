// StaffDirectory: the staff members and their credentials.
//
// Staff are found by id ("u-17") or email. A staff member signs in to the API with a bearer token
// or to the pages with a password; the directory keeps only the token's hash (SHA-256) and the
// password's argon2id hash, never either secret, so it can check a credential but not give one
// out. Adding a staff member whose email is taken is refused (kConflict).
//
// Implementations (adapters/sqlite, later PostgreSQL) are thread-safe: any thread may call.
#pragma once

#include <string>
#include <vector>

#include "engine/model.h"
#include "engine/result.h"

namespace redress {

class StaffDirectory {
 public:
  virtual ~StaffDirectory() = default;

  [[nodiscard]] virtual Result<Staff> add_staff(const Staff& staff) = 0;
  [[nodiscard]] virtual Result<Staff> find_staff(const std::string& id_or_email) = 0;
  [[nodiscard]] virtual Result<std::vector<Staff>> list_staff() = 0;
  // Stores the token's hash for `staff_id`; the token itself is never stored.
  [[nodiscard]] virtual Status add_token(const std::string& staff_id, const std::string& token_hash,
                                         const std::string& label) = 0;
  // The staff member a token hash belongs to; kNotFound when unknown or revoked.
  [[nodiscard]] virtual Result<Staff> staff_for_token(const std::string& token_hash) = 0;
  // The argon2id hash of an active staff member's password; kNotFound when none is set.
  [[nodiscard]] virtual Result<std::string> password_hash(const std::string& staff_id) = 0;
};

}  // namespace redress
