// A browser's part in the console, for the web tests that drive its forms over the real socket:
// the cookies of one host, form bodies, the hidden fields of a page (the CSRF token), and signing
// in through the sign-in form.
//
// Header-only, over tests/web/support.h's Client. Not thread-safe: one jar per browser and thread.
#pragma once

#include <map>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "tests/web/support.h"
#include "web/pages/html.h"

namespace redress::webtest {

inline Headers form_type() { return {{"Content-Type", "application/x-www-form-urlencoded"}}; }

// An application/x-www-form-urlencoded body of `fields`, in their order.
inline std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [name, value] : fields)
    out += (out.empty() ? "" : "&") + web::form_encode(name) + "=" + web::form_encode(value);
  return out;
}

// The value attribute of the first hidden input called `name` (the page must have one).
inline std::string hidden(const std::string& html, const std::string& name) {
  std::smatch m;
  std::regex pattern("name=\"" + name + "\" value=\"([^\"]*)\"");
  REQUIRE(std::regex_search(html, m, pattern));
  return m[1];
}

// A browser's cookies, enough for one host: Set-Cookie values kept, Max-Age=0 deletes.
struct CookieJar {
  std::map<std::string, std::string> cookies;
  void take(const HttpResponse& response) {
    auto [begin, end] = response.headers.equal_range("set-cookie");
    for (auto it = begin; it != end; ++it) {
      std::string pair = it->second.substr(0, it->second.find(';'));
      auto eq = pair.find('=');
      if (it->second.find("Max-Age=0") != std::string::npos)
        cookies.erase(pair.substr(0, eq));
      else
        cookies[pair.substr(0, eq)] = pair.substr(eq + 1);
    }
  }
  Headers header() const {
    std::string value;
    for (const auto& [k, v] : cookies) value += (value.empty() ? "" : "; ") + k + "=" + v;
    return value.empty() ? Headers{} : Headers{{"Cookie", value}};
  }
};

// Signs in through the form; the jar holds the session afterwards. The answer is the form's (303
// on success).
inline HttpResponse sign_in(Client& client, CookieJar& jar, const std::string& email, const std::string& password,
                            const Headers& extra = {}) {
  auto form = client.get("/staff/login", jar.header());
  REQUIRE(form.status == 200);
  jar.take(form);
  auto answer = client.post(
      "/staff/login",
      form_encode({{"csrf", hidden(form.body, "csrf")}, {"next", "/staff"}, {"email", email}, {"password", password}}),
      form_type() + jar.header() + extra);
  jar.take(answer);
  return answer;
}

// Posts a console form with the session's CSRF token, read from `page` (the page the form is on).
inline HttpResponse post_form(Client& client, const CookieJar& jar, const std::string& path, const std::string& page,
                              std::vector<std::pair<std::string, std::string>> fields) {
  fields.emplace_back("csrf", hidden(page, "csrf"));
  return client.post(path, form_encode(fields), form_type() + jar.header());
}

}  // namespace redress::webtest
