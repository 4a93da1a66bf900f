// StaffRecords: staff members and their credentials - adding and finding staff, API tokens
// (stored as hashes only) and the staff's password hashes.
//
// Staff ids ("u-17") come from the `staff` sequence, reserved one at a time in the writer's
// transaction (plan_contexts.h), so that they have no gaps; an email is used by one staff member
// at most (the unique index decides, the check first gives the better error). Writes go through
// the writer's queue (write_pipeline.h) and return once durable; reads use the reader pool.
//
// Thread-safe: any thread, as the reader pool and the writer are.
#pragma once

#include "adapters/sqlite/snapshot_cache.h"
#include "adapters/sqlite/store_access.h"
#include "ports/staff_directory.h"

namespace redress::sqlite {

class StaffRecords {
 public:
  StaffRecords(const StoreAccess& store, SnapshotCache& ids) : store_(store), ids_(ids) {}

  [[nodiscard]] Result<Staff> add_staff(const Staff& staff);
  [[nodiscard]] Result<Staff> find_staff(const std::string& id_or_email);
  [[nodiscard]] Result<std::vector<Staff>> list_staff();
  [[nodiscard]] Status add_token(const std::string& staff_id, const std::string& token_hash, const std::string& label);
  [[nodiscard]] Result<Staff> staff_for_token(const std::string& token_hash);
  [[nodiscard]] Result<std::string> password_hash(const std::string& staff_id);
  // Staff administration (ports/staff_directory.h): in the writer's transaction, so a deactivation
  // revokes the tokens and ends the sessions with it.
  [[nodiscard]] Result<Staff> update_staff(const Staff& staff);
  [[nodiscard]] Status set_password_hash(const std::string& staff_id, const std::string& hash);
  [[nodiscard]] Result<std::vector<TokenInfo>> list_tokens(const std::string& staff_id);
  // Both move the credentials' generation (the `credentials` row of `sequences`, which
  // credentials_watch.h reads) in their transaction.
  [[nodiscard]] Result<TokenInfo> revoke_token(const std::string& token_id);

 private:
  StoreAccess store_;
  SnapshotCache& ids_;  // the writer's id blocks: staff ids are reserved through them
};

}  // namespace redress::sqlite
