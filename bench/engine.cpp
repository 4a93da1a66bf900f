// bench/engine: durable actions per second through the engine, against raw batched SQLite writes
// of the same rows on the same machine, in the same run.
//
//   build-bench/bench/engine [--cases N] [--actions N] [--inflight N] [--submitters N] [--runs K]
//                            [--durability full|normal] [--dir DIR] [--baseline-schema
//                            full|no-triggers|no-indexes|bare]
//                            [--baseline-batch N] [--statements N]
//
// Each run uses a fresh database in DIR (default: a new folder under /tmp, removed at the end):
//   Phase 1 creates N cases through Engine::create_case, each with a client link as the API
//     gives one (reported beside the headline figure, with its own baseline, below).
//   Phase 2 applies a realistic mix of actions to those cases through Engine::submit: acknowledge
//     (retail), take or assign, start, internal notes, client messages, commitments made and kept,
//     information requested and the client's reply, escalation, transfer, then redress offered,
//     proposed, accepted and fulfilled, and close. Up to --inflight actions are in flight at once,
//     at most one per case (each case follows its lifecycle); the store group-commits whatever is
//     queued. Only accepted actions are counted; refusals are reported. --submitters threads
//     (default: one per core, as a server has HTTP threads) submit them, and so plan them ahead
//     of the writer (Engine::submit).
//   Baseline: in a second fresh database with the same schema, the same pragmas and the same
//     checkpoint policy, the rows phase 2 wrote are written again without the engine: for each
//     action, the `Change` the engine committed (recorded from its results, replayed round-robin)
//     becomes one version-checked UPDATE of a cases row (of the columns the action changed, as the
//     store writes it: sqlite::update_case),
//     one INSERT per event (64-hex hash, the same canonical JSON data), one upsert per commitment
//     and redress row, one INSERT per message and per e-mail notification — prepared statements,
//     one transaction per batch of the engine's mean batch size, no savepoints, no reads, no
//     planning. --baseline-schema drops the triggers (report summaries, the search index), the
//     secondary indexes, or both ("bare") from the baseline's database: what the rows alone cost
//     on this machine, the floor under any engine that writes them durably.
//   Creation baseline: in a third fresh database (same schema, pragmas and checkpoint policy),
//     the rows phase 1 wrote are written again without the engine, from the `Change` of each
//     creation (replayed round-robin): one INSERT of the cases row, one per event, commitment,
//     e-mail notification, the client link, the clock state and the wake time — in transactions
//     of the engine's mean creation batch. It leaves out the writer's own reads and writes
//     (reserving ids and the case reference, the report summaries), so it is a floor under the
//     cost of a durable creation: what HTTP creations (issue 3) cannot go below on this machine.
// --baseline-batch N makes every baseline transaction N actions or creations long, instead of the
//   engine's mean batch: a server's groups are as small as its connections are few (64 in
//   bench/http.sh), and a small group pays its commit (the WAL frames of every page it touched)
//   over fewer rows.
// Prints each run and the median of the runs for both, their ratio, and the batch sizes.
// --sealing ab measures what sealing personal fields costs (hash rule 2, engine/sealing.h): each run
//   runs the engine twice on fresh databases, sealing by rule 2 and by rule 1 (the data hashed
//   whole), in alternating order, and prints the ratio of their actions/s; no baselines are run.
// --statements N also prints, for the last run's phase 2 and its baseline, the N statements that
//   took SQLite the most time (SQLite's own profile events, summed by statement text, on every
//   connection the process opens: the store's writer, readers and checkpointer, the baseline's).
//   SQLite times a statement with the VFS's millisecond clock, so each call counts 0 or whole
//   milliseconds: a total over thousands of calls is a fair estimate, a rare statement's is not.
// --database postgresql://… runs the engine on PostgreSQL instead (the database is EMPTIED before
//   each run: DROP SCHEMA public CASCADE), against a raw-libpq baseline of the same rows in the
//   same database: per action one version-checked UPDATE of every cases column, one INSERT per
//   event, one upsert per commitment and redress row, one INSERT per message and e-mail, sent in
//   one pipeline per transaction of the engine's mean group size (BEGIN and COMMIT round trips
//   included, as the writer has them), no reads, no row locks, no planning. The creation baseline
//   is not run on PostgreSQL.
#include <sqlite3.h>
#include <sys/resource.h>

#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "adapters/postgres/connection.h"
#include "adapters/postgres/rows.h"
#include "adapters/postgres/schema.h"
#include "adapters/sqlite/database.h"
#include "adapters/sqlite/rows.h"
#include "adapters/sqlite/schema.h"
#include "engine/sealing.h"
#include "app/environment.h"
#include "ports/staff_directory.h"

using namespace redress;
namespace fs = std::filesystem;
using Clock_ = std::chrono::steady_clock;

namespace {

struct Options {
  int cases = 5000;
  int actions = 100000;
  int inflight = 2048;
  int submitters = 0;  // 0: one per core
  int runs = 5;
  std::string durability = "full";
  std::string dir;
  // The baseline's schema: "full" (the store's), or without its triggers, its secondary indexes,
  // or both ("bare"): what the rows alone cost, the floor under any engine on this schema.
  std::string baseline_schema = "full";
  int statements = 0;  // how many of the costliest statements to print (0: no statement profile)
  // The baselines' transaction size; 0: the engine's mean batch in the phase each replays.
  int baseline_batch = 0;
  std::string database;  // postgresql://…: the engine and the baseline on PostgreSQL
  std::string sealing;   // "ab": the engine sealing by rule 2 against rule 1, in the same run
};

[[noreturn]] void usage(const std::string& problem) {
  std::cerr
      << "bench/engine: " << problem << "\n"
      << "usage: engine [--cases N] [--actions N] [--inflight N] [--submitters N] [--runs K] [--durability "
         "full|normal] [--dir DIR]\n"
         "              [--baseline-schema full|no-triggers|no-indexes|bare] [--baseline-batch N] [--statements N]\n"
         "              [--database postgresql://… (emptied before each run)] [--sealing ab]\n";
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") usage("measures durable engine actions/s against raw SQLite writes");
    if (i + 1 >= argc) usage(flag + " needs a value");
    std::string value = argv[++i];
    auto number = [&]() {
      try {
        int n = std::stoi(value);
        if (n < 1) usage(flag + " must be at least 1");
        return n;
      } catch (const std::exception&) {
        usage(flag + " takes a whole number");
      }
    };
    if (flag == "--cases")
      o.cases = number();
    else if (flag == "--actions")
      o.actions = number();
    else if (flag == "--inflight")
      o.inflight = number();
    else if (flag == "--submitters")
      o.submitters = number();
    else if (flag == "--runs")
      o.runs = number();
    else if (flag == "--durability") {
      if (value != "full" && value != "normal") usage("--durability is full or normal");
      o.durability = value;
    } else if (flag == "--database") {
      if (value.rfind("postgresql://", 0) != 0 && value.rfind("postgres://", 0) != 0)
        usage("--database takes a postgresql:// URL");
      o.database = value;
    } else if (flag == "--dir")
      o.dir = value;
    else if (flag == "--statements")
      o.statements = number();
    else if (flag == "--baseline-batch")
      o.baseline_batch = number();
    else if (flag == "--sealing") {
      if (value != "ab") usage("--sealing takes ab");
      o.sealing = value;
    }
    else if (flag == "--baseline-schema") {
      if (value != "full" && value != "no-triggers" && value != "no-indexes" && value != "bare")
        usage("--baseline-schema is full, no-triggers, no-indexes or bare");
      o.baseline_schema = value;
    } else
      usage("unknown option " + flag);
  }
  if (o.submitters <= 0) o.submitters = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return o;
}

// `digits` hex digits that look random, the same for the same `seed` (splitmix64): stand-ins for
// the API's random link nonces and token hashes, which land anywhere in their unique indexes.
std::string pseudo_hex(std::uint64_t seed, int digits) {
  std::string out;
  while (static_cast<int>(out.size()) < digits) {
    std::uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    char block[17];
    std::snprintf(block, sizeof block, "%016llx", static_cast<unsigned long long>(z));
    out += block;
  }
  out.resize(static_cast<std::size_t>(digits));
  return out;
}

double seconds_since(Clock_::time_point start) { return std::chrono::duration<double>(Clock_::now() - start).count(); }

// CPU time of the whole process (user + system), seconds: less sensitive than the wall clock to
// other work on the machine.
double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return s(usage.ru_utime) + s(usage.ru_stime);
}

// CPU time (user + system, seconds) of this process's thread named `name`, from /proc; 0 if none.
double thread_cpu_seconds(const std::string& name) {
  double total = 0;
  for (const auto& task : fs::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string text;
    std::getline(comm, text);
    if (text != name) continue;
    std::ifstream stat(task.path() / "stat");
    std::string line;
    std::getline(stat, line);
    // Fields after the ")" closing the name: state is field 3; utime and stime are 14 and 15.
    std::istringstream rest(line.substr(line.rfind(')') + 2));
    std::string field;
    long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14) utime = std::stoll(field);
      if (i == 15) stime = std::stoll(field);
    }
    total += static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  return total;
}

// SQLite's time per statement (--statements), from its profile events on every connection. The
// events come from the threads that run the statements; `phase` says which part of a run they
// belong to ("" while nothing is being measured).
class StatementProfile {
 public:
  static StatementProfile& instance() {
    static StatementProfile profile;
    return profile;
  }
  // Every connection opened from now on reports its statements here. Registering initialises the
  // SQLite library, so the store's settings for it (database.h) are made first.
  void install() {
    sqlite::configure_library();
    sqlite3_auto_extension(reinterpret_cast<void (*)()>(&StatementProfile::on_open));
  }
  void set_phase(std::string phase) {
    std::lock_guard lock(mutex_);
    phase_ = std::move(phase);
    if (!phase_.empty()) totals_[phase_].clear();
  }
  void print(const std::string& phase, int top) {
    std::lock_guard lock(mutex_);
    std::vector<std::pair<std::string, Total>> rows(totals_[phase].begin(), totals_[phase].end());
    std::sort(rows.begin(), rows.end(),
              [](const auto& a, const auto& b) { return a.second.nanoseconds > b.second.nanoseconds; });
    double all = 0;
    for (const auto& row : rows) all += static_cast<double>(row.second.nanoseconds);
    std::printf("       SQLite's time by statement, %s: %.3f s in all\n", phase.c_str(), all / 1e9);
    for (std::size_t i = 0; i < rows.size() && i < static_cast<std::size_t>(top); ++i) {
      std::string text = rows[i].first.substr(0, 110);
      std::replace(text.begin(), text.end(), '\n', ' ');
      std::printf("       %7.3f s %5.1f%% %8lld x %6.2f us  %s\n",
                  static_cast<double>(rows[i].second.nanoseconds) / 1e9,
                  all > 0 ? 100.0 * static_cast<double>(rows[i].second.nanoseconds) / all : 0.0,
                  static_cast<long long>(rows[i].second.count),
                  static_cast<double>(rows[i].second.nanoseconds) / 1e3 /
                      static_cast<double>(std::max<std::int64_t>(rows[i].second.count, 1)),
                  text.c_str());
    }
  }

 private:
  struct Total {
    std::int64_t count = 0;
    std::int64_t nanoseconds = 0;
  };
  static int on_open(sqlite3* db, char**, const void*) {
    sqlite3_trace_v2(db, SQLITE_TRACE_PROFILE, &StatementProfile::on_profile, nullptr);
    return SQLITE_OK;
  }
  static int on_profile(unsigned, void*, void* statement, void* nanoseconds) {
    const char* sql = sqlite3_sql(static_cast<sqlite3_stmt*>(statement));
    auto& self = instance();
    std::lock_guard lock(self.mutex_);
    if (self.phase_.empty()) return 0;
    Total& total = self.totals_[self.phase_][sql ? sql : "?"];
    ++total.count;
    total.nanoseconds += *static_cast<sqlite3_int64*>(nanoseconds);
    return 0;
  }
  std::mutex mutex_;
  std::string phase_;
  std::map<std::string, std::map<std::string, Total>> totals_;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// ---- the action scripts -------------------------------------------------------------------------

enum class Step {
  kAcknowledge,
  kTake,
  kAssign,
  kStart,
  kNoteInternal,
  kMessageClient,
  kMakeCommitment,
  kKeepCommitment,
  kRequestInfo,
  kClientReply,
  kEscalate,
  kTransfer,
  kOfferRedress,
  kProposeRedress,
  kAcceptRedress,
  kFulfilRedress,
  kClose,
};

struct BenchCase {
  std::string reference;
  const Workflow* workflow = nullptr;
  std::vector<Step> script;
  std::size_t next = 0;
  Staff agent;                  // the current owner
  std::int64_t commitment = 0;  // the latest commitment made
  std::int64_t redress = 0;     // the accepted, deliverable redress
  Case stored;                  // the case row as last committed
};

struct StaffPool {
  std::map<std::string, std::vector<Staff>> agents;  // by team
  std::vector<Staff> leads;
};

class Scripter {
 public:
  Scripter(unsigned seed, const WorkflowSet& workflows) : random_(seed), workflows_(workflows) {}

  const Workflow& pick_workflow() {
    // Retail most, then financial services, then the US and energy standards.
    static const std::pair<const char*, int> weights[] = {
        {"retail", 40}, {"fca-disp", 25}, {"cfpb", 20}, {"energy-network", 15}};
    int roll = static_cast<int>(pick(100)), sum = 0;
    for (const auto& [name, weight] : weights) {
      sum += weight;
      if (roll < sum)
        if (const auto* w = workflows_.find(name)) return *w;
    }
    return workflows_.all().front();
  }

  // A lifecycle of `budget` actions (at least the opening and the finale).
  std::vector<Step> script(const Workflow& workflow, int budget) {
    std::vector<Step> s;
    if (!workflow.auto_acknowledge) s.push_back(Step::kAcknowledge);
    s.push_back(chance(0.25) ? Step::kAssign : Step::kTake);
    s.push_back(Step::kStart);
    const std::vector<Step> finale = {Step::kOfferRedress, Step::kProposeRedress, Step::kAcceptRedress,
                                      Step::kFulfilRedress, Step::kClose};
    int room = budget - static_cast<int>(s.size() + finale.size());
    bool escalated = false, transferred = false;
    while (room > 0) {
      int roll = static_cast<int>(pick(100));
      if (roll < 25)
        s.push_back(Step::kNoteInternal), room -= 1;
      else if (roll < 50)
        s.push_back(Step::kMessageClient), room -= 1;
      else if (roll < 75 && room >= 2)
        s.push_back(Step::kMakeCommitment), s.push_back(Step::kKeepCommitment), room -= 2;
      else if (roll < 92 && room >= 2)
        s.push_back(Step::kRequestInfo), s.push_back(Step::kClientReply), room -= 2;
      else if (roll < 96 && !escalated && workflow.max_escalation_level() > 0)
        s.push_back(Step::kEscalate), escalated = true, room -= 1;
      else if (roll >= 96 && !transferred)
        s.push_back(Step::kTransfer), transferred = true, room -= 1;
    }
    s.insert(s.end(), finale.begin(), finale.end());
    return s;
  }

  std::size_t pick(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(random_); }
  bool chance(double p) { return std::bernoulli_distribution(p)(random_); }

 private:
  std::mt19937_64 random_;
  const WorkflowSet& workflows_;
};

std::string final_response(const Workflow& workflow) {
  std::string text =
      "Dear client,\n\nWe have investigated your complaint and we uphold it. We offer the redress below.\n\n";
  for (const auto& element : workflow.final_response_elements)
    if (!element.any_of.empty()) text += element.description + ": " + element.any_of.front() + ".\n";
  return text + "\nYours sincerely,\nThe complaints team";
}

ActionRequest make_request(BenchCase& c, const StaffPool& staff, Scripter& scripter) {
  ActionRequest r;
  r.reference = c.reference;
  r.actor = Actor::staff(c.agent.id, c.agent.role);
  switch (c.script[c.next]) {
    case Step::kAcknowledge:
      r.type = ActionType::kAcknowledge;
      r.note = "Thank you for your complaint; we have logged it and an adviser will own it.";
      break;
    case Step::kTake: r.type = ActionType::kTake; break;
    case Step::kAssign: {
      const Staff& lead = staff.leads[scripter.pick(staff.leads.size())];
      r.type = ActionType::kAssign;
      r.actor = Actor::staff(lead.id, lead.role);
      r.owner = c.agent.id;
      break;
    }
    case Step::kStart: r.type = ActionType::kStart; break;
    case Step::kNoteInternal:
      r.type = ActionType::kAddMessage;
      r.visibility = Visibility::kInternal;
      r.body = "Checked the account history; the client's account of events matches our records.";
      break;
    case Step::kMessageClient:
      r.type = ActionType::kAddMessage;
      r.visibility = Visibility::kClient;
      r.body = "Thank you for your patience. I am looking into this personally and will keep you updated.";
      break;
    case Step::kMakeCommitment:
      r.type = ActionType::kMakeCommitment;
      r.text = "I will call you back with an update";
      r.due.in = IsoDuration{2, std::chrono::hours(4)};
      r.client_visible = true;
      break;
    case Step::kKeepCommitment:
      r.type = ActionType::kKeepCommitment;
      r.commitment_id = c.commitment;
      r.note = "Done as promised.";
      break;
    case Step::kRequestInfo:
      r.type = ActionType::kRequestInfo;
      r.body = "Could you send us the order number and a photo of the item?";
      break;
    case Step::kClientReply:
      r.type = ActionType::kAddMessage;
      r.actor = Actor::client();
      r.visibility = Visibility::kClient;
      r.body = "Here is the order number: " + std::to_string(100000 + scripter.pick(900000)) + ". Photo attached.";
      break;
    case Step::kEscalate:
      r.type = ActionType::kEscalate;
      r.reason = "The client is vulnerable and the issue is recurring.";
      break;
    case Step::kTransfer: {
      r.type = ActionType::kTransfer;
      const auto& team = staff.agents.at(c.agent.team);
      const Staff* other = &team[scripter.pick(team.size())];
      if (other->id == c.agent.id) other = &team[(static_cast<std::size_t>(other - team.data()) + 1) % team.size()];
      r.owner = other->id;
      r.note = "Handing over: account checked, client prefers email, promise above still stands.";
      break;
    }
    case Step::kOfferRedress: {
      r.type = ActionType::kOfferRedress;
      RedressOffer o;
      o.kind = RedressKind::kRefund;
      o.amount_minor = static_cast<std::int64_t>(10 + scripter.pick(240)) * 100 + 50;
      o.currency = c.workflow->name == "cfpb" ? "USD" : "GBP";
      o.text = "To put things right for the trouble caused.";
      r.offers.push_back(o);
      break;
    }
    case Step::kProposeRedress:
      r.type = ActionType::kProposeRedress;
      r.outcome = Outcome::kUpheld;
      r.final_response = final_response(*c.workflow);
      break;
    case Step::kAcceptRedress:
      r.type = ActionType::kAcceptRedress;
      r.actor = Actor::client();
      break;
    case Step::kFulfilRedress:
      r.type = ActionType::kFulfilRedress;
      r.redress_id = c.redress;
      r.note = "Payment sent.";
      break;
    case Step::kClose:
      r.type = ActionType::kClose;
      r.note = "Nothing left to do.";
      break;
  }
  return r;
}

// Keeps up to `limit` units of work in flight, at most one per case.
class Driver {
 public:
  Driver(int limit, int submitters) : limit_(limit), submitters_(std::max(1, submitters)) {}

  // Runs `start(i, finished)` for each ready case i, from `submitters` threads (the callers of a
  // server: its HTTP threads); `finished(more)` must be called once per start, with whether case i
  // has more work. Returns when nothing is in flight and nothing is ready.
  template <typename Start>
  void run(std::vector<std::size_t> ready, Start start) {
    {
      std::lock_guard lock(mutex_);
      ready_.assign(ready.begin(), ready.end());
    }
    // Each submitter takes a share at a time, so that all of them have work to start.
    const int share = std::max(1, limit_ / (2 * submitters_));
    auto submit = [&] {
      std::vector<std::size_t> take;
      for (;;) {
        {
          std::unique_lock lock(mutex_);
          changed_.wait(lock,
                        [&] { return (!ready_.empty() && inflight_ < limit_) || (ready_.empty() && inflight_ == 0); });
          if (ready_.empty() && inflight_ == 0) return;
          while (!ready_.empty() && inflight_ < limit_ && static_cast<int>(take.size()) < share) {
            take.push_back(ready_.front());
            ready_.pop_front();
            ++inflight_;
          }
        }
        for (std::size_t i : take)
          start(i, [this, i, share](bool more) {
            bool wake;
            {
              std::lock_guard lock(mutex_);
              if (more) ready_.push_back(i);
              --inflight_;
              // Wake the submitters once a share can be refilled, or at the very end.
              wake = inflight_ <= limit_ - share || inflight_ == 0 || ready_.size() == 1;
            }
            if (wake) changed_.notify_all();
          });
        take.clear();
      }
    };
    std::vector<std::thread> others;
    for (int t = 1; t < submitters_; ++t) others.emplace_back(submit);
    submit();
    for (auto& t : others) t.join();
  }

 private:
  const int limit_;
  const int submitters_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::size_t> ready_;  // guarded by mutex_
  int inflight_ = 0;               // guarded by mutex_
};

// ---- the engine phases --------------------------------------------------------------------------

struct EngineRun {
  double create_seconds = 0;
  int created = 0;
  double create_cpu = 0, create_writer_cpu = 0;  // phase 1's, as cpu and writer_cpu below
  std::int64_t create_batches = 0, create_items = 0;
  // Rows written by the creations.
  std::int64_t create_events = 0, create_commitments = 0, create_emails = 0, create_links = 0, create_clocks = 0,
               create_wakes = 0;
  // The first creations committed, replayed by the creation baseline.
  std::vector<Change> creations;
  double seconds = 0;
  double cpu = 0;
  double writer_cpu = 0;  // of the store's writer thread
  std::int64_t accepted = 0;
  std::int64_t refused = 0;
  std::map<std::string, int> refusals;
  std::int64_t batches = 0, items = 0;
  std::int64_t ahead_plans = 0, ahead_written = 0;  // actions planned ahead; of which written as made
  // Rows written by the accepted actions.
  std::int64_t events = 0, commitments = 0, redress = 0, messages = 0, emails = 0;
  // The first changes committed, each with the case row before it, replayed by the baseline.
  std::vector<std::pair<Case, Change>> samples;
};

StaffPool add_staff(StaffDirectory& directory, const WorkflowSet& workflows) {
  StaffPool pool;
  int n = 0;
  for (const auto& w : workflows.all()) {
    if (pool.agents.count(w.team)) continue;
    for (int i = 0; i < 6; ++i) {
      ++n;
      Staff s{"",  "Agent " + std::to_string(n), "agent" + std::to_string(n) + "@bench.example", Role::kAgent, w.team,
              true};
      auto added = directory.add_staff(s);
      if (!added) throw std::runtime_error(added.error().detail);
      pool.agents[w.team].push_back(*added);
    }
    for (Role role : {Role::kLead, Role::kManager}) {
      ++n;
      Staff s{"", "Senior " + std::to_string(n), "senior" + std::to_string(n) + "@bench.example", role, w.team, true};
      auto added = directory.add_staff(s);
      if (!added) throw std::runtime_error(added.error().detail);
      if (role == Role::kLead) pool.leads.push_back(*added);
    }
  }
  return pool;
}

// Empties the PostgreSQL database of `url` (every table of its public schema).
void empty_postgres(const std::string& url) {
  auto db = postgres::Connection::open(url);
  if (!db) throw std::runtime_error(db.error().detail);
  if (auto s = (*db)->execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public"); !s)
    throw std::runtime_error(s.error().detail);
}

// The store's write counters, whichever the store: on PostgreSQL only the groups committed.
sqlite::SqliteStore::Counters counters_of(Environment& env) {
  if (env.sqlite) return env.sqlite->counters();
  sqlite::SqliteStore::Counters counters{};
  counters.batches = env.postgres->groups();
  return counters;
}

EngineRun run_engine(const Options& o, const std::string& dir, unsigned seed) {
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
  StaffPool staff = add_staff(*env.store, env.workflows);
  Scripter scripter(seed, env.workflows);

  EngineRun run;
  std::vector<BenchCase> cases(static_cast<std::size_t>(o.cases));
  int per_case = std::max(10, (o.actions + o.cases - 1) / o.cases);
  std::int64_t budget = o.actions;
  std::vector<NewCase> intake(cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    auto& c = cases[i];
    c.workflow = &scripter.pick_workflow();
    const auto& team = staff.agents.at(c.workflow->team);
    c.agent = team[scripter.pick(team.size())];
    int length = static_cast<int>(std::min<std::int64_t>(per_case, std::max<std::int64_t>(budget, 0)));
    if (length > 0) c.script = scripter.script(*c.workflow, std::max(length, 8));
    budget -= static_cast<std::int64_t>(c.script.size());
    NewCase& n = intake[i];
    n.client = Client{"Client " + std::to_string(i), "client" + std::to_string(i) + "@example.org", "+44 20 7946 0123",
                      "en-GB"};
    n.channel = Channel::kWeb;
    n.category = c.workflow->categories.empty() ? "general" : c.workflow->categories.front();
    n.touchpoint = "delivery";
    n.subject = "Parcel marked delivered but never arrived";
    n.description =
        "On delivery: Parcel marked delivered but never arrived. I have contacted you before about this and I expect "
        "it to be put right.";
    n.remedy_requested = "A refund and an apology";
    n.severity = Severity::kMedium;
    n.workflow = c.workflow->name;
    // A client link as the API makes one (web/api.cpp): a 32-hex nonce, the token's 64-hex hash.
    n.client_link_nonce = pseudo_hex(seed * 1000003u + 2 * i, 32);
    n.client_link_hash = pseudo_hex(seed * 1000003u + 2 * i + 1, 64);
  }

  std::mutex results;  // guards run's counters (callbacks run on the store's writer thread)
  Driver driver(o.inflight, o.submitters);
  std::mutex scripting;  // the scripter's random choices, between submitters

  // Phase 1: the cases.
  std::vector<std::size_t> all(cases.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  constexpr std::size_t kCreationSamples = 4096;
  const char* writer_thread = env.sqlite ? "redress-writer" : "redress-pgwrite";
  auto created_before = counters_of(env);
  double create_cpu0 = cpu_seconds(), create_writer0 = thread_cpu_seconds(writer_thread);
  auto t0 = Clock_::now();
  driver.run(all, [&](std::size_t i, auto finished) {
    env.engine->create_case(intake[i], Actor::intake("web-form"), "", "", [&, i, finished](Result<Committed> r) {
      if (r) {
        const Change& change = r->change;
        cases[i].reference = change.after.reference;
        cases[i].stored = change.after;
        std::lock_guard lock(results);
        ++run.created;
        run.create_events += static_cast<std::int64_t>(change.events.size());
        run.create_commitments += static_cast<std::int64_t>(change.commitments.size());
        for (const auto& n : change.notifications)
          if (n.channel == NotificationDraft::Channel::kEmail) ++run.create_emails;
        run.create_links += change.client_link_hash.empty() ? 0 : 1;
        run.create_clocks += change.clock_state ? 1 : 0;
        run.create_wakes += change.wake == Change::Wake::kSet ? 1 : 0;
        if (run.creations.size() < kCreationSamples) run.creations.push_back(change);
      }
      finished(false);
    });
  });
  run.create_seconds = seconds_since(t0);
  run.create_cpu = cpu_seconds() - create_cpu0;
  run.create_writer_cpu = thread_cpu_seconds(writer_thread) - create_writer0;
  auto created_after = counters_of(env);
  run.create_batches = created_after.batches - created_before.batches;
  run.create_items = env.sqlite ? created_after.items - created_before.items : run.created;
  env.store->flush();
  std::this_thread::sleep_for(std::chrono::milliseconds(700));  // the idle checkpoint empties the WAL

  // Phase 2: the actions.
  std::vector<std::size_t> ready;
  for (std::size_t i = 0; i < cases.size(); ++i)
    if (!cases[i].reference.empty() && !cases[i].script.empty()) ready.push_back(i);
  std::shuffle(ready.begin(), ready.end(), std::mt19937_64(seed));
  auto before = counters_of(env);
  constexpr std::size_t kSamples = 4096;
  double cpu0 = cpu_seconds(), writer0 = thread_cpu_seconds(writer_thread);
  StatementProfile::instance().set_phase("engine (phase 2)");
  t0 = Clock_::now();
  driver.run(ready, [&](std::size_t i, auto finished) {
    BenchCase& c = cases[i];
    ActionRequest request = [&] {
      std::lock_guard lock(scripting);
      return make_request(c, staff, scripter);
    }();
    Step step = c.script[c.next];
    ActionType type = request.type;
    env.engine->submit(std::move(request), [&, i, step, type, finished](Result<Committed> r) {
      BenchCase& c = cases[i];
      {
        std::lock_guard lock(results);
        if (r) {
          ++run.accepted;
          const Change& change = r->change;
          run.events += static_cast<std::int64_t>(change.events.size());
          run.commitments += static_cast<std::int64_t>(change.commitments.size());
          run.redress += static_cast<std::int64_t>(change.redress.size());
          run.messages += static_cast<std::int64_t>(change.messages.size());
          for (const auto& n : change.notifications)
            if (n.channel == NotificationDraft::Channel::kEmail) ++run.emails;
          if (run.samples.size() < kSamples) run.samples.emplace_back(c.stored, change);
        } else {
          ++run.refused;
          ++run.refusals[std::string(to_string(type)) + ": " + r.error().detail];
        }
      }
      if (r) {
        const Change& change = r->change;
        c.stored = change.after;
        if (step == Step::kMakeCommitment && !change.commitments.empty()) c.commitment = change.commitments.front().id;
        if (step == Step::kAcceptRedress)
          for (const auto& x : change.redress)
            if (x.status == RedressStatus::kAccepted) c.redress = x.id;
        if (step == Step::kTransfer) {
          const std::string& owner = change.after.owner_id;
          for (const auto& s : staff.agents.at(c.agent.team))
            if (s.id == owner) c.agent = s;
        }
      }
      ++c.next;
      finished(c.next < c.script.size());
    });
  });
  run.seconds = seconds_since(t0);
  StatementProfile::instance().set_phase("");
  run.cpu = cpu_seconds() - cpu0;
  run.writer_cpu = thread_cpu_seconds(writer_thread) - writer0;
  auto after = counters_of(env);
  run.batches = after.batches - before.batches;
  run.items = env.sqlite ? after.items - before.items : run.accepted + run.refused;
  run.ahead_plans = after.ahead_plans - before.ahead_plans;
  run.ahead_written = after.ahead_written - before.ahead_written;
  return run;
}

// ---- the baseline -------------------------------------------------------------------------------

struct BaselineRun {
  double seconds = 0;
  double cpu = 0;
  std::int64_t actions = 0;
  std::int64_t transactions = 0;
};

// Makes `db`, a new file, a baseline's database: the store's pragmas and schema, less what
// --baseline-schema drops.
void prepare_baseline_database(const Options& o, sqlite::Connection& db) {
  auto durability = o.durability == "normal" ? sqlite::Durability::kNormal : sqlite::Durability::kFull;
  if (auto s = sqlite::configure_connection(db, durability, sqlite::OpenMode::kReadWrite); !s)
    throw std::runtime_error(s.error().detail);
  if (auto m = sqlite::migrate(db); !m) throw std::runtime_error(m.error().detail);
  if (o.baseline_schema != "full") {
    // Only the writes' own cost stays: the triggers (report summaries, the search index) and/or
    // every index that is not a primary key or a UNIQUE constraint go.
    const bool triggers = o.baseline_schema != "no-indexes", indexes = o.baseline_schema != "no-triggers";
    std::vector<std::string> drops;
    auto& q = db.cached(
        "SELECT type, name FROM sqlite_schema WHERE (type = 'trigger' AND ?1) OR "
        "(type = 'index' AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%' AND ?2)");
    q.bind(1, static_cast<std::int64_t>(triggers)).bind(2, static_cast<std::int64_t>(indexes));
    while (q.step()) drops.push_back("DROP " + q.text(0) + " \"" + q.text(1) + "\";");
    q.reset();
    for (const auto& d : drops)
      if (auto s = db.exec(d); !s) throw std::runtime_error(s.error().detail);
  }
}

// The store's checkpoint policy, for a baseline's connection: passive once the WAL passes 8192
// pages (the WAL hook counts them).
class BaselineCheckpoints {
 public:
  explicit BaselineCheckpoints(sqlite::Connection& db) : db_(db) {
    sqlite3_wal_hook(
        db.handle(),
        [](void* p, sqlite3*, const char*, int pages) {
          *static_cast<int*>(p) = pages;
          return SQLITE_OK;
        },
        &wal_pages_);
  }
  BaselineCheckpoints(const BaselineCheckpoints&) = delete;
  BaselineCheckpoints& operator=(const BaselineCheckpoints&) = delete;
  ~BaselineCheckpoints() { sqlite3_wal_hook(db_.handle(), nullptr, nullptr); }
  // After each commit.
  void after_commit() {
    if (wal_pages_ < 8192) return;
    int log = 0, moved = 0;
    if (sqlite3_wal_checkpoint_v2(db_.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &moved) == SQLITE_OK &&
        log == moved)
      wal_pages_ = 0;
  }

 private:
  sqlite::Connection& db_;
  int wal_pages_ = 0;  // frames in the WAL after the last commit
};

void check(const Status& status) {
  if (!status) throw std::runtime_error(status.error().detail);
}

// The rows both baselines write, with the store's statements, prepared once on `db`.
class BaselineRows {
 public:
  explicit BaselineRows(sqlite::Connection& db)
      : begin_(db.cached("BEGIN IMMEDIATE")),
        commit_(db.cached("COMMIT")),
        event_(
            db.cached("INSERT INTO events(case_id, seq, type, at, actor, data, hash, seals) "
                      "VALUES (?1,?2,?3,?4,?5,?6,?7,?8)")),
        commitment_(db.cached(sqlite::kUpsertCommitmentSql)),
        email_(db.cached("INSERT INTO notifications(case_id, event_seq, channel, audience, recipient, recipient_name, "
                         "template, next_attempt_at, created_at) VALUES (?1,?2,'email',?3,?4,?5,?6,?7,?7)")) {}
  BaselineRows(const BaselineRows&) = delete;
  BaselineRows& operator=(const BaselineRows&) = delete;

  void begin() { check(begin_.run()); }
  void commit() { check(commit_.run()); }
  // The change's events, numbered on from `version` (which ends at the last one's number).
  void events(std::int64_t case_id, std::int64_t& version, const Change& change) {
    for (const auto& e : change.events) {
      event_.bind(1, case_id)
          .bind(2, ++version)
          .bind(3, e.type)
          .bind(4, to_micros(e.at))
          .bind(5, e.actor)
          .bind(6, e.data)
          .bind(7, e.hash);
      if (e.hash_rule == HashRule::kSealed)  // the same row the store writes (hash rule 2's seals)
        event_.bind(8, e.seals);
      else
        event_.bind_null(8);
      check(event_.run());
    }
  }
  // The change's commitments as new rows, with ids from `next_id` on.
  void commitments(std::int64_t case_id, std::int64_t& next_id, const Change& change) {
    for (Commitment k : change.commitments) {
      k.id = next_id++;
      k.case_id = case_id;
      sqlite::bind_commitment(commitment_, k);
      check(commitment_.run());
    }
  }
  // One outbox row per e-mail the change owes (web hooks: the benchmark subscribes none).
  void emails(std::int64_t case_id, const Change& change, Time at) {
    for (const auto& n : change.notifications) {
      if (n.channel != NotificationDraft::Channel::kEmail) continue;
      email_.bind(1, case_id)
          .bind(2, n.event_seq)
          .bind(3, n.audience)
          .bind(4, n.recipient)
          .bind(5, n.recipient_name)
          .bind(6, n.template_name)
          .bind(7, to_micros(at));
      check(email_.run());
    }
  }

 private:
  sqlite::Statement& begin_;
  sqlite::Statement& commit_;
  sqlite::Statement& event_;
  sqlite::Statement& commitment_;
  sqlite::Statement& email_;
};

// Calls `write(n)` for n = 0 .. total-1 in transactions of `batch`, timed (wall and CPU) as
// `phase`, with the store's checkpoint policy after each commit.
template <typename Write>
BaselineRun run_timed(const char* phase, std::int64_t total, std::int64_t batch, sqlite::Connection& db,
                      BaselineRows& rows, Write write) {
  BaselineCheckpoints checkpoints(db);
  BaselineRun run;
  run.actions = total;
  double cpu0 = cpu_seconds();
  StatementProfile::instance().set_phase(phase);
  auto t0 = Clock_::now();
  for (std::int64_t done = 0; done < total;) {
    rows.begin();
    for (std::int64_t k = 0; k < batch && done < total; ++k, ++done) write(done);
    rows.commit();
    ++run.transactions;
    checkpoints.after_commit();
  }
  run.seconds = seconds_since(t0);
  StatementProfile::instance().set_phase("");
  run.cpu = cpu_seconds() - cpu0;
  return run;
}

BaselineRun run_baseline(const Options& o, const std::string& dir, const EngineRun& engine, std::int64_t batch) {
  fs::create_directories(dir);
  sqlite::Connection db(dir + "/baseline.db", sqlite::OpenMode::kReadWrite);
  prepare_baseline_database(o, db);

  // As many case rows as the engine run had, built from the sampled case rows (untimed).
  const auto& samples = engine.samples;
  if (samples.empty()) throw std::runtime_error("the engine accepted no action to replay");
  std::int64_t ncases = o.cases;
  std::vector<std::int64_t> versions(static_cast<std::size_t>(ncases) + 1, 0);
  if (auto s = db.exec("BEGIN"); !s) throw std::runtime_error(s.error().detail);
  {
    auto& insert = db.cached(sqlite::kInsertCaseSql);
    for (std::int64_t id = 1; id <= ncases; ++id) {
      Case c = samples[static_cast<std::size_t>(id) % samples.size()].first;
      c.id = id;
      c.reference = "CMP-2026-" + std::to_string(100000 + id);
      c.version = 2;
      versions[static_cast<std::size_t>(id)] = 2;
      sqlite::bind_case(insert, c);
      if (auto s = insert.run(); !s) throw std::runtime_error(s.error().detail);
    }
  }
  if (auto s = db.exec("COMMIT; PRAGMA wal_checkpoint(TRUNCATE);"); !s) throw std::runtime_error(s.error().detail);

  BaselineRows rows(db);
  auto& redress = db.cached(sqlite::kUpsertRedressSql);
  auto& message =
      db.cached("INSERT INTO messages(id, case_id, visibility, author, body, at) VALUES (?1,?2,?3,?4,?5,?6)");
  std::int64_t next_commitment = 1, next_redress = 1, next_message = 1;
  return run_timed("baseline", engine.accepted, batch, db, rows, [&](std::int64_t done) {
    const auto& [stored, change] = samples[static_cast<std::size_t>(done) % samples.size()];
    std::int64_t id = 1 + done % ncases;
    std::int64_t& version = versions[static_cast<std::size_t>(id)];
    // The same UPDATE the store makes: the columns the action changed, version-checked.
    Case before = stored;
    before.id = id;
    before.reference = "CMP-2026-" + std::to_string(100000 + id);
    before.version = version;
    Case c = change.after;
    c.id = id;
    c.reference = before.reference;
    c.version = version + static_cast<std::int64_t>(change.events.size());
    auto updated = sqlite::update_case(db, before, c, version);
    if (!updated) throw std::runtime_error(updated.error().detail);
    if (*updated != 1) throw std::runtime_error("baseline: version check failed");
    rows.events(id, version, change);
    rows.commitments(id, next_commitment, change);
    for (Redress r : change.redress) {
      r.id = next_redress++;
      r.case_id = id;
      sqlite::bind_redress(redress, r);
      check(redress.run());
    }
    for (const auto& m : change.messages) {
      message.bind(1, next_message++)
          .bind(2, id)
          .bind(3, to_string(m.visibility))
          .bind(4, m.author)
          .bind(5, m.body)
          .bind(6, to_micros(m.at));
      check(message.run());
    }
    rows.emails(id, change, c.updated_at);
  });
}

// Phase 1's rows again, without the engine: as many creations as it made, from its sampled
// changes, each under a new id and reference (see the top comment).
BaselineRun run_creation_baseline(const Options& o, const std::string& dir, const EngineRun& engine,
                                  std::int64_t batch) {
  fs::create_directories(dir);
  sqlite::Connection db(dir + "/creations.db", sqlite::OpenMode::kReadWrite);
  prepare_baseline_database(o, db);
  if (engine.creations.empty()) throw std::runtime_error("the engine created no case to replay");
  BaselineRows rows(db);
  auto& insert_case = db.cached(sqlite::kInsertCaseSql);
  auto& link = db.cached("INSERT INTO client_links(case_id, nonce, token_hash, created_at) VALUES (?1,?2,?3,?4)");
  auto& clock = db.cached("INSERT INTO case_clocks(case_id, state) VALUES (?1, ?2)");
  auto& wake = db.cached("INSERT INTO case_wakes(case_id, wake_at) VALUES (?1, ?2)");
  std::int64_t next_commitment = 1;
  return run_timed("creation baseline", engine.created, batch, db, rows, [&](std::int64_t done) {
    const Change& change = engine.creations[static_cast<std::size_t>(done) % engine.creations.size()];
    const std::int64_t id = done + 1;
    Case c = change.after;
    c.id = id;
    c.reference = "CMP-2026-" + std::to_string(100000 + id);
    sqlite::bind_case(insert_case, c);
    check(insert_case.run());
    std::int64_t version = 0;  // a new case's first event is number 1
    rows.events(id, version, change);
    rows.commitments(id, next_commitment, change);
    rows.emails(id, change, c.updated_at);
    if (!change.client_link_hash.empty()) {
      // Unique per case, as the API's are.
      link.bind(1, id)
          .bind(2, pseudo_hex(0xc0ffee00000000ULL + 2 * static_cast<std::uint64_t>(id), 32))
          .bind(3, pseudo_hex(0xc0ffee00000000ULL + 2 * static_cast<std::uint64_t>(id) + 1, 64))
          .bind(4, to_micros(c.updated_at));
      check(link.run());
    }
    if (change.clock_state) {
      clock.bind(1, id).bind(2, *change.clock_state);
      check(clock.run());
    }
    if (change.wake == Change::Wake::kSet) {
      wake.bind(1, id).bind(2, to_micros(change.wake_at));
      check(wake.run());
    }
  });
}

// Phase 2's rows again on PostgreSQL, over raw libpq (see the top comment).
BaselineRun run_postgres_baseline(const Options& o, const EngineRun& engine, std::int64_t batch) {
  empty_postgres(o.database);
  auto opened = postgres::Connection::open(o.database);
  if (!opened) throw std::runtime_error(opened.error().detail);
  postgres::Connection& db = **opened;
  if (auto m = postgres::migrate(db); !m) throw std::runtime_error(m.error().detail);
  const auto& samples = engine.samples;
  if (samples.empty()) throw std::runtime_error("the engine accepted no action to replay");
  const std::int64_t ncases = o.cases;
  std::vector<std::int64_t> versions(static_cast<std::size_t>(ncases) + 1, 2);
  {
    auto t = postgres::Transaction::begin(db);
    if (!t) throw std::runtime_error(t.error().detail);
    postgres::Pipeline insert(db);
    for (std::int64_t id = 1; id <= ncases; ++id) {
      Case c = samples[static_cast<std::size_t>(id) % samples.size()].first;
      c.id = id;
      c.reference = "CMP-2026-" + std::to_string(100000 + id);
      c.version = 2;
      insert.add(postgres::insert_case_sql(), postgres::case_params(c));
    }
    if (auto r = insert.run(); !r) throw std::runtime_error(r.error().detail);
    check(t->commit());
  }
  const std::string event_sql = "INSERT INTO events(case_id, seq, type, at, actor, data, hash) VALUES ($1,$2,$3,$4,$5,$6,$7)";
  const std::string message_sql =
      "INSERT INTO messages(id, case_id, visibility, author, body, at) VALUES ($1,$2,$3,$4,$5,$6)";
  const std::string email_sql =
      "INSERT INTO notifications(case_id, event_seq, channel, audience, recipient, recipient_name, template, "
      "next_attempt_at, created_at) VALUES ($1,$2,'email',$3,$4,$5,$6,$7,$7)";
  std::int64_t next_commitment = 1, next_redress = 1, next_message = 1;
  BaselineRun run;
  run.actions = engine.accepted;
  double cpu0 = cpu_seconds();
  auto t0 = Clock_::now();
  for (std::int64_t done = 0; done < engine.accepted;) {
    auto t = postgres::Transaction::begin(db);
    if (!t) throw std::runtime_error(t.error().detail);
    postgres::Pipeline rows(db);
    std::vector<std::size_t> updates;
    for (std::int64_t k = 0; k < batch && done < engine.accepted; ++k, ++done) {
      const auto& [stored, change] = samples[static_cast<std::size_t>(done) % samples.size()];
      const std::int64_t id = 1 + done % ncases;
      std::int64_t& version = versions[static_cast<std::size_t>(id)];
      Case c = change.after;
      c.id = id;
      c.reference = "CMP-2026-" + std::to_string(100000 + id);
      c.version = version + static_cast<std::int64_t>(change.events.size());
      postgres::Params update = postgres::case_params(c);
      update.add(version);
      updates.push_back(rows.size());
      rows.add(postgres::update_case_sql_text(), std::move(update));
      for (const auto& e : change.events)
        rows.add(event_sql, postgres::Params().add(id).add(++version).add(e.type).add(to_micros(e.at)).add(e.actor)
                                .add(e.data).add(e.hash));
      for (Commitment x : change.commitments) {
        x.id = next_commitment++;
        x.case_id = id;
        rows.add(postgres::upsert_commitment_sql(), postgres::commitment_params(x));
      }
      for (Redress r : change.redress) {
        r.id = next_redress++;
        r.case_id = id;
        rows.add(postgres::upsert_redress_sql(), postgres::redress_params(r));
      }
      for (const auto& m : change.messages)
        rows.add(message_sql, postgres::Params().add(next_message++).add(id).add(std::string(to_string(m.visibility)))
                                  .add(m.author).add(m.body).add(to_micros(m.at)));
      for (const auto& n : change.notifications)
        if (n.channel == NotificationDraft::Channel::kEmail)
          rows.add(email_sql, postgres::Params().add(id).add(n.event_seq).add(n.audience).add(n.recipient)
                                  .add(n.recipient_name).add(n.template_name).add(to_micros(c.updated_at)));
    }
    auto results = rows.run();
    if (!results) throw std::runtime_error(results.error().detail);
    for (std::size_t u : updates)
      if ((*results)[u].affected() != 1) throw std::runtime_error("baseline: version check failed");
    check(t->commit());
    ++run.transactions;
  }
  run.seconds = seconds_since(t0);
  run.cpu = cpu_seconds() - cpu0;
  return run;
}

}  // namespace

// --sealing ab: the engine's durable actions/s sealing personal fields (rule 2) against hashing the
// data whole (rule 1), each run on fresh databases, in alternating order.
int sealing_ab(const Options& o) {
  std::vector<double> sealed_rates, whole_rates, ratios;
  for (int k = 1; k <= o.runs; ++k) {
    double rate[2] = {0, 0};  // [0] rule 2, [1] rule 1
    for (int turn = 0; turn < 2; ++turn) {
      const int which = (k + turn) % 2;
      set_new_event_rule_for_benchmark(which == 0 ? HashRule::kSealed : HashRule::kWhole);
      std::string dir = o.dir + "/run-" + std::to_string(k) + (which == 0 ? "-sealed" : "-whole");
      fs::remove_all(dir);
      EngineRun e = run_engine(o, dir + "/engine", static_cast<unsigned>(k));
      rate[which] = static_cast<double>(e.accepted) / e.seconds;
      fs::remove_all(dir);
    }
    set_new_event_rule_for_benchmark(HashRule::kSealed);
    sealed_rates.push_back(rate[0]);
    whole_rates.push_back(rate[1]);
    ratios.push_back(rate[0] / rate[1]);
    std::printf("run %d: sealed (rule 2) %8.0f actions/s | whole (rule 1) %8.0f actions/s | ratio %.3f\n", k, rate[0],
                rate[1], rate[0] / rate[1]);
    std::fflush(stdout);
  }
  std::printf("median of %d runs: sealed %.0f actions/s, whole %.0f actions/s, ratio %.3f (sealing costs %.1f%%)\n",
              o.runs, median(sealed_rates), median(whole_rates), median(ratios), 100.0 * (1.0 - median(ratios)));
  return 0;
}

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  bool own_dir = o.dir.empty();
  if (own_dir) {
    char pattern[] = "/tmp/redress-bench-XXXXXX";
    if (!mkdtemp(pattern)) usage("cannot create a temporary folder");
    o.dir = pattern;
  }
  if (!o.sealing.empty()) {
    std::printf("bench/engine --sealing ab: %d cases, %d actions, up to %d in flight from %d submitters, %d runs, in %s\n",
                o.cases, o.actions, o.inflight, o.submitters, o.runs, o.dir.c_str());
    int status = 1;
    try {
      status = sealing_ab(o);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "bench/engine: %s\n", e.what());
    }
    if (own_dir) fs::remove_all(o.dir);
    return status;
  }
  if (!o.database.empty())
    std::printf("bench/engine: %d cases, %d actions, up to %d in flight from %d submitters, %d runs, on PostgreSQL "
                "(the creation baseline is not run there)\n",
                o.cases, o.actions, o.inflight, o.submitters, o.runs);
  else
    std::printf(
        "bench/engine: %d cases, %d actions, up to %d in flight from %d submitters, %d runs, synchronous=%s, WAL, "
        "baseline schema %s, in %s\n",
        o.cases, o.actions, o.inflight, o.submitters, o.runs, o.durability == "full" ? "FULL" : "NORMAL",
        o.baseline_schema.c_str(), o.dir.c_str());
  std::vector<double> engine_rates, baseline_rates, ratios, batches;
  std::vector<double> creation_rates, creation_baseline_rates, creation_ratios, creation_cpu, creation_baseline_cpu;
  try {
    if (o.statements > 0) StatementProfile::instance().install();
    for (int k = 1; k <= o.runs; ++k) {
      std::string dir = o.dir + "/run-" + std::to_string(k);
      fs::remove_all(dir);
      EngineRun e = run_engine(o, dir + "/engine", static_cast<unsigned>(k));
      double mean_batch = e.batches ? static_cast<double>(e.items) / static_cast<double>(e.batches) : 0;
      std::int64_t batch = o.baseline_batch ? o.baseline_batch : std::max<std::int64_t>(1, std::llround(mean_batch));
      const bool on_postgres = !o.database.empty();
      BaselineRun b = on_postgres ? run_postgres_baseline(o, e, batch) : run_baseline(o, dir + "/baseline", e, batch);
      double create_batch =
          e.create_batches ? static_cast<double>(e.create_items) / static_cast<double>(e.create_batches) : 0;
      BaselineRun cb = on_postgres ? BaselineRun{1, 0, 0, 0}
                                   : run_creation_baseline(o, dir + "/creations", e,
                                                           o.baseline_batch ? o.baseline_batch
                                                                            : std::max<std::int64_t>(
                                                                                  1, std::llround(create_batch)));
      double er = static_cast<double>(e.accepted) / e.seconds;
      double br = static_cast<double>(b.actions) / b.seconds;
      engine_rates.push_back(er);
      baseline_rates.push_back(br);
      ratios.push_back(er / br);
      batches.push_back(mean_batch);
      double a = static_cast<double>(std::max<std::int64_t>(e.accepted, 1));
      std::printf(
          "run %d: engine %8.0f actions/s (%lld accepted, %lld refused, %.2fs; %lld commits, mean batch %.0f) | "
          "baseline %8.0f actions/s (%lld transactions of %lld) | ratio %.2f | creation %.0f cases/s\n",
          k, er, static_cast<long long>(e.accepted), static_cast<long long>(e.refused), e.seconds,
          static_cast<long long>(e.batches), mean_batch, br, static_cast<long long>(b.transactions),
          static_cast<long long>(batch), er / br, e.created / e.create_seconds);
      std::printf("       CPU per action: engine %.1f us (its writer thread %.1f us), baseline %.1f us\n",
                  1e6 * e.cpu / a, 1e6 * e.writer_cpu / a,
                  1e6 * b.cpu / static_cast<double>(std::max<std::int64_t>(b.actions, 1)));
      std::printf(
          "       rows per action: %.2f events, %.2f commitments, %.2f redress, %.2f messages, %.2f e-mails, 1 case "
          "update\n",
          static_cast<double>(e.events) / a, static_cast<double>(e.commitments) / a, static_cast<double>(e.redress) / a,
          static_cast<double>(e.messages) / a, static_cast<double>(e.emails) / a);
      std::printf(
          "       planned ahead of the writer: %.0f%% of actions, %.0f%% of those written as made\n",
          100.0 * static_cast<double>(e.ahead_plans) / a,
          100.0 * static_cast<double>(e.ahead_written) / static_cast<double>(std::max<std::int64_t>(e.ahead_plans, 1)));
      double c = static_cast<double>(std::max(e.created, 1));
      double cr = e.created / e.create_seconds, cbr = static_cast<double>(cb.actions) / cb.seconds;
      creation_rates.push_back(cr);
      creation_baseline_rates.push_back(cbr);
      creation_ratios.push_back(cr / cbr);
      creation_cpu.push_back(1e6 * e.create_cpu / c);
      creation_baseline_cpu.push_back(1e6 * cb.cpu / static_cast<double>(std::max<std::int64_t>(cb.actions, 1)));
      std::printf(
          "       creations: engine %.0f cases/s (%d, mean batch %.0f; CPU per case %.1f us, its writer thread %.1f "
          "us) | "
          "baseline %.0f cases/s (%lld transactions; CPU per case %.1f us) | ratio %.2f\n",
          cr, e.created, create_batch, creation_cpu.back(), 1e6 * e.create_writer_cpu / c, cbr,
          static_cast<long long>(cb.transactions), creation_baseline_cpu.back(), cr / cbr);
      std::printf(
          "       rows per creation: 1 case, %.2f events, %.2f commitments, %.2f e-mails, %.2f client links, "
          "%.2f clock states, %.2f wake times\n",
          static_cast<double>(e.create_events) / c, static_cast<double>(e.create_commitments) / c,
          static_cast<double>(e.create_emails) / c, static_cast<double>(e.create_links) / c,
          static_cast<double>(e.create_clocks) / c, static_cast<double>(e.create_wakes) / c);
      for (const auto& [reason, count] : e.refusals) std::printf("       refused %d×: %s\n", count, reason.c_str());
      std::fflush(stdout);
      fs::remove_all(dir);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench/engine: %s\n", e.what());
    return 1;
  }
  auto spread = [](std::vector<double> v) {
    auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.0f..%.0f", *lo, *hi);
    return std::string(buffer);
  };
  std::printf(
      "median of %d runs: engine %.0f actions/s (spread %s), baseline %.0f actions/s (spread %s), ratio %.2f, "
      "mean batch %.0f\n",
      o.runs, median(engine_rates), spread(engine_rates).c_str(), median(baseline_rates),
      spread(baseline_rates).c_str(), median(ratios), median(batches));
  std::printf(
      "creations, median of %d runs: engine %.0f cases/s (spread %s; CPU per case %.1f us), baseline %.0f cases/s "
      "(spread %s; CPU per case %.1f us), ratio %.2f\n",
      o.runs, median(creation_rates), spread(creation_rates).c_str(), median(creation_cpu),
      median(creation_baseline_rates), spread(creation_baseline_rates).c_str(), median(creation_baseline_cpu),
      median(creation_ratios));
  if (o.statements > 0) {
    std::printf("last run:\n");
    StatementProfile::instance().print("engine (phase 2)", o.statements);
    StatementProfile::instance().print("baseline", o.statements);
    StatementProfile::instance().print("creation baseline", o.statements);
  }
  if (own_dir) fs::remove_all(o.dir);
  return 0;
}
