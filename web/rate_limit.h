// RateLimiter: a token bucket per key (an intake source, a token, a client address), refilled
// continuously.
//
// `per_minute` requests a minute on average, in bursts of up to a sixth of that (at least 1); or
// `events` at once, refilled evenly over `period` (a failure budget: check() before the work,
// take() when it failed).
// Limits are per process: with several nodes each enforces its own share, which bounds a flood
// without a write per request. Thread-safe; keys are forgotten once their bucket is full again.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace redress::web {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  // 0: no limit.
  explicit RateLimiter(int per_minute);
  // 0 events: no limit.
  RateLimiter(int events, std::chrono::seconds period);

  struct Verdict {
    bool allowed = true;
    std::chrono::seconds retry_after{0};  // when refused: until a request is allowed again
  };
  [[nodiscard]] Verdict take(const std::string& key, Clock::time_point now = Clock::now());
  // Whether take() would allow one now, without taking it.
  [[nodiscard]] Verdict check(const std::string& key, Clock::time_point now = Clock::now());

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point updated;
  };
  // Refills `key`'s bucket up to `now` (a fresh one is full); mutex_ held.
  Bucket& refilled(const std::string& key, Clock::time_point now);
  [[nodiscard]] Verdict verdict(const Bucket& bucket) const;

  const double per_second_;
  const double burst_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;  // guarded by mutex_
};

}  // namespace redress::web
