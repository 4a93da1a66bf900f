#include "web/rate_limit.h"

#include <algorithm>
#include <cmath>

namespace redress::web {

RateLimiter::RateLimiter(int per_minute)
    : per_second_(per_minute / 60.0), burst_(per_minute <= 0 ? 0.0 : std::max(1.0, per_minute / 6.0)) {}

RateLimiter::RateLimiter(int events, std::chrono::seconds period)
    : per_second_(events <= 0 || period.count() <= 0 ? 0.0 : events / static_cast<double>(period.count())),
      burst_(std::max(0, events)) {}

RateLimiter::Bucket& RateLimiter::refilled(const std::string& key, Clock::time_point now) {
  if (buckets_.size() > 10000) {
    // Forget the buckets that are full again (they would allow a burst anyway).
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      double refill = it->second.tokens + std::chrono::duration<double>(now - it->second.updated).count() * per_second_;
      it = refill >= burst_ ? buckets_.erase(it) : std::next(it);
    }
  }
  auto [it, fresh] = buckets_.try_emplace(key, Bucket{burst_, now});
  Bucket& bucket = it->second;
  if (!fresh && now > bucket.updated) {
    bucket.tokens =
        std::min(burst_, bucket.tokens + std::chrono::duration<double>(now - bucket.updated).count() * per_second_);
    bucket.updated = now;
  }
  return bucket;
}

RateLimiter::Verdict RateLimiter::verdict(const Bucket& bucket) const {
  if (bucket.tokens >= 1.0) return {};
  auto wait = std::chrono::seconds(static_cast<long>(std::ceil((1.0 - bucket.tokens) / per_second_)));
  return Verdict{false, std::max(wait, std::chrono::seconds(1))};
}

RateLimiter::Verdict RateLimiter::take(const std::string& key, Clock::time_point now) {
  if (per_second_ <= 0) return {};
  std::lock_guard lock(mutex_);
  Bucket& bucket = refilled(key, now);
  Verdict result = verdict(bucket);
  if (result.allowed) bucket.tokens -= 1.0;
  return result;
}

RateLimiter::Verdict RateLimiter::check(const std::string& key, Clock::time_point now) {
  if (per_second_ <= 0) return {};
  std::lock_guard lock(mutex_);
  if (!buckets_.count(key)) return {};  // a key never taken from is full: no bucket is made for it
  return verdict(refilled(key, now));
}

}  // namespace redress::web
