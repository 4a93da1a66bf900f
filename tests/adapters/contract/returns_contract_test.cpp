// The storage contract for measuring (issue 26, docs/measuring.md), run against both stores
// (SQLite and PostgreSQL) through the real engine: the cases' return histories and the survey
// answers, read from the events as each store keeps them; the return ledger the writers keep,
// whose figures equal those recomputed from the histories for any period, which moves with a
// re-routed case, and which a rebuild from the histories gives again.
#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <array>
#include <map>
#include <type_traits>

#include "adapters/postgres/connection.h"
#include "adapters/postgres/postgres_store.h"
#include "adapters/postgres/schema.h"
#include "adapters/sqlite/database.h"
#include "adapters/sqlite/sqlite_store.h"
#include "adapters/sqlite/summaries.h"
#include "app/environment.h"
#include "engine/engine.h"
#include "engine/return_ledger.h"
#include "engine/scheduler.h"
#include "tests/adapters/contract/backends.h"
#include "tests/support/files.h"
#include "tests/support/postgres.h"
#include "web/returns.h"
#include "workflows/loader.h"

namespace redress::returns_contract {

namespace json = boost::json;

const Time kMonday = *parse_time("2027-01-04T10:00:00Z");  // Monday 4 January 2027

const std::string kFcaResponse =
    "We have upheld your complaint and will refund the fee. You may refer your complaint to the Financial Ombudsman "
    "Service within six months; we do not consent to it considering a complaint referred later. "
    "www.financial-ombudsman.org.uk; the leaflet is enclosed.";
const std::string kRetailResponse =
    "Dear Ana, we have decided to uphold your complaint. If you are not satisfied you may refer it to an "
    "alternative dispute resolution service, which we will use.";

using SqliteReturns = storagetest::SqliteBackend;
using PostgresReturns = storagetest::PostgresBackend;
using storagetest::shipped_workflows;

Staff hired_agent(Store& store) {
  Staff s;
  s.name = "Sam Okafor";
  s.email = "sam@redress.example";
  s.role = Role::kAgent;
  s.team = "customer-care";
  auto added = store.add_staff(s);
  REQUIRE(added.ok());
  return added.value();
}

// A store and an engine on a backend, with a manual clock and the shipped workflows.
template <typename Backend>
struct Desk {
  Backend backend;
  ManualClock clock{kMonday};
  WorkflowSet workflows = shipped_workflows();
  std::unique_ptr<Store> store = backend.open_node(clock);
  std::unique_ptr<Engine> engine = std::make_unique<Engine>(*store, clock, workflows);
  Staff agent = hired_agent(*store);

  void at(const std::string& when) { clock.set(*parse_time(when)); }

  std::string create(const std::string& workflow, const std::string& category, const std::string& touchpoint) {
    NewCase c;
    c.client = Client{"Ana Ruiz", "ana@example.org", "", "en-GB"};
    c.channel = Channel::kWeb;
    c.category = category;
    c.touchpoint = touchpoint;
    c.subject = "Charged twice";
    c.description = "I was charged twice.";
    c.workflow = workflow;
    auto created = engine->create_case(c, Actor::intake("web-form"));
    INFO((created.ok() ? std::string() : created.error().detail));
    REQUIRE(created.ok());
    return created->change.after.reference;
  }

  Result<Committed> try_act(const std::string& reference, json::object body, Actor actor) {
    auto request = decode_action(body);
    INFO((request.ok() ? std::string() : request.error().detail));
    REQUIRE(request.ok());
    request->reference = reference;
    request->actor = std::move(actor);
    return engine->apply(std::move(request).value());
  }
  Committed act(const std::string& reference, json::object body) {
    auto done = try_act(reference, std::move(body), Actor::staff(agent.id, agent.role));
    INFO((done.ok() ? std::string() : done.error().detail));
    REQUIRE(done.ok());
    return std::move(done).value();
  }
  Committed client_act(const std::string& reference, json::object body) {
    auto done = try_act(reference, std::move(body), Actor::client());
    INFO((done.ok() ? std::string() : done.error().detail));
    REQUIRE(done.ok());
    return std::move(done).value();
  }
  void investigate(const std::string& reference) {
    auto stored = store->load_case(reference);
    REQUIRE(stored.ok());
    if (stored->record.status == CaseStatus::kReceived) act(reference, {{"action", "acknowledge"}});
    act(reference, {{"action", "take"}});
    act(reference, {{"action", "start"}});
  }
};

#define RETURNS_CONTRACT(name, tags) TEMPLATE_TEST_CASE(name, tags, SqliteReturns, PostgresReturns)

const ReturnCaseHistory* history_of(const std::vector<ReturnCaseHistory>& histories, const std::string& reference) {
  for (const auto& h : histories)
    if (h.reference == reference) return &h;
  return nullptr;
}

RETURNS_CONTRACT("returns contract: each case's history of closures, reopenings, flags and payments, and the survey "
                 "answers",
                 "[contract][returns]") {
  Desk<TestType> desk;
  // A: FCA, resolved with a cause, reopened, resolved again with another.
  const std::string a = desk.create("fca-disp", "credit", "phone_contact");
  desk.investigate(a);
  desk.at("2027-01-05T10:00:00Z");
  desk.act(a, {{"action", "resolve"}, {"outcome", "upheld"}, {"final_response", kFcaResponse},
               {"root_cause", "terms_disputed_sums"}, {"product", "credit_cards"}});
  desk.at("2027-01-06T10:00:00Z");
  desk.act(a, {{"action", "reopen"}, {"reason", "New evidence"}});
  desk.act(a, {{"action", "flag_vulnerable"}, {"driver", "health"}, {"note", "In hospital"}, {"review_on", "2027-06-30"}});
  desk.at("2027-01-07T10:00:00Z");
  desk.act(a, {{"action", "resolve"}, {"outcome", "not_upheld"}, {"final_response", kFcaResponse},
               {"root_cause", "general_admin"}, {"product", "savings"}});
  desk.act(a, {{"action", "clear_vulnerable"}, {"note", "Recovered"}});
  // B: retail, redress accepted and paid more than offered; the client answers the survey.
  const std::string b = desk.create("retail", "billing", "billing");
  desk.investigate(b);
  Committed proposed = desk.act(
      b, {{"action", "propose_redress"}, {"outcome", "partly_upheld"}, {"final_response", kRetailResponse},
          {"product", "goods"}, {"root_cause", "billing_error"},
          {"offers", json::array{json::object{{"kind", "refund"}, {"amount", "30.00"}, {"currency", "GBP"}}}}});
  const std::int64_t offer = proposed.change.redress.at(0).id;
  desk.client_act(b, {{"action", "accept_redress"}});
  desk.at("2027-01-08T10:00:00Z");
  desk.act(b, {{"action", "fulfil_redress"}, {"redress_id", "r-" + std::to_string(offer)}, {"amount", "35.50"},
               {"currency", "GBP"}});
  desk.client_act(b, {{"action", "submit_survey"}, {"overall", 4},
                      {"rater", json::object{{"reliability", 5}, {"assurance", 4}, {"tangibles", 3}, {"empathy", 2},
                                             {"responsiveness", 4}}},
                      {"comment", "Kept every promise."}});
  // C: withdrawn; D: received later, still open.
  const std::string c = desk.create("retail", "delivery", "delivery");
  desk.act(c, {{"action", "withdraw"}, {"reason", "Sorted it out myself"}});
  desk.at("2027-02-01T10:00:00Z");
  const std::string d = desk.create("fca-disp", "banking", "front_desk");

  auto all = desk.store->return_histories("", *parse_time("2027-03-01T00:00:00Z"));
  INFO((all.ok() ? std::string() : all.error().detail));
  REQUIRE(all.ok());
  CHECK(all->size() == 4);
  const ReturnCaseHistory* ha = history_of(*all, a);
  REQUIRE(ha);
  CHECK(ha->workflow == "fca-disp");
  CHECK(ha->received_at == kMonday);
  using Kind = ReturnEvent::Kind;
  REQUIRE(ha->events.size() == 5);
  CHECK(ha->events[0].kind == Kind::kResolved);
  CHECK(ha->events[0].outcome == Outcome::kUpheld);
  CHECK(ha->events[0].root_cause == "terms_disputed_sums");
  CHECK(ha->events[0].product == "credit_cards");
  CHECK(ha->events[1].kind == Kind::kReopened);
  CHECK(ha->events[2].kind == Kind::kFlagged);
  CHECK(ha->events[3].kind == Kind::kResolved);
  CHECK(ha->events[3].root_cause == "general_admin");
  CHECK(ha->events[4].kind == Kind::kCleared);
  const ReturnCaseHistory* hb = history_of(*all, b);
  REQUIRE(hb);
  REQUIRE(hb->events.size() == 2);
  CHECK(hb->events[0].kind == Kind::kResolved);  // by the client's acceptance, with the proposal's values
  CHECK(hb->events[0].outcome == Outcome::kPartlyUpheld);
  CHECK(hb->events[0].product == "goods");
  CHECK(hb->events[1].kind == Kind::kPaid);
  CHECK(hb->events[1].paid_minor == 3550);
  CHECK(hb->events[1].currency == "GBP");
  CHECK(hb->events[1].redress_kind == "refund");
  const ReturnCaseHistory* hc = history_of(*all, c);
  REQUIRE(hc);
  REQUIRE(hc->events.size() == 1);
  CHECK(hc->events[0].kind == Kind::kWithdrawn);
  const ReturnCaseHistory* hd = history_of(*all, d);
  REQUIRE(hd);
  CHECK(hd->events.empty());

  // Before an instant: only the cases received and the events that happened before it.
  auto early = desk.store->return_histories("fca-disp", *parse_time("2027-01-06T12:00:00Z"));
  REQUIRE(early.ok());
  REQUIRE(early->size() == 1);
  CHECK(early->front().reference == a);
  CHECK(early->front().events.size() == 3);  // resolved, reopened and flagged; not the second resolution

  auto answers = desk.store->survey_answers(kMonday);
  REQUIRE(answers.ok());
  REQUIRE(answers->size() == 1);
  const SurveyAnswer& answer = answers->front();
  CHECK(answer.reference == b);
  CHECK(answer.workflow == "retail");
  CHECK(answer.touchpoint == "billing");
  CHECK(answer.owner_id == desk.agent.id);
  CHECK(answer.owner_team == "customer-care");
  CHECK(answer.overall == 4);
  REQUIRE(answer.rater);
  CHECK(answer.rater->empathy == 2);
  CHECK(answer.rater->reliability == 5);
  auto later = desk.store->survey_answers(*parse_time("2027-01-09T00:00:00Z"));
  REQUIRE(later.ok());
  CHECK(later->empty());
}

// Every row of the ledger, summed per workflow, day, measure and key, in that order.
std::vector<ReturnEntry> ledger_rows(Store& store) {
  auto rows = store.return_days("", day_number(std::chrono::year{2026} / 1 / 1),
                                day_number(std::chrono::year{2028} / 12 / 31));
  INFO((rows.ok() ? std::string() : rows.error().detail));
  REQUIRE(rows.ok());
  std::vector<ReturnEntry> entries;
  for (const auto& d : rows->days) entries.push_back(ReturnEntry{d.workflow, d.day, d.measure, d.key, d.value});
  for (const auto& d : rows->before) entries.push_back(ReturnEntry{d.workflow, d.day, d.measure, d.key, d.value});
  return summed(std::move(entries));
}

// The ledger's figures for [first, last] against the histories' (the reference), for every workflow.
template <typename Backend>
void check_period(Desk<Backend>& desk, std::chrono::year_month_day first, std::chrono::year_month_day last) {
  const std::string period = format_date(first) + ".." + format_date(last);
  auto ledger = web::read_ledger(*desk.store, "", first, last);
  INFO(period << ": " << (ledger.ok() ? std::string() : ledger.error().detail));
  REQUIRE(ledger.ok());
  for (const auto& w : desk.workflows.all()) {
    auto histories = desk.store->return_histories("", web::return_period_end(w, last));
    REQUIRE(histories.ok());
    auto reference = web::return_figures(w, *histories, first, last);
    REQUIRE(reference.ok());
    web::ReturnFigures figures = web::ledger_figures(w, *ledger, first, last);
    figures.responses_timely = figures.responses_late = 0;  // the histories do not count them
    INFO(w.name << " " << period << "\nledger:  " << json::serialize(web::return_figures_json(w, figures))
                << "\nhistory: " << json::serialize(web::return_figures_json(w, *reference)));
    CHECK(figures == *reference);
  }
}

RETURNS_CONTRACT("returns contract: the ledger's figures equal the histories' for any period, follow a re-routed "
                 "case, and are rebuilt the same from the histories",
                 "[contract][returns]") {
  Desk<TestType> desk;
  using std::chrono::January;
  using std::chrono::February;
  using std::chrono::March;
  using std::chrono::April;
  using std::chrono::year;
  const auto resolve_fca = [&](const std::string& ref, const char* outcome, const char* cause, const char* product) {
    desk.act(ref, {{"action", "resolve"}, {"outcome", outcome}, {"final_response", kFcaResponse},
                   {"root_cause", cause}, {"product", product}});
  };
  const auto resolve_retail = [&](const std::string& ref, const char* outcome) {
    desk.act(ref, {{"action", "resolve"}, {"outcome", outcome}, {"final_response", kRetailResponse}});
  };
  // January: FCA cases closed in each bucket (across the New Year holiday is before; 3 business
  // days, 8 weeks), retail ones resolved, withdrawn, paid.
  const std::string a = desk.create("fca-disp", "credit", "phone_contact");
  desk.investigate(a);
  desk.at("2027-01-06T16:00:00Z");
  resolve_fca(a, "upheld", "terms_disputed_sums", "credit_cards");
  const std::string b = desk.create("fca-disp", "banking", "front_desk");
  desk.investigate(b);
  desk.act(b, {{"action", "flag_vulnerable"}, {"driver", "health"}, {"note", "In hospital"}, {"review_on", "2027-06-30"}});
  const std::string r1 = desk.create("retail", "billing", "billing");
  desk.investigate(r1);
  desk.at("2027-01-11T10:00:00Z");
  resolve_retail(r1, "upheld");
  const std::string r2 = desk.create("retail", "delivery", "delivery");
  desk.act(r2, {{"action", "withdraw"}, {"reason", "Parcel arrived"}});
  const std::string r3 = desk.create("retail", "billing", "online");
  desk.investigate(r3);
  Committed proposed = desk.act(
      r3, {{"action", "propose_redress"}, {"outcome", "partly_upheld"}, {"final_response", kRetailResponse},
           {"product", "goods"}, {"root_cause", "billing_error"},
           {"offers", json::array{json::object{{"kind", "refund"}, {"amount", "12.00"}, {"currency", "GBP"}}}}});
  desk.client_act(r3, {{"action", "accept_redress"}});
  desk.at("2027-01-20T15:00:00Z");
  desk.act(r3, {{"action", "fulfil_redress"}, {"redress_id", "r-" + std::to_string(proposed.change.redress.at(0).id)}});
  resolve_fca(b, "not_upheld", "general_admin", "current_accounts");
  // A retail case (received on the 11th) flagged while open, then re-routed to the FCA's standard
  // with its history.
  desk.at("2027-01-11T10:00:00Z");
  const std::string moved = desk.create("retail", "other", "phone_contact");
  desk.investigate(moved);
  desk.act(moved, {{"action", "flag_vulnerable"}, {"driver", "capability"}, {"note", "Needs large print"},
                   {"review_on", "2027-08-01"}});
  // An open retail case whose final response falls due unmet (a late response).
  const std::string late = desk.create("retail", "service", "front_desk");
  desk.investigate(late);
  desk.at("2027-01-20T16:00:00Z");
  desk.act(moved, {{"action", "assess"}, {"workflow", "fca-disp"}, {"note", "A credit agreement: regulated"}});
  // February: the late pledge broken, reopenings, a flag cleared, a second resolution.
  desk.at("2027-02-03T10:00:00Z");
  Scheduler scheduler(*desk.engine, Scheduler::Options{"test"});
  (void)scheduler.run_due();
  desk.act(a, {{"action", "reopen"}, {"reason", "New evidence"}});
  desk.act(b, {{"action", "clear_vulnerable"}, {"note", "Recovered"}});
  desk.at("2027-02-10T11:00:00Z");
  resolve_fca(a, "partly_upheld", "other", "savings");
  resolve_fca(moved, "upheld", "advising_selling_arranging", "credit_cards");
  desk.at("2027-02-12T11:00:00Z");
  desk.act(moved, {{"action", "reopen"}, {"reason", "The client wrote again"}});
  // March: a payment services case flagged, still open at the end; the moved case withdrawn; a
  // case received at 23:30 UTC on the 31st, which is 00:30 on 1 April in London (summer time).
  desk.at("2027-03-02T09:00:00Z");
  const std::string c = desk.create("fca-disp", "payment_services", "online");
  desk.act(c, {{"action", "flag_vulnerable"}, {"driver", "life_events"}, {"note", "Bereaved"}, {"review_on", "2027-09-01"}});
  desk.act(moved, {{"action", "withdraw"}, {"reason", "No longer wishes to complain"}});
  desk.at("2027-03-31T23:30:00Z");
  (void)desk.create("fca-disp", "mortgages", "phone_contact");

  for (auto [first, last] : std::vector<std::pair<std::chrono::year_month_day, std::chrono::year_month_day>>{
           {year{2027} / January / 1, year{2027} / January / 31},
           {year{2027} / February / 1, year{2027} / February / 28},
           {year{2027} / March / 1, year{2027} / March / 31},
           {year{2027} / January / 1, year{2027} / March / 31},
           {year{2027} / March / 1, year{2027} / April / 30},
           {year{2027} / January / 6, year{2027} / February / 10},
           {year{2027} / January / 11, year{2027} / January / 11},
           {year{2026} / std::chrono::December / 1, year{2026} / std::chrono::December / 31}})
    check_period(desk, first, last);

  // The re-routed case counts under its new workflow from its receipt: January's retail return
  // no longer has it, the FCA's does.
  auto january = web::read_ledger(*desk.store, "", year{2027} / January / 1, year{2027} / January / 31);
  REQUIRE(january.ok());
  const web::ReturnFigures fca = web::ledger_figures(*desk.workflows.find("fca-disp"), *january, year{2027} / January / 1,
                                                     year{2027} / January / 31);
  CHECK(fca.opened == 3);
  CHECK(fca.vulnerable_opened == 2);           // b (cleared in February: flagged at the end of January) and moved
  CHECK(fca.vulnerable_outstanding_end == 1);  // the moved case
  const web::ReturnFigures retail = web::ledger_figures(*desk.workflows.find("retail"), *january,
                                                        year{2027} / January / 1, year{2027} / January / 31);
  CHECK(retail.opened == 4);
  CHECK(retail.redress_paid.at({"GBP", "refund"}) == 1200);
  // Timely responses: r1 and r3 met retail's final response pledge in January; the late case's
  // broke at its due time (14 days after receipt, so in January).
  CHECK(retail.responses_timely == 2);
  CHECK(retail.responses_late == 1);
  CHECK(fca.responses_timely == 2);  // a and b, within eight weeks
  // March ends at midnight in London: the case received at 00:30 local time on 1 April is April's.
  auto march = web::read_ledger(*desk.store, "fca-disp", year{2027} / March / 1, year{2027} / April / 30);
  REQUIRE(march.ok());
  CHECK(web::ledger_figures(*desk.workflows.find("fca-disp"), *march, year{2027} / March / 1, year{2027} / March / 31)
            .opened == 1);
  CHECK(web::ledger_figures(*desk.workflows.find("fca-disp"), *march, year{2027} / April / 1, year{2027} / April / 30)
            .opened == 1);

  // A rebuild from the histories gives the ledger the writers kept.
  const std::vector<ReturnEntry> kept = ledger_rows(*desk.store);
  REQUIRE_FALSE(kept.empty());
  auto built = desk.store->return_ledger_built();
  REQUIRE(built.ok());
  CHECK(*built);
  Status rebuilt = desk.store->rebuild_return_ledger(
      [&](const Case& record, const std::vector<Event>& events, const std::vector<Commitment>& commitments) {
        return case_return_entries(desk.workflows, record, events, commitments);
      });
  INFO((rebuilt.ok() ? std::string() : rebuilt.error().detail));
  REQUIRE(rebuilt.ok());
  CHECK(ledger_rows(*desk.store) == kept);
}

RETURNS_CONTRACT("returns contract: a touchpoint's cases, root causes, broken commitments and survey, and the ranking",
                 "[contract][touchpoints]") {
  Desk<TestType> desk;
  desk.at("2027-03-01T10:00:00Z");
  // Three complaints on the phone, one at delivery.
  const std::string a = desk.create("retail", "billing", "phone_contact");
  desk.at("2027-03-01T10:01:00Z");
  const std::string b = desk.create("retail", "billing", "phone_contact");
  desk.at("2027-03-01T10:02:00Z");
  const std::string c = desk.create("fca-disp", "credit", "phone_contact");
  const std::string d = desk.create("retail", "delivery", "delivery");
  for (const auto& ref : {a, b, c}) desk.investigate(ref);
  // a: resolved with a cause and rated; b: a promise that breaks; c: resolved, upheld, with a cause.
  desk.act(a, {{"action", "resolve"}, {"outcome", "not_upheld"}, {"final_response", kRetailResponse},
               {"root_cause", "communication"}});
  desk.client_act(a, {{"action", "submit_survey"}, {"overall", 3},
                      {"rater", json::object{{"reliability", 4}, {"assurance", 3}, {"tangibles", 5}, {"empathy", 1},
                                             {"responsiveness", 2}}}});
  desk.act(b, {{"action", "make_commitment"}, {"text", "Call back within the hour"}, {"due_in", "PT1H"}});
  desk.act(c, {{"action", "resolve"}, {"outcome", "upheld"}, {"final_response", kFcaResponse},
               {"root_cause", "general_admin"}, {"product", "credit_cards"}});
  desk.at("2027-03-01T12:00:00Z");
  Scheduler scheduler(*desk.engine, Scheduler::Options{"test"});
  (void)scheduler.run_due();

  const Time since = *parse_time("2027-02-01T00:00:00Z");
  auto report = desk.store->touchpoint_report("phone_contact", since, 2);
  INFO((report.ok() ? std::string() : report.error().detail));
  REQUIRE(report.ok());
  CHECK(report->received == 3);
  REQUIRE(report->cases.size() == 2);  // the newest two
  CHECK(report->cases[0].reference == c);
  CHECK(report->cases[1].reference == b);
  CHECK(report->cases[1].broken == 1);
  REQUIRE(report->causes.size() == 2);
  std::map<std::string, TouchpointCause> causes;
  for (const auto& cause : report->causes) causes[cause.workflow + "/" + cause.root_cause] = cause;
  CHECK(causes["retail/communication"].resolved == 1);
  CHECK(causes["retail/communication"].upheld == 0);
  CHECK(causes["fca-disp/general_admin"].upheld == 1);
  CHECK(causes["fca-disp/general_admin"].references == std::vector<std::string>{c});
  // The broken promise, on the day it fell due.
  REQUIRE(report->broken_by_day.size() == 1);
  CHECK(report->broken_by_day[0].first == to_micros(*parse_time("2027-03-01T00:00:00Z")) / (86400LL * 1000000LL));
  CHECK(report->broken_by_day[0].second == 1);
  REQUIRE(report->broken.size() == 1);
  CHECK(report->broken[0].reference == b);
  CHECK(report->broken[0].commitment.text == "Call back within the hour");
  // The survey added up.
  CHECK(report->survey.responses == 1);
  CHECK(report->survey.overall == 3);
  CHECK(report->survey.rated == 1);
  CHECK(report->survey.scores == std::array<std::int64_t, 5>{4, 3, 5, 1, 2});
  REQUIRE(report->answered.size() == 1);
  CHECK(report->answered[0].reference == a);
  CHECK(report->answered[0].overall == 3);
  // A later window sees none of it; another touchpoint only its own.
  auto later = desk.store->touchpoint_report("phone_contact", *parse_time("2027-03-02T00:00:00Z"), 10);
  REQUIRE(later.ok());
  CHECK(later->received == 0);
  CHECK(later->broken.empty());
  CHECK(later->survey.responses == 0);
  auto delivery = desk.store->touchpoint_report("delivery", since, 10);
  REQUIRE(delivery.ok());
  CHECK(delivery->received == 1);
  CHECK(delivery->cases.at(0).reference == d);
  CHECK(delivery->causes.empty());

  auto counts = desk.store->touchpoint_counts({"phone_contact", "delivery", "online"}, since);
  REQUIRE(counts.ok());
  REQUIRE(counts->size() == 3);
  CHECK(counts->at(0).touchpoint == "phone_contact");
  CHECK(counts->at(0).received == 3);
  CHECK(counts->at(0).broken == 1);
  CHECK(counts->at(1).received == 1);
  CHECK(counts->at(1).broken == 0);
  CHECK(counts->at(2).received == 0);
}

// The survey's sums as a store keeps them (the board, the owners' report and the standards page
// read them), each compared with what the answers read from the events add up to.
template <typename Backend>
SurveySums sums_of(Desk<Backend>& desk, SurveyGroup group, const std::string& value, Time since) {
  auto groups = desk.store->survey_by_group(since);
  INFO((groups.ok() ? std::string() : groups.error().detail));
  REQUIRE(groups.ok());
  SurveySums found;
  int rows = 0;
  for (const auto& g : *groups)
    if (g.group == group && g.value == value) found = g.sums, ++rows;
  CHECK(rows <= 1);
  return found;
}

RETURNS_CONTRACT("survey contract: the answers added up per workflow, touchpoint, owner, team and day, and "
                 "an answer stays with the owner and team of when it was given",
                 "[contract][survey]") {
  Desk<TestType> desk;
  Staff other;
  other.name = "Lee Park";
  other.email = "lee@redress.example";
  other.role = Role::kAgent;
  other.team = "escalations";
  auto hired = desk.store->add_staff(other);
  REQUIRE(hired.ok());
  other = hired.value();

  // x: Sam's, rated on RATER on the 4th; then reopened and handed to Lee of another team.
  const std::string x = desk.create("retail", "billing", "billing");
  desk.investigate(x);
  desk.act(x, {{"action", "resolve"}, {"outcome", "upheld"}, {"final_response", kRetailResponse},
               {"root_cause", "billing_error"}});
  desk.client_act(x, {{"action", "submit_survey"}, {"overall", 4},
                      {"rater", json::object{{"reliability", 5}, {"assurance", 4}, {"tangibles", 3}, {"empathy", 2},
                                             {"responsiveness", 1}}}});
  // y: Sam's too, rated the old way (one rating) on the 5th.
  const std::string y = desk.create("retail", "delivery", "delivery");
  desk.investigate(y);
  desk.act(y, {{"action", "resolve"}, {"outcome", "not_upheld"}, {"final_response", kRetailResponse}});
  desk.at("2027-01-05T09:00:00Z");
  desk.client_act(y, {{"action", "submit_survey"}, {"rating", 2}});
  desk.act(x, {{"action", "reopen"}, {"reason", "The refund never came"}});
  desk.act(x, {{"action", "transfer"}, {"owner", other.id}, {"note", "Refunds are Lee's team's"}});
  auto moved = desk.store->load_case(x);
  REQUIRE(moved.ok());
  REQUIRE(moved->record.owner_id == other.id);
  REQUIRE(moved->record.team == "escalations");

  // Both answers are Sam's and customer-care's, whoever holds the case now.
  auto answers = desk.store->survey_answers(kMonday);
  REQUIRE(answers.ok());
  REQUIRE(answers->size() == 2);
  for (const auto& a : *answers) {
    CHECK(a.owner_id == desk.agent.id);
    CHECK(a.owner_team == "customer-care");
  }
  const SurveySums sam = sums_of(desk, SurveyGroup::kOwner, desk.agent.id, kMonday);
  CHECK(sam.responses == 2);
  CHECK(sam.overall == 6);
  CHECK(sam.rated == 1);
  CHECK(sam.scores == std::array<std::int64_t, 5>{5, 4, 3, 2, 1});
  CHECK(sums_of(desk, SurveyGroup::kOwner, other.id, kMonday).responses == 0);
  CHECK(sums_of(desk, SurveyGroup::kTeam, "customer-care", kMonday).responses == 2);
  CHECK(sums_of(desk, SurveyGroup::kTeam, "escalations", kMonday).responses == 0);
  CHECK(sums_of(desk, SurveyGroup::kWorkflow, "retail", kMonday).overall == 6);
  const SurveySums billing = sums_of(desk, SurveyGroup::kTouchpoint, "billing", kMonday);
  CHECK(billing.responses == 1);
  CHECK(billing.rated == 1);
  CHECK(billing.scores[4] == 1);
  const SurveySums delivery = sums_of(desk, SurveyGroup::kTouchpoint, "delivery", kMonday);
  CHECK(delivery.responses == 1);
  CHECK(delivery.overall == 2);
  CHECK(delivery.rated == 0);
  // From the day of an instant on: the 5th's answer only.
  CHECK(sums_of(desk, SurveyGroup::kOwner, desk.agent.id, *parse_time("2027-01-05T23:00:00Z")).overall == 2);
  CHECK(sums_of(desk, SurveyGroup::kOwner, desk.agent.id, *parse_time("2027-01-06T00:00:00Z")).responses == 0);

  auto days = desk.store->survey_by_day(*parse_time("2027-01-01T00:00:00Z"));
  REQUIRE(days.ok());
  REQUIRE(days->size() == 2);
  CHECK(days->at(0).day == day_number(std::chrono::year{2027} / 1 / 4));
  CHECK(days->at(0).sums.overall == 4);
  CHECK(days->at(0).sums.scores[0] == 5);
  CHECK(days->at(1).day == day_number(std::chrono::year{2027} / 1 / 5));
  CHECK(days->at(1).sums.responses == 1);
  CHECK(days->at(1).sums.overall == 2);

  // SQLite keeps these in a summary: it equals its definition's aggregate over the events.
  if constexpr (std::is_same_v<TestType, SqliteReturns>) {
    sqlite::Connection db(desk.backend.config.database_path(), sqlite::OpenMode::kReadOnly);
    auto differing = sqlite::check_summaries(db);
    REQUIRE(differing.ok());
    CHECK(*differing == "");
  }
}

}  // namespace redress::returns_contract
