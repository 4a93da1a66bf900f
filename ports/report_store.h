// ReportStore: the reports and the review board — what falls due, who keeps their word, how the
// service standards are met, and where the work is.
//
// Every call is a read of committed data at one instant (`now` where a report depends on it),
// answered from the commitments and cases as stored (both stores' writers keep summaries so that
// the counts do not scan every row: adapters/summaries/summary_deltas.h). Lists are ordered as each call says and bounded by `limit` where
// it takes one; totals count every row. Nothing here changes a case.
//
// Implementations (adapters/sqlite, adapters/postgres) are thread-safe: any thread may read.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/actions.h"
#include "engine/model.h"
#include "engine/result.h"
#include "engine/return_entry.h"

namespace redress {

// One line of the overdue report: a commitment and where it sits.
struct ReportItem {
  Commitment commitment;
  std::string reference;
  std::string case_subject;
  std::string team;
  int escalation_level = 0;
};

struct OverdueReport {
  std::vector<ReportItem> past_due;          // open, due time passed (the scheduler is about to break them)
  std::vector<ReportItem> at_risk;           // open, a warning raised
  std::vector<ReportItem> broken_unhandled;  // broken, nobody has recorded what was done
  std::int64_t past_due_total = 0, at_risk_total = 0, broken_unhandled_total = 0;  // before the limit
};

// Per owner, as the owners report shows: the reliability the client feels.
struct OwnerStats {
  std::string owner_id;
  std::int64_t open_cases = 0;
  std::int64_t resolved_cases = 0;                            // resolved or closed, received since the window start
  std::int64_t promises_kept = 0, promises_broken = 0;        // kind promise, settled in the window
  std::int64_t commitments_kept = 0, commitments_broken = 0;  // every kind, settled in the window
  std::int64_t open_commitments = 0;
  std::int64_t acknowledged = 0;  // cases received in the window and acknowledged
  Duration acknowledge_total{0};  // sum of receipt-to-acknowledgement times
  Duration resolve_total{0};      // sum of receipt-to-resolution times (resolved_cases)
};

// Attainment of one pledge (workflow clock) over a window: pledges settled in it. `met` counts
// those met by the time their rule set, of which `moved` were moved as the rule allows (FCA
// payment services: to 35 business days with a holding reply); `renegotiated` counts those kept
// only on a date renegotiated past the rule's, which are not met; `broken` those not kept.
struct PledgeAttainment {
  std::string workflow;
  std::string clock;
  std::int64_t met_30 = 0, broken_30 = 0, moved_30 = 0, renegotiated_30 = 0;
  std::int64_t met_90 = 0, broken_90 = 0, moved_90 = 0, renegotiated_90 = 0;
};

// One line of a work list: an open case and what falls due on it.
struct WorklistItem {
  Case record;
  std::optional<Time> next_due;  // the earliest due time of an open, dated commitment
  bool at_risk = false;          // an open commitment has raised a warning
  bool broken = false;           // a commitment broke and nobody recorded what was done about it
  std::int64_t open_commitments = 0;
};

// Open cases at one escalation level.
struct EscalationCount {
  int level = 0;
  std::int64_t open_cases = 0;
  std::optional<Time> oldest_received;
};

// One owner's commitments needing attention now ("" for commitments of unowned cases).
struct AttentionCount {
  std::string owner_id;
  std::int64_t past_due = 0, at_risk = 0, broken_unhandled = 0;
  std::optional<Time> oldest_due;  // the earliest due time among them
};

// Cases received in one week (weeks start on Monday, UTC) with one value of a dimension.
struct WeeklyCount {
  std::string dimension;  // "category" or "touchpoint"
  std::string value;
  Time week_start{};
  std::int64_t received = 0;
};

// What a regulatory return needs of one case's history up to an instant (issue 26,
// docs/measuring.md): the moments it was closed, reopened, flagged vulnerable or paid redress
// (ReturnEvent, engine/return_entry.h), in the order they happened. Read from the append-only
// events, so a past period's return is the same whatever happened to the case later.
struct ReturnCaseHistory {
  std::string reference;
  std::string workflow;
  Time received_at{};
  std::vector<ReturnEvent> events;  // oldest first, all before the instant asked for
};

// One answer to the survey after resolution (RATER, issue 26): the case's workflow and touchpoint,
// its owner and team when the client answered (as the survey.submitted event recorded them; where
// the case sits now for answers recorded before the event carried them), and what the client said.
// `rater` is unset for answers given before RATER (an overall rating only).
struct SurveyAnswer {
  std::string reference;
  std::string workflow;
  std::string touchpoint;
  std::string owner_id;
  std::string owner_team;  // the team the case was with: its owner's, or the queue it waited in
  Time at{};
  int overall = 0;
  std::optional<RaterScores> rater;
};

// Survey answers added up (RATER, issue 26): what every average is made of.
struct SurveySums {
  std::int64_t responses = 0, overall = 0;  // every answer; the sum of the overall answers
  std::int64_t rated = 0;                   // answers that rated the five RATER dimensions
  std::array<std::int64_t, 5> scores{};     // each dimension's sum over those (rater_dimensions() order)
  void add(const SurveySums& other) {
    responses += other.responses, overall += other.overall, rated += other.rated;
    for (std::size_t i = 0; i < scores.size(); ++i) scores[i] += other.scores[i];
  }
};
// What the survey's sums are grouped by (SurveyAnswer's fields of the same names).
enum class SurveyGroup { kWorkflow, kTouchpoint, kOwner, kTeam };
struct SurveyGroupSums {
  SurveyGroup group = SurveyGroup::kWorkflow;
  std::string value;  // the workflow, touchpoint, owner id or team ("" for none)
  SurveySums sums;
};
struct SurveyDaySums {
  std::int32_t day = 0;  // UTC days since 1970-01-01
  SurveySums sums;       // every answer of the day
};

// Moments of truth (issue 26, docs/measuring.md): one case that arose at a touchpoint, as its page
// lists it, with its broken commitments counted.
struct TouchpointCase {
  std::string reference;
  std::string subject;
  std::string workflow;
  std::string owner_id;
  CaseStatus status = CaseStatus::kReceived;
  Time received_at{};
  std::optional<Outcome> outcome;  // when resolved
  std::string root_cause;          // as its resolution recorded it ("" when none, or not resolved)
  std::int64_t broken = 0;         // its broken commitments
};
// The resolutions of one root cause among a touchpoint's cases.
struct TouchpointCause {
  std::string workflow;
  std::string root_cause;  // "" for resolutions that recorded none
  std::int64_t resolved = 0, upheld = 0;
  std::vector<std::string> references;  // the newest cases of the cause (for the first few causes)
};
// The survey's answers about a touchpoint's cases, added up.
using TouchpointSurvey = SurveySums;
struct TouchpointAnswer {
  std::string reference;
  int overall = 0;
};
// A touchpoint's page: windows are whole UTC days from the day of the instant asked.
struct TouchpointReport {
  std::int64_t received = 0;                  // cases received at the touchpoint
  std::vector<TouchpointCase> cases;          // the newest `limit` of them
  std::vector<TouchpointCause> causes;        // their resolutions by root cause, the most first
  // Commitments broken on the touchpoint's cases (any case), by the UTC day they fell due.
  std::vector<std::pair<std::int64_t, std::int64_t>> broken_by_day;
  std::vector<ReportItem> broken;             // the `limit` of those due last, latest first
  TouchpointSurvey survey;                    // answers given in the window
  std::vector<TouchpointAnswer> answered;     // the latest `limit` of them
};
// Per touchpoint, over the UTC days from an instant's: the cases received, and the commitments broken
// on the touchpoint's cases that fell due then.
struct TouchpointCount {
  std::string touchpoint;
  std::int64_t received = 0;
  std::int64_t broken = 0;
};

// One row of the return ledger's daily summary (engine/return_ledger.h): the sum of the entries of
// one workflow, local day, measure and key.
struct ReturnDay {
  std::string workflow;
  std::int32_t day = 0;  // days since 1970-01-01, the local date in the workflow's time zone
  ReturnMeasure measure = ReturnMeasure::kOpened;
  std::string key;
  std::int64_t value = 0;
};
struct ReturnLedgerRows {
  std::vector<ReturnDay> days;  // the days asked for
  // Per workflow, the sums over every day before the first asked for of the measures a period
  // carries over from the one before (opened, closed, reopened, vulnerable_outstanding), each as
  // a row of the day before the first (key "").
  std::vector<ReturnDay> before;
};
// A stored case's ledger entries from its record, its events (oldest first) and its commitments:
// what a store rebuilds its ledger with (engine/return_ledger.h, case_return_entries).
using ReturnEntriesOf =
    std::function<std::vector<ReturnEntry>(const Case&, const std::vector<Event>&, const std::vector<Commitment>&)>;

// The answers of a survey.submitted event's `data` into `answer` (overall, or the rating of before
// RATER; the five RATER scores when given), and the owner and team it names (left as they are
// when it names none). False when the data is not a JSON object.
[[nodiscard]] bool read_survey_data(std::string_view data, SurveyAnswer& answer);

class ReportStore {
 public:
  virtual ~ReportStore() = default;

  // Each list soonest due first, at most `limit` items; the totals count them all.
  [[nodiscard]] virtual Result<OverdueReport> overdue_report(Time now, int limit) = 0;
  // Per owner; counts of settled commitments and received cases from `since`.
  [[nodiscard]] virtual Result<std::vector<OwnerStats>> owner_report(Time since) = 0;
  // Per workflow clock, pledges settled in the 30 and 90 days before `now`.
  [[nodiscard]] virtual Result<std::vector<PledgeAttainment>> standards_report(Time now) = 0;

  // ---- the board and the work lists ----
  // The owner's open cases, soonest next due first (cases with nothing dated last), at most `limit`.
  [[nodiscard]] virtual Result<std::vector<WorklistItem>> owner_worklist(const std::string& owner_id, int limit) = 0;
  // Past-due, at-risk and broken-unhandled commitments per owner, all of them (not a page).
  [[nodiscard]] virtual Result<std::vector<AttentionCount>> attention_by_owner(Time now) = 0;
  // Open cases per escalation level (level 0 included).
  [[nodiscard]] virtual Result<std::vector<EscalationCount>> escalation_counts() = 0;
  // Cases received from `since` per week, by category and by touchpoint.
  [[nodiscard]] virtual Result<std::vector<WeeklyCount>> weekly_counts(Time since) = 0;

  // ---- returns (issue 26) ----
  // Every case received before `before` (of `workflow` when not empty), with the events a return
  // counts that happened before `before`, in case order. A store that cannot answer says so
  // (kUnavailable); both stores answer.
  [[nodiscard]] virtual Result<std::vector<ReturnCaseHistory>> return_histories(const std::string& workflow,
                                                                                 Time before) {
    (void)workflow;
    (void)before;
    return Error::unavailable("returns are not implemented by this store yet");
  }
  // The return ledger's days from `first_day` to `last_day`, both included (of `workflow` when not
  // empty), and the sums before them (ReturnLedgerRows). The figures of a return are sums of these
  // (web/returns.h).
  [[nodiscard]] virtual Result<ReturnLedgerRows> return_days(const std::string& workflow, std::int32_t first_day,
                                                             std::int32_t last_day) {
    (void)workflow;
    (void)first_day;
    (void)last_day;
    return Error::unavailable("returns are not implemented by this store yet");
  }
  // Whether the ledger holds every stored case's entries: false over cases stored before it
  // existed (a migrated database, an import) until rebuild_return_ledger has run.
  [[nodiscard]] virtual Result<bool> return_ledger_built() { return Error::unavailable("no return ledger"); }
  // Replaces the whole ledger with the entries `entries_of` gives for each stored case, in one
  // transaction that writers wait for, and marks it built. Reads every case's history: run once
  // after a migration or an import, before serving.
  [[nodiscard]] virtual Status rebuild_return_ledger(const ReturnEntriesOf& entries_of) {
    (void)entries_of;
    return Error::unavailable("no return ledger");
  }

  // What the page of `touchpoint` shows, over the UTC days from that of `since` (TouchpointReport);
  // lists of at most `limit`, references for the first five causes.
  [[nodiscard]] virtual Result<TouchpointReport> touchpoint_report(const std::string& touchpoint, Time since,
                                                                   int limit) {
    (void)touchpoint;
    (void)since;
    (void)limit;
    return Error::unavailable("touchpoint pages are not implemented by this store yet");
  }
  // For each touchpoint of `touchpoints`: its cases received and commitments broken from `since` (the
  // UTC days from its day on).
  [[nodiscard]] virtual Result<std::vector<TouchpointCount>> touchpoint_counts(const std::vector<std::string>& touchpoints,
                                                                               Time since) {
    (void)touchpoints;
    (void)since;
    return Error::unavailable("touchpoint pages are not implemented by this store yet");
  }

  // Every survey answered from `since`, oldest first: what the sums below add up, read from the
  // events. Both stores answer; others say so.
  [[nodiscard]] virtual Result<std::vector<SurveyAnswer>> survey_answers(Time since) {
    (void)since;
    return Error::unavailable("survey results are not implemented by this store yet");
  }
  // The answers given from the UTC day of `since` on, added up per workflow, touchpoint, owner and
  // team: one row per group and value that has answers. Both stores answer; others say so.
  [[nodiscard]] virtual Result<std::vector<SurveyGroupSums>> survey_by_group(Time since) {
    (void)since;
    return Error::unavailable("survey results are not implemented by this store yet");
  }
  // The answers given from the UTC day of `since` on, added up per UTC day (days without answers
  // left out), oldest first.
  [[nodiscard]] virtual Result<std::vector<SurveyDaySums>> survey_by_day(Time since) {
    (void)since;
    return Error::unavailable("survey results are not implemented by this store yet");
  }
};

}  // namespace redress
