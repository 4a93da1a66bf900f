// Text rules the web layer adds to the engine's field checks, for every string of a JSON body
// (API routes, and the case fields an intake hook's mapping made): no NUL byte anywhere (it would
// be stored and written raw into pages and mail), and no Unicode bidirectional control where it
// could disguise what a reader sees (docs/security.md, "Text in requests"):
//   - overrides U+202D and U+202E: refused in every field;
//   - embeddings U+202A-U+202C and isolates U+2066-U+2069: refused in every field except the long
//     free texts (description, remedy_requested, note, body, final_response, reason, text,
//     comment), where a right-to-left writer may need them.
// Pure functions; thread-safe.
#pragma once

#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "engine/result.h"

namespace redress::web {

// Every string in `body` (nested objects and arrays too) that breaks a rule, named by its dotted
// path ("client.name"; an array's elements by the array's name); empty when none does.
[[nodiscard]] std::vector<FieldError> text_faults(const boost::json::object& body);

// The first bidirectional control in `text` (U+202A-U+202E, U+2066-U+2069) that `field` may not
// carry, as its code point; 0 when there is none.
[[nodiscard]] char32_t forbidden_bidi_control(std::string_view field, std::string_view text);

}  // namespace redress::web
