// The letter templates each standard ships (web/letters.h): every shipped letter, its variable
// parts written, passes its standard's elements check; a letter that lacks them, or a standard
// without its letters, is refused at load; and over HTTP a letter name with its variable parts
// stands in for the letter's text, free text is still checked (naming the template to start
// from), and a structured outcome is never re-checked in prose.
#include <set>

#include "tests/web/support.h"
#include "web/letters.h"
#include "workflows/loader.h"

namespace redress::webtest {

namespace {

const WorkflowSet& shipped_workflows() {
  static const WorkflowSet set = [] {
    auto loaded = load_workflows(REDRESS_SOURCE_DIR "/workflows");
    if (!loaded) FAIL(loaded.error().detail);
    return std::move(loaded).value();
  }();
  return set;
}

web::LetterContext sample_context(const Case& record) {
  return web::LetterContext{&record, "Sam Okafor", "Acme", *parse_time("2027-01-20T10:00:00Z"),
                            *parse_time("2027-02-26T17:00:00Z"), nullptr};
}

Case sample_case() {
  Case c;
  c.reference = "CMP-2027-000042";
  c.client.name = "Ana Ruiz";
  c.subject = "Charged twice";
  c.received_at = *parse_time("2027-01-11T10:00:00Z");
  return c;
}

// A copy of the shipped letters to break.
fs::path copy_of_shipped(const TempDir& dir) {
  const fs::path copy = dir.path() / "letters";
  fs::copy(web::LetterTemplates::shipped_dir(), copy, fs::copy_options::recursive);
  return copy;
}

void replace_in(const fs::path& file, const std::string& from, const std::string& to) {
  std::string text = read_text(file);
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), to);
  write_text(file, text);
}

const std::string kCases = "/v1/cases/";

json::object case_body(const std::string& workflow, const std::string& category, const std::string& subject) {
  return json::object{{"client", json::object{{"name", "Ana Ruiz"}, {"email", "ana@example.org"}}},
                      {"category", category},
                      {"subject", subject},
                      {"description", "What happened."},
                      {"workflow", workflow}};
}

std::string investigating(Client& agent, const std::string& workflow, const std::string& category) {
  HttpResponse created = agent.post("/v1/cases", json::value(case_body(workflow, category, "Letters")));
  REQUIRE(created.status == 201);
  const std::string ref = string_at(created.json(), "reference");
  if (string_at(created.json(), "status") == "received")
    REQUIRE(agent.post(kCases + ref + "/actions", json::value(json::object{{"action", "acknowledge"}})).status == 200);
  REQUIRE(agent.post(kCases + ref + "/actions", json::value(json::object{{"action", "take"}})).status == 200);
  REQUIRE(agent.post(kCases + ref + "/actions", json::value(json::object{{"action", "start"}})).status == 200);
  return ref;
}

}  // namespace

TEST_CASE("letters: every shipped letter, its parts written, passes its standard's elements check",
          "[web][letters]") {
  auto letters = web::LetterTemplates::load(web::LetterTemplates::shipped_dir(), shipped_workflows());
  if (!letters) FAIL(letters.error().detail);
  const Case record = sample_case();
  int checked = 0;
  for (const auto& workflow : shipped_workflows().all()) {
    INFO(workflow.name);
    std::set<std::string> names;
    for (const auto& letter : letters->letters(workflow.name)) {
      INFO(letter.name);
      names.insert(letter.name);
      json::object parts;
      for (const auto& variable : letter.variables) parts[variable] = "We looked at your account on 12 January.";
      auto text = letters->render(workflow, letter.name, sample_context(record), parts);
      REQUIRE(text.ok());
      CHECK(text->find("Ana Ruiz") != std::string::npos);
      CHECK(text->find("[") == std::string::npos);  // nothing left unwritten
      switch (letter.purpose) {
        case web::LetterPurpose::kFinalResponse: CHECK(workflow.missing_elements(*text).empty()); break;
        case web::LetterPurpose::kSummaryResolution: CHECK(workflow.missing_summary_elements(*text).empty()); break;
        case web::LetterPurpose::kHoldingReply: CHECK(workflow.missing_holding_reply_elements(*text).empty()); break;
        case web::LetterPurpose::kExtension:
          CHECK(text->find("26 February 2027") != std::string::npos);  // the new deadline
          for (const auto& clock : workflow.clocks)
            if (clock.renegotiation == Renegotiation::kExceptional)
              CHECK(missing_in_text(clock.holding_reply_elements, *text).empty());
          break;
        default: break;
      }
      ++checked;
    }
    // What every standard ships: the acknowledgement and a final response per outcome.
    CHECK(names.count("acknowledgement"));
    for (auto outcome : all_names_Outcome()) CHECK(names.count("final_response_" + std::string(outcome)));
    CHECK(names.count("summary_resolution") == (workflow.summary_resolution ? 1u : 0u));
    CHECK(names.count("holding_reply") == (workflow.holding_reply ? 1u : 0u));
  }
  CHECK(checked >= 23);
  // The variable parts are the sender's to write: each is required, none unknown.
  const Workflow& retail = *shipped_workflows().find("retail");
  auto missing = letters->render(retail, "final_response_upheld", sample_context(record), json::object{});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().detail.find("variables.decision") != std::string::npos);
  auto unknown = letters->render(retail, "final_response_not_upheld", sample_context(record),
                                 json::object{{"decision", "x"}, {"client_name", "Bob"}});
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().detail.find("variables.client_name is not a variable part") != std::string::npos);
  CHECK_FALSE(letters->render(retail, "holding_reply", sample_context(record), json::object{}).ok());
}

TEST_CASE("letters: a letter without what its standard requires, or a standard without its letters, is refused",
          "[web][letters]") {
  TempDir dir;
  SECTION("a letter lacking an element") {
    const fs::path copy = copy_of_shipped(dir);
    replace_in(copy / "fca-disp" / "final_response_upheld.txt", "within six months", "soon");
    auto loaded = web::LetterTemplates::load(copy, shipped_workflows());
    REQUIRE_FALSE(loaded.ok());
    CHECK(loaded.error().detail.find("fca-disp/final_response_upheld.txt lacks") != std::string::npos);
    CHECK(loaded.error().detail.find("ombudsman_referral") != std::string::npos);
  }
  SECTION("an extension that does not state the deadline") {
    const fs::path copy = copy_of_shipped(dir);
    replace_in(copy / "fca-disp" / "extension.txt", "{{deadline}}", "a later date");
    auto loaded = web::LetterTemplates::load(copy, shipped_workflows());
    REQUIRE_FALSE(loaded.ok());
    CHECK(loaded.error().detail.find("deadline") != std::string::npos);
  }
  SECTION("a missing letter") {
    const fs::path copy = copy_of_shipped(dir);
    fs::remove(copy / "cfpb" / "final_response_not_upheld.txt");
    auto loaded = web::LetterTemplates::load(copy, shipped_workflows());
    REQUIRE_FALSE(loaded.ok());
    CHECK(loaded.error().detail.find("final_response_not_upheld.txt") != std::string::npos);
  }
  SECTION("a Mustache error names the file and line") {
    const fs::path copy = copy_of_shipped(dir);
    replace_in(copy / "retail" / "acknowledgement.txt", "{{owner_name}} is", "{{#owner_name}} is");
    auto loaded = web::LetterTemplates::load(copy, shipped_workflows());
    REQUIRE_FALSE(loaded.ok());
    CHECK(loaded.error().detail.find("retail/acknowledgement.txt") != std::string::npos);
  }
}

TEST_CASE("letters: the API takes a letter and its parts, checks free text naming the template, and never "
          "re-checks the outcome in prose",
          "[web][letters][standards]") {
  RedressServer server;
  Client agent(server.port(), server.token("agent"));

  // The case lists its standard's letters and the parts each needs.
  const std::string ref = investigating(agent, "retail", "billing");
  json::value view = agent.get(kCases + ref).json();
  bool listed = false;
  for (const auto& l : view.at("letters").as_array())
    if (l.at("name").as_string() == "final_response_partly_upheld") {
      listed = true;
      CHECK(l.at("outcome").as_string() == "partly_upheld");
      CHECK(strings_at(l, "variables") == std::vector<std::string>{"decision", "remedy"});
    }
  CHECK(listed);

  auto resolve = [&](const std::string& reference, json::object body) {
    body["action"] = "resolve";
    return agent.post(kCases + reference + "/actions", json::value(std::move(body)));
  };
  // The letter must fit the outcome; its parts are required; letter or text, not both.
  HttpResponse wrong = resolve(ref, {{"outcome", "not_upheld"}, {"letter", "final_response_upheld"},
                                     {"variables", json::object{{"decision", "x"}, {"remedy", "y"}}}});
  CHECK(wrong.status == 422);
  CHECK(string_at(wrong.json(), "detail").find("is for the outcome upheld") != std::string::npos);
  HttpResponse partless = resolve(ref, {{"outcome", "upheld"}, {"letter", "final_response_upheld"}});
  CHECK(partless.status == 422);
  const std::vector<std::string> partless_fields = partless.problem_fields();
  CHECK(std::find(partless_fields.begin(), partless_fields.end(), "variables.decision") != partless_fields.end());
  CHECK(resolve(ref, {{"outcome", "upheld"},
                      {"letter", "final_response_upheld"},
                      {"final_response", final_response_text()},
                      {"variables", json::object{{"decision", "x"}, {"remedy", "y"}}}})
            .status == 422);
  CHECK(resolve(ref, {{"outcome", "upheld"}, {"letter", "holding_reply"}}).status == 422);  // not retail's

  // Free text is still checked, and the refusal names the letter to start from.
  HttpResponse lacking = resolve(ref, {{"outcome", "not_upheld"}, {"final_response", "We are sorry, but no."}});
  CHECK(lacking.status == 422);
  CHECK(string_at(lacking.json(), "detail").find("letter template \"final_response_not_upheld\"") !=
        std::string::npos);

  // A correct letter passes without restating the structured outcome in set words.
  HttpResponse plain = resolve(
      ref, {{"outcome", "upheld"},
            {"final_response",
             "Dear Ana, you were right and we will refund you the second charge by Friday. If you are still unhappy, "
             "you can take this to an alternative dispute resolution service: the Retail ADR scheme, which we use."}});
  INFO(plain.describe());
  CHECK(plain.status == 200);

  // The letter itself resolves a second case, and the event records which letter it was.
  const std::string second = investigating(agent, "retail", "delivery");
  HttpResponse lettered =
      resolve(second, {{"outcome", "partly_upheld"},
                       {"letter", "final_response_partly_upheld"},
                       {"variables", json::object{{"decision", "The parcel was late; the damage was in transit."},
                                                  {"remedy", "We refund the delivery charge of 4.99."}}}});
  INFO(lettered.describe());
  REQUIRE(lettered.status == 200);
  const json::value events = agent.get(kCases + second + "/events").json();
  bool recorded = false;
  for (const auto& e : events.at("items").as_array())
    if (e.at("type").as_string() == "case.resolved") {
      recorded = e.at("data").at("letter").as_string() == "final_response_partly_upheld";
      const std::string text(e.at("data").at("final_response").as_string());
      CHECK(text.find("Dear Ana Ruiz") != std::string::npos);
      CHECK(text.find("We refund the delivery charge of 4.99.") != std::string::npos);
      CHECK(text.find("alternative dispute resolution") != std::string::npos);
    }
  CHECK(recorded);

  // A letter on the messages route goes to the client.
  const std::string third = investigating(agent, "retail", "service");
  HttpResponse ack = agent.post(kCases + third + "/messages", json::value(json::object{{"letter", "acknowledgement"}}));
  INFO(ack.describe());
  CHECK(ack.status == 201);
  CHECK(string_at(ack.json(), "visibility") == "client");
  CHECK(string_at(ack.json(), "body").find("Dear Ana Ruiz") != std::string::npos);
}

}  // namespace redress::webtest

namespace redress::webtest::letters_in_languages {

// The catalogues this build compiled from po/ (beside the binary).
const i18n::Catalogues& built_catalogues() {
  static const i18n::Catalogues catalogues = [] {
    auto loaded = i18n::Catalogues::load(fs::path(REDRESS_BINARY).parent_path() / "locale");
    if (!loaded) FAIL(loaded.error().detail);
    return std::move(loaded).value();
  }();
  return catalogues;
}

TEST_CASE("letters: drafted in Spanish and Welsh, every shipped letter carries what its standard requires",
          "[web][letters][languages]") {
  auto workflows = load_workflows(REDRESS_SOURCE_DIR "/workflows");
  REQUIRE(workflows.ok());
  auto letters = web::LetterTemplates::load(web::LetterTemplates::shipped_dir(), *workflows, built_catalogues());
  if (!letters) FAIL(letters.error().detail);
  Case record;
  record.reference = "CMP-2027-000042";
  record.client.name = "Ana Ruiz";
  record.subject = "Cobro doble";
  record.received_at = *parse_time("2027-01-11T10:00:00Z");
  const std::map<std::string, std::pair<std::string, std::string>> kOpening{
      {"es", {"Estimado/a Ana Ruiz:", "26 de febrero de 2027 (2027-02-26)"}},
      {"cy", {"Annwyl Ana Ruiz,", "26 Chwefror 2027 (2027-02-26)"}}};
  int checked = 0;
  for (const auto& [tag, expected] : kOpening) {
    const i18n::Language& language = built_catalogues().for_tag(tag);
    REQUIRE(language.tag() == tag);
    web::LetterContext context{&record,  "Sam Okafor", "Acme", *parse_time("2027-01-20T10:00:00Z"),
                               *parse_time("2027-02-26T17:00:00Z"), &language};
    for (const auto& workflow : workflows->all())
      for (const auto& letter : letters->letters(workflow.name)) {
        INFO(tag << " " << workflow.name << " " << letter.name);
        json::object parts;
        for (const auto& variable : letter.variables) parts[variable] = "[escrito]";
        auto text = letters->render(workflow, letter.name, context, parts);
        REQUIRE(text.ok());
        CHECK(text->rfind(expected.first, 0) == 0);
        CHECK(text->find("Dear ") == std::string::npos);
        switch (letter.purpose) {
          case web::LetterPurpose::kFinalResponse: CHECK(workflow.missing_elements(*text).empty()); break;
          case web::LetterPurpose::kSummaryResolution: CHECK(workflow.missing_summary_elements(*text).empty()); break;
          case web::LetterPurpose::kHoldingReply: CHECK(workflow.missing_holding_reply_elements(*text).empty()); break;
          case web::LetterPurpose::kExtension: CHECK(text->find(expected.second) != std::string::npos); break;
          default: break;
        }
        ++checked;
      }
  }
  CHECK(checked >= 46);
}

TEST_CASE("letters: a Welsh client's final response is drafted in Welsh, and resolves the case",
          "[web][letters][languages]") {
  RedressServer server;
  Client agent(server.port(), server.token("agent"));
  json::object body{{"client", json::object{{"name", "Ifan Jones"}, {"email", "ifan@example.org"}, {"locale", "cy"}}},
                    {"category", "billing"},
                    {"subject", "Bil dwbl"},
                    {"description", "Codwyd ddwywaith arnaf."},
                    {"workflow", "retail"}};
  HttpResponse created = agent.post("/v1/cases", json::value(body));
  REQUIRE(created.status == 201);
  const std::string ref = string_at(created.json(), "reference");
  for (const char* action : {"acknowledge", "take", "start"})
    REQUIRE(agent.post("/v1/cases/" + ref + "/actions", json::value(json::object{{"action", action}})).status == 200);
  HttpResponse resolved = agent.post(
      "/v1/cases/" + ref + "/actions",
      json::value(json::object{{"action", "resolve"},
                               {"outcome", "upheld"},
                               {"letter", "final_response_upheld"},
                               {"variables", json::object{{"decision", "Fe godwyd arnoch ddwywaith."},
                                                          {"remedy", "Byddwn yn ad-dalu'r ail daliad."}}}}));
  INFO(resolved.describe());
  REQUIRE(resolved.status == 200);
  const json::value events = agent.get("/v1/cases/" + ref + "/events").json();
  bool found = false;
  for (const auto& e : events.at("items").as_array())
    if (e.at("type").as_string() == "case.resolved") {
      const std::string text(e.at("data").at("final_response").as_string());
      found = text.rfind("Annwyl Ifan Jones,", 0) == 0;
      CHECK(text.find("datrys anghydfod amgen") != std::string::npos);
      CHECK(text.find("Byddwn yn ad-dalu'r ail daliad.") != std::string::npos);
    }
  CHECK(found);
}

}  // namespace redress::webtest::letters_in_languages
