#include "adapters/postgres/personal_records.h"

#include <optional>
#include <set>

#include "adapters/postgres/rows.h"

namespace redress::postgres {

namespace {

std::optional<std::string> seals_or_null(const Event& e) {
  if (e.hash_rule == HashRule::kSealed) return e.seals;
  return std::nullopt;
}

Result<StoredCase> load_stored(Connection& db, const std::string& reference) {
  auto snapshot = load_snapshot(db, reference, RowLock::kForUpdate);
  if (!snapshot) return snapshot.error();
  StoredCase stored;
  stored.snapshot = std::move(snapshot).value();
  const std::int64_t id = stored.snapshot.record.id;
  auto events = select_events(db, id);
  if (!events) return events.error();
  stored.events = std::move(events).value();
  auto messages = select_messages(db, id);
  if (!messages) return messages.error();
  stored.messages = std::move(messages).value();
  auto privacy = select_privacy(db, id);
  if (!privacy) return privacy.error();
  stored.privacy = std::move(privacy).value();
  return stored;
}

Status write_rewrite(Connection& db, const StoredCase& stored, const CaseRewrite& rewrite) {
  const Case& before = stored.snapshot.record;
  const std::int64_t id = before.id;
  Params params = case_params(rewrite.after);
  params.add(rewrite.expected_version);
  auto updated = db.query(update_case_sql_text() + " RETURNING id", params);
  if (!updated) return updated.error();
  if (updated->empty())
    return Error::stale("case " + before.reference + " changed since version " +
                        std::to_string(rewrite.expected_version));
  Pipeline rows(db);
  for (const Event& e : rewrite.replaced)
    rows.add("UPDATE events SET data = $3, hash = $4, seals = $5 WHERE case_id = $1 AND seq = $2",
             Params().add(id).add(e.seq).add(e.data).add(e.hash).add(seals_or_null(e)));
  for (const Event& e : rewrite.appended)
    rows.add("INSERT INTO events(case_id, seq, type, at, actor, data, hash, seals) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
             Params()
                 .add(e.case_id)
                 .add(e.seq)
                 .add(e.type)
                 .add(to_micros(e.at))
                 .add(e.actor)
                 .add(e.data)
                 .add(e.hash)
                 .add(seals_or_null(e)));
  for (const Message& m : rewrite.messages) {
    rows.add("UPDATE messages SET body = $2, author = $3, original = $4, mail_blob = $5 WHERE id = $1 AND case_id = $6",
             Params().add(m.id).add(m.body).add(m.author).add(m.original).add(m.mail_blob).add(id));
    for (std::size_t i = 0; i < m.attachments.size(); ++i)
      rows.add("UPDATE message_attachments SET filename = $3 WHERE message_id = $1 AND position = $2",
               Params().add(m.id).add(static_cast<std::int64_t>(i)).add(m.attachments[i].filename));
  }
  for (const Commitment& c : rewrite.commitments)
    rows.add(
        "UPDATE commitments SET text = $2, note = $3, handled_note = $4, exemption = $5 WHERE id = $1 AND case_id = $6",
        Params().add(c.id).add(c.text).add(c.note).add(c.handled_note).add(c.exemption).add(id));
  for (const Redress& r : rewrite.redress)
    rows.add("UPDATE redress SET text = $2 WHERE id = $1 AND case_id = $3", Params().add(r.id).add(r.text).add(id));
  const CasePrivacy& p = rewrite.privacy;
  rows.add(
      "INSERT INTO case_privacy(case_id, legal_hold, hold_by, hold_at, state, restricted_at, erased_at, erasure_id) "
      "VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (case_id) DO UPDATE SET legal_hold = excluded.legal_hold, "
      "hold_by = excluded.hold_by, hold_at = excluded.hold_at, state = excluded.state, "
      "restricted_at = excluded.restricted_at, erased_at = excluded.erased_at, erasure_id = excluded.erasure_id",
      Params()
          .add(id)
          .add(p.legal_hold)
          .add(p.hold_by)
          .add(micros_or_null(p.hold_at))
          .add(std::string(to_string(p.state)))
          .add(micros_or_null(p.restricted_at))
          .add(micros_or_null(p.erased_at))
          .add(p.erasure_id > 0 ? std::optional<std::int64_t>(p.erasure_id) : std::nullopt));
  if (rewrite.scope == RewriteScope::kWholeCase) {
    rows.add(
        "UPDATE notification_attempts SET detail = '' WHERE notification_id IN "
        "(SELECT id FROM notifications WHERE case_id = $1)",
        Params().add(id));
    rows.add(
        "UPDATE notifications SET recipient = '', recipient_name = '', payload = NULL, last_error = NULL, "
        "status = CASE WHEN status IN ('pending','dead') THEN 'erased' ELSE status END, lease_holder = NULL, "
        "lease_until = NULL WHERE case_id = $1",
        Params().add(id));
    rows.add("DELETE FROM client_links WHERE case_id = $1", Params().add(id));
  }
  for (const std::string& text : rewrite.scrub)
    if (text.size() >= 4)  // shorter texts would mangle the rest of the mail
      rows.add(
          "UPDATE notifications SET payload = replace(payload, $2, '[redacted]') WHERE case_id = $1 AND "
          "strpos(payload, $2) > 0",
          Params().add(id).add(text));
  if (auto ran = rows.run(); !ran) return ran.error();

  std::set<std::string> released(rewrite.released_blobs.begin(), rewrite.released_blobs.end());
  if (rewrite.scope == RewriteScope::kWholeCase) {
    // The case's inbound mail records, and those from the client's address that name no case.
    const std::string which =
        "(case_reference = $1 OR (case_reference = '' AND $2 <> '' AND lower(from_address) = lower($2)))";
    auto keys = db.query("SELECT blob_key FROM inbound_mail WHERE " + which,
                         Params().add(before.reference).add(before.client.email));
    if (!keys) return keys.error();
    for (int i = 0; i < keys->size(); ++i) released.insert(keys->text(i, 0));
    auto blanked = db.query(
        "UPDATE inbound_mail SET from_address = '', subject = '', message_id = '', detail = '', bounced_address = '' "
        "WHERE " + which,
        Params().add(before.reference).add(before.client.email));
    if (!blanked) return blanked.error();
  }
  for (const std::string& key : released)
    if (!key.empty())
      if (auto s = db.query("INSERT INTO erasure_blobs(blob_key) VALUES ($1) ON CONFLICT DO NOTHING", Params().add(key));
          !s)
        return s.error();
  return Status::success();
}

PrivacyCandidate read_candidate(const Rows& rows, int i) {
  PrivacyCandidate c;
  c.reference = rows.text(i, 0);
  c.workflow = rows.text(i, 1);
  c.client_email = rows.text(i, 2);
  c.received_at = from_micros(rows.integer(i, 3));
  c.ended_at = time_or_null(rows, i, 4);
  c.privacy.legal_hold = rows.text(i, 5);
  c.privacy.hold_by = rows.text(i, 6);
  c.privacy.hold_at = time_or_null(rows, i, 7);
  c.privacy.state = parse_PrivacyState(rows.text(i, 8)).value_or(PrivacyState::kOpen);
  c.privacy.restricted_at = time_or_null(rows, i, 9);
  c.privacy.erased_at = time_or_null(rows, i, 10);
  c.privacy.erasure_id = rows.integer(i, 11);
  return c;
}

// Whether a case that is not erased still refers to the blob: a file on one of its messages, or the
// raw mail of one. (An inbound mail record keeps the raw message's key to refuse the same message
// twice, but is no reason to keep a raw message an erasure or redaction released.)
constexpr const char* kBlobStillNeeded =
    "SELECT EXISTS (SELECT 1 FROM message_attachments a JOIN messages m ON m.id = a.message_id "
    "  WHERE a.blob_key = $1 AND NOT EXISTS (SELECT 1 FROM case_privacy p WHERE p.case_id = m.case_id AND "
    "  p.state = 'erased')) "
    "OR EXISTS (SELECT 1 FROM messages WHERE mail_blob = $1)";

}  // namespace

Result<CasePrivacy> select_privacy(Connection& db, std::int64_t case_id) {
  auto rows = db.query(
      "SELECT legal_hold, hold_by, hold_at, state, restricted_at, erased_at, erasure_id FROM case_privacy "
      "WHERE case_id = $1",
      Params().add(case_id));
  if (!rows) return rows.error();
  CasePrivacy p;
  if (rows->empty()) return p;
  p.legal_hold = rows->text(0, 0);
  p.hold_by = rows->text(0, 1);
  p.hold_at = time_or_null(*rows, 0, 2);
  p.state = parse_PrivacyState(rows->text(0, 3)).value_or(PrivacyState::kOpen);
  p.restricted_at = time_or_null(*rows, 0, 4);
  p.erased_at = time_or_null(*rows, 0, 5);
  p.erasure_id = rows->integer(0, 6);
  return p;
}

Result<CaseRewrite> PersonalRecords::rewrite_case(const std::string& reference,
                                                  const PersonalDataStore::RewritePlan& plan) {
  return pool_.with([&](Connection& db) -> Result<CaseRewrite> {
    auto transaction = Transaction::begin(db);
    if (!transaction) return transaction.error();
    auto stored = load_stored(db, reference);
    if (!stored) return stored.error();
    auto rewrite = plan(*stored);
    if (!rewrite) return rewrite.error();  // the transaction rolls back: nothing written
    if (auto s = write_rewrite(db, *stored, *rewrite); !s) return s.error();
    if (auto s = transaction->commit(); !s) return s.error();
    return rewrite;
  });
}

Result<CasePrivacy> PersonalRecords::case_privacy(const std::string& reference) {
  return pool_.with([&](Connection& db) -> Result<CasePrivacy> {
    auto id = db.query("SELECT id FROM cases WHERE reference = $1", Params().add(reference));
    if (!id) return id.error();
    if (id->empty()) return Error::not_found("no case " + reference);
    return select_privacy(db, id->integer(0, 0));
  });
}

Result<std::vector<PrivacyCandidate>> PersonalRecords::candidates(const std::string& where, const Params& params) {
  return pool_.with([&](Connection& db) -> Result<std::vector<PrivacyCandidate>> {
    auto rows = db.query(
        "SELECT c.reference, c.workflow, c.client_email, c.received_at, c.ended_at, coalesce(p.legal_hold, ''), "
        "coalesce(p.hold_by, ''), p.hold_at, coalesce(p.state, 'open'), p.restricted_at, p.erased_at, p.erasure_id "
        "FROM cases c LEFT JOIN case_privacy p ON p.case_id = c.id WHERE coalesce(p.state, 'open') <> 'erased' AND (" +
            where + ") ORDER BY c.id",
        params);
    if (!rows) return rows.error();
    std::vector<PrivacyCandidate> out;
    for (int i = 0; i < rows->size(); ++i) out.push_back(read_candidate(*rows, i));
    return out;
  });
}

Result<std::vector<PrivacyCandidate>> PersonalRecords::cases_of_client(const std::string& email) {
  return candidates("lower(c.client_email) = lower($1)", Params().add(email));
}

Result<std::vector<PrivacyCandidate>> PersonalRecords::retention_candidates() {
  return candidates("c.ended_at IS NOT NULL OR p.state = 'restricted'", Params());
}

Result<std::vector<PrivacyCandidate>> PersonalRecords::unerased_cases() { return candidates("true", Params()); }

Result<std::int64_t> PersonalRecords::start_erasure(const ErasureRecord& record) {
  return pool_.with([&](Connection& db) -> Result<std::int64_t> {
    auto rows = db.query(
        "INSERT INTO erasures(email_salt, email_hash, reason, actor, source, requested_at) "
        "VALUES ($1,$2,$3,$4,$5,$6) RETURNING id",
        Params()
            .add(record.email_salt)
            .add(record.email_hash)
            .add(record.reason)
            .add(record.actor)
            .add(record.source)
            .add(to_micros(record.requested_at)));
    if (!rows) return rows.error();
    return rows->integer(0, 0);
  });
}

Status PersonalRecords::finish_erasure(std::int64_t id, std::int64_t erased, std::int64_t restricted, Time at) {
  return pool_.with([&](Connection& db) -> Status {
    auto done = db.query(
        "UPDATE erasures SET finished_at = $2, cases_erased = cases_erased + $3, "
        "cases_restricted = cases_restricted + $4 WHERE id = $1",
        Params().add(id).add(to_micros(at)).add(erased).add(restricted));
    if (!done) return done.error();
    return Status::success();
  });
}

Result<std::vector<ErasureRecord>> PersonalRecords::erasures() {
  return pool_.with([&](Connection& db) -> Result<std::vector<ErasureRecord>> {
    auto rows = db.query(
        "SELECT id, email_salt, email_hash, reason, actor, source, requested_at, finished_at, cases_erased, "
        "cases_restricted FROM erasures ORDER BY id");
    if (!rows) return rows.error();
    std::vector<ErasureRecord> out;
    for (int i = 0; i < rows->size(); ++i)
      out.push_back(ErasureRecord{rows->integer(i, 0), rows->text(i, 1), rows->text(i, 2), rows->text(i, 3),
                                  rows->text(i, 4), rows->text(i, 5), from_micros(rows->integer(i, 6)),
                                  time_or_null(*rows, i, 7), rows->integer(i, 8), rows->integer(i, 9)});
    return out;
  });
}

Result<PurgeReport> PersonalRecords::purge_erased() {
  return pool_.with([&](Connection& db) -> Result<PurgeReport> {
    PurgeReport report;
    auto keys = db.query("SELECT blob_key FROM erasure_blobs ORDER BY blob_key");
    if (!keys) return keys.error();
    for (int i = 0; i < keys->size(); ++i) {
      const std::string key = keys->text(i, 0);
      auto transaction = Transaction::begin(db);
      if (!transaction) return transaction.error();
      auto needed = db.query(kBlobStillNeeded, Params().add(key));
      if (!needed) return needed.error();
      if (needed->boolean(0, 0)) {
        ++report.blobs_kept;
      } else {
        auto deleted = db.query("DELETE FROM blobs WHERE key = $1 RETURNING key", Params().add(key));
        if (!deleted) return deleted.error();
        report.blobs_deleted += deleted->size();
      }
      if (auto s = db.query("DELETE FROM erasure_blobs WHERE blob_key = $1", Params().add(key)); !s) return s.error();
      if (auto s = transaction->commit(); !s) return s.error();
    }
    report.copies_left = ErasedCopies::kUntilCompacted;  // PostgreSQL's old row versions and WAL
    return report;
  });
}

Result<bool> PersonalRecords::claim_retention_run(const std::string& day, const std::string& holder, Time now) {
  return pool_.with([&](Connection& db) -> Result<bool> {
    auto rows = db.query(
        "INSERT INTO retention_runs(day, holder, started_at) VALUES ($1, $2, $3) ON CONFLICT (day) DO NOTHING "
        "RETURNING day",
        Params().add(day).add(holder).add(to_micros(now)));
    if (!rows) return rows.error();
    return !rows->empty();
  });
}

Status PersonalRecords::finish_retention_run(const std::string& day, const std::string& report, Time now) {
  return pool_.with([&](Connection& db) -> Status {
    auto done = db.query("UPDATE retention_runs SET finished_at = $2, report = $3 WHERE day = $1",
                         Params().add(day).add(to_micros(now)).add(report));
    if (!done) return done.error();
    return Status::success();
  });
}

}  // namespace redress::postgres
