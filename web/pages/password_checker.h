// PasswordChecker: runs sign-in password checks (argon2id: tens of milliseconds of CPU and 64 MiB
// each) on a thread of its own, so that a burst of sign-in posts, or an attacker rotating email
// addresses to dodge the per-address lock-out, cannot stall the I/O threads that serve everyone
// else. At most `capacity` checks wait; past that, submit() refuses at once and the sign-in is
// answered 503 with Retry-After.
//
// Thread-safe. The destructor runs the checks still queued, then joins: whatever they reference
// must outlive the checker.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace redress::web {

class PasswordChecker {
 public:
  explicit PasswordChecker(std::size_t capacity = 32);
  ~PasswordChecker();
  PasswordChecker(const PasswordChecker&) = delete;
  PasswordChecker& operator=(const PasswordChecker&) = delete;

  // Queues `check` for the checker's thread; false, and `check` dropped, when `capacity` wait.
  [[nodiscard]] bool submit(std::function<void()> check);

 private:
  void loop();

  const std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;  // guarded by mutex_
  bool stopping_ = false;                    // guarded by mutex_
  std::thread thread_;                       // last: started once the rest is ready
};

}  // namespace redress::web
