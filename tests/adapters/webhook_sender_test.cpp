// HttpWebhookSender against a real receiver on loopback: tests/node/webhook-receiver.mjs, started
// by each test, verifies every delivery with npm `standardwebhooks` and answers by a plan (500 then
// 200, 410, 429 and 503 with Retry-After, a slow answer, a TLS server). Also the address guard's
// classification table, CIDR allow-lists, Retry-After parsing and the Standard Webhooks vector.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "adapters/security/standard_webhooks.h"
#include "adapters/webhooks/address_guard.h"
#include "adapters/webhooks/http_sender.h"
#include "peers.h"

using namespace redress;
using namespace redress::peers;
namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

const std::string kSecret = kWebhookTestSecret;

webhooks::HttpWebhookOptions loopback_allowed() {
  webhooks::HttpWebhookOptions options;
  options.private_networks = webhooks::PrivateNetworks::kAllow;
  return options;
}

OutgoingWebhook hook_to(
    const std::string& url, const std::string& id = "msg_n-1",
    const std::string& body =
        R"({"type":"case.received","timestamp":"2026-03-02T09:00:00Z","data":{"reference":"CMP-2026-000001"}})") {
  return OutgoingWebhook{url, kSecret, id, body};
}

std::string str(const json::object& record, const char* key) {
  const json::value* v = record.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::int64_t now_seconds() { return webhooks::system_wall_seconds(); }

}  // namespace

// ---- pure parts ---------------------------------------------------------------------------------

TEST_CASE("webhook sender: the address guard classifies a table of addresses", "[webhooks]") {
  struct Row {
    const char* address;
    network::AddressClass expected;
  };
  const Row rows[] = {
      {"93.184.216.34", network::AddressClass::kPublic},
      {"8.8.8.8", network::AddressClass::kPublic},
      {"172.15.255.255", network::AddressClass::kPublic},
      {"172.32.0.1", network::AddressClass::kPublic},
      {"100.63.255.255", network::AddressClass::kPublic},
      {"100.128.0.1", network::AddressClass::kPublic},
      {"2606:4700:4700::1111", network::AddressClass::kPublic},
      {"127.0.0.1", network::AddressClass::kLoopback},
      {"127.255.255.254", network::AddressClass::kLoopback},
      {"::1", network::AddressClass::kLoopback},
      {"[::1]", network::AddressClass::kLoopback},
      {"10.0.0.1", network::AddressClass::kPrivate},
      {"10.255.255.255", network::AddressClass::kPrivate},
      {"172.16.0.1", network::AddressClass::kPrivate},
      {"172.31.255.255", network::AddressClass::kPrivate},
      {"192.168.1.10", network::AddressClass::kPrivate},
      {"fc00::1", network::AddressClass::kPrivate},
      {"fd12:3456:789a::1", network::AddressClass::kPrivate},
      {"fec0::1", network::AddressClass::kPrivate},
      {"169.254.169.254", network::AddressClass::kLinkLocal},
      {"fe80::1", network::AddressClass::kLinkLocal},
      {"febf::1", network::AddressClass::kLinkLocal},
      {"0.0.0.0", network::AddressClass::kUnspecified},
      {"0.1.2.3", network::AddressClass::kUnspecified},
      {"::", network::AddressClass::kUnspecified},
      {"224.0.0.1", network::AddressClass::kMulticast},
      {"239.255.255.250", network::AddressClass::kMulticast},
      {"ff02::1", network::AddressClass::kMulticast},
      {"100.64.0.1", network::AddressClass::kSharedCgnat},
      {"100.127.255.255", network::AddressClass::kSharedCgnat},
      {"255.255.255.255", network::AddressClass::kReserved},
      {"240.0.0.1", network::AddressClass::kReserved},
      {"192.0.2.1", network::AddressClass::kReserved},
      {"198.18.0.1", network::AddressClass::kReserved},
      {"2001:db8::1", network::AddressClass::kReserved},
      // IPv6 forms that carry an IPv4 address are judged by it.
      {"::ffff:127.0.0.1", network::AddressClass::kLoopback},
      {"::ffff:7f00:1", network::AddressClass::kLoopback},
      {"::ffff:10.1.2.3", network::AddressClass::kPrivate},
      {"::ffff:169.254.169.254", network::AddressClass::kLinkLocal},
      {"::ffff:8.8.8.8", network::AddressClass::kPublic},
      {"::127.0.0.1", network::AddressClass::kLoopback},
      {"64:ff9b::192.168.0.1", network::AddressClass::kPrivate},
      {"64:ff9b::8.8.8.8", network::AddressClass::kPublic},
      {"2002:7f00:1::", network::AddressClass::kLoopback},
      {"2002:0808:0808::1", network::AddressClass::kPublic},
  };
  for (const auto& row : rows) {
    INFO(row.address);
    auto ip = network::parse_ip(row.address);
    REQUIRE(ip);
    CHECK(classify(*ip) == row.expected);
  }
  for (const char* junk : {"", "localhost", "127.1", "1.2.3.4.5", "::g", "[127.0.0.1", "999.1.1.1", "10.0.0.1/8"}) {
    INFO(junk);
    CHECK_FALSE(network::parse_ip(junk));
  }
  CHECK(network::parse_ip("::ffff:10.0.0.1") == network::parse_ip("10.0.0.1"));
  CHECK(network::parse_ip("::ffff:10.0.0.1")->to_string() == "10.0.0.1");
  CHECK(network::parse_ip("FE80::0001")->to_string() == "fe80::1");
}

TEST_CASE("webhook sender: the guard refuses private networks unless allowed", "[webhooks]") {
  const webhooks::AddressGuard strict;
  CHECK_FALSE(strict.refusal(*network::parse_ip("93.184.216.34")));
  auto why = strict.refusal(*network::parse_ip("127.0.0.1"));
  REQUIRE(why);
  CHECK(why->find("127.0.0.1 is a loopback address") != std::string::npos);
  CHECK(strict.refusal(*network::parse_ip("::ffff:169.254.169.254"))->find("169.254.169.254 is a link-local") !=
        std::string::npos);

  const webhooks::AddressGuard open(webhooks::PrivateNetworks::kAllow);
  for (const char* a : {"127.0.0.1", "::1", "10.0.0.1", "169.254.169.254", "fd00::1"})
    CHECK_FALSE(open.refusal(*network::parse_ip(a)));

  const webhooks::AddressGuard listed(
      webhooks::PrivateNetworks::kRefuse,
      {*network::parse_cidr("10.20.0.0/16"), *network::parse_cidr("fd00:1::/32"), *network::parse_cidr("127.0.0.1")});
  CHECK_FALSE(listed.refusal(*network::parse_ip("10.20.30.40")));
  CHECK_FALSE(listed.refusal(*network::parse_ip("::ffff:10.20.30.40")));  // the IPv4-mapped form of an allowed address
  CHECK_FALSE(listed.refusal(*network::parse_ip("fd00:1:2::3")));
  CHECK_FALSE(listed.refusal(*network::parse_ip("127.0.0.1")));
  CHECK(listed.refusal(*network::parse_ip("127.0.0.2")));
  CHECK(listed.refusal(*network::parse_ip("10.21.0.1")));
  CHECK(listed.refusal(*network::parse_ip("fd00:2::1")));
  CHECK_FALSE(listed.refusal(*network::parse_ip("8.8.8.8")));

  CHECK(network::parse_cidr("10.20.30.40/16")->to_string() == "10.20.0.0/16");
  CHECK(network::parse_cidr("fd00:1:2::/32")->to_string() == "fd00:1::/32");
  CHECK(network::parse_cidr("0.0.0.0/0")->contains(*network::parse_ip("203.0.114.1")));
  for (const char* junk : {"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "fd00::/129", "host/8", "10.0.0.0/8x"}) {
    INFO(junk);
    CHECK_FALSE(network::parse_cidr(junk));
  }
}

TEST_CASE("webhook sender: Retry-After as delta-seconds or an HTTP-date, capped", "[webhooks]") {
  const std::int64_t now = 1'784'000'000;  // 2026-07-14T03:33:20Z
  CHECK(webhooks::parse_retry_after("7", now) == std::chrono::seconds(7));
  CHECK(webhooks::parse_retry_after(" 120 ", now) == std::chrono::seconds(120));
  CHECK(webhooks::parse_retry_after("0", now) == std::chrono::seconds(0));
  CHECK(webhooks::parse_retry_after("999999999999", now) == webhooks::kMaxRetryAfter);
  CHECK(webhooks::parse_retry_after("99999999999999999999999", now) == webhooks::kMaxRetryAfter);
  CHECK(webhooks::parse_retry_after("Tue, 14 Jul 2026 03:35:20 GMT", now) == std::chrono::seconds(120));
  CHECK(webhooks::parse_retry_after("Tuesday, 14-Jul-26 03:35:20 GMT", now) == std::chrono::seconds(120));  // RFC 850
  CHECK(webhooks::parse_retry_after("Tue Jul 14 03:35:20 2026", now) == std::chrono::seconds(120));         // asctime
  CHECK(webhooks::parse_retry_after("Mon, 13 Jul 2026 03:35:20 GMT", now) == std::chrono::seconds(0));      // past
  CHECK(webhooks::parse_retry_after("Fri, 14 Aug 2026 03:35:20 GMT", now) == webhooks::kMaxRetryAfter);
  CHECK_FALSE(webhooks::parse_retry_after("", now));
  CHECK_FALSE(webhooks::parse_retry_after("soon", now));
  CHECK_FALSE(webhooks::parse_retry_after("-5", now));
}

TEST_CASE("webhook sender: the Standard Webhooks known vector", "[webhooks]") {
  // From the standard-webhooks specification's libraries.
  auto signature = security::sign_webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
                                          1614265330, R"({"test": 2432232314})");
  REQUIRE(signature.ok());
  CHECK(*signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  CHECK(security::verify_webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330",
                                 "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", R"({"test": 2432232314})",
                                 1614265330) == security::WebhookCheck::kValid);
}

// ---- against the receiver -----------------------------------------------------------------------

TEST_CASE("webhook sender: every delivery verifies with standardwebhooks", "[webhooks]") {
  Receiver receiver;
  webhooks::HttpWebhookSender sender(loopback_allowed());
  const std::vector<std::string> bodies = {
      R"({"type":"case.received","timestamp":"2026-03-02T09:00:00Z","data":{"reference":"CMP-2026-000001"}})",
      R"({"type":"message.client","timestamp":"2026-03-02T09:01:00Z","data":{"text":"Grüße, ça va? 日本 🙂"}})",
      std::string(R"({"type":"case.closed","data":{"padding":")") + std::string(20'000, 'x') + "\"}}",
  };
  const std::int64_t before = now_seconds();
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    DeliveryResult r = sender.deliver(hook_to(receiver.url(), "msg_n-" + std::to_string(i), bodies[i]));
    INFO(r.detail);
    CHECK(r.outcome == DeliveryOutcome::kDelivered);
    CHECK(r.status_code == 204);
    CHECK_FALSE(r.retry_after);
  }
  const std::int64_t after = now_seconds();
  auto records = receiver.records();
  REQUIRE(records.size() == bodies.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto& record = records[i];
    INFO(json::serialize(record).substr(0, 400));
    CHECK(record.at("verified").as_bool());
    CHECK(str(record, "method") == "POST");
    CHECK(str(record, "url") == "/hooks/redress");
    CHECK(str(record, "id") == "msg_n-" + std::to_string(i));
    CHECK(str(record, "content_type") == "application/json");
    CHECK(str(record, "user_agent") == "Redress-Webhooks/1");
    CHECK(str(record, "body") == bodies[i]);
    CHECK(str(record, "signature").rfind("v1,", 0) == 0);
    const std::int64_t stamp = record.at("timestamp").as_int64();
    CHECK(stamp >= before);
    CHECK(stamp <= after);
    CHECK(std::abs(record.at("skew").as_int64()) <= 5);
  }
}

TEST_CASE("webhook sender: 500 then 200 is a retry then a delivery with the same webhook-id", "[webhooks]") {
  Receiver receiver(R"({"sequence":[{"status":500,"body":"database\nis down"}],"default":{"status":200,"body":"ok"}})");
  webhooks::HttpWebhookSender sender(loopback_allowed());
  const auto hook = hook_to(receiver.url(), "msg_n-42");
  DeliveryResult first = sender.deliver(hook);
  CHECK(first.outcome == DeliveryOutcome::kRetry);
  CHECK(first.status_code == 500);
  CHECK(first.detail == "HTTP 500: database is down");
  CHECK_FALSE(first.retry_after);
  std::this_thread::sleep_for(1100ms);  // the second attempt is stamped with a later second
  DeliveryResult second = sender.deliver(hook);
  CHECK(second.outcome == DeliveryOutcome::kDelivered);
  CHECK(second.status_code == 200);
  auto records = receiver.records();
  REQUIRE(records.size() == 2);
  for (const auto& record : records) {
    CHECK(record.at("verified").as_bool());
    CHECK(str(record, "id") == "msg_n-42");
    CHECK(std::abs(record.at("skew").as_int64()) <= 5);
  }
  // Signed afresh per attempt: a later timestamp, so a different signature.
  CHECK(records[1].at("timestamp").as_int64() > records[0].at("timestamp").as_int64());
  CHECK(str(records[1], "signature") != str(records[0], "signature"));
}

TEST_CASE("webhook sender: 410 Gone", "[webhooks]") {
  Receiver receiver(R"({"default":{"status":410,"body":"subscription removed"}})");
  webhooks::HttpWebhookSender sender(loopback_allowed());
  DeliveryResult r = sender.deliver(hook_to(receiver.url()));
  CHECK(r.outcome == DeliveryOutcome::kGone);
  CHECK(r.status_code == 410);
  CHECK(r.detail == "HTTP 410: subscription removed");
  REQUIRE(receiver.records().size() == 1);
  CHECK(receiver.records()[0].at("verified").as_bool());
}

TEST_CASE("webhook sender: 429 and 503 honour Retry-After", "[webhooks]") {
  Receiver receiver(R"({"sequence":[
      {"status":429,"headers":{"retry-after":"7"}},
      {"status":503,"retry_after_date_in":120},
      {"status":503,"headers":{"retry-after":"864000"}},
      {"status":429},
      {"status":500,"headers":{"retry-after":"30"}}]})");
  webhooks::HttpWebhookSender sender(loopback_allowed());
  const auto hook = hook_to(receiver.url());

  DeliveryResult r = sender.deliver(hook);
  CHECK(r.outcome == DeliveryOutcome::kRetry);
  CHECK(r.status_code == 429);
  REQUIRE(r.retry_after);
  CHECK(*r.retry_after == std::chrono::seconds(7));

  r = sender.deliver(hook);
  CHECK(r.outcome == DeliveryOutcome::kRetry);
  CHECK(r.status_code == 503);
  REQUIRE(r.retry_after);
  // An HTTP-date has whole seconds and the machine may be slow: allow some slack.
  CHECK(*r.retry_after >= std::chrono::seconds(100));
  CHECK(*r.retry_after <= std::chrono::seconds(121));

  r = sender.deliver(hook);
  REQUIRE(r.retry_after);
  CHECK(*r.retry_after == webhooks::kMaxRetryAfter);  // ten days, capped to one

  r = sender.deliver(hook);
  CHECK(r.outcome == DeliveryOutcome::kRetry);
  CHECK(r.status_code == 429);
  CHECK_FALSE(r.retry_after);  // no header: the outbox's own back-off

  r = sender.deliver(hook);
  CHECK(r.status_code == 500);
  CHECK_FALSE(r.retry_after);  // only 429 and 503 are asked to wait
  CHECK(receiver.records().size() == 5);
}

TEST_CASE("webhook sender: a receiver slower than the timeout is a retry", "[webhooks]") {
  Receiver receiver(R"({"sequence":[{"status":200,"delay_ms":20000}],"default":{"status":200}})");
  webhooks::HttpWebhookOptions options = loopback_allowed();
  options.total_timeout = 1500ms;
  webhooks::HttpWebhookSender sender(options);
  auto started = std::chrono::steady_clock::now();
  DeliveryResult r = sender.deliver(hook_to(receiver.url()));
  auto took = std::chrono::steady_clock::now() - started;
  INFO(r.detail);
  CHECK(r.outcome == DeliveryOutcome::kRetry);
  CHECK(r.status_code == 0);
  CHECK(r.detail.find("imed out") != std::string::npos);
  CHECK(took < 15s);
  // The sender recovers: the next attempt opens a new connection and is delivered.
  DeliveryResult again = sender.deliver(hook_to(receiver.url()));
  CHECK(again.outcome == DeliveryOutcome::kDelivered);
}

TEST_CASE("webhook sender: loopback is refused by the guard and allowed when configured", "[webhooks]") {
  Receiver receiver;
  {
    webhooks::HttpWebhookSender strict;
    // 2130706433 is 127.0.0.1 as one number; 0.0.0.0 reaches the local host on Linux.
    for (const std::string host : {"127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "[::1]", "2130706433", "0.0.0.0"}) {
      DeliveryResult r = strict.deliver(hook_to(receiver.url(host)));
      INFO(host << ": " << r.detail);
      CHECK(r.outcome == DeliveryOutcome::kPermanentFailure);
      CHECK(r.status_code == 0);
      CHECK(r.detail.find("refused") != std::string::npos);
      CHECK((r.detail.find("loopback") != std::string::npos || r.detail.find("unspecified") != std::string::npos));
    }
    DeliveryResult r = strict.deliver(hook_to(receiver.url()));
    CHECK(r.detail.find("127.0.0.1 is a loopback address") != std::string::npos);
    CHECK(r.detail.find(kSecret) == std::string::npos);
    CHECK(strict.deliver(hook_to("http://169.254.169.254/latest/meta-data/")).outcome ==
          DeliveryOutcome::kPermanentFailure);
    CHECK(strict.deliver(hook_to("http://10.0.0.1:8080/")).outcome == DeliveryOutcome::kPermanentFailure);
  }
  CHECK(receiver.records().empty());  // nothing reached the receiver

  webhooks::HttpWebhookOptions listed;
  listed.allowed_networks = {*network::parse_cidr("127.0.0.0/8"), *network::parse_cidr("::1/128")};
  webhooks::HttpWebhookSender allowed_by_list(listed);
  CHECK(allowed_by_list.deliver(hook_to(receiver.url())).outcome == DeliveryOutcome::kDelivered);
  CHECK(allowed_by_list.deliver(hook_to(receiver.url("localhost"))).outcome == DeliveryOutcome::kDelivered);
  CHECK(allowed_by_list.deliver(hook_to("http://10.0.0.1:8080/")).outcome == DeliveryOutcome::kPermanentFailure);

  webhooks::HttpWebhookSender allowed_by_flag(loopback_allowed());
  CHECK(allowed_by_flag.deliver(hook_to(receiver.url())).outcome == DeliveryOutcome::kDelivered);
  CHECK(receiver.records().size() == 3);
}

TEST_CASE("webhook sender: several deliveries share one connection", "[webhooks]") {
  Receiver receiver;
  webhooks::HttpWebhookSender sender(loopback_allowed());
  for (int i = 0; i < 6; ++i)
    REQUIRE(sender.deliver(hook_to(receiver.url(), "msg_n-" + std::to_string(i))).outcome ==
            DeliveryOutcome::kDelivered);
  auto records = receiver.records();
  REQUIRE(records.size() == 6);
  std::set<std::int64_t> ports;
  for (const auto& record : records) ports.insert(record.at("remote_port").as_int64());
  CHECK(ports.size() == 1);

  // A second sender has its own connection.
  webhooks::HttpWebhookSender other(loopback_allowed());
  REQUIRE(other.deliver(hook_to(receiver.url())).outcome == DeliveryOutcome::kDelivered);
  records = receiver.records();
  CHECK(records.back().at("remote_port").as_int64() != *ports.begin());
}

TEST_CASE("webhook sender: other answers, transport errors and bad input", "[webhooks]") {
  Receiver receiver(R"({"sequence":[
      {"status":400,"body":"bad \u0001 request"},
      {"status":301,"headers":{"location":"https://elsewhere.example/hooks"}},
      {"status":200,"body":"x"},
      {"status":418}]})");
  webhooks::HttpWebhookOptions options = loopback_allowed();
  options.max_response_bytes = 64;
  webhooks::HttpWebhookSender sender(options);

  DeliveryResult r = sender.deliver(hook_to(receiver.url()));
  CHECK(r.outcome == DeliveryOutcome::kRetry);
  CHECK(r.status_code == 400);
  CHECK(r.detail == "HTTP 400: bad   request");

  r = sender.deliver(hook_to(receiver.url()));
  INFO(r.detail);
  CHECK(r.outcome == DeliveryOutcome::kRetry);  // a redirect is never followed
  CHECK(r.status_code == 301);
  CHECK(r.detail.find("https://elsewhere.example/hooks") != std::string::npos);

  r = sender.deliver(hook_to(receiver.url()));
  CHECK(r.outcome == DeliveryOutcome::kDelivered);
  r = sender.deliver(hook_to(receiver.url()));
  CHECK(r.outcome == DeliveryOutcome::kRetry);
  CHECK(r.status_code == 418);
  CHECK(receiver.records().size() == 4);

  r = sender.deliver(hook_to("http://127.0.0.1:" + std::to_string(free_port()) + "/"));
  INFO(r.detail);
  CHECK(r.outcome == DeliveryOutcome::kRetry);
  CHECK(r.status_code == 0);
  CHECK_FALSE(r.detail.empty());

  CHECK(sender.deliver(hook_to("not a url")).outcome == DeliveryOutcome::kPermanentFailure);
  CHECK(sender.deliver(hook_to("ftp://127.0.0.1/hooks")).outcome == DeliveryOutcome::kPermanentFailure);
  CHECK(sender.deliver(hook_to("file:///etc/passwd")).outcome == DeliveryOutcome::kPermanentFailure);
  CHECK(sender.deliver(hook_to("http://:8080/")).outcome == DeliveryOutcome::kPermanentFailure);
  CHECK(sender.deliver(hook_to("http://[::1/")).outcome == DeliveryOutcome::kPermanentFailure);
  CHECK(sender.deliver(hook_to(receiver.url(), "msg_1\r\nx-injected: 1")).outcome ==
        DeliveryOutcome::kPermanentFailure);
  OutgoingWebhook bad_secret = hook_to(receiver.url());
  bad_secret.secret = "not-base64!";
  r = sender.deliver(bad_secret);
  CHECK(r.outcome == DeliveryOutcome::kPermanentFailure);
  CHECK(r.detail.find("not-base64!") == std::string::npos);
  r = sender.deliver(hook_to("http://no-such-host.invalid/hooks"));
  CHECK(r.outcome == DeliveryOutcome::kRetry);
  CHECK(r.detail.find("cannot resolve no-such-host.invalid") != std::string::npos);
  CHECK(receiver.records().size() == 4);  // none of these reached it
}

TEST_CASE("webhook sender: a long answer is cut at the limit and still counts", "[webhooks]") {
  Receiver receiver(
      R"({"sequence":[{"status":200,"body":"a","repeat":300000},{"status":500,"body":"b","repeat":300000}]})");
  webhooks::HttpWebhookSender sender(loopback_allowed());
  DeliveryResult r = sender.deliver(hook_to(receiver.url()));
  CHECK(r.outcome == DeliveryOutcome::kDelivered);
  r = sender.deliver(hook_to(receiver.url()));
  CHECK(r.outcome == DeliveryOutcome::kRetry);
  CHECK(r.status_code == 500);
  CHECK(r.detail.size() < 300);
  CHECK(sender.deliver(hook_to(receiver.url())).outcome == DeliveryOutcome::kDelivered);
}

TEST_CASE("webhook sender: webhook-timestamp comes from the wall clock source", "[webhooks]") {
  Receiver receiver;
  const std::int64_t hour_ago = now_seconds() - 3600;
  webhooks::HttpWebhookSender sender(loopback_allowed(), [hour_ago] { return hour_ago; });
  CHECK(sender.deliver(hook_to(receiver.url())).outcome == DeliveryOutcome::kDelivered);
  auto records = receiver.records();
  REQUIRE(records.size() == 1);
  CHECK(records[0].at("timestamp").as_int64() == hour_ago);
  CHECK_FALSE(records[0].at("verified").as_bool());  // standardwebhooks refuses a stale timestamp
  CHECK(str(records[0], "error").find("too old") != std::string::npos);
}

TEST_CASE("webhook sender: TLS verifies the certificate and the host name", "[webhooks]") {
  if (!on_path("openssl")) {
    WARN("openssl is not on PATH: the TLS case is skipped");
    return;
  }
  TempDir dir;
  const auto p = [&](const char* name) { return (dir.path() / name).string(); };
  auto step = [&](std::vector<std::string> args) {
    args.front() = "/usr/bin/" + args.front();  // Debian's, as mail_test's
    auto result = run(args, dir.path());
    INFO(result.output);
    REQUIRE(result.status == 0);
  };
  step({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p("ca.key"), "-out", p("ca.pem"),
        "-days", "2", "-subj", "/CN=Redress Test CA"});
  step({"openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", p("server.key"), "-out", p("server.csr"), "-subj",
        "/CN=localhost"});
  std::ofstream(p("ext.cnf")) << "subjectAltName=DNS:localhost\n";
  step({"openssl", "x509", "-req", "-in", p("server.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"), "-CAcreateserial",
        "-out", p("server.pem"), "-days", "2", "-extfile", p("ext.cnf")});
  Tls tls{p("server.pem"), p("server.key"), p("ca.pem")};
  Receiver receiver("{}", &tls);

  webhooks::HttpWebhookOptions trusting = loopback_allowed();
  trusting.ca_file = tls.ca;
  webhooks::HttpWebhookSender sender(trusting);
  DeliveryResult r = sender.deliver(hook_to(receiver.url("localhost", "https")));
  INFO(r.detail);
  CHECK(r.outcome == DeliveryOutcome::kDelivered);
  REQUIRE(receiver.records().size() == 1);
  CHECK(receiver.records()[0].at("verified").as_bool());

  // The certificate names localhost, not 127.0.0.1: the host name check refuses it.
  r = sender.deliver(hook_to(receiver.url("127.0.0.1", "https")));
  INFO(r.detail);
  CHECK(r.outcome == DeliveryOutcome::kRetry);
  CHECK(r.status_code == 0);

  // Without the test CA the chain is not trusted.
  webhooks::HttpWebhookSender system_store(loopback_allowed());
  r = system_store.deliver(hook_to(receiver.url("localhost", "https")));
  INFO(r.detail);
  CHECK(r.outcome == DeliveryOutcome::kRetry);
  CHECK(r.detail.find("certificate") != std::string::npos);
  CHECK(receiver.records().size() == 1);
}
