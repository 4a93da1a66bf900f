#include "adapters/mail/templates.h"

#include "adapters/templating/mustache.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <memory>
#include <sstream>
#include <unordered_map>

namespace redress::mail {

namespace {

using templating::check_template;
using templating::Escaping;
using templating::mark_standalone_lines;
namespace fs = std::filesystem;

std::string read_file(const fs::path& path, bool& ok) {
  std::ifstream in(path, std::ios::binary);
  ok = static_cast<bool>(in);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
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

}  // namespace

const std::vector<std::string>& MailTemplates::required_names() {
  static const std::vector<std::string> kNames = {
      "client.received",
      "client.acknowledged",
      "client.owner_changed",
      "client.info_requested",
      "client.message",
      "client.commitment_made",
      "client.commitment_renegotiated",
      "client.commitment_broken",
      "client.redress_proposed",
      "client.redress_accepted",
      "client.final_response",
      "client.summary_resolution",
      "client.reopened",
      "client.closed",
      "client.merged",
      "staff.assigned",
      "staff.client_message",
      "staff.message_held",
      "staff.redress_rejected",
      "staff.reopened",
      "staff.escalated",
      "staff.escalation_requested",
      "staff.holding_reply_due",
      "staff.commitment_at_risk",
      "staff.commitment_broken",
      "manager.digest",
  };
  return kNames;
}

fs::path MailTemplates::shipped_dir() {
  // The source tree's templates/email, named by the build (CMakeLists.txt): __FILE__ is only as
  // absolute as the compiler was told, and a compiler cache may hand it a relative path.
  return fs::path(REDRESS_SOURCE_DIR) / "templates" / "email";
}

Result<MailTemplates> MailTemplates::load(const fs::path& dir, const i18n::Catalogues& catalogues) {
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
    if (first.rfind("Subject:", 0) != 0) return Error::invalid(file + ":1: the first line must be \"Subject: ...\"");
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
      return Error::invalid(file + ": an HTML body needs " + path.stem().string() +
                            ".txt beside it (the subject and the text part)");
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
  // Checked as written (so errors name the lines the editor sees); each language's copy is
  // translated from it and kept marked for rendering.
  for (const auto& language : catalogues.languages()) {
    Translated copy;
    auto translate = [&](const std::string& text, const std::string& file) -> Result<std::string> {
      auto translated = i18n::translate_template(text, *language, file);
      if (!translated) return translated.error();
      return mark_standalone_lines(*translated);
    };
    for (const auto& [name, source] : out.templates_) {
      Source translated;
      // The subject has no standalone lines to mark: translated as it is.
      auto subject = i18n::translate_template(source.subject, *language, name + ".txt");
      auto text = translate(source.text, name + ".txt");
      auto html = translate(source.html, name + ".html");
      if (!subject) return subject.error();
      if (!text) return text.error();
      if (!html) return html.error();
      translated.subject = std::move(subject).value();
      translated.text = std::move(text).value();
      translated.html = std::move(html).value();
      copy.templates[name] = std::move(translated);
    }
    for (const auto& [name, text] : out.text_partials_) {
      auto translated = translate(text, "_" + name + ".txt");
      if (!translated) return translated.error();
      copy.text_partials[name] = std::move(translated).value();
    }
    for (const auto& [name, text] : out.html_partials_) {
      auto translated = translate(text, "_" + name + ".html");
      if (!translated) return translated.error();
      copy.html_partials[name] = std::move(translated).value();
    }
    out.languages_[language->tag()] = std::move(copy);
  }
  return out;
}

std::vector<std::string> MailTemplates::languages() const {
  std::vector<std::string> out{"en"};
  for (const auto& [tag, copy] : languages_)
    if (tag != "en") out.push_back(tag);
  return out;
}

bool MailTemplates::contains(std::string_view name) const { return templates_.find(name) != templates_.end(); }

std::vector<std::string> MailTemplates::names() const {
  std::vector<std::string> out;
  for (const auto& [name, source] : templates_) out.push_back(name);
  return out;
}

Result<RenderedMail> MailTemplates::render(std::string_view name, const boost::json::object& context,
                                          std::string_view language) const {
  auto copy = languages_.find(language);
  if (copy == languages_.end()) copy = languages_.find("en");
  if (copy == languages_.end()) return Error::internal("mail templates: no English copy was made");
  const Translated& set = copy->second;
  auto it = set.templates.find(name);
  if (it == set.templates.end())
    return Error::not_found("no mail template \"" + std::string(name) + "\" in " + dir_.string());
  const Source& source = it->second;
  RenderedMail out;
  out.language = copy->first;
  auto subject = templating::render(source.subject, context, {}, Escaping::kNone);
  if (!subject) return std::move(subject).take_error();
  // A subject is one line: whatever a variable brought in, line breaks become spaces.
  out.subject = std::move(subject).value();
  std::replace(out.subject.begin(), out.subject.end(), '\r', ' ');
  std::replace(out.subject.begin(), out.subject.end(), '\n', ' ');
  auto text = templating::render(source.text, context, set.text_partials, Escaping::kNone);
  if (!text) return std::move(text).take_error();
  out.text = tidy_text(text.value());
  if (!source.html.empty()) {
    auto html = templating::render(source.html, context, set.html_partials, Escaping::kHtml);
    if (!html) return std::move(html).take_error();
    out.html = std::move(html).value();
  }
  return out;
}

}  // namespace redress::mail
