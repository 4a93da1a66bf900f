// StaffDirectory: the staff members and their credentials.
//
// Staff are found by id ("u-17") or email. A staff member signs in to the API with a bearer token
// or to the pages with a password; the directory keeps only the token's hash (SHA-256) and the
// password's argon2id hash, never either secret, so it can check a credential but not give one
// out. Adding a staff member whose email is taken is refused (kConflict).
//
// Implementations (adapters/sqlite, later PostgreSQL) are thread-safe: any thread may call.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/model.h"
#include "engine/result.h"
#include "engine/time.h"

namespace redress {

// An API token as staff administration lists it: never the token, only an id made from its hash.
struct TokenInfo {
  std::string id;  // "t-" and the first 16 hex digits of the token's SHA-256
  std::string staff_id;
  std::string label;
  Time created_at{};
  std::optional<Time> revoked_at;
};

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

  // Staff administration (docs/desk.md). A backend that does not implement them yet answers
  // kUnavailable, which the API passes on as 503.
  //
  // Writes `staff`'s name, email, role, team and active flag over the stored member's (kNotFound
  // when there is none; kConflict when the email is another member's). Making a member inactive
  // also revokes every token of theirs and ends every session, in the same transaction.
  [[nodiscard]] virtual Result<Staff> update_staff(const Staff& staff) {
    (void)staff;
    return Error::unavailable("this storage backend cannot change staff yet");
  }
  // Sets (or replaces) the argon2id hash of a member's password; kNotFound for an unknown member.
  [[nodiscard]] virtual Status set_password_hash(const std::string& staff_id, const std::string& hash) {
    (void)staff_id, (void)hash;
    return Error::unavailable("this storage backend cannot set passwords yet");
  }
  // A member's tokens, revoked ones included, oldest first.
  [[nodiscard]] virtual Result<std::vector<TokenInfo>> list_tokens(const std::string& staff_id) {
    (void)staff_id;
    return Error::unavailable("this storage backend cannot list tokens yet");
  }
  // Revokes the token with this id (TokenInfo::id); kNotFound when there is none. Revoking a
  // revoked token changes nothing. Returns the token as it is now.
  [[nodiscard]] virtual Result<TokenInfo> revoke_token(const std::string& token_id) {
    (void)token_id;
    return Error::unavailable("this storage backend cannot revoke tokens yet");
  }
  // The credentials' generation: a number that moves forward, in the same transaction, with every
  // change that can refuse a credential it accepted before (update_staff, revoke_token). A node that
  // remembers token look-ups forgets them when it moves (web/token_cache.h); 0 before any change.
  // On PostgreSQL each move is also announced to every node (NOTIFY redress_wake "credentials=N").
  [[nodiscard]] virtual Result<std::int64_t> credentials_generation() {
    return Error::unavailable("this storage backend keeps no credentials generation");
  }
};

}  // namespace redress
