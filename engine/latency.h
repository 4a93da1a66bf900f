// LatencyHistogram: durations counted in fixed buckets, with their count and sum, as a
// Prometheus histogram reports them. WriteStats: how a store's writes spend their time (the
// queue, the group, the sync to disk), for /metrics.
//
// LatencyHistogram is thread-safe: observe() and snapshot() may run on any threads at once. Its
// counters are relaxed atomics, so a snapshot taken during observations may count one in
// `count` and not yet in its bucket; each counter on its own never goes back.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <span>

namespace redress {

// A histogram's counts at one moment. Buckets are not cumulative: buckets[i] counts the
// durations d with bounds[i-1] < d <= bounds[i]; the last bucket is above every bound.
struct HistogramCounts {
  std::span<const double> bounds;           // seconds, ascending
  std::array<std::uint64_t, 16> buckets{};  // bounds.size() + 1 are used
  std::uint64_t count = 0;
  double sum = 0;  // seconds
};

class LatencyHistogram {
 public:
  // From 50 µs (a group of one creation on an idle writer) to 10 s (a write stuck behind a
  // failing disk); 15 bounds and the bucket above them.
  static constexpr std::array<double, 15> kBounds{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                  0.025,   0.05,   0.1,     0.25,   0.5,   1.0,    10.0};

  static_assert(kBounds.size() + 1 <= HistogramCounts{}.buckets.size());

  LatencyHistogram() = default;
  LatencyHistogram(const LatencyHistogram&) = delete;
  LatencyHistogram& operator=(const LatencyHistogram&) = delete;

  void observe(double seconds) {
    std::size_t i = 0;
    while (i < kBounds.size() && seconds > kBounds[i]) ++i;
    buckets_[i].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    // Nanoseconds: an integer sum adds without a compare-and-swap loop and loses nothing.
    sum_nanoseconds_.fetch_add(seconds > 0 ? static_cast<std::uint64_t>(seconds * 1e9) : 0, std::memory_order_relaxed);
  }

  [[nodiscard]] HistogramCounts snapshot() const {
    HistogramCounts counts;
    counts.bounds = kBounds;
    for (std::size_t i = 0; i < buckets_.size(); ++i) counts.buckets[i] = buckets_[i].load(std::memory_order_relaxed);
    counts.count = count_.load(std::memory_order_relaxed);
    counts.sum = static_cast<double>(sum_nanoseconds_.load(std::memory_order_relaxed)) / 1e9;
    return counts;
  }

 private:
  std::array<std::atomic<std::uint64_t>, kBounds.size() + 1> buckets_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_nanoseconds_{0};
};

// A store's writes, as /metrics shows them (redress_store_*). All since the store opened.
struct WriteStats {
  HistogramCounts queue_wait;  // each write: from its submission to the start of its group
  HistogramCounts group;       // each group: the writer's time from BEGIN to COMMIT
  HistogramCounts sync;        // each sync of the log to disk (durability full)
  HistogramCounts write;       // each write: from its submission to its answer (durable then)
  std::int64_t groups = 0;
  std::int64_t writes = 0;
  std::int64_t syncs = 0;
  std::int64_t checkpoints = 0;
  std::int64_t queued = 0;  // writes waiting now for a group
};

}  // namespace redress
