// The v1 API's cases: creating, listing and reading them, acting on them, and what hangs off one
// (events, notifications, messages, commitments and redress made on it). See web/api_internal.h.
#include <boost/json.hpp>

#include <algorithm>
#include <map>

#include "adapters/security/secrets.h"
#include "engine/hash_chain.h"
#include "web/api_internal.h"
#include "web/attachments.h"
#include "web/query.h"
#include "web/views.h"

namespace redress::web {

namespace json = boost::json;

namespace {

// The body of the staff view of a case; `client_token` is its live client link, if any.
std::string case_body(ApiContext& api, const CaseSnapshot& snapshot, const std::optional<Staff>& owner,
                      const std::vector<Message>& messages, const std::optional<std::string>& client_token) {
  const Workflow* workflow = api.engine.workflows().find(snapshot.record.workflow);
  json::object body = case_json(snapshot, owner, api.engine.allowed_actions(snapshot.record), messages, workflow);
  // The letters staff start from, with the variable parts each needs (web/letters.h).
  json::array letters;
  if (api.letters)
    for (const auto& letter : api.letters->letters(snapshot.record.workflow)) {
      json::array variables;
      for (const auto& v : letter.variables) variables.emplace_back(v);
      json::object o{{"name", letter.name}, {"for", to_string(letter.purpose)}, {"variables", std::move(variables)}};
      if (letter.outcome) o["outcome"] = to_string(*letter.outcome);
      letters.push_back(std::move(o));
    }
  body["letters"] = std::move(letters);
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

// The staff view of `view` as an answer, kept in the view cache (when on) for the reads to come.
Response view_response(ApiContext& api, const CaseView& view, http::status status) {
  std::optional<std::string> token;
  if (view.client_link_nonce) token = api.keyring.client_token(*view.client_link_nonce);
  std::string body = with_privacy(case_body(api, view.snapshot, view.owner, view.messages, token), view.privacy);
  if (api.view_cache) {
    auto rendering = std::make_shared<ViewCache::Rendering>();
    rendering->stamp = stamp_of(view);
    rendering->rendered_at = api.engine.clock().now();
    rendering->valid_until = api.engine.allowed_actions_until(view.snapshot.record);
    rendering->body = body;
    api.view_cache->put(view.snapshot.record.reference, std::move(rendering));
  }
  return case_body_response(status, std::move(body), view.snapshot.record.version);
}

// The staff view of a stored case. With the view cache on, the case's stamp is read first (one
// statement) and a rendering made from the same stamp is answered as it is; otherwise the view is
// read in one go (Store::load_case_view), rendered and kept.
Response case_response(ApiContext& api, const std::string& reference, http::status status,
                       const Actor* viewer = nullptr) {
  // A restricted case is for admins only (docs/personal-data.md); the stamp or view says.
  const bool refuse_restricted = viewer != nullptr && api.personal != nullptr && !may_see_restricted(*viewer);
  if (api.view_cache) {
    auto stamp = api.reads.case_view_stamp(reference);
    if (!stamp) return problem_from(stamp.error());
    if (refuse_restricted && stamp->privacy == PrivacyState::kRestricted) return restricted_problem(api, reference);
    if (auto hit = api.view_cache->find(reference, *stamp, api.engine.clock().now()))
      return case_body_response(status, hit->body, hit->stamp.version);
  }
  auto view = api.reads.load_case_view(reference);
  if (!view) return problem_from(view.error());
  if (refuse_restricted && view->privacy.state == PrivacyState::kRestricted) return restricted_problem(api, reference);
  return view_response(api, *view, status);
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
  return case_body_response(
      http::status::created,
      case_body(api, snapshot, staff_or_none(api.staff, change.after.owner_id), messages,
                change.client_link_hash.empty() ? std::nullopt : std::optional<std::string>(client_token)),
      change.after.version);
}

// A Renderer for an action's answer that is one new row of the case (a message, a commitment, an
// offer): `row` as JSON, 201, with the case's new version as its ETag.
template <typename RowJson>
Renderer created_row(RowJson row_json) {
  return [row_json](const Committed& committed) {
    Response response = json_response(http::status::created, row_json(committed.change));
    set_etag(response, committed.change.after.version);
    return response;
  };
}

// {"reference", "items": each of `rows` as JSON} for one of a case's lists; the read's problem when it failed.
template <typename Row>
Response case_rows(const std::string& reference, const Result<std::vector<Row>>& rows,
                   json::object (*row_json)(const Row&)) {
  if (!rows) return problem_from(rows.error());
  json::array items;
  for (const auto& row : *rows) items.push_back(row_json(row));
  return json_response(http::status::ok, json::object{{"reference", reference}, {"items", std::move(items)}});
}

}  // namespace

void create_case(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  if (ctx->staff && ctx->staff->role == Role::kIntake)
    if (auto verdict = api.intake_limiter->take("token:" + ctx->staff->id); !verdict.allowed)
      return reply(too_many(verdict));
  auto request = decode_new_case(ctx->body);
  if (!request) return reply(problem_from(request.error()));
  if (auto s = check_receipt_window(*request, api.engine.clock().now(), api.settings.backdate_window); !s)
    return reply(problem_from(s.error()));
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
          // A replay answers with the case as it is now, which may have moved on since its creation.
          Response response = committed.replayed ? case_response(api, reference, http::status::created)
                                                 : created_case_response(api, committed.change, token);
          response.set(http::field::location, "/v1/cases/" + reference);
          if (committed.replayed) response.set("Idempotent-Replayed", "true");
          reply(std::move(response));
        });
      });
}

void list_cases(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  QueryReader query(*ctx);
  CaseFilter filter;
  filter.status = query.choice("status", &parse_CaseStatus, "a case status");
  filter.owner_id = owner_param(query, *ctx);
  filter.workflow = query.text("workflow", 200);
  filter.escalation_level = query.whole_number("escalation_level", 0, 20);
  filter.overdue = query.flag("overdue", false);
  filter.team = query.text("team", 200);
  filter.tags = query.tags("tag");
  filter.received_from = query.time("received_from");
  filter.received_to = query.time("received_to");
  std::string text = query.text("q", 200);
  PageRequest asked = page_request(query);
  if (query.refusal()) return reply(*query.refusal());
  auto page = text.empty() ? api.reads.list_cases(filter, asked.cursor, asked.limit)
                           : api.search.search_cases(text, filter, asked.cursor, asked.limit);
  if (!page) return reply(list_failure(page.error()));
  json::array items;
  std::map<std::string, std::optional<Staff>> owners;
  for (const auto& c : page->cases) {
    if (!owners.count(c.owner_id)) owners[c.owner_id] = staff_or_none(api.staff, c.owner_id);
    items.push_back(case_summary_json(c, owners[c.owner_id]));
  }
  reply(json_response(http::status::ok, page_json(std::move(items), page->next_cursor)));
}

void get_case(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  const Actor viewer = ctx->actor();
  reply(case_response(api, ctx->param("ref"), http::status::ok, &viewer));
}

// Any action by name ({"action": "acknowledge", ...}); the answer is the case as the action left it,
// made from the view it was planned on and its Change. A letter ({"letter", "variables"}) is
// written from the case as it is read here.
void act_on_case(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  std::optional<CaseView> read;
  if (ctx->body.contains("letter") || ctx->body.contains("variables")) {
    const json::value* action = ctx->body.if_contains("action");
    const auto type = action && action->is_string() ? parse_ActionType(action->get_string()) : std::nullopt;
    if (type) {
      auto view = api.reads.load_case_view(ctx->param("ref"));
      if (!view) return reply(problem_from(view.error()));
      read = std::move(view).value();
      auto lettered = with_letter(api, ctx->param("ref"), *type, ctx->body, &*read);
      if (!lettered) return reply(problem_from(lettered.error()));
      ctx->body = std::move(lettered).value();
    }
  }
  auto request = decode_action(ctx->body);
  if (!request) return reply(problem_from(request.error()));
  auto expected = if_match(ctx->request);
  if (!expected)
    return reply(problem(http::status::bad_request, "bad-if-match", "If-Match is not valid", expected.error().detail));
  if (*expected) request->expected_version = **expected;
  request->reference = ctx->param("ref");
  request->actor = ctx->actor();
  auto before = read ? Result<CaseView>(std::move(*read)) : api.reads.load_case_view(request->reference);
  if (!before) return reply(problem_from(before.error()));
  if (api.personal && before->privacy.state == PrivacyState::kRestricted && !may_see_restricted(request->actor))
    return reply(restricted_problem(api, request->reference));
  run_action(api, std::move(request).value(), std::move(reply),
             [&api, before = std::move(before).value()](const Committed& committed) {
               if (auto after = view_after(api, before, committed.change))
                 return view_response(api, *after, http::status::ok);
               // Another change came between the read and the plan: the case as it is now.
               auto now = api.reads.load_case_view(committed.change.after.reference);
               if (!now) return problem_from(now.error());
               return view_response(api, *now, http::status::ok);
             });
}

void correct_case(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  auto correction = decode_case_correction(ctx->body);
  if (!correction) return reply(problem_from(correction.error()));
  auto expected = if_match(ctx->request);
  if (!expected)
    return reply(problem(http::status::bad_request, "bad-if-match", "If-Match is not valid", expected.error().detail));
  api.engine.correct_case(ctx->param("ref"), std::move(correction).value(), *expected, ctx->actor(),
                          answer_when_committed(api, std::move(reply), [&api](const Committed& committed) {
                            auto now = api.reads.load_case_view(committed.change.after.reference);
                            if (!now) return problem_from(now.error());
                            return view_response(api, *now, http::status::ok);
                          }));
}

void case_events(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  const std::string& reference = ctx->param("ref");
  reply(case_rows(reference, api.reads.case_events(reference), &event_json));
}

void case_notifications(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  const std::string& reference = ctx->param("ref");
  // An unknown case is 404, not an empty list.
  if (auto found = api.reads.case_view_stamp(reference); !found) return reply(problem_from(found.error()));
  reply(case_rows(reference, api.outbox.case_notifications(reference), &notification_json));
}

void add_message(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  // JSON, or multipart/form-data with files (web/attachments.h).
  auto files = take_form_files(api.blobs, api.settings.attachments, *ctx, {"expected_version"});
  if (!files) return reply(problem_from(files.error()));
  run_staff_action(
      api, ctx, std::move(reply), ActionType::kAddMessage, ctx->param("ref"),
      created_row([](const Change& change) { return message_json(change.messages.front(), change.after.reference); }),
      std::move(files).value());
}

void message_attachment(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  auto messages = api.reads.case_messages(ctx->param("ref"));
  if (!messages) return reply(problem_from(messages.error()));
  reply(attachment_of(api, *messages, ctx->param("id"), ctx->param("n"), Visibility::kInternal));
}

void make_commitment(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  Renderer row = created_row(
      [](const Change& change) { return commitment_json(change.commitments.front(), change.after.reference); });
  run_staff_action(api, ctx, std::move(reply), ActionType::kMakeCommitment, ctx->param("ref"),
                   [row](const Committed& committed) {
                     Response response = row(committed);
                     response.set(http::field::location, "/v1/commitments?case=" + committed.change.after.reference);
                     return response;
                   });
}

void offer_redress(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  run_staff_action(api, ctx, std::move(reply), ActionType::kOfferRedress, ctx->param("ref"),
                   created_row([](const Change& change) { return redress_json(change.redress.front()); }));
}

}  // namespace redress::web
