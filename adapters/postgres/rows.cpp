#include "adapters/postgres/rows.h"

#include <algorithm>
#include <charconv>
#include <unordered_map>

#include "adapters/sqlite/rows.h"  // encode_cursor, decode_cursor: one cursor format for both stores
#include "engine/hash_chain.h"
#include "engine/tags.h"
#include "engine/sealing.h"

namespace redress::postgres {

namespace {

// "a, b, c" split into its names.
std::vector<std::string> column_names(std::string_view list) {
  std::vector<std::string> names;
  while (!list.empty()) {
    auto comma = list.find(',');
    std::string_view name = list.substr(0, comma);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    names.emplace_back(name);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return names;
}

std::string placeholders(std::size_t n) {
  std::string out;
  for (std::size_t i = 1; i <= n; ++i) out += (i > 1 ? ",$" : "$") + std::to_string(i);
  return out;
}

// INSERT of every column of `list` as $1..$n, an upsert on `key` setting the others when given.
std::string insert_sql(const char* table, const char* list, const char* key) {
  auto names = column_names(list);
  std::string sql = std::string("INSERT INTO ") + table + "(" + list + ") VALUES (" + placeholders(names.size()) + ")";
  if (key) {
    sql += std::string(" ON CONFLICT (") + key + ") DO UPDATE SET ";
    bool first = true;
    for (const auto& name : names) {
      if (name == key) continue;
      sql += (first ? "" : ", ") + name + " = excluded." + name;
      first = false;
    }
  }
  return sql;
}

// UPDATE of every column but the first (the id, $1) as $2..$n, the expected version as $(n+1).
std::string update_case_sql() {
  auto names = column_names(sqlite::kCaseColumns);
  std::string sql = "UPDATE cases SET ";
  for (std::size_t i = 1; i < names.size(); ++i) sql += (i > 1 ? ", " : "") + names[i] + "=$" + std::to_string(i + 1);
  return sql + " WHERE id=$1 AND version=$" + std::to_string(names.size() + 1);
}

}  // namespace

// The cases columns are SQLite's one list (adapters/sqlite/rows.h): a column added there and not
// here fails the codec's static check below and the contract tests' round trip of every field.
const char* const kCaseColumns = sqlite::kCaseColumns;
static_assert(kCaseColumnCount == sqlite::kCaseColumnCount, "the cases columns are SQLite's");

const char* const kCommitmentColumns =
    "id, case_id, kind, text, due_at, owner_id, client_visible, status, created_at, settled_at, note, "
    "replaces_id, replaced_by_id, redress_id, pledge_key, warning_times, warnings_fired, handled_at, handled_note, "
    "rule_due_at, exemption";

const char* const kRedressColumns =
    "id, case_id, kind, amount_minor, currency, text, status, automatic, created_at, decided_at, fulfilled_at, "
    "commitment_id, paid_minor, paid_currency";

const char* const kStaffColumns = "id, name, email, role, team, active";

// Every column is set on update: PostgreSQL writes a new row version whatever changed, and an
// update that leaves the indexed columns' values as they were is still a HOT update.
const std::string& insert_case_sql() {
  static const std::string sql = insert_sql("cases", kCaseColumns, nullptr);
  return sql;
}
const std::string& update_case_sql_text() {
  static const std::string sql = update_case_sql();
  return sql;
}
const std::string& upsert_commitment_sql() {
  static const std::string sql = insert_sql("commitments", kCommitmentColumns, "id");
  return sql;
}
const std::string& upsert_redress_sql() {
  static const std::string sql = insert_sql("redress", kRedressColumns, "id");
  return sql;
}

namespace {

template <typename Enum>
Enum parse_or(std::optional<Enum> value, Enum fallback) {
  return value ? *value : fallback;
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

}  // namespace

std::optional<std::int64_t> micros_or_null(const std::optional<Time>& t) {
  if (!t) return std::nullopt;
  return to_micros(*t);
}

std::optional<Time> time_or_null(const Rows& rows, int row, int column) {
  if (rows.is_null(row, column)) return std::nullopt;
  return from_micros(rows.integer(row, column));
}

Params case_params(const Case& c) {
  Params p;
  p.add(c.id)
      .add(c.reference)
      .add(c.client.name)
      .add(c.client.email)
      .add(c.client.phone)
      .add(c.client.locale)
      .add(to_string(c.channel))
      .add(c.category)
      .add(c.touchpoint)
      .add(c.subject)
      .add(c.description)
      .add(c.remedy_requested)
      .add(to_string(c.severity))
      .add(c.workflow)
      .add(c.team)
      .add(to_string(c.status))
      .add(to_string(c.clock))
      .add(c.owner_id)
      .add(std::int64_t{c.escalation_level})
      .add(c.outcome ? std::optional<std::string>(to_string(*c.outcome)) : std::nullopt)
      .add(c.version)
      .add(c.head_hash)
      .add(to_micros(c.received_at))
      .add(to_micros(c.updated_at))
      .add(micros_or_null(c.acknowledged_at))
      .add(micros_or_null(c.resolved_at))
      .add(micros_or_null(c.ended_at))
      .add(std::int64_t{c.pending_offers})
      .add(std::int64_t{c.unfulfilled_redress})
      .add(c.rating ? std::optional<std::int64_t>(*c.rating) : std::nullopt)
      .add(c.client_escalation_level ? std::optional<std::int64_t>(*c.client_escalation_level) : std::nullopt)
      .add(micros_or_null(c.holding_reply_at))
      .add(c.regulator_reference)
      .add(micros_or_null(c.routed_at))
      .add(c.root_cause)
      .add(c.product)
      .add(c.vulnerability ? std::optional<std::string>(std::string(to_string(c.vulnerability->driver)))
                           : std::nullopt)
      .add(c.vulnerability ? c.vulnerability->note : std::string())
      .add(c.vulnerability ? format_date(c.vulnerability->review_on) : std::string())
      .add(join_words(c.tags))
      .add(join_words(c.links))
      .add(c.merged_into);
  return p;
}

Case read_case(const Rows& s, int row, int i) {
  Case c;
  c.id = s.integer(row, i + 0);
  c.reference = s.text(row, i + 1);
  c.client.name = s.text(row, i + 2);
  c.client.email = s.text(row, i + 3);
  c.client.phone = s.text(row, i + 4);
  c.client.locale = s.text(row, i + 5);
  c.channel = parse_or(parse_Channel(s.text(row, i + 6)), Channel::kWeb);
  c.category = s.text(row, i + 7);
  c.touchpoint = s.text(row, i + 8);
  c.subject = s.text(row, i + 9);
  c.description = s.text(row, i + 10);
  c.remedy_requested = s.text(row, i + 11);
  c.severity = parse_or(parse_Severity(s.text(row, i + 12)), Severity::kMedium);
  c.workflow = s.text(row, i + 13);
  c.team = s.text(row, i + 14);
  c.status = parse_or(parse_CaseStatus(s.text(row, i + 15)), CaseStatus::kReceived);
  c.clock = parse_or(parse_ClockState(s.text(row, i + 16)), ClockState::kRunning);
  c.owner_id = s.text(row, i + 17);
  c.escalation_level = static_cast<int>(s.integer(row, i + 18));
  if (!s.is_null(row, i + 19)) c.outcome = parse_Outcome(s.text(row, i + 19));
  c.version = s.integer(row, i + 20);
  c.head_hash = s.text(row, i + 21);
  c.received_at = from_micros(s.integer(row, i + 22));
  c.updated_at = from_micros(s.integer(row, i + 23));
  c.acknowledged_at = time_or_null(s, row, i + 24);
  c.resolved_at = time_or_null(s, row, i + 25);
  c.ended_at = time_or_null(s, row, i + 26);
  c.pending_offers = static_cast<int>(s.integer(row, i + 27));
  c.unfulfilled_redress = static_cast<int>(s.integer(row, i + 28));
  if (!s.is_null(row, i + 29)) c.rating = static_cast<int>(s.integer(row, i + 29));
  if (!s.is_null(row, i + 30)) c.client_escalation_level = static_cast<int>(s.integer(row, i + 30));
  c.holding_reply_at = time_or_null(s, row, i + 31);
  c.regulator_reference = s.text(row, i + 32);
  c.routed_at = time_or_null(s, row, i + 33);
  c.root_cause = s.text(row, i + 34);
  c.product = s.text(row, i + 35);
  if (!s.is_null(row, i + 36)) {
    Vulnerability flag;
    flag.driver = parse_or(parse_VulnerabilityDriver(s.text(row, i + 36)), VulnerabilityDriver::kHealth);
    flag.note = s.text(row, i + 37);
    if (auto date = parse_date(s.text(row, i + 38))) flag.review_on = *date;
    c.vulnerability = std::move(flag);
  }
  c.tags = split_words(s.text(row, i + 39));
  c.links = split_words(s.text(row, i + 40));
  c.merged_into = s.text(row, i + 41);
  return c;
}

Params commitment_params(const Commitment& k) {
  Params p;
  p.add(k.id)
      .add(k.case_id)
      .add(to_string(k.kind))
      .add(k.text)
      .add(to_micros(k.due_at))
      .add(k.owner_id)
      .add(std::int64_t{k.client_visible ? 1 : 0})
      .add(to_string(k.status))
      .add(to_micros(k.created_at))
      .add(micros_or_null(k.settled_at))
      .add(k.note)
      .add(k.replaces_id)
      .add(k.replaced_by_id)
      .add(k.redress_id)
      .add(k.pledge_key)
      .add(encode_times(k.warning_times))
      .add(std::int64_t{k.warnings_fired})
      .add(micros_or_null(k.handled_at))
      .add(k.handled_note)
      .add(micros_or_null(k.rule_due_at))
      .add(k.exemption);
  return p;
}

Commitment read_commitment(const Rows& s, int row, int i) {
  Commitment k;
  k.id = s.integer(row, i + 0);
  k.case_id = s.integer(row, i + 1);
  k.kind = parse_or(parse_CommitmentKind(s.text(row, i + 2)), CommitmentKind::kPromise);
  k.text = s.text(row, i + 3);
  k.due_at = from_micros(s.integer(row, i + 4));
  k.owner_id = s.text(row, i + 5);
  k.client_visible = s.integer(row, i + 6) != 0;
  k.status = parse_or(parse_CommitmentStatus(s.text(row, i + 7)), CommitmentStatus::kOpen);
  k.created_at = from_micros(s.integer(row, i + 8));
  k.settled_at = time_or_null(s, row, i + 9);
  k.note = s.text(row, i + 10);
  k.replaces_id = s.integer(row, i + 11);
  k.replaced_by_id = s.integer(row, i + 12);
  k.redress_id = s.integer(row, i + 13);
  k.pledge_key = s.text(row, i + 14);
  k.warning_times = decode_times(s.view(row, i + 15));
  k.warnings_fired = static_cast<int>(s.integer(row, i + 16));
  k.handled_at = time_or_null(s, row, i + 17);
  k.handled_note = s.text(row, i + 18);
  k.rule_due_at = time_or_null(s, row, i + 19);
  k.exemption = s.text(row, i + 20);
  return k;
}

Params redress_params(const Redress& r) {
  Params p;
  p.add(r.id)
      .add(r.case_id)
      .add(to_string(r.kind))
      .add(r.amount_minor)
      .add(r.currency)
      .add(r.text)
      .add(to_string(r.status))
      .add(std::int64_t{r.automatic ? 1 : 0})
      .add(to_micros(r.created_at))
      .add(micros_or_null(r.decided_at))
      .add(micros_or_null(r.fulfilled_at))
      .add(r.commitment_id)
      .add(r.paid_minor)
      .add(r.paid_currency);
  return p;
}

Redress read_redress(const Rows& s, int row, int i) {
  Redress r;
  r.id = s.integer(row, i + 0);
  r.case_id = s.integer(row, i + 1);
  r.kind = parse_or(parse_RedressKind(s.text(row, i + 2)), RedressKind::kApology);
  r.amount_minor = s.optional_integer(row, i + 3);
  r.currency = s.text(row, i + 4);
  r.text = s.text(row, i + 5);
  r.status = parse_or(parse_RedressStatus(s.text(row, i + 6)), RedressStatus::kProposed);
  r.automatic = s.integer(row, i + 7) != 0;
  r.created_at = from_micros(s.integer(row, i + 8));
  r.decided_at = time_or_null(s, row, i + 9);
  r.fulfilled_at = time_or_null(s, row, i + 10);
  r.commitment_id = s.integer(row, i + 11);
  r.paid_minor = s.optional_integer(row, i + 12);
  r.paid_currency = s.text(row, i + 13);
  return r;
}

Staff read_staff(const Rows& s, int row, int i) {
  Staff staff;
  staff.id = s.text(row, i + 0);
  staff.name = s.text(row, i + 1);
  staff.email = s.text(row, i + 2);
  staff.role = parse_or(parse_Role(s.text(row, i + 3)), Role::kAgent);
  staff.team = s.text(row, i + 4);
  staff.active = s.integer(row, i + 5) != 0;
  return staff;
}

Event read_event(const Rows& s, int row) {
  Event e{s.integer(row, 0), s.integer(row, 1), s.text(row, 2), from_micros(s.integer(row, 3)),
          s.text(row, 4),    s.text(row, 5),    s.text(row, 6)};
  if (!s.is_null(row, 7)) {  // NULL seals: hash rule 1
    e.hash_rule = HashRule::kSealed;
    e.seals = s.text(row, 7);
  }
  return e;
}

Message read_message(const Rows& s, int row) {
  Message m = Message::make(s.integer(row, 0), s.integer(row, 1),
                            parse_Visibility(s.text(row, 2)).value_or(Visibility::kInternal), s.text(row, 3),
                            s.text(row, 4), from_micros(s.integer(row, 5)));
  m.state = parse_MessageState(s.text(row, 6)).value_or(MessageState::kPosted);
  m.via = s.text(row, 7);
  m.original = s.text(row, 8);
  m.mail_blob = s.text(row, 9);
  return m;
}

Result<CaseSnapshot> load_snapshot(Connection& db, const std::string& reference, RowLock lock) {
  // One round trip: the case (locked first, when asked), then what hangs off it. Under READ
  // COMMITTED each later statement sees at least what the lock waited for.
  static const std::string kFind = std::string("SELECT ") + kCaseColumns + " FROM cases WHERE reference = $1";
  static const std::string kFindLocked = kFind + " FOR UPDATE";
  static const std::string kCommitments = std::string("SELECT ") + kCommitmentColumns +
                                          " FROM commitments WHERE case_id = (SELECT id FROM cases WHERE "
                                          "reference = $1) ORDER BY id";
  static const std::string kRedress = std::string("SELECT ") + kRedressColumns +
                                      " FROM redress WHERE case_id = (SELECT id FROM cases WHERE reference = $1) "
                                      "ORDER BY id";
  static const std::string kClock =
      "SELECT state FROM case_clocks WHERE case_id = (SELECT id FROM cases WHERE reference = $1)";
  Pipeline pipeline(db);
  pipeline.add(lock == RowLock::kForUpdate ? kFindLocked : kFind, Params().add(reference));
  pipeline.add(kCommitments, Params().add(reference));
  pipeline.add(kRedress, Params().add(reference));
  pipeline.add(kClock, Params().add(reference));
  auto results = pipeline.run();
  if (!results) return results.error();
  const auto& rows = *results;
  if (rows[0].empty()) return Error::not_found("no case " + reference);
  CaseSnapshot snapshot;
  snapshot.record = read_case(rows[0], 0);
  for (int i = 0; i < rows[1].size(); ++i) snapshot.commitments.push_back(read_commitment(rows[1], i));
  for (int i = 0; i < rows[2].size(); ++i) snapshot.redress.push_back(read_redress(rows[2], i));
  if (!rows[3].empty()) snapshot.clock_state = rows[3].text(0, 0);
  return snapshot;
}

std::string text_array(const std::vector<std::string>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

SnapshotsRead add_snapshots_read(Pipeline& pipeline, const std::vector<std::string>& references) {
  // ORDER BY id ... FOR UPDATE: PostgreSQL locks the rows as the sorted scan returns them.
  static const std::string kFind = std::string("SELECT ") + kCaseColumns +
                                   " FROM cases WHERE reference = ANY($1::text[]) ORDER BY id FOR UPDATE";
  static const std::string kCommitments = std::string("SELECT ") + kCommitmentColumns +
                                          " FROM commitments WHERE case_id IN (SELECT id FROM cases WHERE "
                                          "reference = ANY($1::text[])) ORDER BY case_id, id";
  static const std::string kRedress = std::string("SELECT ") + kRedressColumns +
                                      " FROM redress WHERE case_id IN (SELECT id FROM cases WHERE reference = "
                                      "ANY($1::text[])) ORDER BY case_id, id";
  static const std::string kClock =
      "SELECT case_id, state FROM case_clocks WHERE case_id IN (SELECT id FROM cases WHERE reference = "
      "ANY($1::text[]))";
  SnapshotsRead read{pipeline.size()};
  const std::string keys = text_array(references);
  pipeline.add(kFind, Params().add(keys));
  pipeline.add(kCommitments, Params().add(keys));
  pipeline.add(kRedress, Params().add(keys));
  pipeline.add(kClock, Params().add(keys));
  return read;
}

std::vector<CaseSnapshot> take_snapshots(const std::vector<Rows>& results, SnapshotsRead read) {
  const Rows& cases = results.at(read.first);
  const Rows& commitments = results.at(read.first + 1);
  const Rows& redress = results.at(read.first + 2);
  const Rows& clocks = results.at(read.first + 3);
  std::vector<CaseSnapshot> snapshots;
  std::unordered_map<std::int64_t, std::size_t> by_id;
  for (int i = 0; i < cases.size(); ++i) {
    CaseSnapshot snapshot;
    snapshot.record = read_case(cases, i);
    by_id.emplace(snapshot.record.id, snapshots.size());
    snapshots.push_back(std::move(snapshot));
  }
  // Each statement read after the locks were taken: rows of a case not locked (it was removed
  // meanwhile) have no snapshot and are skipped.
  for (int i = 0; i < commitments.size(); ++i) {
    Commitment k = read_commitment(commitments, i);
    if (auto found = by_id.find(k.case_id); found != by_id.end())
      snapshots[found->second].commitments.push_back(std::move(k));
  }
  for (int i = 0; i < redress.size(); ++i) {
    Redress r = read_redress(redress, i);
    if (auto found = by_id.find(r.case_id); found != by_id.end()) snapshots[found->second].redress.push_back(std::move(r));
  }
  for (int i = 0; i < clocks.size(); ++i)
    if (auto found = by_id.find(clocks.integer(i, 0)); found != by_id.end())
      snapshots[found->second].clock_state = clocks.text(i, 1);
  return snapshots;
}

namespace {

// Merges `changed` rows into `rows`, both sorted by id: a row with the same id is replaced.
template <typename Row>
void merge_by_id(std::vector<Row>& rows, const std::vector<Row>& changed) {
  for (const auto& row : changed) {
    auto at = std::lower_bound(rows.begin(), rows.end(), row.id, [](const Row& r, std::int64_t id) { return r.id < id; });
    if (at != rows.end() && at->id == row.id)
      *at = row;
    else
      rows.insert(at, row);
  }
}

}  // namespace

void apply_change(CaseSnapshot& snapshot, const Change& change) {
  snapshot.record = change.after;
  if (change.clock_state) {
    snapshot.clock_state = *change.clock_state;
    snapshot.clock_fold = change.clock_fold;
  }
  merge_by_id(snapshot.commitments, change.commitments);
  merge_by_id(snapshot.redress, change.redress);
}

Result<std::vector<Event>> select_events(Connection& db, std::int64_t case_id) {
  auto rows = db.query("SELECT case_id, seq, type, at, actor, data, hash, seals FROM events WHERE case_id = $1 ORDER BY seq",
                       Params().add(case_id));
  if (!rows) return rows.error();
  std::vector<Event> events;
  events.reserve(static_cast<std::size_t>(rows->size()));
  for (int i = 0; i < rows->size(); ++i) events.push_back(read_event(*rows, i));
  return events;
}

Result<std::vector<Message>> select_messages(Connection& db, std::int64_t case_id) {
  auto rows = db.query(
      "SELECT id, case_id, visibility, author, body, at, state, via, original, mail_blob FROM messages "
      "WHERE case_id = $1 ORDER BY id",
      Params().add(case_id));
  if (!rows) return rows.error();
  std::vector<Message> messages;
  for (int i = 0; i < rows->size(); ++i) messages.push_back(read_message(*rows, i));
  if (messages.empty()) return messages;
  // Their files, in one statement for the case (most messages have none).
  auto files = db.query(
      "SELECT a.message_id, a.blob_key, a.filename, a.content_type, a.size FROM message_attachments a "
      "JOIN messages m ON m.id = a.message_id WHERE m.case_id = $1 ORDER BY a.message_id, a.position",
      Params().add(case_id));
  if (!files) return files.error();
  std::size_t next = 0;
  for (int i = 0; i < files->size(); ++i) {
    const std::int64_t message_id = files->integer(i, 0);
    while (next < messages.size() && messages[next].id < message_id) ++next;
    if (next == messages.size() || messages[next].id != message_id) continue;
    messages[next].attachments.push_back(
        AttachmentRef{files->text(i, 1), files->text(i, 2), files->text(i, 3), files->integer(i, 4)});
  }
  return messages;
}

Result<std::optional<Staff>> select_staff(Connection& db, const std::string& id_or_email) {
  auto rows = db.query(std::string("SELECT ") + kStaffColumns + " FROM staff WHERE id = $1 OR lower(email) = lower($1)",
                       Params().add(id_or_email));
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<Staff>();
  return std::optional<Staff>(read_staff(*rows, 0));
}

Result<std::vector<Staff>> select_staff_with_roles(Connection& db, const std::vector<Role>& roles,
                                                   const std::vector<std::string>& teams) {
  std::vector<Staff> found;
  if (roles.empty()) return found;
  auto rows = db.query(std::string("SELECT ") + kStaffColumns + " FROM staff WHERE active = 1 ORDER BY id");
  if (!rows) return rows.error();
  for (int i = 0; i < rows->size(); ++i) {
    Staff staff = read_staff(*rows, i);
    bool role_matches = std::find(roles.begin(), roles.end(), staff.role) != roles.end();
    bool team_matches = teams.empty() || std::find(teams.begin(), teams.end(), staff.team) != teams.end();
    if (role_matches && team_matches) found.push_back(std::move(staff));
  }
  return found;
}

Result<CasePage> select_case_page(Connection& db, const CaseFilter& filter, const std::string& text,
                                  const std::string& cursor, int limit, Time now) {
  std::optional<std::int64_t> after;
  if (!cursor.empty()) {
    after = sqlite::decode_cursor(cursor);
    if (!after) return Error::invalid_field("cursor", "is not a cursor this server issued");
  }
  limit = std::clamp(limit, 1, 200);
  // Newest first; the cursor is the last id shown, so cases that arrive later never shift a page.
  std::string sql = std::string("SELECT ") + kCaseColumns + " FROM cases WHERE true";
  Params params;
  int n = 0;
  auto next = [&n] { return "$" + std::to_string(++n); };
  if (after) params.add(*after), sql += " AND id < " + next();
  if (filter.status) params.add(std::string(to_string(*filter.status))), sql += " AND status = " + next();
  if (filter.open_only)
    sql += " AND status IN ('received','acknowledged','investigating','awaiting_client','redress_proposed')";
  if (filter.owner_id == "none")
    sql += " AND owner_id = ''";
  else if (!filter.owner_id.empty())
    params.add(filter.owner_id), sql += " AND owner_id = " + next();
  if (!filter.workflow.empty()) params.add(filter.workflow), sql += " AND workflow = " + next();
  if (filter.escalation_level)
    params.add(std::int64_t{*filter.escalation_level}), sql += " AND escalation_level = " + next();
  if (!filter.client_email.empty()) params.add(filter.client_email), sql += " AND lower(client_email) = lower(" + next() + ")";
  if (!filter.team.empty()) params.add(filter.team), sql += " AND team = " + next();
  // Each tag through the tags by case (migration 5), whose key is (tag, case_id).
  for (const auto& tag : filter.tags)
    params.add(tag), sql += " AND id IN (SELECT case_id FROM case_tags WHERE tag = " + next() + ")";
  if (filter.received_from) params.add(to_micros(*filter.received_from)), sql += " AND received_at >= " + next();
  if (filter.received_to) params.add(to_micros(*filter.received_to)), sql += " AND received_at < " + next();
  if (filter.restricted == CaseFilter::Restricted::kHidden)
    sql += " AND NOT EXISTS (SELECT 1 FROM case_privacy p WHERE p.case_id = cases.id AND p.state = 'restricted')";
  if (!text.empty()) {
    std::string pattern = "%";
    for (char c : text) {
      if (c == '%' || c == '_' || c == '\\') pattern += '\\';
      pattern += c;
    }
    pattern += '%';
    params.add(pattern);
    std::string p = next();
    // The expression of the trigram index (migration 1): it narrows the rows; each field's own
    // ILIKE decides, so a match never spans two fields.
    sql += " AND (reference || ' ' || subject || ' ' || client_name || ' ' || client_email) ILIKE " + p +
           " AND (reference ILIKE " + p + " OR subject ILIKE " + p + " OR client_name ILIKE " + p +
           " OR client_email ILIKE " + p + ")";
  }
  if (filter.overdue) {
    params.add(to_micros(now));
    sql +=
        " AND EXISTS (SELECT 1 FROM commitments k WHERE k.case_id = cases.id AND (k.status = 'broken' OR "
        "(k.status = 'open' AND k.due_at < " +
        next() + ")))";
  }
  sql += " ORDER BY id DESC LIMIT " + std::to_string(limit + 1);
  auto rows = db.query(sql, params);
  if (!rows) return rows.error();
  CasePage page;
  for (int i = 0; i < rows->size(); ++i) page.cases.push_back(read_case(*rows, i));
  if (static_cast<int>(page.cases.size()) > limit) {
    page.cases.pop_back();
    page.next_cursor = sqlite::encode_cursor(page.cases.back().id);
  }
  return page;
}

Result<AuditReport> audit_chains(Connection& db) {
  AuditReport report;
  // One snapshot for the whole audit; cases a batch at a time so memory stays bounded.
  auto transaction = Transaction::begin(db, Isolation::kRepeatableRead);
  if (!transaction) return transaction.error();
  std::int64_t after = 0;
  for (;;) {
    auto cases = db.query("SELECT id, reference, version, head_hash FROM cases WHERE id > $1 ORDER BY id LIMIT 500",
                          Params().add(after));
    if (!cases) return cases.error();
    if (cases->empty()) break;
    for (int row = 0; row < cases->size(); ++row) {
      std::int64_t id = cases->integer(row, 0);
      after = id;
      std::string reference = cases->text(row, 1);
      std::int64_t version = cases->integer(row, 2);
      std::string head = cases->text(row, 3);
      ++report.cases_checked;
      auto events = select_events(db, id);
      if (!events) return events.error();
      std::string previous;
      std::int64_t expected_seq = 1;
      std::optional<AuditReport::Break> found;
      for (const Event& e : *events) {
        ++report.events_checked;
        if (found) continue;
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
      if (!found && expected_seq - 1 != version) {
        std::int64_t last = expected_seq - 1;
        found = AuditReport::Break{reference, last < version ? expected_seq : version + 1,
                                   "the history ends at event " + std::to_string(last) +
                                       " but the case is at version " + std::to_string(version)};
      }
      if (!found && previous != head)
        found = AuditReport::Break{reference, version, "the case's head hash is not the last event's hash"};
      if (found) report.broken.push_back(std::move(*found));
    }
  }
  auto orphans = db.query("SELECT DISTINCT case_id FROM events WHERE case_id NOT IN (SELECT id FROM cases)");
  if (!orphans) return orphans.error();
  for (int i = 0; i < orphans->size(); ++i)
    report.broken.push_back(
        AuditReport::Break{"case id " + std::to_string(orphans->integer(i, 0)), 1, "events belong to no case"});
  if (auto s = transaction->commit(); !s) return s.error();
  return report;
}

}  // namespace redress::postgres
