// Privacy: the operations of personal data law over a whole store - erasing everything about one
// client (`redress subject erase`, POST /v1/admin/subjects/erase), the retention run (`redress
// retention run`, and the server once a day), re-applying the erasure ledger after a restore, and
// one case's legal hold or redaction. The engine plans each case's change (engine/personal_data.h);
// the store writes it in one transaction per case (ports/personal_data_store.h); this module
// decides which cases, records the erasure, and purges the copies at the end.
//
// Crash safety: an erasure is recorded (ledger line, then erasure record) before any case is
// touched, each case is erased or restricted whole in its own transaction, and the purge is
// idempotent. A process killed in the middle leaves some cases erased and others untouched, never
// one half-erased; running the same request again finds the rest (the erased no longer have the
// address) and finishes, purge included.
//
// Thread-safe as the store is; the calls block until done (about 5 ms a case on SQLite).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/clock.h"
#include "engine/personal_data.h"
#include "engine/workflow.h"
#include "ports/personal_data_store.h"
#include "web/erasure_ledger.h"

namespace redress::web {

struct PrivacySources {
  PersonalDataStore& store;
  const WorkflowSet& workflows;
  const Clock& clock;
  ErasureLedger* ledger = nullptr;  // null: no ledger (the erasure record keeps its own salt)
};

// Called after each case: (cases done, cases found).
using PrivacyProgress = std::function<void(std::int64_t done, std::int64_t total)>;

struct KeptCase {
  std::string reference;
  std::string why;  // "it is under legal hold: ...", "the fca standard keeps it until 2029-03-01"
};

struct ErasureOutcome {
  std::int64_t erasure_id = 0;
  std::vector<std::string> erased;    // references, erased now
  std::vector<KeptCase> restricted;   // restricted (now or before) instead of erased
  std::optional<Time> erased_before;  // nothing was left: the address was erased already then
  PurgeReport purge;
};

// Erases everything Redress holds about the client with `email` (compared without regard to case),
// or restricts the cases it must keep. kInvalid for a malformed address or an empty reason;
// kNotFound when Redress holds no case of that address and never erased it.
[[nodiscard]] Result<ErasureOutcome> erase_subject(const PrivacySources& sources, const std::string& email,
                                                   const std::string& reason, const Actor& actor,
                                                   const PrivacyProgress& progress = {});

enum class RetentionMode { kErase, kDryRun };
struct RetentionReport {
  RetentionMode mode = RetentionMode::kErase;
  std::int64_t erasure_id = 0;     // 0 for a dry run, or when nothing had expired
  std::vector<std::string> erased;  // (a dry run: would be)
  std::vector<KeptCase> held;       // expired, but under legal hold
  std::int64_t checked = 0;         // closed or restricted cases looked at
  PurgeReport purge;
  std::optional<CompactionReport> compaction;  // when the run compacted the store afterwards
  // One line for logs and the CLI: "retention: 3 cases erased, 1 held, 12 checked".
  [[nodiscard]] std::string summary() const;

 private:
  [[nodiscard]] std::string compaction_summary() const;
};

// Erases the closed cases whose workflow's retention period has ended and the restricted cases
// nothing keeps any longer, unless under legal hold.
[[nodiscard]] Result<RetentionReport> run_retention(const PrivacySources& sources, RetentionMode mode,
                                                    const PrivacyProgress& progress = {});

// Whether the server's daily run compacts the store (PersonalDataStore::compact) after it erased
// something the store keeps old copies of until then (PostgreSQL); setting `retention_compact`.
enum class RetentionCompaction { kOff, kAfterErasure };

// The server's daily run: takes the lease "retention" and today's (UTC) run, runs it (and, as
// `compaction` says, compacts under the same lease) and records its report; nullopt when another
// process has today's run or holds the lease.
[[nodiscard]] Result<std::optional<RetentionReport>> run_retention_if_due(
    const PrivacySources& sources, CaseStore& leases, const std::string& holder,
    RetentionCompaction compaction = RetentionCompaction::kOff);

// After a restore: erases again the clients of the ledger's requests the database does not record;
// how many cases it erased or restricted.
[[nodiscard]] Result<std::int64_t> reapply_ledger(const PrivacySources& sources);

// One case's legal hold (managers and admins), or one value redacted (leads and above).
[[nodiscard]] Result<CaseRewrite> change_legal_hold(const PrivacySources& sources, const std::string& reference,
                                                    HoldChange change, const std::string& reason, const Actor& actor);
[[nodiscard]] Result<CaseRewrite> redact(const PrivacySources& sources, const std::string& reference,
                                         const RedactionTarget& target, const std::string& reason,
                                         const Actor& actor);

// kInvalid unless `email` looks like an address (one "@", something either side, no spaces).
[[nodiscard]] Status check_email(const std::string& email);

}  // namespace redress::web
