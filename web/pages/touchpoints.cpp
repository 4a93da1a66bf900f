// Moments of truth (issue 26, docs/measuring.md): a page per touchpoint for leads and managers,
// /staff/touchpoints/{touchpoint}, and the index of them all, /staff/touchpoints.
//
// A touchpoint is where a complaint arose (the configuration's [touchpoints.<id>]: its name, what
// happens there, the team that owns it). Its page shows the complaints that arose there in the last
// 90 days and their weekly trend over 12 weeks (a chart and its table), the commitments on its
// complaints that broke in those 90 days, what the clients said in the RATER survey by dimension,
// the top root causes of the complaints resolved, and the cases behind each number, linked. The
// index ranks every touchpoint by complaints per week and by broken commitments (the board shows it
// too). Read-only; every read is bounded whatever a touchpoint's history (ReportStore::
// touchpoint_report and touchpoint_counts: summaries, a covering index and LIMITed lists);
// thread-safe once registered.
#include "web/pages/touchpoints.h"

#include <boost/json.hpp>

#include <algorithm>
#include <map>

#include "adapters/templating/mustache.h"
#include "web/pages/charts.h"
#include "web/pages/page_support.h"
#include "web/pages/staff_session.h"
#include "web/reports.h"
#include "web/survey_results.h"

namespace redress::web {

namespace json = boost::json;

namespace touchpoint_pages {

const std::vector<Role> kManagers{Role::kLead, Role::kManager, Role::kAdmin};
constexpr int kWeeks = 12;
constexpr int kWindowDays = 90;
constexpr std::size_t kListed = 100;     // cases and broken commitments listed on a page

// Monday 00:00 UTC of the week holding `t` (as the board's trends count weeks).
Time monday_of(Time t) {
  using namespace std::chrono;
  auto day = floor<days>(t);
  weekday wd{day};
  return Time(duration_cast<Duration>((day - days((wd.c_encoding() + 6) % 7)).time_since_epoch()));
}

std::string week_text(Time week) {
  std::chrono::year_month_day ymd{std::chrono::floor<std::chrono::days>(week)};
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%02u-%02u", static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buffer;
}

std::string per_week_text(std::int64_t total, int weeks) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f", static_cast<double>(total) / weeks);
  return buffer;
}

std::string case_url(const std::string& reference) { return "/staff/cases/" + reference; }

}  // namespace touchpoint_pages

Result<std::vector<TouchpointRank>> rank_touchpoints(ApiContext& api, Time now,
                                                     const std::vector<WeeklyCount>* weekly_read) {
  const Time first_week = touchpoint_pages::monday_of(now) - std::chrono::days(7 * (touchpoint_pages::kWeeks - 1));
  std::vector<WeeklyCount> own;
  if (!weekly_read) {
    auto weekly = api.reports.weekly_counts(first_week);
    if (!weekly) return weekly.error();
    own = std::move(weekly).value();
    weekly_read = &own;
  }
  // Every touchpoint the configuration describes, and any other complaints came from lately.
  std::map<std::string, TouchpointRank> ranks;
  for (const auto& t : api.engine.workflows().touchpoint_list()) ranks[t.key].touchpoint = t;
  for (const auto& c : *weekly_read) {
    if (c.dimension != "touchpoint" || c.value.empty() || c.week_start < first_week) continue;
    TouchpointRank& rank = ranks[c.value];
    if (rank.touchpoint.key.empty())
      rank.touchpoint = Touchpoint{c.value, api.engine.workflows().touchpoint_name(c.value), "", ""};
    rank.received_12_weeks += c.received;
  }
  std::vector<std::string> keys;
  for (const auto& [key, rank] : ranks) keys.push_back(key);
  auto counts = api.reports.touchpoint_counts(keys, now - std::chrono::days(touchpoint_pages::kWindowDays));
  if (!counts) return counts.error();
  for (const auto& c : *counts) {
    ranks[c.touchpoint].received_90_days = c.received;
    ranks[c.touchpoint].broken_90_days = c.broken;
  }
  std::vector<TouchpointRank> out;
  for (auto& [key, rank] : ranks) out.push_back(std::move(rank));
  // Ranked by broken commitments, then by complaints per week (most first; ties by id).
  std::sort(out.begin(), out.end(), [](const TouchpointRank& a, const TouchpointRank& b) {
    return std::tie(b.broken_90_days, a.touchpoint.key) < std::tie(a.broken_90_days, b.touchpoint.key);
  });
  for (std::size_t i = 0; i < out.size(); ++i) out[i].rank_by_broken = static_cast<int>(i + 1);
  std::sort(out.begin(), out.end(), [](const TouchpointRank& a, const TouchpointRank& b) {
    return std::tie(b.received_12_weeks, a.touchpoint.key) < std::tie(a.received_12_weeks, b.touchpoint.key);
  });
  for (std::size_t i = 0; i < out.size(); ++i) out[i].rank_by_complaints = static_cast<int>(i + 1);
  return out;
}

std::string complaints_per_week(const TouchpointRank& rank) {
  return touchpoint_pages::per_week_text(rank.received_12_weeks, touchpoint_pages::kWeeks);
}

namespace touchpoint_pages {

void touchpoint_page(PagesContext& pages, const ContextPtr& ctx, Reply reply, const SignedIn& who) {
  ApiContext& api = pages.api;
  const WorkflowSet& workflows = api.engine.workflows();
  const std::string key = ctx->param("touchpoint");
  const Time now = api.engine.clock().now();
  const Time since = now - std::chrono::days(kWindowDays);
  const Time first_week = monday_of(now) - std::chrono::days(7 * (kWeeks - 1));
  auto found = workflows.find_touchpoint(key);
  auto read = api.reports.touchpoint_report(key, since, static_cast<int>(kListed));
  if (!read)
    return reply(message_page(pages, page_status(read.error()), "Moments of truth", read.error().detail,
                              json::object{{"staff", staff_nav(who, "board")}}));
  if (!found && read->received == 0 && read->survey.responses == 0 && read->broken_by_day.empty())
    return reply(message_page(pages, http::status::not_found, "No such touchpoint",
                              "No service standard names the touchpoint \"" + key +
                                  "\", and no complaint arose there in the last 90 days.",
                              json::object{{"staff", staff_nav(who, "board")}}));
  const Touchpoint touchpoint = found ? *found : Touchpoint{key, workflows.touchpoint_name(key), "", ""};
  auto weekly = api.reports.weekly_counts(first_week);
  if (!weekly)
    return reply(message_page(pages, page_status(weekly.error()), "Moments of truth", weekly.error().detail,
                              json::object{{"staff", staff_nav(who, "board")}}));
  const auto staff = staff_by_id(api.staff);
  auto owner_name = [&](const std::string& id) -> std::string {
    if (id.empty()) return "(unowned)";
    auto it = staff.find(id);
    return it == staff.end() ? id : it->second.name;
  };

  // The weekly trend: complaints received there (the board's weekly summary) and the commitments
  // broken on its complaints, by the week they fell due.
  std::vector<std::string> labels;
  std::vector<ChartSeries> series{{"complaints received", std::vector<std::int64_t>(kWeeks, 0)},
                                  {"commitments broken", std::vector<std::int64_t>(kWeeks, 0)}};
  for (int w = 0; w < kWeeks; ++w) labels.push_back(week_text(first_week + std::chrono::days(7 * w)));
  auto week_index = [&](Time t) { return (monday_of(t) - first_week) / std::chrono::days(7); };
  std::int64_t received_12_weeks = 0;
  for (const auto& c : *weekly) {
    if (c.dimension != "touchpoint" || c.value != key) continue;
    const auto index = week_index(c.week_start);
    if (index < 0 || index >= kWeeks) continue;
    series[0].values[static_cast<std::size_t>(index)] += c.received;
    received_12_weeks += c.received;
  }
  std::int64_t broken_total = 0;
  for (const auto& [day, n] : read->broken_by_day) {
    broken_total += n;
    const auto index = week_index(from_micros(day * 86400LL * 1000000LL));
    if (index >= 0 && index < kWeeks) series[1].values[static_cast<std::size_t>(index)] += n;
  }
  json::array weeks;
  for (int w = 0; w < kWeeks; ++w)
    weeks.push_back(json::object{{"week", labels[static_cast<std::size_t>(w)]},
                                 {"received", series[0].values[static_cast<std::size_t>(w)]},
                                 {"broken", series[1].values[static_cast<std::size_t>(w)]}});

  // The cases, newest first (the first kListed).
  json::array cases;
  for (const auto& c : read->cases) {
    json::object row{{"reference", c.reference},
                     {"url", case_url(c.reference)},
                     {"subject", c.subject},
                     {"status", std::string(to_string(c.status))},
                     {"received", short_time(pages, c.workflow, c.received_at)},
                     {"owner", owner_name(c.owner_id)},
                     {"broken", c.broken},
                     // Always set: a row without it would find the page's own has_broken.
                     {"has_broken", c.broken > 0}};
    if (const Workflow* w = workflows.find(c.workflow); w && !c.root_cause.empty())
      if (const Term* cause = w->find_root_cause(c.root_cause)) row["root_cause"] = cause->name;
    if (!row.contains("root_cause") && !c.root_cause.empty()) row["root_cause"] = words_of(c.root_cause);
    cases.push_back(std::move(row));
  }

  // Broken commitments, latest due first.
  json::array broken;
  for (const auto& item : read->broken) {
    broken.push_back(json::object{{"reference", item.reference},
                                  {"url", case_url(item.reference)},
                                  {"text", item.commitment.text},
                                  {"kind", std::string(to_string(item.commitment.kind))},
                                  {"owner", owner_name(item.commitment.owner_id)},
                                  {"due", short_time(pages, "", item.commitment.due_at)}});
  }

  // Root causes of the resolved ones, most recorded first, the first few with their newest cases.
  json::array root_causes;
  for (const auto& cause : read->causes) {
    std::string name = "(not recorded)";
    if (!cause.root_cause.empty()) {
      const Workflow* w = workflows.find(cause.workflow);
      const Term* term = w ? w->find_root_cause(cause.root_cause) : nullptr;
      name = term ? term->name : words_of(cause.root_cause);
    }
    json::array links;
    for (const auto& reference : cause.references)
      links.push_back(json::object{{"reference", reference}, {"url", case_url(reference)}});
    root_causes.push_back(json::object{{"name", name},
                                       {"resolved", cause.resolved},
                                       {"upheld", cause.upheld},
                                       {"cases", std::move(links)},
                                       {"more", cause.resolved > static_cast<std::int64_t>(cause.references.size())}});
  }

  // The survey, by RATER dimension, with the latest cases answered.
  SurveyResults survey;
  survey.responses = read->survey.responses;
  survey.overall_total = read->survey.overall;
  survey.rated = read->survey.rated;
  survey.totals = read->survey.scores;
  json::array answered;
  for (const auto& a : read->answered)
    answered.push_back(json::object{{"reference", a.reference}, {"url", case_url(a.reference)}, {"overall", a.overall}});
  json::array dimensions;
  const auto weakest = survey.weakest();
  for (std::size_t i = 0; i < rater_dimensions().size(); ++i) {
    json::object d{{"name", words_of(rater_dimensions()[i])}, {"average", average_text(survey.dimension(i))}};
    if (weakest && *weakest == i) d["weakest"] = true;
    dimensions.push_back(std::move(d));
  }

  json::object data{
      {"title", "Moments of truth: " + touchpoint.name},
      {"staff", staff_nav(who, "board")},
      {"key", touchpoint.key},
      {"name", touchpoint.name},
      {"generated", short_time(pages, "", now)},
      {"received_90_days", read->received},
      {"received_12_weeks", received_12_weeks},
      {"per_week", per_week_text(received_12_weeks, kWeeks)},
      {"broken_total", broken_total},
      {"survey_responses", survey.responses},
      {"survey_overall", average_text(survey.overall())},
      {"chart", line_chart_svg("Complaints per week at " + touchpoint.name + " (12 weeks)", labels, series)},
      {"weeks", std::move(weeks)},
      {"cases", std::move(cases)},
      {"broken", std::move(broken)},
      {"root_causes", std::move(root_causes)},
      {"dimensions", std::move(dimensions)},
      {"answered", std::move(answered)},
      {"has_cases", read->received > 0},
      {"has_broken", broken_total > 0},
      {"has_causes", !read->causes.empty()},
      {"has_answers", survey.responses > 0},
      {"cases_more", read->received > static_cast<std::int64_t>(read->cases.size())},
      {"broken_more", broken_total > static_cast<std::int64_t>(read->broken.size())}};
  if (!touchpoint.description.empty()) data["description"] = touchpoint.description;
  if (!touchpoint.team.empty()) data["team"] = touchpoint.team;
  if (!root_causes.empty()) data["top_cause"] = root_causes.front().at("name");
  reply(render_page(pages, http::status::ok, "touchpoint", std::move(data)));
}

void touchpoints_index(PagesContext& pages, const ContextPtr&, Reply reply, const SignedIn& who) {
  auto ranks = rank_touchpoints(pages.api, pages.api.engine.clock().now(), nullptr);
  if (!ranks)
    return reply(message_page(pages, page_status(ranks.error()), "Moments of truth", ranks.error().detail,
                              json::object{{"staff", staff_nav(who, "board")}}));
  json::array rows;
  for (const auto& r : *ranks)
    rows.push_back(json::object{{"name", r.touchpoint.name},
                                {"url", "/staff/touchpoints/" + r.touchpoint.key},
                                {"team", r.touchpoint.team},
                                {"description", r.touchpoint.description},
                                {"per_week", complaints_per_week(r)},
                                {"received", r.received_90_days},
                                {"broken", r.broken_90_days},
                                {"rank_complaints", r.rank_by_complaints},
                                {"rank_broken", r.rank_by_broken}});
  reply(render_page(pages, http::status::ok, "touchpoints",
                    json::object{{"title", "Moments of truth"},
                                 {"staff", staff_nav(who, "board")},
                                 {"touchpoints", std::move(rows)}}));
}

}  // namespace touchpoint_pages

void register_touchpoint_pages(Router& router, PagesContext& pages) {
  add_staff_page(router, pages, "/staff/touchpoints", touchpoint_pages::kManagers,
                 [&pages](const ContextPtr& ctx, Reply reply, const SignedIn& who) {
                   touchpoint_pages::touchpoints_index(pages, ctx, std::move(reply), who);
                 });
  add_staff_page(router, pages, "/staff/touchpoints/{touchpoint}", touchpoint_pages::kManagers,
                 [&pages](const ContextPtr& ctx, Reply reply, const SignedIn& who) {
                   touchpoint_pages::touchpoint_page(pages, ctx, std::move(reply), who);
                 });
}

}  // namespace redress::web
