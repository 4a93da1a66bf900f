// LatencyHistogram (engine/latency.h): bucket edges, count and sum, and observations from several
// threads at once.
#include <catch2/catch.hpp>

#include <thread>
#include <vector>

#include "engine/latency.h"

using redress::HistogramCounts;
using redress::LatencyHistogram;

TEST_CASE("latency histogram: an observation on a bound falls in that bound's bucket, above the last in the top one",
          "[latency]") {
  LatencyHistogram h;
  h.observe(0.00005);  // on the first bound: le="5e-05"
  h.observe(0.00006);  // just above it: the next bucket
  h.observe(0.0);      // nothing is below the first bucket
  h.observe(10.0);     // on the last bound
  h.observe(42.0);     // above every bound
  HistogramCounts c = h.snapshot();
  REQUIRE(c.bounds.size() == LatencyHistogram::kBounds.size());
  CHECK(c.buckets[0] == 2);
  CHECK(c.buckets[1] == 1);
  CHECK(c.buckets[c.bounds.size() - 1] == 1);
  CHECK(c.buckets[c.bounds.size()] == 1);
  CHECK(c.count == 5);
  CHECK(c.sum == Approx(0.00005 + 0.00006 + 10.0 + 42.0).epsilon(1e-9));
}

TEST_CASE("latency histogram: the bounds ascend, so that Prometheus's cumulative buckets are well formed",
          "[latency]") {
  for (std::size_t i = 1; i < LatencyHistogram::kBounds.size(); ++i)
    CHECK(LatencyHistogram::kBounds[i - 1] < LatencyHistogram::kBounds[i]);
}

TEST_CASE("latency histogram: observations from four threads at once are all counted", "[latency]") {
  LatencyHistogram h;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&h, t] {
      for (int i = 0; i < 10000; ++i) h.observe(0.001 * (t + 1));
    });
  for (auto& t : threads) t.join();
  HistogramCounts c = h.snapshot();
  CHECK(c.count == 40000);
  std::uint64_t in_buckets = 0;
  for (std::size_t i = 0; i <= c.bounds.size(); ++i) in_buckets += c.buckets[i];
  CHECK(in_buckets == 40000);
  CHECK(c.sum == Approx(10000 * (0.001 + 0.002 + 0.003 + 0.004)).epsilon(1e-6));
}
