#include "adapters/templating/mustache.h"

#include <kainjow/mustache.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <memory>
#include <sstream>
#include <unordered_map>
#include <vector>

namespace redress::templating {

namespace mustache = kainjow::mustache;
namespace fs = std::filesystem;

namespace {

// Partials come from the template folder, never from the data: a context key cannot stand in
// for a partial, and a partial's name cannot hide a variable.
class PartialContext : public mustache::context<std::string> {
 public:
  PartialContext(const mustache::data* data, const std::map<std::string, mustache::data, std::less<>>& partials)
      : mustache::context<std::string>(data), partials_(partials) {}
  const mustache::data* get_partial(const std::string& name) const override {
    auto it = partials_.find(name);
    return it == partials_.end() ? nullptr : &it->second;
  }

 private:
  const std::map<std::string, mustache::data, std::less<>>& partials_;
};

mustache::data to_data(const boost::json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::object: {
      mustache::data out{mustache::data::type::object};
      for (const auto& [key, item] : value.get_object()) out.set(std::string(key), to_data(item));
      return out;
    }
    case boost::json::kind::array: {
      mustache::data out{mustache::data::type::list};
      for (const auto& item : value.get_array()) out.push_back(to_data(item));
      return out;
    }
    case boost::json::kind::string: return mustache::data{std::string(value.get_string())};
    case boost::json::kind::bool_: return mustache::data{value.get_bool()};
    case boost::json::kind::int64: return mustache::data{std::to_string(value.get_int64())};
    case boost::json::kind::uint64: return mustache::data{std::to_string(value.get_uint64())};
    case boost::json::kind::double_: {
      std::ostringstream s;
      s << value.get_double();
      return mustache::data{s.str()};
    }
    case boost::json::kind::null: return mustache::data{false};
  }
  return mustache::data{false};
}

std::string identity(const std::string& s) { return s; }

std::string escape_html_handler(const std::string& s) { return html_escape(s); }

}  // namespace

// Numeric references where HTML 4 has no entity (&apos;), for old mail clients.
std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

// The 1-based line of byte `offset` in `text`.
std::size_t line_of(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  return 1 +
         static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

// kainjow reports "<problem> at <offset>"; this names the file and line instead.
std::string located(const std::string& file, std::size_t first_line, std::string_view text,
                    const std::string& message) {
  std::string problem = message;
  std::size_t line = first_line;
  auto at = message.rfind(" at ");
  if (at != std::string::npos) {
    std::size_t offset = 0;
    const char* begin = message.data() + at + 4;
    const char* end = message.data() + message.size();
    auto [ptr, ec] = std::from_chars(begin, end, offset);
    if (ec == std::errc() && ptr == end) {
      problem = message.substr(0, at);
      line = first_line + line_of(text, offset) - 1;
    }
  }
  return file + ":" + std::to_string(line) + ": " + problem;
}

// The partial names that `text` uses ({{> name}}), with their offsets.
std::vector<std::pair<std::string, std::size_t>> partials_used(std::string_view text) {
  std::vector<std::pair<std::string, std::size_t>> out;
  std::size_t pos = 0;
  while ((pos = text.find("{{", pos)) != std::string_view::npos) {
    std::size_t start = pos;
    pos += 2;
    while (pos < text.size() && text[pos] == ' ') ++pos;
    if (pos >= text.size() || text[pos] != '>') continue;
    auto close = text.find("}}", pos);
    if (close == std::string_view::npos) break;
    std::string name(text.substr(pos + 1, close - pos - 1));
    name.erase(0, name.find_first_not_of(' '));
    name.erase(name.find_last_not_of(' ') + 1);
    out.emplace_back(std::move(name), start);
    pos = close + 2;
  }
  return out;
}

}  // namespace

Status check_template(const std::string& file, std::size_t first_line, const std::string& text,
                      const PartialTexts& partials) {
  mustache::mustache parsed{text};
  if (!parsed.is_valid()) return Error::invalid(located(file, first_line, text, parsed.error_message()));
  for (const auto& [name, offset] : partials_used(text))
    if (!partials.contains(name))
      return Error::invalid(file + ":" + std::to_string(first_line + line_of(text, offset) - 1) + ": no partial \"" +
                            name + "\" (a file _" + name + fs::path(file).extension().string() + ")");
  return Status::success();
}

// Mustache's standalone lines: a line holding only a section tag ({{#x}}, {{^x}}, {{/x}}) or a
// comment disappears whole. kainjow leaves an empty line where a skipped section stood, so such
// lines are marked before rendering and the lines left holding only marks are dropped after.
namespace {
constexpr char kMark = '\x01';
}  // namespace

std::string mark_standalone_lines(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 64);
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end == std::string_view::npos ? text.size() : end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    std::string_view trimmed = line;
    while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\t')) trimmed.remove_prefix(1);
    while (!trimmed.empty() && (trimmed.back() == ' ' || trimmed.back() == '\t' || trimmed.back() == '\r'))
      trimmed.remove_suffix(1);
    bool standalone = trimmed.size() > 4 && trimmed.substr(0, 2) == "{{" && trimmed.find("}}") == trimmed.size() - 2 &&
                      std::string_view("#^/!").find(trimmed[2]) != std::string_view::npos;
    if (standalone) {
      out += trimmed;
      out += kMark;
    } else {
      out += line;
    }
    if (end != std::string_view::npos) out += '\n';
  }
  return out;
}

namespace {

std::string drop_marked_lines(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end == std::string_view::npos ? text.size() : end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    bool marked = line.find(kMark) != std::string_view::npos;
    std::string kept;
    for (char c : line)
      if (c != kMark) kept += c;
    if (marked && kept.find_first_not_of(" \t\r") == std::string::npos) continue;
    out += kept;
    if (end != std::string_view::npos) out += '\n';
  }
  return out;
}

// Parsed templates, per thread (a parsed template is not safe to render from two threads at
// once), keyed by the template text and its escaping: parsing costs more than rendering.
mustache::mustache& parsed_template(const std::string& text, Escaping escaping) {
  thread_local std::unordered_map<std::string, std::unique_ptr<mustache::mustache>> cache;
  std::string key = (escaping == Escaping::kNone ? "t" : "h") + text;
  auto it = cache.find(key);
  if (it != cache.end()) return *it->second;
  if (cache.size() >= 512) cache.clear();  // bounded: templates are few; a folder reloaded often is not
  auto parsed = std::make_unique<mustache::mustache>(text);
  if (escaping == Escaping::kNone)
    parsed->set_custom_escape(identity);
  else
    parsed->set_custom_escape(escape_html_handler);
  return *cache.emplace(std::move(key), std::move(parsed)).first->second;
}

}  // namespace

Result<std::string> render(const std::string& text, const boost::json::object& json_data,
                           const PartialTexts& partial_texts, Escaping escaping) {
  mustache::data data = to_data(json_data);
  std::map<std::string, mustache::data, std::less<>> partials;
  for (const auto& [name, partial] : partial_texts) partials.emplace(name, mustache::data{partial});
  mustache::mustache& parsed = parsed_template(text, escaping);
  if (!parsed.is_valid()) return Error::internal(parsed.error_message());
  PartialContext context(&data, partials);
  std::string out = parsed.render(context);
  if (!parsed.is_valid()) {
    std::string message = parsed.error_message();
    // A failed render leaves the parsed template in an error state: parse it afresh next time.
    mustache::mustache fresh{text};
    if (escaping == Escaping::kNone)
      fresh.set_custom_escape(identity);
    else
      fresh.set_custom_escape(escape_html_handler);
    parsed = std::move(fresh);
    return Error::internal(message);
  }
  return drop_marked_lines(out);
}

}  // namespace redress::templating
