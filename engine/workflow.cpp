#include "engine/workflow.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cctype>
#include <cmath>
#include <map>
#include <tuple>
#include <utility>

namespace redress {

namespace {

// Lower case, every run of white space one space: a phrasing wrapped across lines still matches.
std::string folded(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool space = false;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::vector<const RequiredElement*> missing_in(const std::vector<RequiredElement>& elements, const std::string& text) {
  const std::string haystack = folded(text);
  std::vector<const RequiredElement*> missing;
  for (const auto& element : elements) {
    const bool found = std::any_of(element.any_of.begin(), element.any_of.end(), [&](const std::string& phrase) {
      return haystack.find(folded(phrase)) != std::string::npos;
    });
    if (!found) missing.push_back(&element);
  }
  return missing;
}

// The pauses a clock honours: none unless it pauses while awaiting the client.
std::span<const TimeInterval> honoured(const ClockRule& clock, std::span<const TimeInterval> pauses) {
  return clock.pause == PauseRule::kPausesWhileAwaitingClient ? pauses : std::span<const TimeInterval>{};
}

template <typename Enum, std::size_t N>
std::optional<Enum> parse_from(const std::array<std::pair<Enum, std::string_view>, N>& names, std::string_view text) {
  for (const auto& [value, name] : names)
    if (name == text) return value;
  return std::nullopt;
}

template <typename Enum, std::size_t N>
std::string_view name_of(const std::array<std::pair<Enum, std::string_view>, N>& names, Enum value) {
  for (const auto& [candidate, name] : names)
    if (candidate == value) return name;
  return "unknown";
}

constexpr std::array<std::pair<TriggerKind, std::string_view>, 6> kTriggerNames{{
    {TriggerKind::kClockWarning, "clock_warning"},
    {TriggerKind::kClockBreach, "clock_breach"},
    {TriggerKind::kCommitmentBroken, "commitment_broken"},
    {TriggerKind::kRedressRejected, "redress_rejected"},
    {TriggerKind::kClientRequest, "client_request"},
    {TriggerKind::kSeverity, "severity"},
}};
constexpr std::array<std::pair<ClockStart, std::string_view>, 4> kStartNames{{
    {ClockStart::kReceived, "received"},
    {ClockStart::kAcknowledged, "acknowledged"},
    {ClockStart::kReopened, "reopened"},
    {ClockStart::kRouted, "routed"},
}};
constexpr std::array<std::pair<ClockStop, std::string_view>, 3> kStopNames{{
    {ClockStop::kAcknowledged, "acknowledged"},
    {ClockStop::kClientUpdate, "client_update"},
    {ClockStop::kResolved, "resolved"},
}};
constexpr std::array<std::pair<Renegotiation, std::string_view>, 3> kRenegotiationNames{{
    {Renegotiation::kNever, "never"},
    {Renegotiation::kExceptional, "exceptional"},
    {Renegotiation::kAllowed, "allowed"},
}};
constexpr std::array<std::pair<NotifyTarget, std::string_view>, 4> kNotifyNames{{
    {NotifyTarget::kClient, "client"},
    {NotifyTarget::kOwner, "owner"},
    {NotifyTarget::kTeam, "team"},
    {NotifyTarget::kEscalationLevel, "escalation_level"},
}};

}  // namespace

std::vector<const RequiredElement*> missing_in_text(const std::vector<RequiredElement>& elements,
                                                   const std::string& text) {
  return missing_in(elements, text);
}

std::int64_t Compensation::amount_for(Duration late) const {
  if (late < Duration::zero()) return 0;
  std::int64_t total = fixed_minor;
  if (per_period_minor > 0 && period > Duration::zero()) total += per_period_minor * (late / period);
  if (cap_minor) total = std::min(total, *cap_minor);
  return total;
}

bool ClockRule::applies_to(std::string_view category) const {
  return categories.empty() || std::find(categories.begin(), categories.end(), category) != categories.end();
}

Time ClockRule::due_at(const BusinessCalendar& calendar, Time started, std::span<const TimeInterval> pauses) const {
  const Time base = target.from(calendar, started);
  return calendar.extend_for_pauses(base, target.basis, honoured(*this, pauses));
}

std::optional<Time> ClockRule::exceptional_due_at(const BusinessCalendar& calendar, Time started,
                                                  std::span<const TimeInterval> pauses) const {
  if (!exceptional_target) return std::nullopt;
  const Time base = exceptional_target->from(calendar, started);
  return calendar.extend_for_pauses(base, exceptional_target->basis, honoured(*this, pauses));
}

std::vector<Time> ClockRule::warning_times(const BusinessCalendar& calendar, Time started,
                                           std::span<const TimeInterval> pauses) const {
  std::vector<Time> out;
  if (warnings.empty()) return out;
  const Time base = target.from(calendar, started);
  const Duration allowance = calendar.measure(started, base, target.basis);
  for (double fraction : warnings) {
    const auto part =
        Duration(static_cast<Duration::rep>(std::llround(static_cast<double>(allowance.count()) * fraction)));
    const Time unpaused =
        target.basis == TimeBasis::kCalendar ? started + part : calendar.add_business_time(started, part);
    out.push_back(calendar.extend_for_pauses(unpaused, target.basis, honoured(*this, pauses)));
  }
  return out;
}

std::vector<const RequiredElement*> Workflow::missing_elements(const std::string& text) const {
  return missing_in(final_response_elements, text);
}

std::vector<const RequiredElement*> Workflow::missing_summary_elements(const std::string& text) const {
  if (!summary_resolution) return {};
  return missing_in(summary_resolution->elements, text);
}

std::vector<const RequiredElement*> Workflow::missing_holding_reply_elements(const std::string& text) const {
  if (!holding_reply) return {};
  return missing_in(holding_reply->elements, text);
}

std::optional<Time> Workflow::summary_resolution_until(Time received) const {
  if (!summary_resolution) return std::nullopt;
  const OutOfHoursRule rule = summary_resolution->out_of_hours.value_or(calendar.out_of_hours());
  return summary_resolution->within.from(calendar, calendar.effective_receipt(received, rule));
}

bool Workflow::summary_resolution_allowed(Time received, Time resolved) const {
  const std::optional<Time> until = summary_resolution_until(received);
  return until && resolved <= *until;
}

const ReturnBucket* Workflow::bucket_for(Time received, Time resolved) const {
  for (const auto& bucket : returns.buckets) {
    if (!bucket.within) return &bucket;
    const OutOfHoursRule rule = bucket.out_of_hours.value_or(calendar.out_of_hours());
    if (resolved <= bucket.within->from(calendar, calendar.effective_receipt(received, rule))) return &bucket;
  }
  return nullptr;
}

namespace {
const Term* find_term(const std::vector<Term>& terms, std::string_view key) {
  for (const auto& term : terms)
    if (term.key == key) return &term;
  return nullptr;
}
}  // namespace

const Term* Workflow::find_product(std::string_view key) const { return find_term(products, key); }
const Term* Workflow::find_root_cause(std::string_view key) const { return find_term(root_causes, key); }

std::string words_of(std::string_view key) {
  std::string out;
  for (char c : key) out.push_back(c == '_' || c == '-' ? ' ' : c);
  if (!out.empty() && out[0] >= 'a' && out[0] <= 'z') out[0] = static_cast<char>(out[0] - 'a' + 'A');
  return out;
}

bool Workflow::holding_reply_required(const Case& record, const std::vector<Commitment>& commitments) const {
  if (!holding_reply || !is_open(record.status) || record.holding_reply_at) return false;
  const std::string prefix = name + "/" + holding_reply->clock + "#";
  return std::any_of(commitments.begin(), commitments.end(), [&](const Commitment& c) {
    return c.kind == CommitmentKind::kPledge && c.status == CommitmentStatus::kBroken &&
           c.pledge_key.rfind(prefix, 0) == 0;
  });
}

std::vector<int> Workflow::levels_naming(TriggerKind kind) const {
  std::vector<int> out;
  for (const auto& rung : escalation)
    if (std::any_of(rung.triggers.begin(), rung.triggers.end(),
                    [&](const EscalationTrigger& t) { return t.kind == kind; }))
      out.push_back(rung.level);
  return out;
}

const ClockRule* Workflow::find_clock(std::string_view name) const {
  for (const auto& clock : clocks)
    if (clock.name == name) return &clock;
  return nullptr;
}

std::vector<const ClockRule*> Workflow::clocks_for(std::string_view category) const {
  std::vector<const ClockRule*> out;
  for (const auto& clock : clocks)
    if (clock.applies_to(category)) out.push_back(&clock);
  return out;
}

Time Workflow::clock_start(const ClockRule& clock, Time event_time) const {
  // Only receipt is subject to the out-of-hours rule: acknowledging or reopening is something
  // the organisation itself does.
  if (clock.start != ClockStart::kReceived) return event_time;
  return calendar.effective_receipt(event_time, clock.out_of_hours.value_or(calendar.out_of_hours()));
}

const EscalationLevel* Workflow::level(int number) const {
  for (const auto& rung : escalation)
    if (rung.level == number) return &rung;
  return nullptr;
}

WorkflowSet::WorkflowSet(std::vector<Workflow> workflows, std::string default_workflow)
    : workflows_(std::move(workflows)), default_(std::move(default_workflow)) {
  assert(workflows_.empty() || find(default_) != nullptr);
}

namespace {

std::string in_words(std::string_view id) {
  std::string out;
  for (char c : id) out.push_back(c == '_' || c == '-' ? ' ' : c);
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

std::string named(const std::vector<Workflow>& workflows,
                  std::vector<std::pair<std::string, std::string>> Workflow::*names, std::string_view id) {
  for (const auto& w : workflows)
    for (const auto& [key, name] : w.*names)
      if (key == id) return name;
  return in_words(id);
}

}  // namespace

std::string WorkflowSet::category_name(std::string_view id) const {
  return named(workflows_, &Workflow::category_names, id);
}

std::string WorkflowSet::touchpoint_name(std::string_view id) const {
  return named(workflows_, &Workflow::touchpoint_names, id);
}

std::vector<std::pair<std::string, std::string>> WorkflowSet::touchpoints() const {
  std::map<std::string, std::string> all;
  for (const auto& w : workflows_)
    for (const auto& [key, name] : w.touchpoint_names) all.emplace(key, name);
  return {all.begin(), all.end()};
}

std::vector<Touchpoint> WorkflowSet::touchpoint_list() const {
  std::map<std::string, Touchpoint> all;
  for (const auto& w : workflows_) {
    for (const auto& t : w.touchpoint_details) {
      Touchpoint& entry = all[t.key];
      entry.key = t.key;
      if (entry.description.empty()) entry.description = t.description;
      if (entry.team.empty()) entry.team = t.team;
    }
    for (const auto& [key, name] : w.touchpoint_names) all[key].key = key;
  }
  std::vector<Touchpoint> out;
  for (auto& [key, t] : all) {
    t.name = touchpoint_name(key);
    out.push_back(std::move(t));
  }
  return out;
}

std::optional<Touchpoint> WorkflowSet::find_touchpoint(std::string_view id) const {
  for (auto& t : touchpoint_list())
    if (t.key == id) return t;
  return std::nullopt;
}

const Workflow* WorkflowSet::find(const std::string& name) const {
  for (const auto& workflow : workflows_)
    if (workflow.name == name) return &workflow;
  return nullptr;
}

const Workflow& WorkflowSet::route(const std::string& category, Channel channel) const {
  assert(!workflows_.empty());
  for (const auto& workflow : workflows_) {
    const bool category_matches =
        std::find(workflow.categories.begin(), workflow.categories.end(), category) != workflow.categories.end();
    const bool channel_matches =
        workflow.channels.empty() ||
        std::find(workflow.channels.begin(), workflow.channels.end(), channel) != workflow.channels.end();
    if (category_matches && channel_matches) return workflow;
  }
  if (const Workflow* fallback = find(default_)) return *fallback;
  return workflows_.front();
}

std::string_view to_string(TriggerKind value) { return name_of(kTriggerNames, value); }
std::optional<TriggerKind> parse_TriggerKind(std::string_view text) { return parse_from(kTriggerNames, text); }
std::string_view to_string(ClockStart value) { return name_of(kStartNames, value); }
std::optional<ClockStart> parse_ClockStart(std::string_view text) { return parse_from(kStartNames, text); }
std::string_view to_string(ClockStop value) { return name_of(kStopNames, value); }
std::optional<ClockStop> parse_ClockStop(std::string_view text) { return parse_from(kStopNames, text); }
std::string_view to_string(Renegotiation value) { return name_of(kRenegotiationNames, value); }
std::optional<Renegotiation> parse_Renegotiation(std::string_view text) {
  return parse_from(kRenegotiationNames, text);
}

std::string calendar_warning(const CalendarEnding& ending) {
  const std::string file = ending.source.empty() ? "its workflow file" : ending.source;
  const std::string next = std::to_string(ending.last_year + 1);
  std::string text = "the " + ending.workflow + " standard's business calendar (" + ending.zone +
                     ") lists holidays to the end of " + std::to_string(ending.last_year) + ": ";
  if (ending.days_left <= 0)
    return text + "it has run out, and deadlines past it are refused. Add " + next + "'s holidays and last_year to " +
           file + ", then restart";
  return text + std::to_string(ending.days_left) + (ending.days_left == 1 ? " day" : " days") + " left. Add " + next +
         "'s holidays and last_year to " + file + " before then: after it, deadlines on it are refused";
}

std::string letter_date(const BusinessCalendar& calendar, Time t) {
  static const char* const kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                                        "July",    "August",   "September", "October", "November", "December"};
  const auto date = calendar.local_date(t);
  return std::to_string(static_cast<unsigned>(date.day())) + " " +
         kMonths[static_cast<unsigned>(date.month()) - 1] + " " + std::to_string(static_cast<int>(date.year()));
}

std::vector<CalendarEnding> calendars_ending(const WorkflowSet& workflows, Time now, int warning_days) {
  std::vector<CalendarEnding> out;
  const auto today = std::chrono::floor<std::chrono::days>(now);
  for (const auto& workflow : workflows.all()) {
    const auto ends = workflow.calendar.end_of_coverage();
    if (!ends) continue;
    const std::int64_t left = (std::chrono::sys_days(*ends) - today).count();
    if (left > warning_days) continue;
    out.push_back(CalendarEnding{workflow.name, workflow.source, workflow.calendar.zone_name(),
                                 workflow.calendar.years()->last, *ends, left});
  }
  std::sort(out.begin(), out.end(), [](const CalendarEnding& a, const CalendarEnding& b) {
    return std::tie(a.days_left, a.workflow) < std::tie(b.days_left, b.workflow);
  });
  return out;
}
std::optional<NotifyTarget> parse_NotifyTarget(std::string_view text) { return parse_from(kNotifyNames, text); }

}  // namespace redress
