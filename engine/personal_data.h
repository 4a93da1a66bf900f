// Personal data: what erasure, restriction, legal holds and redaction do to a case, decided here and
// written by the store (ports/personal_data_store.h) in one transaction per case.
//
// The engine decides which data is personal (engine/sealing.h for an event's fields; here, for the
// case row, messages, commitments and redress) and plans each change as a CaseRewrite: the rows
// as they are to be, the events rewritten in place, and the event that records the change,
// chained onto the case's history. Rewritten events keep their hashes: an erased or redacted
// field keeps its commitment (hash rule 2), so `audit verify` still passes. A case with events of
// hash rule 1 (written before rule 2 existed) has its chain verified and re-sealed under rule 2
// first, in the same rewrite; the recording event names the head hash it replaced.
//
//   erasure: every personal field of every event withdrawn ("[erased]"), the case row's client,
//     subject, description and notes, messages, file names, commitment and redress texts erased;
//     the store also blanks the case's stored mail and hook payloads, its inbound mail records,
//     deletes its client links and its files and raw mail (RewriteScope::kWholeCase). Statuses,
//     times, outcomes, amounts, owners and the report summaries stay.
//   restriction: an erasure request on a case that must still be kept (a legal hold, or inside its
//     workflow's retention period): nothing is erased; the case is hidden from normal lists and
//     refused to everyone but admins until it can be erased.
//   legal hold: set and lifted by a manager with a reason; a held case is never erased.
//   redaction: one value (one sealed field of one event, or a message's body) withdrawn
//     ("[redacted]") wherever the case holds it.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/model.h"
#include "engine/result.h"
#include "engine/store.h"
#include "engine/workflow.h"

namespace redress {

enum class PrivacyState { kOpen, kRestricted, kErased };
[[nodiscard]] std::string_view to_string(PrivacyState state);
[[nodiscard]] std::optional<PrivacyState> parse_PrivacyState(std::string_view text);

// A case's standing under personal data law (table case_privacy; the defaults when it has no row).
struct CasePrivacy {
  std::string legal_hold;  // why it is held; empty when it is not
  std::string hold_by;     // who set the hold ("staff:u-3")
  std::optional<Time> hold_at;
  PrivacyState state = PrivacyState::kOpen;
  std::optional<Time> restricted_at;
  std::optional<Time> erased_at;
  std::int64_t erasure_id = 0;  // the erasure that restricted or erased it; 0 when none
  friend bool operator==(const CasePrivacy&, const CasePrivacy&) = default;
};

// A case as stored, whole, read inside the transaction that rewrites it.
struct StoredCase {
  CaseSnapshot snapshot;
  std::vector<Event> events;      // its whole history, by seq
  std::vector<Message> messages;  // every message, with its files
  CasePrivacy privacy;
};

// What the store writes besides the rows of a CaseRewrite.
enum class RewriteScope {
  kRows,       // only the rows given (holds, restriction, redaction)
  kWholeCase,  // erasure: also the case's stored mail and hook payloads and their attempts' details,
               // its inbound mail records, its client links, and its files and raw mail (blobs)
};

struct CaseRewrite {
  Case after;                           // the case row afterwards (version, head hash, erased fields)
  std::int64_t expected_version = 0;    // the version it was planned on: the store checks it
  std::vector<Event> replaced;          // stored events rewritten in place (same seq)
  std::vector<Event> appended;          // new events, chained after the last
  std::vector<Message> messages;        // message rows replaced, with their files
  std::vector<Commitment> commitments;  // commitment rows replaced
  std::vector<Redress> redress;         // redress rows replaced
  CasePrivacy privacy;                  // the case_privacy row afterwards
  RewriteScope scope = RewriteScope::kRows;
  // Blob keys (files, raw mail) the case no longer needs; the store deletes each unless another
  // case still refers to it.
  std::vector<std::string> released_blobs;
  // Redaction: texts the store takes out of the case's stored mail and hook payloads.
  std::vector<std::string> scrub;
  std::string rechained_from;  // the head hash before rule-1 events were re-sealed; "" when none were
};

// Who asks, and why.
struct PrivacyRequest {
  Actor actor;
  std::string reason;
  std::int64_t erasure_id = 0;  // erasure and restriction: the erasure record ("e-<id>")
};

// Why an erasure request cannot erase the case now; nullopt when it can. `workflow` may be null
// (no retention period known).
[[nodiscard]] std::optional<std::string> reason_to_keep(const Case& record, const CasePrivacy& privacy,
                                                        const Workflow* workflow, Time now);
// When the workflow's retention period of the case ends; nullopt when it has no period, or counts
// from closure and the case is not closed.
[[nodiscard]] std::optional<Time> retention_ends(const Case& record, const Workflow& workflow);

[[nodiscard]] Result<CaseRewrite> plan_erasure(const StoredCase& stored, const PrivacyRequest& request, Time now);
[[nodiscard]] Result<CaseRewrite> plan_restriction(const StoredCase& stored, const PrivacyRequest& request,
                                                   const std::string& why, Time now);

enum class HoldChange { kSet, kLift };
// Managers and admins only; refused when the hold is already as asked, or the case is erased.
[[nodiscard]] Result<CaseRewrite> plan_legal_hold(const StoredCase& stored, HoldChange change,
                                                  const PrivacyRequest& request, Time now);

// One value to redact: a sealed field of an event (`event_seq`, `field` a JSON pointer such as
// "/description"), or a message's body (`message_id`; `field` empty or "body").
struct RedactionTarget {
  std::int64_t event_seq = 0;
  std::int64_t message_id = 0;
  std::string field;
};
// Leads and above; kNotFound for no such event, message or field; kRefused on an erased case.
[[nodiscard]] Result<CaseRewrite> plan_redaction(const StoredCase& stored, const RedactionTarget& target,
                                                 const PrivacyRequest& request, Time now);

// A display id of an erasure record: "e-12".
[[nodiscard]] std::string erasure_display_id(std::int64_t id);

}  // namespace redress
