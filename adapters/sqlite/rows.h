// Row mapping between the SQLite tables and the domain types, and the read queries shared by the
// writer (inside its transaction) and the reader pool. Every statement is prepared and cached per
// connection; nothing here builds SQL from user input except placeholders. Functions take the
// connection to use; they are as thread-safe as that connection's owner makes them.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "adapters/sqlite/database.h"
#include "engine/model.h"
#include "ports/store.h"

namespace redress::sqlite {

inline constexpr int kCaseColumnCount = 42;
// The cases columns in the order read_case() reads them, for SELECT lists.
extern const char* const kCaseColumns;
extern const char* const kInsertCaseSql;
extern const char* const kUpdateCaseSql;  // binds the case as ?1..?42 and the expected version as ?43
extern const char* const kUpsertCommitmentSql;
extern const char* const kUpsertRedressSql;

// The bind_* functions bind text without copying it: the bound object must outlive the step.
void bind_case(Statement& statement, const Case& c);
// Writes `after` over the stored row of the case if its version is still `expected_version`,
// setting only the columns in which `after` differs from `before` (the row as stored at that
// version) plus the version: unchanged indexed columns cost no index maintenance. Returns the
// number of rows changed: 0 when the stored version is not `expected_version` (stale).
[[nodiscard]] Result<std::int64_t> update_case(Connection& db, const Case& before, const Case& after,
                                               std::int64_t expected_version);
[[nodiscard]] Case read_case(const Statement& statement, int first_column);
void bind_commitment(Statement& statement, const Commitment& k);
// Writes a commitment row: `before` is the row as stored (null when new). An existing row gets an
// UPDATE of only the columns that differ (none: no write at all), so indexes whose columns did not
// change are left alone; the upsert of every column would rewrite each of the table's indexes.
[[nodiscard]] Status write_commitment(Connection& db, const Commitment* before, const Commitment& after);
[[nodiscard]] Commitment read_commitment(const Statement& statement, int first_column);
void bind_redress(Statement& statement, const Redress& r);
[[nodiscard]] Redress read_redress(const Statement& statement, int first_column);
[[nodiscard]] Staff read_staff(const Statement& statement, int first_column);
// A webhook_subscriptions row: id, url, event_types, description, secret_sealed, created_at,
// disabled_at, coalesce(disabled_reason, '') as columns 0..7.
[[nodiscard]] Subscription read_subscription(const Statement& statement);
// Steps a statement whose one row holds one time or NULL (a min() over no rows), and resets it:
// the time, nullopt for NULL, or the statement's error.
[[nodiscard]] Result<std::optional<Time>> step_optional_time(Statement& statement);

[[nodiscard]] Result<CaseSnapshot> load_snapshot(Connection& db, const std::string& reference);
[[nodiscard]] Result<std::vector<Event>> select_events(Connection& db, std::int64_t case_id);
[[nodiscard]] Result<std::vector<Message>> select_messages(Connection& db, std::int64_t case_id);
[[nodiscard]] std::optional<Staff> select_staff(Connection& db, const std::string& id_or_email);
[[nodiscard]] std::vector<Staff> select_staff_with_roles(Connection& db, const std::vector<Role>& roles,
                                                         const std::vector<std::string>& teams);
[[nodiscard]] Result<CasePage> select_case_page(Connection& db, const CaseFilter& filter, const std::string& text,
                                                const std::string& cursor, int limit, Time now);
[[nodiscard]] Result<AuditReport> audit_chains(Connection& db);

// The first row of `rows` (sorted by id, as a snapshot keeps them) whose id is not below `id`.
template <typename Rows>
auto lower_bound_id(Rows& rows, std::int64_t id) {
  return std::lower_bound(rows.begin(), rows.end(), id, [](const auto& x, std::int64_t v) { return x.id < v; });
}

// Opaque list cursors: "after this case id", base64url-encoded with a version tag.
[[nodiscard]] std::string encode_cursor(std::int64_t after_id);
[[nodiscard]] std::optional<std::int64_t> decode_cursor(const std::string& cursor);

}  // namespace redress::sqlite
