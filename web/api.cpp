#include "web/api.h"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <charconv>

#include "adapters/security/secrets.h"
#include "adapters/security/standard_webhooks.h"
#include "engine/hash_chain.h"
#include "web/intake.h"
#include "web/reports.h"
#include "web/views.h"

namespace redress::web {

namespace json = boost::json;
using verb = http::verb;

namespace {

const std::vector<Role> kAgentUp{Role::kAgent, Role::kLead, Role::kManager, Role::kAdmin};
const std::vector<Role> kCreators{Role::kIntake, Role::kAgent, Role::kLead, Role::kManager, Role::kAdmin};
const std::vector<Role> kLeadUp{Role::kLead, Role::kManager, Role::kAdmin};
const std::vector<Role> kAdminOnly{Role::kAdmin};

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
                                                "survey.submitted"};

// 429 with Retry-After: an intake source or token went over intake_rate_per_minute.
Response too_many(const RateLimiter::Verdict& verdict) {
  Response response = problem(http::status::too_many_requests, "rate-limited", "Too many cases created",
                              "this intake source created more cases than intake_rate_per_minute allows; retry after " +
                                  std::to_string(verdict.retry_after.count()) + " s");
  response.set(http::field::retry_after, std::to_string(verdict.retry_after.count()));
  return response;
}

Response bad_query(const std::string& field, const std::string& message) {
  return problem(
      http::status::bad_request, "invalid-query", "A query parameter is not valid", field + ": " + message,
      json::object{{"fields", json::array{json::object{{"field", "query." + field}, {"message", message}}}}});
}

std::optional<Staff> staff_or_none(Store& store, const std::string& id) {
  if (id.empty()) return std::nullopt;
  auto staff = store.find_staff(id);
  if (!staff) return std::nullopt;
  return std::move(staff).value();
}

// If-Match: "7", W/"7", 7 or *. Nullopt for none or *; an error for anything else.
Result<std::optional<std::int64_t>> if_match(const Request& request) {
  auto header = request[http::field::if_match];
  std::string_view value(header.data(), header.size());
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty() || value == "*") return std::optional<std::int64_t>();
  if (value.substr(0, 2) == "W/") value.remove_prefix(2);
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
  std::int64_t version = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), version);
  if (ec != std::errc() || end != value.data() + value.size() || version < 0)
    return Error::invalid("If-Match must be the case version as an entity tag, like \"7\"");
  return std::optional<std::int64_t>(version);
}

void set_etag(Response& response, std::int64_t version) {
  response.set(http::field::etag, "\"" + std::to_string(version) + "\"");
}

// The body of the staff view of a case; `client_token` is its live client link, if any.
std::string case_body(ApiContext& api, const CaseSnapshot& snapshot, const std::optional<Staff>& owner,
                      const std::vector<Message>& messages, const std::optional<std::string>& client_token) {
  json::object body = case_json(snapshot, owner, api.engine.allowed_actions(snapshot.record), messages);
  if (client_token) body["client_url"] = client_url(api, *client_token);
  return json::serialize(body);
}

// The staff view of a case as an answer, with its ETag.
Response case_body_response(http::status status, std::string body, std::int64_t version) {
  Response response{status, 11};
  response.set(http::field::content_type, "application/json");
  response.body() = std::move(body);
  response.prepare_payload();
  set_etag(response, version);
  return response;
}

Response case_response(ApiContext& api, const CaseSnapshot& snapshot, const std::optional<Staff>& owner,
                       const std::vector<Message>& messages, const std::optional<std::string>& client_token,
                       http::status status) {
  return case_body_response(status, case_body(api, snapshot, owner, messages, client_token), snapshot.record.version);
}

// The staff view of a stored case. With the view cache on, the case's stamp is read first (one
// statement) and a rendering made from the same stamp is answered as it is; otherwise the view is
// read in one go (Store::load_case_view), rendered and kept.
// Whether a kept rendering may answer: not right after a change, when none can be current yet.
enum class ViewSource { kCacheFirst, kStore };

Response case_response(ApiContext& api, const std::string& reference, http::status status,
                       ViewSource source = ViewSource::kCacheFirst) {
  Time now = api.engine.clock().now();
  if (api.view_cache && source == ViewSource::kCacheFirst) {
    auto stamp = api.store.case_view_stamp(reference);
    if (!stamp) return problem_from(stamp.error());
    if (auto hit = api.view_cache->find(reference, *stamp, now))
      return case_body_response(status, hit->body, hit->stamp.version);
  }
  auto view = api.store.load_case_view(reference);
  if (!view) return problem_from(view.error());
  std::optional<std::string> token;
  if (view->client_link_nonce) token = api.keyring.client_token(*view->client_link_nonce);
  std::string body = case_body(api, view->snapshot, view->owner, view->messages, token);
  std::int64_t version = view->snapshot.record.version;
  if (api.view_cache) {
    auto rendering = std::make_shared<ViewCache::Rendering>();
    rendering->stamp = stamp_of(*view);
    rendering->rendered_at = now;
    rendering->valid_until = api.engine.allowed_actions_until(view->snapshot.record);
    rendering->body = body;
    api.view_cache->put(reference, std::move(rendering));
  }
  return case_body_response(status, std::move(body), version);
}

// The staff view of a case just created by `change`, without reading it back: what the store
// committed is exactly the change (the case row, its commitments, redress and messages, and the
// client link whose token is `client_token`).
Response created_case_response(ApiContext& api, const Change& change, const std::string& client_token) {
  CaseSnapshot snapshot;
  snapshot.record = change.after;
  snapshot.commitments = change.commitments;
  snapshot.redress = change.redress;
  auto by_id = [](const auto& a, const auto& b) { return a.id < b.id; };
  std::sort(snapshot.commitments.begin(), snapshot.commitments.end(), by_id);
  std::sort(snapshot.redress.begin(), snapshot.redress.end(), by_id);
  std::vector<Message> messages = change.messages;
  std::sort(messages.begin(), messages.end(), by_id);
  return case_response(api, snapshot, staff_or_none(api.store, change.after.owner_id), messages,
                       change.client_link_hash.empty() ? std::nullopt : std::optional<std::string>(client_token),
                       http::status::created);
}

using Renderer = std::function<Response(const Committed&)>;

// Submits an action and answers with `render` on an I/O thread once it is committed.
void run_action(ApiContext& api, ActionRequest request, Reply reply, Renderer render) {
  api.engine.submit(std::move(request),
                    [&api, reply = std::move(reply), render = std::move(render)](Result<Committed> result) mutable {
                      if (!result) {
                        reply(problem_from(result.error()));
                        return;
                      }
                      api.defer([reply = std::move(reply), render = std::move(render),
                                 committed = std::move(result).value()]() mutable { reply(render(committed)); });
                    });
}

// Builds an action from a route's body, taking If-Match into account.
Result<ActionRequest> staff_action(const ContextPtr& ctx, ActionType type, const std::string& reference) {
  auto request = decode_action_fields(type, ctx->body);
  if (!request) return request;
  auto expected = if_match(ctx->request);
  if (!expected) return expected.error();
  if (*expected) request->expected_version = **expected;
  request->reference = reference;
  request->actor = ctx->actor();
  return request;
}

Renderer render_case(ApiContext& api, http::status status) {
  // The change just made a new version, so no kept rendering matches it: skip the stamp read.
  return [&api, status](const Committed& committed) {
    return case_response(api, committed.change.after.reference, status, ViewSource::kStore);
  };
}

std::optional<std::int64_t> id_param(const std::string& text, char prefix) { return parse_display_id(text, prefix); }

int limit_param(const ContextPtr& ctx, Response& error) {
  auto value = ctx->query_value("limit");
  if (!value) return 50;
  int limit = 0;
  auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), limit);
  if (ec != std::errc() || end != value->data() + value->size() || limit < 1 || limit > 200) {
    error = bad_query("limit", "must be a whole number from 1 to 200");
    return -1;
  }
  return limit;
}

// ---- cases --------------------------------------------------------------------------------------

void create_case(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  auto request = decode_new_case(ctx->body);
  if (!request) return reply(problem_from(request.error()));
  std::string key(ctx->request["Idempotency-Key"]);
  if (key.size() > 255)
    return reply(problem_from(Error::invalid_field("Idempotency-Key", "must be at most 255 characters")));
  for (unsigned char c : key)
    if (c < 0x21 || c > 0x7e)
      return reply(problem_from(Error::invalid_field("Idempotency-Key", "must be printable ASCII")));
  std::string digest = key.empty() ? std::string() : sha256_hex(canonical_json(ctx->body));
  if (!key.empty()) key = "api:" + (ctx->staff ? ctx->staff->id : std::string()) + ":" + key;
  auto link = api.keyring.new_client_link();
  request->client_link_nonce = link.nonce;
  request->client_link_hash = link.hash;
  api.engine.create_case(
      std::move(request).value(), ctx->actor(), key, digest,
      [&api, reply = std::move(reply), token = link.token](Result<Committed> result) mutable {
        if (!result) {
          Error error = std::move(result).take_error();
          if (error.code == ErrorCode::kConflict)
            return reply(problem(http::status::unprocessable_entity, "idempotency-key-reused",
                                 "The Idempotency-Key was used with another request", error.detail));
          return reply(problem_from(error));
        }
        api.defer([&api, reply = std::move(reply), token, committed = std::move(result).value()]() mutable {
          const std::string& reference = committed.change.after.reference;
          Response response = committed.replayed ? case_response(api, reference, http::status::created)
                                                 : created_case_response(api, committed.change, token);
          response.set(http::field::location, "/v1/cases/" + reference);
          if (committed.replayed) response.set("Idempotent-Replayed", "true");
          reply(std::move(response));
        });
      });
}

void list_cases(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  CaseFilter filter;
  if (auto v = ctx->query_value("status")) {
    filter.status = parse_CaseStatus(*v);
    if (!filter.status) return reply(bad_query("status", "unknown status \"" + *v + "\""));
  }
  if (auto v = ctx->query_value("owner")) filter.owner_id = *v == "me" && ctx->staff ? ctx->staff->id : *v;
  if (auto v = ctx->query_value("workflow")) filter.workflow = *v;
  if (auto v = ctx->query_value("escalation_level")) {
    int level = -1;
    auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), level);
    if (ec != std::errc() || end != v->data() + v->size() || level < 0 || level > 20)
      return reply(bad_query("escalation_level", "must be a whole number from 0 to 20"));
    filter.escalation_level = level;
  }
  if (auto v = ctx->query_value("overdue")) {
    if (*v != "true" && *v != "false") return reply(bad_query("overdue", "must be true or false"));
    filter.overdue = *v == "true";
  }
  if (auto v = ctx->query_value("q")) {
    if (v->size() > 200) return reply(bad_query("q", "must be at most 200 characters"));
    filter.text = *v;
  }
  Response error;
  int limit = limit_param(ctx, error);
  if (limit < 0) return reply(std::move(error));
  auto page = api.store.list_cases(filter, ctx->query_value("cursor").value_or(""), limit);
  if (!page) {
    if (page.error().code == ErrorCode::kInvalid)
      return reply(bad_query("cursor", "is not a cursor this server issued"));
    return reply(problem_from(page.error()));
  }
  json::array items;
  std::map<std::string, std::optional<Staff>> owners;
  for (const auto& c : page->cases) {
    if (!owners.count(c.owner_id)) owners[c.owner_id] = staff_or_none(api.store, c.owner_id);
    items.push_back(case_summary_json(c, owners[c.owner_id]));
  }
  reply(json_response(http::status::ok,
                      json::object{{"items", std::move(items)},
                                   {"next_cursor", page->next_cursor.empty() ? json::value(nullptr)
                                                                             : json::value(page->next_cursor)}}));
}

void case_events(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  auto events = api.store.case_events(ctx->param("ref"));
  if (!events) return reply(problem_from(events.error()));
  json::array items;
  for (const auto& e : *events) items.push_back(event_json(e));
  reply(json_response(http::status::ok, json::object{{"reference", ctx->param("ref")}, {"items", std::move(items)}}));
}

// ---- commitments and redress by id --------------------------------------------------------------

void commitment_action(ApiContext& api, const ContextPtr& ctx, Reply reply, ActionType type) {
  auto id = id_param(ctx->param("id"), 'k');
  if (!id)
    return reply(problem(http::status::not_found, "not-found", "Not found", "no commitment " + ctx->param("id")));
  auto reference = api.store.commitment_case(*id);
  if (!reference) return reply(problem_from(reference.error()));
  json::object body = ctx->body;
  body["commitment_id"] = *id;
  ctx->body = std::move(body);
  auto request = staff_action(ctx, type, *reference);
  if (!request) return reply(problem_from(request.error()));
  run_action(api, std::move(request).value(), std::move(reply), [](const Committed& committed) {
    json::array changed;
    for (const auto& k : committed.change.commitments)
      changed.push_back(commitment_json(k, committed.change.after.reference));
    Response response = json_response(http::status::ok, json::object{{"commitments", std::move(changed)},
                                                                     {"case", committed.change.after.reference}});
    set_etag(response, committed.change.after.version);
    return response;
  });
}

void list_commitments(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  CommitmentFilter filter;
  if (auto v = ctx->query_value("status")) {
    filter.status = parse_CommitmentStatus(*v);
    if (!filter.status) return reply(bad_query("status", "unknown commitment status \"" + *v + "\""));
  }
  if (auto v = ctx->query_value("kind")) {
    filter.kind = parse_CommitmentKind(*v);
    if (!filter.kind) return reply(bad_query("kind", "must be promise, pledge or redress"));
  }
  if (auto v = ctx->query_value("owner")) filter.owner_id = *v == "me" && ctx->staff ? ctx->staff->id : *v;
  if (auto v = ctx->query_value("due_before")) {
    filter.due_before = parse_time(*v);
    if (!filter.due_before) return reply(bad_query("due_before", "must be an RFC 3339 time"));
  }
  if (auto v = ctx->query_value("case")) filter.case_reference = *v;
  Response error;
  int limit = limit_param(ctx, error);
  if (limit < 0) return reply(std::move(error));
  auto page = api.store.list_commitments(filter, ctx->query_value("cursor").value_or(""), limit);
  if (!page) {
    if (page.error().code == ErrorCode::kInvalid)
      return reply(bad_query("cursor", "is not a cursor this server issued"));
    return reply(problem_from(page.error()));
  }
  json::array items;
  for (const auto& [k, reference] : page->items) items.push_back(commitment_json(k, reference));
  reply(json_response(http::status::ok,
                      json::object{{"items", std::move(items)},
                                   {"next_cursor", page->next_cursor.empty() ? json::value(nullptr)
                                                                             : json::value(page->next_cursor)}}));
}

// ---- clients ----------------------------------------------------------------------------------

Response client_view(ApiContext& api, const CaseSnapshot& snapshot, http::status status) {
  auto messages = api.store.case_messages(snapshot.record.reference);
  json::object body =
      client_view_json(snapshot, staff_or_none(api.store, snapshot.record.owner_id),
                       api.engine.workflows().find(snapshot.record.workflow),
                       messages ? *messages : std::vector<Message>{}, client_actions(api, snapshot.record));
  return json_response(status, body);
}

void client_action(ApiContext& api, const ContextPtr& ctx, Reply reply, ActionType type) {
  auto snapshot = client_link_case(api, ctx->param("token"));
  if (!snapshot) return reply(problem_from(snapshot.error()));
  json::object body = ctx->body;
  if (type == ActionType::kAddMessage) body["visibility"] = "client";
  if (type == ActionType::kAcceptRedress || type == ActionType::kRejectRedress) {
    auto id = id_param(ctx->param("id"), 'r');
    bool ours = false;
    for (const auto& r : snapshot->redress) ours = ours || (id && r.id == *id);
    if (!ours) return reply(problem(http::status::not_found, "not-found", "Not found", "no such offer on this case"));
    body["redress_id"] = *id;
  }
  ctx->body = std::move(body);
  auto request = decode_action_fields(type, ctx->body);
  if (!request) return reply(problem_from(request.error()));
  request->reference = snapshot->record.reference;
  request->actor = Actor::client();
  http::status status = type == ActionType::kAddMessage ? http::status::created : http::status::ok;
  run_action(api, std::move(request).value(), std::move(reply), [&api, status](const Committed& committed) {
    auto snapshot = api.store.load_case(committed.change.after.reference);
    if (!snapshot) return problem_from(snapshot.error());
    return client_view(api, *snapshot, status);
  });
}

// ---- web hooks ----------------------------------------------------------------------------------

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
  std::string secret = new_webhook_secret();
  s.secret_sealed = api.keyring.seal(secret);
  auto added = api.store.add_subscription(s);
  if (!added) return reply(problem_from(added.error()));
  json::object out = subscription_json(*added);
  out["secret"] = secret;  // shown once
  Response response = json_response(http::status::created, out);
  response.set(http::field::location, "/v1/webhooks/wh-" + std::to_string(added->id));
  reply(std::move(response));
}

// ---- intake hooks -------------------------------------------------------------------------------

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
  WebhookCheck check = verify_webhook(source.secret, id, request["webhook-timestamp"], request["webhook-signature"],
                                      request.body(), wall, source.tolerance_seconds);
  if (check != WebhookCheck::kValid)
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

}  // namespace

Result<CaseSnapshot> client_link_case(ApiContext& api, const std::string& token) {
  if (token.size() < 20 || token.size() > 100 || token.rfind("cl_", 0) != 0)
    return Error::not_found("unknown or revoked link");
  return api.store.load_case_by_client_link(token_hash(token));
}

std::vector<std::string> client_actions(ApiContext& api, const Case& record) {
  std::vector<std::string> names;
  for (ActionType type : api.engine.allowed_actions(record, Actor::client())) {
    switch (type) {
      case ActionType::kAddMessage: names.emplace_back("reply"); break;
      case ActionType::kSubmitSurvey: names.emplace_back("survey"); break;
      default: names.emplace_back(to_string(type));
    }
  }
  return names;
}

std::string client_url(const ApiContext& api, const std::string& token) { return api.base_url + "/c/" + token; }

void register_api(Router& router, ApiContext& api) {
  if (!api.intake_limiter) api.intake_limiter = std::make_shared<RateLimiter>(api.settings.intake_rate_per_minute);
  if (!api.view_cache && api.settings.view_cache_mib > 0)
    api.view_cache = std::make_shared<ViewCache>(static_cast<std::size_t>(api.settings.view_cache_mib) << 20);
  auto staff = [&](verb method, std::string pattern, std::vector<Role> roles, bool json_body, Handler handler) {
    router.add(RouteSpec{method, std::move(pattern), Access::kStaff, std::move(roles), json_body, std::move(handler)});
  };
  auto open = [&](verb method, std::string pattern, Access access, bool json_body, Handler handler) {
    router.add(RouteSpec{method, std::move(pattern), access, {}, json_body, std::move(handler)});
  };

  // Cases.
  staff(verb::post, "/v1/cases", kCreators, true, [&api](const ContextPtr& ctx, Reply reply) {
    if (ctx->staff && ctx->staff->role == Role::kIntake)
      if (auto verdict = api.intake_limiter->take("token:" + ctx->staff->id); !verdict.allowed)
        return reply(too_many(verdict));
    create_case(api, ctx, std::move(reply));
  });
  staff(verb::get, "/v1/cases", kAgentUp, false,
        [&api](const ContextPtr& ctx, Reply reply) { list_cases(api, ctx, std::move(reply)); });
  staff(verb::get, "/v1/cases/{ref}", kAgentUp, false,
        [&api](const ContextPtr& ctx, Reply reply) { reply(case_response(api, ctx->param("ref"), http::status::ok)); });
  staff(verb::post, "/v1/cases/{ref}/actions", kAgentUp, true, [&api](const ContextPtr& ctx, Reply reply) {
    auto request = decode_action(ctx->body);
    if (!request) return reply(problem_from(request.error()));
    auto expected = if_match(ctx->request);
    if (!expected)
      return reply(
          problem(http::status::bad_request, "bad-if-match", "If-Match is not valid", expected.error().detail));
    if (*expected) request->expected_version = **expected;
    request->reference = ctx->param("ref");
    request->actor = ctx->actor();
    run_action(api, std::move(request).value(), std::move(reply), render_case(api, http::status::ok));
  });
  staff(verb::get, "/v1/cases/{ref}/events", kAgentUp, false,
        [&api](const ContextPtr& ctx, Reply reply) { case_events(api, ctx, std::move(reply)); });
  staff(verb::get, "/v1/cases/{ref}/notifications", kAgentUp, false, [&api](const ContextPtr& ctx, Reply reply) {
    auto found = api.store.load_case(ctx->param("ref"));
    if (!found) return reply(problem_from(found.error()));
    auto views = api.store.case_notifications(ctx->param("ref"));
    if (!views) return reply(problem_from(views.error()));
    json::array items;
    for (const auto& v : *views) items.push_back(notification_json(v));
    reply(json_response(http::status::ok, json::object{{"reference", ctx->param("ref")}, {"items", std::move(items)}}));
  });
  staff(verb::post, "/v1/cases/{ref}/messages", kAgentUp, true, [&api](const ContextPtr& ctx, Reply reply) {
    auto request = staff_action(ctx, ActionType::kAddMessage, ctx->param("ref"));
    if (!request) return reply(problem_from(request.error()));
    run_action(api, std::move(request).value(), std::move(reply), [](const Committed& c) {
      Response r = json_response(http::status::created, message_json(c.change.messages.front()));
      set_etag(r, c.change.after.version);
      return r;
    });
  });
  staff(verb::post, "/v1/cases/{ref}/commitments", kAgentUp, true, [&api](const ContextPtr& ctx, Reply reply) {
    auto request = staff_action(ctx, ActionType::kMakeCommitment, ctx->param("ref"));
    if (!request) return reply(problem_from(request.error()));
    run_action(api, std::move(request).value(), std::move(reply), [](const Committed& c) {
      Response r =
          json_response(http::status::created, commitment_json(c.change.commitments.front(), c.change.after.reference));
      r.set(http::field::location, "/v1/commitments?case=" + c.change.after.reference);
      set_etag(r, c.change.after.version);
      return r;
    });
  });
  staff(verb::post, "/v1/cases/{ref}/redress", kAgentUp, true, [&api](const ContextPtr& ctx, Reply reply) {
    auto request = staff_action(ctx, ActionType::kOfferRedress, ctx->param("ref"));
    if (!request) return reply(problem_from(request.error()));
    run_action(api, std::move(request).value(), std::move(reply), [](const Committed& c) {
      Response r = json_response(http::status::created, redress_json(c.change.redress.front()));
      set_etag(r, c.change.after.version);
      return r;
    });
  });
  staff(verb::post, "/v1/cases/{ref}/client-link", kAgentUp, false, [&api](const ContextPtr& ctx, Reply reply) {
    auto link = api.keyring.new_client_link();
    if (auto s = api.store.replace_client_link(ctx->param("ref"), link.nonce, link.hash); !s)
      return reply(problem_from(s.error()));
    reply(json_response(http::status::created, json::object{{"client_url", client_url(api, link.token)}}));
  });
  staff(verb::delete_, "/v1/cases/{ref}/client-link", kAgentUp, false, [&api](const ContextPtr& ctx, Reply reply) {
    if (auto s = api.store.replace_client_link(ctx->param("ref"), "", ""); !s) return reply(problem_from(s.error()));
    Response r{http::status::no_content, 11};
    reply(std::move(r));
  });

  // Commitments and redress.
  staff(verb::get, "/v1/commitments", kAgentUp, false,
        [&api](const ContextPtr& ctx, Reply reply) { list_commitments(api, ctx, std::move(reply)); });
  staff(verb::post, "/v1/commitments/{id}/keep", kAgentUp, true, [&api](const ContextPtr& ctx, Reply reply) {
    commitment_action(api, ctx, std::move(reply), ActionType::kKeepCommitment);
  });
  staff(verb::post, "/v1/commitments/{id}/renegotiate", kAgentUp, true, [&api](const ContextPtr& ctx, Reply reply) {
    commitment_action(api, ctx, std::move(reply), ActionType::kRenegotiateCommitment);
  });
  staff(verb::post, "/v1/commitments/{id}/handle", kAgentUp, true, [&api](const ContextPtr& ctx, Reply reply) {
    auto id = id_param(ctx->param("id"), 'k');
    if (!id)
      return reply(problem(http::status::not_found, "not-found", "Not found", "no commitment " + ctx->param("id")));
    auto reference = api.store.commitment_case(*id);
    if (!reference) return reply(problem_from(reference.error()));
    const json::object& body = ctx->body;
    for (const auto& [key, value] : body)
      if (key != "note")
        return reply(problem_from(Error::invalid_field(std::string(key), "is not a field of this operation")));
    const json::value* note = body.if_contains("note");
    if (!note || !note->is_string())
      return reply(problem_from(Error::invalid_field("note", "is required: say what was done")));
    api.engine.handle_breach(*reference, *id, ctx->actor(), std::string(note->get_string()),
                             [&api, reply = std::move(reply), id = *id](Result<Committed> result) mutable {
                               api.defer([result = std::move(result), reply = std::move(reply), id]() mutable {
                                 if (!result) return reply(problem_from(result.error()));
                                 json::object out{{"case", result->change.after.reference}};
                                 for (const auto& k : result->change.commitments)
                                   if (k.id == id)
                                     out["commitment"] = commitment_json(k, result->change.after.reference);
                                 Response response = json_response(http::status::ok, out);
                                 set_etag(response, result->change.after.version);
                                 reply(std::move(response));
                               });
                             });
  });
  staff(verb::post, "/v1/redress/{id}/fulfil", kAgentUp, true, [&api](const ContextPtr& ctx, Reply reply) {
    auto id = id_param(ctx->param("id"), 'r');
    if (!id) return reply(problem(http::status::not_found, "not-found", "Not found", "no redress " + ctx->param("id")));
    auto reference = api.store.redress_case(*id);
    if (!reference) return reply(problem_from(reference.error()));
    ctx->body["redress_id"] = *id;
    auto request = staff_action(ctx, ActionType::kFulfilRedress, *reference);
    if (!request) return reply(problem_from(request.error()));
    run_action(api, std::move(request).value(), std::move(reply), [id = *id](const Committed& c) {
      json::object body{{"case", c.change.after.reference}};
      for (const auto& r : c.change.redress)
        if (r.id == id) body["redress"] = redress_json(r);
      Response response = json_response(http::status::ok, body);
      set_etag(response, c.change.after.version);
      return response;
    });
  });

  // Reports.
  staff(verb::get, "/v1/reports/overdue", kLeadUp, false,
        [&api](const ContextPtr& ctx, Reply reply) { overdue_report(api, ctx, std::move(reply)); });
  staff(verb::get, "/v1/reports/owners", kLeadUp, false,
        [&api](const ContextPtr& ctx, Reply reply) { owners_report(api, ctx, std::move(reply)); });
  open(verb::get, "/v1/reports/standards", Access::kPublic, false,
       [&api](const ContextPtr&, Reply reply) { standards_report(api, std::move(reply)); });

  // The client's private link.
  open(verb::get, "/v1/client/{token}", Access::kClientLink, false, [&api](const ContextPtr& ctx, Reply reply) {
    auto snapshot = client_link_case(api, ctx->param("token"));
    if (!snapshot) return reply(problem_from(snapshot.error()));
    reply(client_view(api, *snapshot, http::status::ok));
  });
  open(verb::post, "/v1/client/{token}/messages", Access::kClientLink, true,
       [&api](const ContextPtr& ctx, Reply reply) {
         client_action(api, ctx, std::move(reply), ActionType::kAddMessage);
       });
  open(verb::post, "/v1/client/{token}/redress/{id}/accept", Access::kClientLink, true,
       [&api](const ContextPtr& ctx, Reply reply) {
         client_action(api, ctx, std::move(reply), ActionType::kAcceptRedress);
       });
  open(verb::post, "/v1/client/{token}/redress/{id}/reject", Access::kClientLink, true,
       [&api](const ContextPtr& ctx, Reply reply) {
         client_action(api, ctx, std::move(reply), ActionType::kRejectRedress);
       });
  open(verb::post, "/v1/client/{token}/survey", Access::kClientLink, true, [&api](const ContextPtr& ctx, Reply reply) {
    client_action(api, ctx, std::move(reply), ActionType::kSubmitSurvey);
  });
  open(
      verb::post, "/v1/client/{token}/withdraw", Access::kClientLink, true,
      [&api](const ContextPtr& ctx, Reply reply) { client_action(api, ctx, std::move(reply), ActionType::kWithdraw); });
  open(verb::post, "/v1/client/{token}/reopen", Access::kClientLink, true,
       [&api](const ContextPtr& ctx, Reply reply) { client_action(api, ctx, std::move(reply), ActionType::kReopen); });

  // Web hook subscriptions.
  staff(verb::post, "/v1/webhooks", kAdminOnly, true,
        [&api](const ContextPtr& ctx, Reply reply) { create_subscription(api, ctx, std::move(reply)); });
  staff(verb::get, "/v1/webhooks", kAdminOnly, false, [&api](const ContextPtr&, Reply reply) {
    auto all = api.store.list_subscriptions();
    if (!all) return reply(problem_from(all.error()));
    json::array items;
    for (const auto& s : *all) items.push_back(subscription_json(s));
    reply(json_response(http::status::ok, json::object{{"items", std::move(items)}}));
  });
  staff(verb::delete_, "/v1/webhooks/{id}", kAdminOnly, false, [&api](const ContextPtr& ctx, Reply reply) {
    std::string text = ctx->param("id");
    auto id = parse_display_id(text.rfind("wh-", 0) == 0 ? text.substr(3) : text, 'x');
    if (!id)
      return reply(problem(http::status::not_found, "not-found", "Not found", "no web hook subscription " + text));
    if (auto s = api.store.delete_subscription(*id); !s) return reply(problem_from(s.error()));
    reply(Response{http::status::no_content, 11});
  });

  // The outbox's dead letters: shown to admins, sent again on request.
  staff(verb::get, "/v1/admin/outbox", kAdminOnly, false, [&api](const ContextPtr& ctx, Reply reply) {
    auto state = ctx->query_value("state").value_or("dead");
    if (state != "dead")
      return reply(
          bad_query("state", "only dead notifications are listed here; a case's are at /v1/cases/{ref}/notifications"));
    auto dead = api.store.dead_notifications(500);
    if (!dead) return reply(problem_from(dead.error()));
    json::array items;
    for (const auto& v : *dead) items.push_back(notification_json(v));
    reply(json_response(http::status::ok, json::object{{"items", std::move(items)}}));
  });
  staff(verb::post, "/v1/admin/outbox/retry", kAdminOnly, true, [&api](const ContextPtr& ctx, Reply reply) {
    const json::object& body = ctx->body;
    for (const auto& [key, value] : body)
      if (key != "id" && key != "all")
        return reply(problem_from(Error::invalid_field(std::string(key), "is not a field of this operation")));
    const json::value* id = body.if_contains("id");
    const json::value* all = body.if_contains("all");
    if ((id != nullptr) == (all != nullptr))
      return reply(
          problem_from(Error::invalid_field("id", "give the dead notification's id (\"n-12\") or \"all\": true")));
    std::optional<std::int64_t> which;
    if (id) {
      std::string text = id->is_string() ? std::string(id->get_string()) : std::string();
      which = parse_display_id(text, 'n');
      if (!which) return reply(problem_from(Error::invalid_field("id", "must be a notification id like \"n-12\"")));
    } else if (!all->is_bool() || !all->get_bool()) {
      return reply(problem_from(Error::invalid_field("all", "must be true")));
    }
    auto moved = api.store.retry_notifications(which, api.engine.clock().now());
    if (!moved) return reply(problem_from(moved.error()));
    if (api.on_outbox_retry) api.on_outbox_retry();
    reply(json_response(http::status::ok, json::object{{"requeued", *moved}}));
  });

  // Intake hooks from other systems.
  open(verb::post, "/hooks/intake/{source}", Access::kIntakeHook, false,
       [&api](const ContextPtr& ctx, Reply reply) { intake_hook(api, ctx, std::move(reply)); });

  // The manual clock.
  staff(verb::post, "/v1/admin/clock", kAdminOnly, true, [&api](const ContextPtr& ctx, Reply reply) {
    if (!api.manual_clock)
      return reply(problem(http::status::not_found, "not-found", "Not found", "the server runs on the system clock"));
    const json::object& body = ctx->body;
    const json::value* advance = body.if_contains("advance");
    const json::value* set = body.if_contains("set");
    if ((advance != nullptr) == (set != nullptr) || body.size() != 1)
      return reply(problem_from(Error::invalid_field(
          "advance", "give exactly one of advance (an ISO 8601 duration) or set (an RFC 3339 time)")));
    Time now = api.manual_clock->now();
    if (advance) {
      auto d = advance->is_string() ? parse_duration(advance->get_string()) : std::nullopt;
      if (!d || d->total() < Duration::zero())
        return reply(problem_from(Error::invalid_field("advance", "must be an ISO 8601 duration like \"PT4H\"")));
      api.manual_clock->set(now + d->total());
    } else {
      auto t = set->is_string() ? parse_time(set->get_string()) : std::nullopt;
      if (!t) return reply(problem_from(Error::invalid_field("set", "must be an RFC 3339 time")));
      if (*t < now)
        return reply(problem_from(Error::invalid_field("set", "the clock never goes back; it is " + format_time(now))));
      api.manual_clock->set(*t);
    }
    if (api.on_clock_moved) api.on_clock_moved();
    reply(json_response(http::status::ok,
                        json::object{{"now", format_time(api.manual_clock->now())}, {"previous", format_time(now)}}));
  });

  // Operations.
  open(verb::get, "/healthz", Access::kPublic, false, [&api](const ContextPtr&, Reply reply) {
    auto probe = api.store.find_staff("healthz-probe@invalid");
    if (!probe && probe.error().code != ErrorCode::kNotFound)
      return reply(problem_from(Error::unavailable("the database is not readable: " + probe.error().detail)));
    // Reads are served while writes are refused (full disk, read-only database): 200, "degraded".
    json::object health{{"status", "ok"}, {"time", format_time(api.engine.clock().now())}};
    if (auto failure = api.store.write_failure()) {
      health["status"] = "degraded";
      health["writes"] = "refused: " + *failure;
    }
    reply(json_response(http::status::ok, std::move(health)));
  });
  open(verb::get, "/metrics", Access::kPublic, false, [&api](const ContextPtr&, Reply reply) {
    Metrics::Gauges gauges;
    if (auto counts = api.store.count_cases_by_status()) gauges.cases_by_status = *counts;
    if (auto open = api.store.count_open_commitments()) gauges.open_commitments = *open;
    gauges.store = api.store.write_stats();
    if (api.view_cache) {
      auto counters = api.view_cache->counters();
      gauges.view_cache = true;
      gauges.view_cache_hits = counters.hits;
      gauges.view_cache_misses = counters.misses;
      gauges.view_cache_entries = counters.entries;
      gauges.view_cache_bytes = counters.bytes;
    }
    Response response{http::status::ok, 11};
    response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    response.body() = api.metrics.render(gauges);
    reply(std::move(response));
  });
  open(verb::get, "/v1/openapi.json", Access::kPublic, false, [&api](const ContextPtr&, Reply reply) {
    Response response{http::status::ok, 11};
    response.set(http::field::content_type, "application/json");
    response.set(http::field::cache_control, "public, max-age=300");
    response.body() = api.openapi_document;
    reply(std::move(response));
  });
}

}  // namespace redress::web
