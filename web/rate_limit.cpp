#include "web/rate_limit.h"

#include <algorithm>
#include <cmath>

namespace redress::web {

RateLimiter::RateLimiter(int per_minute)
    : per_second_(per_minute / 60.0), burst_(per_minute <= 0 ? 0.0 : std::max(1.0, per_minute / 6.0)) {}

RateLimiter::Verdict RateLimiter::take(const std::string& key, Clock::time_point now) {
  if (per_second_ <= 0) return {};
  std::lock_guard lock(mutex_);
  if (buckets_.size() > 10000) {
    // Forget the buckets that are full again (they would allow a burst anyway).
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      double refilled = it->second.tokens + std::chrono::duration<double>(now - it->second.updated).count() * per_second_;
      it = refilled >= burst_ ? buckets_.erase(it) : std::next(it);
    }
  }
  auto [it, fresh] = buckets_.try_emplace(key, Bucket{burst_, now});
  Bucket& bucket = it->second;
  if (!fresh) {
    bucket.tokens = std::min(burst_, bucket.tokens + std::chrono::duration<double>(now - bucket.updated).count() * per_second_);
    bucket.updated = now;
  }
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return {};
  }
  auto wait = std::chrono::seconds(static_cast<long>(std::ceil((1.0 - bucket.tokens) / per_second_)));
  return Verdict{false, std::max(wait, std::chrono::seconds(1))};
}

}  // namespace redress::web
