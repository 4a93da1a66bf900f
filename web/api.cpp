// The v1 API's route table. Each resource's handlers are in their own file (web/api_internal.h
// lists them); tests/web/contract_test.cpp reads the routes and role lists below and checks them
// against web/openapi.json.
#include "web/api.h"

#include "web/api_internal.h"
#include "web/reports.h"
#include "web/returns.h"

namespace redress::web {

using verb = http::verb;

namespace {

const std::vector<Role> kAgentUp{Role::kAgent, Role::kLead, Role::kManager, Role::kAdmin};
const std::vector<Role> kCreators{Role::kIntake, Role::kAgent, Role::kLead, Role::kManager, Role::kAdmin};
const std::vector<Role> kLeadUp{Role::kLead, Role::kManager, Role::kAdmin};
const std::vector<Role> kManagerUp{Role::kManager, Role::kAdmin};
const std::vector<Role> kAdminOnly{Role::kAdmin};
const std::vector<Role> kMailIntake{Role::kIntake, Role::kAdmin};

// What a route's body is: nothing read, a JSON object the router decodes, or either that or
// multipart/form-data with files (left to the handler, web/attachments.h).
enum class Body { kNone, kJson, kJsonOrFiles };

// The handler of a route that is one action of the client's, or on one commitment.
template <ActionType kType>
void client_act(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  client_action(api, ctx, std::move(reply), kType);
}
template <ActionType kType>
void commitment_act(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  commitment_action(api, ctx, std::move(reply), kType);
}

}  // namespace

void register_api(Router& router, ApiContext& api) {
  if (!api.intake_limiter) api.intake_limiter = std::make_shared<RateLimiter>(api.settings.intake_rate_per_minute);
  if (!api.letters) {
    auto shipped = LetterTemplates::load(LetterTemplates::shipped_dir(), api.engine.workflows());
    api.letters = std::make_shared<const LetterTemplates>(shipped ? std::move(shipped).value() : LetterTemplates());
  }
  if (!api.view_cache && api.settings.view_cache_mib > 0)
    api.view_cache = std::make_shared<ViewCache>(static_cast<std::size_t>(api.settings.view_cache_mib) << 20);
  auto route = [&](verb method, std::string pattern, Access access, std::vector<Role> roles, Body body,
                   ApiHandler handler) {
    router.add(
        RouteSpec{method, std::move(pattern), access, std::move(roles), body != Body::kNone,
                  [&api, handler](const ContextPtr& ctx, Reply reply) { handler(api, ctx, std::move(reply)); },
                  body == Body::kJsonOrFiles ? RouteSpec::Multipart::kAccepted : RouteSpec::Multipart::kRefused});
  };
  auto staff = [&](verb method, std::string pattern, std::vector<Role> roles, Body body, ApiHandler handler) {
    // A case's routes refuse a restricted case to all but admins (web/api_privacy.cpp); GET of the
    // case and its actions check the stamp or view they read anyway (web/api_cases.cpp).
    if (pattern.starts_with("/v1/cases/{ref}") && !(method == verb::get && pattern == "/v1/cases/{ref}") &&
        !(method == verb::post && pattern == "/v1/cases/{ref}/actions")) {
      router.add(RouteSpec{method, std::move(pattern), Access::kStaff, std::move(roles), body != Body::kNone,
                           [&api, handler](const ContextPtr& ctx, Reply reply) {
                             guard_restricted(api, ctx, std::move(reply), handler);
                           },
                           body == Body::kJsonOrFiles ? RouteSpec::Multipart::kAccepted
                                                      : RouteSpec::Multipart::kRefused});
      return;
    }
    route(method, std::move(pattern), Access::kStaff, std::move(roles), body, handler);
  };
  auto open = [&](verb method, std::string pattern, Access access, Body body, ApiHandler handler) {
    route(method, std::move(pattern), access, {}, body, handler);
  };
  using enum Body;

  // Cases (web/api_cases.cpp).
  staff(verb::post, "/v1/cases", kCreators, kJson, &create_case);
  staff(verb::get, "/v1/cases", kAgentUp, kNone, &list_cases);
  staff(verb::post, "/v1/cases/bulk", kAgentUp, kJson, &bulk_cases);  // web/api_desk.cpp
  staff(verb::get, "/v1/cases/{ref}", kAgentUp, kNone, &get_case);
  staff(verb::patch, "/v1/cases/{ref}", kAgentUp, kJson, &correct_case);
  staff(verb::post, "/v1/cases/{ref}/actions", kAgentUp, kJson, &act_on_case);
  staff(verb::get, "/v1/cases/{ref}/events", kAgentUp, kNone, &case_events);
  staff(verb::get, "/v1/cases/{ref}/notifications", kAgentUp, kNone, &case_notifications);
  staff(verb::post, "/v1/cases/{ref}/messages", kAgentUp, kJsonOrFiles, &add_message);
  staff(verb::get, "/v1/cases/{ref}/messages/{id}/attachments/{n}", kAgentUp, kNone, &message_attachment);
  staff(verb::post, "/v1/cases/{ref}/commitments", kAgentUp, kJson, &make_commitment);
  staff(verb::post, "/v1/cases/{ref}/redress", kAgentUp, kJson, &offer_redress);

  // Client links (web/api_client.cpp).
  staff(verb::post, "/v1/cases/{ref}/client-link", kAgentUp, kNone, &create_client_link);
  staff(verb::delete_, "/v1/cases/{ref}/client-link", kAgentUp, kNone, &revoke_client_link);
  open(verb::get, "/v1/client/{token}", Access::kClientLink, kNone, &client_case);
  open(verb::post, "/v1/client/{token}/messages", Access::kClientLink, kJsonOrFiles,
       &client_act<ActionType::kAddMessage>);
  open(verb::get, "/v1/client/{token}/messages/{id}/attachments/{n}", Access::kClientLink, kNone,
       &client_message_attachment);
  open(verb::post, "/v1/client/{token}/redress/{id}/accept", Access::kClientLink, kJson,
       &client_act<ActionType::kAcceptRedress>);
  open(verb::post, "/v1/client/{token}/redress/{id}/reject", Access::kClientLink, kJson,
       &client_act<ActionType::kRejectRedress>);
  open(verb::post, "/v1/client/{token}/survey", Access::kClientLink, kJson, &client_act<ActionType::kSubmitSurvey>);
  open(verb::post, "/v1/client/{token}/withdraw", Access::kClientLink, kJson, &client_act<ActionType::kWithdraw>);
  open(verb::post, "/v1/client/{token}/reopen", Access::kClientLink, kJson, &client_act<ActionType::kReopen>);
  open(verb::post, "/v1/client/{token}/escalate", Access::kClientLink, kJson,
       &client_act<ActionType::kRequestEscalation>);

  // Commitments and redress by id (web/api_commitments.cpp).
  staff(verb::get, "/v1/commitments", kAgentUp, kNone, &list_commitments);
  staff(verb::post, "/v1/commitments/{id}/keep", kAgentUp, kJson, &commitment_act<ActionType::kKeepCommitment>);
  staff(verb::post, "/v1/commitments/{id}/renegotiate", kAgentUp, kJson,
        &commitment_act<ActionType::kRenegotiateCommitment>);
  staff(verb::post, "/v1/commitments/{id}/handle", kAgentUp, kJson, &handle_breach);
  staff(verb::post, "/v1/commitments/{id}/exempt", kLeadUp, kJson, &commitment_act<ActionType::kExemptCommitment>);
  staff(verb::post, "/v1/redress/{id}/fulfil", kAgentUp, kJson, &fulfil_redress);

  // Reports (web/reports.cpp).
  staff(verb::get, "/v1/reports/overdue", kLeadUp, kNone, &overdue_report);
  staff(verb::get, "/v1/reports/owners", kLeadUp, kNone, &owners_report);
  open(verb::get, "/v1/reports/standards", Access::kPublic, kNone, &standards_report);
  staff(verb::get, "/v1/reports/returns", kLeadUp, kNone, &returns_report);
  staff(verb::get, "/v1/reports/tags", kLeadUp, kNone, &tags_report);  // web/api_desk.cpp
  staff(verb::get, "/v1/reports/root_causes", kLeadUp, kNone, &root_causes_report);

  // The published workflows (web/api_workflows.cpp).
  open(verb::get, "/v1/workflows", Access::kPublic, kNone, &list_workflows);

  // Inbound email (web/api_inbound.cpp).
  staff(verb::post, "/v1/inbound/email", kMailIntake, kNone, &take_inbound_email);
  staff(verb::get, "/v1/inbound/email", kAdminOnly, kNone, &inbound_mail_records);
  staff(verb::get, "/v1/cases/{ref}/messages/{id}/original", kAgentUp, kNone, &message_original);

  // Web hook subscriptions and intake hooks (web/api_hooks.cpp).
  staff(verb::post, "/v1/webhooks", kAdminOnly, kJson, &create_subscription);
  staff(verb::get, "/v1/webhooks", kAdminOnly, kNone, &list_subscriptions);
  staff(verb::delete_, "/v1/webhooks/{id}", kAdminOnly, kNone, &delete_subscription);
  open(verb::post, "/hooks/intake/{source}", Access::kIntakeHook, kNone, &intake_hook);

  // Staff administration (web/api_staff.cpp).
  staff(verb::get, "/v1/staff", kAdminOnly, kNone, &list_staff);
  staff(verb::post, "/v1/staff", kAdminOnly, kJson, &add_staff_member);
  staff(verb::get, "/v1/staff/{id}", kAdminOnly, kNone, &get_staff_member);
  staff(verb::patch, "/v1/staff/{id}", kAdminOnly, kJson, &change_staff_member);
  staff(verb::post, "/v1/staff/{id}/password", kAdminOnly, kJson, &reset_password);
  staff(verb::get, "/v1/staff/{id}/tokens", kAdminOnly, kNone, &list_staff_tokens);
  staff(verb::post, "/v1/staff/{id}/tokens", kAdminOnly, kJson, &issue_staff_token);
  staff(verb::delete_, "/v1/tokens/{id}", kAdminOnly, kNone, &revoke_token);
  staff(verb::get, "/v1/teams", kAdminOnly, kNone, &list_teams);

  // Canned replies (web/api_canned_replies.cpp).
  staff(verb::get, "/v1/canned-replies", kAgentUp, kNone, &list_canned_replies);
  staff(verb::post, "/v1/canned-replies", kAdminOnly, kJson, &add_canned_reply);
  staff(verb::get, "/v1/canned-replies/{id}", kAgentUp, kNone, &get_canned_reply);
  staff(verb::patch, "/v1/canned-replies/{id}", kAdminOnly, kJson, &change_canned_reply);
  staff(verb::delete_, "/v1/canned-replies/{id}", kAdminOnly, kNone, &delete_canned_reply);
  staff(verb::get, "/v1/cases/{ref}/canned-replies", kAgentUp, kNone, &case_canned_replies);
  staff(verb::get, "/v1/cases/{ref}/canned-replies/{id}", kAgentUp, kNone, &case_canned_reply);

  // Saved views: the case list's filters, as the console's case list (web/api_views.cpp).
  staff(verb::get, "/v1/views", kAgentUp, kNone, &list_saved_views);
  staff(verb::post, "/v1/views", kAgentUp, kJson, &add_saved_view);
  staff(verb::delete_, "/v1/views/{id}", kAgentUp, kNone, &delete_saved_view);

  // The outbox's dead letters, the manual clock, operations (web/api_admin.cpp).
  staff(verb::get, "/v1/admin/outbox", kAdminOnly, kNone, &dead_notifications);
  staff(verb::post, "/v1/admin/outbox/retry", kAdminOnly, kJson, &retry_notifications);
  staff(verb::post, "/v1/admin/clock", kAdminOnly, kJson, &move_clock);
  staff(verb::get, "/v1/admin/subjects/export", kAdminOnly, kNone, &export_subject_archive);

  // Personal data: erasure, legal holds, redaction (web/api_privacy.cpp).
  staff(verb::post, "/v1/admin/subjects/erase", kAdminOnly, kJson, &erase_subject_request);
  staff(verb::get, "/v1/admin/erasures", kAdminOnly, kNone, &list_erasures);
  staff(verb::post, "/v1/cases/{ref}/legal-hold", kManagerUp, kJson, &set_legal_hold);
  staff(verb::post, "/v1/cases/{ref}/legal-hold/lift", kManagerUp, kJson, &lift_legal_hold);
  staff(verb::post, "/v1/cases/{ref}/redactions", kLeadUp, kJson, &create_redaction);
  open(verb::get, "/healthz", Access::kPublic, kNone, &health_check);
  open(verb::get, "/metrics", Access::kPublic, kNone, &metrics_exposition);
  open(verb::get, "/v1/openapi.json", Access::kPublic, kNone, &openapi_document);
}

}  // namespace redress::web
