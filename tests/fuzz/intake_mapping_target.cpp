#include <boost/json.hpp>

#include <map>
#include <string>

#include "tests/fuzz/targets.h"
#include "web/intake.h"
#include "web/router.h"

namespace redress::fuzz {

namespace json = boost::json;

namespace {

// The [intake.web-form] source of examples/redress.toml.
web::IntakeSource default_source() {
  web::IntakeSource source;
  source.name = "web-form";
  source.channel = "web";
  source.category = "other";
  source.mapping = {{"client.name", "/complainant/name"},     {"client.email", "/complainant/email"},
                    {"client.phone", "/complainant/phone"},   {"client.locale", "/complainant/locale"},
                    {"category", "/complaint/category"},      {"touchpoint", "/complaint/where"},
                    {"subject", "/complaint/summary"},        {"description", "/complaint/details"},
                    {"remedy_requested", "/complaint/wanted"}};
  return source;
}

}  // namespace

// Input: optional mapping lines "field=/pointer" ended by a NUL byte, then the JSON payload.
int intake_mapping(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  web::IntakeSource source = default_source();
  auto nul = input.find('\0');
  if (nul != std::string_view::npos) {
    source.mapping.clear();
    std::string_view lines = input.substr(0, nul);
    input.remove_prefix(nul + 1);
    while (!lines.empty()) {
      auto end = lines.find('\n');
      std::string_view line = lines.substr(0, end);
      lines.remove_prefix(end == std::string_view::npos ? lines.size() : end + 1);
      auto eq = line.find('=');
      if (eq == std::string_view::npos) continue;
      std::string pointer(line.substr(eq + 1));
      // app/config.cpp accepts only pointers that are empty or start with '/'.
      if (!pointer.empty() && pointer.front() != '/') continue;
      source.mapping.emplace_back(std::string(line.substr(0, eq)), pointer);
    }
  }
  auto payload = web::parse_json_object(input, 32);
  if (!payload) return 0;
  const json::value document(std::move(*payload));
  auto mapped = web::map_intake_payload(source, document);
  if (!mapped) {
    FUZZ_CHECK(mapped.error().code == ErrorCode::kInvalid);
    FUZZ_CHECK(!mapped.error().fields.empty());
    return 0;
  }

  // The last string a target's pointer finds is the case's value for that target.
  std::map<std::string, std::string> expected;
  for (const auto& [target, pointer] : source.mapping) {
    boost::system::error_code ec;
    const json::value* v = document.find_pointer(pointer, ec);
    if (v && v->is_string()) expected[target] = std::string(v->get_string());
    // A mapped object or array would have been refused above.
    FUZZ_CHECK(!v || v->is_null() || v->is_string());
  }
  const NewCase& c = *mapped;
  auto same = [&](const char* target, const std::string& actual) {
    auto it = expected.find(target);
    if (it != expected.end()) FUZZ_CHECK(it->second == actual);
  };
  // A mapping of "client" itself replaces the whole object, so nested values are only
  // compared when nothing else was mapped onto their parent.
  if (!expected.count("client")) {
    same("client.name", c.client.name);
    same("client.email", c.client.email);
    same("client.phone", c.client.phone);
  }
  same("subject", c.subject);
  same("description", c.description);
  same("touchpoint", c.touchpoint);
  same("category", c.category);
  if (!expected.count("category")) FUZZ_CHECK(c.category == source.category);
  return 0;
}

}  // namespace redress::fuzz
