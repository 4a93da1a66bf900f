#include "web/view_cache.h"

#include <algorithm>
#include <functional>

namespace redress::web {

namespace {

// What a slot costs besides its body: the key twice (map and order) and the bookkeeping.
std::size_t slot_bytes(const std::string& reference, const ViewCache::Rendering& rendering) {
  return rendering.body.size() + rendering.stamp.owner_name.size() + rendering.stamp.client_link_nonce.size() +
         2 * reference.size() + 160;
}

}  // namespace

ViewCache::ViewCache(std::size_t capacity_bytes, std::size_t shards)
    : shard_count_(std::max<std::size_t>(1, shards)),
      shard_capacity_(capacity_bytes / shard_count_),
      shards_(std::make_unique<Shard[]>(shard_count_)) {}

ViewCache::Shard& ViewCache::shard_for(const std::string& reference) {
  return shards_[std::hash<std::string>{}(reference) % shard_count_];
}

std::shared_ptr<const ViewCache::Rendering> ViewCache::find(const std::string& reference, const CaseViewStamp& stamp,
                                                            Time now) {
  Shard& shard = shard_for(reference);
  {
    std::lock_guard lock(shard.mutex);
    auto it = shard.slots.find(reference);
    if (it != shard.slots.end() && it->second.rendering->stamp == stamp && it->second.rendering->rendered_at <= now &&
        now < it->second.rendering->valid_until) {
      shard.order.splice(shard.order.begin(), shard.order, it->second.position);
      hits_.fetch_add(1, std::memory_order_relaxed);
      return it->second.rendering;
    }
  }
  misses_.fetch_add(1, std::memory_order_relaxed);
  return nullptr;
}

void ViewCache::put(const std::string& reference, std::shared_ptr<const Rendering> rendering) {
  std::size_t bytes = slot_bytes(reference, *rendering);
  if (bytes > shard_capacity_) return;  // also when the cache is off (capacity 0)
  Shard& shard = shard_for(reference);
  std::shared_ptr<const Rendering> dropped;  // freed outside the lock
  std::lock_guard lock(shard.mutex);
  auto it = shard.slots.find(reference);
  if (it != shard.slots.end()) {
    if (rendering->stamp.version < it->second.rendering->stamp.version) return;
    shard.bytes -= it->second.bytes;
    dropped = std::exchange(it->second.rendering, std::move(rendering));
    it->second.bytes = bytes;
    shard.order.splice(shard.order.begin(), shard.order, it->second.position);
  } else {
    shard.order.push_front(reference);
    shard.slots.emplace(reference, Shard::Slot{std::move(rendering), shard.order.begin(), bytes});
  }
  shard.bytes += bytes;
  while (shard.bytes > shard_capacity_) {
    auto last = shard.slots.find(shard.order.back());
    shard.bytes -= last->second.bytes;
    shard.slots.erase(last);
    shard.order.pop_back();
  }
}

void ViewCache::forget(const std::string& reference) {
  Shard& shard = shard_for(reference);
  std::shared_ptr<const Rendering> dropped;  // freed outside the lock
  std::lock_guard lock(shard.mutex);
  auto it = shard.slots.find(reference);
  if (it == shard.slots.end()) return;
  dropped = std::move(it->second.rendering);
  shard.bytes -= it->second.bytes;
  shard.order.erase(it->second.position);
  shard.slots.erase(it);
}

ViewCache::Counters ViewCache::counters() const {
  Counters counters;
  counters.hits = hits_.load(std::memory_order_relaxed);
  counters.misses = misses_.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < shard_count_; ++i) {
    const Shard& shard = shards_[i];
    std::lock_guard lock(shard.mutex);
    counters.entries += static_cast<std::int64_t>(shard.slots.size());
    counters.bytes += static_cast<std::int64_t>(shard.bytes);
  }
  return counters;
}

}  // namespace redress::web
