// SmtpMailer: the Mailer that hands mail to an SMTP server through libcurl.
//
// One libcurl easy handle per SmtpMailer, so its connection (and TLS session) is reused from one
// send() to the next; a failed send closes it and the next one connects again. The server's replies
// are read as they come (curl's debug callback: reply lines and command verbs only, never the AUTH
// arguments), and each attempt becomes a DeliveryResult:
//   250 after the message                       -> kDelivered, with the server's reply as detail
//   4xx to any command                          -> kRetry
//   5xx to MAIL FROM, RCPT TO, DATA or the end of the message -> kPermanentFailure (this mail)
//   5xx to the greeting, EHLO, AUTH or STARTTLS -> kRetry (the server or our settings, not this mail)
//   no connection, timeout, TLS failure, STARTTLS required but not offered, a connection lost
//   before the reply                           -> kRetry
// libcurl dot-stuffs the message and ends it with CRLF "." CRLF itself. The password is handed to
// libcurl and wiped from this object; it is never logged nor put in a detail.
// Thread-compatible: one instance per worker thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "engine/outbound.h"
#include "engine/result.h"

namespace redress::mail {

// STARTTLS on an smtp:// URL. smtps:// is TLS from the first byte and ignores this.
enum class StartTls {
  kRequired,       // refuse to send in clear: a server without STARTTLS fails the attempt (kRetry)
  kOpportunistic,  // upgrade when the server offers it, else send in clear
  kOff,            // never upgrade (a relay on loopback)
};

enum class TlsVerification {
  kVerify,          // the server's certificate chain and host name are checked (the default)
  kNoVerification,  // accept any certificate: tests and broken relays only
};

struct SmtpOptions {
  // "smtp://host:port" or "smtps://host:port"; "smtp://user:password@host:587" gives credentials
  // (percent-encoded) unless username/password below are set. Port defaults: 25 and 465.
  std::string url;
  StartTls starttls = StartTls::kRequired;
  TlsVerification verification = TlsVerification::kVerify;
  std::string ca_file;   // PEM bundle to verify against instead of the system's
  std::string username;  // AUTH; empty for none
  std::string password;
  std::string helo_name;  // the name sent in EHLO; empty for libcurl's default
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds response_timeout{60'000};  // for each server reply
  std::chrono::milliseconds send_timeout{120'000};     // for a whole send()
};

class SmtpMailer final : public Mailer {
 public:
  // kInvalid for a URL that is not smtp:// or smtps:// with a host.
  [[nodiscard]] static Result<std::unique_ptr<SmtpMailer>> create(SmtpOptions options);
  ~SmtpMailer() override;
  SmtpMailer(const SmtpMailer&) = delete;
  SmtpMailer& operator=(const SmtpMailer&) = delete;

  [[nodiscard]] DeliveryResult send(const OutgoingMail& mail) override;

  // Connections opened so far (a reused connection is not counted again).
  [[nodiscard]] long connections_opened() const { return connections_; }
  // "smtp://host:587 (STARTTLS required, AUTH as alice)": for logs; never the password.
  [[nodiscard]] const std::string& description() const { return description_; }

 private:
  struct State;
  explicit SmtpMailer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
  long connections_ = 0;
  std::string description_;
};

// True when an smtp:// or smtps:// URL's host is a loopback address (127.0.0.0/8, ::1) or
// "localhost": the default STARTTLS setting speaks to such a relay in clear.
[[nodiscard]] bool url_host_is_loopback(std::string_view url);

}  // namespace redress::mail
