#include "web/text_rules.h"

#include <array>
#include <cstdio>
#include <string>

#include <boost/json/value.hpp>

namespace redress::web {

namespace json = boost::json;

namespace {

bool free_text_field(std::string_view field) {
  auto dot = field.rfind('.');
  std::string_view last = dot == std::string_view::npos ? field : field.substr(dot + 1);
  static constexpr std::array<std::string_view, 8> kFreeTexts{"description",    "remedy_requested", "note", "body",
                                                              "final_response", "reason",           "text", "comment"};
  for (auto name : kFreeTexts)
    if (last == name) return true;
  return false;
}

void collect_text_faults(const json::value& value, const std::string& path, std::vector<FieldError>& faults) {
  if (value.is_object()) {
    for (const auto& member : value.get_object()) {
      std::string key(member.key());
      collect_text_faults(member.value(), path.empty() ? key : path + "." + key, faults);
    }
  } else if (value.is_array()) {
    for (const auto& item : value.get_array()) collect_text_faults(item, path, faults);
  } else if (value.is_string()) {
    std::string_view text = value.get_string();
    std::string field = path.empty() ? "body" : path;
    if (text.find('\0') != std::string_view::npos) {
      faults.push_back(FieldError{field, "must not contain a NUL byte"});
    } else if (char32_t c = forbidden_bidi_control(field, text)) {
      char code[16];
      std::snprintf(code, sizeof code, "U+%04X", static_cast<unsigned>(c));
      faults.push_back(FieldError{field, std::string("must not contain the bidirectional control ") + code +
                                             ", which changes how the text around it is shown"});
    }
  }
}

}  // namespace

char32_t forbidden_bidi_control(std::string_view field, std::string_view text) {
  bool free_text = free_text_field(field);
  // Every control is three bytes in UTF-8: E2 80 AA..AE (U+202A..U+202E), E2 81 A6..A9 (U+2066..U+2069).
  for (std::size_t at = text.find('\xE2'); at != std::string_view::npos && at + 2 < text.size();
       at = text.find('\xE2', at + 1)) {
    auto second = static_cast<unsigned char>(text[at + 1]);
    auto third = static_cast<unsigned char>(text[at + 2]);
    char32_t c = 0;
    if (second == 0x80 && third >= 0xAA && third <= 0xAE) c = 0x2000 + (third - 0x80);
    if (second == 0x81 && third >= 0xA6 && third <= 0xA9) c = 0x2040 + (third - 0x80);
    if (c == 0) continue;
    bool override_control = c == 0x202D || c == 0x202E;
    if (override_control || !free_text) return c;
  }
  return 0;
}

std::vector<FieldError> text_faults(const json::object& body) {
  std::vector<FieldError> faults;
  for (const auto& member : body) collect_text_faults(member.value(), std::string(member.key()), faults);
  return faults;
}

}  // namespace redress::web
