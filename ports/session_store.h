// SessionStore: staff sign-in to the pages — the sessions of signed-in browsers and the count of
// failed sign-ins that locks an email address out for a while.
//
// A session is found by the hash of its cookie's token (the token itself is never stored) and
// holds the CSRF value every form of the session carries. A session ends when signed out, when it
// expires, or when its staff member is made inactive. Failures are counted per email address in a
// sliding window, so that guessing passwords is slow whichever process answers.
//
// Implementations (adapters/sqlite, later PostgreSQL) are thread-safe: any thread may call, and
// several processes on one database share the sessions and the counts.
#pragma once

#include <optional>
#include <string>

#include "engine/result.h"
#include "engine/time.h"

namespace redress {

// A staff member's signed-in browser session. The cookie holds the token; only its hash is stored.
struct StaffSession {
  std::string token_hash;
  std::string staff_id;
  std::string csrf;  // every form of the session must carry it
  Time created_at{};
  Time expires_at{};
};

// The sign-in failures counted against an email address.
struct SignInGate {
  int failures = 0;                  // in the current window
  std::optional<Time> locked_until;  // set while locked out
};

class SessionStore {
 public:
  virtual ~SessionStore() = default;

  [[nodiscard]] virtual Result<SignInGate> sign_in_gate(const std::string& email, Time now) = 0;
  // Counts a failure (forgetting failures older than `window`); locks for `lockout` at `max_failures`.
  [[nodiscard]] virtual Result<SignInGate> record_sign_in_failure(const std::string& email, Time now, int max_failures,
                                                                  Duration window, Duration lockout) = 0;
  [[nodiscard]] virtual Status clear_sign_in_failures(const std::string& email) = 0;
  [[nodiscard]] virtual Status create_session(const StaffSession& session) = 0;
  // kNotFound when unknown, signed out, expired at `now`, or its staff member is inactive.
  [[nodiscard]] virtual Result<StaffSession> find_session(const std::string& token_hash, Time now) = 0;
  [[nodiscard]] virtual Status end_session(const std::string& token_hash, Time now) = 0;
};

}  // namespace redress
