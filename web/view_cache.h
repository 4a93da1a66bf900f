// ViewCache: rendered staff views of cases (the JSON body of GET /v1/cases/{ref}), each kept with
// the CaseViewStamp it was rendered from and the time until which its time-dependent parts (the
// allowed actions) stay right.
//
// The cache never decides that a rendering is current: the caller reads the case's stamp from the
// store first (one small statement) and takes a rendering only when the stamps are equal. So what
// it serves is always what the store says now, whichever node or process wrote the case; the cache
// saves the five look-ups of a view and the rendering, never a read of the store.
//
// Bounded by `capacity_bytes` of bodies and keys, split evenly over `shards`; in each shard the
// least recently used renderings are dropped first. A capacity of 0 keeps nothing. Thread-safe: the
// references are spread over the shards, each with its own mutex, so I/O threads rarely wait.
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "engine/time.h"
#include "ports/case_reader.h"

namespace redress::web {

class ViewCache {
 public:
  struct Rendering {
    CaseViewStamp stamp;
    Time rendered_at;                // before this (a clock stepped back), it is not used either
    Time valid_until = Time::max();  // from this on, the rendering's allowed actions may differ
    std::string body;
  };

  struct Counters {
    std::int64_t hits = 0;
    std::int64_t misses = 0;  // look-ups that found nothing, an older stamp or an expired rendering
    std::int64_t entries = 0;
    std::int64_t bytes = 0;
  };

  explicit ViewCache(std::size_t capacity_bytes, std::size_t shards = 16);
  ViewCache(const ViewCache&) = delete;
  ViewCache& operator=(const ViewCache&) = delete;

  // The rendering of `reference` made from exactly `stamp`, when `now` is in [rendered_at, valid_until).
  [[nodiscard]] std::shared_ptr<const Rendering> find(const std::string& reference, const CaseViewStamp& stamp,
                                                      Time now);
  // Keeps `rendering` for `reference`, replacing an older one. A rendering from a lower version
  // than the one kept is ignored: two readers racing a write must not put the older view back.
  void put(const std::string& reference, std::shared_ptr<const Rendering> rendering);
  // Drops the rendering of `reference`, if any: after an erasure or a redaction, so that the
  // personal data it showed does not stay in memory until pushed out.
  void forget(const std::string& reference);

  [[nodiscard]] Counters counters() const;

 private:
  struct Shard {
    using Order = std::list<std::string>;  // most recently used first
    struct Slot {
      std::shared_ptr<const Rendering> rendering;
      Order::iterator position;
      std::size_t bytes = 0;
    };
    mutable std::mutex mutex;
    std::unordered_map<std::string, Slot> slots;  // guarded by mutex
    Order order;                                  // guarded by mutex
    std::size_t bytes = 0;                        // guarded by mutex
  };

  Shard& shard_for(const std::string& reference);

  const std::size_t shard_count_;
  const std::size_t shard_capacity_;
  std::unique_ptr<Shard[]> shards_;
  std::atomic<std::int64_t> hits_{0};
  std::atomic<std::int64_t> misses_{0};
};

}  // namespace redress::web
