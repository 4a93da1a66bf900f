// bench/scheduler: the scheduler and the overdue report with a million open commitments stored.
//
//   build/bench/scheduler [--commitments N] [--cases N] [--probes N] [--idle-seconds S] [--runs K] [--dir DIR]
//
// On a fresh database (durability FULL, the system clock):
//   1. N cases are created through the engine (retail: each owes its pledges), then the
//      commitments table is filled to --commitments open promises due in the coming year, spread
//      over those cases, 1% with a warning raised and 1% broken and not handled (raw inserts in
//      batches: the bench measures reading and firing, not seeding).
//   2. Start-up: the store, the engine and the scheduler are opened on that file, and the
//      scheduler's first round runs (nothing is due) — K times, median.
//   3. Idle CPU: with the scheduler thread running and nothing due for hours, the process's CPU
//      time over S seconds, as a share of one core.
//   4. The overdue report (Store::overdue_report, 500 items per list, as GET /v1/reports/overdue
//      reads it): 21 calls, median and p99, against a baseline in the same run: one indexed
//      SELECT of the same 500 soonest open commitments.
//   5. Delay: --probes promises due 2 to 7 s ahead are made through the engine; the scheduler
//      breaks them on the system clock; for each, the committed commitment.broken event's time
//      minus the due time. Median, p99 and max.
// Targets (issue 4): p99 delay <= 1 s; idle CPU <= 2% of a core; the overdue report <= 50 ms;
// start-up <= 2 s.
#include <sqlite3.h>
#include <sys/resource.h>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <future>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "app/environment.h"
#include "engine/actions.h"
#include "engine/scheduler.h"

using namespace redress;
namespace fs = std::filesystem;
using Steady = std::chrono::steady_clock;

namespace {

struct Options {
  int commitments = 1'000'000;
  int cases = 20'000;
  int probes = 1000;
  int idle_seconds = 10;
  int runs = 3;
  std::string dir;
};

[[noreturn]] void usage(const std::string& problem) {
  std::cerr
      << "bench/scheduler: " << problem << "\n"
      << "usage: scheduler [--commitments N] [--cases N] [--probes N] [--idle-seconds S] [--runs K] [--dir DIR]\n";
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") usage("the scheduler and the overdue report over many open commitments");
    if (i + 1 >= argc) usage(flag + " needs a value");
    std::string value = argv[++i];
    int n = 0;
    try {
      n = std::stoi(value);
    } catch (const std::exception&) {
      if (flag != "--dir") usage(flag + " takes a whole number");
    }
    if (flag != "--dir" && n < 1) usage(flag + " must be at least 1");
    if (flag == "--commitments")
      o.commitments = n;
    else if (flag == "--cases")
      o.cases = n;
    else if (flag == "--probes")
      o.probes = n;
    else if (flag == "--idle-seconds")
      o.idle_seconds = n;
    else if (flag == "--runs")
      o.runs = n;
    else if (flag == "--dir")
      o.dir = value;
    else
      usage("unknown option " + flag);
  }
  return o;
}

double ms(Steady::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto index = static_cast<std::size_t>(
      std::min<double>(static_cast<double>(v.size() - 1), p * static_cast<double>(v.size() - 1) + 0.5));
  return v[index];
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

Config config_in(const fs::path& dir) {
  Config config;
  config.data_dir = dir.string();
  config.workflows = REDRESS_SOURCE_WORKFLOWS;
  return config;
}

std::unique_ptr<Environment> open_env(const fs::path& dir) {
  OpenOptions options;
  options.migrate_if_needed = true;
  auto env = open_environment(config_in(dir), options);
  if (!env) {
    std::cerr << "bench/scheduler: " << env.error().detail << "\n";
    std::exit(1);
  }
  return std::move(env).value();
}

void exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    std::cerr << "bench/scheduler: " << (error ? error : "sqlite error") << "\n";
    std::exit(1);
  }
}

void seed(const fs::path& dir, const Options& o) {
  auto env = open_env(dir);
  Staff agent{"", "Sam Okafor", "sam@bench.example", Role::kAgent, "customer-care", true};
  auto added = env->store->add_staff(agent);
  if (!added) std::exit(1);
  std::vector<std::promise<Result<Committed>>> done(static_cast<std::size_t>(o.cases));
  for (int i = 0; i < o.cases; ++i) {
    NewCase c;
    c.client = Client{"Client " + std::to_string(i), "client" + std::to_string(i) + "@example.org", "", ""};
    c.category = "billing";
    c.subject = "Charged twice";
    c.description = "bench";
    c.workflow = "retail";
    env->engine->create_case(c, Actor::intake("bench"), "", "", [&done, i](Result<Committed> r) {
      done[static_cast<std::size_t>(i)].set_value(std::move(r));
    });
  }
  for (auto& d : done)
    if (!d.get_future().get()) std::exit(1);
  std::string owner = added->id;
  Time now = env->clock->now();
  env.reset();

  sqlite3* db = nullptr;
  sqlite3_open((dir / "redress.db").string().c_str(), &db);
  exec(db, "PRAGMA synchronous = OFF");
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(
      db,
      "INSERT INTO commitments(id, case_id, kind, text, due_at, owner_id, client_visible, status, created_at, "
      "settled_at, note, replaces_id, replaced_by_id, redress_id, warnings_fired, handled_at) "
      "VALUES (?1, ?2, 'promise', 'We will call you back about your refund', ?3, ?4, 1, ?5, ?6, ?7, '', 0, 0, 0, ?8, "
      "NULL)",
      -1, &insert, nullptr);
  std::mt19937_64 random(7);
  std::int64_t year = 365LL * 86400 * 1000000;
  int existing = 0;
  {
    sqlite3_stmt* count = nullptr;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM commitments WHERE status = 'open'", -1, &count, nullptr);
    sqlite3_step(count);
    existing = sqlite3_column_int(count, 0);
    sqlite3_finalize(count);
  }
  int open_target = o.commitments - existing;
  int broken = o.commitments / 100;
  exec(db, "BEGIN");
  for (int i = 0; i < open_target + broken; ++i) {
    bool is_broken = i >= open_target;
    std::int64_t case_id = 1 + static_cast<std::int64_t>(random() % static_cast<std::uint64_t>(o.cases));
    // Due between 6 hours and a year ahead (broken ones: in the past month).
    std::int64_t due = is_broken ? to_micros(now) - static_cast<std::int64_t>(random() % (year / 12))
                                 : to_micros(now) + 6LL * 3600 * 1000000 + static_cast<std::int64_t>(random() % year);
    sqlite3_bind_int64(insert, 1, 1'000'000'000LL + i);
    sqlite3_bind_int64(insert, 2, case_id);
    sqlite3_bind_int64(insert, 3, due);
    sqlite3_bind_text(insert, 4, owner.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(insert, 5, is_broken ? "broken" : "open", -1, SQLITE_STATIC);
    sqlite3_bind_int64(insert, 6, to_micros(now) - year / 12);
    if (is_broken)
      sqlite3_bind_int64(insert, 7, due);
    else
      sqlite3_bind_null(insert, 7);
    sqlite3_bind_int(insert, 8, (!is_broken && i % 100 == 0) ? 1 : 0);
    sqlite3_step(insert);
    sqlite3_reset(insert);
    if (i % 100000 == 99999) exec(db, "COMMIT; BEGIN");
  }
  exec(db, "COMMIT");
  sqlite3_finalize(insert);
  exec(db, "PRAGMA wal_checkpoint(TRUNCATE); ANALYZE");
  sqlite3_close(db);
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  fs::path dir = o.dir.empty() ? fs::temp_directory_path() / ("redress-bench-scheduler-" + std::to_string(::getpid()))
                               : fs::path(o.dir);
  fs::create_directories(dir);
  std::cout << "bench/scheduler: " << o.commitments << " open commitments over " << o.cases << " cases, in " << dir
            << "\n";
  auto t0 = Steady::now();
  seed(dir, o);
  std::cout << "seeded in " << ms(Steady::now() - t0) / 1000 << " s\n";

  // 2. Start-up.
  std::vector<double> startups;
  for (int run = 0; run < o.runs; ++run) {
    auto begin = Steady::now();
    auto env = open_env(dir);
    Scheduler scheduler(*env->engine,
                        Scheduler::Options{"bench", std::chrono::seconds(60), std::chrono::seconds(20), 512});
    auto first = scheduler.run_due();
    startups.push_back(ms(Steady::now() - begin));
    std::cout << "start-up run " << run + 1 << ": " << startups.back() << " ms (first round fired " << first.cases
              << " cases)\n";
  }

  auto env = open_env(dir);
  auto open = env->store->count_open_commitments();
  std::cout << "open commitments stored: " << (open ? *open : -1) << "\n";
  Scheduler::Options options;
  options.holder = "bench";
  Scheduler scheduler(*env->engine, options);
  // The observer runs right after each commit: the instant a broken event became durable.
  std::mutex committed_mutex;
  std::map<std::string, Time> committed_at;
  SystemClock wall;
  env->engine->set_observer([&](const Committed& c) {
    if (c.change.wake == Change::Wake::kSet) scheduler.notify(c.change.wake_at);
    for (const auto& e : c.change.events) {
      if (e.type != "commitment.broken") continue;
      auto data = boost::json::parse(e.data).as_object();
      std::lock_guard lock(committed_mutex);
      committed_at[std::string(data.at("commitment_id").as_string())] = wall.now();
    }
  });
  scheduler.start();

  // 3. Idle CPU.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  double cpu_before = cpu_seconds();
  auto idle_begin = Steady::now();
  std::this_thread::sleep_for(std::chrono::seconds(o.idle_seconds));
  double idle_share = (cpu_seconds() - cpu_before) / (ms(Steady::now() - idle_begin) / 1000);
  std::cout << "idle CPU: " << idle_share * 100 << "% of one core over " << o.idle_seconds << " s\n";

  // 4. The overdue report against one indexed SELECT of the same page.
  std::vector<double> report_ms, baseline_ms;
  std::int64_t listed = 0;
  for (int i = 0; i < 21; ++i) {
    auto begin = Steady::now();
    auto report = env->store->overdue_report(env->clock->now(), 500);
    report_ms.push_back(ms(Steady::now() - begin));
    if (report) listed = report->past_due_total + report->at_risk_total + report->broken_unhandled_total;
    begin = Steady::now();
    (void)env->sqlite->with_reader([](redress::sqlite::Connection& db) {
      auto& s = db.cached("SELECT id, due_at FROM commitments WHERE status = 'open' ORDER BY due_at LIMIT 500");
      int n = 0;
      while (s.step()) ++n;
      s.reset();
      return n;
    });
    baseline_ms.push_back(ms(Steady::now() - begin));
  }
  std::cout << "overdue report: median " << percentile(report_ms, 0.5) << " ms, p99 " << percentile(report_ms, 0.99)
            << " ms (" << listed << " commitments listed in the totals) | baseline SELECT of 500: median "
            << percentile(baseline_ms, 0.5) << " ms | ratio "
            << percentile(report_ms, 0.5) / std::max(1e-6, percentile(baseline_ms, 0.5)) << "\n";

  // 5. Delay from due time to the committed commitment.broken event.
  auto refs = env->store->list_cases({}, "", 200);
  if (!refs || refs->cases.empty()) return 1;
  auto staff = env->store->find_staff("sam@bench.example");
  Time start = env->clock->now() + std::chrono::seconds(2);
  std::vector<std::promise<Result<Committed>>> made(static_cast<std::size_t>(o.probes));
  for (int i = 0; i < o.probes; ++i) {
    ActionRequest r;
    r.type = ActionType::kMakeCommitment;
    r.reference = refs->cases[static_cast<std::size_t>(i) % refs->cases.size()].reference;
    r.actor = Actor::staff(staff->id, Role::kAgent);
    r.text = "Probe " + std::to_string(i);
    r.client_visible = false;
    r.due.at = start + std::chrono::microseconds(5'000'000LL * i / o.probes);
    env->engine->submit(std::move(r),
                        [&made, i](Result<Committed> c) { made[static_cast<std::size_t>(i)].set_value(std::move(c)); });
  }
  std::map<std::string, Time> due_of;
  for (auto& m : made) {
    auto c = m.get_future().get();
    if (!c) {
      std::cerr << "bench/scheduler: a probe was refused: " << c.error().detail << "\n";
      return 1;
    }
    const Commitment& k = c->change.commitments.front();
    due_of[commitment_display_id(k.id)] = k.due_at;
  }
  std::this_thread::sleep_for(std::chrono::seconds(9));
  scheduler.stop();
  std::vector<double> delays;
  {
    std::lock_guard lock(committed_mutex);
    for (const auto& [id, due] : due_of)
      if (auto it = committed_at.find(id); it != committed_at.end())
        delays.push_back(std::chrono::duration<double, std::milli>(it->second - due).count());
  }
  std::cout << "delay due -> committed broken event: " << delays.size() << "/" << o.probes << " probes broken; median "
            << percentile(delays, 0.5) << " ms, p99 " << percentile(delays, 0.99) << " ms, max "
            << (delays.empty() ? 0 : *std::max_element(delays.begin(), delays.end())) << " ms\n";
  std::cout << "start-up median " << percentile(startups, 0.5) << " ms\n";
  std::cout << "targets: p99 delay <= 1000 ms; idle CPU <= 2%; overdue report <= 50 ms; start-up <= 2000 ms\n";
  env.reset();
  if (o.dir.empty()) fs::remove_all(dir);
  return 0;
}
