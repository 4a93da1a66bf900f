// The HTML side of the web layer: page responses with their security headers, redirects, form
// bodies (application/x-www-form-urlencoded), cookies, and the texts pages show for times, ages
// and money. Pure functions; thread-safe.
//
// Every page answer carries a Content-Security-Policy that allows only this origin's style sheet
// and script (no inline script, no framing, forms posting only here), nosniff, a referrer sent only
// to this origin (a client's private link is in its path) and no-store caching (pages show
// personal data).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/result.h"
#include "engine/time.h"
#include "web/http.h"
#include "web/multipart.h"

namespace redress::web {

[[nodiscard]] Response html_response(http::status status, std::string body);
// 303 See Other: the answer to a form post (post/redirect/get).
[[nodiscard]] Response see_other(const std::string& location);
void set_security_headers(Response& response);

// The fields of a form body, and its files when it is multipart/form-data (a form with
// <input type=file>, parsed by MultipartForm). kInvalid when the body is neither urlencoded nor
// multipart, a name repeats where it must not, a percent escape is broken, a value is not UTF-8, or
// a value breaks the text rules of JSON bodies (web/text_rules.h: no NUL byte; no bidirectional
// control outside the free texts).
class Form {
 public:
  [[nodiscard]] static Result<Form> parse(const Request& request);
  [[nodiscard]] static Result<Form> parse_text(std::string_view body);
  // The value of `name`, "" when absent.
  [[nodiscard]] const std::string& get(const std::string& name) const;
  [[nodiscard]] bool has(const std::string& name) const { return fields_.contains(name); }
  [[nodiscard]] const std::multimap<std::string, std::string>& fields() const { return fields_; }
  // The files sent (multipart only); a file input left empty is none.
  [[nodiscard]] const std::vector<UploadedFile>& files() const { return files_; }

 private:
  std::multimap<std::string, std::string> fields_;
  std::vector<UploadedFile> files_;
};

// Percent-decodes a query or form component ('+' is a space). Nullopt for a broken escape.
[[nodiscard]] std::optional<std::string> form_decode(std::string_view text);
// A percent-encoded query component.
[[nodiscard]] std::string form_encode(std::string_view text);

// The value of cookie `name` in the request's Cookie header; nullopt when absent.
[[nodiscard]] std::optional<std::string> cookie_value(const Request& request, std::string_view name);
// A Set-Cookie value: HttpOnly, SameSite=Strict, Path=/, Secure when `secure`; `max_age` 0 deletes.
enum class CookieSecurity { kPlain, kSecure };
[[nodiscard]] std::string set_cookie(std::string_view name, std::string_view value, long max_age_seconds,
                                     CookieSecurity security);

// True when a form post comes from this site: no Origin header (old browsers, curl) or an Origin
// equal to `base_url`'s origin, and no Sec-Fetch-Site saying another site sent it.
[[nodiscard]] bool same_origin_post(const Request& request, std::string_view base_url);

// "3 h 20 min", "2 d 4 h", "45 s": an age or a remaining time, for tables.
[[nodiscard]] std::string duration_text(Duration d);
// A CSV field after OWASP's CSV-injection rules: a field a spreadsheet could run as a formula
// (starting with = + - @ % or their fullwidth forms, tab, CR or LF, also after leading spaces or
// invisible characters) gets a leading ' and is quoted; plain numbers ("-12.5", "40%") and a lone
// "-" stay data. A field holding a comma, semicolon, quote, tab or line break is quoted, quotes doubled.
[[nodiscard]] std::string csv_field(std::string_view text);

}  // namespace redress::web
