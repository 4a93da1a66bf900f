#include <boost/json.hpp>

#include <string_view>

#include "engine/actions.h"
#include "engine/tags.h"
#include "tests/fuzz/targets.h"
#include "tests/fuzz/text.h"
#include "web/router.h"

namespace redress::fuzz {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxDepth = 32;  // the server's limit (web/router.h)

// The nesting depth of a value: 0 for a scalar, 1 for a flat array or object.
std::size_t depth(const json::value& v) {
  std::size_t deepest = 0;
  if (v.is_object())
    for (const auto& member : v.get_object()) deepest = std::max(deepest, depth(member.value()));
  else if (v.is_array())
    for (const auto& element : v.get_array()) deepest = std::max(deepest, depth(element));
  else
    return 0;
  return deepest + 1;
}

// A decoder's refusal is a validation error naming at least one field.
void check_refusal(const Error& error) {
  FUZZ_CHECK(error.code == ErrorCode::kInvalid);
  FUZZ_CHECK(!error.fields.empty());
  FUZZ_CHECK(!error.detail.empty());
  // The field may be "": a body may use the empty key, and is then told that it is unknown.
  for (const auto& f : error.fields) FUZZ_CHECK(!f.message.empty());
}

void check_text(const std::string& s, std::size_t max) {
  FUZZ_CHECK(s.size() <= max);
  FUZZ_CHECK(strict_utf8(s));
}

void check_new_case(const NewCase& c) {
  for (const std::string* s : {&c.client.name, &c.client.email, &c.subject}) {
    check_text(*s, kMaxShortText);
    FUZZ_CHECK(s->find_first_not_of(" \t\r\n") != std::string::npos);  // required: not blank
    for (char ch : *s) FUZZ_CHECK(static_cast<unsigned char>(ch) >= 0x20 || ch == '\t' || ch == '\n' || ch == '\r');
  }
  FUZZ_CHECK(c.client.email.find('@') != std::string::npos);
  check_text(c.category, 64);
  check_text(c.touchpoint, 64);
  check_text(c.workflow, 64);
  check_text(c.client.phone, 40);
  check_text(c.client.locale, 35);
  check_text(c.description, kMaxLongText);
  check_text(c.remedy_requested, kMaxLongText);
}

void check_action(const ActionRequest& a) {
  if (a.expected_version) FUZZ_CHECK(*a.expected_version >= 0);
  if (a.rating) FUZZ_CHECK(*a.rating >= 1 && *a.rating <= 5);
  if (a.level) FUZZ_CHECK(*a.level >= 1);
  for (const std::string* s : {&a.note, &a.reason, &a.final_response, &a.body, &a.text, &a.comment})
    check_text(*s, kMaxLongText);
  check_text(a.owner, kMaxShortText);
  for (const auto& offer : a.offers) {
    if (offer.amount_minor) FUZZ_CHECK(*offer.amount_minor >= 0);
    check_text(offer.text, kMaxLongText);
  }
  // Tags come out valid, lowercased, sorted and once each; a case reference without spaces.
  FUZZ_CHECK(a.tags.size() <= kMaxTagsPerRequest);
  for (std::size_t i = 0; i < a.tags.size(); ++i) {
    auto normal = normalize_tag(a.tags[i]);
    FUZZ_CHECK(normal.ok() && *normal == a.tags[i]);
    if (i > 0) FUZZ_CHECK(a.tags[i - 1] < a.tags[i]);
  }
  FUZZ_CHECK(a.other_case.size() <= 64 && a.other_case.find(' ') == std::string::npos);
}

}  // namespace

int api_body(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = web::parse_json_object(text, kMaxDepth);
  if (!parsed) {
    FUZZ_CHECK(!parsed.error().fields.empty());
    return 0;
  }
  const json::object& body = *parsed;
  FUZZ_CHECK(depth(json::value(body)) <= kMaxDepth);

  if (auto c = decode_new_case(body))
    check_new_case(*c);
  else
    check_refusal(c.error());

  if (auto a = decode_action(body))
    check_action(*a);
  else
    check_refusal(a.error());

  for (int t = 0; t < kActionTypeCount; ++t) {
    auto type = static_cast<ActionType>(t);
    auto a = decode_action_fields(type, body);
    if (!a) {
      check_refusal(a.error());
      continue;
    }
    FUZZ_CHECK(a->type == type);
    check_action(*a);
  }
  return 0;
}

}  // namespace redress::fuzz
