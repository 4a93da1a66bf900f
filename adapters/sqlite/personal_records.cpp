#include "adapters/sqlite/personal_records.h"

#include <chrono>
#include <optional>
#include <set>
#include <thread>

#include "adapters/sqlite/rows.h"
#include "engine/sealing.h"

namespace redress::sqlite {

namespace {

std::optional<Time> time_at(const Statement& s, int column) {
  if (s.is_null(column)) return std::nullopt;
  return from_micros(s.integer(column));
}

Statement& bind_time(Statement& s, int index, const std::optional<Time>& t) {
  if (t) return s.bind(index, to_micros(*t));
  return s.bind_null(index);
}

Result<std::int64_t> case_id_of(Connection& db, const std::string& reference) {
  auto& find = db.cached("SELECT id FROM cases WHERE reference = ?1");
  find.bind(1, reference);
  if (!find.step()) return find.status().ok() ? Error::not_found("no case " + reference) : find.status().error();
  std::int64_t id = find.integer(0);
  find.reset();
  return id;
}

Result<StoredCase> load_stored(Connection& db, const std::string& reference) {
  auto snapshot = load_snapshot(db, reference);
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

Status write_privacy(Connection& db, std::int64_t case_id, const CasePrivacy& p) {
  auto& upsert = db.cached(
      "INSERT INTO case_privacy(case_id, legal_hold, hold_by, hold_at, state, restricted_at, erased_at, erasure_id) "
      "VALUES (?1,?2,?3,?4,?5,?6,?7,?8) ON CONFLICT(case_id) DO UPDATE SET legal_hold = excluded.legal_hold, "
      "hold_by = excluded.hold_by, hold_at = excluded.hold_at, state = excluded.state, "
      "restricted_at = excluded.restricted_at, erased_at = excluded.erased_at, erasure_id = excluded.erasure_id");
  upsert.bind(1, case_id).bind(2, p.legal_hold).bind(3, p.hold_by);
  bind_time(upsert, 4, p.hold_at).bind(5, std::string(to_string(p.state)));
  bind_time(upsert, 6, p.restricted_at);
  bind_time(upsert, 7, p.erased_at);
  if (p.erasure_id > 0)
    upsert.bind(8, p.erasure_id);
  else
    upsert.bind_null(8);
  return upsert.run();
}

Status insert_event(Connection& db, const Event& e) {
  auto& insert =
      db.cached("INSERT INTO events(case_id, seq, type, at, actor, data, hash, seals) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)");
  insert.bind(1, e.case_id).bind(2, e.seq).bind(3, e.type).bind(4, to_micros(e.at)).bind(5, e.actor).bind(6, e.data);
  insert.bind(7, e.hash);
  if (e.hash_rule == HashRule::kSealed)
    insert.bind(8, e.seals);
  else
    insert.bind_null(8);
  return insert.run();
}

// The blobs of the case's inbound mail records (and of those from the client's address that name
// no case), which the erasure blanks.
Status erase_mail_records(Connection& db, const Case& before, std::set<std::string>& released) {
  const char* kWhich =
      "(case_reference = ?1 OR (case_reference = '' AND ?2 <> '' AND from_address = ?2 COLLATE NOCASE))";
  auto keys = db.prepare(std::string("SELECT blob_key FROM inbound_mail WHERE ") + kWhich);
  if (!keys) return keys.error();
  keys->bind(1, before.reference).bind(2, before.client.email);
  while (keys->step()) released.insert(keys->text(0));
  if (!keys->status()) return keys->status();
  auto blank = db.prepare(std::string("UPDATE inbound_mail SET from_address = '', subject = '', message_id = '', "
                                      "detail = '', bounced_address = '' WHERE ") +
                          kWhich);
  if (!blank) return blank.error();
  return blank->bind(1, before.reference).bind(2, before.client.email).run();
}

Status write_rewrite(Connection& db, const StoredCase& stored, const CaseRewrite& rewrite) {
  const Case& before = stored.snapshot.record;
  const std::int64_t id = before.id;
  auto updated = update_case(db, before, rewrite.after, rewrite.expected_version);
  if (!updated) return updated.error();
  if (*updated != 1)
    return Error::stale("case " + before.reference + " changed since version " +
                        std::to_string(rewrite.expected_version));
  auto& replace = db.cached("UPDATE events SET data = ?3, hash = ?4, seals = ?5 WHERE case_id = ?1 AND seq = ?2");
  for (const Event& e : rewrite.replaced) {
    replace.bind(1, id).bind(2, e.seq).bind(3, e.data).bind(4, e.hash);
    if (e.hash_rule == HashRule::kSealed)
      replace.bind(5, e.seals);
    else
      replace.bind_null(5);
    if (auto s = replace.run(); !s) return s;
  }
  for (const Event& e : rewrite.appended)
    if (auto s = insert_event(db, e); !s) return s;
  auto& message = db.cached(
      "UPDATE messages SET body = ?2, author = ?3, original = ?4, mail_blob = ?5 WHERE id = ?1 AND case_id = ?6");
  auto& file = db.cached("UPDATE message_attachments SET filename = ?3 WHERE message_id = ?1 AND position = ?2");
  for (const Message& m : rewrite.messages) {
    if (auto s = message.bind(1, m.id).bind(2, m.body).bind(3, m.author).bind(4, m.original).bind(5, m.mail_blob)
                     .bind(6, id)
                     .run();
        !s)
      return s;
    for (std::size_t i = 0; i < m.attachments.size(); ++i)
      if (auto s = file.bind(1, m.id).bind(2, static_cast<std::int64_t>(i)).bind(3, m.attachments[i].filename).run(); !s)
        return s;
  }
  auto& commitment = db.cached(
      "UPDATE commitments SET text = ?2, note = ?3, handled_note = ?4, exemption = ?5 WHERE id = ?1 AND case_id = ?6");
  for (const Commitment& c : rewrite.commitments)
    if (auto s = commitment.bind(1, c.id).bind(2, c.text).bind(3, c.note).bind(4, c.handled_note).bind(5, c.exemption)
                     .bind(6, id)
                     .run();
        !s)
      return s;
  auto& redress = db.cached("UPDATE redress SET text = ?2 WHERE id = ?1 AND case_id = ?3");
  for (const Redress& r : rewrite.redress)
    if (auto s = redress.bind(1, r.id).bind(2, r.text).bind(3, id).run(); !s) return s;
  if (auto s = write_privacy(db, id, rewrite.privacy); !s) return s;

  std::set<std::string> released(rewrite.released_blobs.begin(), rewrite.released_blobs.end());
  if (rewrite.scope == RewriteScope::kWholeCase) {
    // The mail and hooks sent about the case: no payload, no address; those not sent never will be.
    if (auto s = db.cached("UPDATE notification_attempts SET detail = '' WHERE notification_id IN "
                           "(SELECT id FROM notifications WHERE case_id = ?1)")
                     .bind(1, id)
                     .run();
        !s)
      return s;
    if (auto s = db.cached("UPDATE notifications SET recipient = '', recipient_name = '', payload = NULL, "
                           "last_error = NULL, status = CASE WHEN status IN ('pending','dead') THEN 'erased' "
                           "ELSE status END, lease_holder = NULL, lease_until = NULL WHERE case_id = ?1")
                     .bind(1, id)
                     .run();
        !s)
      return s;
    if (auto s = erase_mail_records(db, before, released); !s) return s;
    if (auto s = db.cached("DELETE FROM client_links WHERE case_id = ?1").bind(1, id).run(); !s) return s;
  }
  auto& scrub = db.cached(
      "UPDATE notifications SET payload = replace(payload, ?2, '[redacted]') WHERE case_id = ?1 AND "
      "instr(payload, ?2) > 0");
  for (const std::string& text : rewrite.scrub)
    if (text.size() >= 4)  // shorter texts would mangle the rest of the mail
      if (auto s = scrub.bind(1, id).bind(2, text).run(); !s) return s;
  auto& pending = db.cached("INSERT INTO erasure_blobs(blob_key) VALUES (?1) ON CONFLICT DO NOTHING");
  for (const std::string& key : released)
    if (!key.empty())
      if (auto s = pending.bind(1, key).run(); !s) return s;
  return Status::success();
}

PrivacyCandidate read_candidate(const Statement& s) {
  PrivacyCandidate c;
  c.reference = s.text(0);
  c.workflow = s.text(1);
  c.client_email = s.text(2);
  c.received_at = from_micros(s.integer(3));
  c.ended_at = time_at(s, 4);
  c.privacy.legal_hold = s.text(5);
  c.privacy.hold_by = s.text(6);
  c.privacy.hold_at = time_at(s, 7);
  c.privacy.state = parse_PrivacyState(s.text(8)).value_or(PrivacyState::kOpen);
  c.privacy.restricted_at = time_at(s, 9);
  c.privacy.erased_at = time_at(s, 10);
  c.privacy.erasure_id = s.is_null(11) ? 0 : s.integer(11);
  return c;
}

// Whether a case that is not erased still refers to the blob: a file on one of its messages, or the
// raw mail of one. (An inbound mail record keeps the raw message's key to refuse the same message
// twice, but is no reason to keep a raw message an erasure or redaction released.)
constexpr const char* kBlobStillNeeded =
    "SELECT EXISTS (SELECT 1 FROM message_attachments a JOIN messages m ON m.id = a.message_id "
    "  WHERE a.blob_key = ?1 AND NOT EXISTS (SELECT 1 FROM case_privacy p WHERE p.case_id = m.case_id AND "
    "  p.state = 'erased')) "
    "OR EXISTS (SELECT 1 FROM messages WHERE mail_blob = ?1)";

}  // namespace

Result<CasePrivacy> select_privacy(Connection& db, std::int64_t case_id) {
  auto& select = db.cached(
      "SELECT legal_hold, hold_by, hold_at, state, restricted_at, erased_at, erasure_id FROM case_privacy "
      "WHERE case_id = ?1");
  select.bind(1, case_id);
  CasePrivacy p;
  if (select.step()) {
    p.legal_hold = select.text(0);
    p.hold_by = select.text(1);
    p.hold_at = time_at(select, 2);
    p.state = parse_PrivacyState(select.text(3)).value_or(PrivacyState::kOpen);
    p.restricted_at = time_at(select, 4);
    p.erased_at = time_at(select, 5);
    p.erasure_id = select.is_null(6) ? 0 : select.integer(6);
  }
  Status status = select.status();
  select.reset();
  if (!status) return status.error();
  return p;
}

Result<CaseRewrite> PersonalRecords::rewrite_case(const std::string& reference,
                                                  const PersonalDataStore::RewritePlan& plan) {
  std::optional<Result<CaseRewrite>> outcome;
  Status written = store_.writer.run_write(
      [&](Connection& db) -> Status {
        auto stored = load_stored(db, reference);
        if (!stored) {
          outcome = stored.error();
          return Status::success();  // nothing written
        }
        auto rewrite = plan(*stored);
        if (!rewrite) {
          outcome = rewrite.error();
          return Status::success();
        }
        if (auto s = write_rewrite(db, *stored, *rewrite); !s) return s;
        outcome = std::move(rewrite);
        return Status::success();
      },
      WriteScope::kMayTouchCases);
  if (!written) return written.error();
  if (!outcome) return Error::internal("the rewrite of " + reference + " did not run");
  return std::move(*outcome);
}

Result<CasePrivacy> PersonalRecords::case_privacy(const std::string& reference) {
  return store_.readers.read([&](Connection& db) -> Result<CasePrivacy> {
    auto id = case_id_of(db, reference);
    if (!id) return id.error();
    return select_privacy(db, *id);
  });
}

Result<std::vector<PrivacyCandidate>> PersonalRecords::candidates(const std::string& where, const std::string& bound) {
  return store_.readers.read([&](Connection& db) -> Result<std::vector<PrivacyCandidate>> {
    auto select = db.prepare(
        "SELECT c.reference, c.workflow, c.client_email, c.received_at, c.ended_at, coalesce(p.legal_hold, ''), "
        "coalesce(p.hold_by, ''), p.hold_at, coalesce(p.state, 'open'), p.restricted_at, p.erased_at, p.erasure_id "
        "FROM cases c LEFT JOIN case_privacy p ON p.case_id = c.id WHERE coalesce(p.state, 'open') <> 'erased' AND (" +
        where + ") ORDER BY c.id");
    if (!select) return select.error();
    if (!bound.empty()) select->bind(1, bound);
    std::vector<PrivacyCandidate> out;
    while (select->step()) out.push_back(read_candidate(*select));
    if (!select->status()) return select->status().error();
    return out;
  });
}

Result<std::vector<PrivacyCandidate>> PersonalRecords::cases_of_client(const std::string& email) {
  return candidates("c.client_email = ?1 COLLATE NOCASE", email);
}

Result<std::vector<PrivacyCandidate>> PersonalRecords::retention_candidates() {
  return candidates("c.ended_at IS NOT NULL OR p.state = 'restricted'", "");
}

Result<std::vector<PrivacyCandidate>> PersonalRecords::unerased_cases() { return candidates("true", ""); }

Result<std::int64_t> PersonalRecords::start_erasure(const ErasureRecord& record) {
  std::int64_t id = 0;
  Status s = store_.writer.run_write(
      [&](Connection& db) -> Status {
        auto& insert = db.cached(
            "INSERT INTO erasures(email_salt, email_hash, reason, actor, source, requested_at) "
            "VALUES (?1,?2,?3,?4,?5,?6) RETURNING id");
        insert.bind(1, record.email_salt)
            .bind(2, record.email_hash)
            .bind(3, record.reason)
            .bind(4, record.actor)
            .bind(5, record.source)
            .bind(6, to_micros(record.requested_at));
        if (!insert.step()) return insert.status().ok() ? Status(Error::internal("no erasure id")) : insert.status();
        id = insert.integer(0);
        insert.reset();
        return Status::success();
      },
      WriteScope::kNoCaseRows);
  if (!s) return s.error();
  return id;
}

Status PersonalRecords::finish_erasure(std::int64_t id, std::int64_t erased, std::int64_t restricted, Time at) {
  return store_.writer.run_write(
      [&](Connection& db) {
        return db
            .cached("UPDATE erasures SET finished_at = ?2, cases_erased = cases_erased + ?3, "
                    "cases_restricted = cases_restricted + ?4 WHERE id = ?1")
            .bind(1, id)
            .bind(2, to_micros(at))
            .bind(3, erased)
            .bind(4, restricted)
            .run();
      },
      WriteScope::kNoCaseRows);
}

Result<std::vector<ErasureRecord>> PersonalRecords::erasures() {
  return store_.readers.read([&](Connection& db) -> Result<std::vector<ErasureRecord>> {
    auto& select = db.cached(
        "SELECT id, email_salt, email_hash, reason, actor, source, requested_at, finished_at, cases_erased, "
        "cases_restricted FROM erasures ORDER BY id");
    std::vector<ErasureRecord> out;
    while (select.step())
      out.push_back(ErasureRecord{select.integer(0), select.text(1), select.text(2), select.text(3), select.text(4),
                                  select.text(5), from_micros(select.integer(6)), time_at(select, 7), select.integer(8),
                                  select.integer(9)});
    Status status = select.status();
    select.reset();
    if (!status) return status.error();
    return out;
  });
}

Result<PurgeReport> PersonalRecords::purge_erased() {
  std::lock_guard lock(purge_mutex_);
  PurgeReport report;
  // 1. The blobs erased cases released: deleted from the blob file unless a case that is not
  //    erased still refers to them, then struck from the list (a crash in between deletes again).
  auto pending = store_.readers.read([&](Connection& db) -> Result<std::vector<std::pair<std::string, bool>>> {
    auto& list = db.cached("SELECT blob_key FROM erasure_blobs ORDER BY blob_key");
    std::vector<std::pair<std::string, bool>> keys;
    while (list.step()) keys.emplace_back(list.text(0), false);
    Status status = list.status();
    list.reset();
    if (!status) return status.error();
    auto& needed = db.cached(kBlobStillNeeded);
    for (auto& [key, keep] : keys) {
      needed.bind(1, key);
      keep = needed.step() && needed.integer(0) != 0;
      Status s = needed.status();
      needed.reset();
      if (!s) return s.error();
    }
    return keys;
  });
  if (!pending) return pending.error();
  std::vector<std::string> unneeded;
  for (const auto& [key, keep] : *pending) {
    if (keep)
      ++report.blobs_kept;
    else
      unneeded.push_back(key);
  }
  auto deleted = blobs_.delete_blobs(unneeded);
  if (!deleted) return deleted.error();
  report.blobs_deleted = *deleted;
  if (!pending->empty()) {
    Status struck = store_.writer.run_write(
        [&](Connection& db) -> Status {
          auto& strike = db.cached("DELETE FROM erasure_blobs WHERE blob_key = ?1");
          for (const auto& entry : *pending)
            if (auto s = strike.bind(1, entry.first).run(); !s) return s;
          return Status::success();
        },
        WriteScope::kNoCaseRows);
    if (!struck) return struck.error();
  }
  if (auto s = blobs_.truncate_wal(); !s) return s.error();
  // 2. The search index: the erased cases' new text in, the old text out of every segment.
  if (auto s = search_.purge_deleted(); !s) return s.error();
  // 3. The store's WAL: every frame copied back and the file cut to nothing, so that no page as it
  //    was before the erasure remains in it. Readers' idle snapshots end first; a busy one delays it.
  Connection checkpoint(database_path_, OpenMode::kReadWrite);
  // A connection knows the database is in WAL mode only once it has read it: until then a
  // checkpoint answers OK having done nothing (-1 frames).
  if (auto s = checkpoint.exec("PRAGMA busy_timeout = 10000; PRAGMA secure_delete = ON; PRAGMA journal_mode = WAL;");
      !s)
    return s.error();
  report.copies_left = ErasedCopies::kWalUntilIdle;
  for (int attempt = 0; attempt < 20; ++attempt) {
    store_.readers.end_idle_snapshots();
    int log = 0, done = 0;
    int rc = sqlite3_wal_checkpoint_v2(checkpoint.handle(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, &log, &done);
    if (rc == SQLITE_OK && log < 0) return Error::internal("the database is not in WAL mode: nothing was truncated");
    if (rc == SQLITE_OK) {
      report.copies_left = ErasedCopies::kNone;
      break;
    }
    if (rc != SQLITE_BUSY) return checkpoint.last_error("truncating the WAL after an erasure");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return report;
}

Result<CompactionReport> PersonalRecords::compact(const CompactionProgress& progress) {
  // secure_delete zeroes a page's freed bytes as they are freed, in the database, the search index
  // and the blob file alike: what is left to do is what purge_erased does last, the WALs.
  const std::string name = "the WALs of the database, the search index and the files truncated";
  if (progress) progress(0, 1, name);
  const auto started = std::chrono::steady_clock::now();
  auto purged = purge_erased();
  if (!purged) return purged.error();
  CompactionStep step{name, StepOutcome::kDone, "",
                      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started)};
  if (purged->copies_left != ErasedCopies::kNone) {
    step.outcome = StepOutcome::kFailed;
    step.detail = "readers kept the WAL busy for 2 s; a running server truncates it when it is next idle";
  }
  return CompactionReport{{step}, {}};
}

Result<bool> PersonalRecords::claim_retention_run(const std::string& day, const std::string& holder, Time now) {
  bool taken = false;
  Status s = store_.writer.run_write(
      [&](Connection& db) -> Status {
        auto& claim = db.cached(
            "INSERT INTO retention_runs(day, holder, started_at) VALUES (?1, ?2, ?3) ON CONFLICT(day) DO NOTHING");
        if (auto r = claim.bind(1, day).bind(2, holder).bind(3, to_micros(now)).run(); !r) return r;
        taken = db.changes() == 1;
        return Status::success();
      },
      WriteScope::kNoCaseRows);
  if (!s) return s.error();
  return taken;
}

Status PersonalRecords::finish_retention_run(const std::string& day, const std::string& report, Time now) {
  return store_.writer.run_write(
      [&](Connection& db) {
        return db.cached("UPDATE retention_runs SET finished_at = ?2, report = ?3 WHERE day = ?1")
            .bind(1, day)
            .bind(2, to_micros(now))
            .bind(3, report)
            .run();
      },
      WriteScope::kNoCaseRows);
}

}  // namespace redress::sqlite
