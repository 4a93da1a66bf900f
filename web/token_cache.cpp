#include "web/token_cache.h"

#include "adapters/security/secrets.h"

namespace redress::web {

Result<Staff> TokenCache::authenticate(const std::string& token) {
  std::string hash = security::token_hash(token);
  auto now = Clock::now();
  {
    std::lock_guard lock(mutex_);
    if (auto it = entries_.find(hash); it != entries_.end()) {
      if (now < it->second.expires) return it->second.staff;
      entries_.erase(it);
    }
  }
  auto staff = lookup_(hash);
  if (!staff || ttl_ <= Clock::duration::zero()) return staff;
  std::lock_guard lock(mutex_);
  if (entries_.size() >= capacity_) {
    std::erase_if(entries_, [now](const auto& entry) { return entry.second.expires <= now; });
    if (entries_.size() >= capacity_) entries_.clear();
  }
  // Expiry counts from before the look-up: the entry is never older than `ttl` as the database saw it.
  entries_.insert_or_assign(std::move(hash), Entry{*staff, now + ttl_});
  return staff;
}

}  // namespace redress::web
