#include "web/pages/privacy_pages.h"

#include <boost/json.hpp>

#include "engine/actions.h"
#include "engine/sealing.h"
#include "web/privacy.h"

namespace redress::web {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxRedactable = 300;  // options in the redaction form

std::string preview(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 80)) out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  if (text.size() > 80) out += "…";
  return out;
}

PrivacySources sources_of(ApiContext& api) {
  return PrivacySources{*api.personal, api.engine.workflows(), api.engine.clock(), api.erasure_ledger};
}

Response back_to_case(PagesContext& pages, const std::string& reference, const Result<CaseRewrite>& written,
                      const std::string& done) {
  if (!written)
    return message_page(pages, page_status(written.error()), "Not done", written.error().detail,
                        json::object{{"back_url", "/staff/cases/" + reference}, {"back_label", "Back to the case"}});
  return see_other("/staff/cases/" + reference + "?done=" + form_encode(done));
}

void hold(PagesContext& pages, const ContextPtr& ctx, Reply reply, const SignedIn& who, const Form& form,
          HoldChange change) {
  const std::string reference = ctx->param("ref");
  if (!pages.api.personal)
    return reply(message_page(pages, http::status::service_unavailable, "Not available",
                              "This server keeps no personal data records."));
  auto written = change_legal_hold(sources_of(pages.api), reference, change, form.get("reason"),
                                   Actor::staff(who.staff.id, who.staff.role));
  reply(back_to_case(pages, reference, written, change == HoldChange::kSet ? "legal hold set" : "legal hold lifted"));
}

void redact_value(PagesContext& pages, const ContextPtr& ctx, Reply reply, const SignedIn& who, const Form& form) {
  const std::string reference = ctx->param("ref");
  if (!pages.api.personal)
    return reply(message_page(pages, http::status::service_unavailable, "Not available",
                              "This server keeps no personal data records."));
  // "message:m-3" or "event:5:/description".
  const std::string target_text = form.get("target");
  RedactionTarget target;
  if (target_text.rfind("message:", 0) == 0) {
    if (auto id = parse_display_id(target_text.substr(8), 'm')) target.message_id = *id;
  } else if (target_text.rfind("event:", 0) == 0) {
    const auto colon = target_text.find(':', 6);
    try {
      if (colon != std::string::npos) {
        target.event_seq = std::stoll(target_text.substr(6, colon - 6));
        target.field = target_text.substr(colon + 1);
      }
    } catch (const std::exception&) {
      target.event_seq = 0;
    }
  }
  Result<CaseRewrite> written = Error::invalid_field("target", "choose the value to redact");
  if (target.message_id > 0 || target.event_seq > 0)
    written = redact(sources_of(pages.api), reference, target, form.get("reason"),
                     Actor::staff(who.staff.id, who.staff.role));
  reply(back_to_case(pages, reference, written, "redacted"));
}

}  // namespace

std::optional<Response> restricted_page(PagesContext& pages, const CaseView& view, const SignedIn& who) {
  if (view.privacy.state != PrivacyState::kRestricted || who.staff.role == Role::kAdmin) return std::nullopt;
  const std::string why = view.privacy.legal_hold.empty() ? "its workflow's retention period has not ended"
                                                          : "it is under legal hold (" + view.privacy.legal_hold + ")";
  return message_page(pages, http::status::forbidden, "Restricted case",
                      "Case " + view.snapshot.record.reference + " is restricted: the client asked for erasure (" +
                          erasure_display_id(view.privacy.erasure_id) + ") and it is kept because " + why +
                          ". Only admins may open it.",
                      json::object{{"staff", staff_nav(who, "case")},
                                   {"back_url", "/staff/search"},
                                   {"back_label", "Search cases"}});
}

void put_privacy_data(PagesContext& pages, json::object& data, const CaseView& view, const SignedIn& who) {
  const Case& c = view.snapshot.record;
  const CasePrivacy& p = view.privacy;
  if (p != CasePrivacy{}) {
    json::object shown;
    if (p.erased_at) shown["erased"] = short_time(pages, c.workflow, *p.erased_at);
    if (p.state == PrivacyState::kRestricted && p.restricted_at)
      shown["restricted"] = short_time(pages, c.workflow, *p.restricted_at);
    if (!p.legal_hold.empty()) {
      shown["hold"] = p.legal_hold;
      shown["hold_by"] = p.hold_by;
      if (p.hold_at) shown["hold_since"] = short_time(pages, c.workflow, *p.hold_at);
    }
    data["privacy"] = std::move(shown);
  }
  const bool erased = p.state == PrivacyState::kErased;
  data["held"] = !p.legal_hold.empty();
  data["can_hold"] = pages.api.personal != nullptr && !erased && role_at_least(who.staff.role, Role::kManager);
  const bool can_redact = pages.api.personal != nullptr && !erased && role_at_least(who.staff.role, Role::kLead);
  data["can_redact"] = can_redact;
  if (!can_redact) return;
  json::array options;
  for (const auto& m : view.messages) {
    if (m.body.empty() || m.body == kRedactedValue || m.body == kErasedValue) continue;
    options.push_back(json::object{{"value", "message:" + message_display_id(m.id)},
                                   {"label", message_display_id(m.id) + " · " + preview(m.body)}});
  }
  if (auto events = pages.api.reads.case_events(c.reference)) {
    for (const auto& e : *events) {
      if (options.size() >= kMaxRedactable) break;
      boost::system::error_code ec;
      json::value parsed = json::parse(e.data, ec);
      if (ec) continue;
      for (const auto& field : sealed_fields(e)) {
        if (field.withdrawn) continue;
        const json::value* value = parsed.find_pointer(field.path, ec);
        if (!value || !value->is_string()) continue;
        options.push_back(json::object{
            {"value", "event:" + std::to_string(e.seq) + ":" + field.path},
            {"label", "event " + std::to_string(e.seq) + " (" + e.type + ") " + field.path + " · " +
                          preview(value->get_string())}});
      }
    }
  }
  data["redactable"] = std::move(options);
}

void register_privacy_pages(Router& router, PagesContext& pages) {
  const std::vector<Role> managers{Role::kManager, Role::kAdmin};
  add_staff_form(router, pages, "/staff/cases/{ref}/hold", managers,
                 [&pages](const ContextPtr& ctx, Reply reply, const SignedIn& who, const Form& form) {
                   hold(pages, ctx, std::move(reply), who, form, HoldChange::kSet);
                 });
  add_staff_form(router, pages, "/staff/cases/{ref}/hold/lift", managers,
                 [&pages](const ContextPtr& ctx, Reply reply, const SignedIn& who, const Form& form) {
                   hold(pages, ctx, std::move(reply), who, form, HoldChange::kLift);
                 });
  add_staff_form(router, pages, "/staff/cases/{ref}/redact", {Role::kLead, Role::kManager, Role::kAdmin},
                 [&pages](const ContextPtr& ctx, Reply reply, const SignedIn& who, const Form& form) {
                   redact_value(pages, ctx, std::move(reply), who, form);
                 });
}

}  // namespace redress::web
