// Canonical JSON, SHA-256 and the per-case hash chain.
#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <atomic>
#include <cstdint>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/hash_chain.h"

using namespace redress;
namespace json = boost::json;

TEST_CASE("SHA-256 of the FIPS 180-2 test vectors", "[hash]") {
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  std::string with_nul("a\0b", 3);
  CHECK(sha256_hex(with_nul) != sha256_hex("ab"));
  CHECK(sha256_hex(with_nul).size() == 64);
}

TEST_CASE("canonical JSON sorts keys at every depth and drops whitespace", "[hash]") {
  json::value value = json::parse(R"({ "b": 1, "a": {"z": [3, {"y": true, "x": null}], "m": "text"}, "A": -2.5 })");
  CHECK(canonical_json(value) == R"({"A":-2.5E0,"a":{"m":"text","z":[3,{"x":null,"y":true}]},"b":1})");
  // The same content in any key order gives the same bytes.
  json::value reordered = json::parse(R"({"a": {"m": "text", "z": [3, {"x": null, "y": true}]}, "A": -2.5, "b": 1})");
  CHECK(canonical_json(reordered) == canonical_json(value));
  // Array order is content, not presentation.
  CHECK(canonical_json(json::parse("[1,2]")) != canonical_json(json::parse("[2,1]")));
  // Keys sort by bytes: upper case before lower case, shorter prefix first, UTF-8 after ASCII.
  CHECK(canonical_json(json::parse(R"({"é":1,"b":2,"ab":3,"a":4,"B":5})")) ==
        "{\"B\":5,\"a\":4,\"ab\":3,\"b\":2,\"é\":1}");
  // Strings are escaped.
  CHECK(canonical_json(json::value("quote \" and \\ and \n")) == R"("quote \" and \\ and \n")");
  CHECK(canonical_json(json::object{}) == "{}");
  CHECK(canonical_json(json::array{}) == "[]");
}

TEST_CASE("canonical JSON writes every value as boost::json::serialize does", "[hash]") {
  // Stored event data was written by boost's serializer: the canonical encoder must give the same
  // bytes for every string byte, every integer and every double, or old chains would not verify.
  for (int byte = 0; byte < 256; ++byte) {
    std::string text = "a";
    text += static_cast<char>(byte);
    text += "z";
    json::value value(text);
    INFO("byte " << byte);
    CHECK(canonical_json(value) == json::serialize(value));
    json::object keyed;
    keyed[text] = 1;
    CHECK(canonical_json(keyed) == json::serialize(keyed));
  }
  for (json::value value : {json::value(0), json::value(-1), json::value(INT64_MIN), json::value(INT64_MAX),
                            json::value(UINT64_MAX), json::value(0.1), json::value(-2.5), json::value(1e300),
                            json::value(true), json::value(false), json::value(nullptr), json::value("")}) {
    INFO(json::serialize(value));
    CHECK(canonical_json(value) == json::serialize(value));
  }
  // Objects larger than the encoder's stack buffer sort the same way.
  json::object wide, reversed;
  for (int i = 0; i < 40; ++i) wide["k" + std::to_string(100 + i)] = i;
  for (int i = 39; i >= 0; --i) reversed["k" + std::to_string(100 + i)] = i;
  CHECK(canonical_json(wide) == canonical_json(reversed));
  std::string expected = "{";
  for (int i = 0; i < 40; ++i) expected += (i ? ",\"k" : "\"k") + std::to_string(100 + i) + "\":" + std::to_string(i);
  CHECK(canonical_json(wide) == expected + "}");
}

TEST_CASE("SHA-256 gives the same digest on many threads at once", "[hash]") {
  // Each thread keeps its own digest context.
  const std::string expected = sha256_hex("abc");
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i)
        if (sha256_hex("abc") != expected) ++wrong;
    });
  for (auto& thread : threads) thread.join();
  CHECK(wrong == 0);
  CHECK(expected == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

namespace {

Event sample_event() {
  Event e;
  e.case_id = 7;
  e.seq = 3;
  e.type = "case.owner_changed";
  e.at = from_micros(1'795'000'000'000'000);
  e.actor = "staff:u-17";
  e.data = R"({"note":"handover","owner":"u-17"})";
  return e;
}

}  // namespace

TEST_CASE("the chain hash is deterministic and hex", "[hash]") {
  Event e = sample_event();
  std::string h = chain_hash("prev", "CMP-2026-000042", e);
  CHECK(h == chain_hash("prev", "CMP-2026-000042", sample_event()));
  CHECK(h.size() == 64);
  CHECK(h.find_first_not_of("0123456789abcdef") == std::string::npos);
  // The storage key and the stored hash are not part of what is hashed.
  e.case_id = 99;
  e.hash = "anything";
  CHECK(chain_hash("prev", "CMP-2026-000042", e) == h);
}

TEST_CASE("the chain hash changes when any hashed field changes", "[hash]") {
  const Event base = sample_event();
  const std::string h = chain_hash("prev", "CMP-2026-000042", base);
  std::set<std::string> hashes{h};
  auto differs = [&](const std::string& what, const std::string& previous, const std::string& reference,
                     const Event& e) {
    INFO(what);
    std::string changed = chain_hash(previous, reference, e);
    CHECK(changed != h);
    CHECK(hashes.insert(changed).second);
  };
  differs("previous hash", "prev2", "CMP-2026-000042", base);
  differs("first event", "", "CMP-2026-000042", base);
  differs("reference", "prev", "CMP-2026-000043", base);
  Event e = base;
  e.seq = 4;
  differs("seq", "prev", "CMP-2026-000042", e);
  e = base;
  e.type = "case.owner_changed2";
  differs("type", "prev", "CMP-2026-000042", e);
  e = base;
  e.at += Duration(1);
  differs("time (one microsecond)", "prev", "CMP-2026-000042", e);
  e = base;
  e.actor = "staff:u-18";
  differs("actor", "prev", "CMP-2026-000042", e);
  e = base;
  e.data = R"({"note":"handover","owner":"u-18"})";
  differs("data", "prev", "CMP-2026-000042", e);
  e = base;
  e.data += " ";
  differs("data whitespace", "prev", "CMP-2026-000042", e);
}

TEST_CASE("the chain hash encodes field boundaries: moving bytes between fields changes it", "[hash]") {
  Event a = sample_event();
  a.type = "case.x";
  a.actor = "ystaff";
  Event b = a;
  b.type = "case.xy";
  b.actor = "staff";
  CHECK(chain_hash("p", "r", a) != chain_hash("p", "r", b));
  // The previous hash and the reference are separated too.
  CHECK(chain_hash("ab", "c", a) != chain_hash("a", "bc", a));
  Event c = a;
  c.actor = "";
  c.data = "ystaff" + a.data;
  Event d = a;
  d.actor = "ystaff";
  CHECK(chain_hash("p", "r", c) != chain_hash("p", "r", d));
}

TEST_CASE("a chain: altering any link changes every later link", "[hash]") {
  std::vector<Event> events;
  std::string previous;
  for (int i = 1; i <= 5; ++i) {
    Event e = sample_event();
    e.seq = i;
    e.data = "{\"n\":" + std::to_string(i) + "}";
    e.hash = chain_hash(previous, "CMP-1", e);
    previous = e.hash;
    events.push_back(e);
  }
  // Re-chain with event 2 altered: 2..5 all differ, 1 is unchanged.
  events[1].data = "{\"n\":20}";
  std::string prev;
  for (std::size_t i = 0; i < events.size(); ++i) {
    std::string h = chain_hash(prev, "CMP-1", events[i]);
    if (i == 0)
      CHECK(h == events[i].hash);
    else
      CHECK(h != events[i].hash);
    prev = h;
  }
}
