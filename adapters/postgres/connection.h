// A thin RAII wrapper of libpq: one Connection to a PostgreSQL server, statements prepared once per
// connection, parameters sent as text with their types, Rows read as text, transactions that roll
// back unless committed, and pipelines that send many statements in one round trip.
//
// Failures are engine/result.h Error values. The SQLSTATE decides the code: a serialization
// failure or a deadlock (40001, 40P01) is kUnavailable and `retryable` (the whole transaction may
// be run again); a unique violation (23505) is kConflict; a lost connection, a server shutting
// down, a read-only standby or a full disk is kUnavailable; anything else kInternal. The last
// failure's class stays readable on the connection (last_failure), so that a caller can retry.
//
// Thread-compatible: a Connection is used by one thread at a time (a pool hands it out).
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/result.h"

namespace redress::postgres {

// What kind of failure a statement met: what a caller may do about it.
enum class Failure {
  kNone,
  kRetryable,       // serialization failure or deadlock: the transaction was aborted; run it again
  kUnique,          // a unique constraint refused the row
  kConnectionLost,  // the server is gone or refuses work (shutdown, standby, disk full)
  kOther,
};

// Parameters of one statement: each a text value (or NULL) with its type's OID, or bytes sent in
// binary (bytea). Values are copied in; a Params may be built once and sent later.
class Params {
 public:
  Params() = default;
  Params& add(std::int64_t value);
  Params& add(int value) { return add(static_cast<std::int64_t>(value)); }
  Params& add(bool value);
  Params& add(std::string_view text);
  Params& add(const std::string& text) { return add(std::string_view(text)); }
  Params& add(const char* text) { return add(std::string_view(text)); }
  Params& add(const std::optional<std::int64_t>& value);
  Params& add(const std::optional<std::string>& value);
  Params& add_bytes(std::string_view bytes);  // bytea, sent in binary
  Params& add_null();

  [[nodiscard]] int size() const { return static_cast<int>(values_.size()); }
  // The arrays libpq takes; valid until the next add.
  [[nodiscard]] std::vector<const char*> values() const;
  [[nodiscard]] const std::vector<int>& lengths() const { return lengths_; }
  [[nodiscard]] const std::vector<int>& formats() const { return formats_; }
  [[nodiscard]] const std::vector<Oid>& types() const { return types_; }

 private:
  Params& push(std::optional<std::string> value, Oid type, int format);

  std::vector<std::optional<std::string>> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
  std::vector<Oid> types_;
};

// The rows of one statement's result, in text format. Owns its PGresult.
class Rows {
 public:
  Rows() = default;
  explicit Rows(PGresult* result) : result_(result) {}

  [[nodiscard]] int size() const { return result_ ? PQntuples(result_.get()) : 0; }
  [[nodiscard]] bool empty() const { return size() == 0; }
  // Rows an INSERT, UPDATE or DELETE changed.
  [[nodiscard]] std::int64_t affected() const;
  [[nodiscard]] bool is_null(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }
  [[nodiscard]] std::string_view view(int row, int column) const;
  [[nodiscard]] std::string text(int row, int column) const { return std::string(view(row, column)); }
  // An integer column (bigint, integer, boolean as 0/1); 0 when NULL.
  [[nodiscard]] std::int64_t integer(int row, int column) const;
  [[nodiscard]] std::optional<std::int64_t> optional_integer(int row, int column) const;
  [[nodiscard]] bool boolean(int row, int column) const;
  // A bytea column's bytes.
  [[nodiscard]] std::string bytes(int row, int column) const;

 private:
  struct Clear {
    void operator()(PGresult* result) const { PQclear(result); }
  };
  std::unique_ptr<PGresult, Clear> result_;
};

class Connection {
 public:
  // Connects to `url` ("postgresql://user:pass@host:5432/db"); kUnavailable when it cannot.
  [[nodiscard]] static Result<std::unique_ptr<Connection>> open(const std::string& url);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Whether the connection is up (as far as libpq knows without asking the server).
  [[nodiscard]] bool healthy() const { return PQstatus(connection_) == CONNECTION_OK; }
  // Connects again (after a loss); prepared statements are forgotten and prepared again on use.
  [[nodiscard]] Status reconnect();
  // Whether a transaction is open (or failed and not yet rolled back).
  [[nodiscard]] bool in_transaction() const;

  // Runs `sql` (one statement with $1.. placeholders), prepared once on this connection.
  [[nodiscard]] Result<Rows> query(const std::string& sql, const Params& params = {});
  // Runs `sql` once without preparing it (statements made up at run time, rarely repeated).
  [[nodiscard]] Result<Rows> query_once(const std::string& sql, const Params& params = {});
  // Runs one or more statements without parameters (migrations, BEGIN/COMMIT).
  [[nodiscard]] Status execute(const std::string& sql);

  // The class of the last failure on this connection (kNone after a success).
  [[nodiscard]] Failure last_failure() const { return last_failure_; }
  [[nodiscard]] const std::string& last_sqlstate() const { return last_sqlstate_; }
  [[nodiscard]] PGconn* handle() { return connection_; }

 private:
  friend class Pipeline;
  friend class Transaction;
  explicit Connection(PGconn* connection, std::string url);
  // The name `sql` is prepared under on this connection, preparing it first if needed.
  [[nodiscard]] Result<std::string> prepared(const std::string& sql, const Params& params);
  // Takes the result of one statement: its rows, or the Error its status and SQLSTATE say.
  [[nodiscard]] Result<Rows> take(PGresult* result);
  [[nodiscard]] Error failure(PGresult* result);

  PGconn* connection_;
  std::string url_;
  std::unordered_map<std::string, std::string> prepared_;  // sql -> statement name
  Failure last_failure_ = Failure::kNone;
  std::string last_sqlstate_;
};

// A transaction on a connection: BEGIN at `begin`, COMMIT at `commit`, ROLLBACK when destroyed
// uncommitted (an early return or a failure). Movable, not copyable.
enum class Isolation { kReadCommitted, kRepeatableRead, kSerializable };
class Transaction {
 public:
  [[nodiscard]] static Result<Transaction> begin(Connection& connection,
                                                 Isolation isolation = Isolation::kReadCommitted);
  Transaction(Transaction&& other) noexcept : connection_(other.connection_) { other.connection_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  ~Transaction();

  [[nodiscard]] Status commit();
  // Rolls back now (the destructor's work, with its result).
  Status rollback();

 private:
  explicit Transaction(Connection& connection) : connection_(&connection) {}
  Connection* connection_;  // null once committed, rolled back or moved from
};

// Sends several statements in one round trip (libpq's pipeline mode): `add` queues each, `run`
// sends them and a sync and reads every result in order. A statement that fails makes the ones
// after it fail too (the server skips them), so `run` answers with the first failure. Use it
// inside a transaction: the statements of a pipeline are not atomic by themselves.
class Pipeline {
 public:
  explicit Pipeline(Connection& connection) : connection_(connection) {}
  // Queues `sql` with `params` (prepared on the connection first when new).
  void add(const std::string& sql, Params params = {});
  [[nodiscard]] std::size_t size() const { return statements_.size(); }
  // Every statement's rows, in order, or the first failure.
  [[nodiscard]] Result<std::vector<Rows>> run();

 private:
  Connection& connection_;
  std::vector<std::pair<std::string, Params>> statements_;
};

// Whether `error`, met on `connection`, is worth running the whole transaction again for.
[[nodiscard]] inline bool retryable(const Connection& connection) {
  return connection.last_failure() == Failure::kRetryable;
}

// A statement's outcome without its rows.
[[nodiscard]] inline Status status_of(const Result<Rows>& rows) {
  if (!rows) return rows.error();
  return Status::success();
}

}  // namespace redress::postgres
