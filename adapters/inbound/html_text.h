// HTML to readable plain text, for mail that has no text/plain part.
//
// The HTML is parsed by libxml2's HTML parser (recovering from broken markup) and the tree is
// rendered the way a reader would see it: block elements (p, div, headings, tables' rows) end
// lines, <br> breaks one, list items get bullets ("• ", or "1. " in an ordered list), a link keeps
// its URL after its text ("text (https://…)"), <blockquote> lines are prefixed with "> " (so
// quoting.h folds them like a plain-text quote), <pre> keeps its spacing, and script, style,
// head and template are dropped. Entities are decoded. Never regular expressions.
// Pure functions; thread-safe (libxml2 is initialised once, on first use).
#pragma once

#include <string>
#include <string_view>

namespace redress::inbound {

// `html` is UTF-8 (a <meta charset> inside it is ignored). The result is UTF-8 with "\n" line
// ends, no trailing spaces on a line, no more than one blank line in a row, and no leading or
// trailing blank lines.
[[nodiscard]] std::string html_to_text(std::string_view html);

}  // namespace redress::inbound
