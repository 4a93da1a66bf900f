#include "adapters/sqlite/rows.h"

#include <sodium.h>
#include <boost/json.hpp>

#include <charconv>
#include <cstring>

#include "engine/hash_chain.h"
#include "engine/tags.h"
#include "engine/sealing.h"

namespace redress::sqlite {

namespace {}  // namespace

const char* const kCaseColumns =
    "id, reference, client_name, client_email, client_phone, client_locale, channel, category, touchpoint, "
    "subject, description, remedy_requested, severity, workflow, team, status, clock, owner_id, escalation_level, "
    "outcome, version, head_hash, received_at, updated_at, acknowledged_at, resolved_at, ended_at, pending_offers, "
    "unfulfilled_redress, rating, client_escalation_level, holding_reply_at, regulator_reference, routed_at, "
    "root_cause, product, vulnerability_driver, vulnerability_note, vulnerability_review_on, tags, links, merged_into";

namespace {

std::optional<std::int64_t> micros(const std::optional<Time>& t) {
  if (!t) return std::nullopt;
  return to_micros(*t);
}
std::optional<Time> time_or_null(const Statement& s, int column) {
  if (s.is_null(column)) return std::nullopt;
  return from_micros(s.integer(column));
}
template <typename Enum>
Enum parse_or(std::optional<Enum> value, Enum fallback) {
  return value ? *value : fallback;
}

}  // namespace

const char* const kInsertCaseSql =
    "INSERT INTO cases(id, reference, client_name, client_email, client_phone, client_locale, channel, category, "
    "touchpoint, subject, description, remedy_requested, severity, workflow, team, status, clock, owner_id, "
    "escalation_level, outcome, version, head_hash, received_at, updated_at, acknowledged_at, resolved_at, ended_at, "
    "pending_offers, unfulfilled_redress, rating, client_escalation_level, holding_reply_at, regulator_reference, "
    "routed_at, root_cause, product, vulnerability_driver, vulnerability_note, vulnerability_review_on, tags, links, "
    "merged_into) VALUES "
    "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,?26,?27,?28,?29,?30,"
    "?31,?32,?33,?34,?35,?36,?37,?38,?39,?40,?41,?42)";

const char* const kUpdateCaseSql =
    "UPDATE cases SET reference=?2, client_name=?3, client_email=?4, client_phone=?5, client_locale=?6, channel=?7, "
    "category=?8, touchpoint=?9, subject=?10, description=?11, remedy_requested=?12, severity=?13, workflow=?14, "
    "team=?15, status=?16, clock=?17, owner_id=?18, escalation_level=?19, outcome=?20, version=?21, head_hash=?22, "
    "received_at=?23, updated_at=?24, acknowledged_at=?25, resolved_at=?26, ended_at=?27, pending_offers=?28, "
    "unfulfilled_redress=?29, rating=?30, client_escalation_level=?31, holding_reply_at=?32, regulator_reference=?33, "
    "routed_at=?34, root_cause=?35, product=?36, vulnerability_driver=?37, vulnerability_note=?38, "
    "vulnerability_review_on=?39, tags=?40, links=?41, merged_into=?42 WHERE id=?1 AND version=?43";

// An upsert, not INSERT OR REPLACE: an update in place fires the report triggers (a REPLACE's
// delete would not) and touches only the indexes whose columns changed.
const char* const kUpsertCommitmentSql =
    "INSERT INTO commitments(id, case_id, kind, text, due_at, owner_id, client_visible, status, created_at, "
    "settled_at, note, replaces_id, replaced_by_id, redress_id, pledge_key, warning_times, warnings_fired, handled_at, "
    "handled_note, rule_due_at, exemption) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,"
    "?20,?21) "
    "ON CONFLICT(id) DO UPDATE SET case_id = excluded.case_id, kind = excluded.kind, text = excluded.text, "
    "due_at = excluded.due_at, owner_id = excluded.owner_id, client_visible = excluded.client_visible, "
    "status = excluded.status, created_at = excluded.created_at, settled_at = excluded.settled_at, note = "
    "excluded.note, "
    "replaces_id = excluded.replaces_id, replaced_by_id = excluded.replaced_by_id, redress_id = excluded.redress_id, "
    "pledge_key = excluded.pledge_key, warning_times = excluded.warning_times, warnings_fired = "
    "excluded.warnings_fired, "
    "handled_at = excluded.handled_at, handled_note = excluded.handled_note, rule_due_at = excluded.rule_due_at, "
    "exemption = excluded.exemption";

const char* const kUpsertRedressSql =
    "INSERT OR REPLACE INTO redress(id, case_id, kind, amount_minor, currency, text, status, automatic, created_at, "
    "decided_at, fulfilled_at, commitment_id, paid_minor, paid_currency) VALUES "
    "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)";

namespace {

// The cases columns in kCaseColumns order; column i binds as ?(i+1) in the full statements.
constexpr const char* kCaseColumnNames[kCaseColumnCount] = {"id",
                                                            "reference",
                                                            "client_name",
                                                            "client_email",
                                                            "client_phone",
                                                            "client_locale",
                                                            "channel",
                                                            "category",
                                                            "touchpoint",
                                                            "subject",
                                                            "description",
                                                            "remedy_requested",
                                                            "severity",
                                                            "workflow",
                                                            "team",
                                                            "status",
                                                            "clock",
                                                            "owner_id",
                                                            "escalation_level",
                                                            "outcome",
                                                            "version",
                                                            "head_hash",
                                                            "received_at",
                                                            "updated_at",
                                                            "acknowledged_at",
                                                            "resolved_at",
                                                            "ended_at",
                                                            "pending_offers",
                                                            "unfulfilled_redress",
                                                            "rating",
                                                            "client_escalation_level",
                                                            "holding_reply_at",
                                                            "regulator_reference",
                                                            "routed_at",
                                                            "root_cause",
                                                            "product",
                                                            "vulnerability_driver",
                                                            "vulnerability_note",
                                                            "vulnerability_review_on",
                                                            "tags",
                                                            "links",
                                                            "merged_into"};

// Binds one column of `c` as parameter `index`. Text is bound without a copy: `c` outlives the step.
void bind_case_column(Statement& s, int index, const Case& c, int column) {
  switch (column) {
    case 0: s.bind(index, c.id); break;
    case 1: s.bind_static(index, c.reference); break;
    case 2: s.bind_static(index, c.client.name); break;
    case 3: s.bind_static(index, c.client.email); break;
    case 4: s.bind_static(index, c.client.phone); break;
    case 5: s.bind_static(index, c.client.locale); break;
    case 6: s.bind_static(index, to_string(c.channel)); break;
    case 7: s.bind_static(index, c.category); break;
    case 8: s.bind_static(index, c.touchpoint); break;
    case 9: s.bind_static(index, c.subject); break;
    case 10: s.bind_static(index, c.description); break;
    case 11: s.bind_static(index, c.remedy_requested); break;
    case 12: s.bind_static(index, to_string(c.severity)); break;
    case 13: s.bind_static(index, c.workflow); break;
    case 14: s.bind_static(index, c.team); break;
    case 15: s.bind_static(index, to_string(c.status)); break;
    case 16: s.bind_static(index, to_string(c.clock)); break;
    case 17: s.bind_static(index, c.owner_id); break;
    case 18: s.bind(index, c.escalation_level); break;
    case 19:
      if (c.outcome)
        s.bind_static(index, to_string(*c.outcome));
      else
        s.bind_null(index);
      break;
    case 20: s.bind(index, c.version); break;
    case 21: s.bind_static(index, c.head_hash); break;
    case 22: s.bind(index, to_micros(c.received_at)); break;
    case 23: s.bind(index, to_micros(c.updated_at)); break;
    case 24: s.bind(index, micros(c.acknowledged_at)); break;
    case 25: s.bind(index, micros(c.resolved_at)); break;
    case 26: s.bind(index, micros(c.ended_at)); break;
    case 27: s.bind(index, c.pending_offers); break;
    case 28: s.bind(index, c.unfulfilled_redress); break;
    case 29:
      if (c.rating)
        s.bind(index, *c.rating);
      else
        s.bind_null(index);
      break;
    case 30:
      if (c.client_escalation_level)
        s.bind(index, *c.client_escalation_level);
      else
        s.bind_null(index);
      break;
    case 31: s.bind(index, micros(c.holding_reply_at)); break;
    case 32: s.bind_static(index, c.regulator_reference); break;
    case 33: s.bind(index, micros(c.routed_at)); break;
    case 34: s.bind_static(index, c.root_cause); break;
    case 35: s.bind_static(index, c.product); break;
    case 36:
      if (c.vulnerability)
        s.bind_static(index, to_string(c.vulnerability->driver));
      else
        s.bind_null(index);
      break;
    case 37: s.bind(index, c.vulnerability ? c.vulnerability->note : std::string()); break;
    case 38: s.bind(index, c.vulnerability ? format_date(c.vulnerability->review_on) : std::string()); break;
    case 39: s.bind(index, join_words(c.tags)); break;
    case 40: s.bind(index, join_words(c.links)); break;
    case 41: s.bind_static(index, c.merged_into); break;
    default: break;
  }
}

// Bit i set when column i of the cases row differs between `a` and `b`.
std::uint64_t case_differences(const Case& a, const Case& b) {
  std::uint64_t mask = 0;
  auto mark = [&](int column, bool differs) {
    if (differs) mask |= std::uint64_t{1} << column;
  };
  mark(0, a.id != b.id);
  mark(1, a.reference != b.reference);
  mark(2, a.client.name != b.client.name);
  mark(3, a.client.email != b.client.email);
  mark(4, a.client.phone != b.client.phone);
  mark(5, a.client.locale != b.client.locale);
  mark(6, a.channel != b.channel);
  mark(7, a.category != b.category);
  mark(8, a.touchpoint != b.touchpoint);
  mark(9, a.subject != b.subject);
  mark(10, a.description != b.description);
  mark(11, a.remedy_requested != b.remedy_requested);
  mark(12, a.severity != b.severity);
  mark(13, a.workflow != b.workflow);
  mark(14, a.team != b.team);
  mark(15, a.status != b.status);
  mark(16, a.clock != b.clock);
  mark(17, a.owner_id != b.owner_id);
  mark(18, a.escalation_level != b.escalation_level);
  mark(19, a.outcome != b.outcome);
  mark(20, a.version != b.version);
  mark(21, a.head_hash != b.head_hash);
  mark(22, a.received_at != b.received_at);
  mark(23, a.updated_at != b.updated_at);
  mark(24, a.acknowledged_at != b.acknowledged_at);
  mark(25, a.resolved_at != b.resolved_at);
  mark(26, a.ended_at != b.ended_at);
  mark(27, a.pending_offers != b.pending_offers);
  mark(28, a.unfulfilled_redress != b.unfulfilled_redress);
  mark(29, a.rating != b.rating);
  mark(30, a.client_escalation_level != b.client_escalation_level);
  mark(31, a.holding_reply_at != b.holding_reply_at);
  mark(32, a.regulator_reference != b.regulator_reference);
  mark(33, a.routed_at != b.routed_at);
  mark(34, a.root_cause != b.root_cause);
  mark(35, a.product != b.product);
  mark(36, a.vulnerability.has_value() != b.vulnerability.has_value() ||
               (a.vulnerability && a.vulnerability->driver != b.vulnerability->driver));
  mark(37, a.vulnerability.has_value() != b.vulnerability.has_value() ||
               (a.vulnerability && a.vulnerability->note != b.vulnerability->note));
  mark(38, a.vulnerability.has_value() != b.vulnerability.has_value() ||
               (a.vulnerability && a.vulnerability->review_on != b.vulnerability->review_on));
  mark(39, a.tags != b.tags);
  mark(40, a.links != b.links);
  mark(41, a.merged_into != b.merged_into);
  return mask;
}

const char kUpdateFamily = 0;  // its address names the generated UPDATE statements

// The cached "UPDATE table SET <the columns in mask> WHERE id=? [AND second_key=?]" of a family
// (column 0 is the id, never set), with the set columns bound by `bind_column(statement, index,
// column)`; `bound` is their number, so the keys are bound as ?(bound+1) and ?(bound+2).
template <typename BindColumn>
Statement& masked_update(Connection& db, const void* family, const char* table, const char* const* names, int count,
                         std::uint64_t mask, const char* second_key, int& bound, BindColumn bind_column) {
  auto& update = db.cached(family, mask, [=] {
    std::string sql = std::string("UPDATE ") + table + " SET ";
    int n = 0;
    for (int column = 1; column < count; ++column) {
      if (!(mask & (std::uint64_t{1} << column))) continue;
      if (n) sql += ", ";
      sql += std::string(names[column]) + "=?" + std::to_string(++n);
    }
    sql += " WHERE id=?" + std::to_string(n + 1);
    if (second_key) sql += std::string(" AND ") + second_key + "=?" + std::to_string(n + 2);
    return sql;
  });
  bound = 0;
  for (int column = 1; column < count; ++column)
    if (mask & (std::uint64_t{1} << column)) bind_column(update, ++bound, column);
  return update;
}

}  // namespace

void bind_case(Statement& s, const Case& c) {
  for (int column = 0; column < kCaseColumnCount; ++column) bind_case_column(s, column + 1, c, column);
}

Result<std::int64_t> update_case(Connection& db, const Case& before, const Case& after, std::int64_t expected_version) {
  // The id is the key, never a changed column; the version always changes.
  std::uint64_t mask = (case_differences(before, after) | (std::uint64_t{1} << 20)) & ~std::uint64_t{1};
  int n = 0;
  auto& update =
      masked_update(db, &kUpdateFamily, "cases", kCaseColumnNames, kCaseColumnCount, mask, "version", n,
                    [&after](Statement& s, int index, int column) { bind_case_column(s, index, after, column); });
  update.bind(n + 1, after.id).bind(n + 2, expected_version);
  if (auto s = update.run(); !s) return s.error();
  return db.changes();
}

Case read_case(const Statement& s, int i) {
  Case c;
  c.id = s.integer(i + 0);
  c.reference = s.text(i + 1);
  c.client.name = s.text(i + 2);
  c.client.email = s.text(i + 3);
  c.client.phone = s.text(i + 4);
  c.client.locale = s.text(i + 5);
  c.channel = parse_or(parse_Channel(s.text(i + 6)), Channel::kWeb);
  c.category = s.text(i + 7);
  c.touchpoint = s.text(i + 8);
  c.subject = s.text(i + 9);
  c.description = s.text(i + 10);
  c.remedy_requested = s.text(i + 11);
  c.severity = parse_or(parse_Severity(s.text(i + 12)), Severity::kMedium);
  c.workflow = s.text(i + 13);
  c.team = s.text(i + 14);
  c.status = parse_or(parse_CaseStatus(s.text(i + 15)), CaseStatus::kReceived);
  c.clock = parse_or(parse_ClockState(s.text(i + 16)), ClockState::kRunning);
  c.owner_id = s.text(i + 17);
  c.escalation_level = static_cast<int>(s.integer(i + 18));
  if (!s.is_null(i + 19)) c.outcome = parse_Outcome(s.text(i + 19));
  c.version = s.integer(i + 20);
  c.head_hash = s.text(i + 21);
  c.received_at = from_micros(s.integer(i + 22));
  c.updated_at = from_micros(s.integer(i + 23));
  c.acknowledged_at = time_or_null(s, i + 24);
  c.resolved_at = time_or_null(s, i + 25);
  c.ended_at = time_or_null(s, i + 26);
  c.pending_offers = static_cast<int>(s.integer(i + 27));
  c.unfulfilled_redress = static_cast<int>(s.integer(i + 28));
  if (!s.is_null(i + 29)) c.rating = static_cast<int>(s.integer(i + 29));
  if (!s.is_null(i + 30)) c.client_escalation_level = static_cast<int>(s.integer(i + 30));
  c.holding_reply_at = time_or_null(s, i + 31);
  c.regulator_reference = s.text(i + 32);
  c.routed_at = time_or_null(s, i + 33);
  c.root_cause = s.text(i + 34);
  c.product = s.text(i + 35);
  if (!s.is_null(i + 36)) {
    Vulnerability flag;
    flag.driver = parse_or(parse_VulnerabilityDriver(s.text(i + 36)), VulnerabilityDriver::kHealth);
    flag.note = s.text(i + 37);
    if (auto date = parse_date(s.text(i + 38))) flag.review_on = *date;
    c.vulnerability = std::move(flag);
  }
  c.tags = split_words(s.text(i + 39));
  c.links = split_words(s.text(i + 40));
  c.merged_into = s.text(i + 41);
  return c;
}

std::string encode_times(const std::vector<Time>& times) {
  std::string out;
  for (Time t : times) {
    if (!out.empty()) out += ',';
    out += std::to_string(to_micros(t));
  }
  return out;
}

std::vector<Time> decode_times(std::string_view text) {
  std::vector<Time> times;
  while (!text.empty()) {
    auto comma = text.find(',');
    std::string_view part = text.substr(0, comma);
    std::int64_t value = 0;
    if (std::from_chars(part.data(), part.data() + part.size(), value).ec == std::errc())
      times.push_back(from_micros(value));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return times;
}

void bind_commitment(Statement& s, const Commitment& k) {
  s.bind_static(15, k.pledge_key)
      .bind(16, encode_times(k.warning_times))
      .bind(17, k.warnings_fired)
      .bind(18, micros(k.handled_at))
      .bind_static(19, k.handled_note)
      .bind(20, micros(k.rule_due_at))
      .bind_static(21, k.exemption);
  s.bind(1, k.id)
      .bind(2, k.case_id)
      .bind_static(3, to_string(k.kind))
      .bind_static(4, k.text)
      .bind(5, to_micros(k.due_at))
      .bind_static(6, k.owner_id)
      .bind(7, k.client_visible ? 1 : 0)
      .bind_static(8, to_string(k.status))
      .bind(9, to_micros(k.created_at))
      .bind(10, micros(k.settled_at))
      .bind_static(11, k.note)
      .bind(12, k.replaces_id)
      .bind(13, k.replaced_by_id)
      .bind(14, k.redress_id);
}

namespace {

constexpr int kCommitmentColumnCount = 21;
constexpr const char* kCommitmentColumnNames[kCommitmentColumnCount] = {
    "id",         "case_id",       "kind",           "text",       "due_at",       "owner_id",   "client_visible",
    "status",     "created_at",    "settled_at",     "note",       "replaces_id",  "replaced_by_id", "redress_id",
    "pledge_key", "warning_times", "warnings_fired", "handled_at", "handled_note", "rule_due_at", "exemption"};

// Binds one column of `k` as parameter `index`, as bind_commitment does.
void bind_commitment_column(Statement& s, int index, const Commitment& k, int column) {
  switch (column) {
    case 0: s.bind(index, k.id); break;
    case 1: s.bind(index, k.case_id); break;
    case 2: s.bind_static(index, to_string(k.kind)); break;
    case 3: s.bind_static(index, k.text); break;
    case 4: s.bind(index, to_micros(k.due_at)); break;
    case 5: s.bind_static(index, k.owner_id); break;
    case 6: s.bind(index, k.client_visible ? 1 : 0); break;
    case 7: s.bind_static(index, to_string(k.status)); break;
    case 8: s.bind(index, to_micros(k.created_at)); break;
    case 9: s.bind(index, micros(k.settled_at)); break;
    case 10: s.bind_static(index, k.note); break;
    case 11: s.bind(index, k.replaces_id); break;
    case 12: s.bind(index, k.replaced_by_id); break;
    case 13: s.bind(index, k.redress_id); break;
    case 14: s.bind_static(index, k.pledge_key); break;
    case 15: s.bind(index, encode_times(k.warning_times)); break;  // a temporary: copied
    case 16: s.bind(index, k.warnings_fired); break;
    case 17: s.bind(index, micros(k.handled_at)); break;
    case 18: s.bind_static(index, k.handled_note); break;
    case 19: s.bind(index, micros(k.rule_due_at)); break;
    case 20: s.bind_static(index, k.exemption); break;
    default: break;
  }
}

// Bit i set when column i of the commitments row differs between `a` and `b`.
std::uint32_t commitment_differences(const Commitment& a, const Commitment& b) {
  std::uint32_t mask = 0;
  auto mark = [&](int column, bool differs) {
    if (differs) mask |= 1u << column;
  };
  mark(0, a.id != b.id);
  mark(1, a.case_id != b.case_id);
  mark(2, a.kind != b.kind);
  mark(3, a.text != b.text);
  mark(4, a.due_at != b.due_at);
  mark(5, a.owner_id != b.owner_id);
  mark(6, a.client_visible != b.client_visible);
  mark(7, a.status != b.status);
  mark(8, a.created_at != b.created_at);
  mark(9, a.settled_at != b.settled_at);
  mark(10, a.note != b.note);
  mark(11, a.replaces_id != b.replaces_id);
  mark(12, a.replaced_by_id != b.replaced_by_id);
  mark(13, a.redress_id != b.redress_id);
  mark(14, a.pledge_key != b.pledge_key);
  mark(15, a.warning_times != b.warning_times);
  mark(16, a.warnings_fired != b.warnings_fired);
  mark(17, a.handled_at != b.handled_at);
  mark(18, a.handled_note != b.handled_note);
  mark(19, a.rule_due_at != b.rule_due_at);
  mark(20, a.exemption != b.exemption);
  return mask;
}

const char kCommitmentUpdateFamily = 0;  // its address names the generated UPDATE statements

}  // namespace

Status write_commitment(Connection& db, const Commitment* before, const Commitment& after) {
  if (before && before->id == after.id) {
    std::uint32_t mask = commitment_differences(*before, after) & ~1u;
    if (mask == 0) return Status::success();  // the row already says all of it
    int n = 0;
    auto& update = masked_update(
        db, &kCommitmentUpdateFamily, "commitments", kCommitmentColumnNames, kCommitmentColumnCount, mask, nullptr, n,
        [&after](Statement& s, int index, int column) { bind_commitment_column(s, index, after, column); });
    update.bind(n + 1, after.id);
    if (auto s = update.run(); !s) return s;
    if (db.changes() == 1) return Status::success();
    // No such row after all: write it whole.
  }
  auto& put = db.cached(kUpsertCommitmentSql);
  bind_commitment(put, after);
  return put.run();
}

Commitment read_commitment(const Statement& s, int i) {
  Commitment k;
  k.id = s.integer(i + 0);
  k.case_id = s.integer(i + 1);
  k.kind = parse_or(parse_CommitmentKind(s.text(i + 2)), CommitmentKind::kPromise);
  k.text = s.text(i + 3);
  k.due_at = from_micros(s.integer(i + 4));
  k.owner_id = s.text(i + 5);
  k.client_visible = s.integer(i + 6) != 0;
  k.status = parse_or(parse_CommitmentStatus(s.text(i + 7)), CommitmentStatus::kOpen);
  k.created_at = from_micros(s.integer(i + 8));
  k.settled_at = time_or_null(s, i + 9);
  k.note = s.text(i + 10);
  k.replaces_id = s.integer(i + 11);
  k.replaced_by_id = s.integer(i + 12);
  k.redress_id = s.integer(i + 13);
  k.pledge_key = s.text(i + 14);
  k.warning_times = decode_times(s.text(i + 15));
  k.warnings_fired = static_cast<int>(s.integer(i + 16));
  k.handled_at = time_or_null(s, i + 17);
  k.handled_note = s.text(i + 18);
  k.rule_due_at = time_or_null(s, i + 19);
  k.exemption = s.text(i + 20);
  return k;
}

void bind_redress(Statement& s, const Redress& r) {
  s.bind(1, r.id)
      .bind(2, r.case_id)
      .bind_static(3, to_string(r.kind))
      .bind(4, r.amount_minor)
      .bind_static(5, r.currency)
      .bind_static(6, r.text)
      .bind_static(7, to_string(r.status))
      .bind(8, r.automatic ? 1 : 0)
      .bind(9, to_micros(r.created_at))
      .bind(10, micros(r.decided_at))
      .bind(11, micros(r.fulfilled_at))
      .bind(12, r.commitment_id)
      .bind(13, r.paid_minor)
      .bind_static(14, r.paid_currency);
}

Redress read_redress(const Statement& s, int i) {
  Redress r;
  r.id = s.integer(i + 0);
  r.case_id = s.integer(i + 1);
  r.kind = parse_or(parse_RedressKind(s.text(i + 2)), RedressKind::kApology);
  r.amount_minor = s.optional_integer(i + 3);
  r.currency = s.text(i + 4);
  r.text = s.text(i + 5);
  r.status = parse_or(parse_RedressStatus(s.text(i + 6)), RedressStatus::kProposed);
  r.automatic = s.integer(i + 7) != 0;
  r.created_at = from_micros(s.integer(i + 8));
  r.decided_at = time_or_null(s, i + 9);
  r.fulfilled_at = time_or_null(s, i + 10);
  r.commitment_id = s.integer(i + 11);
  r.paid_minor = s.optional_integer(i + 12);
  r.paid_currency = s.text(i + 13);
  return r;
}

Subscription read_subscription(const Statement& s) {
  Subscription sub;
  sub.id = s.integer(0);
  sub.url = s.text(1);
  boost::system::error_code ec;
  auto types = boost::json::parse(s.text(2), ec);
  if (!ec && types.is_array())
    for (const auto& t : types.get_array())
      if (t.is_string()) sub.event_types.emplace_back(t.get_string());
  sub.description = s.text(3);
  sub.secret_sealed = s.text(4);
  sub.created_at = from_micros(s.integer(5));
  if (!s.is_null(6)) sub.disabled_at = from_micros(s.integer(6));
  sub.disabled_reason = s.text(7);
  return sub;
}

Staff read_staff(const Statement& s, int i) {
  Staff staff;
  staff.id = s.text(i + 0);
  staff.name = s.text(i + 1);
  staff.email = s.text(i + 2);
  staff.role = parse_or(parse_Role(s.text(i + 3)), Role::kAgent);
  staff.team = s.text(i + 4);
  staff.active = s.integer(i + 5) != 0;
  return staff;
}

Result<CaseSnapshot> load_snapshot(Connection& db, const std::string& reference) {
  static const std::string by_reference = std::string("SELECT ") + kCaseColumns + " FROM cases WHERE reference = ?1";
  auto& find = db.cached(by_reference.c_str());
  find.bind(1, reference);
  if (!find.step()) return find.status().ok() ? Error::not_found("no case " + reference) : find.status().error();
  CaseSnapshot snapshot;
  snapshot.record = read_case(find, 0);
  find.reset();
  auto& commitments = db.cached(
      "SELECT id, case_id, kind, text, due_at, owner_id, client_visible, status, created_at, settled_at, note, "
      "replaces_id, replaced_by_id, redress_id, pledge_key, warning_times, warnings_fired, handled_at, handled_note, "
      "rule_due_at, exemption "
      "FROM commitments WHERE case_id = ?1 ORDER BY id");
  commitments.bind(1, snapshot.record.id);
  while (commitments.step()) snapshot.commitments.push_back(read_commitment(commitments, 0));
  if (!commitments.status()) return commitments.status().error();
  commitments.reset();
  auto& redress = db.cached(
      "SELECT id, case_id, kind, amount_minor, currency, text, status, automatic, created_at, decided_at, "
      "fulfilled_at, commitment_id, paid_minor, paid_currency FROM redress WHERE case_id = ?1 ORDER BY id");
  redress.bind(1, snapshot.record.id);
  while (redress.step()) snapshot.redress.push_back(read_redress(redress, 0));
  if (!redress.status()) return redress.status().error();
  redress.reset();
  auto& clocks = db.cached("SELECT state FROM case_clocks WHERE case_id = ?1");
  clocks.bind(1, snapshot.record.id);
  if (clocks.step()) snapshot.clock_state = clocks.text(0);
  if (!clocks.status()) return clocks.status().error();
  clocks.reset();
  return snapshot;
}

Result<std::vector<Event>> select_events(Connection& db, std::int64_t case_id) {
  auto& list =
      db.cached("SELECT case_id, seq, type, at, actor, data, hash, seals FROM events WHERE case_id = ?1 ORDER BY seq");
  list.bind(1, case_id);
  std::vector<Event> events;
  while (list.step()) {
    events.push_back(Event{list.integer(0), list.integer(1), list.text(2), from_micros(list.integer(3)), list.text(4),
                           list.text(5), list.text(6)});
    if (!list.is_null(7)) {
      events.back().hash_rule = HashRule::kSealed;
      events.back().seals = list.text(7);
    }
  }
  if (!list.status()) return list.status().error();
  return events;
}

Result<std::vector<Message>> select_messages(Connection& db, std::int64_t case_id) {
  auto& list = db.cached(
      "SELECT id, case_id, visibility, author, body, at, state, via, original, mail_blob FROM messages "
      "WHERE case_id = ?1 ORDER BY id");
  list.bind(1, case_id);
  std::vector<Message> messages;
  while (list.step()) {
    Message m = Message::make(list.integer(0), list.integer(1),
                              parse_Visibility(list.text(2)).value_or(Visibility::kInternal), list.text(3),
                              list.text(4), from_micros(list.integer(5)));
    m.state = parse_MessageState(list.text(6)).value_or(MessageState::kPosted);
    m.via = list.text(7);
    m.original = list.text(8);
    m.mail_blob = list.text(9);
    messages.push_back(std::move(m));
  }
  if (!list.status()) return list.status().error();
  // Their files, in one statement for the case (most messages have none).
  auto& files = db.cached(
      "SELECT a.message_id, a.blob_key, a.filename, a.content_type, a.size FROM message_attachments a "
      "JOIN messages m ON m.id = a.message_id WHERE m.case_id = ?1 ORDER BY a.message_id, a.position");
  files.bind(1, case_id);
  std::size_t next = 0;
  while (files.step()) {
    const std::int64_t message_id = files.integer(0);
    while (next < messages.size() && messages[next].id < message_id) ++next;
    if (next == messages.size() || messages[next].id != message_id) continue;
    messages[next].attachments.push_back(AttachmentRef{files.text(1), files.text(2), files.text(3), files.integer(4)});
  }
  if (!files.status()) return files.status().error();
  return messages;
}

std::optional<Staff> select_staff(Connection& db, const std::string& id_or_email) {
  auto& find = db.cached("SELECT id, name, email, role, team, active FROM staff WHERE id = ?1 OR email = ?1");
  find.bind(1, id_or_email);
  if (!find.step()) return std::nullopt;
  Staff staff = read_staff(find, 0);
  find.reset();
  return staff;
}

std::vector<Staff> select_staff_with_roles(Connection& db, const std::vector<Role>& roles,
                                           const std::vector<std::string>& teams) {
  std::vector<Staff> found;
  if (roles.empty()) return found;
  auto& list = db.cached("SELECT id, name, email, role, team, active FROM staff WHERE active = 1 ORDER BY id");
  while (list.step()) {
    Staff staff = read_staff(list, 0);
    bool role_matches = std::find(roles.begin(), roles.end(), staff.role) != roles.end();
    bool team_matches = teams.empty() || std::find(teams.begin(), teams.end(), staff.team) != teams.end();
    if (role_matches && team_matches) found.push_back(std::move(staff));
  }
  return found;
}

std::string encode_cursor(std::int64_t after_id) {
  std::string plain = "c1:" + std::to_string(after_id);
  std::string encoded(sodium_base64_ENCODED_LEN(plain.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(encoded.data(), encoded.size(), reinterpret_cast<const unsigned char*>(plain.data()), plain.size(),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  encoded.resize(std::strlen(encoded.c_str()));
  return encoded;
}

std::optional<std::int64_t> decode_cursor(const std::string& cursor) {
  if (cursor.empty() || cursor.size() > 64) return std::nullopt;
  unsigned char plain[64];
  std::size_t length = 0;
  if (sodium_base642bin(plain, sizeof plain, cursor.data(), cursor.size(), nullptr, &length, nullptr,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
    return std::nullopt;
  std::string_view text(reinterpret_cast<const char*>(plain), length);
  if (text.substr(0, 3) != "c1:") return std::nullopt;
  text.remove_prefix(3);
  // Only the form encode_cursor writes: a leading zero ("c1:042") would be a second cursor for one id.
  if (text.empty() || text.front() == '0') return std::nullopt;
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
}

Result<std::optional<Time>> step_optional_time(Statement& statement) {
  std::optional<Time> time;
  if (statement.step() && !statement.is_null(0)) time = from_micros(statement.integer(0));
  Status status = statement.status();
  statement.reset();
  if (!status) return status.error();
  return time;
}

// `text`: "" lists; otherwise only the cases whose reference, subject, client name or email contain it.
Result<CasePage> select_case_page(Connection& db, const CaseFilter& filter, const std::string& text,
                                  const std::string& cursor, int limit, Time now) {
  std::optional<std::int64_t> after;
  if (!cursor.empty()) {
    after = decode_cursor(cursor);
    if (!after) return Error::invalid_field("cursor", "is not a cursor this server issued");
  }
  limit = std::clamp(limit, 1, 200);
  // Newest first; the cursor is the last id shown, so cases that arrive later never shift a page.
  std::string sql = std::string("SELECT ") + kCaseColumns + " FROM cases WHERE 1=1";
  int n = 0;
  std::vector<std::pair<int, std::string>> texts;
  std::vector<std::pair<int, std::int64_t>> numbers;
  if (after) numbers.emplace_back(++n, *after), sql += " AND id < ?" + std::to_string(n);
  if (filter.status)
    texts.emplace_back(++n, std::string(to_string(*filter.status))), sql += " AND status = ?" + std::to_string(n);
  if (filter.open_only)
    sql += " AND status IN ('received','acknowledged','investigating','awaiting_client','redress_proposed')";
  if (filter.owner_id == "none")
    sql += " AND owner_id = ''";
  else if (!filter.owner_id.empty())
    texts.emplace_back(++n, filter.owner_id), sql += " AND owner_id = ?" + std::to_string(n);
  if (!filter.workflow.empty())
    texts.emplace_back(++n, filter.workflow), sql += " AND workflow = ?" + std::to_string(n);
  if (filter.escalation_level)
    numbers.emplace_back(++n, *filter.escalation_level), sql += " AND escalation_level = ?" + std::to_string(n);
  if (!filter.client_email.empty())
    texts.emplace_back(++n, filter.client_email), sql += " AND client_email = ?" + std::to_string(n) + " COLLATE NOCASE";
  if (!filter.team.empty()) texts.emplace_back(++n, filter.team), sql += " AND team = ?" + std::to_string(n);
  // Each tag through the tags by case (migration 18), whose key is (tag, case_id).
  for (const auto& tag : filter.tags)
    texts.emplace_back(++n, tag), sql += " AND id IN (SELECT case_id FROM case_tags WHERE tag = ?" + std::to_string(n) + ")";
  if (filter.received_from || filter.received_to) {
    // Receipt times as a range of ids first (each bound read from the index of receipt times
    // alone), so that the page is read newest first along the ids within it: the index alone would
    // give every case of the range to sort (300 ms for a month of 100,000 cases; 20-35 ms so). The
    // terms themselves still decide (a backdated case's id is out of its time's order), kept off
    // the index with a unary plus.
    std::string range, unindexed;
    auto bound = [&](Time t, const char* op) {
      numbers.emplace_back(++n, to_micros(t));
      const std::string term = std::string("received_at ") + op + " ?" + std::to_string(n);
      range += (range.empty() ? "" : " AND ") + term;
      unindexed += " AND +" + term;
    };
    if (filter.received_from) bound(*filter.received_from, ">=");
    if (filter.received_to) bound(*filter.received_to, "<");
    sql += " AND id BETWEEN coalesce((SELECT min(id) FROM cases WHERE " + range + "), 0) AND coalesce((SELECT max(id) " +
           "FROM cases WHERE " + range + "), -1)" + unindexed;
  }
  if (filter.restricted == CaseFilter::Restricted::kHidden)
    sql += " AND NOT EXISTS (SELECT 1 FROM case_privacy p WHERE p.case_id = cases.id AND p.state = 'restricted')";
  if (!text.empty()) {
    std::string pattern = "%";
    for (char c : text) {
      if (c == '%' || c == '_' || c == '\\') pattern += '\\';
      pattern += c;
    }
    pattern += '%';
    texts.emplace_back(++n, pattern);
    std::string p = "?" + std::to_string(n);
    sql += " AND (reference LIKE " + p + " ESCAPE '\\' OR subject LIKE " + p + " ESCAPE '\\' OR client_name LIKE " + p +
           " ESCAPE '\\' OR client_email LIKE " + p + " ESCAPE '\\')";
    // From three characters on, the trigram index (search_index.h, attached as `search`) narrows
    // the rows the LIKE tests: it matches every substring the LIKE matches (and folds case more
    // widely), so the result is the LIKE's. Shorter texts have no trigram and scan.
    std::size_t characters = 0;
    for (unsigned char c : text) characters += (c & 0xC0) != 0x80;
    if (characters >= 3) {
      std::string phrase = "\"";
      for (char c : text) phrase += c == '"' ? std::string("\"\"") : std::string(1, c);
      phrase += "\"";
      texts.emplace_back(++n, phrase);
      // The cases still waiting to be indexed (migration 11) are candidates too. One statement:
      // it locks this database before the index's (search_index.h says why that matters).
      sql += " AND id IN (SELECT rowid FROM search.cases_text WHERE cases_text MATCH ?" + std::to_string(n) +
             " UNION ALL SELECT case_id FROM search_pending)";
    }
  }
  if (filter.overdue) {
    numbers.emplace_back(++n, to_micros(now));
    // Two seeks per case, each in a partial index (migrations 7 and 18), rather than reading the
    // case's commitments: 9 times faster where few of an owner's cases are overdue.
    sql +=
        " AND (EXISTS (SELECT 1 FROM commitments k WHERE k.case_id = cases.id AND k.status = 'broken') OR "
        "EXISTS (SELECT 1 FROM commitments k WHERE k.case_id = cases.id AND k.status = 'open' AND k.due_at < ?" +
        std::to_string(n) + "))";
  }
  sql += " ORDER BY id DESC LIMIT " + std::to_string(limit + 1);
  auto statement = db.prepare(sql);
  if (!statement) return statement.error();
  for (auto& [index, value] : texts) statement->bind(index, value);
  for (auto& [index, value] : numbers) statement->bind(index, value);
  CasePage page;
  while (statement->step()) page.cases.push_back(read_case(*statement, 0));
  if (!statement->status()) return statement->status().error();
  if (static_cast<int>(page.cases.size()) > limit) {
    page.cases.pop_back();
    page.next_cursor = encode_cursor(page.cases.back().id);
  }
  return page;
}

Result<AuditReport> audit_chains(Connection& db) {
  AuditReport report;
  auto cases = db.prepare("SELECT id, reference, version, head_hash FROM cases ORDER BY id");
  if (!cases) return cases.error();
  auto events =
      db.prepare("SELECT seq, type, at, actor, data, hash, seals FROM events WHERE case_id = ?1 ORDER BY seq");
  if (!events) return events.error();
  while (cases->step()) {
    std::int64_t id = cases->integer(0);
    std::string reference = cases->text(1);
    std::int64_t version = cases->integer(2);
    std::string head = cases->text(3);
    ++report.cases_checked;
    events->bind(1, id);
    std::string previous;
    std::int64_t expected_seq = 1;
    std::optional<AuditReport::Break> found;
    while (events->step()) {
      ++report.events_checked;
      if (found) continue;
      Event e{id,
              events->integer(0),
              events->text(1),
              from_micros(events->integer(2)),
              events->text(3),
              events->text(4),
              events->text(5)};
      if (!events->is_null(6)) {
        e.hash_rule = HashRule::kSealed;
        e.seals = events->text(6);
      }
      if (e.seq != expected_seq) {
        found = AuditReport::Break{reference, expected_seq,
                                   e.seq > expected_seq ? "event " + std::to_string(expected_seq) + " is missing"
                                                        : "event " + std::to_string(e.seq) + " is out of order"};
        continue;
      }
      if (auto problem = link_problem(previous, reference, e)) {
        found = AuditReport::Break{reference, e.seq, std::move(*problem)};
        continue;
      }
      previous = e.hash;
      ++expected_seq;
    }
    if (!events->status()) return events->status().error();
    events->reset();
    if (!found && expected_seq - 1 != version) {
      // A short history misses the event after its end; a long one has an extra event after the version.
      std::int64_t last = expected_seq - 1;
      found = AuditReport::Break{reference, last < version ? expected_seq : version + 1,
                                 "the history ends at event " + std::to_string(last) + " but the case is at version " +
                                     std::to_string(version)};
    }
    if (!found && previous != head)
      found = AuditReport::Break{reference, version, "the case's head hash is not the last event's hash"};
    if (found) report.broken.push_back(std::move(*found));
  }
  if (!cases->status()) return cases->status().error();
  auto orphans = db.prepare("SELECT DISTINCT case_id FROM events WHERE case_id NOT IN (SELECT id FROM cases)");
  if (!orphans) return orphans.error();
  while (orphans->step())
    report.broken.push_back(
        AuditReport::Break{"case id " + std::to_string(orphans->integer(0)), 1, "events belong to no case"});
  return report;
}

}  // namespace redress::sqlite
