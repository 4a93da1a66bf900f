// bench/bulk: one bulk action on 1,000 cases (issue 27: <= 2 s), against the same actions sent one
// at a time, each waited for, in the same process and the same database.
//
//   build/bench/bulk [--cases N] [--runs K] [--durability full|normal] [--dir DIR] [--database URL]
//
// Each run creates N fresh cases (default 1,000) in the store (SQLite in DIR, a new folder under
// /tmp by default, removed at the end; or the PostgreSQL database of --database, emptied first),
// then times, each over all N cases, through web/bulk.h's run_bulk (the code POST
// /v1/cases/bulk runs, less the JSON of the request and the answer):
//   assign  to an agent, by a lead (each case unowned before);
//   tag     with a tag of the run's own;
//   escalate one level, with a reason;
// and, as the baseline, the same tag action on the same N cases sent one case at a time, each
// waited for before the next (a client looping over POST /v1/cases/{ref}/actions, less HTTP).
// Prints each run, then the medians, the 2 s target for each bulk action, and the ratio of the bulk
// tag to its one-at-a-time baseline. Every action must be done: a refusal fails the bench.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <stdexcept>
#include <string>
#include <vector>

#include "app/environment.h"
#include "web/bulk.h"

namespace fs = std::filesystem;

namespace redress::bench_bulk {

struct Options {
  int cases = 1000;
  int runs = 5;
  std::string durability = "full";
  std::string dir;
  std::string database;
};

[[noreturn]] void usage(const std::string& problem) {
  std::fprintf(stderr,
               "bench/bulk: %s\nusage: bulk [--cases N] [--runs K] [--durability full|normal] [--dir DIR] "
               "[--database URL]\n",
               problem.c_str());
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--cases")
      o.cases = std::stoi(value());
    else if (arg == "--runs")
      o.runs = std::stoi(value());
    else if (arg == "--durability")
      o.durability = value();
    else if (arg == "--dir")
      o.dir = value();
    else if (arg == "--database")
      o.database = value();
    else
      usage("unknown option " + arg);
  }
  if (o.cases < 1 || o.cases > static_cast<int>(web::kMaxBulkCases)) usage("--cases must be 1 to 1000");
  if (o.runs < 1) usage("--runs must be at least 1");
  if (o.durability != "full" && o.durability != "normal") usage("--durability is full or normal");
  return o;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// Empties the PostgreSQL database (the bench's own), so that each run starts from nothing.
void empty_postgres(const std::string& url) {
  auto connection = postgres::Connection::open(url);
  if (!connection) throw std::runtime_error(connection.error().detail);
  if (auto s = (*connection)->execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public"); !s)
    throw std::runtime_error(s.error().detail);
}

struct Run {
  double assign = 0, tag = 0, escalate = 0, one_at_a_time = 0;
};

// Seconds to run `request` on every case; throws when any case was refused.
double timed_bulk(Engine& engine, web::BulkRequest request, const Actor& actor, const char* what) {
  std::promise<std::vector<web::BulkOutcome>> answered;
  const auto start = std::chrono::steady_clock::now();
  web::run_bulk(engine, std::move(request), actor,
                [&answered](std::vector<web::BulkOutcome> outcomes) { answered.set_value(std::move(outcomes)); });
  auto outcomes = answered.get_future().get();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const auto& o : outcomes)
    if (o.refusal) throw std::runtime_error(std::string(what) + " refused on " + o.reference + ": " + o.refusal->detail);
  return seconds;
}

Run run_once(const Options& o, const std::string& dir, int k) {
  Config config;
  config.data_dir = dir;
  config.durability = o.durability;
  config.database = o.database;
  if (!o.database.empty()) empty_postgres(o.database);
  OpenOptions open;
  open.migrate_if_needed = true;
  auto opened = open_environment(config, open);
  if (!opened) throw std::runtime_error(opened.error().detail);
  Environment& env = **opened;
  Staff agent{"", "Sam Okafor", "sam@bench.example", Role::kAgent, "customer-care", true};
  Staff lead{"", "Grace Adeyemi", "grace@bench.example", Role::kLead, "customer-care", true};
  auto added_agent = env.store->add_staff(agent);
  auto added_lead = env.store->add_staff(lead);
  if (!added_agent || !added_lead) throw std::runtime_error("cannot add the staff");
  const Actor as_lead = Actor::staff(added_lead->id, Role::kLead);

  // The cases, created at once (the writer groups them), as the API creates them.
  std::vector<std::string> references(static_cast<std::size_t>(o.cases));
  {
    std::vector<std::promise<Result<Committed>>> created(references.size());
    for (std::size_t i = 0; i < references.size(); ++i) {
      NewCase c;
      c.client = Client{"Client " + std::to_string(i), "client" + std::to_string(i) + "@example.org", "", "en-GB"};
      c.channel = Channel::kWeb;
      c.category = "billing";
      c.touchpoint = "billing";
      c.subject = "Charged twice for one order";
      c.description = "My card was charged twice for one order and I want the second charge refunded.";
      c.workflow = "retail";
      env.engine->create_case(std::move(c), Actor::intake("web-form"), {}, {},
                              [&created, i](Result<Committed> r) { created[i].set_value(std::move(r)); });
    }
    for (std::size_t i = 0; i < references.size(); ++i) {
      auto r = created[i].get_future().get();
      if (!r) throw std::runtime_error("creation refused: " + r.error().detail);
      references[i] = r->change.after.reference;
    }
  }

  Run run;
  web::BulkRequest assign;
  assign.action.type = ActionType::kAssign;
  assign.action.owner = added_agent->id;
  assign.cases = references;
  run.assign = timed_bulk(*env.engine, assign, as_lead, "assign");

  web::BulkRequest tag;
  tag.action.type = ActionType::kTag;
  tag.action.tags = {"bulk-run-" + std::to_string(k)};
  tag.cases = references;
  run.tag = timed_bulk(*env.engine, tag, as_lead, "tag");

  web::BulkRequest escalate;
  escalate.action.type = ActionType::kEscalate;
  escalate.action.reason = "Named in a press enquiry";
  escalate.cases = references;
  run.escalate = timed_bulk(*env.engine, escalate, as_lead, "escalate");

  // The baseline: the same tag action (another tag) on every case, one at a time.
  const auto start = std::chrono::steady_clock::now();
  for (const auto& reference : references) {
    ActionRequest r;
    r.type = ActionType::kTag;
    r.reference = reference;
    r.actor = as_lead;
    r.tags = {"one-at-a-time-" + std::to_string(k)};
    auto done = env.engine->apply(r);
    if (!done) throw std::runtime_error("one-at-a-time tag refused on " + reference + ": " + done.error().detail);
  }
  run.one_at_a_time = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return run;
}

int run_bench(int argc, char** argv) {
  Options o = parse(argc, argv);
  const bool own_dir = o.dir.empty();
  if (own_dir) {
    char pattern[] = "/tmp/redress-bench-bulk-XXXXXX";
    if (!mkdtemp(pattern)) usage("cannot create a temporary folder");
    o.dir = pattern;
  }
  std::printf("bench/bulk: %d cases, %d runs, on %s%s\n", o.cases, o.runs,
              o.database.empty() ? "SQLite, synchronous=" : "PostgreSQL",
              o.database.empty() ? (o.durability == "full" ? "FULL" : "NORMAL") : "");
  std::vector<double> assign, tag, escalate, baseline, ratio;
  try {
    for (int k = 1; k <= o.runs; ++k) {
      const std::string dir = o.dir + "/run-" + std::to_string(k);
      fs::remove_all(dir);
      Run r = run_once(o, dir, k);
      fs::remove_all(dir);
      assign.push_back(r.assign);
      tag.push_back(r.tag);
      escalate.push_back(r.escalate);
      baseline.push_back(r.one_at_a_time);
      ratio.push_back(r.tag / r.one_at_a_time);
      std::printf("run %d: assign %.3f s, tag %.3f s, escalate %.3f s; one at a time (tag) %.3f s; bulk/one-at-a-time "
                  "%.3f\n",
                  k, r.assign, r.tag, r.escalate, r.one_at_a_time, r.tag / r.one_at_a_time);
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench/bulk: %s\n", e.what());
    if (own_dir) fs::remove_all(o.dir);
    return 1;
  }
  if (own_dir) fs::remove_all(o.dir);
  const double target = 2.0;
  std::printf("median over %d runs on %d cases:\n", o.runs, o.cases);
  for (const auto& [name, values] : std::vector<std::pair<const char*, std::vector<double>*>>{
           {"assign", &assign}, {"tag", &tag}, {"escalate", &escalate}})
    std::printf("  bulk %-8s %.3f s  (%s the 2 s target)\n", name, median(*values),
                median(*values) <= target ? "meets" : "MISSES");
  std::printf("  one at a time (tag) %.3f s; bulk tag / one at a time: %.3f\n", median(baseline), median(ratio));
  return median(assign) <= target && median(tag) <= target && median(escalate) <= target ? 0 : 1;
}

}  // namespace redress::bench_bulk

int main(int argc, char** argv) { return redress::bench_bulk::run_bench(argc, argv); }
