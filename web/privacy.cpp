#include "web/privacy.h"

#include <sodium.h>

#include <chrono>
#include <map>
#include <set>
#include <stdexcept>

namespace redress::web {

namespace {

enum class LedgerWrite { kAppend, kAlreadyThere };

std::string random_salt() {
  if (sodium_init() < 0) throw std::logic_error("libsodium cannot start");  // a broken installation
  unsigned char salt[16];
  randombytes_buf(salt, sizeof salt);
  char hex[33];
  sodium_bin2hex(hex, sizeof hex, salt, sizeof salt);
  return hex;
}

std::string day_of(Time t) { return format_date(std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(t))); }

bool blank(const std::string& text) { return text.find_first_not_of(" \t\r\n") == std::string::npos; }

// What the retention rules and reason_to_keep read of a case.
Case case_of(const PrivacyCandidate& candidate) {
  Case record;
  record.reference = candidate.reference;
  record.workflow = candidate.workflow;
  record.received_at = candidate.received_at;
  record.ended_at = candidate.ended_at;
  return record;
}

// Whether retention may erase the case now, hold aside (the caller reports held cases).
bool retention_expired(const Case& record, const CasePrivacy& privacy, const Workflow* workflow, Time now) {
  CasePrivacy unheld = privacy;
  unheld.legal_hold.clear();
  if (privacy.state == PrivacyState::kRestricted) return !reason_to_keep(record, unheld, workflow, now);
  if (!record.ended_at || workflow == nullptr || !workflow->retention) return false;
  auto ends = retention_ends(record, *workflow);
  return ends && now >= *ends;
}

// erase_subject, with the record to keep (its salt and hash already made).
Result<ErasureOutcome> erase_recorded(const PrivacySources& sources, const std::vector<PrivacyCandidate>& found,
                                      const ErasureRecord& record, const Actor& actor, LedgerWrite ledger_write,
                                      const PrivacyProgress& progress) {
  ErasureOutcome outcome;
  const Time now = sources.clock.now();
  // Recorded before any case is touched: a crash from here on leaves a request to finish.
  if (sources.ledger && ledger_write == LedgerWrite::kAppend)
    if (auto s = sources.ledger->append(LedgerEntry{now, record.email_hash}); !s) return s.error();
  auto id = sources.store.start_erasure(record);
  if (!id) return id.error();
  outcome.erasure_id = *id;
  const PrivacyRequest request{actor, record.reason, *id};
  std::int64_t done = 0;
  for (const PrivacyCandidate& candidate : found) {
    std::string why;
    auto written = sources.store.rewrite_case(candidate.reference, [&](const StoredCase& stored) -> Result<CaseRewrite> {
      const Workflow* workflow = sources.workflows.find(stored.snapshot.record.workflow);
      if (auto keep = reason_to_keep(stored.snapshot.record, stored.privacy, workflow, now)) {
        why = *keep;
        return plan_restriction(stored, request, *keep, now);
      }
      why.clear();
      return plan_erasure(stored, request, now);
    });
    if (written) {
      if (written->privacy.state == PrivacyState::kErased)
        outcome.erased.push_back(candidate.reference);
      else
        outcome.restricted.push_back(KeptCase{candidate.reference, why});
    } else if (written.error().code == ErrorCode::kRefused && !why.empty()) {
      outcome.restricted.push_back(KeptCase{candidate.reference, why});  // restricted by an earlier request
    } else if (written.error().code != ErrorCode::kNotFound) {
      return written.error();  // the erasure stops here; running it again finishes it
    }
    if (progress) progress(++done, static_cast<std::int64_t>(found.size()));
  }
  if (auto s = sources.store.finish_erasure(*id, static_cast<std::int64_t>(outcome.erased.size()),
                                            static_cast<std::int64_t>(outcome.restricted.size()),
                                            sources.clock.now());
      !s)
    return s.error();
  auto purged = sources.store.purge_erased();
  if (!purged) return purged.error();
  outcome.purge = *purged;
  return outcome;
}

}  // namespace

Status check_email(const std::string& email) {
  const auto at = email.find('@');
  if (email.empty() || at == std::string::npos || at == 0 || at + 1 == email.size() ||
      email.find('@', at + 1) != std::string::npos || email.find_first_of(" \t\r\n") != std::string::npos ||
      email.size() > 320)
    return Error::invalid_field("email", "must be an email address like ana@example.org");
  return Status::success();
}

Result<ErasureOutcome> erase_subject(const PrivacySources& sources, const std::string& email,
                                     const std::string& reason, const Actor& actor, const PrivacyProgress& progress) {
  if (auto s = check_email(email); !s) return s.error();
  if (blank(reason)) return Error::invalid_field("reason", "is required: say why (the request and its date)");
  if (reason.size() > 2000) return Error::invalid_field("reason", "must be at most 2000 characters");
  auto found = sources.store.cases_of_client(email);
  if (!found) return found.error();
  if (found->empty()) {
    // Nothing left: erased before (a request run again, perhaps after a crash), or never held.
    auto records = sources.store.erasures();
    if (!records) return records.error();
    ErasureOutcome outcome;
    for (const auto& r : *records)
      if (r.source == "request" && !r.email_hash.empty() && salted_email_hash(r.email_salt, email) == r.email_hash) {
        outcome.erased_before = r.requested_at;
        outcome.erasure_id = r.id;
      }
    if (!outcome.erased_before)
      return Error::not_found("Redress holds no case of a client with the address " + email + ", and erased none");
    auto purged = sources.store.purge_erased();  // what a crashed run may have left
    if (!purged) return purged.error();
    outcome.purge = *purged;
    return outcome;
  }
  ErasureRecord record;
  record.email_salt = sources.ledger ? sources.ledger->salt() : random_salt();
  record.email_hash = salted_email_hash(record.email_salt, email);
  record.reason = reason;
  record.actor = actor.text();
  record.source = "request";
  record.requested_at = sources.clock.now();
  return erase_recorded(sources, *found, record, actor, LedgerWrite::kAppend, progress);
}

std::string RetentionReport::summary() const {
  const bool dry = mode == RetentionMode::kDryRun;
  return std::string("retention") + (dry ? " (dry run)" : "") + ": " + std::to_string(erased.size()) +
         (erased.size() == 1 ? " case" : " cases") + (dry ? " would be erased, " : " erased, ") +
         std::to_string(held.size()) + " expired but held, " + std::to_string(checked) + " checked" +
         compaction_summary();
}

std::string RetentionReport::compaction_summary() const {
  if (!compaction) return "";
  std::size_t not_done = 0;
  for (const auto& step : compaction->steps) not_done += step.outcome == StepOutcome::kDone ? 0 : 1;
  if (not_done > 0)
    return "; compaction left " + std::to_string(not_done) + " of " + std::to_string(compaction->steps.size()) +
           " steps undone (run `redress compact` to see why)";
  return compaction->copies_left.empty() ? "; compacted" : "; compacted, copies beyond its reach remain";
}

Result<RetentionReport> run_retention(const PrivacySources& sources, RetentionMode mode,
                                      const PrivacyProgress& progress) {
  RetentionReport report;
  report.mode = mode;
  const Time now = sources.clock.now();
  auto candidates = sources.store.retention_candidates();
  if (!candidates) return candidates.error();
  std::vector<std::string> due;
  for (const PrivacyCandidate& candidate : *candidates) {
    ++report.checked;
    const Workflow* workflow = sources.workflows.find(candidate.workflow);
    if (!retention_expired(case_of(candidate), candidate.privacy, workflow, now)) continue;
    if (!candidate.privacy.legal_hold.empty()) {
      report.held.push_back(KeptCase{candidate.reference, "it is under legal hold: " + candidate.privacy.legal_hold});
      continue;
    }
    due.push_back(candidate.reference);
  }
  if (mode == RetentionMode::kDryRun || due.empty()) {
    if (mode == RetentionMode::kDryRun) report.erased = due;
    return report;
  }
  ErasureRecord record;
  record.email_salt = random_salt();
  record.reason = "the retention period of the case's workflow ended";
  record.actor = Actor::system().text();
  record.source = "retention";
  record.requested_at = now;
  auto id = sources.store.start_erasure(record);
  if (!id) return id.error();
  report.erasure_id = *id;
  const PrivacyRequest request{Actor::system(), record.reason, *id};
  std::int64_t done = 0;
  for (const std::string& reference : due) {
    auto written = sources.store.rewrite_case(reference, [&](const StoredCase& stored) -> Result<CaseRewrite> {
      // Looked at again inside the transaction: a hold set, or the case reopened, since the list.
      const Workflow* workflow = sources.workflows.find(stored.snapshot.record.workflow);
      if (!stored.privacy.legal_hold.empty() ||
          !retention_expired(stored.snapshot.record, stored.privacy, workflow, now))
        return Error::refused("case " + reference + " is kept", {});
      return plan_erasure(stored, request, now);
    });
    if (written)
      report.erased.push_back(reference);
    else if (written.error().code != ErrorCode::kRefused && written.error().code != ErrorCode::kNotFound)
      return written.error();
    if (progress) progress(++done, static_cast<std::int64_t>(due.size()));
  }
  if (auto s = sources.store.finish_erasure(*id, static_cast<std::int64_t>(report.erased.size()), 0,
                                            sources.clock.now());
      !s)
    return s.error();
  auto purged = sources.store.purge_erased();
  if (!purged) return purged.error();
  report.purge = *purged;
  return report;
}

Result<std::optional<RetentionReport>> run_retention_if_due(const PrivacySources& sources, CaseStore& leases,
                                                            const std::string& holder,
                                                            RetentionCompaction compaction) {
  const Time now = sources.clock.now();
  auto leased = leases.acquire_lease("retention", holder, now, now + std::chrono::hours(1));
  if (!leased) return leased.error();
  if (!*leased) return std::optional<RetentionReport>();
  struct Release {
    CaseStore& leases;
    const std::string& holder;
    ~Release() { (void)leases.release_lease("retention", holder); }
  } release{leases, holder};
  const std::string day = day_of(now);
  auto claimed = sources.store.claim_retention_run(day, holder, now);
  if (!claimed) return claimed.error();
  if (!*claimed) return std::optional<RetentionReport>();
  auto report = run_retention(sources, RetentionMode::kErase);
  if (report && compaction == RetentionCompaction::kAfterErasure && !report->erased.empty() &&
      report->purge.copies_left == ErasedCopies::kUntilCompacted) {
    auto compacted = sources.store.compact({});
    // The erasure stands whatever the compaction does: a failure is reported with the run.
    report->compaction = compacted ? std::move(compacted).value()
                                   : CompactionReport{{{"compaction", StepOutcome::kFailed, compacted.error().detail, {}}},
                                                      {}};
  }
  (void)sources.store.finish_retention_run(day, report ? report->summary() : "failed: " + report.error().detail,
                                           sources.clock.now());
  if (!report) return report.error();
  return std::optional<RetentionReport>(std::move(report).value());
}

Result<std::int64_t> reapply_ledger(const PrivacySources& sources) {
  if (!sources.ledger) return std::int64_t{0};
  auto entries = sources.ledger->entries();
  if (!entries) return entries.error();
  auto records = sources.store.erasures();
  if (!records) return records.error();
  std::set<std::string> recorded;
  for (const auto& r : *records)
    if (r.email_salt == sources.ledger->salt()) recorded.insert(r.email_hash);
  std::map<std::string, LedgerEntry> missing;  // by hash
  for (const auto& e : *entries)
    if (!recorded.count(e.email_hash)) missing.emplace(e.email_hash, e);
  if (missing.empty()) return std::int64_t{0};
  // The database lacks requests the ledger has: it was restored from before them.
  auto cases = sources.store.unerased_cases();
  if (!cases) return cases.error();
  std::map<std::string, std::vector<PrivacyCandidate>> by_hash;
  std::map<std::string, std::string> hashed;  // lower-case address -> hash, each address hashed once
  for (const auto& c : *cases) {
    if (c.client_email.empty()) continue;
    std::string address = c.client_email;
    for (char& ch : address)
      if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    auto [it, fresh] = hashed.emplace(address, std::string());
    if (fresh) it->second = sources.ledger->hash_email(address);
    if (missing.count(it->second)) by_hash[it->second].push_back(c);
  }
  std::int64_t changed = 0;
  for (const auto& [hash, entry] : missing) {
    ErasureRecord record;
    record.email_salt = sources.ledger->salt();
    record.email_hash = hash;
    record.reason = "re-applied after a restore: erasure requested " + format_time(entry.at);
    record.actor = Actor::system().text();
    record.source = "request";
    record.requested_at = sources.clock.now();
    auto outcome = erase_recorded(sources, by_hash[hash], record, Actor::system(), LedgerWrite::kAlreadyThere, {});
    if (!outcome) return outcome.error();
    changed += static_cast<std::int64_t>(outcome->erased.size() + outcome->restricted.size());
  }
  return changed;
}

Result<CaseRewrite> change_legal_hold(const PrivacySources& sources, const std::string& reference, HoldChange change,
                                      const std::string& reason, const Actor& actor) {
  const PrivacyRequest request{actor, reason, 0};
  const Time now = sources.clock.now();
  return sources.store.rewrite_case(
      reference, [&](const StoredCase& stored) { return plan_legal_hold(stored, change, request, now); });
}

Result<CaseRewrite> redact(const PrivacySources& sources, const std::string& reference, const RedactionTarget& target,
                           const std::string& reason, const Actor& actor) {
  const PrivacyRequest request{actor, reason, 0};
  const Time now = sources.clock.now();
  auto written = sources.store.rewrite_case(
      reference, [&](const StoredCase& stored) { return plan_redaction(stored, target, request, now); });
  if (!written) return written.error();
  auto purged = sources.store.purge_erased();  // the raw mail it released, the index, the WALs
  if (!purged) return purged.error();
  return written;
}

}  // namespace redress::web
