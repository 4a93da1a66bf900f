// HttpWebhookSender: the WebhookSender that POSTs signed web hooks over HTTP(S) with libcurl.
//
// Each attempt is signed afresh by the Standard Webhooks scheme (webhook-id, webhook-timestamp of
// the attempt's wall-clock second, webhook-signature "v1,<base64>"). The sender resolves the host
// itself, asks the AddressGuard about every address, and pins libcurl to the addresses it checked
// (CURLOPT_RESOLVE; a socket-open hook checks the peer again), so a DNS answer that changes between
// the check and the connection cannot reach a private network. Redirects are never followed. TLS
// verifies the certificate chain and the host name. One instance owns one CURL easy handle and its
// connection cache, so consecutive deliveries to one receiver reuse the connection (keep-alive).
// Thread-compatible, as WebhookSender requires: one instance per worker thread; not copyable.
// It never logs, and the secret never appears in a result's detail.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/webhooks/address_guard.h"
#include "engine/outbound.h"

namespace redress::webhooks {

struct HttpWebhookOptions {
  std::chrono::milliseconds connect_timeout{5'000};  // TCP and TLS handshake
  std::chrono::milliseconds total_timeout{15'000};   // the whole attempt, connection included
  std::size_t max_response_bytes = 64 * 1024;        // the rest of a longer answer is not read
  std::string ca_file;                               // PEM file of trusted CAs; empty: the system's store
  PrivateNetworks private_networks = PrivateNetworks::kRefuse;
  std::vector<network::Cidr> allowed_networks;  // reachable even when private (parse_cidr)
  std::string user_agent = "Redress-Webhooks/1";
};

// Seconds since the Unix epoch. Web hooks are stamped with the real time even when the engine
// runs on a manual clock (receivers check freshness against their own clock); tests inject one.
using WallClock = std::function<std::int64_t()>;
[[nodiscard]] std::int64_t system_wall_seconds();

// How long a Retry-After value asks to wait: delta-seconds ("120") or an HTTP-date, measured from
// `now_seconds`; capped to kMaxRetryAfter, a date in the past is zero. nullopt when unparseable.
inline constexpr std::chrono::hours kMaxRetryAfter{24};
[[nodiscard]] std::optional<Duration> parse_retry_after(std::string_view value, std::int64_t now_seconds);

class HttpWebhookSender final : public WebhookSender {
 public:
  // Throws std::runtime_error when libcurl cannot make a handle (out of memory): a start-up failure.
  explicit HttpWebhookSender(HttpWebhookOptions options = {}, WallClock wall_clock = system_wall_seconds);
  ~HttpWebhookSender() override;
  HttpWebhookSender(const HttpWebhookSender&) = delete;
  HttpWebhookSender& operator=(const HttpWebhookSender&) = delete;

  // One attempt. kDelivered on 2xx; kGone on 410; kRetry (with retry_after on 429 and 503) on any
  // other status, a 3xx included (it is not followed), a timeout or a transport error;
  // kPermanentFailure when the URL is malformed, is not http(s), or only leads to refused addresses,
  // or when the hook's secret or id cannot be sent.
  [[nodiscard]] DeliveryResult deliver(const OutgoingWebhook& hook) override;

 private:
  struct State;  // the CURL handle, its lists and the per-attempt buffers
  HttpWebhookOptions options_;
  WallClock wall_clock_;
  AddressGuard guard_;
  std::unique_ptr<State> state_;
};

}  // namespace redress::webhooks
