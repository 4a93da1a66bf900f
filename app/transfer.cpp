// `redress export` and `redress import`: a whole installation moved between stores.
//
// The file is JSON Lines: a header ({"redress_export": 1, "from": "sqlite", "schema": N}), then one
// line per row ({"table": T, "row": {column: value}}) table by table in the order their foreign
// keys need, the raw mail and files last ("blobs", bytes in base64), then a trailer with every
// table's row count. Integers stay integers and text text; nothing is translated, so the hash
// chains verify the same on the other side. Import refuses a database that is not empty, a column
// the target does not have (it would be lost), and a file without its trailer (cut short); it
// writes everything in one transaction and then sets the id sequences past the highest id.
#include <sodium.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include "adapters/postgres/connection.h"
#include "adapters/postgres/postgres_store.h"
#include "adapters/postgres/schema.h"
#include "adapters/postgres/summaries.h"
#include "adapters/sqlite/blob_store.h"
#include "adapters/sqlite/database.h"
#include "adapters/sqlite/schema.h"
#include "app/cli.h"
#include "app/privacy_commands.h"

namespace redress {

// Named, not anonymous: the app's files may share one unity file in the sanitizer builds.
namespace transfer_detail {

namespace json = boost::json;

// Every table that holds an installation's data, parents before children. Not copied: leases
// (who runs what now), the search index, the report summaries and the return ledger (each store
// derives its own).
constexpr const char* kTables[] = {"sequences",
                                   "staff",
                                   "tokens",
                                   "cases",
                                   "events",
                                   "commitments",
                                   "redress",
                                   "messages",
                                   "message_attachments",
                                   "notifications",
                                   "notification_attempts",
                                   "idempotency_keys",
                                   "client_links",
                                   "webhook_subscriptions",
                                   "case_clocks",
                                   "case_wakes",
                                   "digests",
                                   "staff_sessions",
                                   "sign_in_failures",
                                   "inbound_mail",
                                   "mailbox_positions",
                                   "case_tags",
                                   "saved_views",
                                   "canned_replies",
                                   // Personal data (docs/personal-data.md): holds, restriction, erasures.
                                   "case_privacy",
                                   "erasures",
                                   "erasure_blobs",
                                   "retention_runs"};

// The ids PostgreSQL hands out from a sequence of its own, set past the imported rows.
constexpr std::pair<const char*, const char*> kIdSequences[] = {
    {"cases", "case_ids"}, {"commitments", "commitment_ids"}, {"redress", "redress_ids"}, {"messages", "message_ids"}};
constexpr const char* kIdentityTables[] = {"events",       "notifications",         "notification_attempts",
                                           "client_links", "webhook_subscriptions", "inbound_mail",
                                           "saved_views",
                                           "canned_replies",
                                           "erasures"};

int transfer_fail(const std::string& message) {
  std::cerr << "redress: " << message << "\n";
  return kExitFailure;
}

std::string base64(std::string_view bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

std::optional<std::string> unbase64(std::string_view text) {
  std::string out(text.size(), '\0');
  std::size_t length = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(), nullptr,
                        &length, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0)
    return std::nullopt;
  out.resize(length);
  return out;
}

// "exporting cases: 1,234 rows" redrawn on a terminal, at most ten times a second.
class Progress {
 public:
  explicit Progress(const char* verb) : verb_(verb), terminal_(isatty(2) == 1) {}
  void at(const std::string& table, std::int64_t rows, bool last = false) {
    if (!terminal_) return;
    auto now = std::chrono::steady_clock::now();
    if (!last && now - shown_ < std::chrono::milliseconds(100)) return;
    shown_ = now;
    std::cerr << "\r" << verb_ << " " << table << ": " << rows << " rows\033[K" << (last ? "\n" : "") << std::flush;
  }

 private:
  const char* verb_;
  bool terminal_;
  std::chrono::steady_clock::time_point shown_{};
};

// Writes every row of `table` (SELECT *) as lines; the number written.
Result<std::int64_t> export_table(sqlite::Connection& db, const std::string& table, std::ostream& out,
                                  Progress& progress, const char* name_as = nullptr) {
  auto statement = db.prepare("SELECT * FROM " + table);
  if (!statement) return statement.error();
  sqlite3_stmt* s = statement->handle();
  const int columns = sqlite3_column_count(s);
  std::int64_t rows = 0;
  const std::string shown = name_as ? name_as : table;
  while (statement->step()) {
    json::object row;
    for (int c = 0; c < columns; ++c) {
      std::string column = sqlite3_column_name(s, c);
      if (name_as && column == "id") continue;  // the blob file's rowid: not part of a blob
      switch (sqlite3_column_type(s, c)) {
        case SQLITE_NULL: row[column] = nullptr; break;
        case SQLITE_INTEGER: row[column] = static_cast<std::int64_t>(sqlite3_column_int64(s, c)); break;
        case SQLITE_FLOAT: row[column] = sqlite3_column_double(s, c); break;
        case SQLITE_BLOB: {
          std::string_view bytes(static_cast<const char*>(sqlite3_column_blob(s, c)),
                                 static_cast<std::size_t>(sqlite3_column_bytes(s, c)));
          row[column] = json::object{{"base64", base64(bytes)}};
          break;
        }
        default:
          row[column] = std::string_view(reinterpret_cast<const char*>(sqlite3_column_text(s, c)),
                                         static_cast<std::size_t>(sqlite3_column_bytes(s, c)));
      }
    }
    out << json::serialize(json::object{{"table", shown}, {"row", std::move(row)}}) << "\n";
    progress.at(shown, ++rows);
  }
  if (!statement->status()) return statement->status().error();
  progress.at(shown, rows, true);
  return rows;
}

void print_summary(const char* verb, const std::map<std::string, std::int64_t>& counts, const std::string& where) {
  std::int64_t total = 0;
  for (const auto& [table, n] : counts) total += n;
  std::cout << verb << " " << total << " rows " << where << ":";
  for (const char* table : kTables)
    if (auto it = counts.find(table); it != counts.end() && it->second) std::cout << " " << table << "=" << it->second;
  if (auto it = counts.find("blobs"); it != counts.end() && it->second) std::cout << " blobs=" << it->second;
  std::cout << "\n";
}

}  // namespace transfer_detail

int command_export(const Arguments& args) {
  using namespace transfer_detail;  // here only: the unity build puts other files after this one
  if (!args.has("out")) {
    std::cerr << "redress: export needs --out FILE\nRun `redress export --help` for its options.\n";
    return kExitUsage;
  }
  if (!args.config.database.empty())
    return transfer_fail("export reads the SQLite database of the data directory; leave --database out");
  const std::string path = args.config.database_path();
  if (!std::ifstream(path)) return transfer_fail("there is no database at " + path + "; nothing to export");
  const std::string out_path = args.get("out");
  std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
  if (!out) return transfer_fail("cannot write " + out_path);
  try {
    sqlite::Connection db(path, sqlite::OpenMode::kReadOnly);
    if (auto s = db.exec("PRAGMA busy_timeout = 10000"); !s) return transfer_fail(s.error().detail);
    auto version = sqlite::schema_version(db);
    if (!version) return transfer_fail(version.error().detail);
    if (*version != sqlite::latest_schema_version())
      return transfer_fail("the database " + path + " has schema version " + std::to_string(*version) +
                           ", this redress has " + std::to_string(sqlite::latest_schema_version()) +
                           ": run `redress migrate` (or a matching redress)");
    // One read transaction: a consistent copy even while a server writes.
    if (auto s = db.exec("BEGIN"); !s) return transfer_fail(s.error().detail);
    out << json::serialize(json::object{{"redress_export", 1}, {"from", "sqlite"}, {"schema", *version}}) << "\n";
    Progress progress("exporting");
    std::map<std::string, std::int64_t> counts;
    for (const char* table : kTables) {
      auto n = export_table(db, table, out, progress);
      if (!n) return transfer_fail("exporting " + std::string(table) + ": " + n.error().detail);
      counts[table] = *n;
    }
    const std::string blobs = sqlite::SqliteBlobStore::path_for(path);
    if (std::ifstream(blobs)) {
      sqlite::Connection blob_db(blobs, sqlite::OpenMode::kReadOnly);
      (void)blob_db.exec("PRAGMA busy_timeout = 10000");
      auto n = export_table(blob_db, "blobs", out, progress, "blobs");
      if (!n) return transfer_fail("exporting the blobs: " + n.error().detail);
      counts["blobs"] = *n;
    }
    (void)db.exec("COMMIT");
    json::object count_object;
    for (const auto& [table, n] : counts) count_object[table] = n;
    out << json::serialize(json::object{{"end", true}, {"counts", std::move(count_object)}}) << "\n";
    out.flush();
    if (!out) return transfer_fail("writing " + out_path + " failed");
    print_summary("Exported", counts, "from " + path + " to " + out_path);
    return kExitOk;
  } catch (const std::exception& e) {
    return transfer_fail(e.what());
  }
}

int command_import(const Arguments& args) {
  using namespace transfer_detail;
  if (!args.has("in")) {
    std::cerr << "redress: import needs --in FILE\nRun `redress import --help` for its options.\n";
    return kExitUsage;
  }
  if (args.config.database.empty())
    return transfer_fail(
        "import writes into a PostgreSQL database: give --database postgresql://… (or REDRESS_DATABASE_URL)");
  const std::string in_path = args.get("in");
  std::ifstream in(in_path, std::ios::binary);
  if (!in) return transfer_fail("cannot read " + in_path);
  const std::string where = args.config.database_name();
  auto connection = postgres::Connection::open(args.config.database);
  if (!connection) return transfer_fail("cannot reach " + where + ": " + connection.error().detail);
  postgres::Connection& db = **connection;
  auto migrated = postgres::migrate(db);
  if (!migrated) return transfer_fail(migrated.error().detail);

  std::string line;
  if (!std::getline(in, line)) return transfer_fail(in_path + " is empty");
  boost::system::error_code ec;
  auto header = json::parse(line, ec);
  if (ec || !header.is_object() || !header.as_object().contains("redress_export"))
    return transfer_fail(in_path + " is not a redress export (its first line is no export header)");

  auto transaction = postgres::Transaction::begin(db);
  if (!transaction) return transfer_fail(transaction.error().detail);
  // Nobody else imports meanwhile, and the target is empty.
  if (auto s = db.execute("LOCK TABLE cases, staff IN EXCLUSIVE MODE"); !s) return transfer_fail(s.error().detail);
  auto present = db.query_once("SELECT (SELECT count(*) FROM cases) + (SELECT count(*) FROM staff)");
  if (!present) return transfer_fail(present.error().detail);
  if (present->integer(0, 0) != 0)
    return transfer_fail(where + " is not empty (it has cases or staff); import only into a new database");

  std::map<std::string, std::set<std::string>> columns_of;  // the target's columns, by table
  auto columns = db.query_once(
      "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()");
  if (!columns) return transfer_fail(columns.error().detail);
  for (int i = 0; i < columns->size(); ++i) columns_of[columns->text(i, 0)].insert(columns->text(i, 1));

  std::map<std::string, std::int64_t> counts;
  std::optional<json::object> trailer;
  Progress progress("importing");
  std::unique_ptr<postgres::Pipeline> batch;
  auto flush = [&]() -> Status {
    if (!batch || batch->size() == 0) return Status::success();
    auto ran = batch->run();
    batch.reset();
    if (!ran) return ran.error();
    return Status::success();
  };
  std::int64_t line_number = 1;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.empty()) continue;
    auto parsed = json::parse(line, ec);
    if (ec || !parsed.is_object())
      return transfer_fail(in_path + ":" + std::to_string(line_number) + ": not a JSON object");
    const json::object& object = parsed.as_object();
    if (object.contains("end")) {
      trailer = object;
      break;
    }
    const auto* table_value = object.if_contains("table");
    const auto* row_value = object.if_contains("row");
    if (!table_value || !table_value->is_string() || !row_value || !row_value->is_object())
      return transfer_fail(in_path + ":" + std::to_string(line_number) + ": expected {\"table\": …, \"row\": {…}}");
    const std::string table(table_value->as_string());
    auto target = columns_of.find(table);
    if (target == columns_of.end())
      return transfer_fail(in_path + ":" + std::to_string(line_number) + ": " + where + " has no table " + table);
    std::string names, placeholders;
    postgres::Params params;
    int n = 0;
    for (const auto& [key, value] : row_value->as_object()) {
      const std::string column(key);
      if (!target->second.count(column))
        return transfer_fail(in_path + ":" + std::to_string(line_number) + ": " + where + " has no column " + table +
                             "." + column + " (an older redress?); nothing was imported");
      names += (n ? ", " : "") + column;
      placeholders += (n ? ",$" : "$") + std::to_string(n + 1);
      ++n;
      if (value.is_null())
        params.add_null();
      else if (value.is_int64())
        params.add(value.as_int64());
      else if (value.is_uint64())
        params.add(static_cast<std::int64_t>(value.as_uint64()));
      else if (value.is_string())
        params.add(std::string_view(value.as_string()));
      else if (value.is_object() && value.as_object().contains("base64") &&
               value.as_object().at("base64").is_string()) {
        auto bytes = unbase64(value.as_object().at("base64").as_string());
        if (!bytes) return transfer_fail(in_path + ":" + std::to_string(line_number) + ": bad base64 in " + column);
        params.add_bytes(*bytes);
      } else {
        return transfer_fail(in_path + ":" + std::to_string(line_number) + ": " + table + "." + column +
                             " holds a value of a kind redress never writes");
      }
    }
    if (!batch) batch = std::make_unique<postgres::Pipeline>(db);
    batch->add("INSERT INTO " + table + "(" + names + ") VALUES (" + placeholders + ")", std::move(params));
    progress.at(table, ++counts[table]);
    if (batch->size() >= 500)
      if (Status s = flush(); !s) return transfer_fail("importing " + table + ": " + s.error().detail);
  }
  if (Status s = flush(); !s) return transfer_fail(s.error().detail);
  if (!trailer)
    return transfer_fail(in_path + " ends before its last line: the export was cut short; nothing was imported");
  // Every table holds what the export counted.
  if (const auto* expected = trailer->if_contains("counts"); expected && expected->is_object())
    for (const auto& [table, n] : expected->as_object()) {
      std::int64_t want = n.is_int64() ? n.as_int64() : -1;
      std::int64_t got = counts[std::string(table)];
      if (want != got)
        return transfer_fail("the export counted " + std::to_string(want) + " rows of " + std::string(table) +
                             " but holds " + std::to_string(got) + "; nothing was imported");
    }
  // The ids PostgreSQL hands out next come after the imported ones.
  for (const auto& [table, sequence] : kIdSequences)
    if (auto s = db.execute(std::string("SELECT setval('") + sequence + "', greatest((SELECT max(id) FROM " + table +
                            "), 1), (SELECT max(id) FROM " + table + ") IS NOT NULL)");
        !s)
      return transfer_fail(s.error().detail);
  for (const char* table : kIdentityTables)
    if (auto s = db.execute(std::string("SELECT setval(pg_get_serial_sequence('") + table + "', 'id'), " +
                            "greatest((SELECT max(id) FROM " + table + "), 1), (SELECT max(id) FROM " + table +
                            ") IS NOT NULL)");
        !s)
      return transfer_fail(s.error().detail);
  // The report summaries are the writer's (adapters/postgres/summaries.h): made from the rows.
  if (auto s = postgres::rebuild_summaries(db); !s) return transfer_fail(s.error().detail);
  // The return ledger is each store's own (engine/return_ledger.h): rebuilt from the imported
  // histories when redress next starts with the workflows.
  if (auto s = db.execute("UPDATE return_ledger SET built = false WHERE id = 1"); !s) return transfer_fail(s.error().detail);
  if (auto s = transaction->commit(); !s)
    return transfer_fail("the import could not be committed: " + s.error().detail);
  for (const auto& [table, n] : counts) progress.at(table, n, false);
  print_summary("Imported", counts, "from " + in_path + " into " + where);
  // An export made from a backup lacks the erasures made since: the erasure ledger's are made again.
  if (auto reapplied = reapply_erasure_ledger(args.config); !reapplied)
    std::cerr << "redress: the erasure ledger could not be applied: " << reapplied.error().detail << "\n";
  else if (*reapplied > 0)
    std::cout << "The erasure ledger named erasures the export lacked: " << *reapplied
              << " cases erased or restricted again.\n";
  return kExitOk;
}

}  // namespace redress
