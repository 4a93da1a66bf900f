// PageTemplates: the Mustache templates the pages are rendered from (web/templates).
//
// A folder holds `layout.html` (the document around every page; it places the page with
// {{{content}}}), one `<page>.html` per page, and partials `_<name>.html` used as {{> name}}.
// Every {{variable}} is HTML-escaped; the templates use {{{...}}} only for HTML the server built
// itself (the rendered page, SVG charts). Loading checks every file, so a broken edit is refused at
// start-up. Immutable once loaded; render() is thread-safe.
#pragma once

#include <boost/json/object.hpp>

#include <filesystem>
#include <string>
#include <string_view>

#include "adapters/templating/mustache.h"
#include "engine/result.h"

namespace redress::web {

class PageTemplates {
 public:
  // The templates shipped in the source tree (web/templates).
  [[nodiscard]] static std::filesystem::path shipped_dir();
  // kInvalid naming the file and line of the first problem; kNotFound when `dir` is not a folder.
  [[nodiscard]] static Result<PageTemplates> load(const std::filesystem::path& dir);

  // The page inside the layout. The page sees all of `data`; the layout sees title, organisation,
  // body_class, staff, notice, error, error_fields, has_error_fields and the rendered `content`.
  [[nodiscard]] Result<std::string> render(std::string_view page, const boost::json::object& data) const;
  [[nodiscard]] bool contains(std::string_view page) const { return pages_.find(page) != pages_.end(); }

 private:
  std::map<std::string, std::string, std::less<>> pages_;  // marked texts, by page name
  std::string layout_;
  templating::PartialTexts partials_;
};

}  // namespace redress::web
