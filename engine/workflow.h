// Workflow: a published service standard, as the engine sees it.
//
// Workflows are data (TOML files in workflows/, read by workflows/loader.h). The engine reads them
// to route cases, check final responses, bound escalation and the reopen window, and (in the
// commitments module) to compute pledges on the business calendar: each ClockRule says when a
// pledge starts, what meets it, how long it runs on which basis, whether it pauses while the case
// awaits the client, when it warns, and what its breach does (escalate, notify, compensate).
// Deadlines are pure functions of the calendar, the start instant and the pauses, so the same
// event history always gives the same deadlines. A WorkflowSet is immutable after loading and safe
// to share between threads.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/calendar.h"
#include "engine/model.h"
#include "engine/time.h"

namespace redress {

// An element a final response must contain, e.g. the right to refer to the ombudsman.
// The response passes when, for each element, it contains at least one of `any_of`
// (case-insensitive substring).
struct RequiredElement {
  std::string key;                  // "ombudsman_referral"
  std::string description;          // shown to staff when the element is missing
  std::vector<std::string> any_of;  // accepted phrasings
};

// The elements of `elements` that `text` lacks (each found when one of its phrasings occurs,
// ignoring case and runs of white space).
[[nodiscard]] std::vector<const RequiredElement*> missing_in_text(const std::vector<RequiredElement>& elements,
                                                                  const std::string& text);

// What raises a case to an escalation level.
enum class TriggerKind {
  kClockWarning,      // a clock passed one of its warning fractions
  kClockBreach,       // a clock's pledge broke
  kCommitmentBroken,  // any commitment on the case broke (promises and redress included)
  kRedressRejected,   // the client rejected a redress offer
  kClientRequest,     // the client asked for escalation
  kSeverity,          // the case was assessed at or above a severity
};

// What each kind raises to (engine/pledges.cpp, engine/planner.cpp): the highest rung whose
// triggers match, never lower than the case is — except kClientRequest, which raises one rung at a
// time: to the lowest rung above the case that names it.
struct EscalationTrigger {
  TriggerKind kind = TriggerKind::kClockBreach;
  std::string clock;                    // clock triggers: the clock's name; empty means any clock
  double fraction = 0;                  // kClockWarning: the warning fraction; 0 means any warning
  Severity severity = Severity::kHigh;  // kSeverity: the minimum severity
  // kCommitmentBroken: only commitments of this kind (promise, pledge, redress); any when unset.
  std::optional<CommitmentKind> commitment;
  bool client_visible_only = false;  // kCommitmentBroken: only commitments the client can see

  // Whether a broken commitment of `kind`, visible to the client or not, matches (kCommitmentBroken).
  [[nodiscard]] bool matches_broken(CommitmentKind kind, bool client_visible) const {
    return kind_matches(kind) && (!client_visible_only || client_visible);
  }

 private:
  [[nodiscard]] bool kind_matches(CommitmentKind kind) const { return !commitment || *commitment == kind; }
};

// One rung of the escalation ladder. Level 0 is the owner and is implicit.
struct EscalationLevel {
  int level = 1;
  std::string name;                         // "Team lead"
  std::vector<Role> roles;                  // staff with these roles are notified...
  std::vector<std::string> teams;           // ...restricted to these teams when not empty
  std::vector<std::string> staff;           // ...and these staff emails, named individually
  std::vector<EscalationTrigger> triggers;  // events that raise the case to this level (never lower it)
};

// The event from which a clock counts. kRouted: when a regulator routed the complaint to the
// organisation (Case::routed_at, CFPB), or its receipt when it came another way.
enum class ClockStart { kReceived, kAcknowledged, kReopened, kRouted };
// The event that meets a clock's pledge (the pledge is then kept).
enum class ClockStop {
  kAcknowledged,  // the case is acknowledged
  kClientUpdate,  // a client-visible message is sent (or the case is resolved)
  kResolved,      // the case is resolved: final response sent
};
// Whether the clock stops counting while the case awaits the client.
enum class PauseRule { kRuns, kPausesWhileAwaitingClient };
// Whether and how far staff may move a pledge of the clock (renegotiate_commitment).
enum class Renegotiation {
  kNever,        // its due time holds: a regulatory deadline (FCA DISP 1.6.2R: eight weeks)
  kExceptional,  // only to the clock's exceptional_target at most, with a holding reply giving reasons
  kAllowed,      // a house standard: any later date, within renegotiation_limit of the rule's time when set
};
// Whether a met pledge is followed by another one ("update the client every 5 business days").
enum class Recurrence { kOnce, kRepeatUntilResolved };
// Who a breach notifies.
enum class NotifyTarget {
  kClient,           // an apology and what happens next (client-visible pledges only)
  kOwner,            // the case owner
  kTeam,             // the workflow's team
  kEscalationLevel,  // the people of the level the case is at after the breach
};

// A target duration on a basis. Business basis: whole days count business days to close of
// business ("P3D" = close of the 3rd business day after); a time part counts working time
// ("PT4H"). Calendar basis: elapsed time, whole days keeping the local wall-clock time.
struct ClockTarget {
  IsoDuration duration;
  TimeBasis basis = TimeBasis::kCalendar;
  [[nodiscard]] Time from(const BusinessCalendar& calendar, Time start) const {
    return calendar.add(start, duration, basis);
  }
};

// Automatic compensation owed when a pledge breaks: `fixed_minor` at the breach, plus
// `per_period_minor` for each complete `period` (elapsed time) the pledge stays unmet after its
// due time, the total limited to `cap_minor` when set. Amounts are in minor units of `currency`.
struct Compensation {
  RedressKind kind = RedressKind::kCompensation;
  std::string currency;  // ISO 4217, e.g. "GBP"
  std::int64_t fixed_minor = 0;
  std::int64_t per_period_minor = 0;
  Duration period{0};  // zero when there is no per-period sum
  std::optional<std::int64_t> cap_minor;
  std::string text;  // shown on the redress record, e.g. "Guaranteed Standards payment"
  // The total owed when the pledge was met (or is looked at) `late` after its due time.
  // Negative lateness owes nothing; zero lateness owes the fixed sum.
  [[nodiscard]] std::int64_t amount_for(Duration late) const;
};

// What a breach does beyond the commitment.broken event.
struct BreachRule {
  std::optional<int> escalate_to;  // raise the case to this level (never lowers it)
  std::vector<NotifyTarget> notify;
  std::optional<Compensation> compensation;
};

// A clock: a pledge the workflow makes on every case it applies to.
struct ClockRule {
  std::string name;  // stable key, e.g. "final_response"
  std::string text;  // the pledge's text: "We will send our final response"
  ClockStart start = ClockStart::kReceived;
  ClockStop stop = ClockStop::kResolved;
  ClockTarget target;
  // A longer target staff may move the pledge to in exceptional circumstances, by renegotiating
  // it with a holding reply (FCA payment services: 35 business days instead of 15).
  std::optional<ClockTarget> exceptional_target;
  // Whether and how far the pledge may move; the rule it implements, quoted when a move is refused.
  Renegotiation renegotiation = Renegotiation::kNever;
  std::optional<IsoDuration> renegotiation_limit;  // kAllowed: at most this far past the rule's time
  std::string rule;                                // "DISP 1.6.2R: a final response within eight weeks"
  // kExceptional: what the holding reply that moves the pledge must contain (DISP 1.6.2AR(2): the
  // reasons for the delay and the deadline); the new deadline itself is always required in it.
  std::vector<RequiredElement> holding_reply_elements;
  PauseRule pause = PauseRule::kRuns;
  Recurrence recurrence = Recurrence::kOnce;
  std::vector<double> warnings;         // fractions of the running time, ascending, each in (0, 1)
  bool client_visible = true;           // shown to the client on the status page and in mail
  std::vector<std::string> categories;  // applies only to these categories when not empty
  // Overrides the calendar's out-of-hours rule for a clock that starts at receipt.
  std::optional<OutOfHoursRule> out_of_hours;
  BreachRule breach;

  [[nodiscard]] bool applies_to(std::string_view category) const;
  // The due time for a clock that started at `started` (already adjusted for out-of-hours receipt,
  // see Workflow::clock_start) and was paused during `pauses` (sorted, disjoint; ignored unless the
  // clock pauses). An open pause (end = Time::max()) gives Time::max().
  [[nodiscard]] Time due_at(const BusinessCalendar& calendar, Time started,
                            std::span<const TimeInterval> pauses = {}) const;
  // The latest due time the exceptional target allows for the same run (as due_at, on the
  // exceptional target); nullopt without one.
  [[nodiscard]] std::optional<Time> exceptional_due_at(const BusinessCalendar& calendar, Time started,
                                                       std::span<const TimeInterval> pauses = {}) const;
  // The instants at which the warnings fall, in the order of `warnings`: the instant at which
  // that fraction of the running time has elapsed, pauses accounted for as in due_at.
  [[nodiscard]] std::vector<Time> warning_times(const BusinessCalendar& calendar, Time started,
                                                std::span<const TimeInterval> pauses = {}) const;
};

// An early, lighter way to close a complaint: resolved within `within` of receipt, a shorter
// letter with its own required elements may replace the final response (FCA DISP 1.5: the
// summary resolution communication, by close of the 3rd business day after receipt).
struct SummaryResolution {
  ClockTarget within;
  std::optional<OutOfHoursRule> out_of_hours;  // overrides the calendar's rule when set
  std::string letter;                          // "summary resolution communication"
  std::vector<RequiredElement> elements;
};

// A holding reply the standard requires when a clock's pledge falls due before the case is
// resolved (FCA DISP 1.6.2R(2): at eight weeks, a written response explaining why the final
// response is not ready, when it is expected, and that the client may now refer the complaint to
// the Financial Ombudsman Service). Sent as a client message of kind "holding_reply".
struct HoldingReplyRule {
  std::string clock;  // the clock whose due time makes it required
  std::string rule;   // the rule it implements, for messages
  std::vector<RequiredElement> elements;
};

// One entry of a workflow's taxonomy (products, root causes): a stable key and its display name.
struct Term {
  std::string key;   // "current_accounts"
  std::string name;  // "Current accounts"
};

// A bucket of the regulator's return that cases closed in a period are counted in by the time from
// receipt to resolution: within `within` (on its basis, on the workflow's calendar), or, for the
// last bucket, any time after the one before (FCA DISP 1.10: within 3 business days, within 8 weeks,
// after 8 weeks).
struct ReturnBucket {
  std::string key;   // "within_3_business_days"
  std::string name;  // "Within 3 business days"
  std::optional<ClockTarget> within;  // nullopt only for the last bucket
  // What an out-of-hours receipt counts from; the calendar's rule when unset (FCA: next_opening, as
  // DISP 1.5.3G allows for the three business days).
  std::optional<OutOfHoursRule> out_of_hours;
};

// What the workflow's return needs recorded (workflows/README.md, Returns). Without a [returns]
// table nothing is required and cases closed are not bucketed.
struct ReturnsRule {
  bool require_root_cause = false;  // resolve and propose_redress refuse without a root_cause
  bool require_product = false;     // ... and without a product
  std::vector<ReturnBucket> buckets;
  // The clocks whose first pledge is the response the timely-response rate counts (the CFPB's
  // "timely response": initial_response), each a clock of the workflow; empty: no such figure.
  std::vector<std::string> timely_response;
};

// A touchpoint: where a complaint arose, a moment of truth the client judges the firm by
// ([touchpoints.<id>] in a workflow file; docs/measuring.md, Moments of truth).
struct Touchpoint {
  std::string key;          // "phone_contact", stored on cases
  std::string name;         // "On the phone"
  std::string description;  // what happens there, for the people who look after it
  std::string team;         // the team that owns it; "" when none is named
};

// Who takes decisions on a case someone owns (the workflow's [rights] decisions): its owner and
// leads and above (the default), or any agent. Notes and messages are open to every agent either way.
enum class DecisionRights { kOwnerAndLeads, kAnyAgent };

// How long the standard keeps a case's personal data ([retention] in the workflow file): `months`
// counted from the case's receipt or from its closure (withdrawal included). Until then an
// erasure request restricts the case instead of erasing it (engine/personal_data.h); afterwards
// `redress retention run` erases a closed case by itself.
enum class RetentionFrom { kReceipt, kClosure };
struct Retention {
  int months = 0;
  RetentionFrom from = RetentionFrom::kReceipt;
};

struct Workflow {
  std::string name;                     // stable key, e.g. "retail"
  std::string title;                    // "Retail complaints"
  std::string description;              // the service, in plain words
  std::string pledge;                   // the promise shown to clients
  std::string team;                     // the queue new cases wait in
  std::vector<std::string> categories;  // routing: cases of these categories come here
  std::vector<Channel> channels;        // routing: restricted to these channels when not empty
  bool auto_acknowledge = false;        // acknowledge on intake, by the system
  Duration reopen_window = std::chrono::hours(24 * 14);
  Duration redress_due = std::chrono::hours(24 * 10);  // accepted redress delivered within
  std::vector<RequiredElement> final_response_elements;
  std::vector<EscalationLevel> escalation;  // levels 1..N, in order

  // Added for issue 4 (service standards, calendars, clocks).
  bool is_default = false;  // the workflow for categories no other workflow routes
  std::string source;       // the file it was loaded from, for messages
  BusinessCalendar calendar;
  std::vector<ClockRule> clocks;
  ClockTarget redress_target{IsoDuration{10, Duration{0}}, TimeBasis::kCalendar};  // redress_due, on a basis
  BreachRule redress_breach;  // what happens when accepted redress is not delivered in time
  std::optional<SummaryResolution> summary_resolution;
  std::optional<HoldingReplyRule> holding_reply;
  // Display names ([names.categories], [names.touchpoints]): id -> words for people, by id.
  std::vector<std::pair<std::string, std::string>> category_names;
  std::vector<std::pair<std::string, std::string>> touchpoint_names;
  DecisionRights decisions = DecisionRights::kOwnerAndLeads;  // [rights] decisions

  // Added for issue 26 (measuring what matters): the taxonomy a resolution is recorded in, and the
  // return's rule. Empty lists: the workflow records no product or root cause (giving one is refused).
  std::vector<Term> products;
  std::vector<Term> root_causes;
  ReturnsRule returns;
  // [survey] publish_results: whether the public standards page shows the overall survey results
  // (responses and averages over 90 days); off unless the file says so.
  bool publish_survey = false;
  // [touchpoints.<id>]: the touchpoints this workflow describes (name, description, owner team).
  std::vector<Touchpoint> touchpoint_details;

  // Added for issue 25 (personal data): how long cases are kept; nullopt: no period (an erasure
  // request erases at once, and the retention run never erases a case by itself).
  std::optional<Retention> retention;

  // The bucket a case received at `received` and resolved at `resolved` falls in; nullptr without
  // buckets. Throws CalendarExhausted past the calendar's years.
  [[nodiscard]] const ReturnBucket* bucket_for(Time received, Time resolved) const;
  [[nodiscard]] const Term* find_product(std::string_view key) const;
  [[nodiscard]] const Term* find_root_cause(std::string_view key) const;

  [[nodiscard]] int max_escalation_level() const { return static_cast<int>(escalation.size()); }
  // The keys of the required elements that `text` lacks.
  [[nodiscard]] std::vector<const RequiredElement*> missing_elements(const std::string& text) const;
  // The summary-resolution elements that `text` lacks; empty when there is no summary resolution.
  [[nodiscard]] std::vector<const RequiredElement*> missing_summary_elements(const std::string& text) const;
  // The holding-reply elements that `text` lacks; empty when there is no holding reply rule.
  [[nodiscard]] std::vector<const RequiredElement*> missing_holding_reply_elements(const std::string& text) const;
  // Until when a case received at `received` may be resolved with the summary resolution letter
  // instead of a final response (FCA DISP 1.5: close of business on the third business day after
  // receipt, out-of-hours receipt counted from the next business day); nullopt without one.
  // Throws CalendarExhausted past the calendar's years.
  [[nodiscard]] std::optional<Time> summary_resolution_until(Time received) const;
  // True when a case received at `received` and resolved at `resolved` may be closed with the
  // summary resolution letter instead of a final response.
  [[nodiscard]] bool summary_resolution_allowed(Time received, Time resolved) const;
  // Whether a holding reply is required on a case now: the pledge of the clock it answers fell
  // due unmet (broken), the case is not resolved, and no holding reply was sent.
  [[nodiscard]] bool holding_reply_required(const Case& record, const std::vector<Commitment>& commitments) const;
  // The rung a trigger of `kind` names, lowest first (client requests climb one rung at a time).
  [[nodiscard]] std::vector<int> levels_naming(TriggerKind kind) const;

  [[nodiscard]] const ClockRule* find_clock(std::string_view name) const;
  // The clocks that apply to a case of this category.
  [[nodiscard]] std::vector<const ClockRule*> clocks_for(std::string_view category) const;
  // The instant a clock counts from when its start event happened at `event_time`: receipt out of
  // hours counts from the next opening when the calendar says so.
  [[nodiscard]] Time clock_start(const ClockRule& clock, Time event_time) const;
  // When accepted redress is due: redress_target from the acceptance.
  [[nodiscard]] Time redress_due_at(Time accepted) const { return redress_target.from(calendar, accepted); }
  // The escalation level with this number, or nullptr.
  [[nodiscard]] const EscalationLevel* level(int number) const;
};

class WorkflowSet {
 public:
  WorkflowSet() = default;
  explicit WorkflowSet(std::vector<Workflow> workflows, std::string default_workflow);

  [[nodiscard]] const Workflow* find(const std::string& name) const;
  // The workflow for a category and channel: the first whose categories contain the category
  // (and whose channels contain the channel, when it names channels); else the default.
  [[nodiscard]] const Workflow& route(const std::string& category, Channel channel) const;
  [[nodiscard]] const std::vector<Workflow>& all() const { return workflows_; }
  [[nodiscard]] bool empty() const { return workflows_.empty(); }
  [[nodiscard]] const std::string& default_name() const { return default_; }
  // The display name of a category or touchpoint: the first workflow's [names] entry for it, else
  // its id in words ("product_quality" -> "Product quality"); empty for an empty id.
  [[nodiscard]] std::string category_name(std::string_view id) const;
  [[nodiscard]] std::string touchpoint_name(std::string_view id) const;
  // Every touchpoint some workflow names, with its display name, in id order, each once.
  [[nodiscard]] std::vector<std::pair<std::string, std::string>> touchpoints() const;
  // Every touchpoint some workflow names or describes, in id order, each once: its name (as
  // touchpoint_name), and the description and owner team of the first workflow describing it.
  [[nodiscard]] std::vector<Touchpoint> touchpoint_list() const;
  // One touchpoint of touchpoint_list(), or nullopt when no workflow names or describes `id`.
  [[nodiscard]] std::optional<Touchpoint> find_touchpoint(std::string_view id) const;

 private:
  std::vector<Workflow> workflows_;
  std::string default_;
};

// Stable text names, as used in workflow files.
[[nodiscard]] std::string_view to_string(TriggerKind value);
[[nodiscard]] std::optional<TriggerKind> parse_TriggerKind(std::string_view text);
[[nodiscard]] std::string_view to_string(ClockStart value);
[[nodiscard]] std::optional<ClockStart> parse_ClockStart(std::string_view text);
[[nodiscard]] std::string_view to_string(ClockStop value);
[[nodiscard]] std::optional<ClockStop> parse_ClockStop(std::string_view text);
[[nodiscard]] std::string_view to_string(NotifyTarget value);
[[nodiscard]] std::optional<NotifyTarget> parse_NotifyTarget(std::string_view text);
[[nodiscard]] std::string_view to_string(Renegotiation value);
[[nodiscard]] std::optional<Renegotiation> parse_Renegotiation(std::string_view text);

// "product_quality" -> "Product quality": a key in words, for keys without a display name.
[[nodiscard]] std::string words_of(std::string_view key);

// "23 June 2026": the local date of `t` in the calendar's zone, as letters write it.
[[nodiscard]] std::string letter_date(const BusinessCalendar& calendar, Time t);

// A calendar that runs out soon: its workflow, and the first day it no longer covers.
struct CalendarEnding {
  std::string workflow;
  std::string source;  // the workflow's file
  std::string zone;
  int last_year = 0;
  std::chrono::year_month_day ends{};  // 1 January after last_year
  std::int64_t days_left = 0;          // from `now` to `ends`, in whole days (0 or less: ended)
};
// The workflow calendars whose covered years end within `warning` of `now` (or already have),
// soonest first. Redress warns about them at start-up, in /healthz and on the board.
inline constexpr int kCalendarWarningDays = 90;
[[nodiscard]] std::vector<CalendarEnding> calendars_ending(const WorkflowSet& workflows, Time now,
                                                           int warning_days = kCalendarWarningDays);
// What to tell an operator about one: "the retail standard's business calendar (Europe/London)
// lists holidays to the end of 2030: 45 days left. Add 2031's holidays and last_year to
// workflows/retail.toml before then: after it, deadlines on it are refused."
[[nodiscard]] std::string calendar_warning(const CalendarEnding& ending);

}  // namespace redress
