// TokenCache: bearer token -> staff member, remembered so that a request does not read the
// staff and token rows to authenticate.
//
// Only successful look-ups are kept, by the token's SHA-256 (the cache never holds a token), each
// under the credentials' generation it was made in (ports/staff_directory.h: a number every
// deactivation, role change and revoked token moves forward in its own transaction, on any node).
// Every authenticate() asks `generation` first; when it has moved, every look-up made before is
// forgotten, so a token revoked or a member deactivated anywhere is refused from the next request
// on every node. When the generation cannot be known (`generation` answers nullopt: the database
// could not be read) nothing is remembered and each request reads the database.
//
// A look-up is also forgotten `ttl` after it was made (5 s by default): a backstop should a
// generation's move go unseen. Unknown tokens are always looked up, so a new token works
// at once. At most `capacity` entries; when full, the expired ones are dropped, and if none had
// expired, all of them.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
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
  // The credentials' generation as the database has it now; nullopt when it cannot be known.
  using Generation = std::function<std::optional<std::int64_t>()>;

  // Without `generation`, look-ups are remembered for `ttl` alone (a change on another node is
  // honoured within `ttl`).
  explicit TokenCache(Lookup lookup, Generation generation = {}, Clock::duration ttl = std::chrono::seconds(5),
                      std::size_t capacity = 4096)
      : lookup_(std::move(lookup)), generation_(std::move(generation)), ttl_(ttl), capacity_(capacity) {}

  // The staff member behind `token`: remembered when looked up in the current generation less
  // than `ttl` ago.
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
  Generation generation_;
  const Clock::duration ttl_;
  const std::size_t capacity_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;  // by token hash; guarded by mutex_
  std::int64_t entries_generation_ = -1;            // the generation `entries_` were looked up in; guarded
};

}  // namespace redress::web
