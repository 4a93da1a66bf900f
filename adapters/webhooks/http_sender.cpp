#include "adapters/webhooks/http_sender.h"

#include <curl/curl.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include "adapters/security/standard_webhooks.h"

namespace redress::webhooks {

namespace {

constexpr std::size_t kDetailBodyBytes = 200;  // of the receiver's answer, in a result's detail

// curl_global_init is not thread-safe on every libcurl; a function-local static runs it once.
void init_curl_once() {
  static const bool initialised = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
  if (!initialised) throw std::runtime_error("curl_global_init failed");
}

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

struct UrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};

// Appends to a list owned by `list`; false when out of memory.
bool append(Slist& list, const std::string& line) {
  curl_slist* grown = curl_slist_append(list.get(), line.c_str());
  if (grown == nullptr) return false;
  (void)list.release();
  list.reset(grown);
  return true;
}

// One line of at most `limit` bytes from untrusted text: control characters become spaces and
// bytes that are not valid UTF-8 become '?', so the detail is safe to store and to show as JSON.
std::string one_line(std::string_view text, std::size_t limit) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size() && out.size() < limit) {
    auto c = static_cast<unsigned char>(text[i]);
    std::size_t length = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    bool valid = length > 0 && i + length <= text.size();
    for (std::size_t k = 1; valid && k < length; ++k) valid = (static_cast<unsigned char>(text[i + k]) & 0xc0) == 0x80;
    if (!valid) {
      out += '?';
      ++i;
    } else if (length == 1) {
      out += (c < 0x20 || c == 0x7f) ? ' ' : static_cast<char>(c);
      ++i;
    } else {
      if (out.size() + length > limit) break;
      out.append(text.substr(i, length));
      i += length;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (i < text.size()) out += "...";
  return out;
}

// A header value may not carry CR, LF or other control characters (header injection).
bool header_safe(std::string_view value) {
  return !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7f;
  });
}

DeliveryResult result(DeliveryOutcome outcome, int status, std::string detail) {
  DeliveryResult r;
  r.outcome = outcome;
  r.status_code = status;
  r.detail = std::move(detail);
  return r;
}

std::string url_part(CURLU* url, CURLUPart part, unsigned flags = 0) {
  char* text = nullptr;
  if (curl_url_get(url, part, &text, flags) != CURLUE_OK || text == nullptr) return {};
  std::string copy(text);
  curl_free(text);
  return copy;
}

}  // namespace

std::int64_t system_wall_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::optional<Duration> parse_retry_after(std::string_view value, std::int64_t now_seconds) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t' || value.back() == '\r'))
    value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  const std::int64_t cap = std::chrono::duration_cast<std::chrono::seconds>(kMaxRetryAfter).count();
  std::int64_t seconds = 0;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec == std::errc::result_out_of_range)
      seconds = cap;  // more digits than an int64: "very long"
    else if (ec != std::errc())
      return std::nullopt;
  } else {
    // IMF-fixdate, RFC 850 and asctime forms; curl_getdate reads all three.
    std::string text(value);
    time_t when = curl_getdate(text.c_str(), nullptr);
    if (when == -1) return std::nullopt;
    seconds = std::max<std::int64_t>(0, static_cast<std::int64_t>(when) - now_seconds);
  }
  return std::chrono::duration_cast<Duration>(std::chrono::seconds(std::min(seconds, cap)));
}

struct HttpWebhookSender::State {
  CURL* curl = nullptr;
  char error[CURL_ERROR_SIZE] = {};
  // Per attempt: the answer's first bytes, whether more came, the guard's refusal at connect time.
  std::string body;
  bool truncated = false;
  std::size_t max_body = 0;
  std::optional<std::string> refused;
  const AddressGuard* guard = nullptr;
  Slist resolve;  // the addresses the guard checked, pinned for this attempt's host and port

  State() = default;
  ~State() {
    if (curl != nullptr) curl_easy_cleanup(curl);
  }
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  static size_t on_body(char* data, size_t size, size_t count, void* self_pointer) {
    auto* self = static_cast<State*>(self_pointer);
    const std::size_t bytes = size * count;
    const std::size_t room = self->max_body - std::min(self->max_body, self->body.size());
    self->body.append(data, std::min(bytes, room));
    if (bytes > room) {
      // Stop reading: the status is known, the rest of the answer is not worth the time. The
      // transfer ends with CURLE_WRITE_ERROR, which deliver() reads as a complete answer.
      self->truncated = true;
      return 0;
    }
    return bytes;
  }

  // libcurl calls this instead of socket(2) for every address it tries: the last word on where
  // the connection goes, whatever resolved the name.
  static curl_socket_t on_open_socket(void* self_pointer, curlsocktype purpose, curl_sockaddr* address) {
    auto* self = static_cast<State*>(self_pointer);
    if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKET_BAD;
    auto ip = network::ip_of(&address->addr);
    if (!ip) {
      self->refused = "not an IP address";
      return CURL_SOCKET_BAD;
    }
    if (auto why = self->guard->refusal(*ip)) {
      self->refused = std::move(*why);
      return CURL_SOCKET_BAD;
    }
    return ::socket(address->family, address->socktype, address->protocol);
  }
};

HttpWebhookSender::HttpWebhookSender(HttpWebhookOptions options, WallClock wall_clock)
    : options_(std::move(options)),
      wall_clock_(wall_clock ? std::move(wall_clock) : WallClock(system_wall_seconds)),
      guard_(options_.private_networks, options_.allowed_networks),
      state_(std::make_unique<State>()) {
  init_curl_once();
  state_->curl = curl_easy_init();
  if (state_->curl == nullptr) throw std::runtime_error("curl_easy_init failed");
  state_->guard = &guard_;
  state_->max_body = options_.max_response_bytes;
  CURL* c = state_->curl;
  // The options that never change between attempts.
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // worker threads: no SIGALRM for DNS timeouts
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, state_->error);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_PROXY, "");  // an http_proxy variable would bypass the guard
  curl_easy_setopt(c, CURLOPT_NETRC, static_cast<long>(CURL_NETRC_IGNORED));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.total_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(c, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
  if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(c, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &State::on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, state_.get());
  curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, &State::on_open_socket);
  curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, state_.get());
}

HttpWebhookSender::~HttpWebhookSender() = default;

DeliveryResult HttpWebhookSender::deliver(const OutgoingWebhook& hook) {
  // ---- the URL: http or https, a host, a port ----
  std::unique_ptr<CURLU, UrlDeleter> url(curl_url());
  if (!url) return result(DeliveryOutcome::kRetry, 0, "out of memory");
  if (curl_url_set(url.get(), CURLUPART_URL, hook.url.c_str(), 0) != CURLUE_OK)
    return result(DeliveryOutcome::kPermanentFailure, 0, "malformed URL");
  std::string scheme = url_part(url.get(), CURLUPART_SCHEME);
  if (scheme != "http" && scheme != "https")
    return result(DeliveryOutcome::kPermanentFailure, 0,
                  "only http and https URLs are allowed, not " + one_line(scheme, 20));
  std::string host = url_part(url.get(), CURLUPART_HOST);
  std::string port = url_part(url.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
  if (host.empty() || port.empty()) return result(DeliveryOutcome::kPermanentFailure, 0, "malformed URL: no host");
  if (!header_safe(hook.id)) return result(DeliveryOutcome::kPermanentFailure, 0, "webhook-id must be printable ASCII");

  // ---- the addresses: resolved here, each judged by the guard ----
  std::vector<network::IpAddress> addresses;
  const bool literal = network::parse_ip(host).has_value();
  if (literal) {
    addresses.push_back(*network::parse_ip(host));
  } else {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
    if (rc != 0)
      return result(DeliveryOutcome::kRetry, 0, "cannot resolve " + one_line(host, 100) + ": " + gai_strerror(rc));
    for (addrinfo* a = found; a != nullptr; a = a->ai_next)
      if (auto ip = network::ip_of(a->ai_addr);
          ip && std::find(addresses.begin(), addresses.end(), *ip) == addresses.end())
        addresses.push_back(*ip);
    ::freeaddrinfo(found);
  }
  std::vector<network::IpAddress> allowed;
  std::optional<std::string> first_refusal;
  for (const auto& a : addresses) {
    if (auto why = guard_.refusal(a)) {
      if (!first_refusal) first_refusal = std::move(why);
    } else {
      allowed.push_back(a);
    }
  }
  if (allowed.empty())
    return result(DeliveryOutcome::kPermanentFailure, 0,
                  first_refusal ? "refused: " + *first_refusal : "no address for " + one_line(host, 100));

  // ---- the request ----
  const std::int64_t timestamp = wall_clock_();
  auto signature = security::sign_webhook(hook.secret, hook.id, timestamp, hook.body);
  if (!signature)
    return result(DeliveryOutcome::kPermanentFailure, 0, "the subscription's secret is not whsec_<base64>");
  Slist headers;
  bool built = append(headers, "content-type: application/json") && append(headers, "webhook-id: " + hook.id) &&
               append(headers, "webhook-timestamp: " + std::to_string(timestamp)) &&
               append(headers, "webhook-signature: " + *signature) &&
               append(headers, "Expect:");  // no 100-continue round trip for larger bodies
  Slist resolve;
  if (built && !literal) {
    // Pin host:port to the checked addresses; an entry for the same pair replaces the former one.
    std::string entry = host + ":" + port + ":";
    for (std::size_t i = 0; i < allowed.size(); ++i) {
      if (i > 0) entry += ',';
      entry += allowed[i].v4 ? allowed[i].to_string() : "[" + allowed[i].to_string() + "]";
    }
    built = append(resolve, entry);
  }
  if (!built) return result(DeliveryOutcome::kRetry, 0, "out of memory");

  State& s = *state_;
  CURL* c = s.curl;
  s.body.clear();
  s.truncated = false;
  s.refused.reset();
  s.error[0] = '\0';
  s.resolve = std::move(resolve);  // libcurl reads the list during the transfer; kept until the next
  curl_easy_setopt(c, CURLOPT_CURLU, url.get());
  curl_easy_setopt(c, CURLOPT_RESOLVE, s.resolve.get());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, hook.body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(hook.body.size()));
  CURLcode code = curl_easy_perform(c);
  // The handle must not point at this call's locals once it returns.
  curl_easy_setopt(c, CURLOPT_CURLU, nullptr);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, nullptr);

  // ---- the outcome ----
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  const bool answered = code == CURLE_OK || (code == CURLE_WRITE_ERROR && s.truncated);
  if (!answered && s.refused) return result(DeliveryOutcome::kPermanentFailure, 0, "refused: " + *s.refused);
  if (!answered || status < 200) {
    if (code == CURLE_UNSUPPORTED_PROTOCOL || code == CURLE_URL_MALFORMAT)
      return result(DeliveryOutcome::kPermanentFailure, 0, curl_easy_strerror(code));
    std::string text = s.error[0] != '\0' ? std::string(s.error) : std::string(curl_easy_strerror(code));
    return result(DeliveryOutcome::kRetry, static_cast<int>(status), one_line(text, 300));
  }
  const int http = static_cast<int>(status);
  std::string detail = "HTTP " + std::to_string(http);
  if (http >= 200 && http < 300) return result(DeliveryOutcome::kDelivered, http, detail);
  if (http >= 300 && http < 400) {
    char* location = nullptr;
    curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &location);
    detail += ": redirects are not followed";
    if (location != nullptr) detail += " (to " + one_line(location, 200) + "); change the subscription's URL";
    return result(DeliveryOutcome::kRetry, http, detail);
  }
  if (!s.body.empty()) detail += ": " + one_line(s.body, kDetailBodyBytes);
  if (http == 410) return result(DeliveryOutcome::kGone, http, detail);
  DeliveryResult r = result(DeliveryOutcome::kRetry, http, detail);
  if (http == 429 || http == 503) {
    curl_header* header = nullptr;
    if (curl_easy_header(c, "Retry-After", 0, CURLH_HEADER, -1, &header) == CURLHE_OK && header != nullptr)
      r.retry_after = parse_retry_after(header->value, wall_clock_());
  }
  return r;
}

}  // namespace redress::webhooks
