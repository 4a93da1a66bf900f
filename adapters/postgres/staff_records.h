// StaffRecords: the PostgreSQL store's StaffDirectory: staff members, their API tokens' hashes and
// password hashes, on pooled connections. Staff ids ("u-17") come from the `sequences` table in the
// adding transaction; the unique index on lower(email) refuses a second member with an email
// whichever node adds them (kConflict).
//
// Thread-safe: the pool lends each call its own connection.
#pragma once

#include "adapters/postgres/connection_pool.h"
#include "engine/clock.h"
#include "ports/staff_directory.h"

namespace redress::postgres {

class StaffRecords {
 public:
  StaffRecords(ConnectionPool& pool, const Clock& clock) : pool_(pool), clock_(clock) {}

  [[nodiscard]] Result<Staff> add_staff(const Staff& staff);
  [[nodiscard]] Result<Staff> find_staff(const std::string& id_or_email);
  [[nodiscard]] Result<std::vector<Staff>> list_staff();
  [[nodiscard]] Status add_token(const std::string& staff_id, const std::string& token_hash, const std::string& label);
  [[nodiscard]] Result<Staff> staff_for_token(const std::string& token_hash);
  [[nodiscard]] Result<std::string> password_hash(const std::string& staff_id);
  // `redress staff set-password`: kNotFound when no such staff member.
  [[nodiscard]] Status set_password_hash(const std::string& staff_id, const std::string& hash);
  // Staff administration (ports/staff_directory.h, docs/desk.md).
  [[nodiscard]] Result<Staff> update_staff(const Staff& staff);
  [[nodiscard]] Result<std::vector<TokenInfo>> list_tokens(const std::string& staff_id);
  [[nodiscard]] Result<TokenInfo> revoke_token(const std::string& token_id);
  // The `credentials` row of `sequences`. update_staff and revoke_token move it in their
  // transaction and announce the new value to every node (NOTIFY redress_wake "credentials=N",
  // which PostgreSQL delivers only if the transaction commits; listener.h).
  [[nodiscard]] Result<std::int64_t> credentials_generation();

 private:
  ConnectionPool& pool_;
  const Clock& clock_;
};

}  // namespace redress::postgres
