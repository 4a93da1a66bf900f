// Graceful shutdown under load: clients create cases over keep-alive connections while the server
// gets SIGTERM. It must exit 0, and every case it acknowledged (201) must be in the database with
// its events, with every hash chain intact.
#include "web/support.h"

#include <sqlite3.h>

#include <mutex>
#include <set>

using namespace redress::webtest;

namespace {

struct Tally {
  std::mutex mutex;
  std::vector<std::string> acknowledged;         // references from 201 answers
  std::map<std::string, std::int64_t> versions;  // the version each 201 reported
  std::map<int, int> other_statuses;             // anything but 201, by status
  int lost_connections = 0;                      // requests that got no answer (not acknowledged)
};

// Creates cases one after another over keep-alive until the server stops accepting connections.
// No Catch macros here: this runs on its own thread.
void create_until_gone(unsigned short port, const std::string& token, int worker, Tally& tally,
                       std::atomic<int>& acknowledged, std::chrono::steady_clock::time_point deadline) {
  Connection c;
  int n = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!c.is_open() && !c.connect(port)) return;  // the listener is closed: the server is going
    std::string body = json::serialize(new_case_body("Load " + std::to_string(worker) + "-" + std::to_string(n++)));
    if (!c.send_raw(build_request("POST", "/v1/cases", bearer(token), body))) {
      std::lock_guard lock(tally.mutex);
      ++tally.lost_connections;
      c.close();
      continue;
    }
    auto r = c.read_response(30s);
    std::lock_guard lock(tally.mutex);
    if (!r) {
      ++tally.lost_connections;
      c.close();
      continue;
    }
    if (r->status == 201) {
      json::value v = r->json();
      std::string ref = string_at(v, "reference");
      tally.acknowledged.push_back(ref);
      if (v.is_object() && v.as_object().contains("version") && v.at("version").is_int64())
        tally.versions[ref] = v.at("version").as_int64();
      ++acknowledged;
    } else {
      ++tally.other_statuses[r->status];
    }
    if (lower(r->header("connection")) == "close") c.close();
  }
}

class Db {
 public:
  explicit Db(const fs::path& path) {
    REQUIRE(sqlite3_open_v2(path.string().c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  }
  ~Db() { sqlite3_close(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  std::int64_t number(const std::string& sql, const std::string& parameter = {}) {
    sqlite3_stmt* stmt = nullptr;
    REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
    if (!parameter.empty()) sqlite3_bind_text(stmt, 1, parameter.c_str(), -1, SQLITE_TRANSIENT);
    std::int64_t value = -1;
    if (sqlite3_step(stmt) == SQLITE_ROW) value = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return value;
  }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace

TEST_CASE("web shutdown: SIGTERM under load loses no acknowledged request", "[web][shutdown][concurrency]") {
  RedressServer server;
  constexpr int kWorkers = 6;
  Tally tally;
  std::atomic<int> acknowledged{0};
  auto deadline = std::chrono::steady_clock::now() + 45s;
  std::vector<std::thread> workers;
  for (int i = 0; i < kWorkers; ++i)
    workers.emplace_back(create_until_gone, server.port(), server.token(i % 2 ? "agent" : "intake"), i, std::ref(tally),
                         std::ref(acknowledged), deadline);

  // Let the load build up, then stop the server in the middle of it.
  auto until = std::chrono::steady_clock::now() + 20s;
  while (acknowledged.load() < 150 && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(10ms);
  int before_signal = acknowledged.load();
  auto status = server.terminate(60s);
  for (auto& t : workers) t.join();

  INFO("acknowledged before SIGTERM: " << before_signal << ", in all: " << tally.acknowledged.size()
                                       << ", unanswered requests: " << tally.lost_connections);
  REQUIRE(status);
  CHECK(*status == 0);
  REQUIRE(before_signal > 0);
  for (const auto& [code, count] : tally.other_statuses) {
    INFO(count << " answers with status " << code);
    CHECK(code == 503);  // only "not now" is acceptable while draining
  }
  std::string log = server.log();
  CHECK(log.find("stopped") != std::string::npos);

  // Reopen the data directory the way an operator would.
  RunResult audit = server.run({"audit", "verify"});
  INFO(audit.output);
  CHECK(audit.status == 0);

  Db db(server.database());
  std::set<std::string> unique(tally.acknowledged.begin(), tally.acknowledged.end());
  CHECK(unique.size() == tally.acknowledged.size());  // each 201 was a different case
  int missing = 0, short_history = 0;
  for (const auto& ref : tally.acknowledged) {
    std::int64_t cases = db.number("SELECT count(*) FROM cases WHERE reference = ?1", ref);
    std::int64_t events = db.number(
        "SELECT count(*) FROM events JOIN cases ON cases.id = events.case_id WHERE cases.reference = ?1", ref);
    std::int64_t first = db.number(
        "SELECT min(seq) FROM events JOIN cases ON cases.id = events.case_id WHERE cases.reference = ?1", ref);
    if (cases != 1) ++missing;
    auto version = tally.versions.find(ref);
    if (events < 1 || first != 1 || (version != tally.versions.end() && events < version->second)) ++short_history;
  }
  CHECK(missing == 0);
  CHECK(short_history == 0);
  // Nothing beyond what the clients asked for: cases in the database <= requests sent.
  std::int64_t total = db.number("SELECT count(*) FROM cases");
  CHECK(total >= static_cast<std::int64_t>(tally.acknowledged.size()));
  CHECK(total <= static_cast<std::int64_t>(tally.acknowledged.size()) + tally.lost_connections + [&] {
    int n = 0;
    for (const auto& [code, count] : tally.other_statuses) n += count;
    return n;
  }());
}

TEST_CASE("web shutdown: an idle server exits 0 at once on SIGTERM and SIGINT", "[web][shutdown][concurrency]") {
  for (int signal : {SIGTERM, SIGINT}) {
    RedressServer server;
    // An idle keep-alive connection does not hold the shutdown up.
    Connection idle(server.port());
    auto r = idle.request("GET", "/healthz");
    REQUIRE(r);
    REQUIRE(r->status == 200);
    auto status = server.stop_with(signal, 20s);
    INFO("signal " << signal << ": " << server.log());
    REQUIRE(status);
    CHECK(*status == 0);
    CHECK(idle.wait_closed(5s));
    // It is gone: nothing listens on the port any more.
    Connection after;
    CHECK(!after.connect(server.port()));
  }
}
