// CaseReader: cases as stored, read for showing and listing them.
//
// Everything here reads committed data only and changes nothing: a case with its commitments and
// redress (load_case), its history and messages, the staff API's view of it and that view's stamp,
// pages of cases and of commitments, counts, and the audit of every case's hash chain. Writes to
// cases go through the engine (engine/engine.h on a CaseStore), never through a reader. A page's
// cursor is opaque; pass back what the last page returned.
//
// Implementations (adapters/sqlite, later PostgreSQL) are thread-safe: any thread may read, and
// each call sees one consistent snapshot of the store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/model.h"
#include "engine/personal_data.h"
#include "engine/result.h"
#include "engine/store.h"

namespace redress {

// A case as the staff API shows it, read in one snapshot of the store: the case, its messages, its
// owner (none when unowned or unknown) and the nonce of its live client link (none when it has none).
struct CaseView {
  CaseSnapshot snapshot;
  std::vector<Message> messages;
  std::optional<Staff> owner;
  std::optional<std::string> client_link_nonce;
  CasePrivacy privacy;  // legal hold, restriction, erasure (engine/personal_data.h)
};

// Everything a rendering of a CaseView depends on besides the engine's clock: the case version
// (every change to the case, its commitments, redress and messages moves it), the owner's name
// and the live client link. Equal stamps mean equal views, so a cached rendering is checked
// against the store, which every node shares, with one small read instead of the five of a view.
struct CaseViewStamp {
  std::int64_t version = 0;
  std::string owner_name;         // "" when unowned or the owner is unknown
  std::string client_link_nonce;  // "" when the case has no live link
  // Restricted cases are refused to all but admins (docs/personal-data.md); every change of the
  // case's standing also moves its version.
  PrivacyState privacy = PrivacyState::kOpen;
  bool operator==(const CaseViewStamp&) const = default;
};
[[nodiscard]] CaseViewStamp stamp_of(const CaseView& view);

struct CaseFilter {
  std::optional<CaseStatus> status;
  std::string owner_id;  // "" any; "none" unowned
  std::string workflow;
  std::optional<int> escalation_level;
  bool overdue = false;    // has an open commitment past due, or a broken one
  bool open_only = false;  // only cases still being worked (before resolution)
  std::string client_email;  // "" any; else the client's address, compared without regard to case
  std::string team;          // "" any; else the team whose queue the case is in
  std::vector<std::string> tags;  // cases carrying every one of these tags (engine/tags.h); empty: any
  std::optional<Time> received_from;  // received at or after
  std::optional<Time> received_to;    // received before
  // Cases an erasure request restricted (docs/personal-data.md) are left out of lists and searches
  // unless asked for (admins, subject access).
  enum class Restricted { kHidden, kShown };
  Restricted restricted = Restricted::kHidden;
};

// How many cases carry a tag, and how many of those are still open (before resolution).
struct TagCount {
  std::string tag;
  std::int64_t cases = 0;
  std::int64_t open_cases = 0;
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

class CaseReader {
 public:
  virtual ~CaseReader() = default;

  [[nodiscard]] virtual Result<CaseSnapshot> load_case(const std::string& reference) = 0;
  [[nodiscard]] virtual Result<std::vector<Event>> case_events(const std::string& reference) = 0;
  [[nodiscard]] virtual Result<std::vector<Message>> case_messages(const std::string& reference) = 0;
  // The case, its messages, owner and live client link nonce in one read; kNotFound when no such case.
  [[nodiscard]] virtual Result<CaseView> load_case_view(const std::string& reference) = 0;
  // The stamp of the case's view as stored now (one statement); kNotFound when no such case.
  [[nodiscard]] virtual Result<CaseViewStamp> case_view_stamp(const std::string& reference) = 0;
  [[nodiscard]] virtual Result<CasePage> list_cases(const CaseFilter& filter, const std::string& cursor, int limit) = 0;
  [[nodiscard]] virtual Result<AuditReport> verify_chains() = 0;

  // ---- commitments and counts ----
  [[nodiscard]] virtual Result<CommitmentPage> list_commitments(const CommitmentFilter& filter,
                                                                const std::string& cursor, int limit) = 0;
  // The case reference a commitment or a redress offer belongs to; kNotFound when unknown.
  [[nodiscard]] virtual Result<std::string> commitment_case(std::int64_t commitment_id) = 0;
  [[nodiscard]] virtual Result<std::string> redress_case(std::int64_t redress_id) = 0;
  [[nodiscard]] virtual Result<std::vector<std::pair<std::string, std::int64_t>>> count_cases_by_status() = 0;
  [[nodiscard]] virtual Result<std::int64_t> count_open_commitments() = 0;
  // Every tag in use, with its counts, most cases first (then by tag).
  [[nodiscard]] virtual Result<std::vector<TagCount>> count_cases_by_tag() = 0;
};

}  // namespace redress
