// `redress demo`: seeds a realistic data set by running real actions through the engine.
//
// A small discrete-event simulation: each case gets a script of actions with realistic delays; the
// scripts of all cases run interleaved in time order on a manual clock that starts `--days` ago and
// stops at the present. Steps that would fall in the future are left undone, so recent cases are
// naturally still open, and every status appears. Everything goes through Engine::apply, so the
// data set has true histories, hash chains, projections and notifications owed.
#include <algorithm>
#include <memory>
#include <atomic>
#include <iostream>
#include <functional>
#include <future>
#include <map>
#include <queue>
#include <random>
#include <set>

#include "adapters/security/secrets.h"
#include "app/cli.h"
#include "app/environment.h"
#include "engine/planner.h"
#include "engine/scheduler.h"
#include "ports/case_reader.h"
#include "ports/staff_directory.h"

namespace redress {

namespace {

using std::chrono::hours;
using std::chrono::minutes;

const char* const kFirstNames[] = {"Ana",   "Sam",    "Priya", "Tom",   "Chen",  "Fatima", "Luca",  "Grace",
                                   "Omar",  "Hannah", "Kwame", "Sofia", "Jack",  "Mei",    "Diego", "Aisha",
                                   "Noah",  "Zara",   "Ivan",  "Ruth",  "Tariq", "Elena",  "Ben",   "Yuki",
                                   "Chloé", "Sean",   "Nadia", "Raj",   "Leah",  "Björn"};
const char* const kLastNames[] = {"Ruiz",    "Okafor",  "Patel",   "Walsh",  "Wei",    "Khan",   "Romano",
                                  "Adeyemi", "Hassan",  "Schmidt", "Mensah", "García", "Murphy", "Lin",
                                  "Torres",  "Bello",   "Evans",   "Ahmed",  "Petrov", "Cohen",  "Nakamura",
                                  "Novak",   "Brennan", "Silva",   "Dubois"};

struct Touchpoint {
  const char* name;
  std::vector<const char*> subjects;
};
const std::vector<Touchpoint> kTouchpoints = {
    {"phone_contact",
     {"Kept on hold for over an hour", "Promised call-back never came", "Advisor was rude on the phone"}},
    {"front_desk",
     {"Turned away at the counter", "Wrong information given in branch", "Queue of two hours at the desk"}},
    {"sales",
     {"Mis-sold an add-on I did not need", "Price differed from the one quoted", "Pressure to sign on the spot"}},
    {"billing", {"Charged twice for one order", "Refund not received after 30 days", "Direct debit taken early"}},
    {"delivery",
     {"Parcel marked delivered but never arrived", "Delivery missed the booked slot", "Item arrived damaged"}},
    {"support",
     {"Fault reported three times, still not fixed", "Engineer did not turn up", "Ticket closed without a fix"}},
};

struct Step {
  ActionRequest request;
  Duration delay;  // after the previous step
};

struct CasePlan {
  NewCase intake;
  Actor intake_actor;
  Time received;
  std::vector<Step> steps;
  std::string reference;  // set once created
};

struct Scheduled {
  Time at;
  std::size_t case_index;
  std::size_t step;  // 0 is the creation
  bool operator>(const Scheduled& other) const { return at > other.at; }
};

class DemoBuilder {
 public:
  DemoBuilder(unsigned seed, const WorkflowSet& workflows, std::vector<Staff> agents, std::vector<Staff> leads, Time end)
      : random_(seed), workflows_(workflows), agents_(std::move(agents)), leads_(std::move(leads)), end_(end) {}

  CasePlan make_case(Time received) {
    CasePlan plan;
    plan.received = received;
    const Workflow& workflow = workflows_.all()[pick(workflows_.all().size())];
    std::string first = kFirstNames[pick(std::size(kFirstNames))];
    std::string last = kLastNames[pick(std::size(kLastNames))];
    const Touchpoint& touchpoint = kTouchpoints[pick(kTouchpoints.size())];
    NewCase& c = plan.intake;
    c.client.name = first + " " + last;
    c.client.email = ascii(first) + "." + ascii(last) + std::to_string(pick(900) + 100) + "@example.org";
    c.client.locale = workflow.name == "cfpb" ? "en-US" : "en-GB";
    if (chance(0.4)) c.client.phone = "+44 20 7946 0" + std::to_string(100 + pick(900));
    static const Channel channels[] = {Channel::kWeb,   Channel::kWeb,      Channel::kEmail,
                                       Channel::kPhone, Channel::kInPerson, Channel::kApi};
    c.channel = channels[pick(std::size(channels))];
    c.category = workflow.categories.empty() ? "general" : workflow.categories[pick(workflow.categories.size())];
    c.touchpoint = touchpoint.name;
    c.subject = touchpoint.subjects[pick(touchpoint.subjects.size())];
    c.description = "On " + std::string(touchpoint.name) + ": " + c.subject +
                    ". I have contacted you before about this and I expect it to be put right.";
    c.remedy_requested = chance(0.5) ? "A refund and an apology" : "Fix the problem and compensate me for my time";
    static const Severity severities[] = {Severity::kLow, Severity::kMedium, Severity::kMedium, Severity::kHigh,
                                          Severity::kCritical};
    c.severity = severities[pick(std::size(severities))];
    c.workflow = workflow.name;
    plan.intake_actor =
        chance(0.3) ? Actor::intake("web-form") : Actor::staff(agents_[pick(agents_.size())].id, Role::kAgent);
    script(plan, workflow);
    return plan;
  }

 private:
  static std::string ascii(const std::string& name) {
    std::string out;
    for (unsigned char ch : name)
      if (std::isalpha(ch) && ch < 0x80) out += static_cast<char>(std::tolower(ch));
    return out.empty() ? "client" : out;
  }
  std::size_t pick(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(random_); }
  bool chance(double p) { return std::bernoulli_distribution(p)(random_); }
  Duration between(Duration low, Duration high) {
    return Duration(std::uniform_int_distribution<std::int64_t>(low.count(), high.count())(random_));
  }

  static ActionRequest request(ActionType type, const Actor& actor) {
    ActionRequest r;
    r.type = type;
    r.actor = actor;
    return r;
  }

  std::string final_response(const Workflow& workflow, const std::string& name, const std::string& body) {
    std::string text = "Dear " + name + ",\n\n" + body + "\n\n";
    for (const auto& element : workflow.final_response_elements)
      if (!element.any_of.empty()) text += element.description + ": " + element.any_of.front() + ".\n";
    return text + "\nYours sincerely,\nThe complaints team";
  }

  void script(CasePlan& plan, const Workflow& workflow) {
    auto& steps = plan.steps;
    const Staff& owner = agents_[pick(agents_.size())];
    Actor agent = Actor::staff(owner.id, owner.role);
    const Staff& lead_staff = leads_[pick(leads_.size())];
    Actor lead = Actor::staff(lead_staff.id, lead_staff.role);
    Actor client = Actor::client();
    std::string currency = workflow.name == "cfpb" ? "USD" : "GBP";
    // While the complaint is investigated, the owner writes to the client every two to four days
    // during a long wait, as the keep-informed pledges ask; a few owners forget.
    bool informing = false;
    const bool forgetful = chance(0.08);
    auto add = [&](ActionRequest r, Duration low, Duration high) {
      Duration wait = between(low, high);
      while (informing && !forgetful && wait > hours(24 * 4)) {
        Duration gap = between(hours(24 * 2), hours(24 * 4));
        auto update = request(ActionType::kAddMessage, agent);
        update.visibility = Visibility::kClient;
        update.body = "An update on your complaint: we are still working on it and will write again within a few days.";
        steps.push_back(Step{std::move(update), gap});
        wait -= gap;
      }
      steps.push_back(Step{std::move(r), wait});
    };

    // Only what came in over the last two days still waits: a desk does not leave old complaints
    // at the front door or in the team queue.
    const bool recent = plan.received > end_ - hours(48);
    if (!workflow.auto_acknowledge) {
      if (recent && chance(0.3)) return;  // not yet acknowledged: waiting at the front door
      add(request(ActionType::kAcknowledge, agent), minutes(20), hours(20));
    }
    if (recent && chance(0.4)) return;  // waiting in the team queue
    if (chance(0.25)) {
      auto r = request(ActionType::kAssign, lead);
      r.owner = owner.id;
      add(std::move(r), minutes(10), hours(6));
    } else {
      add(request(ActionType::kTake, agent), minutes(5), hours(10));
    }
    add(request(ActionType::kStart, agent), minutes(5), hours(8));
    informing = true;
    {
      auto r = request(ActionType::kAddMessage, agent);
      r.visibility = Visibility::kInternal;
      r.body = "Checked the account history; the client's account of events matches our records.";
      add(std::move(r), minutes(30), hours(20));
    }
    {
      auto r = request(ActionType::kAddMessage, agent);
      r.visibility = Visibility::kClient;
      r.body = "Thank you for your patience. I am looking into this personally and will keep you updated.";
      add(std::move(r), minutes(10), hours(6));
    }
    bool promised = chance(0.7);
    if (promised) {
      auto r = request(ActionType::kMakeCommitment, agent);
      r.text = chance(0.5) ? "I will call you back with an update" : "Your service will be restored";
      r.due.in = IsoDuration{static_cast<std::int64_t>(1 + pick(4)), hours(pick(8))};
      r.client_visible = chance(0.85);
      add(std::move(r), minutes(10), hours(4));
      double fate = std::uniform_real_distribution<double>(0, 1)(random_);
      if (fate < 0.65) {
        auto keep = request(ActionType::kKeepCommitment, agent);
        keep.note = "Done as promised.";
        keep.commitment_id = -1;  // the latest commitment: resolved when the step runs
        add(std::move(keep), hours(2), hours(20));
      } else if (fate < 0.8) {
        auto renegotiate = request(ActionType::kRenegotiateCommitment, agent);
        renegotiate.commitment_id = -1;
        renegotiate.due.in = IsoDuration{static_cast<std::int64_t>(2 + pick(4)), Duration::zero()};
        renegotiate.reason = "The supplier needs more time; the client agreed by phone.";
        add(std::move(renegotiate), hours(1), hours(12));
      }  // otherwise the promise is left to lapse: an overdue commitment for the managers' board
    }
    if (chance(0.1)) {
      auto r = request(ActionType::kEscalate, agent);
      r.reason = "The client is vulnerable and the issue is recurring.";
      add(std::move(r), hours(1), hours(30));
    }
    if (chance(0.1)) {
      const Staff& other = agents_[pick(agents_.size())];
      if (other.id != owner.id) {
        auto r = request(ActionType::kTransfer, agent);
        r.owner = other.id;
        r.note = "Handing over: account checked, client prefers email, promise above still stands.";
        add(std::move(r), hours(1), hours(24));
        agent = Actor::staff(other.id, other.role);
      }
    }
    if (chance(0.06)) {
      auto r = request(ActionType::kWithdraw, client);
      r.reason = "Sorted it out myself, thanks.";
      add(std::move(r), hours(2), hours(72));
      return;
    }
    if (chance(0.35)) {
      auto r = request(ActionType::kRequestInfo, agent);
      r.body = "Could you send us the order number and a photo of the item?";
      add(std::move(r), hours(1), hours(30));
      if (chance(0.12)) return;  // still waiting for the client
      auto reply = request(ActionType::kAddMessage, client);
      reply.visibility = Visibility::kClient;
      reply.body = "Here is the order number: " + std::to_string(100000 + pick(900000)) + ". Photo attached.";
      add(std::move(reply), hours(3), hours(96));
    }
    // What a return needs from a resolution: a root cause and a product from the workflow's lists
    // (FCA requires both; the others get them most of the time).
    auto record = [&](ActionRequest& r) {
      const bool required = workflow.returns.require_root_cause || workflow.returns.require_product;
      if (!workflow.root_causes.empty() && (required || chance(0.8)))
        r.root_cause = workflow.root_causes[pick(workflow.root_causes.size())].key;
      if (!workflow.products.empty() && (required || chance(0.8)))
        r.product = workflow.products[pick(workflow.products.size())].key;
    };
    // About one client in twelve is flagged vulnerable (FCA FG21/1).
    if (chance(0.08)) {
      auto r = request(ActionType::kFlagVulnerable, agent);
      static const VulnerabilityDriver drivers[] = {VulnerabilityDriver::kHealth, VulnerabilityDriver::kLifeEvents,
                                                    VulnerabilityDriver::kResilience, VulnerabilityDriver::kCapability};
      static const char* const notes[] = {"Recovering from an operation; prefers email.",
                                          "Recently bereaved; keep calls short and kind.",
                                          "Lost their job last month; money is very tight.",
                                          "Finds written letters hard; offer a phone call."};
      const std::size_t which = pick(std::size(drivers));
      r.vulnerability = Vulnerability{drivers[which], notes[which],
                                      std::chrono::year_month_day{std::chrono::year(2030), std::chrono::month(6),
                                                                  std::chrono::day(30)}};
      add(std::move(r), minutes(10), hours(12));
    }
    const std::string& name = plan.intake.client.name;
    if (chance(0.55)) {
      auto offer = request(ActionType::kOfferRedress, agent);
      RedressOffer o;
      static const RedressKind kinds[] = {RedressKind::kRefund,       RedressKind::kCredit,      RedressKind::kGoodwill,
                                          RedressKind::kCompensation, RedressKind::kReplacement, RedressKind::kRepair};
      o.kind = kinds[pick(std::size(kinds))];
      if (o.kind != RedressKind::kReplacement && o.kind != RedressKind::kRepair) {
        o.amount_minor = static_cast<std::int64_t>(10 + pick(240)) * 100 + (chance(0.5) ? 50 : 0);
        o.currency = currency;
      }
      o.text = "To put things right for the trouble caused.";
      offer.offers.push_back(o);
      add(std::move(offer), hours(2), hours(72));
      if (chance(0.5)) {
        auto apology = request(ActionType::kOfferRedress, agent);
        apology.offers.push_back(
            RedressOffer{RedressKind::kApology, std::nullopt, "", "We are sorry; we got this wrong."});
        add(std::move(apology), minutes(5), minutes(40));
      }
      auto propose = request(ActionType::kProposeRedress, agent);
      propose.outcome = chance(0.7) ? Outcome::kUpheld : Outcome::kPartlyUpheld;
      record(propose);
      propose.final_response = final_response(
          workflow, name, "We have investigated your complaint and we uphold it. We offer the redress below.");
      add(std::move(propose), minutes(30), hours(24));
      if (chance(0.1)) return;  // the client has not decided yet
      if (chance(0.75)) {
        add(request(ActionType::kAcceptRedress, client), hours(2), hours(96));
        auto fulfil = request(ActionType::kFulfilRedress, agent);
        fulfil.redress_id = -1;  // the accepted deliverable offer, resolved when the step runs
        fulfil.note = "Payment sent.";
        add(std::move(fulfil), hours(4), hours(24 * 8));
      } else {
        auto reject = request(ActionType::kRejectRedress, client);
        reject.reason = "That does not cover what I lost.";
        add(std::move(reject), hours(2), hours(96));
        auto resolve = request(ActionType::kResolve, lead);
        resolve.outcome = Outcome::kPartlyUpheld;
        record(resolve);
        resolve.final_response =
            final_response(workflow, name, "Having reviewed your rejection, our offer stands as our final response.");
        add(std::move(resolve), hours(4), hours(72));
      }
    } else {
      auto resolve = request(ActionType::kResolve, agent);
      resolve.outcome = chance(0.5) ? Outcome::kNotUpheld : Outcome::kResolvedInformally;
      record(resolve);
      resolve.final_response =
          final_response(workflow, name, "We have looked into your complaint carefully; here is our answer.");
      add(std::move(resolve), hours(4), hours(24 * 6));
    }
    informing = false;  // resolved: nothing more to report until a reopening
    if (chance(0.5)) {
      auto survey = request(ActionType::kSubmitSurvey, client);
      static const int ratings[] = {1, 2, 3, 4, 4, 5, 5, 5};
      survey.rating = ratings[pick(std::size(ratings))];
      survey.comment = *survey.rating >= 4 ? "Handled well, thank you." : "Took far too long.";
      // Most answer the RATER questions too, each near their overall rating.
      if (chance(0.8)) {
        const int overall = *survey.rating;
        auto near = [&] { return std::clamp(overall + static_cast<int>(pick(3)) - 1, 1, 5); };
        RaterScores scores;
        scores.reliability = near();
        scores.assurance = near();
        scores.tangibles = near();
        scores.empathy = near();
        scores.responsiveness = near();
        survey.rater = scores;
      }
      add(std::move(survey), hours(2), hours(72));
    }
    if (chance(0.05)) {
      auto reopen = request(ActionType::kReopen, client);
      reopen.reason = "The problem has come back.";
      add(std::move(reopen), hours(24), hours(24 * 5));
      auto resolve = request(ActionType::kResolve, agent);
      resolve.outcome = Outcome::kUpheld;
      record(resolve);
      resolve.final_response = final_response(workflow, name, "We have fixed the recurring fault for good.");
      add(std::move(resolve), hours(4), hours(72));
    }
    if (chance(0.8)) {
      auto close = request(ActionType::kClose, agent);
      close.note = "Nothing left to do.";
      add(std::move(close), hours(24), hours(24 * 12));
    }
  }

  std::mt19937_64 random_;
  const WorkflowSet& workflows_;
  std::vector<Staff> agents_;
  std::vector<Staff> leads_;
  Time end_;  // the present: the simulation stops here
};

struct DemoStaff {
  const char* name;
  const char* email;
  Role role;
  int team;  // index into the workflows' teams
};
const DemoStaff kStaff[] = {
    {"Sam Okafor", "sam.okafor@redress.example", Role::kAgent, 0},
    {"Priya Nair", "priya.nair@redress.example", Role::kAgent, 0},
    {"Tom Walsh", "tom.walsh@redress.example", Role::kAgent, 1},
    {"Mei Lin", "mei.lin@redress.example", Role::kAgent, 1},
    {"Diego Torres", "diego.torres@redress.example", Role::kAgent, 2},
    {"Hannah Evans", "hannah.evans@redress.example", Role::kAgent, 2},
    {"Kwame Mensah", "kwame.mensah@redress.example", Role::kAgent, 3},
    {"Yuki Nakamura", "yuki.nakamura@redress.example", Role::kAgent, 3},
    {"Grace Adeyemi", "grace.adeyemi@redress.example", Role::kLead, 0},
    {"Omar Hassan", "omar.hassan@redress.example", Role::kLead, 2},
    {"Elena Novak", "elena.novak@redress.example", Role::kManager, 0},
    {"Ruth Cohen", "ruth.cohen@redress.example", Role::kAdmin, 0},
};

struct SeededStaff {
  std::vector<Staff> agents, leads;  // leads: everyone above an agent
};

// The demo's staff in `teams`, reusing those an earlier run added.
Result<SeededStaff> seed_staff(StaffDirectory& directory, const std::vector<std::string>& teams) {
  SeededStaff seeded;
  for (const auto& s : kStaff) {
    auto found = directory.find_staff(s.email);
    Staff staff;
    if (found) {
      staff = *found;
    } else {
      staff = Staff{"", s.name, s.email, s.role, teams[static_cast<std::size_t>(s.team) % teams.size()], true};
      auto added = directory.add_staff(staff);
      if (!added) return added.error();
      staff = *added;
    }
    if (staff.role == Role::kAgent)
      seeded.agents.push_back(staff);
    else
      seeded.leads.push_back(staff);
  }
  return seeded;
}

// How many cases there are in each status, by the status's name; stops at a page that fails.
std::map<std::string, int> count_by_status(CaseReader& cases) {
  std::map<std::string, int> by_status;
  std::string cursor;
  do {
    auto page = cases.list_cases({}, cursor, 200);
    if (!page) break;
    for (const auto& c : page->cases) by_status[std::string(to_string(c.status))]++;
    cursor = page->next_cursor;
  } while (!cursor.empty());
  return by_status;
}

}  // namespace

int command_demo(const Arguments& args) {
  int cases = 400, seed = 42, days = 120;
  try {
    cases = std::stoi(args.get("cases", "400"));
    seed = std::stoi(args.get("seed", "42"));
    days = std::stoi(args.get("days", "120"));
  } catch (const std::exception&) {
    std::cerr << "redress: --cases, --seed and --days take whole numbers\n";
    return kExitUsage;
  }
  if (cases < 1 || cases > 1000000 || days < 1 || days > 3650) {
    std::cerr << "redress: --cases must be 1..1000000 and --days 1..3650\n";
    return kExitUsage;
  }
  bool quiet = args.flags.count("quiet") > 0;
  Time end = SystemClock().now();
  Time start = end - std::chrono::hours(24 * days);

  // Seeding is one bulk load: commits need not reach the disk one by one; the final checkpoint
  // (on close) makes the whole data set durable.
  Config config = args.config;
  config.durability = "normal";
  OpenOptions options;
  options.migrate_if_needed = true;
  options.manual_start = start;
  auto opened = open_environment(config, options);
  if (!opened) {
    std::cerr << "redress: " << opened.error().detail << "\n";
    return kExitFailure;
  }
  Environment& env = **opened;
  auto& clock = static_cast<ManualClock&>(*env.clock);

  // Staff: reuse those of an earlier run.
  std::vector<std::string> teams;
  for (const auto& w : env.workflows.all())
    if (std::find(teams.begin(), teams.end(), w.team) == teams.end()) teams.push_back(w.team);
  auto staff = seed_staff(*env.store, teams);
  if (!staff) {
    std::cerr << "redress: " << staff.error().detail << "\n";
    return kExitFailure;
  }

  DemoBuilder builder(static_cast<unsigned>(seed), env.workflows, staff->agents, staff->leads, end);
  std::mt19937_64 arrivals(static_cast<unsigned>(seed) * 7919u);
  std::vector<CasePlan> plans;
  plans.reserve(static_cast<std::size_t>(cases));
  std::priority_queue<Scheduled, std::vector<Scheduled>, std::greater<>> agenda;
  std::size_t total_steps = 0;
  for (int i = 0; i < cases; ++i) {
    // Arrivals grow towards the present, as a live desk's do; office hours mostly.
    double u = std::uniform_real_distribution<double>(0, 1)(arrivals);
    auto offset = std::chrono::duration_cast<Duration>((end - start) * std::sqrt(u));
    Time received = start + offset;
    plans.push_back(builder.make_case(received));
    total_steps += plans.back().steps.size() + 1;
    agenda.push(Scheduled{received, plans.size() - 1, 0});
  }

  // Staff record what was done about most broken commitments of a case when they next touch it
  // (a call to the client, an apology, a date agreed), and catch up on the rest from the board
  // within two days; about one breach in ten is left for the board. Deterministic per commitment.
  auto handle_breaches = [&env](const std::string& reference, const Actor& actor, Time broken_before) {
    std::size_t handled_count = 0;
    auto snapshot = env.store->load_case(reference);
    if (!snapshot) return handled_count;
    for (const auto& k : snapshot->commitments) {
      if (k.status != CommitmentStatus::kBroken || k.handled_at || k.due_at >= broken_before) continue;
      if ((std::hash<std::string>{}(reference) + static_cast<std::size_t>(k.id) * 7919u) % 10 == 0) continue;
      std::promise<Result<Committed>> handled;
      env.engine->handle_breach(reference, k.id, actor, "Called the client to apologise and agreed what happens next.",
                                [&handled](Result<Committed> r) { handled.set_value(std::move(r)); });
      if (handled.get_future().get()) ++handled_count;
    }
    return handled_count;
  };

  // The scheduler breaks pledges and promises that fall due between the scripted steps.
  Scheduler::Options scheduler_options;
  scheduler_options.holder = "redress-demo";
  Scheduler scheduler(*env.engine, scheduler_options);
  Time last_fired = start;
  std::int64_t breaks = 0;
  std::size_t done = 0, applied = 0, refused = 0;
  std::map<std::string, int> refusals;
  auto progress = [&](bool last) {
    if (quiet) return;
    if (!last && done % 64 != 0) return;
    int width = 40;
    int filled = static_cast<int>(width * static_cast<double>(done) /
                                  static_cast<double>(std::max<std::size_t>(total_steps, 1)));
    std::cerr << "\r[" << std::string(static_cast<std::size_t>(filled), '#')
              << std::string(static_cast<std::size_t>(width - filled), '.') << "] " << done << "/" << total_steps
              << " steps" << (last ? "\n" : "") << std::flush;
  };
  while (!agenda.empty()) {
    Scheduled next = agenda.top();
    agenda.pop();
    if (next.at > end) {  // the future: left undone
      done += plans[next.case_index].steps.size() - next.step + 1;
      progress(false);
      continue;
    }
    // Time moves on: what fell due meanwhile breaks first, as the server's scheduler would do.
    if (next.at >= last_fired + std::chrono::hours(1)) {
      clock.set(next.at);
      auto fired = scheduler.run_due();
      breaks += fired.cases;
      last_fired = next.at;
    }
    clock.set(next.at);
    CasePlan& plan = plans[next.case_index];
    if (next.step == 0) {
      auto created = env.engine->create_case(plan.intake, plan.intake_actor);
      if (!created) {
        std::cerr << "\nredress: demo: cannot create a case: " << created.error().detail << "\n";
        return kExitFailure;
      }
      plan.reference = created->change.after.reference;
    } else {
      ActionRequest request = plan.steps[next.step - 1].request;
      request.reference = plan.reference;
      // Staff record what was done about most broken commitments when they next touch the case
      // (a call to the client, an apology, a date agreed); about one in eight is left for the board.
      if (request.actor.kind == Actor::Kind::kStaff) applied += handle_breaches(plan.reference, request.actor, end);
      if (request.commitment_id == -1 || request.redress_id == -1) {
        auto snapshot = env.store->load_case(plan.reference);
        if (snapshot) {
          for (const auto& k : snapshot->commitments)
            if (request.commitment_id == -1 && k.status == CommitmentStatus::kOpen &&
                k.kind == CommitmentKind::kPromise)
              request.commitment_id = k.id;
          for (const auto& r : snapshot->redress)
            if (request.redress_id == -1 && r.status == RedressStatus::kAccepted) request.redress_id = r.id;
        }
      }
      if (request.type == ActionType::kClose || request.type == ActionType::kFulfilRedress) {
        // Before closing, and when paying what the client accepted, staff pay everything still
        // owed, automatic compensation included.
        if (auto snapshot = env.store->load_case(plan.reference))
          for (const auto& r : snapshot->redress) {
            if (r.status != RedressStatus::kAccepted || r.id == request.redress_id) continue;
            ActionRequest pay;
            pay.type = ActionType::kFulfilRedress;
            pay.reference = plan.reference;
            pay.actor = request.actor;
            pay.redress_id = r.id;
            pay.note = "Paid to the client's account";
            if (env.engine->apply(pay)) ++applied;
          }
      }
      auto result = env.engine->apply(request);
      if (result)
        ++applied;
      else {
        ++refused;
        refusals[std::string(to_string(request.type)) + ": " + result.error().detail]++;
      }
    }
    ++done;
    progress(false);
    if (next.step < plan.steps.size())
      agenda.push(Scheduled{next.at + plan.steps[next.step].delay, next.case_index, next.step + 1});
  }
  done = total_steps;
  progress(true);
  clock.set(end);
  breaks += scheduler.run_due().cases;
  // The leads' catch-up: what broke more than two days ago and nobody handled yet.
  const Staff& lead = staff->leads.front();
  for (const auto& plan : plans)
    if (!plan.reference.empty())
      applied += handle_breaches(plan.reference, Actor::staff(lead.id, lead.role), end - std::chrono::hours(48));
  // Tags, as a desk uses them (issue 27): the leads label some cases as they review them. Submitted
  // at once, as a bulk action is (the writer groups them), and waited for by the flush below.
  auto tagged = std::make_shared<std::atomic<int>>(0);
  for (std::size_t i = 0; i < plans.size(); ++i) {
    if (plans[i].reference.empty()) continue;
    ActionRequest tag;
    tag.type = ActionType::kTag;
    tag.reference = plans[i].reference;
    tag.actor = Actor::staff(lead.id, lead.role);
    if (i % 11 == 3) tag.tags.push_back("repeat-complainant");
    if (i % 23 == 5) tag.tags.push_back("vip");
    if (i % 97 == 7) tag.tags.push_back("press");
    if (tag.tags.empty()) continue;
    std::sort(tag.tags.begin(), tag.tags.end());
    env.engine->submit(std::move(tag), [tagged](Result<Committed> result) {
      if (result) tagged->fetch_add(1);
    });
  }
  env.store->flush();
  applied += tagged->load();
  // The search index takes in what the writer has not indexed yet (searches found it anyway).
  if (auto indexed = env.sqlite ? env.sqlite->index_search() : Status::success(); !indexed)
    std::cerr << "redress demo: the cases could not all be indexed for search yet: " << indexed.error().detail << "\n";

  // A summary of what was made, by status.
  std::map<std::string, int> by_status = count_by_status(*env.store);
  std::cout << "Seeded " << cases << " cases (" << applied << " actions, " << breaks
            << " scheduler rounds on cases as commitments fell due) into " << config.database_name() << ".\n";
  std::cout << "Cases by status:";
  for (const auto& [status, count] : by_status) std::cout << " " << status << "=" << count;
  std::cout << "\n";
  if (refused) {
    std::cout << refused << " scripted steps were refused by the lifecycle (as a real desk's would be):\n";
    for (const auto& [reason, count] : refusals) std::cout << "  " << count << "× " << reason << "\n";
  }
  // Passwords for one person of each role, so that the console can be opened at once.
  std::cout << "\nSign in to the console at /staff/login as (passwords set by this run):\n";
  for (const char* email : {"ruth.cohen@redress.example", "elena.novak@redress.example",
                            "grace.adeyemi@redress.example", "sam.okafor@redress.example"}) {
    auto person = env.store->find_staff(email);
    if (!person) continue;
    std::string password = security::new_token("").substr(0, 16);
    auto hash = security::hash_password(password);
    if (!hash) {
      std::cerr << "redress demo: " << hash.error().detail << "\n";
      return kExitFailure;
    }
    if (auto set = env.store->set_password_hash(person->id, *hash); !set) {
      std::cerr << "redress demo: cannot set a password for " << email << ": " << set.error().detail << "\n";
      return kExitFailure;
    }
    std::string role(to_string(person->role));
    std::cout << "  " << role << std::string(role.size() < 9 ? 9 - role.size() : 1, ' ') << email << "  "
              << password << "  (" << person->name << ")\n";
  }
  std::cout << "\nOther staff emails end in @redress.example; set a password with `redress staff password --email "
               "EMAIL` or issue an API token with `redress staff token --email EMAIL`.\n";
  return kExitOk;
}

}  // namespace redress
