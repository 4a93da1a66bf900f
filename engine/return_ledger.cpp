#include "engine/return_ledger.h"

#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <map>
#include <tuple>

#include "engine/actions.h"

namespace redress {

namespace {

constexpr std::array<std::string_view, 16> kMeasureNames{
    "opened",          "closed",           "reopened",          "withdrawn",      "outcome",
    "bucket",          "product_closed",   "product_upheld",    "root_cause_closed", "root_cause_upheld",
    "paid",            "vulnerable_closed", "vulnerable_outstanding", "vulnerable_opened", "response_timely",
    "response_late"};
static_assert(kMeasureNames.size() == static_cast<std::size_t>(ReturnMeasure::kResponseLate) + 1,
              "one name per measure, in order");

std::string text_of(const boost::json::object& data, const char* key) {
  const boost::json::value* value = data.if_contains(key);
  return value && value->is_string() ? std::string(value->get_string()) : std::string();
}

// A case is open for a return until it is resolved or withdrawn (closing a resolved case changes
// nothing: it was counted closed at its resolution).
bool counted_open(CaseStatus status) {
  return status != CaseStatus::kResolved && status != CaseStatus::kClosed && status != CaseStatus::kWithdrawn;
}

bool settled(const Commitment& c) {
  return (c.status == CommitmentStatus::kKept || c.status == CommitmentStatus::kBroken) && c.settled_at.has_value();
}

}  // namespace

std::string_view to_string(ReturnMeasure measure) { return kMeasureNames[static_cast<std::size_t>(measure)]; }

std::optional<ReturnMeasure> parse_ReturnMeasure(std::string_view text) {
  for (std::size_t i = 0; i < kMeasureNames.size(); ++i)
    if (kMeasureNames[i] == text) return static_cast<ReturnMeasure>(i);
  return std::nullopt;
}

std::optional<ReturnEvent> return_event_of(std::string_view type, Time at, std::string_view data_text) {
  const bool counted = type == "case.resolved" || type == "case.withdrawn" || type == "case.reopened" ||
                       type == "client.vulnerability_flagged" || type == "client.vulnerability_cleared" ||
                       type == "redress.fulfilled";
  if (!counted) return std::nullopt;
  ReturnEvent event;
  event.at = at;
  if (type == "case.withdrawn") {
    event.kind = ReturnEvent::Kind::kWithdrawn;
    return event;
  }
  if (type == "case.reopened") {
    event.kind = ReturnEvent::Kind::kReopened;
    return event;
  }
  if (type == "client.vulnerability_flagged") {
    event.kind = ReturnEvent::Kind::kFlagged;
    return event;
  }
  if (type == "client.vulnerability_cleared") {
    event.kind = ReturnEvent::Kind::kCleared;
    return event;
  }
  boost::system::error_code ec;
  boost::json::value parsed = boost::json::parse(data_text, ec);
  const boost::json::object empty;
  const boost::json::object& data = !ec && parsed.is_object() ? parsed.get_object() : empty;
  if (type == "case.resolved") {
    event.kind = ReturnEvent::Kind::kResolved;
    event.outcome = parse_Outcome(text_of(data, "outcome"));
    event.root_cause = text_of(data, "root_cause");
    event.product = text_of(data, "product");
    return event;
  }
  // redress.fulfilled: what was paid (fulfilments before issue 26 recorded no amount, and count nothing).
  const std::string paid = text_of(data, "paid");
  if (paid.empty()) return std::nullopt;
  auto minor = parse_amount_minor(boost::json::value(paid));
  if (!minor) return std::nullopt;
  event.kind = ReturnEvent::Kind::kPaid;
  event.paid_minor = *minor;
  event.currency = text_of(data, "currency");
  event.redress_kind = text_of(data, "kind");
  return event;
}

std::int32_t day_number(std::chrono::year_month_day date) {
  return static_cast<std::int32_t>(std::chrono::sys_days{date}.time_since_epoch().count());
}

std::chrono::year_month_day day_date(std::int32_t day) {
  return std::chrono::year_month_day{std::chrono::sys_days{std::chrono::days{day}}};
}

std::int32_t ledger_day(const Workflow& workflow, Time t) { return day_number(workflow.calendar.local_date(t)); }

ReturnLedgerFold ReturnLedgerFold::of_case(const Workflow& workflow, const Case& stored) {
  return ReturnLedgerFold(workflow, stored.received_at, counted_open(stored.status), stored.vulnerability.has_value());
}

void ReturnLedgerFold::entry(std::int32_t day, ReturnMeasure measure, std::string key, std::int64_t value,
                             std::vector<ReturnEntry>& out) const {
  out.push_back(ReturnEntry{workflow_->name, day, measure, std::move(key), value});
}

void ReturnLedgerFold::add(const Event& e, std::vector<ReturnEntry>& out) {
  using M = ReturnMeasure;
  if (e.type == "case.received") {
    // Counted on the day of receipt as recorded (a call logged later counts when it came).
    entry(ledger_day(*workflow_, received_at_), M::kOpened, "", 1, out);
    return;
  }
  auto event = return_event_of(e.type, e.at, e.data);
  if (!event) return;
  const std::int32_t day = ledger_day(*workflow_, e.at);
  using Kind = ReturnEvent::Kind;
  switch (event->kind) {
    case Kind::kResolved:
    case Kind::kWithdrawn: {
      entry(day, M::kClosed, "", 1, out);
      if (const ReturnBucket* bucket = workflow_->bucket_for(received_at_, e.at)) entry(day, M::kBucket, bucket->key, 1, out);
      if (flagged_) {
        entry(day, M::kVulnerableClosed, "", 1, out);
        if (open_) entry(day, M::kVulnerableOutstanding, "", -1, out);
      }
      open_ = false;
      if (event->kind == Kind::kWithdrawn) {
        entry(day, M::kWithdrawn, "", 1, out);
        break;
      }
      if (event->outcome) entry(day, M::kOutcome, std::string(to_string(*event->outcome)), 1, out);
      const bool upheld = event->outcome == Outcome::kUpheld || event->outcome == Outcome::kPartlyUpheld;
      entry(day, M::kProductClosed, event->product, 1, out);
      entry(day, M::kRootCauseClosed, event->root_cause, 1, out);
      if (upheld) {
        entry(day, M::kProductUpheld, event->product, 1, out);
        entry(day, M::kRootCauseUpheld, event->root_cause, 1, out);
      }
      break;
    }
    case Kind::kReopened:
      entry(day, M::kReopened, "", 1, out);
      if (flagged_ && !open_) entry(day, M::kVulnerableOutstanding, "", 1, out);
      open_ = true;
      break;
    case Kind::kFlagged:
    case Kind::kCleared: {
      const bool flag = event->kind == Kind::kFlagged;
      if (flag == flagged_) break;  // flagged again: the flag changed, not whether there is one
      flagged_ = flag;
      const std::int64_t sign = flag ? 1 : -1;
      entry(ledger_day(*workflow_, received_at_), M::kVulnerableOpened, format_date(day_date(day)), sign, out);
      if (open_) entry(day, M::kVulnerableOutstanding, "", sign, out);
      break;
    }
    case Kind::kPaid:
      entry(day, M::kPaid, event->currency + ":" + event->redress_kind, event->paid_minor, out);
      break;
  }
}

std::optional<ReturnEntry> response_entry(const WorkflowSet& workflows, const Commitment& c) {
  if (c.kind != CommitmentKind::kPledge || !settled(c)) return std::nullopt;
  // "workflow/clock#run": only a clock's first run is the response.
  const auto slash = c.pledge_key.find('/');
  const auto hash = c.pledge_key.rfind('#');
  if (slash == std::string::npos || hash == std::string::npos || hash < slash) return std::nullopt;
  if (c.pledge_key.substr(hash + 1) != "1") return std::nullopt;
  const Workflow* workflow = workflows.find(c.pledge_key.substr(0, slash));
  if (!workflow) return std::nullopt;
  const std::string clock = c.pledge_key.substr(slash + 1, hash - slash - 1);
  const auto& clocks = workflow->returns.timely_response;
  if (std::find(clocks.begin(), clocks.end(), clock) == clocks.end()) return std::nullopt;
  const bool timely =
      c.status == CommitmentStatus::kKept && !(c.rule_due_at && *c.settled_at > *c.rule_due_at);
  return ReturnEntry{workflow->name, ledger_day(*workflow, *c.settled_at),
                     timely ? ReturnMeasure::kResponseTimely : ReturnMeasure::kResponseLate, clock, 1};
}

Status add_return_entries(Change& change, const CaseSnapshot* before, const WorkflowSet& workflows,
                          const std::function<std::vector<Event>()>& history) {
  std::vector<ReturnEntry>& out = change.return_entries;
  try {
    const Workflow* now_in = workflows.find(change.after.workflow);
    if (!before) {
      if (now_in) {
        ReturnLedgerFold fold(*now_in, change.after.received_at, true, false);
        for (const auto& e : change.events) fold.add(e, out);
      }
    } else if (before->record.workflow == change.after.workflow) {
      if (now_in) {
        ReturnLedgerFold fold = ReturnLedgerFold::of_case(*now_in, before->record);
        for (const auto& e : change.events) fold.add(e, out);
      }
    } else {
      // Re-routed: the whole history leaves the old workflow's return and joins the new one's.
      const std::vector<Event> stored = history();
      if (const Workflow* was_in = workflows.find(before->record.workflow)) {
        std::vector<ReturnEntry> taken;
        ReturnLedgerFold fold(*was_in, before->record.received_at, true, false);
        for (const auto& e : stored) fold.add(e, taken);
        for (auto& entry : taken) {
          entry.value = -entry.value;
          out.push_back(std::move(entry));
        }
      }
      if (now_in) {
        ReturnLedgerFold fold(*now_in, change.after.received_at, true, false);
        for (const auto& e : stored) fold.add(e, out);
        for (const auto& e : change.events) fold.add(e, out);
      }
    }
    // Response pledges settled by this change (each commitment is once on a change).
    for (const auto& c : change.commitments) {
      auto entry = response_entry(workflows, c);
      if (!entry) continue;
      bool already = false;
      if (before)
        for (const auto& old : before->commitments)
          if (old.id == c.id) already = settled(old);
      if (!already) out.push_back(std::move(*entry));
    }
  } catch (const CalendarExhausted& e) {
    out.clear();
    return Error::unavailable(std::string("the return cannot count this change: ") + e.what());
  }
  return Status::success();
}

std::vector<ReturnEntry> case_return_entries(const WorkflowSet& workflows, const Case& record,
                                             const std::vector<Event>& events,
                                             const std::vector<Commitment>& commitments) {
  std::vector<ReturnEntry> out;
  if (const Workflow* workflow = workflows.find(record.workflow)) {
    ReturnLedgerFold fold(*workflow, record.received_at, true, false);
    for (const auto& e : events) fold.add(e, out);
  }
  for (const auto& c : commitments)
    if (auto entry = response_entry(workflows, c)) out.push_back(std::move(*entry));
  return out;
}

std::vector<ReturnEntry> summed(std::vector<ReturnEntry> entries) {
  std::map<std::tuple<std::string, std::int32_t, ReturnMeasure, std::string>, std::int64_t> sums;
  for (auto& e : entries) sums[{std::move(e.workflow), e.day, e.measure, std::move(e.key)}] += e.value;
  std::vector<ReturnEntry> out;
  for (auto& [key, value] : sums)
    if (value != 0) out.push_back(ReturnEntry{std::get<0>(key), std::get<1>(key), std::get<2>(key), std::get<3>(key), value});
  return out;
}

}  // namespace redress
