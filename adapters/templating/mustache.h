// Mustache rendering shared by the mail templates and the web pages (kainjow mustache underneath).
//
// Data is a JSON object: objects and arrays become sections, strings and numbers variables, false
// and null empty sections. Partials ({{> name}}) come only from the texts the caller loaded, never
// from the data, so a value cannot stand in for a partial. HTML escaping turns & < > " ' into
// references (&#39; rather than &apos;, for old mail clients); {{{raw}}} is never escaped.
// Standalone section and comment lines disappear whole, as the Mustache spec says.
//
// Parsed templates are cached per thread (a parsed kainjow template is not safe to render from two
// threads at once), so every function here is thread-safe.
#pragma once

#include <boost/json/object.hpp>

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

#include "engine/result.h"

namespace redress::templating {

enum class Escaping { kNone, kHtml };
// Partial texts by name, as loaded (marked with mark_standalone_lines).
using PartialTexts = std::map<std::string, std::string, std::less<>>;

[[nodiscard]] std::string html_escape(std::string_view text);

// Checks one template text as written: Mustache syntax and that every partial it names exists.
// The error names `file` and the line (counting from `first_line`) of the problem.
[[nodiscard]] Status check_template(const std::string& file, std::size_t first_line, const std::string& text,
                                    const PartialTexts& partials);

// Prepares a checked text for render(): marks its standalone lines.
[[nodiscard]] std::string mark_standalone_lines(std::string_view text);

// Renders a marked text. kInternal if Mustache fails at render time.
[[nodiscard]] Result<std::string> render(const std::string& marked_text, const boost::json::object& data,
                                         const PartialTexts& partials, Escaping escaping);

}  // namespace redress::templating
