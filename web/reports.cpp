#include "web/reports.h"

#include <future>

#include <boost/json.hpp>

#include <map>

#include "engine/actions.h"
#include "web/pages/html.h"
#include "web/query.h"
#include "web/survey_results.h"
#include "web/views.h"

namespace redress::web {

namespace json = boost::json;
namespace {

json::value staff_ref(const std::map<std::string, Staff>& staff, const std::string& id) {
  if (id.empty()) return nullptr;
  auto it = staff.find(id);
  if (it == staff.end()) return json::object{{"id", id}, {"name", nullptr}, {"team", nullptr}};
  return json::object{{"id", id}, {"name", it->second.name}, {"team", it->second.team}};
}

json::object item_json(const ReportItem& item, Time now) {
  json::object o = commitment_json(item.commitment, item.reference);
  o["case_subject"] = item.case_subject;
  o["team"] = item.team;
  o["escalation_level"] = item.escalation_level;
  if (!item.commitment.paused() && item.commitment.due_at <= now)
    o["overdue_by"] = format_duration(now - item.commitment.due_at);
  else if (!item.commitment.paused())
    o["due_in"] = format_duration(item.commitment.due_at - now);
  return o;
}

json::value ratio(std::int64_t good, std::int64_t bad) {
  if (good + bad == 0) return nullptr;
  return static_cast<double>(good) / static_cast<double>(good + bad);
}

json::value mean(Duration total, std::int64_t n) {
  if (n <= 0) return nullptr;
  return json::value(format_duration(Duration(total.count() / n)));
}

}  // namespace

std::map<std::string, Staff> staff_by_id(StaffDirectory& staff) {
  std::map<std::string, Staff> out;
  if (auto all = staff.list_staff())
    for (auto& s : *all) out.emplace(s.id, s);
  return out;
}

PledgeAttainment attainment_of(const std::vector<PledgeAttainment>& report, const std::string& workflow,
                               const std::string& clock) {
  for (const auto& a : report)
    if (a.workflow == workflow && a.clock == clock) return a;
  PledgeAttainment none;
  none.workflow = workflow;
  none.clock = clock;
  return none;
}

void overdue_report(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  QueryReader query(*ctx);
  int limit = query.limit(5000, 500);
  if (query.refusal()) return reply(*query.refusal());
  Time now = api.engine.clock().now();
  auto report = api.reports.overdue_report(now, limit);
  if (!report) return reply(problem_from(report.error()));
  auto staff = staff_by_id(api.staff);
  // By owner: each owner's (or, unowned, each team's) three lists.
  struct Group {
    json::array past_due, at_risk, broken_unhandled;
    std::string team;
  };
  std::map<std::string, Group> groups;
  auto add = [&](const std::vector<ReportItem>& items, json::array Group::*list) {
    for (const auto& item : items) {
      std::string key = item.commitment.owner_id.empty() ? "team:" + item.team : item.commitment.owner_id;
      Group& g = groups[key];
      g.team = item.team;
      (g.*list).push_back(item_json(item, now));
    }
  };
  add(report->past_due, &Group::past_due);
  add(report->at_risk, &Group::at_risk);
  add(report->broken_unhandled, &Group::broken_unhandled);
  json::array owners;
  for (auto& [key, g] : groups) {
    bool unowned = key.rfind("team:", 0) == 0;
    std::size_t count = g.past_due.size() + g.at_risk.size() + g.broken_unhandled.size();
    owners.push_back(json::object{{"owner", unowned ? json::value(nullptr) : staff_ref(staff, key)},
                                  {"team", g.team},
                                  {"count", count},
                                  {"past_due", std::move(g.past_due)},
                                  {"at_risk", std::move(g.at_risk)},
                                  {"broken_unhandled", std::move(g.broken_unhandled)}});
  }
  reply(json_response(http::status::ok,
                      json::object{{"generated_at", format_time(now)},
                                   {"totals", json::object{{"past_due", report->past_due_total},
                                                           {"at_risk", report->at_risk_total},
                                                           {"broken_unhandled", report->broken_unhandled_total}}},
                                   {"limit", limit},
                                   {"owners", std::move(owners)}}));
}

void owners_report(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  QueryReader query(*ctx);
  int days = query.whole_number("days", 1, 3660, 90);
  if (query.refusal()) return reply(*query.refusal());
  Time now = api.engine.clock().now();
  Time since = now - std::chrono::days(days);
  // The RATER survey's answers about each owner's cases in the same window, read beside the rest.
  auto groups_future = std::async(std::launch::async, [&] { return api.reports.survey_by_group(since); });
  auto stats = api.reports.owner_report(since);
  auto groups = groups_future.get();
  if (!stats) return reply(problem_from(stats.error()));
  if (!groups) return reply(problem_from(groups.error()));
  const std::map<std::string, SurveyResults> survey = survey_results_by(*groups, SurveyGroup::kOwner);
  auto survey_of = [&](const std::string& owner) {
    auto it = survey.find(owner);
    return it == survey.end() ? SurveyResults{} : it->second;
  };
  auto staff = staff_by_id(api.staff);

  const auto accept = ctx->request[http::field::accept];
  if (accept.find("text/csv") != std::string_view::npos) {
    std::string csv =
        "owner_id,owner_name,team,open_cases,resolved_cases,promises_kept,promises_broken,commitments_open,"
        "commitments_kept,commitments_broken,mean_time_to_acknowledge,mean_time_to_resolve,survey_responses,"
        "survey_overall";
    for (auto dimension : rater_dimensions()) csv += ",survey_" + std::string(dimension);
    csv += ",survey_weakest\r\n";
    auto duration_or_empty = [](Duration total, std::int64_t n) {
      return n <= 0 ? std::string() : format_duration(Duration(total.count() / n));
    };
    for (const auto& o : *stats) {
      auto it = staff.find(o.owner_id);
      const SurveyResults results = survey_of(o.owner_id);
      std::vector<std::string> fields{o.owner_id,
                                      it == staff.end() ? std::string() : it->second.name,
                                      it == staff.end() ? std::string() : it->second.team,
                                      std::to_string(o.open_cases),
                                      std::to_string(o.resolved_cases),
                                      std::to_string(o.promises_kept),
                                      std::to_string(o.promises_broken),
                                      std::to_string(o.open_commitments),
                                      std::to_string(o.commitments_kept),
                                      std::to_string(o.commitments_broken),
                                      duration_or_empty(o.acknowledge_total, o.acknowledged),
                                      duration_or_empty(o.resolve_total, o.resolved_cases),
                                      std::to_string(results.responses)};
      auto average = [](std::optional<double> v) { return v ? average_text(v) : std::string(); };
      fields.push_back(average(results.overall()));
      for (std::size_t i = 0; i < rater_dimensions().size(); ++i) fields.push_back(average(results.dimension(i)));
      const auto weakest = results.weakest();
      fields.push_back(weakest ? std::string(rater_dimensions()[*weakest]) : std::string());
      for (std::size_t i = 0; i < fields.size(); ++i) csv += (i ? "," : "") + csv_field(fields[i]);
      csv += "\r\n";
    }
    Response response{http::status::ok, 11};
    response.set(http::field::content_type, "text/csv; charset=utf-8");
    response.set(http::field::content_disposition, "attachment; filename=\"redress-owners.csv\"");
    response.body() = std::move(csv);
    response.prepare_payload();
    return reply(std::move(response));
  }
  json::array items;
  for (const auto& o : *stats) {
    items.push_back(
        json::object{{"owner", staff_ref(staff, o.owner_id)},
                     {"open_cases", o.open_cases},
                     {"resolved_cases", o.resolved_cases},
                     {"promises", json::object{{"kept", o.promises_kept},
                                               {"broken", o.promises_broken},
                                               {"reliability", ratio(o.promises_kept, o.promises_broken)}}},
                     {"commitments", json::object{{"open", o.open_commitments},
                                                  {"kept", o.commitments_kept},
                                                  {"broken", o.commitments_broken},
                                                  {"reliability", ratio(o.commitments_kept, o.commitments_broken)}}},
                     {"mean_time_to_acknowledge", mean(o.acknowledge_total, o.acknowledged)},
                     {"mean_time_to_resolve", mean(o.resolve_total, o.resolved_cases)},
                     {"survey", survey_json(survey_of(o.owner_id))}});
  }
  reply(json_response(http::status::ok, json::object{{"generated_at", format_time(now)},
                                                     {"window_days", days},
                                                     {"since", format_time(since)},
                                                     {"items", std::move(items)}}));
}

namespace {

std::string target_text(const ClockTarget& t) {
  std::string text = format_duration(t.duration.total());
  return text + (t.basis == TimeBasis::kBusiness ? " business" : " calendar");
}

// One window of a pledge's attainment, counted honestly: met only when met by the time its rule
// set; renegotiated ones (kept on a later, agreed date) count against it and are shown as such.
json::object attainment_window(std::int64_t met, std::int64_t moved, std::int64_t renegotiated, std::int64_t broken) {
  return json::object{{"met", met},
                      {"moved", moved},
                      {"renegotiated", renegotiated},
                      {"broken", broken},
                      {"attainment", ratio(met, renegotiated + broken)}};
}

// How far a clock's pledges may move, as the standards report publishes it.
json::object renegotiation_json(const ClockRule& c) {
  json::object o{{"rule", to_string(c.renegotiation)}};
  if (c.exceptional_target) o["exceptional_target"] = target_text(*c.exceptional_target);
  if (c.renegotiation_limit) o["limit"] = format_duration(c.renegotiation_limit->total());
  return o;
}

}  // namespace

void standards_report(ApiContext& api, const ContextPtr&, Reply reply) {
  Time now = api.engine.clock().now();
  auto attainment = api.reports.standards_report(now);
  if (!attainment) return reply(problem_from(attainment.error()));
  json::array workflows;
  for (const auto& w : api.engine.workflows().all()) {
    json::array clocks;
    for (const auto& c : w.clocks) {
      const PledgeAttainment a = attainment_of(*attainment, w.name, c.name);
      json::object clock{{"clock", c.name},
                         {"text", c.text},
                         {"target", target_text(c.target)},
                         {"client_visible", c.client_visible},
                         {"renegotiation", renegotiation_json(c)},
                         {"last_30_days", attainment_window(a.met_30, a.moved_30, a.renegotiated_30, a.broken_30)},
                         {"last_90_days", attainment_window(a.met_90, a.moved_90, a.renegotiated_90, a.broken_90)}};
      if (!c.rule.empty()) clock["rule"] = c.rule;
      clocks.push_back(std::move(clock));
    }
    workflows.push_back(json::object{{"workflow", w.name},
                                     {"title", w.title},
                                     {"description", w.description},
                                     {"pledge", w.pledge},
                                     {"time_zone", w.calendar.zone_name()},
                                     {"clocks", std::move(clocks)}});
  }
  Response response = json_response(http::status::ok,
                                    json::object{{"generated_at", format_time(now)}, {"items", std::move(workflows)}});
  response.set(http::field::cache_control, "public, max-age=60");
  reply(std::move(response));
}

}  // namespace redress::web
