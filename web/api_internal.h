// Internal to the v1 API (web/api*.cpp): the helpers its handlers share, and each resource's
// handlers, which register_api (web/api.cpp) lists in its route table. A handler decodes the
// request (query parameters through web/query.h), calls the Engine to change a case or the Store
// to read, and answers through its Reply exactly once, from any thread. Thread-safe as the API is.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "engine/actions.h"
#include "web/api.h"
#include "web/query.h"

namespace redress::web {

// ---- shared by the handlers (web/api_support.cpp) ----------------------------------------------

// A route's handler. The lists of handlers below declare functions of this type, each defined as
// `void name(ApiContext& api, const ContextPtr& ctx, Reply reply)`.
using ApiHandlerFunction = void(ApiContext& api, const ContextPtr& ctx, Reply reply);
using ApiHandler = ApiHandlerFunction*;

// 429 with Retry-After: an intake source or token went over intake_rate_per_minute.
[[nodiscard]] Response too_many(const RateLimiter::Verdict& verdict);
// 404 problem+json saying what was not found.
[[nodiscard]] Response not_found(const std::string& detail);
[[nodiscard]] std::optional<Staff> staff_or_none(StaffDirectory& staff, const std::string& id);
// If-Match: "7", W/"7", 7 or *. Nullopt for none or *; an error for anything else.
[[nodiscard]] Result<std::optional<std::int64_t>> if_match(const Request& request);
void set_etag(Response& response, std::int64_t version);
// A page of a list: {"items": [...], "next_cursor": "..." or null}.
[[nodiscard]] boost::json::object page_json(boost::json::array items, const std::string& next_cursor);

// Renders the answer to a committed change, on an I/O thread.
using Renderer = std::function<Response(const Committed&)>;
// The engine's callback that answers with `render` on an I/O thread once the change is committed
// (and with its problem+json when it is not).
[[nodiscard]] Engine::Callback answer_when_committed(ApiContext& api, Reply reply, Renderer render);
// The body of an action on `reference` with its {"letter", "variables"} made into the letter's
// text (web/letters.h: expand_letter), from the case as `view` shows it (read when null). A body
// without a letter is returned as it is.
[[nodiscard]] Result<boost::json::object> with_letter(ApiContext& api, const std::string& reference, ActionType type,
                                                      boost::json::object body, const CaseView* view = nullptr);

// Submits an action and answers with `render` once it is committed.
void run_action(ApiContext& api, ActionRequest request, Reply reply, Renderer render);
// An action from a route's body on `reference`, by the route's staff member, taking If-Match into
// account, submitted and answered with `render` once it is committed (or with why it is not valid).
// File `n` (0-based) of message `message_id` ("m-5") among `messages`, as a download; 404 when
// there is none, or when the message is internal and `visible` is kClient (what a client link sees).
[[nodiscard]] Response attachment_of(ApiContext& api, const std::vector<Message>& messages,
                                     const std::string& message_id, const std::string& n, Visibility visible);
void message_attachment(ApiContext& api, const ContextPtr& ctx, Reply reply);
void client_message_attachment(ApiContext& api, const ContextPtr& ctx, Reply reply);

// `attachments`: files already in the BlobStore for an add_message (web/attachments.h).
void run_staff_action(ApiContext& api, const ContextPtr& ctx, Reply reply, ActionType type,
                      const std::string& reference, Renderer render, std::vector<AttachmentRef> attachments = {});

// The page a list route asks for: its size (1-200, 50 by default) and cursor.
struct PageRequest {
  int limit = 50;
  std::string cursor;
};
[[nodiscard]] PageRequest page_request(QueryReader& query);
// The `owner` a list is filtered by: a staff id, or "me" for the caller.
[[nodiscard]] std::string owner_param(QueryReader& query, const RequestContext& ctx);
// Why a list could not be read: 400 invalid-query for a cursor this server did not issue.
[[nodiscard]] Response list_failure(const Error& error);

// The view of a case after `change`, made from the view `before` it was planned on (what
// Store::load_case_view would read now), without reading the case back; the owner is looked up
// when the change passed the case on. Nullopt when `before` is not the version the change was
// planned on (another change came between the read and the plan).
[[nodiscard]] std::optional<CaseView> view_after(ApiContext& api, const CaseView& before, const Change& change);

// ---- cases (web/api_cases.cpp) -----------------------------------------------------------------

ApiHandlerFunction create_case, list_cases, get_case, correct_case, act_on_case, case_events, case_notifications, add_message,
    make_commitment, offer_redress;

// ---- the desk: bulk actions, tags counted (web/api_desk.cpp) ------------------------------------

ApiHandlerFunction bulk_cases, tags_report;

// ---- commitments and redress by id (web/api_commitments.cpp) -----------------------------------

// keep_commitment, renegotiate_commitment: `type` on the commitment the route's {id} names.
void commitment_action(ApiContext& api, const ContextPtr& ctx, Reply reply, ActionType type);

ApiHandlerFunction list_commitments, handle_breach, fulfil_redress;

// ---- client links (web/api_client.cpp) ---------------------------------------------------------

// The client's reply, accepting or rejecting an offer ({id}), survey, withdrawal, reopening, a
// request for escalation.
void client_action(ApiContext& api, const ContextPtr& ctx, Reply reply, ActionType type);

ApiHandlerFunction create_client_link, revoke_client_link, client_case;

// ---- web hooks: subscriptions out, intake in (web/api_hooks.cpp) -------------------------------

ApiHandlerFunction create_subscription, list_subscriptions, delete_subscription, intake_hook;

// ---- staff administration: staff, tokens, teams (web/api_staff.cpp) ----------------------------

ApiHandlerFunction list_staff, add_staff_member, get_staff_member, change_staff_member, reset_password,
    list_staff_tokens, issue_staff_token, revoke_token, list_teams;

// ---- canned replies (web/api_canned_replies.cpp) -----------------------------------------------

ApiHandlerFunction list_canned_replies, add_canned_reply, get_canned_reply, change_canned_reply, delete_canned_reply,
    case_canned_replies, case_canned_reply;

// ---- saved views: the case list's filters under a name (web/api_views.cpp) ---------------------

ApiHandlerFunction list_saved_views, add_saved_view, delete_saved_view;

// ---- the outbox, the manual clock, operations (web/api_admin.cpp) ------------------------------

// ---- inbound email (web/api_inbound.cpp) --------------------------------------------------------

ApiHandlerFunction take_inbound_email, inbound_mail_records, message_original;

ApiHandlerFunction dead_notifications, retry_notifications, move_clock, health_check, metrics_exposition, export_subject_archive,
    openapi_document;

// ---- personal data: erasure, legal holds, redaction (web/api_privacy.cpp) ----------------------

ApiHandlerFunction erase_subject_request, list_erasures, set_legal_hold, lift_legal_hold, create_redaction;
// 403 problem+json: the case is restricted (an erasure request it must be kept from), with why.
[[nodiscard]] Response restricted_problem(ApiContext& api, const std::string& reference);
// Admins only may open a restricted case.
[[nodiscard]] bool may_see_restricted(const Actor& actor);
// Runs `handler` unless the route's case {ref} is restricted and the caller may not see it.
void guard_restricted(ApiContext& api, const ContextPtr& ctx, Reply reply, ApiHandler handler);
// A case's staff view (JSON) with its "privacy" member when it has a hold, or is restricted or erased.
[[nodiscard]] std::string with_privacy(std::string body, const CasePrivacy& privacy);

// ---- the published workflows (web/api_workflows.cpp) -------------------------------------------

// One workflow as GET /v1/workflows lists it: categories, touchpoints, products, root causes,
// letters and return buckets, each {key, name}.
[[nodiscard]] boost::json::object workflow_catalogue_json(const Workflow& workflow, const LetterTemplates* letters);
void list_workflows(ApiContext& api, const ContextPtr& ctx, Reply reply);

}  // namespace redress::web
