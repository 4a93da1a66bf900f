#include "adapters/mail/templates.h"

#include <kainjow/mustache.hpp>

#include <algorithm>
#include <memory>
#include <unordered_map>
#include <charconv>
#include <fstream>
#include <sstream>

namespace redress {

namespace {

namespace mustache = kainjow::mustache;
namespace fs = std::filesystem;

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

// HTML escaping with numeric references where HTML 4 has no entity (&apos;), for old mail clients.
std::string html_escape(const std::string& s) {
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

std::string read_file(const fs::path& path, bool& ok) {
  std::ifstream in(path, std::ios::binary);
  ok = static_cast<bool>(in);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// The 1-based line of byte `offset` in `text`.
std::size_t line_of(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  return 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

// kainjow reports "<problem> at <offset>"; this names the file and line instead.
std::string located(const std::string& file, std::size_t first_line, std::string_view text, const std::string& message) {
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

// Checks one template text: Mustache syntax and the partials it names.
Status check_template(const std::string& file, std::size_t first_line, const std::string& text,
                      const std::map<std::string, std::string, std::less<>>& partials) {
  mustache::mustache parsed{text};
  if (!parsed.is_valid()) return Error::invalid(located(file, first_line, text, parsed.error_message()));
  for (const auto& [name, offset] : partials_used(text))
    if (!partials.contains(name))
      return Error::invalid(file + ":" + std::to_string(first_line + line_of(text, offset) - 1) + ": no partial \"" + name +
                            "\" (a file _" + name + fs::path(file).extension().string() + ")");
  return Status::success();
}

// Mustache's standalone lines: a line holding only a section tag ({{#x}}, {{^x}}, {{/x}}) or a
// comment disappears whole. kainjow leaves an empty line where a skipped section stood, so such
// lines are marked before rendering and the lines left holding only marks are dropped after.
constexpr char kMark = '\x01';

std::string mark_standalone_lines(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 64);
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end == std::string_view::npos ? text.size() : end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    std::string_view trimmed = line;
    while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\t')) trimmed.remove_prefix(1);
    while (!trimmed.empty() && (trimmed.back() == ' ' || trimmed.back() == '\t' || trimmed.back() == '\r')) trimmed.remove_suffix(1);
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

// A text body never has two blank lines in a row (a variable that rendered empty leaves no hole)
// and ends with one line end.
std::string tidy_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  int newlines = 0;
  for (char c : text) {
    if (c == '\r') continue;
    if (c == '\n') {
      if (++newlines > 2) continue;
    } else {
      newlines = 0;
    }
    out += c;
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  out += '\n';
  return out;
}

enum class Escaping { kNone, kHtml };

// Parsed templates, per thread (a parsed template is not safe to render from two threads at
// once), keyed by the template text and its escaping: parsing costs more than rendering.
mustache::mustache& parsed_template(const std::string& text, Escaping escaping) {
  thread_local std::unordered_map<std::string, std::unique_ptr<mustache::mustache>> cache;
  std::string key = (escaping == Escaping::kNone ? "t" : "h") + text;
  auto it = cache.find(key);
  if (it != cache.end()) return *it->second;
  if (cache.size() >= 512) cache.clear();  // bounded: templates are few; a folder reloaded often is not
  auto parsed = std::make_unique<mustache::mustache>(text);
  if (escaping == Escaping::kNone) parsed->set_custom_escape(identity);
  else parsed->set_custom_escape(html_escape);
  return *cache.emplace(std::move(key), std::move(parsed)).first->second;
}

Result<std::string> render_one(const std::string& text, const mustache::data& data,
                               const std::map<std::string, mustache::data, std::less<>>& partials, Escaping escaping) {
  mustache::mustache& parsed = parsed_template(text, escaping);
  if (!parsed.is_valid()) return Error::internal(parsed.error_message());
  PartialContext context(&data, partials);
  std::string out = parsed.render(context);
  if (!parsed.is_valid()) {
    std::string message = parsed.error_message();
    // A failed render leaves the parsed template in an error state: parse it afresh next time.
    mustache::mustache fresh{text};
    if (escaping == Escaping::kNone) fresh.set_custom_escape(identity);
    else fresh.set_custom_escape(html_escape);
    parsed = std::move(fresh);
    return Error::internal(message);
  }
  return drop_marked_lines(out);
}

}  // namespace

const std::vector<std::string>& MailTemplates::required_names() {
  static const std::vector<std::string> kNames = {
      "client.received",           "client.acknowledged",       "client.owner_changed",
      "client.info_requested",     "client.message",            "client.commitment_made",
      "client.commitment_renegotiated", "client.commitment_broken", "client.redress_proposed",
      "client.redress_accepted",   "client.final_response",     "client.reopened",
      "client.closed",             "staff.assigned",            "staff.client_message",
      "staff.redress_rejected",    "staff.reopened",            "staff.escalated",
      "staff.commitment_at_risk",  "staff.commitment_broken",   "manager.digest",
  };
  return kNames;
}

fs::path MailTemplates::shipped_dir() {
  // This file is adapters/mail/templates.cpp; the templates are templates/email beside adapters/.
  return fs::path(__FILE__).parent_path().parent_path().parent_path() / "templates" / "email";
}

Result<MailTemplates> MailTemplates::load(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Error::not_found("mail templates: " + dir.string() + " is not a folder");
  MailTemplates out;
  out.dir_ = dir;

  std::vector<fs::path> texts, htmls;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file()) continue;
    const fs::path& path = entry.path();
    std::string stem = path.stem().string();
    std::string extension = path.extension().string();
    if (extension != ".txt" && extension != ".html") continue;
    if (!stem.empty() && stem.front() == '_') {
      bool read = false;
      std::string text = read_file(path, read);
      if (!read) return Error::invalid("mail templates: cannot read " + path.string());
      (extension == ".txt" ? out.text_partials_ : out.html_partials_)[stem.substr(1)] = std::move(text);
    } else {
      (extension == ".txt" ? texts : htmls).push_back(path);
    }
  }
  if (ec) return Error::invalid("mail templates: cannot list " + dir.string() + ": " + ec.message());
  std::sort(texts.begin(), texts.end());
  std::sort(htmls.begin(), htmls.end());

  for (const auto& path : texts) {
    std::string file = path.filename().string();
    bool read = false;
    std::string content = read_file(path, read);
    if (!read) return Error::invalid("mail templates: cannot read " + path.string());
    std::size_t newline = content.find('\n');
    std::string first = content.substr(0, newline);
    if (!first.empty() && first.back() == '\r') first.pop_back();
    if (first.rfind("Subject:", 0) != 0)
      return Error::invalid(file + ":1: the first line must be \"Subject: ...\"");
    Source source;
    source.subject = first.substr(8);
    source.subject.erase(0, source.subject.find_first_not_of(" \t"));
    if (source.subject.empty()) return Error::invalid(file + ":1: the subject is empty");
    if (auto s = check_template(file, 1, source.subject, {}); !s) return s.error();
    // The body starts after the subject line and one optional blank line.
    std::string body = newline == std::string::npos ? std::string() : content.substr(newline + 1);
    std::size_t body_line = 2;
    std::size_t blank = body.rfind("\r\n", 0) == 0 ? 2 : body.rfind("\n", 0) == 0 ? 1 : 0;
    if (blank > 0) {
      body.erase(0, blank);
      body_line = 3;
    }
    if (auto s = check_template(file, body_line, body, out.text_partials_); !s) return s.error();
    source.text = std::move(body);
    out.templates_[path.stem().string()] = std::move(source);
  }
  for (const auto& path : htmls) {
    std::string file = path.filename().string();
    auto it = out.templates_.find(path.stem().string());
    if (it == out.templates_.end())
      return Error::invalid(file + ": an HTML body needs " + path.stem().string() + ".txt beside it (the subject and the text part)");
    bool read = false;
    std::string content = read_file(path, read);
    if (!read) return Error::invalid("mail templates: cannot read " + path.string());
    if (auto s = check_template(file, 1, content, out.html_partials_); !s) return s.error();
    it->second.html = std::move(content);
  }
  for (const auto& [name, text] : out.text_partials_)
    if (auto s = check_template("_" + name + ".txt", 1, text, out.text_partials_); !s) return s.error();
  for (const auto& [name, text] : out.html_partials_)
    if (auto s = check_template("_" + name + ".html", 1, text, out.html_partials_); !s) return s.error();

  std::string missing;
  for (const auto& name : required_names())
    if (!out.templates_.contains(name)) missing += (missing.empty() ? "" : ", ") + name + ".txt";
  if (!missing.empty()) return Error::invalid("mail templates in " + dir.string() + ": missing " + missing);
  // Checked as written (so errors name the lines the editor sees); kept marked for rendering.
  for (auto& [name, source] : out.templates_) {
    source.text = mark_standalone_lines(source.text);
    source.html = mark_standalone_lines(source.html);
  }
  for (auto& [name, text] : out.text_partials_) text = mark_standalone_lines(text);
  for (auto& [name, text] : out.html_partials_) text = mark_standalone_lines(text);
  return out;
}

bool MailTemplates::contains(std::string_view name) const { return templates_.find(name) != templates_.end(); }

std::vector<std::string> MailTemplates::names() const {
  std::vector<std::string> out;
  for (const auto& [name, source] : templates_) out.push_back(name);
  return out;
}

Result<RenderedMail> MailTemplates::render(std::string_view name, const boost::json::object& context) const {
  auto it = templates_.find(name);
  if (it == templates_.end()) return Error::not_found("no mail template \"" + std::string(name) + "\" in " + dir_.string());
  const Source& source = it->second;
  mustache::data data = to_data(context);
  std::map<std::string, mustache::data, std::less<>> no_partials, text_partials, html_partials;
  for (const auto& [partial, text] : text_partials_) text_partials.emplace(partial, mustache::data{text});
  for (const auto& [partial, text] : html_partials_) html_partials.emplace(partial, mustache::data{text});

  RenderedMail out;
  auto subject = render_one(source.subject, data, no_partials, Escaping::kNone);
  if (!subject) return std::move(subject).take_error();
  // A subject is one line: whatever a variable brought in, line breaks become spaces.
  out.subject = std::move(subject).value();
  std::replace(out.subject.begin(), out.subject.end(), '\r', ' ');
  std::replace(out.subject.begin(), out.subject.end(), '\n', ' ');
  auto text = render_one(source.text, data, text_partials, Escaping::kNone);
  if (!text) return std::move(text).take_error();
  out.text = tidy_text(text.value());
  if (!source.html.empty()) {
    auto html = render_one(source.html, data, html_partials, Escaping::kHtml);
    if (!html) return std::move(html).take_error();
    out.html = std::move(html).value();
  }
  return out;
}

}  // namespace redress
