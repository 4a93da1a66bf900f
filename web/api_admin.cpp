// The v1 API's administration and operations: the outbox's dead letters, the manual clock,
// /healthz, /metrics and the OpenAPI document. See web/api_internal.h.
#include <boost/json.hpp>

#include "web/api_internal.h"
#include "web/query.h"
#include "web/subject_export.h"
#include "web/views.h"

namespace redress::web {

namespace json = boost::json;

void dead_notifications(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  QueryReader query(*ctx);
  std::string state = query.text("state", 20, "dead");
  if (query.refusal()) return reply(*query.refusal());
  if (state != "dead")
    return reply(
        bad_query("state", "only dead notifications are listed here; a case's are at /v1/cases/{ref}/notifications"));
  auto dead = api.outbox.dead_notifications(500);
  if (!dead) return reply(problem_from(dead.error()));
  json::array items;
  for (const auto& v : *dead) items.push_back(notification_json(v));
  reply(json_response(http::status::ok, json::object{{"items", std::move(items)}}));
}

void retry_notifications(ApiContext& api, const ContextPtr& ctx, Reply reply) {
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
  auto moved = api.outbox.retry_notifications(which, api.engine.clock().now());
  if (!moved) return reply(problem_from(moved.error()));
  if (api.on_outbox_retry) api.on_outbox_retry();
  reply(json_response(http::status::ok, json::object{{"requeued", *moved}}));
}

// Everything held about one client (web/subject_export.h), as a tar download. The reads run off
// the I/O threads: a client with many cases and files takes a while.
void export_subject_archive(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  QueryReader query(*ctx);
  std::string email = query.text("email", 320);
  if (query.refusal()) return reply(*query.refusal());
  if (email.empty()) return reply(bad_query("email", "is required: the client's email address"));
  if (!api.blobs || !api.inbound_records || !api.blocking)
    return reply(problem(http::status::service_unavailable, "subject-export-unavailable",
                         "Subject export is not available", "this server keeps no files or inbound mail"));
  api.blocking([&api, email = std::move(email), reply = std::move(reply)]() mutable {
    SubjectSources sources{api.reads, api.outbox, *api.blobs, *api.inbound_records, api.engine.workflows()};
    auto archive = export_subject(sources, email, api.engine.clock().now());
    api.defer([archive = std::move(archive), reply = std::move(reply)]() mutable {
      if (!archive) return reply(problem_from(archive.error()));
      Response response{http::status::ok, 11};
      response.set(http::field::content_type, "application/x-tar");
      response.set(http::field::content_disposition, "attachment; filename=\"redress-subject.tar\"");
      response.set(http::field::cache_control, "private, no-store");
      response.set("X-Redress-Cases", std::to_string(archive->cases));
      response.body() = std::move(archive->bytes);
      response.prepare_payload();
      reply(std::move(response));
    });
  });
}

void move_clock(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  if (!api.manual_clock) return reply(not_found("the server runs on the system clock"));
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
}

void health_check(ApiContext& api, const ContextPtr&, Reply reply) {
  auto probe = api.staff.find_staff("healthz-probe@invalid");
  if (!probe && probe.error().code != ErrorCode::kNotFound)
    return reply(problem_from(Error::unavailable("the database is not readable: " + probe.error().detail)));
  // Reads are served while writes are refused (full disk, read-only database): 200, "degraded".
  json::object health{{"status", "ok"}, {"time", format_time(api.engine.clock().now())}};
  if (auto failure = api.engine.store().write_failure()) {
    health["status"] = "degraded";
    health["writes"] = "refused: " + *failure;
  }
  // Business calendars that end within 90 days: past the end, deadlines on them are refused.
  json::array calendars;
  for (const auto& ending : calendars_ending(api.engine.workflows(), api.engine.clock().now())) {
    calendars.push_back(json::object{{"workflow", ending.workflow},
                                     {"zone", ending.zone},
                                     {"last_year", ending.last_year},
                                     {"ends", format_date(ending.ends)},
                                     {"days_left", std::max<std::int64_t>(ending.days_left, 0)},
                                     {"message", calendar_warning(ending)}});
    if (ending.days_left <= 0) health["status"] = "degraded";
  }
  if (!calendars.empty()) health["calendars"] = std::move(calendars);
  // Mail that cannot be delivered: the relay refuses or cannot be reached; it waits and is retried.
  if (api.mail_health) {
    if (auto failing = api.mail_health->failing()) {
      health["status"] = "degraded";
      health["mail"] = json::object{{"status", "failing"}, {"since", format_time(failing->second)},
                                    {"detail", failing->first}};
    } else {
      health["mail"] = json::object{{"status", "ok"}};
    }
  }
  reply(json_response(http::status::ok, std::move(health)));
}

void metrics_exposition(ApiContext& api, const ContextPtr&, Reply reply) {
  Metrics::Gauges gauges;
  if (auto counts = api.reads.count_cases_by_status()) gauges.cases_by_status = *counts;
  if (auto open = api.reads.count_open_commitments()) gauges.open_commitments = *open;
  gauges.store = api.engine.store().write_stats();
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
}

void openapi_document(ApiContext& api, const ContextPtr&, Reply reply) {
  Response response{http::status::ok, 11};
  response.set(http::field::content_type, "application/json");
  response.set(http::field::cache_control, "public, max-age=300");
  response.body() = api.openapi_document;
  reply(std::move(response));
}

}  // namespace redress::web
