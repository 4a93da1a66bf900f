#include "web/returns.h"

#include <boost/json.hpp>

#include <algorithm>

#include "engine/actions.h"
#include "engine/calendar.h"
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
bool flagged_at(const ReturnCaseHistory& history, Time t, bool inclusive) {
  bool flagged = false;
  for (const auto& e : history.events) {
    if (inclusive ? e.at > t : e.at >= t) break;
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
      if (outstanding_end && flagged_at(h, to, false)) ++f.vulnerable_outstanding_end;
      if (h.received_at >= from) {
        ++f.opened;
        if (flagged_at(h, to, false)) ++f.vulnerable_opened;
      }
      for (const auto& e : h.events) {
        if (e.at < from || e.at >= to) continue;
        if (e.kind == Kind::kReopened) ++f.reopened;
        if (e.kind == Kind::kPaid) f.redress_paid[{e.currency, e.redress_kind}] += e.paid_minor;
        if (!closes_case(e.kind)) continue;
        ++f.closed;
        if (flagged_at(h, e.at, true)) ++f.vulnerable_closed;
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

Result<std::vector<WorkflowReturn>> compute_returns(const WorkflowSet& workflows, const Workflow* only,
                                                    const std::vector<ReturnCaseHistory>& histories,
                                                    year_month_day first, year_month_day last) {
  std::vector<WorkflowReturn> out;
  for (const auto& w : workflows.all()) {
    if (only && only->name != w.name) continue;
    WorkflowReturn r;
    r.workflow = &w;
    auto total = return_figures(w, histories, first, last);
    if (!total) return total.error();
    r.total = ReturnPeriod{first, last, std::move(total).value()};
    for (year_month_day start = first; start <= last;) {
      const year_month_day month_last{start.year() / start.month() / std::chrono::last};
      const year_month_day end = std::min(month_last, last);
      auto figures = return_figures(w, histories, start, end);
      if (!figures) return figures.error();
      r.months.push_back(ReturnPeriod{start, end, std::move(figures).value()});
      start = next_day(end);
    }
    out.push_back(std::move(r));
  }
  return out;
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
                                  {"outstanding_end", f.vulnerable_outstanding_end}}}};
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
    }
  }
  return csv;
}

void returns_report(ApiContext& api, const ContextPtr& ctx, Reply reply) {
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
  const auto first = date_param("from");
  if (!first) return;
  const auto last = date_param("to");
  if (!last) return;
  if (*last < *first) return reply(bad_query("to", "must not be before from"));
  if (std::chrono::sys_days{*last} - std::chrono::sys_days{*first} > std::chrono::days{5 * 366})
    return reply(bad_query("to", "a return covers at most five years"));
  const Workflow* only = nullptr;
  if (auto name = ctx->query_value("workflow")) {
    only = api.engine.workflows().find(*name);
    if (!only) return reply(bad_query("workflow", "\"" + *name + "\" is not a published workflow (GET /v1/workflows)"));
  }
  Time before = Time::min();
  for (const auto& w : api.engine.workflows().all())
    if (!only || only == &w) before = std::max(before, return_period_end(w, *last));
  auto histories = api.reports.return_histories(only ? only->name : std::string(), before);
  if (!histories) return reply(problem_from(histories.error()));
  auto returns = compute_returns(api.engine.workflows(), only, *histories, *first, *last);
  if (!returns) return reply(problem_from(returns.error()));

  const auto accept = ctx->request[http::field::accept];
  if (accept.find("text/csv") != std::string_view::npos) {
    Response response{http::status::ok, 11};
    response.set(http::field::content_type, "text/csv; charset=utf-8");
    response.set(http::field::content_disposition, "attachment; filename=\"redress-returns-" + date_text(*first) +
                                                       "-" + date_text(*last) + ".csv\"");
    response.body() = returns_csv(*returns);
    response.prepare_payload();
    return reply(std::move(response));
  }
  json::array items;
  for (const auto& r : *returns) {
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
