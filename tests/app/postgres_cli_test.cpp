// The real `redress` binary on PostgreSQL, as a user would run it: `migrate`, `staff`, `serve` and
// `audit verify` with `--database URL` against the test server of tests/support/postgres.h.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <sqlite3.h>

#include "support/files.h"
#include "support/postgres.h"

extern char** environ;

namespace redress::postgres_cli_test {
namespace {

namespace fs = std::filesystem;

struct Outcome {
  int status = -1;
  std::string out;
  std::string err;
};

// Starts the binary with `args` (no REDRESS_* variables but `extra_env`), its output to files.
pid_t start(const std::vector<std::string>& args, const fs::path& out, const fs::path& err,
            const std::vector<std::string>& extra_env = {}) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e)
    if (std::strncmp(*e, "REDRESS_", 8) != 0) env_strings.emplace_back(*e);
  env_strings.insert(env_strings.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings{REDRESS_BINARY};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int in = open("/dev/null", O_RDONLY);
    int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || o < 0 || e < 0) _exit(127);
    dup2(in, 0);
    dup2(o, 1);
    dup2(e, 2);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  return pid;
}

struct Scratch {
  testing::TempDir dir;
  int n = 0;
  Outcome run(const std::vector<std::string>& args, const std::vector<std::string>& extra_env = {}) {
    fs::path out = dir.path() / ("out-" + std::to_string(n));
    fs::path err = dir.path() / ("err-" + std::to_string(n++));
    pid_t pid = start(args, out, err, extra_env);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    Outcome o;
    o.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    o.out = testing::read_text(out);
    o.err = testing::read_text(err);
    return o;
  }
};

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// One HTTP/1.1 request over a plain socket: the status and the body.
std::pair<int, std::string> http(int port, const std::string& method, const std::string& target,
                                 const std::string& body = {}, const std::string& token = {}) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  timeval timeout{20, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (!token.empty()) request += "Authorization: Bearer " + token + "\r\n";
  if (!body.empty()) request += "Content-Type: application/json\r\n";
  if (!body.empty() || method == "POST") request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  request += "\r\n" + body;
  REQUIRE(send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size()));
  std::string raw;
  char buffer[16384];
  for (;;) {
    ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    raw.append(buffer, static_cast<std::size_t>(n));
  }
  close(fd);
  int status = raw.size() > 12 ? std::stoi(raw.substr(9, 3)) : 0;
  auto end = raw.find("\r\n\r\n");
  return {status, end == std::string::npos ? std::string() : raw.substr(end + 4)};
}

// POST /v1/cases with an Idempotency-Key: the status and the body.
std::pair<int, std::string> http_keyed(int port, const std::string& body, const std::string& token,
                                       const std::string& key) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  timeval timeout{20, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  std::string request = "POST /v1/cases HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: Bearer " +
                        token + "\r\nIdempotency-Key: " + key + "\r\nContent-Type: application/json\r\n" +
                        "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  REQUIRE(send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size()));
  std::string raw;
  char buffer[16384];
  for (;;) {
    ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    raw.append(buffer, static_cast<std::size_t>(n));
  }
  close(fd);
  int status = raw.size() > 12 ? std::stoi(raw.substr(9, 3)) : 0;
  auto end = raw.find("\r\n\r\n");
  return {status, end == std::string::npos ? std::string() : raw.substr(end + 4)};
}

// `redress serve` on the database until destroyed (SIGTERM).
class Node {
 public:
  Node(Scratch& scratch, const std::vector<std::string>& args, const std::vector<std::string>& extra_env = {}) {
    log_ = scratch.dir.path() / ("serve-" + std::to_string(scratch.n++) + ".log");
    std::vector<std::string> all{"serve", "--listen", "127.0.0.1:0", "--threads", "2"};
    all.insert(all.end(), args.begin(), args.end());
    pid_ = start(all, log_, log_, extra_env);
    const std::regex listening(R"(listening on http://127\.0\.0\.1:([0-9]+))");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      std::smatch m;
      std::string text = testing::read_text(log_);
      if (std::regex_search(text, m, listening)) {
        port_ = std::stoi(m[1]);
        return;
      }
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        FAIL("redress serve exited before listening: " << text);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL("redress serve did not listen within 30 s: " << testing::read_text(log_));
  }
  ~Node() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
  }
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  int port() const { return port_; }
  std::string log() const { return testing::read_text(log_); }

 private:
  fs::path log_;
  pid_t pid_ = -1;
  int port_ = 0;
};

const char* kNewCase =
    R"({"client": {"name": "Ana Ruiz", "email": "ana@example.org", "phone": "", "locale": "en-GB"},
    "channel": "web", "category": "billing", "touchpoint": "billing", "severity": "medium",
    "subject": "Charged twice", "description": "Order 1234 was charged twice.", "remedy_requested": "Refund"})";

TEST_CASE("cli on PostgreSQL: migrate, staff, two serve nodes on one database, audit verify", "[cli][postgres]") {
  const std::string url = testing::PostgresServer::shared().fresh_database();
  const std::string flag = "--database=" + url;
  Scratch scratch;
  Outcome migrated = scratch.run({"migrate", flag});
  INFO(migrated.err);
  REQUIRE(migrated.status == 0);
  CHECK_THAT(migrated.out, Catch::Contains("from schema version 0 to"));
  // The environment variable names it as well as the flag.
  Outcome again = scratch.run({"migrate"}, {"REDRESS_DATABASE_URL=" + url});
  INFO(again.err);
  REQUIRE(again.status == 0);
  CHECK_THAT(again.out, Catch::Contains("up to date"));

  Outcome added =
      scratch.run({"staff", "add", flag, "--name", "Sam Okafor", "--email", "sam@example.org", "--role", "agent"});
  INFO(added.err);
  REQUIRE(added.status == 0);
  Outcome token = scratch.run({"staff", "token", flag, "--email", "sam@example.org"});
  REQUIRE(token.status == 0);
  const std::string agent_token = trimmed(token.out);
  Outcome listed = scratch.run({"staff", "list", flag});
  REQUIRE(listed.status == 0);
  CHECK_THAT(listed.out, Catch::Contains("sam@example.org"));

  std::string reference;
  {
    // Two nodes: a case created on one is read, and acted on, through the other.
    Node a(scratch, {flag, "--data-dir", (scratch.dir.path() / "a").string()});
    // Every node of one installation shares the server key (docs/scaling.md): copied from the first.
    fs::create_directories(scratch.dir.path() / "b");
    fs::copy_file(scratch.dir.path() / "a" / "server.key", scratch.dir.path() / "b" / "server.key");
    Node b(scratch, {"--data-dir", (scratch.dir.path() / "b").string()}, {"REDRESS_DATABASE_URL=" + url});
    auto [status, body] = http(a.port(), "POST", "/v1/cases", kNewCase, agent_token);
    INFO(body << a.log());
    REQUIRE(status == 201);
    std::smatch m;
    REQUIRE(std::regex_search(body, m, std::regex(R"re("reference"\s*:\s*"(CMP-[0-9]{4}-[0-9]{6})")re")));
    reference = m[1];
    auto [read_status, read_body] = http(b.port(), "GET", "/v1/cases/" + reference, {}, agent_token);
    INFO(read_body << b.log());
    CHECK(read_status == 200);
    CHECK_THAT(read_body, Catch::Contains("Charged twice"));
    auto [listed_status, listed_body] = http(b.port(), "GET", "/v1/cases", {}, agent_token);
    CHECK(listed_status == 200);
    CHECK_THAT(listed_body, Catch::Contains(reference));
    auto [health, health_body] = http(b.port(), "GET", "/healthz");
    INFO(health_body);
    CHECK(health == 200);
  }
  Outcome verified = scratch.run({"audit", "verify", flag});
  INFO(verified.err);
  CHECK(verified.status == 0);
  CHECK_THAT(verified.out, Catch::Contains("OK: 1 cases"));
  // The report summaries the nodes' writers kept equal the aggregates over the rows.
  Outcome summaries = scratch.run({"audit", "summaries", flag});
  INFO(summaries.out << summaries.err);
  CHECK(summaries.status == 0);
  // The password never appears in what redress prints; a wrong URL is refused with a clear message.
  Outcome bad = scratch.run({"staff", "list", "--database=mysql://root:secret@localhost/redress"});
  CHECK(bad.status != 0);
  CHECK_THAT(bad.err, Catch::Contains("PostgreSQL URL"));
  CHECK(bad.err.find("secret") == std::string::npos);
  Outcome unreachable = scratch.run({"staff", "list", "--database=postgresql://redress:hunter2@127.0.0.1:1/none"});
  CHECK(unreachable.status != 0);
  CHECK(unreachable.err.find("hunter2") == std::string::npos);
}

TEST_CASE("cli on PostgreSQL: a revoked token, a demotion and a deactivation are honoured at once on every node",
          "[cli][postgres]") {
  const std::string url = testing::PostgresServer::shared().fresh_database();
  const std::string flag = "--database=" + url;
  Scratch scratch;
  REQUIRE(scratch.run({"migrate", flag}).status == 0);
  auto add = [&](const std::string& name, const std::string& email, const std::string& role) {
    Outcome added = scratch.run({"staff", "add", flag, "--name", name, "--email", email, "--role", role});
    INFO(added.err);
    REQUIRE(added.status == 0);
    Outcome token = scratch.run({"staff", "token", flag, "--email", email});
    REQUIRE(token.status == 0);
    return std::make_pair(trimmed(added.out), trimmed(token.out));
  };
  const auto [admin_id, admin_token] = add("Ruth Cohen", "ruth@example.org", "admin");
  const auto [agent_id, agent_token] = add("Sam Okafor", "sam@example.org", "agent");
  const auto [spare_id, spare_token] = add("Tia Token", "tia@example.org", "agent");
  Node a(scratch, {flag, "--data-dir", (scratch.dir.path() / "a").string()});
  fs::create_directories(scratch.dir.path() / "b");
  fs::copy_file(scratch.dir.path() / "a" / "server.key", scratch.dir.path() / "b" / "server.key");
  Node b(scratch, {flag, "--data-dir", (scratch.dir.path() / "b").string()});
  // The second node remembers both agents' tokens.
  for (int i = 0; i < 2; ++i) {
    REQUIRE(http(b.port(), "GET", "/v1/cases", {}, agent_token).first == 200);
    REQUIRE(http(b.port(), "GET", "/v1/cases", {}, spare_token).first == 200);
  }
  // A token revoked through the first node: the second refuses its very next request.
  auto [listed, tokens] = http(a.port(), "GET", "/v1/staff/" + spare_id + "/tokens", {}, admin_token);
  REQUIRE(listed == 200);
  std::smatch id;
  REQUIRE(std::regex_search(tokens, id, std::regex(R"re("id"\s*:\s*"(t-[0-9a-f]{16})")re")));
  REQUIRE(http(a.port(), "DELETE", "/v1/tokens/" + std::string(id[1]), {}, admin_token).first == 200);
  CHECK(http(b.port(), "GET", "/v1/cases", {}, spare_token).first == 401);
  CHECK(http(b.port(), "GET", "/v1/cases", {}, agent_token).first == 200);
  // Made a lead: the second node answers with the new role at once.
  REQUIRE(http(b.port(), "GET", "/v1/reports/overdue", {}, agent_token).first == 403);
  REQUIRE(http(a.port(), "PATCH", "/v1/staff/" + agent_id, R"({"role": "lead"})", admin_token).first == 200);
  CHECK(http(b.port(), "GET", "/v1/reports/overdue", {}, agent_token).first == 200);
  // Deactivated: refused by both nodes from the next request.
  auto [left, left_body] = http(a.port(), "PATCH", "/v1/staff/" + agent_id, R"({"active": false})", admin_token);
  INFO(left_body << a.log());
  REQUIRE(left == 200);
  CHECK(http(b.port(), "GET", "/v1/cases", {}, agent_token).first == 401);
  CHECK(http(a.port(), "GET", "/v1/cases", {}, agent_token).first == 401);
  CHECK(http(b.port(), "GET", "/v1/cases", {}, admin_token).first == 200);
}

// Runs `sql` on the test server's `postgres` database, as its superuser.
void as_admin(const std::string& sql) {
  PGconn* db = PQconnectdb(testing::PostgresServer::shared().url("postgres").c_str());
  REQUIRE(PQstatus(db) == CONNECTION_OK);
  PGresult* result = PQexec(db, sql.c_str());
  INFO(sql << ": " << PQresultErrorMessage(result));
  CHECK((PQresultStatus(result) == PGRES_COMMAND_OK || PQresultStatus(result) == PGRES_TUPLES_OK));
  PQclear(result);
  PQfinish(db);
}

template <typename Predicate>
bool eventually(Predicate predicate) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return predicate();
}

TEST_CASE("cli on PostgreSQL: the database out of reach, /healthz degraded and writes 503, then back by itself",
          "[cli][postgres]") {
  const std::string url = testing::PostgresServer::shared().fresh_database();
  const std::string name = url.substr(url.rfind('/') + 1);
  const std::string flag = "--database=" + url;
  Scratch scratch;
  REQUIRE(scratch.run({"migrate", flag}).status == 0);
  REQUIRE(scratch.run({"staff", "add", flag, "--name", "Sam Okafor", "--email", "sam@example.org", "--role", "agent"})
              .status == 0);
  const std::string token = trimmed(scratch.run({"staff", "token", flag, "--email", "sam@example.org"}).out);
  Node node(scratch, {flag, "--data-dir", (scratch.dir.path() / "node").string()});
  auto [healthy, healthy_body] = http(node.port(), "GET", "/healthz");
  CHECK(healthy == 200);
  CHECK_THAT(healthy_body, Catch::Contains("\"ok\""));

  // The database refuses connections and drops the node's: as a server restarting or failing over.
  as_admin("ALTER DATABASE " + name + " ALLOW_CONNECTIONS false");
  as_admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name + "'");
  std::string body;
  CHECK(eventually([&] {
    auto [status, answer] = http(node.port(), "GET", "/healthz");
    body = answer;
    return status == 200 && answer.find("degraded") != std::string::npos;
  }));
  INFO(body << node.log());
  CHECK_THAT(body, Catch::Contains("unreachable"));
  const std::string keyed = std::string(kNewCase);
  // With an Idempotency-Key, as a caller retrying after a 503 would.
  auto create = [&] { return http_keyed(node.port(), keyed, token, "outage-1"); };
  auto [refused, refused_body] = create();
  INFO(refused_body);
  CHECK(refused == 503);

  as_admin("ALTER DATABASE " + name + " ALLOW_CONNECTIONS true");
  CHECK(eventually([&] {
    auto [status, answer] = http(node.port(), "GET", "/healthz");
    return status == 200 && answer.find("\"ok\"") != std::string::npos;
  }));
  auto [created, created_body] = create();
  INFO(created_body << node.log());
  CHECK(created == 201);
  auto [again, again_body] = create();  // the retry of a retry: the same case
  INFO(again_body);
  CHECK((again == 200 || again == 201));
  auto [listed, listed_body] = http(node.port(), "GET", "/v1/cases", {}, token);
  CHECK(listed == 200);
  std::smatch m;
  REQUIRE(std::regex_search(created_body, m, std::regex(R"re("reference"\s*:\s*"(CMP-[0-9]{4}-[0-9]{6})")re")));
  CHECK_THAT(again_body, Catch::Contains(std::string(m[1])));
  Outcome verified = scratch.run({"audit", "verify", flag});
  CHECK_THAT(verified.out, Catch::Contains("OK: 1 cases"));
}

// Every row of `sql` as text ("" for NULL, "\x01" between columns), in the order the SQL gives.
std::vector<std::string> sqlite_rows(const fs::path& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  INFO(sql << ": " << sqlite3_errmsg(db));
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
  std::vector<std::string> rows;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    std::string row;
    for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
      row += std::string(text ? text : "") + "\x01";
    }
    rows.push_back(std::move(row));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return rows;
}

// Runs `sql` (statements without rows) on the database at `url`.
void postgres_execute(const std::string& url, const std::string& sql) {
  PGconn* db = PQconnectdb(url.c_str());
  REQUIRE(PQstatus(db) == CONNECTION_OK);
  PGresult* result = PQexec(db, sql.c_str());
  INFO(sql << ": " << PQresultErrorMessage(result));
  CHECK(PQresultStatus(result) == PGRES_COMMAND_OK);
  PQclear(result);
  PQfinish(db);
}

std::vector<std::string> postgres_rows(const std::string& url, const std::string& sql) {
  PGconn* db = PQconnectdb(url.c_str());
  REQUIRE(PQstatus(db) == CONNECTION_OK);
  PGresult* result = PQexec(db, sql.c_str());
  INFO(sql << ": " << PQresultErrorMessage(result));
  REQUIRE(PQresultStatus(result) == PGRES_TUPLES_OK);
  std::vector<std::string> rows;
  for (int r = 0; r < PQntuples(result); ++r) {
    std::string row;
    for (int c = 0; c < PQnfields(result); ++c) row += std::string(PQgetvalue(result, r, c)) + "\x01";
    rows.push_back(std::move(row));
  }
  PQclear(result);
  PQfinish(db);
  return rows;
}

TEST_CASE("cli on PostgreSQL: export from SQLite, import into PostgreSQL, the same rows and audit", "[cli][postgres]") {
  Scratch scratch;
  const std::string data = "--data-dir=" + (scratch.dir.path() / "data").string();
  Outcome seeded = scratch.run({"demo", data, "--cases", "40", "--days", "30", "--quiet"});
  INFO(seeded.err);
  REQUIRE(seeded.status == 0);
  Outcome before = scratch.run({"audit", "verify", data});
  REQUIRE(before.status == 0);
  const fs::path file = scratch.dir.path() / "redress.export";
  Outcome exported = scratch.run({"export", data, "--out", file.string()});
  INFO(exported.err);
  REQUIRE(exported.status == 0);
  CHECK_THAT(exported.out, Catch::Contains("Exported"));
  CHECK_THAT(exported.out, Catch::Contains("cases=40"));

  const std::string url = testing::PostgresServer::shared().fresh_database();
  Outcome imported = scratch.run({"import", "--database", url, "--in", file.string()});
  INFO(imported.err);
  REQUIRE(imported.status == 0);
  CHECK_THAT(imported.out, Catch::Contains("Imported"));
  CHECK_THAT(imported.out, Catch::Contains("cases=40"));
  Outcome after = scratch.run({"audit", "verify", "--database", url});
  INFO(after.err);
  CHECK(after.status == 0);
  CHECK(after.out == before.out);

  // Row by row, every table the export carries.
  const fs::path sqlite_db = scratch.dir.path() / "data" / "redress.db";
  const std::vector<std::pair<std::string, std::string>> tables = {{"staff", "id"},
                                                                   {"tokens", "hash"},
                                                                   {"cases", "id"},
                                                                   {"events", "id"},
                                                                   {"commitments", "id"},
                                                                   {"redress", "id"},
                                                                   {"messages", "id"},
                                                                   {"notifications", "id"},
                                                                   {"notification_attempts", "id"},
                                                                   {"idempotency_keys", "key"},
                                                                   {"client_links", "id"},
                                                                   {"case_clocks", "case_id"},
                                                                   {"case_wakes", "case_id"},
                                                                   {"sequences", "name"}};
  for (const auto& [table, key] : tables) {
    auto names = postgres_rows(url,
                               "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM "
                               "information_schema.columns WHERE table_schema = current_schema() AND table_name = '" +
                                   table + "'");
    REQUIRE(names.size() == 1);
    std::string columns = names.front().substr(0, names.front().size() - 1);
    std::string sql = "SELECT " + columns + " FROM " + table + " ORDER BY " + key;
    INFO(table);
    CHECK(postgres_rows(url, sql) == sqlite_rows(sqlite_db, sql));
  }

  // The report summaries are made from the imported rows, and checked and mended as on SQLite.
  Outcome summaries = scratch.run({"audit", "summaries", "--database", url});
  INFO(summaries.out << summaries.err);
  CHECK(summaries.status == 0);
  CHECK_THAT(summaries.out, Catch::Contains("OK: every report summary equals the aggregate over the rows."));
  CHECK(postgres_rows(url, "SELECT count(*) > 0 FROM report_received") == std::vector<std::string>{"t\x01"});
  postgres_execute(url, "UPDATE report_attention SET at_risk = at_risk + 5");  // a hand edit
  Outcome differs = scratch.run({"audit", "summaries", "--database", url});
  CHECK(differs.status == 1);
  CHECK_THAT(differs.out, Catch::Contains("DIFFERENT: report_attention"));
  Outcome repaired = scratch.run({"audit", "summaries", "--database", url, "--repair"});
  INFO(repaired.out << repaired.err);
  CHECK(repaired.status == 0);
  CHECK_THAT(repaired.out, Catch::Contains("REPAIRED: report_attention rebuilt from the rows."));
  CHECK(scratch.run({"audit", "summaries", "--database", url}).status == 0);

  // The nodes go on from there: a new case takes the next reference and new ids.
  Outcome added = scratch.run({"staff", "add", "--database", url, "--name", "New Person", "--email",
                               "new.person@example.org", "--role", "agent"});
  INFO(added.err);
  CHECK(added.status == 0);
  // Importing again is refused: the database is not empty.
  Outcome twice = scratch.run({"import", "--database", url, "--in", file.string()});
  CHECK(twice.status != 0);
  CHECK_THAT(twice.err, Catch::Contains("not empty"));
  // A file cut short is refused, and nothing is written.
  const std::string whole = testing::read_text(file);
  const fs::path cut = scratch.dir.path() / "cut.export";
  { std::ofstream(cut, std::ios::binary) << whole.substr(0, whole.size() / 2); }
  const std::string empty = testing::PostgresServer::shared().fresh_database();
  Outcome partial = scratch.run({"import", "--database", empty, "--in", cut.string()});
  CHECK(partial.status != 0);
  CHECK(postgres_rows(empty, "SELECT count(*) FROM cases") == std::vector<std::string>{"0\x01"});
}

TEST_CASE("cli on PostgreSQL: subject erase --compact leaves no file of the cluster holding the client - what to grant",
          "[cli][postgres][personal]") {
  auto& cluster = testing::PostgresServer::shared();
  const std::string owner_url = cluster.fresh_database();
  const std::string database = owner_url.substr(owner_url.rfind('/') + 1);
  // Redress's own role, as a careful operator makes it: it owns the tables it creates, nothing more.
  postgres_execute(cluster.url("postgres"), "CREATE ROLE redress_clerk LOGIN");
  postgres_execute(owner_url, "CREATE EXTENSION pg_trgm; GRANT CREATE ON SCHEMA public TO redress_clerk");
  const std::string flag =
      "--database=postgresql://redress_clerk@127.0.0.1:" + std::to_string(cluster.port()) + "/" + database;
  Scratch scratch;
  // The shipped standards, but retail keeps nothing: its open cases are erased at once, not restricted.
  const fs::path standards = scratch.dir.path() / "workflows";
  fs::create_directories(standards);
  for (const auto& entry : fs::directory_iterator(fs::path(REDRESS_SOURCE_DIR) / "workflows"))
    if (entry.path().extension() == ".toml") {
      std::string text = testing::read_text(entry.path());
      if (entry.path().filename() == "retail.toml") {
        const std::string kept = "[retention]\nyears = 6\nfrom = \"closure\"\n";
        REQUIRE(text.find(kept) != std::string::npos);
        text.erase(text.find(kept), kept.size());
      }
      std::ofstream(standards / entry.path().filename(), std::ios::binary) << text;
    }
  const std::string data = "--data-dir=" + (scratch.dir.path() / "node").string();
  const std::string workflows = "--workflows=" + standards.string();
  Outcome migrated = scratch.run({"migrate", flag, data});
  INFO(migrated.err);
  REQUIRE(migrated.status == 0);
  REQUIRE(scratch.run({"staff", "add", flag, "--name", "Sam Okafor", "--email", "sam@example.org", "--role", "agent"})
              .status == 0);
  const std::string token = trimmed(scratch.run({"staff", "token", flag, "--email", "sam@example.org"}).out);

  // A node serves throughout: the compaction runs beside it.
  Node node(scratch, {flag, data, workflows});
  const std::string zoltan_case =
      R"({"client": {"name": "Zoltan Brisbane-Okoro", "email": "zoltan.bo@example.org", "phone": "+44 7700 900111"},
      "channel": "web", "category": "billing", "touchpoint": "billing", "subject": "Overcharged ZQ-5512",
      "description": "My account QX-40917 was overcharged.", "workflow": "retail"})";
  auto [created, created_body] = http(node.port(), "POST", "/v1/cases", zoltan_case, token);
  INFO(created_body << node.log());
  REQUIRE(created == 201);
  std::smatch m;
  REQUIRE(std::regex_search(created_body, m, std::regex(R"re("reference"\s*:\s*"(CMP-[0-9]{4}-[0-9]{6})")re")));
  const std::string reference = m[1];
  auto [noted, noted_body] = http(node.port(), "POST", "/v1/cases/" + reference + "/messages",
                                  R"({"visibility": "internal", "body": "Zoltan rang again, upset about QX-40917"})",
                                  token);
  INFO(noted_body);
  REQUIRE(noted == 201);
  const std::string maud_case = R"({"client": {"name": "Maud Linnell", "email": "maud@example.net"},
      "channel": "web", "category": "billing", "touchpoint": "billing", "subject": "Broken lamp",
      "description": "The lamp ML-7 broke.", "workflow": "retail"})";
  REQUIRE(http(node.port(), "POST", "/v1/cases", maud_case, token).first == 201);
  const std::vector<std::string> needles{"Brisbane-Okoro", "zoltan.bo@example.org", "7700 900111", "QX-40917",
                                         "ZQ-5512"};
  for (const auto& needle : needles) {
    INFO(needle);
    CHECK(!cluster.files_holding(needle).empty());
  }

  Outcome erased = scratch.run({"subject", "erase", flag, data, workflows, "--email", "zoltan.bo@example.org", "--reason",
                                "Article 17 request of 2026-12-07", "--compact"});
  INFO(erased.out << erased.err);
  CHECK(erased.status == 1);  // erased, but the role may not take two of compaction's steps
  CHECK_THAT(erased.out, Catch::Contains("1 case erased (" + reference + ")"));
  CHECK_THAT(erased.out, Catch::Contains("done           VACUUM (FULL, ANALYZE) events"));
  CHECK_THAT(erased.out, Catch::Contains("not permitted  VACUUM FULL pg_catalog.pg_statistic"));
  CHECK_THAT(erased.out, Catch::Contains("not permitted  the WAL"));
  CHECK_THAT(erased.out, Catch::Contains("Not compacted whole: 2 of 13 steps"));
  // What it says to grant, granted word for word by a superuser.
  const std::regex grant("as a superuser: (.*)");
  int grants = 0;
  for (auto it = std::sregex_iterator(erased.out.begin(), erased.out.end(), grant); it != std::sregex_iterator();
       ++it, ++grants)
    postgres_execute(owner_url, (*it)[1].str());
  CHECK(grants == 2);

  Outcome compacted = scratch.run({"compact", flag, data});
  INFO(compacted.out << compacted.err);
  CHECK(compacted.status == 0);
  CHECK_THAT(compacted.out, Catch::Contains("Compacted: no file of the database holds erased data."));
  for (const auto& needle : needles) {
    const auto files = cluster.files_holding(needle);
    INFO(needle << " in " << (files.empty() ? std::string("none") : files.front()));
    CHECK(files.empty());
  }
  CHECK(!cluster.files_holding("Maud Linnell").empty());
  // The node served on, and serves the case still, without her.
  auto [read, read_body] = http(node.port(), "GET", "/v1/cases/" + reference, {}, token);
  INFO(read_body << node.log());
  CHECK(read == 200);
  CHECK_THAT(read_body, Catch::Contains("[erased]"));
  CHECK(http(node.port(), "POST", "/v1/cases", maud_case, token).first == 201);
  Outcome verified = scratch.run({"audit", "verify", flag});
  INFO(verified.out << verified.err);
  CHECK(verified.status == 0);
}

}  // namespace
}  // namespace redress::postgres_cli_test
