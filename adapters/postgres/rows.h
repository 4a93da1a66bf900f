// Row mapping between the PostgreSQL tables and the domain types, and the reads shared by the
// writer (inside its transaction, with the case row locked) and the readers. The columns and their
// encodings are SQLite's (adapters/sqlite/rows.h): times in microseconds, enums by their names,
// flags 0/1. SQL is never built from user input except placeholders.
//
// Thread-compatible: each function uses the connection it is given, which its caller owns.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "adapters/postgres/connection.h"
#include "engine/model.h"
#include "engine/store.h"
#include "ports/case_reader.h"

namespace redress::postgres {

// The cases columns in the order read_case reads them, for SELECT lists.
extern const char* const kCaseColumns;
extern const char* const kCommitmentColumns;
inline constexpr int kCommitmentColumnCount = 21;
extern const char* const kRedressColumns;
extern const char* const kStaffColumns;
// The statements, made from the column lists: every column as $1..$n in list order.
[[nodiscard]] const std::string& insert_case_sql();
[[nodiscard]] const std::string& update_case_sql_text();  // the expected version as $(n+1)
[[nodiscard]] const std::string& upsert_commitment_sql();
[[nodiscard]] const std::string& upsert_redress_sql();
// The number of columns in kCaseColumns: SQLite's (sqlite::kCaseColumnCount).
inline constexpr int kCaseColumnCount = 42;

// The parameters of insert_case_sql(), in kCaseColumns order.
[[nodiscard]] Params case_params(const Case& c);
[[nodiscard]] Case read_case(const Rows& rows, int row, int first_column = 0);
[[nodiscard]] Params commitment_params(const Commitment& k);
[[nodiscard]] Commitment read_commitment(const Rows& rows, int row, int first_column = 0);
[[nodiscard]] Params redress_params(const Redress& r);
[[nodiscard]] Redress read_redress(const Rows& rows, int row, int first_column = 0);
[[nodiscard]] Staff read_staff(const Rows& rows, int row, int first_column = 0);
[[nodiscard]] Event read_event(const Rows& rows, int row);  // case_id, seq, type, at, actor, data, hash, seals
[[nodiscard]] Message read_message(const Rows& rows, int row);
[[nodiscard]] std::optional<std::int64_t> micros_or_null(const std::optional<Time>& t);
[[nodiscard]] std::optional<Time> time_or_null(const Rows& rows, int row, int column);

// Whether to lock the case row until the end of the transaction (the writer's loads).
enum class RowLock { kNone, kForUpdate };
// The case with its commitments, redress and clock state; kNotFound when no such case. With
// kForUpdate the case row stays locked by the caller's transaction, so the snapshot stays current
// until it ends: concurrent writers on one case, on any node, wait for each other.
[[nodiscard]] Result<CaseSnapshot> load_snapshot(Connection& db, const std::string& reference, RowLock lock);

// A PostgreSQL array literal of `values` ("{\"a\",\"b\"}"), each quoted and escaped, for a text
// parameter cast in SQL (`= ANY($1::text[])`): one statement for many keys.
[[nodiscard]] std::string text_array(const std::vector<std::string>& values);

// The cases of `references` with their commitments, redress and clock state, read in one pipelined
// round trip (queued on `pipeline` by add_snapshots_read, read back by take_snapshots). Every
// found case row is locked FOR UPDATE in id order: two writers locking overlapping sets of cases,
// on any nodes, take the locks in the same order and so cannot deadlock on them. A reference
// with no case is missing from the answer.
struct SnapshotsRead {
  std::size_t first = 0;  // the index of the first of its statements in the pipeline's results
};
[[nodiscard]] SnapshotsRead add_snapshots_read(Pipeline& pipeline, const std::vector<std::string>& references);
[[nodiscard]] std::vector<CaseSnapshot> take_snapshots(const std::vector<Rows>& results, SnapshotsRead read);

// `snapshot` as it is after `change` was written to it: what load_snapshot would read then.
void apply_change(CaseSnapshot& snapshot, const Change& change);
[[nodiscard]] Result<std::vector<Event>> select_events(Connection& db, std::int64_t case_id);
[[nodiscard]] Result<std::vector<Message>> select_messages(Connection& db, std::int64_t case_id);
[[nodiscard]] Result<std::optional<Staff>> select_staff(Connection& db, const std::string& id_or_email);
[[nodiscard]] Result<std::vector<Staff>> select_staff_with_roles(Connection& db, const std::vector<Role>& roles,
                                                                 const std::vector<std::string>& teams);
// `text`: "" lists; otherwise only the cases whose reference, subject, client name or email
// contain it (case-insensitively; the trigram index narrows the rows).
[[nodiscard]] Result<CasePage> select_case_page(Connection& db, const CaseFilter& filter, const std::string& text,
                                                const std::string& cursor, int limit, Time now);
[[nodiscard]] Result<AuditReport> audit_chains(Connection& db);

}  // namespace redress::postgres
