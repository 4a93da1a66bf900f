// The v1 API's web hooks: subscriptions to the case events (out), and the intake hooks other
// systems post signed cases to (in). See web/api_internal.h.
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <chrono>

#include "adapters/security/secrets.h"
#include "adapters/security/standard_webhooks.h"
#include "engine/hash_chain.h"
#include "web/api_internal.h"
#include "web/intake.h"

namespace redress::web {

namespace json = boost::json;

namespace {

// Every event type a web hook may subscribe to.
const std::vector<std::string_view> kEventTypes{"case.received",           "case.acknowledged",
                                                "case.owner_changed",      "case.status_changed",
                                                "case.escalated",          "case.deescalated",
                                                "case.assessed",           "case.investigation_started",
                                                "case.info_requested",     "case.client_replied",
                                                "case.resolved",           "case.closed",
                                                "case.reopened",           "case.withdrawn",
                                                "commitment.made",         "commitment.at_risk",
                                                "commitment.kept",         "commitment.broken",
                                                "commitment.renegotiated", "commitment.cancelled",
                                                "commitment.met_late",     "commitment.breach_handled",
                                                "redress.offered",         "redress.granted",
                                                "redress.proposed",        "redress.accepted",
                                                "redress.rejected",        "redress.fulfilled",
                                                "message.client",          "message.internal",
                                                "survey.submitted",        "case.escalation_requested",
                                                "message.held",            "message.accepted",
                                                "message.rejected",        "mail.bounced",
                                                "case.holding_reply_due",  "commitment.exempted",
                                                "case.corrected",          "case.tagged",
                                                "case.untagged",           "case.merged",
                                                "case.duplicate_merged",   "case.linked",
                                                "case.unlinked"};

json::object subscription_json(const Subscription& s) {
  json::array types;
  for (const auto& t : s.event_types) types.emplace_back(t);
  json::object o{{"id", "wh-" + std::to_string(s.id)},      {"url", s.url},
                 {"event_types", std::move(types)},         {"description", s.description},
                 {"created_at", format_time(s.created_at)}, {"active", !s.disabled_at.has_value()}};
  if (s.disabled_at) {
    o["disabled_at"] = format_time(*s.disabled_at);
    o["disabled_reason"] = s.disabled_reason;
  }
  return o;
}

}  // namespace

void create_subscription(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  std::vector<FieldError> errors;
  Subscription s;
  const json::object& body = ctx->body;
  for (const auto& member : body)
    if (member.key() != "url" && member.key() != "event_types" && member.key() != "description")
      errors.push_back(FieldError{std::string(member.key()), "is not a known field"});
  const json::value* url = body.if_contains("url");
  if (!url || !url->is_string()) {
    errors.push_back(FieldError{"url", "is required: the https:// (or http://) address to deliver to"});
  } else {
    s.url = std::string(url->get_string());
    auto parsed = boost::urls::parse_absolute_uri(s.url);
    if (!parsed || (parsed->scheme() != "https" && parsed->scheme() != "http") || parsed->host().empty() ||
        s.url.size() > 2000)
      errors.push_back(FieldError{"url", "must be an absolute http or https URL"});
  }
  const json::value* types = body.if_contains("event_types");
  if (!types || !types->is_array() || types->get_array().empty()) {
    errors.push_back(FieldError{"event_types", "is required: a non-empty array of event types, or [\"*\"]"});
  } else {
    for (const auto& t : types->get_array()) {
      if (!t.is_string()) {
        errors.push_back(FieldError{"event_types", "must hold strings"});
        break;
      }
      std::string type(t.get_string());
      if (type != "*" && std::find(kEventTypes.begin(), kEventTypes.end(), type) == kEventTypes.end()) {
        errors.push_back(FieldError{"event_types", "unknown event type \"" + type + "\""});
        continue;
      }
      s.event_types.push_back(type);
    }
  }
  if (const json::value* d = body.if_contains("description")) {
    if (!d->is_string() || d->get_string().size() > 500)
      errors.push_back(FieldError{"description", "must be a string of at most 500 characters"});
    else
      s.description = std::string(d->get_string());
  }
  if (!errors.empty()) return reply(problem_from(Error::invalid("the subscription is not valid", std::move(errors))));
  std::string secret = security::new_webhook_secret();
  s.secret_sealed = api.keyring.seal(secret);
  auto added = api.outbox.add_subscription(s);
  if (!added) return reply(problem_from(added.error()));
  json::object out = subscription_json(*added);
  out["secret"] = secret;  // shown once
  Response response = json_response(http::status::created, out);
  response.set(http::field::location, "/v1/webhooks/wh-" + std::to_string(added->id));
  reply(std::move(response));
}

void list_subscriptions(ApiContext& api, const ContextPtr&, Reply reply) {
  auto all = api.outbox.list_subscriptions();
  if (!all) return reply(problem_from(all.error()));
  json::array items;
  for (const auto& s : *all) items.push_back(subscription_json(s));
  reply(json_response(http::status::ok, json::object{{"items", std::move(items)}}));
}

void delete_subscription(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  std::string text = ctx->param("id");
  auto id = parse_display_id(text.rfind("wh-", 0) == 0 ? text.substr(3) : text, 'x');
  if (!id) return reply(not_found("no web hook subscription " + text));
  if (auto s = api.outbox.delete_subscription(*id); !s) return reply(problem_from(s.error()));
  reply(Response{http::status::no_content, 11});
}

void intake_hook(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  auto found = api.settings.intake.find(ctx->param("source"));
  if (found == api.settings.intake.end())
    return reply(problem(http::status::not_found, "not-found", "Not found",
                         "no intake source \"" + ctx->param("source") + "\""));
  const IntakeSource& source = found->second;
  const Request& request = ctx->request;
  std::string id(request["webhook-id"]);
  std::int64_t wall =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  security::WebhookCheck check =
      security::verify_webhook(source.secret, id, request["webhook-timestamp"], request["webhook-signature"],
                               request.body(), wall, source.tolerance_seconds);
  if (check != security::WebhookCheck::kValid)
    return reply(problem(http::status::unauthorized, "bad-signature", "The web hook signature is not valid",
                         std::string(to_string(check))));
  // Counted after the signature, so unsigned requests cannot use up a source's allowance.
  if (auto verdict = api.intake_limiter->take("source:" + found->first); !verdict.allowed)
    return reply(too_many(verdict));
  if (id.size() > 200) return reply(problem_from(Error::invalid_field("webhook-id", "must be at most 200 characters")));
  auto payload = parse_json_object(request.body(), 32);
  if (!payload)
    return reply(
        problem(http::status::bad_request, "malformed-json", "The body is not valid JSON", payload.error().detail));
  // A value, not an object: JSON pointers start from a value.
  const json::value document(std::move(*payload));
  auto intake = map_intake_payload(source, document);
  if (!intake) return reply(problem_from(intake.error()));
  auto link = api.keyring.new_client_link();
  intake->client_link_nonce = link.nonce;
  intake->client_link_hash = link.hash;
  std::string digest = sha256_hex(request.body());
  api.engine.create_case(
      std::move(intake).value(), Actor::intake(source.name), "hook:" + source.name + ":" + id, digest,
      [&api, reply = std::move(reply), token = link.token](Result<Committed> result) mutable {
        if (!result) return reply(problem_from(result.error()));
        if (result->replayed)
          return reply(problem(http::status::conflict, "replayed-webhook", "This webhook-id was already processed",
                               "the delivery created " + result->change.after.reference + " before",
                               json::object{{"reference", result->change.after.reference}}));
        std::string reference = result->change.after.reference;
        json::object body{{"reference", reference},
                          {"status", to_string(result->change.after.status)},
                          {"client_url", client_url(api, token)}};
        Response response = json_response(http::status::created, body);
        response.set(http::field::location, "/v1/cases/" + reference);
        reply(std::move(response));
      });
}

}  // namespace redress::web
