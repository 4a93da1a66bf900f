// Canned replies, shared by the API (web/api_canned_replies.cpp) and the console (the case page's
// message form, and the admin pages in web/pages/canned_reply_pages.cpp): reading one an admin
// writes from JSON, checking its Mustache text, which cases it applies to, and rendering it for a
// case, as staff then edit it before sending (docs/canned-replies.md).
//
// A reply's text sees the variables of the client's mail (adapters/mail/mail_context.h) built from
// the case as stored: {{client.name}}, {{case.reference}}, {{owner.name}}, {{team}},
// {{final_response_due}}, {{#commitments_open}}{{text}} by {{due_local}}{{/commitments_open}},
// {{status_url}}... Dates are written for the client, in the case's workflow time zone. Rendered
// twice: as text, every value as it is (what goes into the message, and so into the mail's text
// part), and as HTML, every value escaped. Partials, {{{raw}}} and {{&raw}} values and delimiter
// changes are refused when the reply is written, as is a variable that is none of the above.
//
// Pure functions over the API's context; thread-safe as the API is.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/result.h"
#include "ports/canned_replies.h"
#include "web/api.h"

namespace redress::web {

// "cr-12" for id 12; parse accepts "cr-12" or "12".
[[nodiscard]] std::string canned_reply_display_id(std::int64_t id);
[[nodiscard]] std::optional<std::int64_t> parse_canned_reply_id(const std::string& text);

// The variables a reply may name outside a section (their first part: `client` in client.name).
[[nodiscard]] const std::vector<std::string>& canned_reply_variables();

// Checks a reply's Mustache text; kInvalid naming `field` with what is wrong.
[[nodiscard]] Status check_canned_reply_text(const std::string& text, const std::string& field = "body");

// A POST body {"title", "body", "workflow"?, "team"?} (`existing` null), or a PATCH body whose
// given fields replace `existing`'s; every unknown, mistyped, empty or invalid field named, a
// workflow that is not loaded refused.
[[nodiscard]] Result<CannedReply> canned_reply_from_json(ApiContext& api, const boost::json::object& body,
                                                         const CannedReply* existing);

// Whether `reply` is offered on `record`: its workflow is the case's (or empty), and its team the
// case's team (or the case's workflow's team when the case has none), or empty.
[[nodiscard]] bool canned_reply_applies(ApiContext& api, const CannedReply& reply, const Case& record);

struct RenderedReply {
  std::string text;  // values as they are: the message to edit and send
  std::string html;  // values HTML-escaped: for showing inside a page
};
// `reply` rendered for the case `view` shows. kInternal if Mustache fails at render time.
[[nodiscard]] Result<RenderedReply> render_canned_reply(ApiContext& api, const CannedReply& reply,
                                                        const CaseView& view);

// {"id": "cr-12", "title", "body", "workflow", "team", "created_by", "created_at", "updated_by",
// "updated_at"}.
[[nodiscard]] boost::json::object canned_reply_json(const CannedReply& reply);

}  // namespace redress::web
