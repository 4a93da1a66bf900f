// Thin RAII wrappers over the SQLite C API: a connection, a prepared statement, and a statement
// cache so hot statements are prepared once per connection.
//
// A Connection and its statements belong to one thread at a time (SQLite's "multi-thread" mode);
// callers that share a connection serialise access themselves. Errors are values (Status, Result);
// only opening failures at start-up are reported by the caller as fatal.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "engine/result.h"

namespace redress::sqlite {

// Process-wide SQLite settings (memory statistics off, the page cache of page_cache.h), made once,
// before the library initialises; every Connection calls it first. Does nothing (SQLITE_MISUSE,
// ignored) when something initialised SQLite before. Thread-safe.
void configure_library();

class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) { other.stmt_ = nullptr; }
  Statement& operator=(Statement&& other) noexcept;
  ~Statement();

  // Binding is 1-based, like SQLite's. Text is copied (SQLITE_TRANSIENT).
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  Statement& bind(int index, std::string_view value);
  Statement& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  // Binds text without copying it: `value` must stay alive and unchanged until the statement is
  // next reset or bound (the hot write paths bind fields of objects that outlive the step).
  Statement& bind_static(int index, std::string_view value);
  Statement& bind_null(int index);
  template <typename T>
  Statement& bind(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bind_null(index);
  }

  // Advances: true while a row is available, false when done; errors become a Status via `status`.
  [[nodiscard]] bool step();
  // Runs a statement that returns no rows, then resets it.
  [[nodiscard]] Status run();
  void reset();

  [[nodiscard]] std::int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
  [[nodiscard]] std::string text(int column) const;
  [[nodiscard]] bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  [[nodiscard]] std::optional<std::int64_t> optional_integer(int column) const {
    if (is_null(column)) return std::nullopt;
    return integer(column);
  }
  // The error of the last step, if it failed.
  [[nodiscard]] Status status() const { return last_; }
  [[nodiscard]] sqlite3_stmt* handle() const { return stmt_; }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  Status last_;
};

enum class OpenMode { kReadWrite, kReadOnly };

class Connection {
 public:
  // Opens (creating when kReadWrite) the database file. Throws std::runtime_error on failure:
  // that only happens at start-up, where it ends the program with a clear message.
  Connection(const std::string& path, OpenMode mode);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  [[nodiscard]] Status exec(std::string_view sql);
  [[nodiscard]] Result<Statement> prepare(std::string_view sql);
  // A statement prepared once and kept; reset before it is handed out.
  [[nodiscard]] Statement& cached(const char* sql);
  // A statement from a family of generated ones (e.g. one UPDATE per set of changed columns),
  // kept under (`family`, `key`); `make_sql` builds its text the first time only.
  template <typename MakeSql>
  [[nodiscard]] Statement& cached(const void* family, std::uint64_t key, MakeSql&& make_sql) {
    auto it = generated_.find({family, key});
    if (it != generated_.end()) {
      it->second->reset();
      return *it->second;
    }
    return add_generated(family, key, make_sql());
  }
  [[nodiscard]] std::int64_t changes() const { return sqlite3_changes64(db_); }
  [[nodiscard]] sqlite3* handle() const { return db_; }
  [[nodiscard]] const std::string& path() const { return path_; }
  // A Status describing the connection's last error, as unavailable for full/read-only disks.
  [[nodiscard]] Error last_error(std::string_view what) const;

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
  Statement& add_generated(const void* family, std::uint64_t key, const std::string& sql);
  std::map<const char*, std::unique_ptr<Statement>> cache_;  // keyed by the literal's address
  std::map<std::pair<const void*, std::uint64_t>, std::unique_ptr<Statement>> generated_;
};

// Maps an SQLite result code (and the errno behind it, from sqlite3_system_errno, 0 if none) to an
// Error: a full disk, a read-only database, I/O errors, a file that cannot be opened or is locked
// are kUnavailable, with a detail that says which ("the disk is full; ..."), then SQLite's words.
[[nodiscard]] Error sqlite_error(int code, std::string_view what, std::string_view message, int system_errno = 0);

}  // namespace redress::sqlite
