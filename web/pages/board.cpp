// The managers' review board (/staff/board, lead and above): what needs attention now (overdue,
// at-risk and broken commitments by owner and team, with their age), escalations by level, each
// owner's reliability and speed, attainment of each published standard, and 12 weeks of trends by
// category and touchpoint drawn as SVG. Each table is built once and served both as HTML and as
// CSV (/staff/board/{table}.csv), so the export always matches the page.
#include <boost/json.hpp>

#include <array>
#include <future>
#include <map>
#include <set>

#include "adapters/templating/mustache.h"
#include "web/pages/charts.h"
#include "web/pages/staff_session.h"
#include "web/pages/touchpoints.h"
#include "web/reports.h"
#include "web/returns.h"
#include "web/survey_results.h"

namespace redress::web {

namespace json = boost::json;
using verb = http::verb;

namespace {

const std::vector<Role> kLeads{Role::kLead, Role::kManager, Role::kAdmin};
constexpr int kWeeks = 12;

struct Cell {
  std::string text;
  std::string url;   // a link, when not empty
  std::string flag;  // a flag class ("broken", "at-risk", "overdue"), when not empty
  bool number = false;
};

struct Table {
  std::string id;  // "overdue": its CSV is /staff/board/overdue.csv
  std::string title;
  std::string note;
  std::vector<std::string> columns;
  std::vector<bool> numeric;  // per column
  std::vector<std::vector<Cell>> rows;
  std::string chart_svg;  // drawn above the table, when not empty
};

Cell text(std::string value) { return Cell{std::move(value), {}, {}, false}; }
Cell count(std::int64_t value) { return Cell{std::to_string(value), {}, {}, true}; }
Cell percent(std::int64_t good, std::int64_t bad) {
  if (good + bad == 0) return Cell{"-", {}, {}, true};
  return Cell{std::to_string((good * 1000 / (good + bad) + 5) / 10) + "%", {}, {}, true};
}
Cell mean(Duration total, std::int64_t n) {
  if (n <= 0) return Cell{"-", {}, {}, true};
  return Cell{duration_text(Duration(total.count() / n)), {}, {}, true};
}

std::string name_of(const std::map<std::string, Staff>& staff, const std::string& id) {
  if (id.empty()) return "(unowned)";
  auto it = staff.find(id);
  return it == staff.end() ? id : it->second.name;
}

std::string week_label(Time week_start) {
  auto day = std::chrono::floor<std::chrono::days>(week_start);
  std::chrono::year_month_day ymd{day};
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%02u-%02u", static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buffer;
}

// Monday 00:00 UTC of the week holding `t`.
Time week_start(Time t) {
  using namespace std::chrono;
  auto day = floor<days>(t);
  weekday wd{day};
  return Time(duration_cast<Duration>((day - days((wd.c_encoding() + 6) % 7)).time_since_epoch()));
}

struct Board {
  std::vector<Table> tables;
  std::vector<json::object> cards;
};

// The root causes of a workflow's resolutions per month (from each month's return figures): the
// five causes most recorded over the months, and the rest together.
Table root_cause_table(const Workflow& w, const std::vector<ReturnFigures>& months,
                       const std::vector<std::string>& labels) {
  std::map<std::string, std::int64_t> totals;
  for (const auto& f : months)
    for (const auto& [key, b] : f.by_root_cause) totals[key] += b.closed;
  std::vector<std::pair<std::int64_t, std::string>> ranked;
  for (const auto& [key, total] : totals) ranked.emplace_back(-total, key);
  std::sort(ranked.begin(), ranked.end());
  std::vector<std::string> shown;
  for (std::size_t i = 0; i < ranked.size() && i < 5; ++i) shown.push_back(ranked[i].second);
  const bool other = ranked.size() > shown.size();
  auto name_of_cause = [&](const std::string& key) -> std::string {
    if (key.empty()) return "(not recorded)";
    const Term* term = w.find_root_cause(key);
    return term ? term->name : words_of(key);
  };
  std::vector<ChartSeries> series;
  for (const auto& key : shown) series.push_back(ChartSeries{name_of_cause(key), {}});
  if (other) series.push_back(ChartSeries{"other causes", {}});
  Table t{"root_causes_" + w.name,
          "Root causes per month: " + w.title + " (12 months)",
          "Resolutions each month by the root cause they recorded (DISP 1.3.3R): the five most recorded over "
          "the 12 months, and the rest. The API: GET /v1/reports/root_causes.",
          {"Month"},
          {false},
          {},
          {}};
  for (const auto& s : series) t.columns.push_back(s.label), t.numeric.push_back(true);
  for (std::size_t m = 0; m < months.size(); ++m) {
    std::vector<Cell> row{text(labels[m])};
    std::int64_t rest = 0;
    for (const auto& [key, b] : months[m].by_root_cause)
      if (std::find(shown.begin(), shown.end(), key) == shown.end()) rest += b.closed;
    for (std::size_t i = 0; i < shown.size(); ++i) {
      auto found = months[m].by_root_cause.find(shown[i]);
      const std::int64_t n = found == months[m].by_root_cause.end() ? 0 : found->second.closed;
      series[i].values.push_back(n);
      row.push_back(count(n));
    }
    if (other) {
      series.back().values.push_back(rest);
      row.push_back(count(rest));
    }
    t.rows.push_back(std::move(row));
  }
  if (!series.empty()) t.chart_svg = line_chart_svg(t.title, labels, series);
  return t;
}

// `item_limit`: how many commitments of each state the attention list holds (the page shows the
// oldest few, the CSV many more); every count is over all of them.
Result<Board> build_board(PagesContext& pages, int item_limit) {
  ApiContext& api = pages.api;
  ReportStore& reports = api.reports;
  Time now = api.engine.clock().now();
  auto staff = staff_by_id(api.staff);
  Board board;

  // What needs attention now.
  // The reads are independent: they run at once, each on its own reader connection, so the board
  // waits for the slowest rather than for their sum.
  Time first_week = week_start(now) - std::chrono::days(7 * (kWeeks - 1));
  // The returns' months end on each workflow's own local today: one read of the ledger covers them.
  const auto& all_workflows = api.engine.workflows().all();
  std::chrono::year_month_day first_read{std::chrono::year::max() / 12 / 31};
  std::chrono::year_month_day last_read{std::chrono::year::min() / 1 / 1};
  for (const auto& w : all_workflows) {
    const std::chrono::year_month_day today = w.calendar.local_date(now);
    const std::chrono::year_month start = std::chrono::year_month{today.year(), today.month()} - std::chrono::months{11};
    first_read = std::min(first_read, std::chrono::year_month_day{start / std::chrono::day{1}});
    last_read = std::max(last_read, today);
  }
  auto ledger_future = std::async(std::launch::async, [&]() -> Result<ReturnLedgerRows> {
    if (all_workflows.empty()) return ReturnLedgerRows{};
    return read_ledger(reports, "", first_read, last_read);
  });
  auto weekly_future = std::async(std::launch::async, [&] { return reports.weekly_counts(first_week); });
  auto survey_groups_future =
      std::async(std::launch::async, [&] { return reports.survey_by_group(now - std::chrono::days(90)); });
  auto survey_days_future =
      std::async(std::launch::async, [&] { return reports.survey_by_day(now - std::chrono::days(366)); });
  auto overdue_future = std::async(std::launch::async, [&] { return reports.overdue_report(now, item_limit); });
  auto attention_future = std::async(std::launch::async, [&] { return reports.attention_by_owner(now); });
  auto levels_future = std::async(std::launch::async, [&] { return reports.escalation_counts(); });
  auto owners_future =
      std::async(std::launch::async, [&] { return reports.owner_report(now - std::chrono::days(90)); });
  auto attainment_future = std::async(std::launch::async, [&] { return reports.standards_report(now); });
  auto weekly = weekly_future.get();
  auto overdue = overdue_future.get();
  auto attention = attention_future.get();
  auto levels = levels_future.get();
  auto owners = owners_future.get();
  auto attainment = attainment_future.get();
  if (!overdue) return overdue.error();
  std::int64_t listed_limit = item_limit;
  auto shown = [&](std::int64_t total) { return std::min(total, listed_limit); };
  std::string listed =
      "Past due, at risk and broken (not yet handled); oldest first within each state. Listed: " +
      std::to_string(shown(overdue->past_due_total)) + " of " + std::to_string(overdue->past_due_total) +
      " past due, " + std::to_string(shown(overdue->broken_unhandled_total)) + " of " +
      std::to_string(overdue->broken_unhandled_total) + " broken, " + std::to_string(shown(overdue->at_risk_total)) +
      " of " + std::to_string(overdue->at_risk_total) + " at risk (the CSV lists up to 5,000 of each).";
  Table items{"attention",
              "Commitments needing attention",
              listed,
              {"State", "Case", "Commitment", "Owner", "Team", "Due", "Age", "Level"},
              {false, false, false, false, false, false, false, true},
              {},
              {}};
  auto add = [&](const std::vector<ReportItem>& list, const char* state, const char* flag) {
    for (const auto& item : list) {
      const Commitment& k = item.commitment;
      Duration age = k.paused() ? Duration(0) : now - k.due_at;
      items.rows.push_back(
          {Cell{state, {}, flag, false}, Cell{item.reference, "/staff/cases/" + item.reference, {}, false},
           text(k.text), text(name_of(staff, k.owner_id)), text(item.team), text(short_time(pages, "", k.due_at)),
           text(age > Duration(0) ? "overdue by " + duration_text(age) : "due in " + duration_text(-age)),
           count(item.escalation_level)});
    }
  };
  add(overdue->past_due, "past due", "overdue");
  add(overdue->broken_unhandled, "broken", "broken");
  add(overdue->at_risk, "at risk", "at-risk");
  if (!attention) return attention.error();
  Table by_owner{"attention_by_owner",
                 "Needing attention, by owner and team",
                 "Every past-due, at-risk and unhandled broken commitment.",
                 {"Owner", "Team", "Past due", "At risk", "Broken", "Oldest due"},
                 {false, false, true, true, true, true},
                 {},
                 {}};
  for (const auto& a : *attention) {
    auto it = staff.find(a.owner_id);
    std::string oldest = "-";
    if (a.oldest_due)
      oldest = *a.oldest_due <= now ? "overdue by " + duration_text(now - *a.oldest_due)
                                    : "due in " + duration_text(*a.oldest_due - now);
    by_owner.rows.push_back({text(name_of(staff, a.owner_id)), text(it == staff.end() ? "" : it->second.team),
                             count(a.past_due), count(a.at_risk), count(a.broken_unhandled),
                             Cell{oldest, {}, {}, true}});
  }
  board.cards.push_back(json::object{{"label", "past due"}, {"value", overdue->past_due_total}, {"flag", "overdue"}});
  board.cards.push_back(
      json::object{{"label", "broken, not handled"}, {"value", overdue->broken_unhandled_total}, {"flag", "broken"}});
  board.cards.push_back(json::object{{"label", "at risk"}, {"value", overdue->at_risk_total}, {"flag", "at-risk"}});

  // Escalations.
  if (!levels) return levels.error();
  Table escalations{"escalations",
                    "Open cases by escalation level",
                    "",
                    {"Level", "Name", "Open cases", "Oldest received"},
                    {true, false, true, true},
                    {},
                    {}};
  std::int64_t escalated = 0;
  for (const auto& l : *levels) {
    std::set<std::string> names;
    for (const auto& w : api.engine.workflows().all())
      if (const auto* level = w.level(l.level)) names.insert(level->name);
    std::string name;
    for (const auto& n : names) name += (name.empty() ? "" : " / ") + n;
    escalations.rows.push_back(
        {count(l.level), text(l.level == 0 ? "not escalated" : name), count(l.open_cases),
         Cell{l.oldest_received ? duration_text(now - *l.oldest_received) + " ago" : "-", {}, {}, true}});
    if (l.level > 0) escalated += l.open_cases;
  }
  board.cards.push_back(json::object{{"label", "escalated, open"}, {"value", escalated}});
  // Open cases whose mail bounced: the client is not hearing from us (docs/inbound-email.md).
  if (api.inbound_records)
    if (auto bounced = api.inbound_records->count_open_cases_with_bounces()) {
      json::object card{{"label", "open, mail bouncing"}, {"value", *bounced}};
      if (*bounced > 0) card["flag"] = "overdue";
      board.cards.push_back(std::move(card));
    }

  // The survey's answers (RATER), added up by the store: per owner, team, workflow and touchpoint
  // over 90 days (the owners' table and the survey table), and per day over a year (the trend).
  auto survey_groups = survey_groups_future.get();
  auto survey_days = survey_days_future.get();

  // Owners.
  if (!owners) return owners.error();
  Table reliability{"owners",
                    "Owners: promises kept and speed (last 90 days)",
                    "Reliability counts the promises owners made to clients that fell due in the window. The survey "
                    "columns: answers about the owner's cases in the window, each RATER dimension's average, the "
                    "responses, the overall average and the weakest RATER dimension.",
                    {"Owner", "Team", "Open cases", "Promises kept", "Promises broken", "Reliability",
                     "All commitments kept", "Mean time to acknowledge", "Mean time to resolve", "Survey reliability",
                     "Survey assurance", "Survey tangibles", "Survey empathy", "Survey responsiveness",
                     "Survey responses", "Survey overall", "Survey weakest (RATER)"},
                    {false, false, true, true, true, true, true, true, true, true, true, true, true, true, true, true,
                     false},
                    {},
                    {}};
  std::map<std::string, SurveyResults> owner_survey;
  if (survey_groups) owner_survey = survey_results_by(*survey_groups, SurveyGroup::kOwner);
  for (const auto& o : *owners) {
    auto it = staff.find(o.owner_id);
    reliability.rows.push_back({text(name_of(staff, o.owner_id)), text(it == staff.end() ? "" : it->second.team),
                                count(o.open_cases), count(o.promises_kept), count(o.promises_broken),
                                percent(o.promises_kept, o.promises_broken),
                                percent(o.commitments_kept, o.commitments_broken),
                                mean(o.acknowledge_total, o.acknowledged), mean(o.resolve_total, o.resolved_cases)});
    // The RATER results of the owner's cases over the same 90 days (issue 26).
    const auto found = owner_survey.find(o.owner_id);
    const SurveyResults results = found == owner_survey.end() ? SurveyResults{} : found->second;
    auto& row = reliability.rows.back();
    for (std::size_t i = 0; i < rater_dimensions().size(); ++i)
      row.push_back(Cell{average_text(results.dimension(i)), {}, {}, true});
    row.push_back(count(results.responses));
    row.push_back(Cell{average_text(results.overall()), {}, {}, true});
    const auto weakest = results.weakest();
    row.push_back(weakest ? Cell{std::string(rater_dimensions()[*weakest]), {}, "at-risk", false} : text("-"));
  }

  // Standards.
  if (!attainment) return attainment.error();
  Table standards{"standards",
                  "Attainment of each published standard",
                  "Kept: by the time the standard set (or moved as its rule allows). Renegotiated: kept only on a "
                  "later date agreed with the client; counted against attainment, like a miss.",
                  {"Standard", "Pledge", "Kept (30 d)", "Renegotiated (30 d)", "Missed (30 d)", "Attainment (30 d)",
                   "Kept (90 d)", "Renegotiated (90 d)", "Missed (90 d)", "Attainment (90 d)"},
                  {false, false, true, true, true, true, true, true, true, true},
                  {},
                  {}};
  for (const auto& w : api.engine.workflows().all())
    for (const auto& c : w.clocks) {
      PledgeAttainment a = attainment_of(*attainment, w.name, c.name);
      // Kept means kept by the time the rule set; kept only on a renegotiated date counts against.
      standards.rows.push_back({text(w.title), text(c.text), count(a.met_30), count(a.renegotiated_30),
                                count(a.broken_30), percent(a.met_30, a.broken_30 + a.renegotiated_30),
                                count(a.met_90), count(a.renegotiated_90), count(a.broken_90),
                                percent(a.met_90, a.broken_90 + a.renegotiated_90)});
    }

  // Trends: 12 weeks, the six most frequent values of each dimension and "other".
  if (!weekly) return weekly.error();
  std::vector<std::string> labels;
  for (int w = 0; w < kWeeks; ++w) labels.push_back(week_label(first_week + std::chrono::days(7 * w)));
  for (const char* dimension : {"category", "touchpoint"}) {
    std::map<std::string, std::int64_t> totals;
    for (const auto& c : *weekly)
      if (c.dimension == dimension) totals[c.value.empty() ? "(none)" : c.value] += c.received;
    std::vector<std::pair<std::int64_t, std::string>> ranked;
    for (const auto& [value, total] : totals) ranked.emplace_back(-total, value);
    std::sort(ranked.begin(), ranked.end());
    std::vector<std::string> shown;
    for (std::size_t i = 0; i < ranked.size() && i < 6; ++i) shown.push_back(ranked[i].second);
    bool other = ranked.size() > shown.size();
    std::vector<ChartSeries> series;
    // Shown by their display names (the workflow files' [names]); "(none)" and "other" as they are.
    const WorkflowSet& workflows = api.engine.workflows();
    auto display = [&](const std::string& value) {
      if (value == "(none)") return value;
      return std::string_view(dimension) == "category" ? workflows.category_name(value)
                                                       : workflows.touchpoint_name(value);
    };
    for (const auto& value : shown)
      series.push_back(ChartSeries{display(value), std::vector<std::int64_t>(kWeeks, 0)});
    if (other) series.push_back(ChartSeries{"other", std::vector<std::int64_t>(kWeeks, 0)});
    for (const auto& c : *weekly) {
      if (c.dimension != dimension) continue;
      auto index = (c.week_start - first_week) / std::chrono::days(7);
      if (index < 0 || index >= kWeeks) continue;
      std::string value = c.value.empty() ? "(none)" : c.value;
      auto found = std::find(shown.begin(), shown.end(), value);
      std::size_t s = found == shown.end() ? series.size() - 1 : static_cast<std::size_t>(found - shown.begin());
      series[s].values[static_cast<std::size_t>(index)] += c.received;
    }
    Table trend{std::string("trends_") + dimension,
                std::string("Cases received per week by ") + dimension + " (12 weeks)",
                "Weeks start on Monday (UTC).",
                {"Week of"},
                {false},
                {},
                {}};
    for (const auto& s : series) trend.columns.push_back(s.label), trend.numeric.push_back(true);
    for (int w = 0; w < kWeeks; ++w) {
      std::vector<Cell> row{text(labels[static_cast<std::size_t>(w)])};
      for (const auto& s : series) row.push_back(count(s.values[static_cast<std::size_t>(w)]));
      trend.rows.push_back(std::move(row));
    }
    trend.chart_svg = line_chart_svg(trend.title, labels, series);
    board.tables.push_back(std::move(trend));
  }
  // Moments of truth: every touchpoint ranked by complaints per week and by broken commitments, each
  // linked to its page (touchpoints.h).
  if (auto ranks = rank_touchpoints(api, now, &*weekly)) {
    Table touchpoints{"touchpoints",
                      "Moments of truth: touchpoints ranked",
                      "Complaints per week over the last 12 weeks (most first), and the commitments on each "
                      "touchpoint's complaints that broke in the last 90 days, with its rank by them. Open a touchpoint "
                      "for its trend, survey results, root causes and cases.",
                      {"Touchpoint", "Team", "Complaints per week", "Complaints (90 days)",
                       "Commitments broken (90 days)", "Rank by complaints", "Rank by broken commitments"},
                      {false, false, true, true, true, true, true},
                      {},
                      {}};
    for (const auto& r : *ranks)
      touchpoints.rows.push_back({Cell{r.touchpoint.name, "/staff/touchpoints/" + r.touchpoint.key, {}, false},
                                  text(r.touchpoint.team), Cell{complaints_per_week(r), {}, {}, true},
                                  count(r.received_90_days),
                                  r.broken_90_days > 0 ? Cell{std::to_string(r.broken_90_days), {}, "broken", true}
                                                       : count(0),
                                  count(r.rank_by_complaints), count(r.rank_by_broken)});
    board.tables.push_back(std::move(touchpoints));
  }

  // Returns: the last 12 months of each workflow's return, from the return ledger
  // (docs/measuring.md). A store that cannot answer them leaves them out.
  std::vector<Table> returns_tables;
  {
    using std::chrono::year_month;
    using std::chrono::year_month_day;
    const auto& all = all_workflows;
    auto ledger = ledger_future.get();
    if (!all.empty()) {
      if (ledger) {
        for (const auto& w : all) {
          const year_month_day today = w.calendar.local_date(now);
          const year_month this_month{today.year(), today.month()};
          std::vector<std::string> month_labels;
          std::vector<ChartSeries> series{{"opened", {}}, {"closed", {}}, {"outstanding at the end", {}}};
          Table t{"returns_" + w.name,
                  "Returns: " + w.title + " (12 months)",
                  "Per month, from the return ledger each change adds to: a past month stays what it was. Upheld: in "
                  "full or in part. Timely response: the first response pledges due in the month met in time. The "
                  "API: GET /v1/reports/returns.",
                  {"Month", "Outstanding at start", "Opened", "Closed", "Outstanding at end"},
                  {false, true, true, true, true},
                  {},
                  {}};
          for (const auto& bucket : w.returns.buckets)
            t.columns.push_back("Closed " + bucket.name), t.numeric.push_back(true);
          for (const char* column : {"Upheld", "Redress paid", "Vulnerable: closed", "Vulnerable: outstanding"})
            t.columns.push_back(column), t.numeric.push_back(true);
          const bool timely = !w.returns.timely_response.empty();
          if (timely) t.columns.push_back("Timely response"), t.numeric.push_back(true);
          std::vector<ReturnFigures> month_figures;
          for (int back = 11; back >= 0; --back) {
            const year_month month = this_month - std::chrono::months{back};
            const year_month_day first_day{month / std::chrono::day{1}};
            const year_month_day final_day = back == 0 ? today : year_month_day{month / std::chrono::last};
            const ReturnFigures& figures =
                month_figures.emplace_back(ledger_figures(w, *ledger, first_day, final_day));
            char label[16];
            std::snprintf(label, sizeof label, "%04d-%02u", static_cast<int>(month.year()),
                          static_cast<unsigned>(month.month()));
            month_labels.emplace_back(label);
            series[0].values.push_back(figures.opened);
            series[1].values.push_back(figures.closed);
            series[2].values.push_back(figures.outstanding_end);
            std::vector<Cell> row{text(label), count(figures.outstanding_start), count(figures.opened),
                                  count(figures.closed), count(figures.outstanding_end)};
            for (const auto& bucket : w.returns.buckets) row.push_back(count(figures.buckets.at(bucket.key)));
            row.push_back(percent(figures.upheld(), figures.resolved() - figures.upheld()));
            std::string paid;
            for (const auto& [key, minor] : figures.redress_paid)
              paid += (paid.empty() ? "" : "; ") + format_amount(minor) + " " + key.first + " " + key.second;
            row.push_back(Cell{paid.empty() ? "-" : paid, {}, {}, true});
            row.push_back(count(figures.vulnerable_closed));
            row.push_back(count(figures.vulnerable_outstanding_end));
            if (timely) row.push_back(percent(figures.responses_timely, figures.responses_late));
            t.rows.push_back(std::move(row));
          }
          t.chart_svg = line_chart_svg(t.title, month_labels, series);
          returns_tables.push_back(std::move(t));
          // Root-cause analysis over time (DISP 1.3.3R): resolutions per month by the root cause they
          // recorded, the five most frequent of the 12 months and the rest. The API:
          // GET /v1/reports/root_causes.
          if (!w.root_causes.empty())
            returns_tables.push_back(root_cause_table(w, month_figures, month_labels));
        }
      }
    }
  }

  // The RATER survey (issue 26): averages by workflow, touchpoint, owner and team over 90 days, the
  // weakest dimension called out, and 12 months of each dimension's average. A store that cannot
  // answer leaves them out.
  std::vector<Table> survey_tables;
  if (survey_groups && survey_days) {
    const auto& dimensions = rater_dimensions();
    auto average = [](std::int64_t total, std::int64_t n) -> Cell {
      if (n == 0) return Cell{"-", {}, {}, true};
      char buffer[16];
      std::snprintf(buffer, sizeof buffer, "%.1f", static_cast<double>(total) / static_cast<double>(n));
      return Cell{buffer, {}, {}, true};
    };
    Table by_group{"survey",
                   "Survey (RATER): averages over 90 days",
                   "Each dimension 1 (poor) to 5 (excellent): Reliability, Assurance, Tangibles, Empathy, "
                   "Responsiveness, and the overall rating. The weakest dimension is the lowest average.",
                   {"By", "Who or where", "Responses", "Reliability", "Assurance", "Tangibles", "Empathy",
                    "Responsiveness", "Overall", "Weakest"},
                   {false, false, true, true, true, true, true, true, true, false},
                   {},
                   {}};
    const std::pair<SurveyGroup, const char*> groups[] = {{SurveyGroup::kWorkflow, "workflow"},
                                                          {SurveyGroup::kTouchpoint, "touchpoint"},
                                                          {SurveyGroup::kOwner, "owner"},
                                                          {SurveyGroup::kTeam, "team"}};
    for (const auto& [survey_group, group] : groups) {
      std::map<std::string, SurveySums> sums;  // by what the row shows: an owner's name, not their id
      for (const auto& g : *survey_groups) {
        if (g.group != survey_group) continue;
        const std::string key = survey_group == SurveyGroup::kOwner ? name_of(staff, g.value) : g.value;
        sums[key.empty() ? "(none)" : key].add(g.sums);
      }
      for (const auto& [key, sum] : sums) {
        std::vector<Cell> row{text(group), text(key), count(sum.responses)};
        std::size_t weakest = 0;
        for (std::size_t i = 0; i < dimensions.size(); ++i) {
          row.push_back(average(sum.scores[i], sum.rated));
          if (sum.scores[i] < sum.scores[weakest]) weakest = i;
        }
        row.push_back(average(sum.overall, sum.responses));
        row.push_back(sum.rated == 0 ? Cell{"-", {}, {}, false}
                                     : Cell{std::string(dimensions[weakest]), {}, "at-risk", false});
        by_group.rows.push_back(std::move(row));
      }
    }
    // 12 months of each dimension's average, as a share of the best answer (5 = 100%).
    const auto this_month = std::chrono::year_month_day{std::chrono::floor<std::chrono::days>(now)};
    const std::chrono::year_month month_now{this_month.year(), this_month.month()};
    std::vector<std::string> month_labels;
    std::vector<ChartSeries> series;
    for (auto name : dimensions) series.push_back(ChartSeries{std::string(name), {}});
    series.push_back(ChartSeries{"overall", {}});
    Table trend{"survey_trend",
                "Survey (RATER) per month: each dimension's average (% of the best answer)",
                "Months in UTC. 100% is every answer 5; 20% every answer 1.",
                {"Month", "Responses"},
                {false, true},
                {},
                {}};
    for (auto name : dimensions) trend.columns.emplace_back(name), trend.numeric.push_back(true);
    trend.columns.emplace_back("overall"), trend.numeric.push_back(true);
    for (int back = 11; back >= 0; --back) {
      const std::chrono::year_month month = month_now - std::chrono::months{back};
      SurveySums sum;
      for (const auto& d : *survey_days) {
        const std::chrono::year_month_day day{std::chrono::sys_days{std::chrono::days{d.day}}};
        if (day.year() == month.year() && day.month() == month.month()) sum.add(d.sums);
      }
      char label[16];
      std::snprintf(label, sizeof label, "%04d-%02u", static_cast<int>(month.year()), static_cast<unsigned>(month.month()));
      month_labels.emplace_back(label);
      std::vector<Cell> row{text(label), count(sum.responses)};
      auto share = [](std::int64_t total, std::int64_t n) -> std::int64_t { return n == 0 ? 0 : total * 20 / n; };
      for (std::size_t i = 0; i < dimensions.size(); ++i) {
        series[i].values.push_back(share(sum.scores[i], sum.rated));
        row.push_back(sum.rated == 0 ? Cell{"-", {}, {}, true}
                                     : Cell{std::to_string(share(sum.scores[i], sum.rated)) + "%", {}, {}, true});
      }
      series.back().values.push_back(share(sum.overall, sum.responses));
      row.push_back(sum.responses == 0 ? Cell{"-", {}, {}, true}
                                       : Cell{std::to_string(share(sum.overall, sum.responses)) + "%", {}, {}, true});
      trend.rows.push_back(std::move(row));
    }
    trend.chart_svg = line_chart_svg(trend.title, month_labels, series);
    survey_tables.push_back(std::move(by_group));
    survey_tables.push_back(std::move(trend));
  }

  std::vector<Table> ordered;
  ordered.push_back(std::move(by_owner));
  ordered.push_back(std::move(items));
  ordered.push_back(std::move(escalations));
  ordered.push_back(std::move(reliability));
  ordered.push_back(std::move(standards));
  for (auto& t : board.tables) ordered.push_back(std::move(t));
  for (auto& t : returns_tables) ordered.push_back(std::move(t));
  for (auto& t : survey_tables) ordered.push_back(std::move(t));
  board.tables = std::move(ordered);
  return board;
}

// A table as HTML, built here rather than in Mustache: the board's tables run to thousands of cells
// and kainjow's per-tag lookups would cost far more than the queries. Every text is escaped.
std::string table_html(const Table& t) {
  using templating::html_escape;
  std::string out = "<div class=\"table-wrap\"><table><thead><tr>";
  for (std::size_t i = 0; i < t.columns.size(); ++i)
    out += std::string("<th scope=\"col\"") + (t.numeric[i] ? " class=\"num\"" : "") + ">" + html_escape(t.columns[i]) +
           "</th>";
  out += "</tr></thead><tbody>";
  for (const auto& row : t.rows) {
    out += "<tr>";
    for (const auto& c : row) {
      out += c.number ? "<td class=\"num\">" : "<td>";
      if (!c.flag.empty()) out += "<span class=\"flag " + html_escape(c.flag) + "\">";
      if (!c.url.empty()) out += "<a href=\"" + html_escape(c.url) + "\">";
      out += html_escape(c.text);
      if (!c.url.empty()) out += "</a>";
      if (!c.flag.empty()) out += "</span>";
      out += "</td>";
    }
    out += "</tr>";
  }
  return out + "</tbody></table></div>";
}

json::object table_json(const Table& t) {
  json::object o{
      {"id", t.id}, {"title", t.title}, {"has_rows", !t.rows.empty()}, {"csv_url", "/staff/board/" + t.id + ".csv"}};
  if (!t.rows.empty()) o["table"] = table_html(t);
  if (!t.note.empty()) o["note"] = t.note;
  if (!t.chart_svg.empty()) o["chart"] = t.chart_svg;
  return o;
}

void board_page(PagesContext& pages, const ContextPtr&, Reply reply, const SignedIn& who) {
  auto board = build_board(pages, 100);
  if (!board)
    return reply(message_page(pages, page_status(board.error()), "Review board", board.error().detail,
                              json::object{{"staff", staff_nav(who, "board")}}));
  json::array tables, cards;
  for (const auto& t : board->tables) tables.push_back(table_json(t));
  for (auto& c : board->cards) cards.push_back(std::move(c));
  // Calendars about to run out (within 90 days): deadlines past their end are refused.
  json::array calendars;
  for (const auto& ending : calendars_ending(pages.api.engine.workflows(), pages.api.engine.clock().now()))
    calendars.push_back(json::object{{"text", calendar_warning(ending)}, {"ended", ending.days_left <= 0}});
  json::object data{{"title", "Review board"},
                    {"staff", staff_nav(who, "board")},
                    {"tables", std::move(tables)},
                    {"cards", std::move(cards)},
                    {"calendar_warnings", std::move(calendars)},
                    {"generated", short_time(pages, "", pages.api.engine.clock().now())}};
  reply(render_page(pages, http::status::ok, "board", std::move(data)));
}

void board_csv(PagesContext& pages, const ContextPtr& ctx, Reply reply, const SignedIn&) {
  std::string name = ctx->param("table");
  if (name.size() < 5 || name.substr(name.size() - 4) != ".csv")
    return reply(message_page(pages, http::status::not_found, "No such table", name));
  name.resize(name.size() - 4);
  // Only the attention list's export holds more than the page shows.
  auto board = build_board(pages, name == "attention" ? 5000 : 100);
  if (!board) return reply(message_page(pages, page_status(board.error()), "Review board", board.error().detail));
  for (const auto& t : board->tables) {
    if (t.id != name) continue;
    std::string csv;
    for (std::size_t i = 0; i < t.columns.size(); ++i) csv += (i ? "," : "") + csv_field(t.columns[i]);
    csv += "\r\n";
    for (const auto& row : t.rows) {
      for (std::size_t i = 0; i < row.size(); ++i) csv += (i ? "," : "") + csv_field(row[i].text);
      csv += "\r\n";
    }
    Response response{http::status::ok, 11};
    response.set(http::field::content_type, "text/csv; charset=utf-8");
    response.set(http::field::content_disposition, "attachment; filename=\"redress-" + t.id + ".csv\"");
    set_security_headers(response);
    response.body() = std::move(csv);
    response.prepare_payload();
    return reply(std::move(response));
  }
  reply(message_page(pages, http::status::not_found, "No such table", "There is no board table called " + name + "."));
}

}  // namespace

void register_board_pages(Router& router, PagesContext& pages) {
  add_staff_page(router, pages, "/staff/board", kLeads,
                 [&pages](const ContextPtr& ctx, Reply reply, const SignedIn& who) {
                   board_page(pages, ctx, std::move(reply), who);
                 });
  add_staff_page(router, pages, "/staff/board/{table}", kLeads,
                 [&pages](const ContextPtr& ctx, Reply reply, const SignedIn& who) {
                   board_csv(pages, ctx, std::move(reply), who);
                 });
}

}  // namespace redress::web
