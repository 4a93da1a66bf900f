#include "web/returns.h"

#include <boost/json.hpp>

#include <algorithm>

#include "engine/actions.h"
#include "engine/calendar.h"
#include "engine/return_ledger.h"
#include "web/pages/html.h"
#include "web/query.h"

namespace redress::web {

namespace json = boost::json;
using std::chrono::year_month_day;

namespace {

using Kind = ReturnEvent::Kind;

bool closes_case(Kind kind) { return kind == Kind::kResolved || kind == Kind::kWithdrawn; }

// Whether the case is outstanding at `t`: received before it, and not closed by the last closure
// or reopening before it.
bool outstanding_at(const ReturnCaseHistory& history, Time t) {
  if (history.received_at >= t) return false;
  bool open = true;
  for (const auto& e : history.events) {
    if (e.at >= t) break;
    if (closes_case(e.kind)) open = false;
    if (e.kind == Kind::kReopened) open = true;
  }
  return open;
}

// Whether the client was flagged vulnerable at `t` (the last flag or clear before it).
bool flagged_at(const ReturnCaseHistory& history, Time t) {
  bool flagged = false;
  for (const auto& e : history.events) {
    if (e.at >= t) break;
    if (e.kind == Kind::kFlagged) flagged = true;
    if (e.kind == Kind::kCleared) flagged = false;
  }
  return flagged;
}

year_month_day next_day(year_month_day day) {
  return year_month_day{std::chrono::sys_days{day} + std::chrono::days{1}};
}

std::string date_text(year_month_day day) { return format_date(day); }

}  // namespace

std::int64_t ReturnFigures::resolved() const {
  std::int64_t n = 0;
  for (const auto& [outcome, count] : outcomes) n += count;
  return n;
}

std::int64_t ReturnFigures::upheld() const {
  auto count = [&](Outcome o) {
    auto it = outcomes.find(std::string(to_string(o)));
    return it == outcomes.end() ? std::int64_t{0} : it->second;
  };
  return count(Outcome::kUpheld) + count(Outcome::kPartlyUpheld);
}

Time return_period_end(const Workflow& workflow, year_month_day last) {
  return workflow.calendar.to_time(next_day(last), std::chrono::minutes{0});
}

Result<ReturnFigures> return_figures(const Workflow& workflow, const std::vector<ReturnCaseHistory>& histories,
                                     year_month_day first, year_month_day last) {
  const Time from = workflow.calendar.to_time(first, std::chrono::minutes{0});
  const Time to = return_period_end(workflow, last);
  ReturnFigures f;
  for (const auto& bucket : workflow.returns.buckets) f.buckets[bucket.key] = 0;
  for (auto name : all_names_Outcome()) f.outcomes[std::string(name)] = 0;
  try {
    for (const auto& h : histories) {
      if (h.workflow != workflow.name || h.received_at >= to) continue;
      if (outstanding_at(h, from)) ++f.outstanding_start;
      const bool outstanding_end = outstanding_at(h, to);
      if (outstanding_end) ++f.outstanding_end;
      if (outstanding_end && flagged_at(h, to)) ++f.vulnerable_outstanding_end;
      if (h.received_at >= from) {
        ++f.opened;
        if (flagged_at(h, to)) ++f.vulnerable_opened;
      }
      bool flagged = false;  // as the events before this one left it
      for (const auto& e : h.events) {
        const bool flagged_before = flagged;
        if (e.kind == Kind::kFlagged) flagged = true;
        if (e.kind == Kind::kCleared) flagged = false;
        if (e.at < from || e.at >= to) continue;
        if (e.kind == Kind::kReopened) ++f.reopened;
        if (e.kind == Kind::kPaid && e.paid_minor != 0) f.redress_paid[{e.currency, e.redress_kind}] += e.paid_minor;
        if (!closes_case(e.kind)) continue;
        ++f.closed;
        if (flagged_before) ++f.vulnerable_closed;
        if (const ReturnBucket* bucket = workflow.bucket_for(h.received_at, e.at)) ++f.buckets[bucket->key];
        if (e.kind == Kind::kWithdrawn) {
          ++f.withdrawn;
          continue;
        }
        const bool upheld = e.outcome == Outcome::kUpheld || e.outcome == Outcome::kPartlyUpheld;
        if (e.outcome) ++f.outcomes[std::string(to_string(*e.outcome))];
        auto& product = f.by_product[e.product];
        ++product.closed;
        product.upheld += upheld ? 1 : 0;
        auto& cause = f.by_root_cause[e.root_cause];
        ++cause.closed;
        cause.upheld += upheld ? 1 : 0;
      }
    }
  } catch (const CalendarExhausted& e) {
    return Error::calendar_exhausted(e.what());
  }
  return f;
}

namespace {

using Measure = ReturnMeasure;

// Whether a measure's sums carry over from the days before a period (ReturnLedgerRows::before).
bool carried(Measure m) {
  return m == Measure::kOpened || m == Measure::kClosed || m == Measure::kReopened ||
         m == Measure::kVulnerableOutstanding;
}

}  // namespace

ReturnFigures ledger_figures(const Workflow& workflow, const ReturnLedgerRows& ledger, year_month_day first,
                             year_month_day last) {
  const std::int32_t from = day_number(first);
  const std::int32_t to = day_number(last);
  const std::string last_text = date_text(last);
  ReturnFigures f;
  for (const auto& bucket : workflow.returns.buckets) f.buckets[bucket.key] = 0;
  for (auto name : all_names_Outcome()) f.outcomes[std::string(name)] = 0;
  // What is outstanding carries over: the sums before the rows read, then the days read before `first`.
  std::int64_t carry = 0, vulnerable_carry = 0;
  auto carry_in = [&](const ReturnDay& d) {
    if (d.measure == Measure::kOpened || d.measure == Measure::kReopened) carry += d.value;
    if (d.measure == Measure::kClosed) carry -= d.value;
    if (d.measure == Measure::kVulnerableOutstanding) vulnerable_carry += d.value;
  };
  for (const auto& d : ledger.before)
    if (d.workflow == workflow.name) carry_in(d);
  for (const auto& d : ledger.days) {
    if (d.workflow != workflow.name) continue;
    if (d.day < from) {
      if (carried(d.measure)) carry_in(d);
      continue;
    }
    // A flag's change is dated by the case's receipt and keyed by its own day: counted when the
    // case was received in the period and the change came by its end.
    if (d.measure == Measure::kVulnerableOpened) {
      if (d.day <= to && d.key <= last_text) f.vulnerable_opened += d.value;
      continue;
    }
    if (d.day > to) continue;
    switch (d.measure) {
      case Measure::kOpened: f.opened += d.value; break;
      case Measure::kClosed: f.closed += d.value; break;
      case Measure::kReopened: f.reopened += d.value; break;
      case Measure::kWithdrawn: f.withdrawn += d.value; break;
      case Measure::kOutcome: f.outcomes[d.key] += d.value; break;
      case Measure::kBucket:
        if (f.buckets.count(d.key)) f.buckets[d.key] += d.value;  // a bucket the workflow no longer has
        break;
      case Measure::kProductClosed: f.by_product[d.key].closed += d.value; break;
      case Measure::kProductUpheld: f.by_product[d.key].upheld += d.value; break;
      case Measure::kRootCauseClosed: f.by_root_cause[d.key].closed += d.value; break;
      case Measure::kRootCauseUpheld: f.by_root_cause[d.key].upheld += d.value; break;
      case Measure::kPaid: {
        const auto colon = d.key.find(':');
        f.redress_paid[{d.key.substr(0, colon), colon == std::string::npos ? std::string() : d.key.substr(colon + 1)}] +=
            d.value;
        break;
      }
      case Measure::kVulnerableClosed: f.vulnerable_closed += d.value; break;
      case Measure::kVulnerableOutstanding: f.vulnerable_outstanding_end += d.value; break;
      case Measure::kResponseTimely: f.responses_timely += d.value; break;
      case Measure::kResponseLate: f.responses_late += d.value; break;
      case Measure::kVulnerableOpened: break;
    }
  }
  f.outstanding_start = carry;
  f.outstanding_end = carry + f.opened - f.closed + f.reopened;
  f.vulnerable_outstanding_end += vulnerable_carry;
  // Rows that add up to nothing (a case re-routed away) are not figures.
  std::erase_if(f.redress_paid, [](const auto& entry) { return entry.second == 0; });
  for (auto* breakdown : {&f.by_product, &f.by_root_cause})
    std::erase_if(*breakdown, [](const auto& entry) { return entry.second.closed == 0 && entry.second.upheld == 0; });
  return f;
}

std::vector<WorkflowReturn> compute_returns(const WorkflowSet& workflows, const Workflow* only,
                                            const ReturnLedgerRows& ledger, year_month_day first, year_month_day last) {
  std::vector<WorkflowReturn> out;
  for (const auto& w : workflows.all()) {
    if (only && only->name != w.name) continue;
    WorkflowReturn r;
    r.workflow = &w;
    r.total = ReturnPeriod{first, last, ledger_figures(w, ledger, first, last)};
    for (year_month_day start = first; start <= last;) {
      const year_month_day month_last{start.year() / start.month() / std::chrono::last};
      const year_month_day end = std::min(month_last, last);
      r.months.push_back(ReturnPeriod{start, end, ledger_figures(w, ledger, start, end)});
      start = next_day(end);
    }
    out.push_back(std::move(r));
  }
  return out;
}

Result<ReturnLedgerRows> read_ledger(ReportStore& reports, const std::string& workflow, year_month_day first,
                                     year_month_day last) {
  auto built = reports.return_ledger_built();
  if (!built) return built.error();
  if (!*built)
    return Error::unavailable(
        "the return ledger is not built yet: redress rebuilds it from the cases' histories when it starts after a "
        "migration or an import (see its log)");
  return reports.return_days(workflow, day_number(first), day_number(last));
}

json::value timely_response_json(const Workflow& workflow, const ReturnFigures& f) {
  if (workflow.returns.timely_response.empty()) return nullptr;
  json::array clocks;
  for (const auto& clock : workflow.returns.timely_response) clocks.push_back(json::value(clock));
  const std::int64_t due = f.responses_timely + f.responses_late;
  return json::object{
      {"clocks", std::move(clocks)},
      {"timely", f.responses_timely},
      {"late", f.responses_late},
      {"rate", due == 0 ? json::value(nullptr)
                        : json::value(static_cast<double>(f.responses_timely) / static_cast<double>(due))}};
}

json::object return_figures_json(const Workflow& workflow, const ReturnFigures& f) {
  auto name_of = [](const std::vector<Term>& terms, const std::string& key) -> json::value {
    if (key.empty()) return "(not recorded)";
    for (const auto& t : terms)
      if (t.key == key) return json::value(t.name);
    return json::value(key);
  };
  json::array buckets;
  for (const auto& bucket : workflow.returns.buckets)
    buckets.push_back(json::object{{"key", bucket.key}, {"name", bucket.name}, {"closed", f.buckets.at(bucket.key)}});
  json::object outcomes;
  for (const auto& [outcome, count] : f.outcomes) outcomes[outcome] = count;
  auto breakdown = [&](const std::map<std::string, ReturnFigures::Breakdown>& rows, const std::vector<Term>& terms) {
    json::array out;
    for (const auto& [key, b] : rows)
      out.push_back(json::object{{"key", key.empty() ? json::value(nullptr) : json::value(key)},
                                 {"name", name_of(terms, key)},
                                 {"closed", b.closed},
                                 {"upheld", b.upheld}});
    return out;
  };
  json::array paid;
  for (const auto& [key, minor] : f.redress_paid)
    paid.push_back(json::object{{"currency", key.first}, {"kind", key.second}, {"amount", format_amount(minor)}});
  const std::int64_t resolved = f.resolved();
  return json::object{
      {"outstanding_start", f.outstanding_start},
      {"opened", f.opened},
      {"closed", f.closed},
      {"reopened", f.reopened},
      {"outstanding_end", f.outstanding_end},
      {"closed_by_bucket", std::move(buckets)},
      {"outcomes", std::move(outcomes)},
      {"withdrawn", f.withdrawn},
      {"upheld_share",
       resolved == 0 ? json::value(nullptr) : json::value(static_cast<double>(f.upheld()) / static_cast<double>(resolved))},
      {"redress_paid", std::move(paid)},
      {"by_product", breakdown(f.by_product, workflow.products)},
      {"by_root_cause", breakdown(f.by_root_cause, workflow.root_causes)},
      {"vulnerable", json::object{{"opened", f.vulnerable_opened},
                                  {"closed", f.vulnerable_closed},
                                  {"outstanding_end", f.vulnerable_outstanding_end}}},
      {"timely_response", timely_response_json(workflow, f)}};
}

std::string returns_csv(const std::vector<WorkflowReturn>& returns) {
  std::string csv = "workflow,period_start,period_end,measure,key,value\r\n";
  auto line = [&](const WorkflowReturn& r, const ReturnPeriod& p, const std::string& measure, const std::string& key,
                  const std::string& value) {
    csv += csv_field(r.workflow->name) + "," + date_text(p.first) + "," + date_text(p.last) + "," + csv_field(measure) +
           "," + csv_field(key) + "," + csv_field(value) + "\r\n";
  };
  for (const auto& r : returns) {
    std::vector<const ReturnPeriod*> periods{&r.total};
    if (r.months.size() > 1)
      for (const auto& m : r.months) periods.push_back(&m);
    for (const ReturnPeriod* p : periods) {
      const ReturnFigures& f = p->figures;
      line(r, *p, "outstanding_start", "", std::to_string(f.outstanding_start));
      line(r, *p, "opened", "", std::to_string(f.opened));
      line(r, *p, "closed", "", std::to_string(f.closed));
      line(r, *p, "reopened", "", std::to_string(f.reopened));
      line(r, *p, "outstanding_end", "", std::to_string(f.outstanding_end));
      for (const auto& bucket : r.workflow->returns.buckets)
        line(r, *p, "closed_by_bucket", bucket.key, std::to_string(f.buckets.at(bucket.key)));
      for (const auto& [outcome, count] : f.outcomes) line(r, *p, "outcome", outcome, std::to_string(count));
      line(r, *p, "withdrawn", "", std::to_string(f.withdrawn));
      for (const auto& [key, b] : f.by_product) line(r, *p, "closed_by_product", key, std::to_string(b.closed));
      for (const auto& [key, b] : f.by_product) line(r, *p, "upheld_by_product", key, std::to_string(b.upheld));
      for (const auto& [key, b] : f.by_root_cause) line(r, *p, "closed_by_root_cause", key, std::to_string(b.closed));
      for (const auto& [key, b] : f.by_root_cause) line(r, *p, "upheld_by_root_cause", key, std::to_string(b.upheld));
      for (const auto& [key, minor] : f.redress_paid)
        line(r, *p, "redress_paid", key.first + ":" + key.second, format_amount(minor));
      line(r, *p, "vulnerable_opened", "", std::to_string(f.vulnerable_opened));
      line(r, *p, "vulnerable_closed", "", std::to_string(f.vulnerable_closed));
      line(r, *p, "vulnerable_outstanding_end", "", std::to_string(f.vulnerable_outstanding_end));
      if (!r.workflow->returns.timely_response.empty()) {
        line(r, *p, "responses_timely", "", std::to_string(f.responses_timely));
        line(r, *p, "responses_late", "", std::to_string(f.responses_late));
      }
    }
  }
  return csv;
}

namespace {

// The period and workflow of a report over the ledger (?from=&to=[&workflow=]); nullopt once it
// has replied with the problem.
struct PeriodQuery {
  year_month_day first{}, last{};
  const Workflow* only = nullptr;
};

std::optional<PeriodQuery> period_query(ApiContext& api, const ContextPtr& ctx, Reply& reply) {
  auto date_param = [&](const std::string& name) -> std::optional<year_month_day> {
    auto value = ctx->query_value(name);
    if (!value) {
      reply(bad_query(name, "is required: a date like 2026-01-01"));
      return std::nullopt;
    }
    auto date = parse_date(*value);
    if (!date) reply(bad_query(name, "\"" + *value + "\" is not a date like 2026-01-01"));
    return date;
  };
  PeriodQuery q;
  const auto first = date_param("from");
  if (!first) return std::nullopt;
  const auto last = date_param("to");
  if (!last) return std::nullopt;
  q.first = *first;
  q.last = *last;
  if (q.last < q.first) return reply(bad_query("to", "must not be before from")), std::nullopt;
  if (std::chrono::sys_days{q.last} - std::chrono::sys_days{q.first} > std::chrono::days{5 * 366})
    return reply(bad_query("to", "a report covers at most five years")), std::nullopt;
  if (auto name = ctx->query_value("workflow")) {
    q.only = api.engine.workflows().find(*name);
    if (!q.only)
      return reply(bad_query("workflow", "\"" + *name + "\" is not a published workflow (GET /v1/workflows)")),
             std::nullopt;
  }
  return q;
}

bool wants_csv(const ContextPtr& ctx) {
  return ctx->request[http::field::accept].find("text/csv") != std::string_view::npos;
}

Response csv_response(std::string body, const std::string& filename) {
  Response response{http::status::ok, 11};
  response.set(http::field::content_type, "text/csv; charset=utf-8");
  response.set(http::field::content_disposition, "attachment; filename=\"" + filename + "\"");
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

}  // namespace

std::vector<RootCauseRow> root_cause_rows(const Workflow& workflow, const ReturnFigures& figures) {
  std::vector<RootCauseRow> rows;
  for (const auto& [key, b] : figures.by_root_cause) {
    const Term* term = key.empty() ? nullptr : workflow.find_root_cause(key);
    rows.push_back(RootCauseRow{key, key.empty() ? "(not recorded)" : term ? term->name : words_of(key), b.closed,
                                b.upheld});
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const RootCauseRow& a, const RootCauseRow& b) { return a.resolved > b.resolved; });
  return rows;
}

void root_causes_report(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  auto q = period_query(api, ctx, reply);
  if (!q) return;
  auto ledger = read_ledger(api.reports, q->only ? q->only->name : std::string(), q->first, q->last);
  if (!ledger) return reply(problem_from(ledger.error()));
  const std::vector<WorkflowReturn> returns = compute_returns(api.engine.workflows(), q->only, *ledger, q->first, q->last);
  if (wants_csv(ctx)) {
    std::string csv = "workflow,period_start,period_end,root_cause,root_cause_name,resolved,upheld\r\n";
    for (const auto& r : returns) {
      std::vector<const ReturnPeriod*> periods{&r.total};
      for (const auto& m : r.months) periods.push_back(&m);
      for (const ReturnPeriod* p : periods)
        for (const auto& row : root_cause_rows(*r.workflow, p->figures))
          csv += csv_field(r.workflow->name) + "," + date_text(p->first) + "," + date_text(p->last) + "," +
                 csv_field(row.key) + "," + csv_field(row.name) + "," + std::to_string(row.resolved) + "," +
                 std::to_string(row.upheld) + "\r\n";
    }
    return reply(csv_response(std::move(csv), "redress-root-causes-" + date_text(q->first) + "-" +
                                                  date_text(q->last) + ".csv"));
  }
  auto rows_json = [](const Workflow& w, const ReturnFigures& f) {
    json::array out;
    for (const auto& row : root_cause_rows(w, f))
      out.push_back(json::object{{"key", row.key.empty() ? json::value(nullptr) : json::value(row.key)},
                                 {"name", row.name},
                                 {"resolved", row.resolved},
                                 {"upheld", row.upheld}});
    return out;
  };
  json::array items;
  for (const auto& r : returns) {
    json::array months;
    for (const auto& m : r.months)
      months.push_back(json::object{{"from", date_text(m.first)},
                                    {"to", date_text(m.last)},
                                    {"resolved", m.figures.resolved()},
                                    {"root_causes", rows_json(*r.workflow, m.figures)}});
    items.push_back(json::object{{"workflow", r.workflow->name},
                                 {"name", r.workflow->title},
                                 {"time_zone", r.workflow->calendar.zone_name()},
                                 {"from", date_text(r.total.first)},
                                 {"to", date_text(r.total.last)},
                                 {"resolved", r.total.figures.resolved()},
                                 {"root_causes", rows_json(*r.workflow, r.total.figures)},
                                 {"months", std::move(months)}});
  }
  reply(json_response(http::status::ok, json::object{{"from", date_text(q->first)},
                                                     {"to", date_text(q->last)},
                                                     {"generated_at", format_time(api.engine.clock().now())},
                                                     {"items", std::move(items)}}));
}

void returns_report(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  auto q = period_query(api, ctx, reply);
  if (!q) return;
  const Workflow* only = q->only;
  const year_month_day* first = &q->first;
  const year_month_day* last = &q->last;
  auto ledger = read_ledger(api.reports, only ? only->name : std::string(), *first, *last);
  if (!ledger) return reply(problem_from(ledger.error()));
  const std::vector<WorkflowReturn> returns = compute_returns(api.engine.workflows(), only, *ledger, *first, *last);

  if (wants_csv(ctx))
    return reply(csv_response(returns_csv(returns),
                              "redress-returns-" + date_text(*first) + "-" + date_text(*last) + ".csv"));
  json::array items;
  for (const auto& r : returns) {
    json::array months;
    for (const auto& m : r.months) {
      json::object o{{"from", date_text(m.first)}, {"to", date_text(m.last)}};
      for (auto& [key, value] : return_figures_json(*r.workflow, m.figures)) o[key] = value;
      months.push_back(std::move(o));
    }
    json::object item{{"workflow", r.workflow->name},
                      {"name", r.workflow->title},
                      {"time_zone", r.workflow->calendar.zone_name()},
                      {"from", date_text(r.total.first)},
                      {"to", date_text(r.total.last)}};
    for (auto& [key, value] : return_figures_json(*r.workflow, r.total.figures)) item[key] = value;
    item["months"] = std::move(months);
    items.push_back(std::move(item));
  }
  reply(json_response(http::status::ok, json::object{{"from", date_text(*first)},
                                                     {"to", date_text(*last)},
                                                     {"generated_at", format_time(api.engine.clock().now())},
                                                     {"items", std::move(items)}}));
}

}  // namespace redress::web
