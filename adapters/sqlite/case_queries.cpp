#include "adapters/sqlite/case_queries.h"

#include <algorithm>

#include "adapters/sqlite/personal_records.h"
#include "adapters/sqlite/rows.h"

namespace redress::sqlite {

namespace {

constexpr const char* kCommitmentColumns =
    "k.id, k.case_id, k.kind, k.text, k.due_at, k.owner_id, k.client_visible, k.status, k.created_at, k.settled_at, "
    "k.note, k.replaces_id, k.replaced_by_id, k.redress_id, k.pledge_key, k.warning_times, k.warnings_fired, "
    "k.handled_at, k.handled_note, k.rule_due_at, k.exemption";

constexpr int kCommitmentColumnCount = 21;

Result<std::string> reference_of(Connection& db, const char* sql, std::int64_t id, const std::string& what) {
  auto& find = db.cached(sql);
  find.bind(1, id);
  if (!find.step()) return find.status().ok() ? Error::not_found("no " + what) : find.status().error();
  std::string reference = find.text(0);
  find.reset();
  return reference;
}

}  // namespace

Result<CaseSnapshot> CaseQueries::load_case(const std::string& reference) {
  return store_.readers.read([&](Connection& db) { return load_snapshot(db, reference); });
}

Result<std::vector<Event>> CaseQueries::case_events(const std::string& reference) {
  return store_.readers.read([&](Connection& db) -> Result<std::vector<Event>> {
    auto& find = db.cached("SELECT id FROM cases WHERE reference = ?1");
    find.bind(1, reference);
    if (!find.step()) return find.status().ok() ? Error::not_found("no case " + reference) : find.status().error();
    std::int64_t id = find.integer(0);
    find.reset();
    return select_events(db, id);
  });
}

Result<std::vector<Message>> CaseQueries::case_messages(const std::string& reference) {
  return store_.readers.read([&](Connection& db) -> Result<std::vector<Message>> {
    auto& find = db.cached("SELECT id FROM cases WHERE reference = ?1");
    find.bind(1, reference);
    if (!find.step()) return find.status().ok() ? Error::not_found("no case " + reference) : find.status().error();
    std::int64_t id = find.integer(0);
    find.reset();
    return select_messages(db, id);
  });
}

Result<CaseView> CaseQueries::load_case_view(const std::string& reference) {
  return store_.readers.read([&](Connection& db) -> Result<CaseView> {
    // One read transaction for the five look-ups: one snapshot, one WAL read lock.
    if (auto s = db.cached("BEGIN").run(); !s) return s.error();
    struct End {
      Connection& db;
      ~End() { (void)db.cached("COMMIT").run(); }
    } end{db};
    auto snapshot = load_snapshot(db, reference);
    if (!snapshot) return snapshot.error();
    CaseView view;
    view.snapshot = std::move(snapshot).value();
    const Case& c = view.snapshot.record;
    if (auto messages = select_messages(db, c.id)) view.messages = std::move(messages).value();
    if (!c.owner_id.empty()) view.owner = select_staff(db, c.owner_id);
    auto& nonce =
        db.cached("SELECT nonce FROM client_links WHERE case_id = ?1 AND revoked_at IS NULL ORDER BY id DESC LIMIT 1");
    nonce.bind(1, c.id);
    if (nonce.step()) view.client_link_nonce = nonce.text(0);
    nonce.reset();
    auto privacy = select_privacy(db, c.id);
    if (!privacy) return privacy.error();
    view.privacy = std::move(privacy).value();
    return view;
  });
}

Result<CaseViewStamp> CaseQueries::case_view_stamp(const std::string& reference) {
  // The hottest read (each GET of a case answered from the view cache): a kept snapshot saves
  // beginning a read transaction when nothing has changed since the last one.
  return store_.readers.read_current([&](Connection& db) -> Result<CaseViewStamp> {
    // One statement, so one snapshot; each part is the same look-up load_case_view makes.
    auto& stamp = db.cached(
        "SELECT c.version, coalesce((SELECT name FROM staff WHERE id = c.owner_id), ''), "
        "coalesce((SELECT nonce FROM client_links WHERE case_id = c.id AND revoked_at IS NULL "
        "ORDER BY id DESC LIMIT 1), ''), coalesce((SELECT state FROM case_privacy WHERE case_id = c.id), 'open') "
        "FROM cases c WHERE c.reference = ?1");
    stamp.bind(1, reference);
    if (!stamp.step()) return stamp.status().ok() ? Error::not_found("no case " + reference) : stamp.status().error();
    CaseViewStamp result{stamp.integer(0), stamp.text(1), stamp.text(2),
                         parse_PrivacyState(stamp.text(3)).value_or(PrivacyState::kOpen)};
    stamp.reset();
    return result;
  });
}

Result<CasePage> CaseQueries::list_cases(const CaseFilter& filter, const std::string& cursor, int limit) {
  return store_.readers.read(
      [&](Connection& db) { return select_case_page(db, filter, "", cursor, limit, store_.clock.now()); });
}

Result<CasePage> CaseQueries::search_cases(const std::string& text, const CaseFilter& filter, const std::string& cursor,
                                           int limit) {
  if (text.empty()) return Error::invalid_field("q", "must not be empty");
  return store_.readers.read(
      [&](Connection& db) { return select_case_page(db, filter, text, cursor, limit, store_.clock.now()); });
}

Result<AuditReport> CaseQueries::verify_chains() {
  return store_.readers.read([&](Connection& db) { return audit_chains(db); });
}

Result<CaseSnapshot> CaseQueries::load_case_by_client_link(const std::string& token_hash) {
  return store_.readers.read([&](Connection& db) -> Result<CaseSnapshot> {
    auto& find = db.cached(
        "SELECT c.reference FROM client_links l JOIN cases c ON c.id = l.case_id "
        "WHERE l.token_hash = ?1 AND l.revoked_at IS NULL");
    find.bind(1, token_hash);
    if (!find.step()) return find.status().ok() ? Error::not_found("unknown or revoked link") : find.status().error();
    std::string reference = find.text(0);
    find.reset();
    return load_snapshot(db, reference);
  });
}

Result<std::string> CaseQueries::client_link_nonce(const std::string& reference) {
  return store_.readers.read([&](Connection& db) -> Result<std::string> {
    auto& find = db.cached(
        "SELECT l.nonce FROM client_links l JOIN cases c ON c.id = l.case_id "
        "WHERE c.reference = ?1 AND l.revoked_at IS NULL ORDER BY l.id DESC LIMIT 1");
    find.bind(1, reference);
    if (!find.step())
      return find.status().ok() ? Error::not_found("case " + reference + " has no live client link")
                                : find.status().error();
    std::string nonce = find.text(0);
    find.reset();
    return nonce;
  });
}

Status CaseQueries::replace_client_link(const std::string& reference, const std::string& nonce,
                                        const std::string& token_hash) {
  Time now = store_.clock.now();
  return store_.writer.run_write([&](Connection& db) -> Status {
    auto& find = db.cached("SELECT id FROM cases WHERE reference = ?1");
    find.bind(1, reference);
    if (!find.step()) return find.status().ok() ? Error::not_found("no case " + reference) : find.status().error();
    std::int64_t case_id = find.integer(0);
    find.reset();
    auto& revoke = db.cached("UPDATE client_links SET revoked_at = ?2 WHERE case_id = ?1 AND revoked_at IS NULL");
    revoke.bind(1, case_id).bind(2, to_micros(now));
    if (auto s = revoke.run(); !s) return s;
    if (nonce.empty()) return Status::success();
    auto& add = db.cached("INSERT INTO client_links(case_id, nonce, token_hash, created_at) VALUES (?1,?2,?3,?4)");
    add.bind(1, case_id).bind(2, nonce).bind(3, token_hash).bind(4, to_micros(now));
    return add.run();
  });
}

Result<CommitmentPage> CaseQueries::list_commitments(const CommitmentFilter& filter, const std::string& cursor,
                                                     int limit) {
  return store_.readers.read([&](Connection& db) -> Result<CommitmentPage> {
    std::optional<std::int64_t> after;
    if (!cursor.empty()) {
      after = decode_cursor(cursor);
      if (!after) return Error::invalid_field("cursor", "is not a cursor this server issued");
    }
    limit = std::clamp(limit, 1, 200);
    // Soonest due first would shift under inserts; pages go by id, newest first, like cases.
    std::string sql = std::string("SELECT ") + kCommitmentColumns +
                      ", c.reference FROM commitments k JOIN cases c ON c.id = k.case_id WHERE 1=1";
    int n = 0;
    std::vector<std::pair<int, std::string>> texts;
    std::vector<std::pair<int, std::int64_t>> numbers;
    if (after) numbers.emplace_back(++n, *after), sql += " AND k.id < ?" + std::to_string(n);
    if (filter.status)
      texts.emplace_back(++n, std::string(to_string(*filter.status))), sql += " AND k.status = ?" + std::to_string(n);
    if (!filter.owner_id.empty())
      texts.emplace_back(++n, filter.owner_id), sql += " AND k.owner_id = ?" + std::to_string(n);
    if (filter.kind)
      texts.emplace_back(++n, std::string(to_string(*filter.kind))), sql += " AND k.kind = ?" + std::to_string(n);
    if (filter.due_before)
      numbers.emplace_back(++n, to_micros(*filter.due_before)), sql += " AND k.due_at < ?" + std::to_string(n);
    if (!filter.case_reference.empty())
      texts.emplace_back(++n, filter.case_reference), sql += " AND c.reference = ?" + std::to_string(n);
    sql += " ORDER BY k.id DESC LIMIT " + std::to_string(limit + 1);
    auto statement = db.prepare(sql);
    if (!statement) return statement.error();
    for (auto& [index, value] : texts) statement->bind(index, value);
    for (auto& [index, value] : numbers) statement->bind(index, value);
    CommitmentPage page;
    while (statement->step())
      page.items.emplace_back(read_commitment(*statement, 0), statement->text(kCommitmentColumnCount));
    if (!statement->status()) return statement->status().error();
    if (static_cast<int>(page.items.size()) > limit) {
      page.items.pop_back();
      page.next_cursor = encode_cursor(page.items.back().first.id);
    }
    return page;
  });
}

Result<std::string> CaseQueries::commitment_case(std::int64_t commitment_id) {
  return store_.readers.read([&](Connection& db) {
    return reference_of(db, "SELECT c.reference FROM commitments k JOIN cases c ON c.id = k.case_id WHERE k.id = ?1",
                        commitment_id, "commitment k-" + std::to_string(commitment_id));
  });
}

Result<std::string> CaseQueries::redress_case(std::int64_t redress_id) {
  return store_.readers.read([&](Connection& db) {
    return reference_of(db, "SELECT c.reference FROM redress r JOIN cases c ON c.id = r.case_id WHERE r.id = ?1",
                        redress_id, "redress r-" + std::to_string(redress_id));
  });
}

Result<std::vector<std::pair<std::string, std::int64_t>>> CaseQueries::count_cases_by_status() {
  return store_.readers.read([&](Connection& db) -> Result<std::vector<std::pair<std::string, std::int64_t>>> {
    auto& count = db.cached("SELECT status, count(*) FROM cases GROUP BY status");
    std::vector<std::pair<std::string, std::int64_t>> counts;
    while (count.step()) counts.emplace_back(count.text(0), count.integer(1));
    if (!count.status()) return count.status().error();
    return counts;
  });
}

Result<std::int64_t> CaseQueries::count_open_commitments() {
  return store_.readers.read([&](Connection& db) -> Result<std::int64_t> {
    auto& count = db.cached("SELECT count(*) FROM commitments WHERE status = 'open'");
    if (!count.step()) return count.status().error();
    std::int64_t n = count.integer(0);
    count.reset();
    return n;
  });
}

Result<std::vector<TagCount>> CaseQueries::count_cases_by_tag() {
  return store_.readers.read([&](Connection& db) -> Result<std::vector<TagCount>> {
    // From the tags by case (migration 18): only tagged cases are read, each by its key.
    auto& count = db.cached(
        "SELECT t.tag, count(*), sum(c.status IN ('received','acknowledged','investigating','awaiting_client',"
        "'redress_proposed')) FROM case_tags t JOIN cases c ON c.id = t.case_id GROUP BY t.tag "
        "ORDER BY count(*) DESC, t.tag");
    std::vector<TagCount> counts;
    while (count.step()) counts.push_back(TagCount{count.text(0), count.integer(1), count.integer(2)});
    if (!count.status()) return count.status().error();
    return counts;
  });
}

}  // namespace redress::sqlite
