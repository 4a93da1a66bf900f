#include "web/pages/page_templates.h"

#include <boost/json.hpp>

#include <fstream>
#include <sstream>

namespace redress::web {

namespace fs = std::filesystem;

namespace {

Result<std::string> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::invalid("page templates: cannot read " + path.string());
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

}  // namespace

fs::path PageTemplates::shipped_dir() {
  // The source tree's web/templates, named by the build (CMakeLists.txt), not by __FILE__, which
  // is only as absolute as the compiler was told.
  return fs::path(REDRESS_SOURCE_DIR) / "web" / "templates";
}

Result<PageTemplates> PageTemplates::load(const fs::path& dir, const i18n::Catalogues& catalogues) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Error::not_found("page templates: " + dir.string() + " is not a folder");
  PageTemplates out;
  std::map<std::string, std::string> pages;
  templating::PartialTexts partials;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".html") continue;
    auto text = read_file(entry.path());
    if (!text) return text.error();
    std::string stem = entry.path().stem().string();
    if (!stem.empty() && stem.front() == '_')
      partials[stem.substr(1)] = std::move(text).value();
    else
      pages[stem] = std::move(text).value();
  }
  if (ec) return Error::invalid("page templates: cannot list " + dir.string() + ": " + ec.message());
  if (!pages.contains("layout")) return Error::invalid("page templates in " + dir.string() + ": missing layout.html");
  for (const auto& [name, text] : partials)
    if (auto s = templating::check_template("_" + name + ".html", 1, text, partials); !s) return s.error();
  for (const auto& [name, text] : pages)
    if (auto s = templating::check_template(name + ".html", 1, text, partials); !s) return s.error();
  // Checked as written; each language's copy is translated from it and marked for rendering.
  for (const auto& language : catalogues.languages()) {
    Translated copy;
    for (const auto& [name, text] : partials) {
      auto translated = i18n::translate_template(text, *language, "_" + name + ".html");
      if (!translated) return translated.error();
      copy.partials[name] = templating::mark_standalone_lines(*translated);
    }
    for (const auto& [name, text] : pages) {
      auto translated = i18n::translate_template(text, *language, name + ".html");
      if (!translated) return translated.error();
      if (name == "layout")
        copy.layout = templating::mark_standalone_lines(*translated);
      else
        copy.pages[name] = templating::mark_standalone_lines(*translated);
    }
    out.languages_[language->tag()] = std::move(copy);
  }
  return out;
}

Result<std::string> PageTemplates::render(std::string_view page, const boost::json::object& data,
                                          std::string_view language) const {
  auto copy = languages_.find(language);
  if (copy == languages_.end()) copy = languages_.find("en");
  if (copy == languages_.end()) return Error::internal("page templates: no English copy was made");
  const Translated& set = copy->second;
  auto it = set.pages.find(page);
  if (it == set.pages.end()) return Error::internal("no page template \"" + std::string(page) + "\"");
  auto body = templating::render(it->second, data, set.partials, templating::Escaping::kHtml);
  if (!body) return body;
  // The layout sees only its own values (not the page's rows, which would be converted twice).
  boost::json::object outer;
  for (std::string_view key : {"title", "organisation", "body_class", "staff", "notice", "error", "error_fields",
                               "has_error_fields", "lang", "languages", "has_languages"})
    if (auto it = data.find(key); it != data.end()) outer[key] = it->value();
  if (!outer.contains("lang")) outer["lang"] = copy->first;
  outer["content"] = std::move(body).value();
  return templating::render(set.layout, outer, set.partials, templating::Escaping::kHtml);
}

}  // namespace redress::web
