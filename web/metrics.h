// Metrics: request counters and latency histograms for /metrics, in Prometheus text format 0.0.4.
//
// Requests are counted by method, route pattern (never the raw path: it may hold a client's
// token) and status; latencies are histograms by method and route. Gauges that live in the
// database (cases by status, open commitments) and the store's write timings are passed in at
// render time. Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "engine/latency.h"

namespace redress::web {

class Metrics {
 public:
  static constexpr std::array<double, 13> kBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                   0.1,    0.25,  0.5,    1.0,   2.5,  5.0};

  void observe(const std::string& method, const std::string& route, int status, double seconds);
  void connection_opened() { connections_.fetch_add(1, std::memory_order_relaxed); }
  void connection_closed() { connections_.fetch_sub(1, std::memory_order_relaxed); }
  void connection_refused() { refused_.fetch_add(1, std::memory_order_relaxed); }
  void connection_timed_out() { timed_out_.fetch_add(1, std::memory_order_relaxed); }

  struct Gauges {
    std::vector<std::pair<std::string, std::int64_t>> cases_by_status;
    std::int64_t open_commitments = 0;
    std::int64_t outbox_pending = -1;  // -1: not reported
    // The case view cache (web/view_cache.h); not reported when it is off.
    bool view_cache = false;
    std::int64_t view_cache_hits = 0, view_cache_misses = 0, view_cache_entries = 0, view_cache_bytes = 0;
    std::optional<WriteStats> store;  // the store's writes; not reported when it does not measure them
  };
  [[nodiscard]] std::string render(const Gauges& gauges) const;

 private:
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> buckets{};  // non-cumulative counts
    std::uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;  // guarded by mutex_
  std::map<std::pair<std::string, std::string>, Histogram> latency_;             // guarded by mutex_
  std::atomic<std::int64_t> connections_{0};
  std::atomic<std::uint64_t> refused_{0};
  std::atomic<std::uint64_t> timed_out_{0};
};

}  // namespace redress::web
