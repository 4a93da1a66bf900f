// TokenCache: bearer token -> staff member, remembered for a short time so that a request does not
// read the database to authenticate.
//
// Only successful look-ups are kept, by the token's SHA-256 (the cache never holds a token), for
// `ttl` at most: a token revoked, or a staff member deactivated or given another role, in the
// database (by this process or another) is honoured within `ttl` (5 s by default). Unknown tokens
// are always looked up, so a new token works at once. At most `capacity` entries; when full, the
// expired ones are dropped, and if none had expired, all of them.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

#include "engine/model.h"
#include "engine/result.h"

namespace redress::web {

class TokenCache {
 public:
  using Clock = std::chrono::steady_clock;
  // Looks a token up by its hash; kNotFound when unknown or revoked.
  using Lookup = std::function<Result<Staff>(const std::string& token_hash)>;

  explicit TokenCache(Lookup lookup, Clock::duration ttl = std::chrono::seconds(5), std::size_t capacity = 4096)
      : lookup_(std::move(lookup)), ttl_(ttl), capacity_(capacity) {}

  // The staff member behind `token`: from the cache when looked up less than `ttl` ago.
  [[nodiscard]] Result<Staff> authenticate(const std::string& token);
  // Forgets every look-up: after staff administration changed a member or a token on this node,
  // the next request reads the database again.
  void clear() {
    std::lock_guard lock(mutex_);
    entries_.clear();
  }

 private:
  struct Entry {
    Staff staff;
    Clock::time_point expires;
  };
  Lookup lookup_;
  const Clock::duration ttl_;
  const std::size_t capacity_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;  // by token hash; guarded by mutex_
};

}  // namespace redress::web
