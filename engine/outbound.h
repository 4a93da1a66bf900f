// Outbound delivery: the engine's doors to mail servers (Mailer) and web hook receivers
// (WebhookSender).
//
// The outbox worker hands each notification, already rendered, to one of these and records the
// DeliveryResult as an attempt. Implementations live in adapters/ (SMTP over libcurl, HTTP over
// libcurl); tests inject their own. A call blocks until the peer answered or the attempt timed
// out, and never throws for a peer's failure: every failure is a value. Implementations are
// thread-compatible: one instance per worker thread (each keeps its own reusable connection).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/time.h"

namespace redress {

// What the outbox does next with a notification after one attempt.
enum class DeliveryOutcome {
  kDelivered,         // the peer accepted it (SMTP 250 after DATA; HTTP 2xx)
  kRetry,             // a transient failure: try again after the back-off (or retry_after)
  kGone,              // the receiver said it will never accept (HTTP 410): disable the subscription
  kPermanentFailure,  // never worth retrying as it is (SMTP 5xx recipient refused; a refused URL)
};

struct DeliveryResult {
  DeliveryOutcome outcome = DeliveryOutcome::kRetry;
  int status_code = 0;                  // SMTP reply code or HTTP status; 0 when none came back
  std::string detail;                   // the peer's reply or the transport error, one line
  std::optional<Duration> retry_after;  // from Retry-After (HTTP 429/503); none otherwise
};

// A mail ready to send: the whole RFC 5322 message (CRLF line ends), its envelope.
struct OutgoingMail {
  std::string message_id;               // "<n-42.CMP-2026-000042@redress.example>"; stable per notification
  std::string envelope_from;            // bare address for MAIL FROM
  std::vector<std::string> recipients;  // bare addresses for RCPT TO
  std::string data;                     // the message, headers and body
};

class Mailer {
 public:
  virtual ~Mailer() = default;
  [[nodiscard]] virtual DeliveryResult send(const OutgoingMail& mail) = 0;
};

// One web hook attempt: the body is signed per attempt (webhook-timestamp is the wall-clock time
// of the attempt), with the same `id` on every attempt of one event.
struct OutgoingWebhook {
  std::string url;
  std::string secret;  // "whsec_<base64>"
  std::string id;      // webhook-id: "msg_<notification id>"; stable across attempts
  std::string body;    // {"type": ..., "timestamp": ..., "data": {...}}
};

class WebhookSender {
 public:
  virtual ~WebhookSender() = default;
  [[nodiscard]] virtual DeliveryResult deliver(const OutgoingWebhook& hook) = 0;
};

}  // namespace redress
