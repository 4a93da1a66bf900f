// SignInRecords: the staff's sign-ins on the pages - failed attempts and lock-outs per email
// address (known or not, so a lock-out tells nobody which exist), and browser sessions (only the
// SHA-256 of a session's token is stored).
//
// A failure is counted by one upsert, so concurrent failures (several nodes) each count; each
// sign-in sweeps its staff member's sessions long over. These writes touch no case row, so they
// keep the writer's case snapshots (WriteScope::kNoCaseRows). Reads use the reader pool.
//
// Thread-safe: any thread, as the reader pool and the writer are.
#pragma once

#include "adapters/sqlite/store_access.h"
#include "ports/session_store.h"

namespace redress::sqlite {

class SignInRecords {
 public:
  explicit SignInRecords(const StoreAccess& store) : store_(store) {}

  [[nodiscard]] Result<SignInGate> sign_in_gate(const std::string& email, Time now);
  [[nodiscard]] Result<SignInGate> record_sign_in_failure(const std::string& email, Time now, int max_failures,
                                                          Duration window, Duration lockout);
  [[nodiscard]] Status clear_sign_in_failures(const std::string& email);
  [[nodiscard]] Status create_session(const StaffSession& session);
  [[nodiscard]] Result<StaffSession> find_session(const std::string& token_hash, Time now);
  [[nodiscard]] Status end_session(const std::string& token_hash, Time now);

 private:
  StoreAccess store_;
};

}  // namespace redress::sqlite
