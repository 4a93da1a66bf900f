#include "web/token_cache.h"

#include "adapters/security/secrets.h"

namespace redress::web {

Result<Staff> TokenCache::authenticate(const std::string& token) {
  std::string hash = security::token_hash(token);
  // Asked before the look-up: a change committed after this answer moves the generation past it,
  // and the entry made now is forgotten at the next request.
  std::optional<std::int64_t> generation;
  if (generation_) {
    generation = generation_();
    if (!generation) return lookup_(hash);  // cannot know what changed: remember nothing
  }
  auto now = Clock::now();
  {
    std::lock_guard lock(mutex_);
    if (generation && *generation != entries_generation_) {
      entries_.clear();
      entries_generation_ = *generation;
    }
    if (auto it = entries_.find(hash); it != entries_.end()) {
      if (now < it->second.expires) return it->second.staff;
      entries_.erase(it);
    }
  }
  auto staff = lookup_(hash);
  if (!staff || ttl_ <= Clock::duration::zero()) return staff;
  std::lock_guard lock(mutex_);
  // Another request saw a newer generation meanwhile: this look-up may be older than that change.
  if (generation && *generation != entries_generation_) return staff;
  if (entries_.size() >= capacity_) {
    std::erase_if(entries_, [now](const auto& entry) { return entry.second.expires <= now; });
    if (entries_.size() >= capacity_) entries_.clear();
  }
  // Expiry counts from before the look-up: the entry is never older than `ttl` as the database saw it.
  entries_.insert_or_assign(std::move(hash), Entry{*staff, now + ttl_});
  return staff;
}

}  // namespace redress::web
