#include "adapters/sqlite/database.h"

#include "adapters/sqlite/page_cache.h"
#include "adapters/sqlite/wal_vfs.h"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <stdexcept>

namespace redress::sqlite {

namespace {

// The operating system's reason for an I/O failure on `db`: the errno SQLite kept, or else what the
// database's file system says of itself (read-only, or no space left). 0 when there is none.
int system_reason(sqlite3* db, int code) {
  const int primary = code & 0xff;
  if (primary != SQLITE_IOERR && primary != SQLITE_FULL && primary != SQLITE_READONLY && primary != SQLITE_CANTOPEN)
    return 0;
  if (int e = sqlite3_system_errno(db); e != 0) return e;
  // SQLite does not always keep the errno (a failed WAL write comes back as a bare SQLITE_IOERR_WRITE).
  const char* file = sqlite3_db_filename(db, "main");
  if (!file || !*file) return 0;
  std::string dir = std::filesystem::path(file).parent_path().string();
  if (dir.empty()) dir = ".";
  struct statvfs vfs {};
  if (::statvfs(dir.c_str(), &vfs) == 0) {
    if (vfs.f_flag & ST_RDONLY) return EROFS;
    if (vfs.f_bavail == 0) return ENOSPC;
  }
  // A file system the kernel turned read-only after an error (ext4 errors=remount-ro) need not say
  // so in statvfs: creating a file tells.
  std::string probe = dir + "/.redress-write-probe";
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return errno == EROFS || errno == ENOSPC || errno == EDQUOT ? errno : 0;
  ::close(fd);
  ::unlink(probe.c_str());
  return 0;
}

}  // namespace

void configure_library() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Memory statistics off: with them on, every allocation SQLite makes takes a global mutex,
    // which showed in profiles of the writer.
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    (void)install_page_cache();  // page_cache.h: a commit no longer walks the whole page cache
  });
}

Error sqlite_error(int code, std::string_view what, std::string_view message, int system_errno) {
  // errno is only SQLite's reason for an I/O failure; after other errors it may be a stale one.
  const int primary = code & 0xff;
  if (primary != SQLITE_IOERR && primary != SQLITE_FULL && primary != SQLITE_READONLY && primary != SQLITE_CANTOPEN)
    system_errno = 0;
  // What SQLite said, for the log and for whoever reads the detail: "sqlite step: database or disk is full".
  std::string cause = "(" + std::string(what) + ": " + std::string(message);
  if (system_errno != 0) cause += ", " + std::string(std::strerror(system_errno));
  cause += ")";
  // The operating system's reason first: a write into a full or read-only file system can come
  // back as SQLITE_IOERR_WRITE, and ENOSPC as SQLITE_FULL.
  if (system_errno == ENOSPC || system_errno == EDQUOT || (code & 0xff) == SQLITE_FULL)
    return Error::unavailable("the disk is full; writes are refused until space is freed " + cause);
  if (system_errno == EROFS || (code & 0xff) == SQLITE_READONLY)
    return Error::unavailable("the database is read-only; writes are refused until it is writable again " + cause);
  switch (code & 0xff) {
    case SQLITE_IOERR: return Error::unavailable("the disk reported an I/O error; writes are refused " + cause);
    case SQLITE_CANTOPEN: return Error::unavailable("the database file cannot be opened " + cause);
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return Error::unavailable("the database is locked by another process " + cause);
    case SQLITE_PERM: return Error::unavailable("the database may not be written (permission denied) " + cause);
    case SQLITE_CONSTRAINT: return Error::conflict(std::string(what) + ": " + std::string(message));
    default: return Error::internal(std::string(what) + ": " + std::string(message));
  }
}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_) sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = other.stmt_;
    other.stmt_ = nullptr;
  }
  return *this;
}

Statement::~Statement() {
  if (stmt_) sqlite3_finalize(stmt_);
}

Statement& Statement::bind(int index, std::int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}

Statement& Statement::bind_static(int index, std::string_view value) {
  sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_STATIC, SQLITE_UTF8);
  return *this;
}

Statement& Statement::bind_null(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) {
    last_ = Status::success();
    return false;
  }
  last_ = sqlite_error(rc, "sqlite step", sqlite3_errmsg(db_), system_reason(db_, rc));
  return false;
}

Status Statement::run() {
  while (step()) {}
  Status result = last_;
  reset();
  return result;
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string Statement::text(int column) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (!p) return {};
  return std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
}

Connection::Connection(const std::string& path, OpenMode mode) : path_(path) {
  configure_library();
  int flags = mode == OpenMode::kReadOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  flags |= SQLITE_OPEN_NOMUTEX;  // each connection is used by one thread at a time
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, wal_vfs_name());
  if (rc != SQLITE_OK) {
    std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    if (db_) sqlite3_close(db_);
    db_ = nullptr;
    throw std::runtime_error("cannot open database " + path + ": " + message);
  }
  sqlite3_extended_result_codes(db_, 1);
}

Connection::~Connection() {
  cache_.clear();
  generated_.clear();
  if (db_) sqlite3_close_v2(db_);
}

Status Connection::exec(std::string_view sql) {
  char* message = nullptr;
  std::string text(sql);
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return Status::success();
  std::string m = message ? message : sqlite3_errstr(rc);
  sqlite3_free(message);
  return sqlite_error(rc, "sqlite exec", m, system_reason(db_, rc));
}

Result<Statement> Connection::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return sqlite_error(rc, "sqlite prepare", sqlite3_errmsg(db_));
  return Statement(db_, stmt);
}

Statement& Connection::cached(const char* sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    auto prepared = prepare(sql);
    // A cached statement is a literal of ours: failing to prepare it is a bug.
    if (!prepared) throw std::logic_error("cannot prepare statement: " + prepared.error().detail + "\n" + sql);
    it = cache_.emplace(sql, std::make_unique<Statement>(std::move(prepared).value())).first;
  } else {
    it->second->reset();
  }
  return *it->second;
}

Statement& Connection::add_generated(const void* family, std::uint64_t key, const std::string& sql) {
  auto prepared = prepare(sql);
  if (!prepared) throw std::logic_error("cannot prepare statement: " + prepared.error().detail + "\n" + sql);
  auto& slot = generated_[{family, key}];
  slot = std::make_unique<Statement>(std::move(prepared).value());
  return *slot;
}

Error Connection::last_error(std::string_view what) const {
  return sqlite_error(sqlite3_extended_errcode(db_), what, sqlite3_errmsg(db_),
                      system_reason(db_, sqlite3_extended_errcode(db_)));
}

}  // namespace redress::sqlite
