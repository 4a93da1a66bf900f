// Personal data over the API (docs/personal-data.md): erasing a client (admins), legal holds
// (managers and admins), redaction (leads and above), the erasure records, and the refusal of a
// restricted case to everyone but admins. The work runs off the I/O threads (web/privacy.h).
#include <boost/json.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "web/api_internal.h"
#include "web/privacy.h"
#include "web/views.h"

namespace redress::web {

namespace json = boost::json;

namespace {

Response privacy_unavailable() {
  return problem(http::status::service_unavailable, "privacy-unavailable", "Personal data operations are not available",
                 "this server was started without its personal data store");
}

// The body's string fields, each named when missing, mistyped or unknown; `required` must be there.
Result<std::map<std::string, std::string>> string_fields(const json::object& body, const std::vector<std::string>& known,
                                                         const std::vector<std::string>& required) {
  std::vector<FieldError> errors;
  std::map<std::string, std::string> out;
  for (const auto& member : body) {
    const std::string key(member.key());
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      errors.push_back(FieldError{key, "is not a field of this request"});
      continue;
    }
    if (!member.value().is_string()) {
      if (key != "event") errors.push_back(FieldError{key, "must be a string"});
      continue;
    }
    out[key] = std::string(member.value().get_string());
  }
  for (const auto& key : required)
    if (!body.contains(key)) errors.push_back(FieldError{key, "is required"});
  if (!errors.empty()) {
    std::string detail;
    for (const auto& e : errors) detail += (detail.empty() ? "" : "; ") + e.field + ": " + e.message;
    return Error::invalid(detail, std::move(errors));
  }
  return out;
}

json::object privacy_json(const CasePrivacy& p) {
  json::object o{{"state", to_string(p.state)}};
  o["legal_hold"] = p.legal_hold.empty() ? json::value(nullptr)
                                         : json::value(json::object{{"reason", p.legal_hold},
                                                                    {"by", p.hold_by},
                                                                    {"since", p.hold_at ? format_time(*p.hold_at) : ""}});
  if (p.restricted_at) o["restricted_at"] = format_time(*p.restricted_at);
  if (p.erased_at) o["erased_at"] = format_time(*p.erased_at);
  if (p.erasure_id > 0) o["erasure_id"] = erasure_display_id(p.erasure_id);
  return o;
}

PrivacySources sources_of(ApiContext& api) {
  return PrivacySources{*api.personal, api.engine.workflows(), api.engine.clock(), api.erasure_ledger};
}

// Runs `work` off the I/O threads and answers with what it returns, on an I/O thread.
template <typename Work>
void off_the_io_threads(ApiContext& api, Reply reply, Work work) {
  auto run = [&api, work = std::move(work), reply = std::move(reply)]() mutable {
    Response response = work();
    api.defer([response = std::move(response), reply = std::move(reply)]() mutable { reply(std::move(response)); });
  };
  if (api.blocking)
    api.blocking(std::move(run));
  else
    run();
}

void hold_action(ApiContext& api, const ContextPtr& ctx, Reply reply, HoldChange change) {
  if (!api.personal) return reply(privacy_unavailable());
  auto fields = string_fields(ctx->body, {"reason"}, {"reason"});
  if (!fields) return reply(problem_from(fields.error()));
  off_the_io_threads(api, std::move(reply),
                     [&api, change, reference = ctx->param("ref"), reason = (*fields)["reason"], actor = ctx->actor()] {
                       auto written = change_legal_hold(sources_of(api), reference, change, reason, actor);
                       if (!written) return problem_from(written.error());
                       Response response = json_response(
                           http::status::ok, json::object{{"reference", reference},
                                                          {"version", written->after.version},
                                                          {"privacy", privacy_json(written->privacy)},
                                                          {"event", event_json(written->appended.back())}});
                       set_etag(response, written->after.version);
                       return response;
                     });
}

}  // namespace

Response restricted_problem(ApiContext& api, const std::string& reference) {
  std::string why;
  if (api.personal)
    if (auto privacy = api.personal->case_privacy(reference)) {
      if (!privacy->legal_hold.empty())
        why = "it is under legal hold (" + privacy->legal_hold + ")";
      else
        why = "its workflow's retention period has not ended";
      why = "an erasure was requested (" + erasure_display_id(privacy->erasure_id) + ") and it is kept because " + why;
    }
  return problem(http::status::forbidden, "case-restricted", "The case is restricted",
                 "case " + reference + " is restricted: " + why + "; only admins may open it",
                 json::object{{"reference", reference}});
}

bool may_see_restricted(const Actor& actor) { return actor.kind == Actor::Kind::kStaff && actor.role == Role::kAdmin; }

void guard_restricted(ApiContext& api, const ContextPtr& ctx, Reply reply, ApiHandler handler) {
  const std::string& reference = ctx->param("ref");
  if (api.personal && !may_see_restricted(ctx->actor())) {
    auto privacy = api.personal->case_privacy(reference);
    if (privacy && privacy->state == PrivacyState::kRestricted) return reply(restricted_problem(api, reference));
  }
  handler(api, ctx, std::move(reply));
}

std::string with_privacy(std::string body, const CasePrivacy& privacy) {
  if (privacy == CasePrivacy{}) return body;
  boost::system::error_code ec;
  json::value parsed = json::parse(body, ec);
  if (ec || !parsed.is_object()) return body;
  parsed.get_object()["privacy"] = privacy_json(privacy);
  return json::serialize(parsed);
}

void erase_subject_request(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  if (!api.personal) return reply(privacy_unavailable());
  auto fields = string_fields(ctx->body, {"email", "reason"}, {"email", "reason"});
  if (!fields) return reply(problem_from(fields.error()));
  off_the_io_threads(
      api, std::move(reply), [&api, email = (*fields)["email"], reason = (*fields)["reason"], actor = ctx->actor()] {
        auto outcome = erase_subject(sources_of(api), email, reason, actor);
        if (!outcome) return problem_from(outcome.error());
        if (api.view_cache) {
          for (const auto& reference : outcome->erased) api.view_cache->forget(reference);
          for (const auto& kept : outcome->restricted) api.view_cache->forget(kept.reference);
        }
        json::array erased, restricted;
        for (const auto& reference : outcome->erased) erased.push_back(json::string(reference));
        for (const auto& kept : outcome->restricted)
          restricted.push_back(json::object{{"reference", kept.reference}, {"why", kept.why}});
        json::object body{{"erasure_id", erasure_display_id(outcome->erasure_id)},
                          {"erased", std::move(erased)},
                          {"restricted", std::move(restricted)},
                          {"files_deleted", outcome->purge.blobs_deleted},
                          {"copies_left", to_string(outcome->purge.copies_left)}};
        body["erased_before"] =
            outcome->erased_before ? json::value(format_time(*outcome->erased_before)) : json::value(nullptr);
        return json_response(http::status::ok, body);
      });
}

void list_erasures(ApiContext& api, const ContextPtr&, Reply reply) {
  if (!api.personal) return reply(privacy_unavailable());
  auto records = api.personal->erasures();
  if (!records) return reply(problem_from(records.error()));
  json::array items;
  for (const auto& r : *records)
    items.push_back(json::object{
        {"id", erasure_display_id(r.id)},
        {"source", r.source},
        {"reason", r.reason},
        {"actor", r.actor},
        {"requested_at", format_time(r.requested_at)},
        {"finished_at", r.finished_at ? json::value(format_time(*r.finished_at)) : json::value(nullptr)},
        {"cases_erased", r.cases_erased},
        {"cases_restricted", r.cases_restricted}});
  reply(json_response(http::status::ok, json::object{{"items", std::move(items)}}));
}

void set_legal_hold(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  hold_action(api, ctx, std::move(reply), HoldChange::kSet);
}

void lift_legal_hold(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  hold_action(api, ctx, std::move(reply), HoldChange::kLift);
}

void create_redaction(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  if (!api.personal) return reply(privacy_unavailable());
  auto fields = string_fields(ctx->body, {"event", "field", "message", "reason"}, {"reason"});
  if (!fields) return reply(problem_from(fields.error()));
  RedactionTarget target;
  if (const json::value* event = ctx->body.if_contains("event")) {
    if (!event->is_int64() || event->get_int64() < 1)
      return reply(problem_from(Error::invalid_field("event", "must be an event's sequence number (1, 2, ...)")));
    target.event_seq = event->get_int64();
    if (!fields->count("field"))
      return reply(problem_from(Error::invalid_field("field", "is required with event: the field, like /description")));
  }
  if (fields->count("message")) {
    auto id = parse_display_id((*fields)["message"], 'm');
    if (!id) return reply(problem_from(Error::invalid_field("message", "must be a message id like \"m-12\"")));
    target.message_id = *id;
  }
  if (fields->count("field")) target.field = (*fields)["field"];
  if ((target.event_seq > 0) == (target.message_id > 0))
    return reply(problem_from(Error::invalid_field("event", "give exactly one of event (with field) or message")));
  off_the_io_threads(api, std::move(reply),
                     [&api, target, reference = ctx->param("ref"), reason = (*fields)["reason"], actor = ctx->actor()] {
                       auto written = redact(sources_of(api), reference, target, reason, actor);
                       if (!written) return problem_from(written.error());
                       if (api.view_cache) api.view_cache->forget(reference);
                       Response response = json_response(
                           http::status::created,
                           json::object{{"reference", reference},
                                        {"version", written->after.version},
                                        {"event", event_json(written->appended.back())}});
                       set_etag(response, written->after.version);
                       return response;
                     });
}

}  // namespace redress::web
