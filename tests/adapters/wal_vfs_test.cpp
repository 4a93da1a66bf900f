// The redress-wal VFS (adapters/sqlite/wal_vfs.h) on real files: what a connection through it
// commits is in the WAL file, whole, the moment the commit returns, for any other connection or
// process (which reads frames through its own descriptor, on the default VFS), with or without a
// sync; large commits go out whole; and the database stays intact.
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <filesystem>
#include <random>
#include <string>

#include "adapters/sqlite/database.h"
#include "adapters/sqlite/wal_vfs.h"

using namespace redress;
namespace fs = std::filesystem;

namespace {

struct TempFile {
  TempFile() {
    std::random_device device;
    dir = fs::temp_directory_path() / ("redress-wal-vfs-test-" + std::to_string(device()));
    fs::create_directories(dir);
    path = (dir / "test.db").string();
  }
  ~TempFile() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  fs::path dir;
  std::string path;
};

// A connection on SQLite's default VFS, as another process (or the sqlite3 shell) would have.
struct Plain {
  explicit Plain(const std::string& path) {
    REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  }
  ~Plain() { sqlite3_close(db); }
  std::string text(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
    int rc = sqlite3_step(stmt);
    INFO(sql << ": " << sqlite3_errmsg(db));
    REQUIRE(rc == SQLITE_ROW);
    std::string value(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
    sqlite3_finalize(stmt);
    return value;
  }
  sqlite3* db = nullptr;
};

void must(sqlite::Connection& db, const std::string& sql) {
  auto status = db.exec(sql);
  INFO(sql << ": " << (status.ok() ? std::string() : status.error().detail));
  REQUIRE(status.ok());
}

}  // namespace

TEST_CASE("wal vfs: every commit is whole in the WAL file when it returns, synced or not", "[wal_vfs]") {
  for (const char* synchronous : {"FULL", "NORMAL", "OFF"}) {
    SECTION(std::string("synchronous = ") + synchronous) {
      TempFile file;
      sqlite::Connection writer(file.path, sqlite::OpenMode::kReadWrite);
      must(writer, std::string("PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; PRAGMA synchronous = ") +
                       synchronous + "; CREATE TABLE t(id INTEGER PRIMARY KEY, body BLOB NOT NULL)");
      Plain reader(file.path);
      std::int64_t rows = 0, bytes = 0;
      // Commits of 1 to 400 rows of 1 KiB: from one page to well over the unix VFS's 128 KiB a write.
      for (int commit = 0; commit < 40; ++commit) {
        int n = 1 + commit * 10;
        must(writer, "BEGIN");
        for (int i = 0; i < n; ++i) must(writer, "INSERT INTO t(body) VALUES (randomblob(1024))");
        must(writer, "COMMIT");
        rows += n;
        bytes += n * 1024;
        CHECK(reader.text("SELECT count(*) || ' ' || sum(length(body)) FROM t") ==
              std::to_string(rows) + " " + std::to_string(bytes));
      }
      CHECK(reader.text("PRAGMA integrity_check") == "ok");
      // What the reader saw came from the WAL, not from a checkpoint into the database file.
      CHECK(fs::file_size(file.path + "-wal") > 1024 * 1024);
    }
  }
}

TEST_CASE("wal vfs: a transaction larger than its buffer commits, checkpoints and reopens intact", "[wal_vfs]") {
  TempFile file;
  {
    sqlite::Connection writer(file.path, sqlite::OpenMode::kReadWrite);
    must(writer,
         "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; PRAGMA synchronous = FULL; PRAGMA cache_size = 64;"
         "CREATE TABLE t(id INTEGER PRIMARY KEY, body BLOB NOT NULL); CREATE INDEX t_body ON t(body)");
    // 3 MiB in one transaction, with a small page cache: pages spill into the WAL before the commit
    // and are read back from it while the buffer holds more.
    must(writer, "BEGIN");
    for (int i = 0; i < 3000; ++i) must(writer, "INSERT INTO t(body) VALUES (randomblob(1024))");
    must(writer, "UPDATE t SET body = randomblob(1024) WHERE id % 7 = 0");
    must(writer, "COMMIT");
    Plain reader(file.path);
    CHECK(reader.text("SELECT count(*) FROM t") == "3000");
    CHECK(reader.text("PRAGMA integrity_check") == "ok");
    must(writer, "PRAGMA wal_checkpoint(TRUNCATE)");
  }
  const fs::path wal = file.path + "-wal";  // the last connection to close removes it
  CHECK((!fs::exists(wal) || fs::file_size(wal) == 0));
  Plain reopened(file.path);
  CHECK(reopened.text("SELECT count(*) FROM t") == "3000");
  CHECK(reopened.text("PRAGMA integrity_check") == "ok");
}

TEST_CASE("wal vfs: connections use it, and files other than a WAL pass straight through", "[wal_vfs]") {
  TempFile file;
  sqlite::Connection writer(file.path, sqlite::OpenMode::kReadWrite);
  sqlite3_vfs* vfs = nullptr;
  REQUIRE(sqlite3_file_control(writer.handle(), "main", SQLITE_FCNTL_VFS_POINTER, &vfs) == SQLITE_OK);
  REQUIRE(vfs != nullptr);
  CHECK(std::string(vfs->zName) == sqlite::wal_vfs_name());
  // A rollback journal (not WAL) through the same VFS: written directly, and intact.
  must(writer, "PRAGMA journal_mode = DELETE; CREATE TABLE t(x); BEGIN");
  for (int i = 0; i < 500; ++i) must(writer, "INSERT INTO t VALUES (randomblob(900))");
  must(writer, "COMMIT");
  Plain reader(file.path);
  CHECK(reader.text("SELECT count(*) FROM t") == "500");
  CHECK(reader.text("PRAGMA integrity_check") == "ok");
}
