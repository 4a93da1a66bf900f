// Views: the JSON shapes of the v1 API (SPEC "HTTP API"), built from domain values.
// Pure functions; thread-safe. Internal data (notes, internal messages) appears only in the staff
// views; the client view is built from client-visible data alone.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/model.h"
#include "engine/workflow.h"
#include "ports/case_reader.h"
#include "ports/outbox_store.h"

namespace redress::web {

[[nodiscard]] boost::json::object commitment_json(const Commitment& commitment, const std::string& case_reference = {});
[[nodiscard]] boost::json::object redress_json(const Redress& redress);
// With `case_reference`, each file carries its staff download path
// (/v1/cases/{ref}/messages/{id}/attachments/{n}).
[[nodiscard]] boost::json::object message_json(const Message& message, const std::string& case_reference = {});
[[nodiscard]] boost::json::object event_json(const Event& event);
[[nodiscard]] boost::json::object case_summary_json(const Case& record, const std::optional<Staff>& owner);
// ["a", "b"] from a list of words (tags, references).
[[nodiscard]] boost::json::array string_array(const std::vector<std::string>& words);
// The touchpoints the API documents and the forms offer, with what each means in words:
// {"front_desk", "In one of our shops or offices"}, ...
[[nodiscard]] const std::vector<std::pair<std::string, std::string>>& touchpoint_names();
// The client's vulnerability flag ({driver, note, review_on}) or null: staff views only, never the client's.
[[nodiscard]] boost::json::value vulnerability_json(const Case& record);
// The staff view of one case; with its workflow, what its standard asks of it now
// (summary_resolution_until, holding_reply; standards_json).
[[nodiscard]] boost::json::object case_json(const CaseSnapshot& snapshot, const std::optional<Staff>& owner,
                                            const std::vector<std::string>& allowed_actions,
                                            const std::vector<Message>& messages, const Workflow* workflow = nullptr);
// What the case's standard asks of it: `summary_resolution_until` (null when the standard has no
// summary resolution, or its calendar does not cover the receipt) and `holding_reply` (null when
// the standard asks for none): {"clock", "due_at", "required", "sent_at", "letter"}.
[[nodiscard]] boost::json::object standards_json(const CaseSnapshot& snapshot, const Workflow* workflow);
// The client's view: nothing internal, never another case.
[[nodiscard]] boost::json::object client_view_json(const CaseSnapshot& snapshot, const std::optional<Staff>& owner,
                                                   const Workflow* workflow, const std::vector<Message>& messages,
                                                   const std::vector<std::string>& client_actions);

// A notification with its delivery attempts (staff and admin views; never the payload).
[[nodiscard]] boost::json::object notification_json(const NotificationView& view);

// The status in plain words, for clients.
[[nodiscard]] std::string status_text(CaseStatus status);

}  // namespace redress::web
