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

Result<PageTemplates> PageTemplates::load(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Error::not_found("page templates: " + dir.string() + " is not a folder");
  PageTemplates out;
  std::map<std::string, std::string> pages;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".html") continue;
    auto text = read_file(entry.path());
    if (!text) return text.error();
    std::string stem = entry.path().stem().string();
    if (!stem.empty() && stem.front() == '_')
      out.partials_[stem.substr(1)] = std::move(text).value();
    else
      pages[stem] = std::move(text).value();
  }
  if (ec) return Error::invalid("page templates: cannot list " + dir.string() + ": " + ec.message());
  if (!pages.contains("layout")) return Error::invalid("page templates in " + dir.string() + ": missing layout.html");
  for (const auto& [name, text] : out.partials_)
    if (auto s = templating::check_template("_" + name + ".html", 1, text, out.partials_); !s) return s.error();
  for (const auto& [name, text] : pages)
    if (auto s = templating::check_template(name + ".html", 1, text, out.partials_); !s) return s.error();
  for (auto& [name, text] : out.partials_) text = templating::mark_standalone_lines(text);
  for (auto& [name, text] : pages) {
    if (name == "layout")
      out.layout_ = templating::mark_standalone_lines(text);
    else
      out.pages_[name] = templating::mark_standalone_lines(text);
  }
  return out;
}

Result<std::string> PageTemplates::render(std::string_view page, const boost::json::object& data) const {
  auto it = pages_.find(page);
  if (it == pages_.end()) return Error::internal("no page template \"" + std::string(page) + "\"");
  auto body = templating::render(it->second, data, partials_, templating::Escaping::kHtml);
  if (!body) return body;
  // The layout sees only its own values (not the page's rows, which would be converted twice).
  boost::json::object outer;
  for (std::string_view key :
       {"title", "organisation", "body_class", "staff", "notice", "error", "error_fields", "has_error_fields"})
    if (auto it = data.find(key); it != data.end()) outer[key] = it->value();
  outer["content"] = std::move(body).value();
  return templating::render(layout_, outer, partials_, templating::Escaping::kHtml);
}

}  // namespace redress::web
