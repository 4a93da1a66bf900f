#include "web/pages/html.h"
#include "web/text_rules.h"

#include <boost/beast/core/string.hpp>

#include <cstdio>

namespace redress::web {

namespace {

constexpr std::string_view kPolicy =
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "https://host:port" from a base URL (everything before the first '/' after the scheme).
std::string_view origin_of(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return url;
  auto path = url.find('/', scheme + 3);
  return path == std::string_view::npos ? url : url.substr(0, path);
}

}  // namespace

void set_security_headers(Response& response) {
  response.set("Content-Security-Policy", kPolicy);
  response.set("X-Content-Type-Options", "nosniff");
  response.set(http::field::x_frame_options, "DENY");
  // same-origin, not no-referrer: with no-referrer browsers send "Origin: null" on form posts,
  // which the same-origin check must refuse. Links elsewhere still get no referrer (no token leaks).
  response.set("Referrer-Policy", "same-origin");
  response.set(http::field::cache_control, "no-store");
  response.set("Cross-Origin-Opener-Policy", "same-origin");
}

Response html_response(http::status status, std::string body) {
  Response response{status, 11};
  response.set(http::field::content_type, "text/html; charset=utf-8");
  set_security_headers(response);
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

Response see_other(const std::string& location) {
  Response response{http::status::see_other, 11};
  response.set(http::field::location, location);
  set_security_headers(response);
  response.prepare_payload();
  return response;
}

std::optional<std::string> form_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      int high = hex_value(text[i + 1]), low = hex_value(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out += static_cast<char>(high * 16 + low);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::string form_encode(std::string_view text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Result<Form> Form::parse_text(std::string_view body) {
  Form form;
  while (!body.empty()) {
    auto amp = body.find('&');
    std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    auto name = form_decode(pair.substr(0, eq));
    auto value = form_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    if (!name || !value)
      return Error::invalid("the form has a broken percent escape", {FieldError{"body", "broken percent escape"}});
    if (valid_utf8(*name) != *name || valid_utf8(*value) != *value)
      return Error::invalid("the form field " + valid_utf8(*name) + " is not valid UTF-8",
                            {FieldError{valid_utf8(*name), "is not valid UTF-8"}});
    // The text rules of JSON bodies (text_rules.h) hold for forms too: a NUL byte would be stored
    // and written raw into pages and mail, and a bidirectional control can disguise a reference or
    // an address. A password is never shown, so it may carry any control but NUL.
    if (value->find('\0') != std::string::npos)
      return Error::invalid("the form field " + *name + " contains a NUL byte",
                            {FieldError{*name, "must not contain a NUL byte"}});
    if (*name != "password")
      if (char32_t control = forbidden_bidi_control(*name, *value); control != 0) {
        char code[16];
        std::snprintf(code, sizeof code, "U+%04X", static_cast<unsigned>(control));
        return Error::invalid("the form field " + *name + " contains the bidirectional control " + code,
                              {FieldError{*name, std::string("must not contain the bidirectional control ") + code}});
      }
    form.fields_.emplace(std::move(*name), std::move(*value));
  }
  return form;
}

Result<Form> Form::parse(const Request& request) {
  auto type = request[http::field::content_type];
  std::string_view media(type.data(), type.size());
  media = media.substr(0, media.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  if (is_multipart_form(media)) {
    auto multipart = MultipartForm::parse(std::string_view(type.data(), type.size()), request.body());
    if (!multipart) return multipart.error();
    Form form;
    form.fields_ = multipart->fields();
    form.files_ = multipart->files();
    return form;
  }
  if (!request.body().empty() && !boost::beast::iequals(media, std::string_view("application/x-www-form-urlencoded")))
    return Error::invalid("send the form as application/x-www-form-urlencoded or multipart/form-data",
                          {FieldError{"body", "not a form"}});
  return parse_text(request.body());
}

const std::string& Form::get(const std::string& name) const {
  static const std::string empty;
  auto it = fields_.find(name);
  return it == fields_.end() ? empty : it->second;
}

std::optional<std::string> cookie_value(const Request& request, std::string_view name) {
  for (auto it = request.find(http::field::cookie); it != request.end() && it->name() == http::field::cookie; ++it) {
    std::string_view header(it->value().data(), it->value().size());
    while (!header.empty()) {
      auto semicolon = header.find(';');
      std::string_view pair = header.substr(0, semicolon);
      header = semicolon == std::string_view::npos ? std::string_view() : header.substr(semicolon + 1);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      auto eq = pair.find('=');
      if (eq == std::string_view::npos) continue;
      if (pair.substr(0, eq) == name) return std::string(pair.substr(eq + 1));
    }
  }
  return std::nullopt;
}

std::string set_cookie(std::string_view name, std::string_view value, long max_age_seconds, CookieSecurity security) {
  std::string out = std::string(name) + "=" + std::string(value) +
                    "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age_seconds);
  if (security == CookieSecurity::kSecure) out += "; Secure";
  return out;
}

bool same_origin_post(const Request& request, std::string_view base_url) {
  auto site = request["Sec-Fetch-Site"];
  std::string_view fetch_site(site.data(), site.size());
  if (!fetch_site.empty() && fetch_site != "same-origin" && fetch_site != "none") return false;
  auto origin_header = request[http::field::origin];
  std::string_view origin(origin_header.data(), origin_header.size());
  if (origin.empty()) return true;
  if (boost::beast::iequals(origin, origin_of(base_url))) return true;
  // Behind no proxy, the Host the browser used is the origin too ("http://" + Host).
  auto host = request[http::field::host];
  std::string_view host_text(host.data(), host.size());
  return !host_text.empty() &&
         (origin == "http://" + std::string(host_text) || origin == "https://" + std::string(host_text));
}

std::string duration_text(Duration d) {
  using namespace std::chrono;
  bool negative = d < Duration::zero();
  auto s = duration_cast<seconds>(negative ? -d : d).count();
  char buffer[64];
  if (s < 60)
    std::snprintf(buffer, sizeof buffer, "%lld s", static_cast<long long>(s));
  else if (s < 3600)
    std::snprintf(buffer, sizeof buffer, "%lld min", static_cast<long long>(s / 60));
  else if (s < 86400)
    std::snprintf(buffer, sizeof buffer, "%lld h %lld min", static_cast<long long>(s / 3600),
                  static_cast<long long>(s % 3600 / 60));
  else
    std::snprintf(buffer, sizeof buffer, "%lld d %lld h", static_cast<long long>(s / 86400),
                  static_cast<long long>(s % 86400 / 3600));
  return (negative ? "-" : "") + std::string(buffer);
}

namespace {

// A plain number ("-12.5", "+3", "40%"): data a spreadsheet reads as a number, never a formula.
bool csv_plain_number(std::string_view text) {
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) text.remove_prefix(1);
  if (!text.empty() && text.back() == '%') text.remove_suffix(1);
  if (text.empty() || text.front() == '.' || text.back() == '.') return false;
  std::size_t marks = 0;
  for (char c : text) {
    if (c == '.')
      ++marks;
    else if (c < '0' || c > '9')
      return false;
  }
  return marks <= 1;
}

// Whether a spreadsheet could read `text` as a formula (OWASP, CSV Injection): its first character
// is = + - @ % (or their fullwidth forms), a tab, CR or LF, or one of those comes after leading
// white space or invisible characters (space, NBSP, zero-width space, byte-order mark), which
// spreadsheets skip.
bool csv_formula_like(std::string_view text) {
  if (text.empty()) return false;
  if (text.front() == '\t' || text.front() == '\r' || text.front() == '\n') return true;
  static constexpr std::string_view kSkipped[] = {" ", "\xC2\xA0", "\xE2\x80\x8B", "\xEF\xBB\xBF"};
  static constexpr std::string_view kTriggers[] = {
      "=", "+", "-", "@", "%", "\xEF\xBC\x9D", "\xEF\xBC\x8B", "\xEF\xBC\x8D", "\xEF\xBC\xA0", "\t", "\r", "\n"};
  for (bool skipped = true; skipped;) {
    skipped = false;
    for (auto blank : kSkipped)
      if (text.starts_with(blank)) {
        text.remove_prefix(blank.size());
        skipped = true;
      }
  }
  for (auto trigger : kTriggers)
    if (text.starts_with(trigger)) return true;
  return false;
}

}  // namespace

std::string csv_field(std::string_view text) {
  std::string value(text);
  // A number (or a lone dash for "none") is data, not a formula.
  bool defused = value != "-" && !csv_plain_number(value) && csv_formula_like(value);
  if (defused) value.insert(0, "'");
  if (!defused && value.find_first_of(",;\"\r\n\t") == std::string::npos) return value;
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace redress::web
