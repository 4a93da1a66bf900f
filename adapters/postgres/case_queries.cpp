#include "adapters/postgres/case_queries.h"

#include <algorithm>

#include "adapters/postgres/personal_records.h"
#include "adapters/postgres/rows.h"
#include "adapters/sqlite/rows.h"  // encode_cursor, decode_cursor: one cursor format for both stores

namespace redress::postgres {

namespace {

Result<std::int64_t> case_id_of(Connection& db, const std::string& reference) {
  auto rows = db.query("SELECT id FROM cases WHERE reference = $1", Params().add(reference));
  if (!rows) return rows.error();
  if (rows->empty()) return Error::not_found("no case " + reference);
  return rows->integer(0, 0);
}

Result<std::string> one_text(Connection& db, const char* sql, Params params, const std::string& missing) {
  auto rows = db.query(sql, params);
  if (!rows) return rows.error();
  if (rows->empty()) return Error::not_found(missing);
  return rows->text(0, 0);
}

}  // namespace

Result<CaseSnapshot> CaseQueries::load_case(const std::string& reference) {
  return pool_.with([&](Connection& db) -> Result<CaseSnapshot> {
    auto transaction = Transaction::begin(db, Isolation::kRepeatableRead);  // one snapshot for the four reads
    if (!transaction) return transaction.error();
    return load_snapshot(db, reference, RowLock::kNone);
  });
}

Result<std::vector<Event>> CaseQueries::case_events(const std::string& reference) {
  return pool_.with([&](Connection& db) -> Result<std::vector<Event>> {
    auto id = case_id_of(db, reference);
    if (!id) return id.error();
    return select_events(db, *id);
  });
}

Result<std::vector<Message>> CaseQueries::case_messages(const std::string& reference) {
  return pool_.with([&](Connection& db) -> Result<std::vector<Message>> {
    auto id = case_id_of(db, reference);
    if (!id) return id.error();
    return select_messages(db, *id);
  });
}

Result<CaseView> CaseQueries::load_case_view(const std::string& reference) {
  return pool_.with([&](Connection& db) -> Result<CaseView> {
    auto transaction = Transaction::begin(db, Isolation::kRepeatableRead);
    if (!transaction) return transaction.error();
    auto snapshot = load_snapshot(db, reference, RowLock::kNone);
    if (!snapshot) return snapshot.error();
    CaseView view;
    view.snapshot = std::move(snapshot).value();
    const Case& c = view.snapshot.record;
    auto messages = select_messages(db, c.id);
    if (!messages) return messages.error();
    view.messages = std::move(messages).value();
    if (!c.owner_id.empty()) {
      auto owner = select_staff(db, c.owner_id);
      if (!owner) return owner.error();
      view.owner = std::move(owner).value();
    }
    auto nonce =
        db.query("SELECT nonce FROM client_links WHERE case_id = $1 AND revoked_at IS NULL ORDER BY id DESC LIMIT 1",
                 Params().add(c.id));
    if (!nonce) return nonce.error();
    if (!nonce->empty()) view.client_link_nonce = nonce->text(0, 0);
    auto privacy = select_privacy(db, c.id);
    if (!privacy) return privacy.error();
    view.privacy = std::move(privacy).value();
    return view;
  });
}

Result<CaseViewStamp> CaseQueries::case_view_stamp(const std::string& reference) {
  return pool_.with([&](Connection& db) -> Result<CaseViewStamp> {
    auto rows = db.query(
        "SELECT c.version, coalesce((SELECT name FROM staff WHERE id = c.owner_id), ''), "
        "coalesce((SELECT nonce FROM client_links WHERE case_id = c.id AND revoked_at IS NULL "
        "ORDER BY id DESC LIMIT 1), ''), coalesce((SELECT state FROM case_privacy WHERE case_id = c.id), 'open') "
        "FROM cases c WHERE c.reference = $1",
        Params().add(reference));
    if (!rows) return rows.error();
    if (rows->empty()) return Error::not_found("no case " + reference);
    return CaseViewStamp{rows->integer(0, 0), rows->text(0, 1), rows->text(0, 2),
                         parse_PrivacyState(rows->text(0, 3)).value_or(PrivacyState::kOpen)};
  });
}

Result<CasePage> CaseQueries::list_cases(const CaseFilter& filter, const std::string& cursor, int limit) {
  return pool_.with([&](Connection& db) { return select_case_page(db, filter, "", cursor, limit, clock_.now()); });
}

Result<CasePage> CaseQueries::search_cases(const std::string& text, const CaseFilter& filter, const std::string& cursor,
                                           int limit) {
  if (text.empty()) return Error::invalid_field("q", "must not be empty");
  return pool_.with([&](Connection& db) { return select_case_page(db, filter, text, cursor, limit, clock_.now()); });
}

Result<AuditReport> CaseQueries::verify_chains() {
  return pool_.with([&](Connection& db) { return audit_chains(db); });
}

Result<std::string> CaseQueries::commitment_case(std::int64_t commitment_id) {
  return pool_.with([&](Connection& db) {
    return one_text(db, "SELECT c.reference FROM commitments k JOIN cases c ON c.id = k.case_id WHERE k.id = $1",
                    Params().add(commitment_id), "no commitment " + std::to_string(commitment_id));
  });
}

Result<std::string> CaseQueries::redress_case(std::int64_t redress_id) {
  return pool_.with([&](Connection& db) {
    return one_text(db, "SELECT c.reference FROM redress r JOIN cases c ON c.id = r.case_id WHERE r.id = $1",
                    Params().add(redress_id), "no redress " + std::to_string(redress_id));
  });
}

Result<std::vector<std::pair<std::string, std::int64_t>>> CaseQueries::count_cases_by_status() {
  return pool_.with([&](Connection& db) -> Result<std::vector<std::pair<std::string, std::int64_t>>> {
    auto rows = db.query("SELECT status, count(*) FROM cases GROUP BY status ORDER BY status");
    if (!rows) return rows.error();
    std::vector<std::pair<std::string, std::int64_t>> counts;
    for (int i = 0; i < rows->size(); ++i) counts.emplace_back(rows->text(i, 0), rows->integer(i, 1));
    return counts;
  });
}

Result<std::int64_t> CaseQueries::count_open_commitments() {
  return pool_.with([&](Connection& db) -> Result<std::int64_t> {
    auto rows = db.query("SELECT count(*) FROM commitments WHERE status = 'open'");
    if (!rows) return rows.error();
    return rows->integer(0, 0);
  });
}

Result<std::vector<TagCount>> CaseQueries::count_cases_by_tag() {
  return pool_.with([&](Connection& db) -> Result<std::vector<TagCount>> {
    auto rows = db.query(
        "SELECT t.tag, count(*), count(*) FILTER (WHERE c.status IN ('received','acknowledged','investigating',"
        "'awaiting_client','redress_proposed')) FROM case_tags t JOIN cases c ON c.id = t.case_id GROUP BY t.tag "
        "ORDER BY count(*) DESC, t.tag");
    if (!rows) return rows.error();
    std::vector<TagCount> counts;
    for (int i = 0; i < rows->size(); ++i)
      counts.push_back(TagCount{rows->text(i, 0), rows->integer(i, 1), rows->integer(i, 2)});
    return counts;
  });
}

Result<CaseSnapshot> CaseQueries::load_case_by_client_link(const std::string& token_hash) {
  return pool_.with([&](Connection& db) -> Result<CaseSnapshot> {
    auto transaction = Transaction::begin(db, Isolation::kRepeatableRead);
    if (!transaction) return transaction.error();
    auto reference = one_text(db,
                              "SELECT c.reference FROM client_links l JOIN cases c ON c.id = l.case_id "
                              "WHERE l.token_hash = $1 AND l.revoked_at IS NULL",
                              Params().add(token_hash), "unknown or revoked link");
    if (!reference) return reference.error();
    return load_snapshot(db, *reference, RowLock::kNone);
  });
}

Result<std::string> CaseQueries::client_link_nonce(const std::string& reference) {
  return pool_.with([&](Connection& db) {
    return one_text(db,
                    "SELECT l.nonce FROM client_links l JOIN cases c ON c.id = l.case_id "
                    "WHERE c.reference = $1 AND l.revoked_at IS NULL ORDER BY l.id DESC LIMIT 1",
                    Params().add(reference), "case " + reference + " has no live client link");
  });
}

Status CaseQueries::replace_client_link(const std::string& reference, const std::string& nonce,
                                        const std::string& token_hash) {
  const Time now = clock_.now();
  return pool_.with([&](Connection& db) -> Status {
    auto transaction = Transaction::begin(db);
    if (!transaction) return transaction.error();
    // The case row's lock: two replacements of one case's link take turns, so one link stays live.
    auto id = db.query("SELECT id FROM cases WHERE reference = $1 FOR UPDATE", Params().add(reference));
    if (!id) return id.error();
    if (id->empty()) return Error::not_found("no case " + reference);
    const std::int64_t case_id = id->integer(0, 0);
    auto revoked = db.query("UPDATE client_links SET revoked_at = $2 WHERE case_id = $1 AND revoked_at IS NULL",
                            Params().add(case_id).add(to_micros(now)));
    if (!revoked) return revoked.error();
    if (!nonce.empty()) {
      auto added = db.query("INSERT INTO client_links(case_id, nonce, token_hash, created_at) VALUES ($1,$2,$3,$4)",
                            Params().add(case_id).add(nonce).add(token_hash).add(to_micros(now)));
      if (!added) return added.error();
    }
    return transaction->commit();
  });
}

Result<CommitmentPage> CaseQueries::list_commitments(const CommitmentFilter& filter, const std::string& cursor,
                                                     int limit) {
  std::optional<std::int64_t> after;
  if (!cursor.empty()) {
    after = sqlite::decode_cursor(cursor);
    if (!after) return Error::invalid_field("cursor", "is not a cursor this server issued");
  }
  limit = std::clamp(limit, 1, 200);
  // Pages go by id, newest first, like cases: soonest due first would shift under inserts.
  static const std::string kSelect = [] {
    std::string columns = std::string("k.") + kCommitmentColumns;
    for (std::size_t at = 0; (at = columns.find(", ", at)) != std::string::npos; at += 4)
      columns.replace(at, 2, ", k.");
    return "SELECT " + columns + ", c.reference FROM commitments k JOIN cases c ON c.id = k.case_id WHERE true";
  }();
  std::string sql = kSelect;
  Params params;
  int n = 0;
  auto next = [&n] { return "$" + std::to_string(++n); };
  if (after) params.add(*after), sql += " AND k.id < " + next();
  if (filter.status) params.add(std::string(to_string(*filter.status))), sql += " AND k.status = " + next();
  if (!filter.owner_id.empty()) params.add(filter.owner_id), sql += " AND k.owner_id = " + next();
  if (filter.kind) params.add(std::string(to_string(*filter.kind))), sql += " AND k.kind = " + next();
  if (filter.due_before) params.add(to_micros(*filter.due_before)), sql += " AND k.due_at < " + next();
  if (!filter.case_reference.empty()) params.add(filter.case_reference), sql += " AND c.reference = " + next();
  sql += " ORDER BY k.id DESC LIMIT " + std::to_string(limit + 1);
  return pool_.with([&](Connection& db) -> Result<CommitmentPage> {
    auto rows = db.query(sql, params);
    if (!rows) return rows.error();
    CommitmentPage page;
    for (int i = 0; i < rows->size(); ++i)
      page.items.emplace_back(read_commitment(*rows, i), rows->text(i, kCommitmentColumnCount));
    if (static_cast<int>(page.items.size()) > limit) {
      page.items.pop_back();
      page.next_cursor = sqlite::encode_cursor(page.items.back().first.id);
    }
    return page;
  });
}

}  // namespace redress::postgres
