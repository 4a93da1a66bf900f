#include "adapters/postgres/connection.h"

#include <charconv>
#include <cstring>

namespace redress::postgres {

namespace {

// The OIDs of the types parameters are sent as (pg_type.dat).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kTextOid = 25;

bool starts_with(const std::string& text, const char* prefix) { return text.rfind(prefix, 0) == 0; }

// The message of a failed result or connection, on one line.
std::string message_of(PGconn* connection, PGresult* result) {
  std::string message = result ? PQresultErrorMessage(result) : PQerrorMessage(connection);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  for (char& c : message)
    if (c == '\n') c = ' ';
  return message.empty() ? "no answer from the server" : message;
}

}  // namespace

Params& Params::push(std::optional<std::string> value, Oid type, int format) {
  lengths_.push_back(value ? static_cast<int>(value->size()) : 0);
  values_.push_back(std::move(value));
  formats_.push_back(format);
  types_.push_back(type);
  return *this;
}

Params& Params::add(std::int64_t value) { return push(std::to_string(value), kInt8Oid, 0); }
Params& Params::add(bool value) { return push(std::string(value ? "t" : "f"), kBoolOid, 0); }
Params& Params::add(std::string_view text) { return push(std::string(text), kTextOid, 0); }
Params& Params::add(const std::optional<std::int64_t>& value) {
  return push(value ? std::optional<std::string>(std::to_string(*value)) : std::nullopt, kInt8Oid, 0);
}
Params& Params::add(const std::optional<std::string>& value) { return push(value, kTextOid, 0); }
Params& Params::add_bytes(std::string_view bytes) { return push(std::string(bytes), kByteaOid, 1); }
Params& Params::add_null() { return push(std::nullopt, 0, 0); }

std::vector<const char*> Params::values() const {
  std::vector<const char*> out;
  out.reserve(values_.size());
  for (const auto& value : values_) out.push_back(value ? value->data() : nullptr);
  return out;
}

std::int64_t Rows::affected() const {
  const char* tuples = PQcmdTuples(result_.get());
  std::int64_t n = 0;
  if (tuples && *tuples) std::from_chars(tuples, tuples + std::strlen(tuples), n);
  return n;
}

std::string_view Rows::view(int row, int column) const {
  return std::string_view(PQgetvalue(result_.get(), row, column),
                          static_cast<std::size_t>(PQgetlength(result_.get(), row, column)));
}

std::int64_t Rows::integer(int row, int column) const {
  if (is_null(row, column)) return 0;
  std::string_view text = view(row, column);
  if (text == "t") return 1;
  if (text == "f") return 0;
  std::int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

std::optional<std::int64_t> Rows::optional_integer(int row, int column) const {
  if (is_null(row, column)) return std::nullopt;
  return integer(row, column);
}

bool Rows::boolean(int row, int column) const { return integer(row, column) != 0; }

std::string Rows::bytes(int row, int column) const {
  if (is_null(row, column)) return {};
  std::size_t length = 0;
  unsigned char* raw =
      PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(result_.get(), row, column)), &length);
  if (!raw) return {};
  std::string out(reinterpret_cast<const char*>(raw), length);
  PQfreemem(raw);
  return out;
}

Result<std::unique_ptr<Connection>> Connection::open(const std::string& url) {
  PGconn* connection = PQconnectdb(url.c_str());
  if (!connection) return Error::unavailable("cannot connect to PostgreSQL: out of memory");
  if (PQstatus(connection) != CONNECTION_OK) {
    std::string message = message_of(connection, nullptr);
    PQfinish(connection);
    return Error::unavailable("cannot connect to PostgreSQL: " + message);
  }
  auto opened = std::unique_ptr<Connection>(new Connection(connection, url));
  // Times are micros in BIGINT columns and text is UTF-8 whatever the server's defaults.
  if (auto s = opened->execute("SET client_encoding = 'UTF8'; SET TIME ZONE 'UTC'; SET client_min_messages = warning"); !s) return s.error();
  return opened;
}

Connection::Connection(PGconn* connection, std::string url) : connection_(connection), url_(std::move(url)) {}

Connection::~Connection() { PQfinish(connection_); }

Status Connection::reconnect() {
  prepared_.clear();
  PQreset(connection_);
  if (PQstatus(connection_) != CONNECTION_OK) {
    last_failure_ = Failure::kConnectionLost;
    return Error::unavailable("cannot reconnect to PostgreSQL: " + message_of(connection_, nullptr));
  }
  last_failure_ = Failure::kNone;
  return execute("SET client_encoding = 'UTF8'; SET TIME ZONE 'UTC'; SET client_min_messages = warning");
}

bool Connection::in_transaction() const {
  auto status = PQtransactionStatus(connection_);
  return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE;
}

Error Connection::failure(PGresult* result) {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  last_sqlstate_ = state ? state : "";
  std::string message = message_of(connection_, result);
  if (PQstatus(connection_) != CONNECTION_OK || !result || starts_with(last_sqlstate_, "08") ||
      starts_with(last_sqlstate_, "57P") || starts_with(last_sqlstate_, "53") || last_sqlstate_ == "25006") {
    last_failure_ = Failure::kConnectionLost;
    return Error::unavailable("the database cannot take work now: " + message);
  }
  if (last_sqlstate_ == "40001" || last_sqlstate_ == "40P01") {
    last_failure_ = Failure::kRetryable;
    return Error::unavailable("the transaction met a concurrent one and was aborted: " + message);
  }
  if (last_sqlstate_ == "23505") {
    last_failure_ = Failure::kUnique;
    return Error::conflict(message);
  }
  last_failure_ = Failure::kOther;
  return Error::internal("PostgreSQL: " + message);
}

Result<Rows> Connection::take(PGresult* result) {
  Rows rows(result);  // owns it from here
  auto status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
    last_failure_ = Failure::kNone;
    return rows;
  }
  if (status == PGRES_PIPELINE_ABORTED) {
    return Error::internal("PostgreSQL: skipped after an earlier statement of the pipeline failed");
  }
  return failure(result);
}

Result<std::string> Connection::prepared(const std::string& sql, const Params& params) {
  if (auto found = prepared_.find(sql); found != prepared_.end()) return found->second;
  std::string name = "s" + std::to_string(prepared_.size() + 1);
  auto made = take(PQprepare(connection_, name.c_str(), sql.c_str(), params.size(), params.types().data()));
  if (!made) return made.error();
  prepared_.emplace(sql, name);
  return name;
}

Result<Rows> Connection::query(const std::string& sql, const Params& params) {
  auto name = prepared(sql, params);
  if (!name) return name.error();
  auto values = params.values();
  return take(PQexecPrepared(connection_, name->c_str(), params.size(), values.data(), params.lengths().data(),
                             params.formats().data(), 0));
}

Result<Rows> Connection::query_once(const std::string& sql, const Params& params) {
  auto values = params.values();
  return take(PQexecParams(connection_, sql.c_str(), params.size(), params.types().data(), values.data(),
                           params.lengths().data(), params.formats().data(), 0));
}

Status Connection::execute(const std::string& sql) {
  auto done = take(PQexec(connection_, sql.c_str()));
  if (!done) return done.error();
  return Status::success();
}

Result<Transaction> Transaction::begin(Connection& connection, Isolation isolation) {
  const char* sql = isolation == Isolation::kSerializable     ? "BEGIN ISOLATION LEVEL SERIALIZABLE"
                    : isolation == Isolation::kRepeatableRead ? "BEGIN ISOLATION LEVEL REPEATABLE READ"
                                                              : "BEGIN";
  if (auto s = connection.execute(sql); !s) return s.error();
  return Transaction(connection);
}

Transaction::~Transaction() { (void)rollback(); }

Status Transaction::commit() {
  Connection* connection = connection_;
  connection_ = nullptr;
  if (!connection) return Error::internal("the transaction is no longer open");
  // COMMIT of a failed transaction "succeeds" as a ROLLBACK: that is this transaction's failure.
  bool failed = PQtransactionStatus(connection->handle()) == PQTRANS_INERROR;
  auto done = connection->take(PQexec(connection->handle(), "COMMIT"));
  if (!done) return done.error();
  if (failed) return Error::internal("the transaction had failed and was rolled back");
  return Status::success();
}

Status Transaction::rollback() {
  Connection* connection = connection_;
  connection_ = nullptr;
  if (!connection || !connection->healthy()) return Status::success();
  if (PQtransactionStatus(connection->handle()) == PQTRANS_IDLE) return Status::success();
  return connection->execute("ROLLBACK");
}

void Pipeline::add(const std::string& sql, Params params) { statements_.emplace_back(sql, std::move(params)); }

Result<std::vector<Rows>> Pipeline::run() {
  std::vector<Rows> out;
  if (statements_.empty()) return out;
  // Statements new to the connection are prepared first, one round trip each, once per connection.
  std::vector<std::string> names;
  names.reserve(statements_.size());
  for (const auto& [sql, params] : statements_) {
    auto name = connection_.prepared(sql, params);
    if (!name) return name.error();
    names.push_back(std::move(name).value());
  }
  PGconn* pg = connection_.handle();
  if (PQenterPipelineMode(pg) != 1) return connection_.failure(nullptr);
  std::optional<Error> first_failure;
  for (std::size_t i = 0; i < statements_.size(); ++i) {
    const Params& params = statements_[i].second;
    auto values = params.values();
    if (PQsendQueryPrepared(pg, names[i].c_str(), params.size(), values.data(), params.lengths().data(),
                            params.formats().data(), 0) != 1) {
      first_failure = connection_.failure(nullptr);
      break;
    }
  }
  if (PQpipelineSync(pg) != 1 && !first_failure) first_failure = connection_.failure(nullptr);
  // Every result in order, each followed by a null; then the sync's.
  for (;;) {
    PGresult* result = PQgetResult(pg);
    if (!result) {
      if (PQstatus(pg) != CONNECTION_OK) {
        if (!first_failure) first_failure = connection_.failure(nullptr);
        break;
      }
      continue;
    }
    if (PQresultStatus(result) == PGRES_PIPELINE_SYNC) {
      PQclear(result);
      break;
    }
    auto rows = connection_.take(result);
    if (!rows) {
      if (!first_failure) first_failure = rows.error();
    } else {
      out.push_back(std::move(rows).value());
    }
  }
  (void)PQexitPipelineMode(pg);
  statements_.clear();
  if (first_failure) return *first_failure;
  return out;
}

}  // namespace redress::postgres
