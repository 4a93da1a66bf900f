// bench/erasure: how long erasing one client takes (docs/personal-data.md; the target is 1 s for a
// client with 100 cases), on SQLite or PostgreSQL, through the same code `redress subject erase` runs.
//
//   build/bench/erasure [--cases N] [--others N] [--runs K] [--history sealed|whole] [--dir DIR]
//                       [--database URL] [--compact]
//
// Each run makes a fresh database in DIR (default: a new folder under /tmp, removed at the end),
// creates --others cases of other clients (default 2000) and --cases cases of one client (default
// 100) through the engine, each of the client's with a message carrying a file, an internal note, a
// promise and an acknowledgement, so each erasure rewrites a dozen events, messages, a file, mail
// owed and the search index. Then it times web::erase_subject — every case in its own transaction,
// then the purge (files, search index merge, WAL truncations) — and checks that `audit verify`
// passes. --history whole writes the client's cases under hash rule 1 (as before this version),
// so the erasure re-seals and re-hashes every chain first: the worst case. The workflows' retention
// periods are left out, so every case is erased (none restricted). Prints each run and the median.
//
// --database URL runs on that PostgreSQL database instead, which each run empties first (DROP
// SCHEMA public CASCADE: give it a database of its own). --compact then times the compaction after
// each erasure (PersonalDataStore::compact, `redress compact`) and the longest step, which is how
// long one table was locked.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "adapters/postgres/connection.h"
#include "app/environment.h"
#include "engine/sealing.h"
#include "web/privacy.h"
#include "workflows/loader.h"

namespace fs = std::filesystem;
using namespace redress;

namespace {

struct Options {
  int cases = 100;
  int others = 2000;
  int runs = 5;
  HashRule history = HashRule::kSealed;
  std::string dir;
  std::string database;  // "": SQLite in the run's folder
  bool compact = false;
};

[[noreturn]] void usage(const std::string& problem) {
  std::cerr << "bench/erasure: " << problem << "\n"
            << "usage: erasure [--cases N] [--others N] [--runs K] [--history sealed|whole] [--dir DIR]\n"
            << "               [--database URL] [--compact]\n";
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") usage("times the erasure of one client's cases");
    if (flag == "--compact") {
      o.compact = true;
      continue;
    }
    if (i + 1 >= argc) usage(flag + " needs a value");
    std::string value = argv[++i];
    auto number = [&] {
      try {
        int n = std::stoi(value);
        if (n < 0) usage(flag + " must not be negative");
        return n;
      } catch (const std::exception&) {
        usage(flag + " takes a whole number");
      }
    };
    if (flag == "--cases")
      o.cases = std::max(1, number());
    else if (flag == "--others")
      o.others = number();
    else if (flag == "--runs")
      o.runs = std::max(1, number());
    else if (flag == "--history") {
      if (value != "sealed" && value != "whole") usage("--history is sealed or whole");
      o.history = value == "whole" ? HashRule::kWhole : HashRule::kSealed;
    } else if (flag == "--dir")
      o.dir = value;
    else if (flag == "--database")
      o.database = value;
    else
      usage("unknown option " + flag);
  }
  return o;
}

void must(const Status& status, const char* what) {
  if (!status) throw std::runtime_error(std::string(what) + ": " + status.error().detail);
}

std::string create(Engine& engine, const std::string& name, const std::string& email, int n) {
  NewCase c;
  c.client = Client{name, email, "+44 7700 900" + std::to_string(100 + n % 800), "en-GB"};
  c.channel = Channel::kWeb;
  c.category = "billing";
  c.touchpoint = "billing";
  c.subject = "Charged twice for order " + std::to_string(n);
  c.description = "I was charged twice for order " + std::to_string(n) + " and want the second charge refunded.";
  c.remedy_requested = "A refund";
  c.workflow = "retail";
  auto created = engine.create_case(c, Actor::intake("web-form"));
  if (!created) throw std::runtime_error(created.error().detail);
  return created->change.after.reference;
}

void act(Engine& engine, ActionRequest request) {
  auto done = engine.apply(request);
  if (!done) throw std::runtime_error(std::string(to_string(request.type)) + ": " + done.error().detail);
}

// Empties the PostgreSQL database at `url` for a fresh run.
void empty_database(const std::string& url) {
  auto db = postgres::Connection::open(url);
  if (!db) throw std::runtime_error(db.error().detail);
  must((*db)->execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public"), "emptying the database");
}

struct RunTimes {
  double erasure = 0;        // seconds
  double compaction = 0;     // seconds; 0 without --compact
  double longest_step = 0;   // seconds: the longest a table was locked (a VACUUM FULL step)
};

RunTimes run_once(const Options& o, const std::string& dir, int k) {
  Config config;
  config.data_dir = dir;
  if (!o.database.empty()) {
    empty_database(o.database);
    config.database = o.database;
  }
  OpenOptions open;
  open.migrate_if_needed = true;
  auto opened = open_environment(config, open);
  if (!opened) throw std::runtime_error(opened.error().detail);
  Environment& env = **opened;
  // Every case erasable at once: the workflows without their retention periods.
  std::vector<Workflow> all = env.workflows.all();
  for (auto& w : all) w.retention.reset();
  const WorkflowSet workflows(std::move(all), env.workflows.default_name());
  Engine engine(*env.store, *env.clock, workflows);
  Staff agent{"", "Sam Okafor", "sam@bench.example", Role::kAgent, "customer-care", true};
  auto added = env.store->add_staff(agent);
  if (!added) throw std::runtime_error(added.error().detail);
  agent = *added;
  const Actor staff = Actor::staff(agent.id, agent.role);

  for (int i = 0; i < o.others; ++i)
    create(engine, "Other Client " + std::to_string(i), "other" + std::to_string(i) + "@example.net", i);
  set_new_event_rule_for_benchmark(o.history);
  for (int i = 0; i < o.cases; ++i) {
    const std::string reference = create(engine, "Ana Ruiz", "ana.ruiz@example.org", i);
    auto blob = env.store->put_blob("%PDF-1.4 statement " + std::to_string(k) + "-" + std::to_string(i));
    if (!blob) throw std::runtime_error(blob.error().detail);
    ActionRequest r;
    r.reference = reference;
    r.actor = staff;
    r.type = ActionType::kAcknowledge;
    act(engine, r);
    r.type = ActionType::kAddMessage;
    r.visibility = Visibility::kClient;
    r.body = "Could you send the bank statement line for order " + std::to_string(i) + "?";
    r.attachments = {AttachmentRef{blob->key, "statement.pdf", "application/pdf", blob->size}};
    act(engine, r);
    r.attachments.clear();
    r.visibility = Visibility::kInternal;
    r.body = "Rang Ana back about order " + std::to_string(i);
    act(engine, r);
    r.type = ActionType::kMakeCommitment;
    r.text = "Call Ana back with the refund date";
    r.due.in = IsoDuration{2, std::chrono::hours(0)};
    act(engine, r);
  }
  set_new_event_rule_for_benchmark(HashRule::kSealed);
  if (env.sqlite) must(env.sqlite->index_search(), "indexing");

  web::PrivacySources sources{*env.store, workflows, *env.clock, nullptr};
  const auto t0 = std::chrono::steady_clock::now();
  auto last_case = t0;
  auto outcome = web::erase_subject(sources, "ana.ruiz@example.org", "bench", Actor::system(),
                                    [&last_case](std::int64_t, std::int64_t) { last_case = std::chrono::steady_clock::now(); });
  const auto t1 = std::chrono::steady_clock::now();
  const double seconds = std::chrono::duration<double>(t1 - t0).count();
  const double purge = std::chrono::duration<double>(t1 - last_case).count();
  if (!outcome) throw std::runtime_error(outcome.error().detail);
  if (static_cast<int>(outcome->erased.size()) != o.cases)
    throw std::runtime_error("erased " + std::to_string(outcome->erased.size()) + " cases, not " +
                             std::to_string(o.cases));
  auto audit = env.store->verify_chains();
  if (!audit || !audit->broken.empty()) throw std::runtime_error("audit verify fails after the erasure");
  std::printf("run %d: %d cases erased in %.3f s (%.2f ms a case; the purge %.3f s of it; %lld files deleted; copies left: %s)\n",
              k, o.cases, seconds, 1000.0 * seconds / o.cases, purge,
              static_cast<long long>(outcome->purge.blobs_deleted), to_string(outcome->purge.copies_left));
  RunTimes times{seconds, 0, 0};
  if (o.compact) {
    const auto c0 = std::chrono::steady_clock::now();
    auto compacted = env.store->compact({});
    times.compaction = std::chrono::duration<double>(std::chrono::steady_clock::now() - c0).count();
    if (!compacted) throw std::runtime_error(compacted.error().detail);
    std::string longest;
    for (const auto& step : compacted->steps) {
      if (step.outcome != StepOutcome::kDone) throw std::runtime_error(step.name + ": " + step.detail);
      const double took = static_cast<double>(step.took.count()) / 1000.0;
      if (step.name.rfind("VACUUM", 0) == 0 && took >= times.longest_step) {  // a table locked
        times.longest_step = took;
        longest = step.name;
      }
    }
    std::printf("       compacted in %.3f s; the longest a table was locked %.3f s (%s)\n", times.compaction,
                times.longest_step, longest.c_str());
  }
  std::fflush(stdout);
  return times;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  const bool own_dir = o.dir.empty();
  if (own_dir) {
    char pattern[] = "/tmp/redress-bench-erasure-XXXXXX";
    if (!mkdtemp(pattern)) usage("cannot create a temporary folder");
    o.dir = pattern;
  }
  std::printf("bench/erasure: one client's %d cases among %d others, history sealed by rule %d, %d runs, in %s\n",
              o.cases, o.others, static_cast<int>(o.history), o.runs,
              o.database.empty() ? o.dir.c_str() : "PostgreSQL");
  std::vector<double> times, compactions, longest;
  try {
    for (int k = 1; k <= o.runs; ++k) {
      const std::string dir = o.dir + "/run-" + std::to_string(k);
      fs::remove_all(dir);
      const RunTimes run = run_once(o, dir, k);
      times.push_back(run.erasure);
      compactions.push_back(run.compaction);
      longest.push_back(run.longest_step);
      fs::remove_all(dir);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench/erasure: %s\n", e.what());
    if (own_dir) fs::remove_all(o.dir);
    return 1;
  }
  std::sort(times.begin(), times.end());
  std::printf("median of %d runs: %.3f s to erase %d cases (spread %.3f..%.3f s)\n", o.runs,
              times[times.size() / 2], o.cases, times.front(), times.back());
  if (o.compact) {
    std::sort(compactions.begin(), compactions.end());
    std::sort(longest.begin(), longest.end());
    std::printf("median compaction: %.3f s (spread %.3f..%.3f s); median longest table lock %.3f s\n",
                compactions[compactions.size() / 2], compactions.front(), compactions.back(),
                longest[longest.size() / 2]);
  }
  if (own_dir) fs::remove_all(o.dir);
  return 0;
}
