// ViewCache (web/view_cache.h): a rendering is found only for the exact stamp it was made from and
// inside its validity window; an older version never replaces a newer one; the byte bound holds,
// dropping the least recently used first.
#include <catch2/catch.hpp>

#include <array>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "web/view_cache.h"

using redress::CaseViewStamp;
using redress::Time;
using redress::web::ViewCache;

namespace {

Time at(std::int64_t seconds) { return Time(std::chrono::seconds(seconds)); }

std::shared_ptr<const ViewCache::Rendering> rendering(std::int64_t version, std::string body,
                                                      Time rendered_at = at(100), Time valid_until = Time::max(),
                                                      std::string owner = "Ana", std::string nonce = "n1") {
  auto r = std::make_shared<ViewCache::Rendering>();
  r->stamp = CaseViewStamp{version, std::move(owner), std::move(nonce)};
  r->rendered_at = rendered_at;
  r->valid_until = valid_until;
  r->body = std::move(body);
  return r;
}

}  // namespace

TEST_CASE("view cache: a rendering is found for its exact stamp only", "[web][view-cache]") {
  ViewCache cache(1 << 20);
  cache.put("CMP-1", rendering(3, "{\"v\":3}"));
  auto hit = cache.find("CMP-1", CaseViewStamp{3, "Ana", "n1"}, at(200));
  REQUIRE(hit);
  CHECK(hit->body == "{\"v\":3}");
  // Each part of the stamp matters: a newer version, another owner name, another client link.
  CHECK_FALSE(cache.find("CMP-1", CaseViewStamp{4, "Ana", "n1"}, at(200)));
  CHECK_FALSE(cache.find("CMP-1", CaseViewStamp{3, "Ana Ruiz", "n1"}, at(200)));
  CHECK_FALSE(cache.find("CMP-1", CaseViewStamp{3, "Ana", ""}, at(200)));
  CHECK_FALSE(cache.find("CMP-2", CaseViewStamp{3, "Ana", "n1"}, at(200)));
  auto counters = cache.counters();
  CHECK(counters.hits == 1);
  CHECK(counters.misses == 4);
  CHECK(counters.entries == 1);
  CHECK(counters.bytes > 7);
}

TEST_CASE("view cache: a rendering is used only between its rendering time and its validity end", "[web][view-cache]") {
  ViewCache cache(1 << 20);
  cache.put("CMP-1", rendering(5, "resolved", at(100), at(1000)));
  CaseViewStamp stamp{5, "Ana", "n1"};
  CHECK(cache.find("CMP-1", stamp, at(100)));
  CHECK(cache.find("CMP-1", stamp, at(999)));
  CHECK_FALSE(cache.find("CMP-1", stamp, at(1000)));  // the reopen window closed: allowed actions differ
  CHECK_FALSE(cache.find("CMP-1", stamp, at(99)));    // a clock that stepped back
}

TEST_CASE("view cache: an older version never replaces a newer one", "[web][view-cache]") {
  ViewCache cache(1 << 20);
  cache.put("CMP-1", rendering(7, "seven"));
  cache.put("CMP-1", rendering(6, "six"));  // a reader that lost the race with a write
  CHECK_FALSE(cache.find("CMP-1", CaseViewStamp{6, "Ana", "n1"}, at(200)));
  REQUIRE(cache.find("CMP-1", CaseViewStamp{7, "Ana", "n1"}, at(200)));
  // The same version again (a new client link, a renamed owner) does replace it.
  cache.put("CMP-1", rendering(7, "seven, new link", at(100), Time::max(), "Ana", "n2"));
  CHECK_FALSE(cache.find("CMP-1", CaseViewStamp{7, "Ana", "n1"}, at(200)));
  auto hit = cache.find("CMP-1", CaseViewStamp{7, "Ana", "n2"}, at(200));
  REQUIRE(hit);
  CHECK(hit->body == "seven, new link");
  CHECK(cache.counters().entries == 1);
}

TEST_CASE("view cache: a forgotten rendering is gone, its bytes with it - the others stay", "[web][view-cache]") {
  ViewCache cache(1 << 20);
  cache.put("CMP-1", rendering(3, "{\"client\":\"Ana Ruiz\"}"));
  cache.put("CMP-2", rendering(4, "{\"client\":\"Bart\"}"));
  const auto before = cache.counters();
  cache.forget("CMP-1");
  cache.forget("CMP-9");  // nothing kept: nothing happens
  CHECK_FALSE(cache.find("CMP-1", CaseViewStamp{3, "Ana", "n1"}, at(200)));
  CHECK(cache.find("CMP-2", CaseViewStamp{4, "Ana", "n1"}, at(200)));
  const auto after = cache.counters();
  CHECK(after.entries == 1);
  CHECK(after.bytes < before.bytes);
  // Kept again afterwards as any rendering is (the erased case read anew).
  cache.put("CMP-1", rendering(5, "{\"client\":\"[erased]\"}"));
  REQUIRE(cache.find("CMP-1", CaseViewStamp{5, "Ana", "n1"}, at(200)));
  CHECK(cache.counters().entries == 2);
}

TEST_CASE("view cache: the byte bound holds, least recently used first", "[web][view-cache]") {
  // 16 shards of 4 KiB: each rendering of ~1 KiB, so a shard holds three.
  ViewCache cache(16 * 4096);
  std::string body(1000, 'x');
  for (int i = 0; i < 400; ++i) cache.put("CMP-" + std::to_string(i), rendering(1, body));
  auto counters = cache.counters();
  CHECK(counters.bytes <= 16 * 4096);
  CHECK(counters.entries <= 16 * 3);
  CHECK(counters.entries >= 16);
  // The last ones put are kept; the first ones are gone.
  CHECK(cache.find("CMP-399", CaseViewStamp{1, "Ana", "n1"}, at(200)));
  CHECK_FALSE(cache.find("CMP-0", CaseViewStamp{1, "Ana", "n1"}, at(200)));

  // In one shard that holds three, using the oldest keeps it when a fourth arrives.
  ViewCache one_shard(4096, 1);
  for (int i = 0; i < 3; ++i) one_shard.put("CMP-" + std::to_string(i), rendering(1, body));
  REQUIRE(one_shard.counters().entries == 3);
  REQUIRE(one_shard.find("CMP-0", CaseViewStamp{1, "Ana", "n1"}, at(200)));  // now the most recently used
  one_shard.put("CMP-3", rendering(1, body));
  CHECK(one_shard.find("CMP-0", CaseViewStamp{1, "Ana", "n1"}, at(200)));
  CHECK_FALSE(one_shard.find("CMP-1", CaseViewStamp{1, "Ana", "n1"}, at(200)));
  CHECK(one_shard.find("CMP-2", CaseViewStamp{1, "Ana", "n1"}, at(200)));
  CHECK(one_shard.find("CMP-3", CaseViewStamp{1, "Ana", "n1"}, at(200)));
}

TEST_CASE("view cache: capacity 0 keeps nothing, and a rendering larger than a shard is not kept",
          "[web][view-cache]") {
  ViewCache off(0);
  off.put("CMP-1", rendering(1, "x"));
  CHECK_FALSE(off.find("CMP-1", CaseViewStamp{1, "Ana", "n1"}, at(200)));
  CHECK(off.counters().entries == 0);
  ViewCache small(16 * 1024);
  small.put("CMP-1", rendering(1, std::string(2000, 'x')));
  CHECK(small.counters().entries == 0);
}

TEST_CASE("view cache: many threads finding and putting at once", "[web][view-cache][concurrency]") {
  ViewCache cache(1 << 16);
  // Catch's assertions are not thread-safe: each thread counts what it saw
  // wrong, and the main thread asserts.
  std::vector<std::thread> threads;
  std::array<int, 4> wrong_hits{};
  std::array<int, 4> hits_seen{};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&cache, &wrong_hits, &hits_seen, t] {
      for (int i = 0; i < 5000; ++i) {
        std::string ref = "CMP-" + std::to_string(i % 97);
        std::int64_t version = i / 97 + t;
        if (auto hit = cache.find(ref, CaseViewStamp{version, "Ana", "n1"}, at(200))) {
          ++hits_seen[t];
          if (hit->stamp.version != version || hit->body != ref + "@" + std::to_string(version)) ++wrong_hits[t];
        } else {
          cache.put(ref, rendering(version, ref + "@" + std::to_string(version)));
        }
      }
    });
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < 4; ++t) CHECK(wrong_hits[t] == 0);
  auto counters = cache.counters();
  CHECK(counters.hits == static_cast<std::int64_t>(hits_seen[0] + hits_seen[1] + hits_seen[2] + hits_seen[3]));
  CHECK(counters.hits + counters.misses == 20000);
  CHECK(counters.bytes <= 1 << 16);
}
