// Store: the engine's one door to durable storage.
//
// Writes are units of work on one case (WorkItem): the store runs the item's plan inside a
// transaction against the case as stored, checks the version in the database, writes the sealed
// events, the projections they change and the notifications they make owed, and commits — all or
// nothing. Work items are committed in groups (one commit, many items); each caller's `done` runs
// after its group's commit. Actions on one case are therefore serialised, and a stale expected
// version is refused. Reads see committed data only.
//
// Implementations (adapters/sqlite, later PostgreSQL) are thread-safe: any thread may submit or read.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/latency.h"
#include "engine/model.h"
#include "engine/outbound.h"
#include "engine/result.h"

namespace redress {

class ClockFold;

// A notification owed because of an event; delivered later from the outbox.
struct NotificationDraft {
  enum class Channel { kEmail, kWebhook };
  Channel channel = Channel::kEmail;
  std::string audience;   // "client", "owner", "assignee", "escalation", "subscribers"
  std::string recipient;  // email address; empty for web hooks (fanned out at delivery)
  std::string recipient_name;
  std::string template_name;   // "client.acknowledged", "staff.assigned", or the event type for hooks
  std::int64_t event_seq = 0;  // the event of this change that made it owed
};

// Everything one unit of work changes, computed by the engine, written by the store atomically.
struct Change {
  Case after;                           // the case row afterwards; version == last event's seq
  std::vector<Event> events;            // sealed (seq and hash set), in order
  std::vector<Commitment> commitments;  // rows inserted or replaced
  std::vector<Redress> redress;         // rows inserted or replaced
  std::vector<Message> messages;        // rows inserted
  std::vector<NotificationDraft> notifications;
  std::int64_t expected_version = -1;  // the version the plan was made against; -1 for a new case
  std::string client_link_nonce;       // a new client link to store (creation), with its token hash
  std::string client_link_hash;
  // The case's clock fold state (engine/clocks.h) afterwards; nullopt when unchanged.
  std::optional<std::string> clock_state;
  // The fold clock_state was written from, so that a writer keeping the snapshot need not parse it
  // back (CaseSnapshot::clock_fold); null when clock_state is unchanged.
  std::shared_ptr<const ClockFold> clock_fold;
  // When the scheduler must next look at the case (a commitment falls due, a warning, the end of
  // the reopen window), when this change moves it: kSet to wake_at, kClear when nothing will fall due.
  enum class Wake { kUnchanged, kSet, kClear };
  Wake wake = Wake::kUnchanged;
  Time wake_at{};
};

// What a plan sees of a stored case.
struct CaseSnapshot {
  Case record;
  std::vector<Commitment> commitments;  // every commitment of the case, by id
  std::vector<Redress> redress;         // every redress offer of the case, by id
  std::string clock_state;              // the clock fold state; "" when none is stored
  // ClockFold::restore(clock_state), when whoever made the snapshot had it at hand (the writer's
  // cached snapshots); null otherwise. Never anything but that state restored.
  std::shared_ptr<const ClockFold> clock_fold;
};

// A case as the staff API shows it, read in one snapshot of the store: the case, its messages, its
// owner (none when unowned or unknown) and the nonce of its live client link (none when it has none).
struct CaseView {
  CaseSnapshot snapshot;
  std::vector<Message> messages;
  std::optional<Staff> owner;
  std::optional<std::string> client_link_nonce;
};

// Everything a rendering of a CaseView depends on besides the engine's clock: the case version
// (every change to the case, its commitments, redress and messages moves it), the owner's name
// and the live client link. Equal stamps mean equal views, so a cached rendering is checked
// against the store, which every node shares, with one small read instead of the five of a view.
struct CaseViewStamp {
  std::int64_t version = 0;
  std::string owner_name;         // "" when unowned or the owner is unknown
  std::string client_link_nonce;  // "" when the case has no live link
  bool operator==(const CaseViewStamp&) const = default;
};
[[nodiscard]] CaseViewStamp stamp_of(const CaseView& view);

// Services a plan may call while it runs inside the store's transaction.
class WriteContext {
 public:
  enum class IdKind { kCase, kCommitment, kRedress, kMessage };
  virtual ~WriteContext() = default;
  // A fresh id; never reused, even when the transaction rolls back.
  [[nodiscard]] virtual std::int64_t next_id(IdKind kind) = 0;
  // The next case reference for `year`: "CMP-2026-000042".
  [[nodiscard]] virtual std::string next_reference(int year) = 0;
  // A staff member by id ("u-17") or email; nullopt if unknown.
  [[nodiscard]] virtual std::optional<Staff> find_staff(const std::string& id_or_email) = 0;
  // Active staff holding any of `roles` (in `teams` when not empty).
  [[nodiscard]] virtual std::vector<Staff> staff_with_roles(const std::vector<Role>& roles,
                                                            const std::vector<std::string>& teams) = 0;
  // The case's whole history, oldest first (to rebuild a clock state that was never stored).
  [[nodiscard]] virtual std::vector<Event> case_history(std::int64_t case_id) = 0;
};

// The WriteContext of a plan made ahead of the writer (Engine::submit), on the caller's thread.
// It hands out ids from blocks the store has already committed, and nothing it cannot answer
// without the writer's transaction (a case reference, staff, a case's history): the first such
// call makes the plan incomplete, and an incomplete plan is thrown away for the writer to make.
class AheadContext : public WriteContext {
 public:
  // False once the plan asked for something this context could not give.
  [[nodiscard]] virtual bool complete() const = 0;
};

// A plan made ahead of the writer against a snapshot the store keeps (Store::kept_snapshot). The
// writer writes it as made only while that very snapshot is still the case's latest; otherwise it
// plans again on the case as stored, as it does for any item.
struct AheadPlan {
  std::shared_ptr<const CaseSnapshot> snapshot;  // what the plan was made on
  Change change;
};

struct Committed {
  Change change;
  bool replayed = false;  // an idempotent repeat: the case created earlier under the same key
};

struct WorkItem {
  std::string reference;        // the case to act on; empty to create a case
  std::string idempotency_key;  // creation only; "" for none
  std::string request_digest;   // creation only: digest of the request, compared on a repeated key
  // Runs inside the transaction. `current` is null when creating. Must be pure but for `context`.
  std::function<Result<Change>(const CaseSnapshot* current, WriteContext& context)> plan;
  // The same plan made ahead (actions only), or nullopt; `plan` still decides when it is stale.
  std::optional<AheadPlan> ahead;
  // Runs once, after the commit (or the failure), on a store thread. Must not block for long.
  std::function<void(Result<Committed>)> done;
  // Set by the store when the item is queued: its write latency is measured from here.
  std::chrono::steady_clock::time_point submitted_at{};
};

struct CaseFilter {
  std::optional<CaseStatus> status;
  std::string owner_id;  // "" any; "none" unowned
  std::string workflow;
  std::optional<int> escalation_level;
  std::string text;        // matched against reference, subject, client name and email
  bool overdue = false;    // has an open commitment past due, or a broken one
  bool open_only = false;  // only cases still being worked (before resolution)
};

struct CasePage {
  std::vector<Case> cases;
  std::string next_cursor;  // "" on the last page
};

// Findings of `audit verify`: empty `broken` means every chain is whole.
struct AuditReport {
  std::int64_t cases_checked = 0;
  std::int64_t events_checked = 0;
  struct Break {
    std::string reference;
    std::int64_t seq = 0;  // the first event whose link is broken (or the missing one)
    std::string problem;
  };
  std::vector<Break> broken;
};

// A web hook subscription. The signing secret is stored sealed; `secret_sealed` is opaque here.
struct Subscription {
  std::int64_t id = 0;  // shown as "wh-<id>"
  std::string url;
  std::vector<std::string> event_types;  // {"*"} for every type
  std::string description;
  std::string secret_sealed;
  Time created_at{};
  std::optional<Time> disabled_at;
  std::string disabled_reason;
};

struct CommitmentFilter {
  std::optional<CommitmentStatus> status;
  std::string owner_id;
  std::optional<CommitmentKind> kind;
  std::optional<Time> due_before;
  std::string case_reference;
};

struct CommitmentPage {
  std::vector<std::pair<Commitment, std::string>> items;  // each with its case reference
  std::string next_cursor;
};

// A case the scheduler must look at: one of its commitments falls due, a warning falls, or its
// reopen window ends, at `wake_at`.
struct DueCase {
  std::string reference;
  Time wake_at{};
};

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

// Attainment of one pledge (workflow clock) over a window: pledges settled in it, met or broken.
struct PledgeAttainment {
  std::string workflow;
  std::string clock;
  std::int64_t met_30 = 0, broken_30 = 0;
  std::int64_t met_90 = 0, broken_90 = 0;
};

// ---- the outbox ----

enum class OutboxState { kPending, kDelivered, kDead };
[[nodiscard]] std::string_view to_string(OutboxState state);

// A notification owed, as a delivery worker claims it.
struct OutboxItem {
  std::int64_t id = 0;
  std::int64_t case_id = 0;
  std::string reference;
  std::int64_t event_seq = 0;
  NotificationDraft::Channel channel = NotificationDraft::Channel::kEmail;
  std::string audience;
  std::string recipient;  // an email address; "wh-<id>" for a web hook
  std::string recipient_name;
  std::string template_name;  // the mail template, or the event type for a web hook
  std::int64_t subscription_id = 0;
  int attempts = 0;  // before this one
  Time created_at{};
  std::string payload;  // as composed before the first attempt ("" until then): every attempt sends it
};

// One delivery attempt, as recorded.
struct DeliveryAttempt {
  std::int64_t notification_id = 0;
  Time at{};
  DeliveryOutcome outcome = DeliveryOutcome::kRetry;
  int status_code = 0;
  std::string detail;
};

// What a worker decided after an attempt.
struct DeliveryRecord {
  DeliveryAttempt attempt;
  OutboxState next = OutboxState::kPending;
  Time next_attempt_at{};  // for kPending
};

// A notification with its delivery history, as the case and the admins see it.
struct NotificationView {
  OutboxItem item;
  OutboxState state = OutboxState::kPending;
  Time next_attempt_at{};
  std::optional<Time> delivered_at;
  std::string last_error;
  std::vector<DeliveryAttempt> attempts;
};

// ---- the pages ----

// A staff member's signed-in browser session. The cookie holds the token; only its hash is stored.
struct StaffSession {
  std::string token_hash;
  std::string staff_id;
  std::string csrf;  // every form of the session must carry it
  Time created_at{};
  Time expires_at{};
};

// The sign-in failures counted against an email address.
struct SignInGate {
  int failures = 0;                  // in the current window
  std::optional<Time> locked_until;  // set while locked out
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

class Store {
 public:
  virtual ~Store() = default;

  // ---- writes ----
  virtual void submit(WorkItem item) = 0;
  // While the storage refuses writes (full disk, read-only...): why; nullopt when writes work.
  [[nodiscard]] virtual std::optional<std::string> write_failure() const { return std::nullopt; }
  // Waits until everything submitted so far is committed.
  virtual void flush() = 0;
  // For planning ahead of the writer: the snapshot of a case the writer keeps (null when it keeps
  // none), and a context for plans made on it (null when this store cannot take such plans).
  [[nodiscard]] virtual std::shared_ptr<const CaseSnapshot> kept_snapshot(const std::string& /*reference*/) {
    return nullptr;
  }
  [[nodiscard]] virtual std::unique_ptr<AheadContext> ahead_context() { return nullptr; }
  // How the writes have spent their time since the store opened (/metrics); nullopt when this
  // store does not measure them.
  [[nodiscard]] virtual std::optional<WriteStats> write_stats() const { return std::nullopt; }

  // ---- reads ----
  [[nodiscard]] virtual Result<CaseSnapshot> load_case(const std::string& reference) = 0;
  [[nodiscard]] virtual Result<std::vector<Event>> case_events(const std::string& reference) = 0;
  [[nodiscard]] virtual Result<std::vector<Message>> case_messages(const std::string& reference) = 0;
  // The case, its messages, owner and live client link nonce in one read; kNotFound when no such case.
  [[nodiscard]] virtual Result<CaseView> load_case_view(const std::string& reference) = 0;
  // The stamp of the case's view as stored now (one statement); kNotFound when no such case.
  [[nodiscard]] virtual Result<CaseViewStamp> case_view_stamp(const std::string& reference) = 0;
  [[nodiscard]] virtual Result<CasePage> list_cases(const CaseFilter& filter, const std::string& cursor, int limit) = 0;
  [[nodiscard]] virtual Result<AuditReport> verify_chains() = 0;

  // ---- staff and credentials ----
  [[nodiscard]] virtual Result<Staff> add_staff(const Staff& staff) = 0;
  [[nodiscard]] virtual Result<Staff> find_staff(const std::string& id_or_email) = 0;
  [[nodiscard]] virtual Result<std::vector<Staff>> list_staff() = 0;
  // Stores the token's hash for `staff_id`; the token itself is never stored.
  [[nodiscard]] virtual Status add_token(const std::string& staff_id, const std::string& token_hash,
                                         const std::string& label) = 0;
  // The staff member a token hash belongs to; kNotFound when unknown or revoked.
  [[nodiscard]] virtual Result<Staff> staff_for_token(const std::string& token_hash) = 0;

  // ---- client links ----
  // The case a live client link opens; kNotFound when unknown or revoked.
  [[nodiscard]] virtual Result<CaseSnapshot> load_case_by_client_link(const std::string& token_hash) = 0;
  // The nonce of the case's live link, from which the link is derived; kNotFound when it has none.
  [[nodiscard]] virtual Result<std::string> client_link_nonce(const std::string& reference) = 0;
  // Revokes the case's live links and, when `nonce` is not empty, stores a new one.
  [[nodiscard]] virtual Status replace_client_link(const std::string& reference, const std::string& nonce,
                                                   const std::string& token_hash) = 0;

  // ---- web hook subscriptions ----
  [[nodiscard]] virtual Result<Subscription> add_subscription(const Subscription& subscription) = 0;
  [[nodiscard]] virtual Result<std::vector<Subscription>> list_subscriptions() = 0;
  [[nodiscard]] virtual Status delete_subscription(std::int64_t id) = 0;

  // ---- commitments and counts ----
  [[nodiscard]] virtual Result<CommitmentPage> list_commitments(const CommitmentFilter& filter,
                                                                const std::string& cursor, int limit) = 0;
  // The case reference a commitment or a redress offer belongs to; kNotFound when unknown.
  [[nodiscard]] virtual Result<std::string> commitment_case(std::int64_t commitment_id) = 0;
  [[nodiscard]] virtual Result<std::string> redress_case(std::int64_t redress_id) = 0;
  [[nodiscard]] virtual Result<std::vector<std::pair<std::string, std::int64_t>>> count_cases_by_status() = 0;
  [[nodiscard]] virtual Result<std::int64_t> count_open_commitments() = 0;

  // ---- the scheduler ----
  // The earliest wake time of any case; nullopt when nothing is due, ever.
  [[nodiscard]] virtual Result<std::optional<Time>> next_wake() = 0;
  // Cases whose wake time is at or before `now`, earliest first, at most `limit`.
  [[nodiscard]] virtual Result<std::vector<DueCase>> due_cases(Time now, int limit) = 0;
  // Takes the named lease for `holder` until `until` when it is free, expired at `now`, or already
  // the holder's (a renewal). True when `holder` holds it afterwards. Decided in the database, so
  // several processes on one database agree.
  [[nodiscard]] virtual Result<bool> acquire_lease(const std::string& name, const std::string& holder, Time now,
                                                   Time until) = 0;
  [[nodiscard]] virtual Status release_lease(const std::string& name, const std::string& holder) = 0;

  // ---- reports ----
  // Each list soonest due first, at most `limit` items; the totals count them all.
  [[nodiscard]] virtual Result<OverdueReport> overdue_report(Time now, int limit) = 0;
  // Per owner; counts of settled commitments and received cases from `since`.
  [[nodiscard]] virtual Result<std::vector<OwnerStats>> owner_report(Time since) = 0;
  // Per workflow clock, pledges settled in the 30 and 90 days before `now`.
  [[nodiscard]] virtual Result<std::vector<PledgeAttainment>> standards_report(Time now) = 0;

  // ---- the outbox ----
  // Claims up to `limit` pending notifications of `channel` whose next attempt is due by `now`, for
  // `holder` until `lease_until`: oldest first, and none whose recipient has an older one still
  // pending (delivery in order per recipient). A claim whose lease ran out may be claimed again.
  [[nodiscard]] virtual Result<std::vector<OutboxItem>> claim_notifications(NotificationDraft::Channel channel,
                                                                            Time now, const std::string& holder,
                                                                            Time lease_until, int limit) = 0;
  // Stores each claimed notification's composed payload before its first attempt, unless it has
  // one already; returns, in order, the payload each now has, or "" for one no longer leased to
  // `holder` (not this worker's to send).
  [[nodiscard]] virtual Result<std::vector<std::string>> store_payloads(
      const std::string& holder, const std::vector<std::pair<std::int64_t, std::string>>& payloads) = 0;
  // Records the attempts and moves each notification on, in one transaction. A record for a
  // notification no longer leased to `holder` is still kept as an attempt, but moves nothing.
  [[nodiscard]] virtual Status record_deliveries(const std::string& holder,
                                                 const std::vector<DeliveryRecord>& records) = 0;
  // The earliest next attempt of a pending notification of `channel`; nullopt when none.
  [[nodiscard]] virtual Result<std::optional<Time>> next_delivery(NotificationDraft::Channel channel) = 0;
  [[nodiscard]] virtual Result<std::vector<NotificationView>> case_notifications(const std::string& reference) = 0;
  [[nodiscard]] virtual Result<std::vector<NotificationView>> dead_notifications(int limit) = 0;
  // Dead (or, with `id`, that one dead) notifications become pending again at `now`. Returns how many.
  [[nodiscard]] virtual Result<std::int64_t> retry_notifications(std::optional<std::int64_t> id, Time now) = 0;
  [[nodiscard]] virtual Result<Subscription> find_subscription(std::int64_t id) = 0;
  [[nodiscard]] virtual Status disable_subscription(std::int64_t id, const std::string& reason, Time now) = 0;

  // ---- the managers' daily digest ----
  // True when the digest of `day` to `recipient` is still to be sent (recording that it is owed).
  [[nodiscard]] virtual Result<bool> digest_owed(const std::string& day, const std::string& recipient, Time now) = 0;
  // Records an attempt: sent, or still owed with the reason.
  [[nodiscard]] virtual Status record_digest(const std::string& day, const std::string& recipient, bool sent,
                                             const std::string& detail, Time now) = 0;

  // ---- the pages: staff sign-in ----
  // The argon2id hash of an active staff member's password; kNotFound when none is set.
  [[nodiscard]] virtual Result<std::string> password_hash(const std::string& staff_id) = 0;
  [[nodiscard]] virtual Result<SignInGate> sign_in_gate(const std::string& email, Time now) = 0;
  // Counts a failure (forgetting failures older than `window`); locks for `lockout` at `max_failures`.
  [[nodiscard]] virtual Result<SignInGate> record_sign_in_failure(const std::string& email, Time now, int max_failures,
                                                                  Duration window, Duration lockout) = 0;
  [[nodiscard]] virtual Status clear_sign_in_failures(const std::string& email) = 0;
  [[nodiscard]] virtual Status create_session(const StaffSession& session) = 0;
  // kNotFound when unknown, signed out, expired at `now`, or its staff member is inactive.
  [[nodiscard]] virtual Result<StaffSession> find_session(const std::string& token_hash, Time now) = 0;
  [[nodiscard]] virtual Status end_session(const std::string& token_hash, Time now) = 0;

  // ---- the pages: work lists and the review board ----
  // The owner's open cases, soonest next due first (cases with nothing dated last), at most `limit`.
  [[nodiscard]] virtual Result<std::vector<WorklistItem>> owner_worklist(const std::string& owner_id, int limit) = 0;
  // Past-due, at-risk and broken-unhandled commitments per owner, all of them (not a page).
  [[nodiscard]] virtual Result<std::vector<AttentionCount>> attention_by_owner(Time now) = 0;
  // Open cases per escalation level (level 0 included).
  [[nodiscard]] virtual Result<std::vector<EscalationCount>> escalation_counts() = 0;
  // Cases received from `since` per week, by category and by touchpoint.
  [[nodiscard]] virtual Result<std::vector<WeeklyCount>> weekly_counts(Time since) = 0;
};

}  // namespace redress
