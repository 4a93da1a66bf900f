// The client address behind a request (web/client_address.h) and the failure budget of the
// RateLimiter (web/rate_limit.h): known vectors, no server.
#include <catch2/catch.hpp>

#include "web/client_address.h"
#include "web/rate_limit.h"

using namespace redress;
using namespace redress::web;
using namespace std::chrono_literals;

namespace {

network::IpAddress ip(const char* text) {
  auto address = network::parse_ip(text);
  REQUIRE(address);
  return *address;
}

std::vector<network::Cidr> proxies(const char* text) {
  auto parsed = parse_trusted_proxies(text);
  REQUIRE(parsed.ok());
  return parsed.value();
}

}  // namespace

TEST_CASE("client address: the peer, unless a trusted proxy vouches for the hop before it", "[web][client-address]") {
  auto trusted = proxies("10.0.0.0/8, 192.168.1.7");
  // Not a proxy: the header is the client's own words and is ignored.
  CHECK(client_address(ip("203.0.113.5"), "198.51.100.1", trusted) == "203.0.113.5");
  CHECK(client_address(ip("203.0.113.5"), "", {}) == "203.0.113.5");
  // One trusted proxy: the address it appended.
  CHECK(client_address(ip("10.1.2.3"), "198.51.100.1", trusted) == "198.51.100.1");
  // What the client wrote sits left of what the proxy appended.
  CHECK(client_address(ip("10.1.2.3"), "1.2.3.4, 198.51.100.1", trusted) == "198.51.100.1");
  // A chain of trusted proxies is walked right to left.
  CHECK(client_address(ip("192.168.1.7"), "198.51.100.1,10.9.9.9", trusted) == "198.51.100.1");
  // Only proxies: the left-most of them.
  CHECK(client_address(ip("10.1.2.3"), "10.4.4.4", trusted) == "10.4.4.4");
  // A trusted proxy without the header, or with garbage in it: the last good hop.
  CHECK(client_address(ip("10.1.2.3"), "", trusted) == "10.1.2.3");
  CHECK(client_address(ip("10.1.2.3"), "unknown", trusted) == "10.1.2.3");
  CHECK(client_address(ip("10.1.2.3"), "198.51.100.1, not-an-ip, 10.4.4.4", trusted) == "10.4.4.4");
  // IPv6, with and without brackets; the IPv4-mapped peer of a dual-stack socket matches IPv4 ranges.
  CHECK(client_address(ip("::ffff:10.1.2.3"), "2001:db8::1", trusted) == "2001:db8::1");
  CHECK(client_address(ip("::ffff:10.1.2.3"), "[2001:db8::2]", trusted) == "2001:db8::2");
}

TEST_CASE("client address: trusted_proxies is checked when read", "[web][client-address]") {
  CHECK(parse_trusted_proxies("").value().empty());
  CHECK(parse_trusted_proxies(" 127.0.0.1 ,, fd00::/8 ").value().size() == 2);
  auto bad = parse_trusted_proxies("10.0.0.0/8, banana");
  REQUIRE(!bad.ok());
  CHECK(bad.error().detail.find("\"banana\"") != std::string::npos);
  CHECK(!parse_trusted_proxies("10.0.0.0/33").ok());
}

TEST_CASE("rate limiter: a failure budget - check does not spend, take does, and it refills over the period",
          "[web][rate-limit]") {
  RateLimiter budget(3, std::chrono::seconds(900));  // 3 at once, one back every 300 s
  auto t = RateLimiter::Clock::time_point{} + 1000s;
  for (int i = 0; i < 10; ++i) CHECK(budget.check("198.51.100.7", t).allowed);
  for (int i = 0; i < 3; ++i) CHECK(budget.take("198.51.100.7", t).allowed);
  auto refused = budget.check("198.51.100.7", t);
  CHECK(!refused.allowed);
  CHECK(refused.retry_after == 300s);
  CHECK(budget.check("198.51.100.8", t).allowed);  // another address has its own
  CHECK(!budget.check("198.51.100.7", t + 299s).allowed);
  CHECK(budget.check("198.51.100.7", t + 300s).allowed);
  CHECK(budget.take("198.51.100.7", t + 300s).allowed);
  CHECK(!budget.take("198.51.100.7", t + 300s).allowed);
  // 0: no limit.
  RateLimiter none(0, std::chrono::seconds(900));
  for (int i = 0; i < 100; ++i) CHECK(none.take("x", t).allowed);
}
