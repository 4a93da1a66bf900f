// CaseStore: the engine's one door to durable storage, and all of storage the engine sees.
//
// Writes are units of work on one case (WorkItem): the store runs the item's plan inside a
// transaction against the case as stored, checks the version in the database, writes the sealed
// events, the projections they change and the notifications they make owed, and commits — all or
// nothing. Work items are committed in groups (one commit, many items); each caller's `done` runs
// after its group's commit. Actions on one case are therefore serialised, and a stale expected
// version is refused. Reads see committed data only. Besides the writes, the store keeps each
// case's wake time (written with the change that moved it) and a named lease, which is all the
// scheduler (engine/scheduler.h) needs.
//
// This header holds only what the engine and its scheduler call. What the rest of the system
// reads and writes (cases for display, staff, sessions, the outbox, reports) are the role ports
// of ports/, and one whole storage backend is a ports/store.h Store.
//
// Implementations (adapters/sqlite, later PostgreSQL; an in-memory fake in tests/engine) are
// thread-safe: any thread may submit or read.
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
#include "engine/result.h"
#include "engine/return_entry.h"

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
  // An inbound email's record (model.h), written first: when the store already has a record of the
  // same raw message, the change is refused as kConflict and nothing of it is written.
  std::optional<InboundReceipt> inbound;
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
  // The case's tags changed (after.tags): a store that indexes cases by tag rewrites the case's.
  bool tags_changed = false;
  // What the change adds to its workflows' regulatory returns (engine/return_ledger.h), which the
  // store adds to its per-day return summary in the same transaction. The Engine fills it in.
  std::vector<ReturnEntry> return_entries;
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

// A plan made ahead of the writer against a snapshot the store keeps (CaseStore::kept_snapshot). The
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

// A lease as its holder took it (CaseStore::acquire_lease): writes made under it carry it, and the
// store refuses them once the lease is no longer `holder`'s under `attempt` (fencing).
struct LeaseFence {
  std::string name;
  std::string holder;
  std::int64_t attempt = 0;
};

// A case the scheduler must look at: one of its commitments falls due, a warning falls, or its
// reopen window ends, at `wake_at`.
struct DueCase {
  std::string reference;
  Time wake_at{};
};

class CaseStore {
 public:
  virtual ~CaseStore() = default;

  // ---- writes ----
  virtual void submit(WorkItem item) = 0;
  // Work on several cases that stands or falls together (a merge, a link: one change on each
  // case): the items run in order in one transaction, and either every item's change is committed
  // or none is. When one fails, nothing of any is written and every item's `done` gets that
  // item's error. Items on the same case are not allowed (kInvalid).
  virtual void submit_together(std::vector<WorkItem> items) = 0;
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

  // ---- the scheduler ----
  // The earliest wake time of any case; nullopt when nothing is due, ever.
  [[nodiscard]] virtual Result<std::optional<Time>> next_wake() = 0;
  // Cases whose wake time is at or before `now`, earliest first, at most `limit`.
  [[nodiscard]] virtual Result<std::vector<DueCase>> due_cases(Time now, int limit) = 0;
  // Takes the named lease for `holder` until `until` when it is free, expired at `now`, or already
  // the holder's (a renewal). Decided in the database, so several processes on one database agree.
  // The lease's attempt number when `holder` holds it afterwards; nullopt when another holder does.
  // The attempt grows each time the lease changes hands (a renewal keeps it): work done under an
  // attempt that is no longer current is refused where it matters (LeaseFence), so a holder that
  // stalled past its lease cannot undo its successor's work.
  [[nodiscard]] virtual Result<std::optional<std::int64_t>> acquire_lease(const std::string& name,
                                                                          const std::string& holder, Time now,
                                                                          Time until) = 0;
  // Whether `fence` is still the lease's current holder and attempt, unexpired at `now`.
  [[nodiscard]] virtual Result<bool> holds_lease(const LeaseFence& fence, Time now) = 0;
  // Expires the lease now when `holder` holds it (its attempt count goes on with the next holder).
  [[nodiscard]] virtual Status release_lease(const std::string& name, const std::string& holder) = 0;
};

}  // namespace redress
