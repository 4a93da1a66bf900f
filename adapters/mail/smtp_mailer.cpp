#include "adapters/mail/smtp_mailer.h"

#include "adapters/network/ip_address.h"

#include <curl/curl.h>
#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace redress::mail {

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// What the server was answering when a reply came.
enum class Phase {
  kSession,   // greeting, EHLO, STARTTLS, AUTH, QUIT: the connection, not this mail
  kEnvelope,  // MAIL FROM, RCPT TO
  kData,      // DATA
  kMessage,   // the end of the message: the reply that accepts or refuses it
};

struct Reply {
  int code = 0;
  std::string text;  // the last line, CR LF removed
  Phase phase = Phase::kSession;
  std::string command;  // the verb answered ("RCPT"), or "end of message"
};

struct CurlUrl {
  CURLU* handle = curl_url();
  CurlUrl() = default;
  CurlUrl(const CurlUrl&) = delete;
  CurlUrl& operator=(const CurlUrl&) = delete;
  ~CurlUrl() { curl_url_cleanup(handle); }
  std::string get(CURLUPart part, unsigned flags = 0) const {
    char* value = nullptr;
    if (curl_url_get(handle, part, &value, flags) != CURLUE_OK || value == nullptr) return {};
    std::string out(value);
    curl_free(value);
    return out;
  }
};

// One line of text for a detail: control characters become spaces.
std::string one_line(std::string text) {
  for (auto& c : text)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = ' ';
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

}  // namespace

struct SmtpMailer::State {
  CURL* curl = nullptr;
  char error[CURL_ERROR_SIZE] = {};

  // Per send: the message being read out, and what the server said.
  std::string_view upload;
  Phase phase = Phase::kSession;
  std::string command;
  Reply last;
  std::optional<Reply> failure;  // the first 4xx or 5xx reply of this send
  std::string partial;           // a reply line split across debug calls

  State() = default;
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  ~State() {
    if (curl) curl_easy_cleanup(curl);
  }

  void begin(const OutgoingMail& mail) {
    upload = mail.data;
    phase = Phase::kSession;
    command.clear();
    last = Reply{};
    failure.reset();
    partial.clear();
    error[0] = '\0';
  }

  void on_command(std::string_view line) {
    // Only the verb is looked at: AUTH's arguments (and its continuation lines) carry secrets.
    std::string verb;
    for (char c : line.substr(0, 8)) {
      if (c == ' ' || c == '\r' || c == '\n' || c == ':') break;
      verb += static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    }
    if (verb == "MAIL" || verb == "RCPT")
      phase = Phase::kEnvelope;
    else if (verb == "DATA")
      phase = Phase::kData;
    else if (verb == "EHLO" || verb == "HELO" || verb == "STARTTLS" || verb == "AUTH" || verb == "QUIT" ||
             verb == "RSET" || verb == "NOOP")
      phase = Phase::kSession;
    else
      return;  // an AUTH continuation: no verb, and not to be kept
    command = verb == "MAIL" ? "MAIL FROM" : verb == "RCPT" ? "RCPT TO" : verb;
  }

  void on_reply_bytes(std::string_view bytes) {
    partial.append(bytes);
    std::size_t end;
    while ((end = partial.find('\n')) != std::string::npos) {
      std::string line = partial.substr(0, end);
      partial.erase(0, end + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      on_reply_line(line);
    }
  }

  void on_reply_line(const std::string& line) {
    if (line.size() < 3 || !std::all_of(line.begin(), line.begin() + 3, [](char c) { return c >= '0' && c <= '9'; }))
      return;
    if (line.size() > 3 && line[3] == '-') return;  // a continuation of a multi-line reply
    Reply reply;
    reply.code = std::stoi(line.substr(0, 3));
    reply.text = one_line(line.substr(0, 512));
    reply.phase = phase;
    reply.command = phase == Phase::kMessage ? "end of message" : command;
    if (reply.code >= 400 && !failure) failure = reply;
    last = std::move(reply);
  }

  static int on_debug(CURL*, curl_infotype type, char* data, size_t size, void* self) {
    auto* state = static_cast<State*>(self);
    std::string_view bytes(data, size);
    switch (type) {
      case CURLINFO_HEADER_OUT: state->on_command(bytes); break;
      case CURLINFO_HEADER_IN: state->on_reply_bytes(bytes); break;
      case CURLINFO_DATA_OUT: state->phase = Phase::kMessage; break;
      default: break;  // CURLINFO_TEXT and TLS records are not kept
    }
    return 0;
  }

  static size_t on_read(char* buffer, size_t size, size_t count, void* self) {
    auto* state = static_cast<State*>(self);
    size_t n = std::min(size * count, state->upload.size());
    std::memcpy(buffer, state->upload.data(), n);
    state->upload.remove_prefix(n);
    return n;
  }
};

SmtpMailer::SmtpMailer(std::unique_ptr<State> state) : state_(std::move(state)) {}
SmtpMailer::~SmtpMailer() = default;

Result<std::unique_ptr<SmtpMailer>> SmtpMailer::create(SmtpOptions options) {
  global_init();
  CurlUrl url;
  if (url.handle == nullptr) return Error::internal("curl_url() failed");
  if (curl_url_set(url.handle, CURLUPART_URL, options.url.c_str(), 0) != CURLUE_OK)
    return Error::invalid_field("smtp.url", "is not a URL (smtp://host:port or smtps://host:port)");
  std::string scheme = url.get(CURLUPART_SCHEME);
  if (scheme != "smtp" && scheme != "smtps")
    return Error::invalid_field("smtp.url", "must start with smtp:// or smtps://");
  std::string host = url.get(CURLUPART_HOST);
  if (host.empty()) return Error::invalid_field("smtp.url", "names no host");
  std::string user = url.get(CURLUPART_USER, CURLU_URLDECODE);
  std::string password = url.get(CURLUPART_PASSWORD, CURLU_URLDECODE);
  if (!options.username.empty()) {
    user = options.username;
    password = options.password;
  }
  // Credentials never stay in the URL that is kept: they go to CURLOPT_USERNAME/PASSWORD.
  curl_url_set(url.handle, CURLUPART_USER, nullptr, 0);
  curl_url_set(url.handle, CURLUPART_PASSWORD, nullptr, 0);
  if (!options.helo_name.empty())
    curl_url_set(url.handle, CURLUPART_PATH, ("/" + options.helo_name).c_str(), CURLU_URLENCODE);
  std::string clean = url.get(CURLUPART_URL);

  auto state = std::make_unique<State>();
  state->curl = curl_easy_init();
  if (state->curl == nullptr) return Error::internal("curl_easy_init() failed");
  CURL* curl = state->curl;
  curl_easy_setopt(curl, CURLOPT_URL, clean.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, state->error);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, &State::on_read);
  curl_easy_setopt(curl, CURLOPT_READDATA, state.get());
  curl_easy_setopt(curl, CURLOPT_VERBOSE, 1L);  // the replies reach on_debug only when verbose
  curl_easy_setopt(curl, CURLOPT_DEBUGFUNCTION, &State::on_debug);
  curl_easy_setopt(curl, CURLOPT_DEBUGDATA, state.get());
  long use_ssl = CURLUSESSL_ALL;
  if (scheme == "smtp" && options.starttls == StartTls::kOpportunistic) use_ssl = CURLUSESSL_TRY;
  if (scheme == "smtp" && options.starttls == StartTls::kOff) use_ssl = CURLUSESSL_NONE;
  curl_easy_setopt(curl, CURLOPT_USE_SSL, use_ssl);
  long verify = options.verification == TlsVerification::kVerify ? 1L : 0L;
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, verify);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, verify * 2L);
  if (!options.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options.ca_file.c_str());
  if (!user.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, user.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, password.c_str());  // libcurl keeps its own copy
  }
  sodium_memzero(password.data(), password.size());
  sodium_memzero(options.password.data(), options.password.size());
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options.send_timeout.count()));
  auto response_seconds = std::max<long>(1, static_cast<long>((options.response_timeout.count() + 999) / 1000));
  curl_easy_setopt(curl, CURLOPT_SERVER_RESPONSE_TIMEOUT, response_seconds);

  std::unique_ptr<SmtpMailer> mailer(new SmtpMailer(std::move(state)));
  std::string tls = scheme == "smtps"           ? "implicit TLS"
                    : use_ssl == CURLUSESSL_ALL ? "STARTTLS required"
                    : use_ssl == CURLUSESSL_TRY ? "STARTTLS if offered"
                                                : "no TLS";
  if (verify == 0 && (scheme == "smtps" || use_ssl != CURLUSESSL_NONE)) tls += ", certificate not verified";
  mailer->description_ = clean + " (" + tls + (user.empty() ? "" : ", AUTH as " + user) + ")";
  return mailer;
}

DeliveryResult SmtpMailer::send(const OutgoingMail& mail) {
  State& state = *state_;
  CURL* curl = state.curl;
  DeliveryResult result;
  if (mail.recipients.empty() || mail.envelope_from.empty()) {
    result.outcome = DeliveryOutcome::kPermanentFailure;
    result.detail = "the mail has no sender or no recipient";
    return result;
  }
  state.begin(mail);

  struct SlistOwner {
    curl_slist* list = nullptr;
    SlistOwner() = default;
    SlistOwner(const SlistOwner&) = delete;
    SlistOwner& operator=(const SlistOwner&) = delete;
    ~SlistOwner() { curl_slist_free_all(list); }
  } recipients;
  for (const auto& r : mail.recipients) recipients.list = curl_slist_append(recipients.list, ("<" + r + ">").c_str());
  std::string from = "<" + mail.envelope_from + ">";
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, recipients.list);
  curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(mail.data.size()));

  CURLcode code = curl_easy_perform(curl);
  long connects = 0;
  if (curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK) connections_ += connects;
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, nullptr);  // the list dies with this call

  if (code == CURLE_OK) {
    result.outcome = DeliveryOutcome::kDelivered;
    result.status_code = state.last.code;
    result.detail = state.last.text;
    return result;
  }
  if (state.failure) {
    const Reply& reply = *state.failure;
    result.status_code = reply.code;
    bool permanent = reply.code >= 500 && reply.phase != Phase::kSession;
    result.outcome = permanent ? DeliveryOutcome::kPermanentFailure : DeliveryOutcome::kRetry;
    std::string what = reply.command.empty() ? "the greeting" : reply.command;
    result.detail = "the server answered " + what + " with " + reply.text;
    return result;
  }
  result.outcome = DeliveryOutcome::kRetry;
  std::string reason = state.error[0] ? one_line(state.error) : curl_easy_strerror(code);
  if (code == CURLE_USE_SSL_FAILED)
    result.detail = "STARTTLS is required but the server does not offer it (" + reason + ")";
  else if (state.phase == Phase::kMessage)
    result.detail = "the connection failed after the message was sent, before the server's reply (" + reason +
                    "); the server may have it: a retry sends the same Message-ID";
  else
    result.detail = reason;
  return result;
}

bool url_host_is_loopback(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return false;
  std::string_view rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (auto at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  std::string_view host;
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    if (close == std::string_view::npos) return false;
    host = rest.substr(0, close + 1);
  } else {
    host = rest.substr(0, rest.find(':'));
  }
  std::string lower;
  for (char c : host) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (lower == "localhost") return true;
  auto address = network::parse_ip(lower);
  return address && network::classify(*address) == network::AddressClass::kLoopback;
}

}  // namespace redress::mail
