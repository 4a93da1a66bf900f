// bench/returns: the regulatory return for a year over a million cases (issue 26: <= 1 s).
//
//   build/bench/returns [--cases N] [--runs K] [--dir DIR] [--check]
//
// 1. Seeds a fresh SQLite database (in DIR, default a new folder under /tmp, removed at the end)
//    with N cases (default 1,000,000) received over 2027 in the retail and FCA standards, with
//    the histories a real desk gives them, written as raw rows in batches (the bench measures
//    reading, not seeding): every case its case.received event; 88% resolved between an hour and
//    ten weeks later with an outcome, a root cause and a product from the workflow's lists, 6% of
//    those reopened and resolved again; 3% withdrawn; 4% of clients flagged vulnerable, a third of
//    those cleared later; 15% paid redress; each its final-response pledge kept or broken. Then the
//    return ledger is built from those histories by the store's rebuild (ReportStore::
//    rebuild_return_ledger, the engine's fold over every case's events: what the writers would
//    have added one change at a time).
// 2. The return: the year's GET /v1/reports/returns as the server computes it — the ledger read
//    (web::read_ledger), the figures of every workflow for the year and each month
//    (web::compute_returns) and their JSON — K times (default 7), median.
// 3. Baseline, in the same run: one SELECT of the same rows of the ledger into memory, nothing
//    computed (the floor under any return read from it); the median of K, and the ratio.
// 4. --check also recomputes the year and each month from the cases' histories
//    (ReportStore::return_histories, web::return_figures: the reference the ledger is tested
//    against), times it once, and fails unless every figure is equal.
#include <sqlite3.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <random>

#include "adapters/sqlite/database.h"
#include "adapters/sqlite/rows.h"
#include "app/environment.h"
#include "engine/return_ledger.h"
#include "web/returns.h"

using namespace redress;
namespace fs = std::filesystem;
using Steady = std::chrono::steady_clock;

namespace {

struct Options {
  int cases = 1'000'000;
  int runs = 7;
  std::string dir;
  bool check = false;
};

[[noreturn]] void usage(const std::string& problem) {
  std::cerr << "bench/returns: " << problem << "\n"
            << "usage: returns [--cases N] [--runs K] [--dir DIR] [--check]\n";
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") usage("the year's return over many cases");
    if (flag == "--check") {
      o.check = true;
      continue;
    }
    if (i + 1 >= argc) usage(flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--dir") {
      o.dir = value;
      continue;
    }
    int n = 0;
    try {
      n = std::stoi(value);
    } catch (const std::exception&) {
      usage(flag + " takes a whole number");
    }
    if (n < 1) usage(flag + " must be at least 1");
    if (flag == "--cases")
      o.cases = n;
    else if (flag == "--runs")
      o.runs = n;
    else
      usage("unknown option " + flag);
  }
  return o;
}

double ms(Steady::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

[[noreturn]] void die(const std::string& what) {
  std::cerr << "bench/returns: " << what << "\n";
  std::exit(1);
}

template <typename T>
T must(Result<T> r, const char* what) {
  if (!r) die(std::string(what) + ": " + r.error().detail);
  return std::move(r).value();
}

void must(Status s, const char* what) {
  if (!s) die(std::string(what) + ": " + s.error().detail);
}

Config config_in(const fs::path& dir) {
  Config config;
  config.data_dir = dir.string();
  config.workflows = REDRESS_SOURCE_WORKFLOWS;
  config.durability = "normal";
  return config;
}

// The histories of `n` cases received over 2027, as raw rows.
void seed(const fs::path& dir, const WorkflowSet& workflows, int n) {
  sqlite::Connection db((dir / "redress.db").string(), sqlite::OpenMode::kReadWrite);
  must(db.exec("PRAGMA synchronous = OFF; PRAGMA journal_mode = WAL; BEGIN"), "seed");
  std::mt19937_64 random(26);
  auto chance = [&](int percent) { return static_cast<int>(random() % 100) < percent; };
  auto pick = [&](std::size_t size) { return static_cast<std::size_t>(random() % size); };
  const Time year_start = *parse_time("2027-01-01T00:00:00Z");
  constexpr std::int64_t kYear = 365LL * 86400 * 1000000;
  constexpr std::int64_t kHour = 3600LL * 1000000;
  const Workflow* retail = workflows.find("retail");
  const Workflow* fca = workflows.find("fca-disp");
  if (!retail || !fca) die("the shipped workflows lack retail or fca-disp");
  auto& events = db.cached("INSERT INTO events(case_id, seq, type, at, actor, data, hash) VALUES (?1,?2,?3,?4,'bench',?5,'')");
  struct Written {
    std::int64_t seq;
    const char* type;
    Time at;
    std::string data;
  };
  std::vector<Written> written;
  auto event = [&](const Case&, std::int64_t seq, const char* type, Time at, const std::string& data) {
    written.push_back(Written{seq, type, at, data});
  };
  const char* outcomes[] = {"upheld", "partly_upheld", "not_upheld", "resolved_informally"};
  for (int i = 1; i <= n; ++i) {
    const Workflow& w = chance(60) ? *fca : *retail;
    written.clear();
    Case c;
    c.id = i;
    c.reference = "CMP-2027-" + std::to_string(1000000 + i);
    c.client = Client{"Client " + std::to_string(i), "client" + std::to_string(i) + "@example.org", "", "en-GB"};
    c.category = w.categories.front();
    c.touchpoint = "phone_contact";
    c.subject = "bench";
    c.workflow = w.name;
    c.team = w.team;
    c.received_at = from_micros(to_micros(year_start) + static_cast<std::int64_t>(random() % kYear));
    c.updated_at = c.received_at;
    c.head_hash = "";
    std::int64_t seq = 1;
    event(c, seq++, "case.received", c.received_at, "{}");
    Time t = c.received_at;
    bool flagged = false;
    std::vector<Commitment> pledges;
    auto later = [&](std::int64_t max_hours) {
      t = from_micros(to_micros(t) + kHour + static_cast<std::int64_t>(random() % (max_hours * kHour)));
    };
    if (chance(4)) {
      later(48);
      event(c, seq++, "client.vulnerability_flagged", t, "{}");
      flagged = true;
    }
    const bool withdrawn = chance(3);
    const bool resolved = !withdrawn && chance(91);
    auto resolve = [&] {
      later(24 * 7 * 10 / 2);
      const std::string cause = w.root_causes[pick(w.root_causes.size())].key;
      const std::string product = w.products[pick(w.products.size())].key;
      event(c, seq++, "case.resolved", t,
            std::string("{\"outcome\":\"") + outcomes[pick(4)] + "\",\"product\":\"" + product +
                "\",\"root_cause\":\"" + cause + "\"}");
      c.status = CaseStatus::kResolved;
      c.resolved_at = t;
    };
    if (withdrawn) {
      later(24 * 30);
      event(c, seq++, "case.withdrawn", t, "{}");
      c.status = CaseStatus::kWithdrawn;
    } else if (resolved) {
      resolve();
      // The final response's first pledge: kept when resolved within the clock's target.
      const ClockRule* clock = w.find_clock("final_response");
      if (clock) {
        Commitment k;
        k.id = i;
        k.case_id = i;
        k.kind = CommitmentKind::kPledge;
        k.text = clock->text;
        k.due_at = c.received_at + std::chrono::days(w.name == "retail" ? 14 : 56);
        k.created_at = c.received_at;
        k.pledge_key = w.name + "/final_response#1";
        k.rule_due_at = k.due_at;
        k.status = t <= k.due_at ? CommitmentStatus::kKept : CommitmentStatus::kBroken;
        k.settled_at = t <= k.due_at ? t : k.due_at;
        pledges.push_back(k);
      }
      if (chance(15)) {
        later(24 * 10);
        event(c, seq++, "redress.fulfilled", t,
              "{\"currency\":\"GBP\",\"kind\":\"refund\",\"paid\":\"" + std::to_string(5 + random() % 200) + ".00\"}");
      }
      if (chance(6)) {
        later(24 * 10);
        event(c, seq++, "case.reopened", t, "{}");
        c.status = CaseStatus::kInvestigating;
        c.resolved_at.reset();
        resolve();
      }
    } else {
      c.status = CaseStatus::kInvestigating;
    }
    if (flagged && chance(33)) {
      later(24 * 20);
      event(c, seq++, "client.vulnerability_cleared", t, "{}");
      flagged = false;
    }
    if (flagged) c.vulnerability = Vulnerability{VulnerabilityDriver::kHealth, "bench", std::chrono::year{2028} / 1 / 1};
    c.version = seq - 1;
    auto& insert = db.cached(sqlite::kInsertCaseSql);
    sqlite::bind_case(insert, c);
    must(insert.run(), "case");
    for (const auto& e : written) {
      events.bind(1, c.id).bind(2, e.seq).bind(3, e.type).bind(4, to_micros(e.at)).bind(5, e.data);
      must(events.run(), "event");
    }
    for (const auto& k : pledges) must(sqlite::write_commitment(db, nullptr, k), "pledge");
    if (i % 100000 == 0) {
      must(db.exec("COMMIT; BEGIN"), "seed");
      std::cerr << "  " << i << " cases\n";
    }
  }
  must(db.exec("COMMIT"), "seed");
  // The ledger is rebuilt from these histories when the store next opens (migration 20 found no cases).
  must(db.exec("UPDATE return_ledger SET built = 0"), "seed");
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  const bool temporary = o.dir.empty();
  const fs::path dir = temporary ? fs::temp_directory_path() / ("redress-bench-returns-" + std::to_string(::getpid()))
                                 : fs::path(o.dir);
  fs::create_directories(dir);
  const Config config = config_in(dir);
  must(migrate_database(config), "migrate");
  std::cout << "bench/returns: " << o.cases << " cases received over 2027, " << o.runs << " runs\n";
  {
    WorkflowSet workflows;
    {
      OpenOptions options;
      auto env = must(open_environment(config, options), "open");
      workflows = env->workflows;
    }
    const auto started = Steady::now();
    seed(dir, workflows, o.cases);
    std::cout << "seeded in " << static_cast<int>(ms(Steady::now() - started) / 1000) << " s\n";
  }
  // Opening the store with the workflows builds the ledger from the histories.
  const auto opening = Steady::now();
  OpenOptions options;
  auto env = must(open_environment(config, options), "open");
  std::cout << "ledger rebuilt from the histories in " << static_cast<int>(ms(Steady::now() - opening) / 1000)
            << " s\n";
  if (!must(env->store->return_ledger_built(), "ledger")) die("the ledger was not built (see the log)");
  std::int64_t rows = 0;
  {
    auto counted = env->sqlite->with_reader([](sqlite::Connection& db) -> Result<std::int64_t> {
      auto s = db.prepare("SELECT count(*) FROM return_days");
      if (!s) return s.error();
      (void)s->step();
      return s->integer(0);
    });
    rows = must(std::move(counted), "count");
  }

  using std::chrono::year;
  const std::chrono::year_month_day first = year{2027} / 1 / 1, last = year{2027} / 12 / 31;
  std::vector<double> returns_ms, baseline_ms;
  std::size_t read_rows = 0;
  std::int64_t opened = 0;
  for (int run = 0; run < o.runs; ++run) {
    const auto a = Steady::now();
    auto ledger = must(web::read_ledger(*env->store, "", first, last), "ledger");
    const auto returns = web::compute_returns(env->workflows, nullptr, ledger, first, last);
    std::size_t bytes = 0;
    for (const auto& r : returns) {
      bytes += boost::json::serialize(web::return_figures_json(*r.workflow, r.total.figures)).size();
      for (const auto& m : r.months) bytes += boost::json::serialize(web::return_figures_json(*r.workflow, m.figures)).size();
    }
    const auto b = Steady::now();
    returns_ms.push_back(ms(b - a));
    read_rows = ledger.days.size();
    opened = 0;
    for (const auto& r : returns) opened += r.total.figures.opened;
    if (bytes == 0) die("no returns");
    // Baseline: the same rows of the ledger read, nothing computed.
    auto plain = env->sqlite->with_reader([&](sqlite::Connection& db) -> Result<std::size_t> {
      auto s = db.prepare(
          "SELECT day, workflow, measure, key, value FROM return_days WHERE day >= ?1 AND day <= ?2 AND value <> 0");
      if (!s) return s.error();
      s->bind(1, std::int64_t{day_number(first)}).bind(2, std::int64_t{day_number(last)});
      std::vector<ReturnDay> out;
      while (s->step())
        out.push_back(ReturnDay{s->text(1), static_cast<std::int32_t>(s->integer(0)), ReturnMeasure::kOpened,
                                s->text(3), s->integer(4)});
      return out.size();
    });
    (void)must(std::move(plain), "baseline");
    baseline_ms.push_back(ms(Steady::now() - b));
  }
  const double returns_median = median(returns_ms), baseline_median = median(baseline_ms);
  std::cout << "ledger: " << rows << " day rows in all; the year reads " << read_rows << "; opened in 2027: " << opened
            << "\n";
  std::printf("the year's return (all workflows, the year and 12 months, JSON): median %.1f ms  %s\n", returns_median,
              returns_median <= 1000 ? "(target <= 1000 ms: met)" : "(target <= 1000 ms: NOT met)");
  std::printf("baseline (the same ledger rows read, nothing computed):       median %.1f ms\n", baseline_median);
  std::printf("ratio return / baseline: %.2f\n", returns_median / baseline_median);

  int status = 0;
  if (o.check) {
    const auto a = Steady::now();
    Time before = Time::min();
    for (const auto& w : env->workflows.all()) before = std::max(before, web::return_period_end(w, last));
    auto histories = must(env->store->return_histories("", before), "histories");
    int differing = 0;
    const auto ledger = must(web::read_ledger(*env->store, "", first, last), "ledger");
    for (const auto& r : web::compute_returns(env->workflows, nullptr, ledger, first, last)) {
      std::vector<const web::ReturnPeriod*> periods{&r.total};
      for (const auto& m : r.months) periods.push_back(&m);
      for (const auto* p : periods) {
        auto reference = must(web::return_figures(*r.workflow, histories, p->first, p->last), "reference");
        web::ReturnFigures figures = p->figures;
        figures.responses_timely = figures.responses_late = 0;
        if (!(figures == reference)) {
          ++differing;
          std::cerr << r.workflow->name << " " << format_date(p->first) << ": ledger "
                    << boost::json::serialize(web::return_figures_json(*r.workflow, figures)) << "\n  history "
                    << boost::json::serialize(web::return_figures_json(*r.workflow, reference)) << "\n";
        }
      }
    }
    std::printf("check: the same figures recomputed from %zu histories in %.1f s: %s\n", histories.size(),
                ms(Steady::now() - a) / 1000, differing == 0 ? "all equal" : "DIFFERENT");
    if (differing) status = 1;
  }
  env.reset();
  if (temporary) fs::remove_all(dir);
  return status;
}
