#include <boost/json.hpp>

#include <algorithm>
#include <charconv>

#include "web/api_internal.h"
#include "web/attachments.h"

namespace redress::web {

namespace json = boost::json;

namespace {

// Puts `changed` rows into `rows`, both by id: a row with the same id is replaced, a new one
// inserted in its place.
template <typename Row>
void put_by_id(std::vector<Row>& rows, const std::vector<Row>& changed) {
  for (const Row& row : changed) {
    auto place = std::partition_point(rows.begin(), rows.end(), [&row](const Row& r) { return r.id < row.id; });
    if (place == rows.end() || place->id != row.id) place = rows.insert(place, Row{});
    *place = row;
  }
}

}  // namespace

Response too_many(const RateLimiter::Verdict& verdict) {
  Response response = problem(http::status::too_many_requests, "rate-limited", "Too many cases created",
                              "this intake source created more cases than intake_rate_per_minute allows; retry after " +
                                  std::to_string(verdict.retry_after.count()) + " s");
  response.set(http::field::retry_after, std::to_string(verdict.retry_after.count()));
  return response;
}

Response not_found(const std::string& detail) {
  return problem(http::status::not_found, "not-found", "Not found", detail);
}

std::optional<Staff> staff_or_none(StaffDirectory& staff, const std::string& id) {
  if (id.empty()) return std::nullopt;
  auto member = staff.find_staff(id);
  if (!member) return std::nullopt;
  return std::move(member).value();
}

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

json::object page_json(json::array items, const std::string& next_cursor) {
  return json::object{{"items", std::move(items)},
                      {"next_cursor", next_cursor.empty() ? json::value(nullptr) : json::value(next_cursor)}};
}

Engine::Callback answer_when_committed(ApiContext& api, Reply reply, Renderer render) {
  return [&api, reply = std::move(reply), render = std::move(render)](Result<Committed> result) mutable {
    if (!result) {
      reply(problem_from(result.error()));
      return;
    }
    api.defer([reply = std::move(reply), render = std::move(render), committed = std::move(result).value()]() mutable {
      reply(render(committed));
    });
  };
}

void run_action(ApiContext& api, ActionRequest request, Reply reply, Renderer render) {
  api.engine.submit(std::move(request), answer_when_committed(api, std::move(reply), std::move(render)));
}

Result<json::object> with_letter(ApiContext& api, const std::string& reference, ActionType type, json::object body,
                                 const CaseView* view) {
  if (!body.contains("letter") && !body.contains("variables")) return body;
  std::optional<CaseView> read;
  if (!view) {
    auto loaded = api.reads.load_case_view(reference);
    if (!loaded) return loaded.error();
    read = std::move(loaded).value();
    view = &*read;
  }
  const Workflow* workflow = api.engine.workflows().find(view->snapshot.record.workflow);
  if (!workflow || !api.letters) return Error::invalid_field("letter", "this case's standard has no letters");
  LetterContext context;
  context.record = &view->snapshot.record;
  context.owner_name = view->owner ? view->owner->name : api.settings.organisation;
  context.organisation = api.settings.organisation;
  context.today = api.engine.clock().now();
  // In the client's language where it is shipped (docs/languages.md).
  if (api.languages) context.language = &api.languages->for_tag(view->snapshot.record.client.locale);
  // An extension states the new deadline: the due time the move asks for.
  if (const json::value* at = body.if_contains("due_at"); at && at->is_string()) {
    context.deadline = parse_time(at->get_string());
  } else if (const json::value* in = body.if_contains("due_in"); in && in->is_string()) {
    if (auto d = parse_duration(in->get_string())) {
      const json::value* basis = body.if_contains("due_basis");
      const bool business = basis && basis->is_string() && basis->get_string() == "business";
      try {
        context.deadline =
            workflow->calendar.add(context.today, *d, business ? TimeBasis::kBusiness : TimeBasis::kCalendar);
      } catch (const CalendarExhausted&) {
        // The move itself is refused for the same reason when it is planned.
      }
    }
  }
  return expand_letter(*api.letters, *workflow, type, std::move(body), context);
}

void run_staff_action(ApiContext& api, const ContextPtr& ctx, Reply reply, ActionType type,
                      const std::string& reference, Renderer render, std::vector<AttachmentRef> attachments) {
  auto lettered = with_letter(api, reference, type, ctx->body);
  if (!lettered) return reply(problem_from(lettered.error()));
  ctx->body = std::move(lettered).value();
  auto request = decode_action_fields(type, ctx->body);
  if (!request) return reply(problem_from(request.error()));
  request->attachments = std::move(attachments);
  auto expected = if_match(ctx->request);
  if (!expected) return reply(problem_from(expected.error()));
  if (*expected) request->expected_version = **expected;
  request->reference = reference;
  request->actor = ctx->actor();
  run_action(api, std::move(request).value(), std::move(reply), std::move(render));
}

Response attachment_of(ApiContext& api, const std::vector<Message>& messages, const std::string& message_id,
                       const std::string& n, Visibility visible) {
  auto id = parse_display_id(message_id, 'm');
  std::size_t index = 0;
  bool whole = !n.empty() && n.size() < 5 && n.find_first_not_of("0123456789") == std::string::npos;
  if (whole) index = static_cast<std::size_t>(std::stoul(n));
  for (const auto& m : messages) {
    if (!id || m.id != *id) continue;
    // A client link sees client-visible messages only; an internal one is as if it did not exist.
    if (visible == Visibility::kClient && m.visibility != Visibility::kClient) break;
    if (!whole || index >= m.attachments.size()) break;
    if (!api.blobs) break;
    auto bytes = api.blobs->get_blob(m.attachments[index].key);
    if (!bytes) return problem_from(bytes.error());
    return attachment_download(m.attachments[index], std::move(bytes).value());
  }
  return not_found("no such file on this case");
}

PageRequest page_request(QueryReader& query) {
  PageRequest page;
  page.limit = query.limit(200, 50);
  page.cursor = query.text("cursor", 2000);
  return page;
}

std::string owner_param(QueryReader& query, const RequestContext& ctx) {
  std::string owner = query.text("owner", 200);
  return owner == "me" && ctx.staff ? ctx.staff->id : owner;
}

Response list_failure(const Error& error) {
  if (error.code == ErrorCode::kInvalid) return bad_query("cursor", "is not a cursor this server issued");
  return problem_from(error);
}

std::optional<CaseView> view_after(ApiContext& api, const CaseView& before, const Change& change) {
  if (change.expected_version != before.snapshot.record.version) return std::nullopt;
  CaseView after = before;
  after.snapshot.record = change.after;
  if (change.clock_state) {
    after.snapshot.clock_state = *change.clock_state;
    after.snapshot.clock_fold = change.clock_fold;
  }
  put_by_id(after.snapshot.commitments, change.commitments);
  put_by_id(after.snapshot.redress, change.redress);
  put_by_id(after.messages, change.messages);
  if (change.after.owner_id != before.snapshot.record.owner_id)
    after.owner = staff_or_none(api.staff, change.after.owner_id);
  return after;
}

}  // namespace redress::web
