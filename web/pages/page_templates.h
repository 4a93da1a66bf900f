// PageTemplates: the Mustache templates the pages are rendered from (web/templates).
//
// A folder holds `layout.html` (the document around every page; it places the page with
// {{{content}}}), one `<page>.html` per page, and partials `_<name>.html` used as {{> name}}.
// Every {{variable}} is HTML-escaped; the templates use {{{...}}} only for HTML the server built
// itself (the rendered page, SVG charts). Loading checks every file, so a broken edit is refused at
// start-up. Immutable once loaded; render() is thread-safe.
//
// Text marked {{#t}}...{{/t}} is translated into each language of the catalogues given to load()
// (adapters/i18n/catalogues.h), once, there: the client's pages (the status page, the complaint
// form, the layout around them) are rendered in the client's language; the staff pages, which
// mark nothing, are the same in every language.
#pragma once

#include <boost/json/object.hpp>

#include <filesystem>
#include <string>
#include <string_view>

#include "adapters/i18n/catalogues.h"
#include "adapters/templating/mustache.h"
#include "engine/result.h"

namespace redress::web {

class PageTemplates {
 public:
  // The templates shipped in the source tree (web/templates).
  [[nodiscard]] static std::filesystem::path shipped_dir();
  // kInvalid naming the file and line of the first problem, or a translation that breaks a
  // template; kNotFound when `dir` is not a folder.
  [[nodiscard]] static Result<PageTemplates> load(const std::filesystem::path& dir,
                                                  const i18n::Catalogues& catalogues = i18n::Catalogues());

  // The page inside the layout, in `language` (a loaded catalogue's tag; English otherwise). The
  // page sees all of `data`; the layout sees title, organisation, body_class, staff, notice, error,
  // error_fields, has_error_fields, lang, languages, has_languages and the rendered `content`.
  [[nodiscard]] Result<std::string> render(std::string_view page, const boost::json::object& data,
                                           std::string_view language = "en") const;
  [[nodiscard]] bool contains(std::string_view page) const {
    return languages_.begin()->second.pages.find(page) != languages_.begin()->second.pages.end();
  }

 private:
  // One language's copy of every page, the layout and the partials, marked for rendering.
  struct Translated {
    std::map<std::string, std::string, std::less<>> pages;  // by page name
    std::string layout;
    templating::PartialTexts partials;
  };
  std::map<std::string, Translated, std::less<>> languages_;  // by tag; "en" always
};

}  // namespace redress::web
