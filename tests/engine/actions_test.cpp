// Decoding requests: every missing, mistyped or unknown field is named; money in minor units.
#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "engine/actions.h"

using namespace redress;
namespace json = boost::json;

namespace {

json::object obj(const char* text) { return json::parse(text).as_object(); }

std::vector<std::string> fields_of(const Error& error) {
  std::vector<std::string> fields;
  for (const auto& f : error.fields) fields.push_back(f.field);
  std::sort(fields.begin(), fields.end());
  return fields;
}

std::string message_of(const Error& error, const std::string& field) {
  for (const auto& f : error.fields)
    if (f.field == field) return f.message;
  return {};
}

const char* kGoodCase = R"({
  "client": {"name": "Ana Ruiz", "email": "ana@example.org", "phone": "+44 20 7946 0000", "locale": "en-GB"},
  "channel": "phone", "category": "billing", "touchpoint": "phone_contact",
  "subject": "Charged twice", "description": "I was charged twice for one order.",
  "remedy_requested": "Refund the second charge", "severity": "high", "workflow": "retail"})";

}  // namespace

TEST_CASE("decode_new_case reads a complete case", "[actions]") {
  auto decoded = decode_new_case(obj(kGoodCase));
  REQUIRE(decoded.ok());
  const NewCase& c = decoded.value();
  CHECK(c.client.name == "Ana Ruiz");
  CHECK(c.client.email == "ana@example.org");
  CHECK(c.client.phone == "+44 20 7946 0000");
  CHECK(c.client.locale == "en-GB");
  CHECK(c.channel == Channel::kPhone);
  CHECK(c.category == "billing");
  CHECK(c.touchpoint == "phone_contact");
  CHECK(c.severity == Severity::kHigh);
  CHECK(c.workflow == "retail");
  // Optional fields have their defaults.
  auto minimal = decode_new_case(obj(
      R"({"client": {"name": "A", "email": "a@example.org"}, "category": "billing", "subject": "s", "description": "d"})"));
  REQUIRE(minimal.ok());
  CHECK(minimal->channel == Channel::kWeb);
  CHECK(minimal->severity == Severity::kMedium);
  CHECK(minimal->workflow.empty());
}

TEST_CASE("decode_new_case names every missing field at once", "[actions]") {
  auto decoded = decode_new_case(obj("{}"));
  REQUIRE_FALSE(decoded.ok());
  CHECK(decoded.error().code == ErrorCode::kInvalid);
  CHECK(fields_of(decoded.error()) == std::vector<std::string>{"category", "client", "description", "subject"});
  CHECK(message_of(decoded.error(), "client") == "is required");

  auto no_client_fields =
      decode_new_case(obj(R"({"client": {}, "category": "billing", "subject": "s", "description": "d"})"));
  REQUIRE_FALSE(no_client_fields.ok());
  CHECK(fields_of(no_client_fields.error()) == std::vector<std::string>{"client.email", "client.name"});
  // Blank text is missing text.
  auto blank = decode_new_case(obj(
      R"({"client": {"name": "  ", "email": "a@example.org"}, "category": "billing", "subject": "s", "description": "d"})"));
  REQUIRE_FALSE(blank.ok());
  CHECK(fields_of(blank.error()) == std::vector<std::string>{"client.name"});
}

TEST_CASE("decode_new_case names mistyped and invalid fields", "[actions]") {
  auto decoded = decode_new_case(obj(R"({
    "client": {"name": 5, "email": "not-an-email"}, "channel": "fax", "category": ["billing"],
    "subject": "s", "description": true, "severity": "urgent"})"));
  REQUIRE_FALSE(decoded.ok());
  const Error& e = decoded.error();
  CHECK(fields_of(e) ==
        std::vector<std::string>{"category", "channel", "client.email", "client.name", "description", "severity"});
  CHECK(message_of(e, "client.name") == "must be a string");
  CHECK(message_of(e, "category") == "must be a string");
  CHECK_THAT(message_of(e, "channel"), Catch::Contains("web") && Catch::Contains("in_person"));
  CHECK_THAT(message_of(e, "severity"), Catch::Contains("critical"));
  // The detail names the fields too.
  CHECK_THAT(e.detail, Catch::Contains("client.name"));

  auto client_not_object =
      decode_new_case(obj(R"({"client": "Ana", "category": "b", "subject": "s", "description": "d"})"));
  REQUIRE_FALSE(client_not_object.ok());
  CHECK(fields_of(client_not_object.error()) == std::vector<std::string>{"client"});
  CHECK(message_of(client_not_object.error(), "client") == "must be an object");

  auto too_long =
      decode_new_case(obj((R"({"client": {"name": "A", "email": "a@example.org"}, "category": "b", "subject": ")" +
                           std::string(kMaxShortText + 1, 'x') + R"(", "description": "d"})")
                              .c_str()));
  REQUIRE_FALSE(too_long.ok());
  CHECK(fields_of(too_long.error()) == std::vector<std::string>{"subject"});
}

TEST_CASE("decode_new_case names unknown fields, nested ones with their path", "[actions]") {
  auto decoded = decode_new_case(obj(R"({
    "client": {"name": "A", "email": "a@example.org", "age": 40}, "category": "billing",
    "subject": "s", "description": "d", "priority": "high"})"));
  REQUIRE_FALSE(decoded.ok());
  CHECK(fields_of(decoded.error()) == std::vector<std::string>{"client.age", "priority"});
  CHECK(message_of(decoded.error(), "priority") == "is not a known field");
}

TEST_CASE("decode_action reads each action's fields", "[actions]") {
  auto assign =
      decode_action(obj(R"({"action": "assign", "owner": "u-17", "note": "over to you", "expected_version": 7})"));
  REQUIRE(assign.ok());
  CHECK(assign->type == ActionType::kAssign);
  CHECK(assign->owner == "u-17");
  CHECK(assign->note == "over to you");
  REQUIRE(assign->expected_version.has_value());
  CHECK(*assign->expected_version == 7);

  auto resolve =
      decode_action(obj(R"({"action": "resolve", "outcome": "partly_upheld", "final_response": "We have decided."})"));
  REQUIRE(resolve.ok());
  CHECK(resolve->outcome == Outcome::kPartlyUpheld);
  CHECK_FALSE(resolve->expected_version.has_value());

  auto propose = decode_action(obj(R"({"action": "propose_redress", "outcome": "upheld", "final_response": "x",
    "offers": [{"kind": "refund", "amount": "12.50", "currency": "GBP", "text": "the second charge"}, {"kind": "apology"}]})"));
  REQUIRE(propose.ok());
  REQUIRE(propose->offers.size() == 2);
  CHECK(propose->offers[0].kind == RedressKind::kRefund);
  CHECK(propose->offers[0].amount_minor == 1250);
  CHECK(propose->offers[0].currency == "GBP");
  CHECK(propose->offers[1].kind == RedressKind::kApology);
  CHECK_FALSE(propose->offers[1].amount_minor.has_value());

  auto commitment = decode_action(
      obj(R"({"action": "make_commitment", "text": "Call back", "due_in": "PT4H", "client_visible": false})"));
  REQUIRE(commitment.ok());
  REQUIRE(commitment->due.in.has_value());
  CHECK(commitment->due.in->total() == std::chrono::hours(4));
  CHECK_FALSE(commitment->client_visible);

  auto keep = decode_action(obj(R"({"action": "keep_commitment", "commitment_id": "k-88"})"));
  REQUIRE(keep.ok());
  CHECK(keep->commitment_id == 88);
  auto keep_numeric = decode_action(obj(R"({"action": "keep_commitment", "commitment_id": 88})"));
  REQUIRE(keep_numeric.ok());
  CHECK(keep_numeric->commitment_id == 88);

  auto offer = decode_action(obj(R"({"action": "offer_redress", "kind": "credit", "amount": 5, "currency": "EUR"})"));
  REQUIRE(offer.ok());
  REQUIRE(offer->offers.size() == 1);
  CHECK(offer->offers[0].amount_minor == 500);

  auto take = decode_action(obj(R"({"action": "take"})"));
  REQUIRE(take.ok());
  CHECK(take->type == ActionType::kTake);
}

TEST_CASE("decode_action: a missing or unknown action is named, with the known ones", "[actions]") {
  auto missing = decode_action(obj(R"({"owner": "u-17"})"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == ErrorCode::kInvalid);
  CHECK(fields_of(missing.error()) == std::vector<std::string>{"action"});

  auto mistyped = decode_action(obj(R"({"action": 3})"));
  REQUIRE_FALSE(mistyped.ok());
  CHECK(fields_of(mistyped.error()) == std::vector<std::string>{"action"});

  auto unknown = decode_action(obj(R"({"action": "teleport"})"));
  REQUIRE_FALSE(unknown.ok());
  CHECK(fields_of(unknown.error()) == std::vector<std::string>{"action"});
  const std::string message = message_of(unknown.error(), "action");
  CHECK_THAT(message, Catch::Contains("teleport"));
  for (int i = 0; i < kActionTypeCount; ++i)
    CHECK_THAT(message, Catch::Contains(std::string(to_string(static_cast<ActionType>(i)))));
}

TEST_CASE("decode_action names missing, mistyped and unknown fields", "[actions]") {
  auto transfer = decode_action(obj(R"({"action": "transfer", "note": 12, "colour": "blue"})"));
  REQUIRE_FALSE(transfer.ok());
  CHECK(fields_of(transfer.error()) == std::vector<std::string>{"colour", "note", "owner"});
  CHECK(message_of(transfer.error(), "owner") == "is required");
  CHECK(message_of(transfer.error(), "note") == "must be a string");
  CHECK(message_of(transfer.error(), "colour") == "is not a known field");

  auto resolve = decode_action(obj(R"({"action": "resolve", "outcome": "won"})"));
  REQUIRE_FALSE(resolve.ok());
  CHECK(fields_of(resolve.error()) == std::vector<std::string>{"final_response", "outcome"});

  auto escalate = decode_action(obj(R"({"action": "escalate", "reason": "late", "level": "two"})"));
  REQUIRE_FALSE(escalate.ok());
  CHECK(fields_of(escalate.error()) == std::vector<std::string>{"level"});
  auto escalate_range = decode_action(obj(R"({"action": "escalate", "reason": "late", "level": 0})"));
  REQUIRE_FALSE(escalate_range.ok());
  CHECK(fields_of(escalate_range.error()) == std::vector<std::string>{"level"});

  auto version = decode_action(obj(R"({"action": "take", "expected_version": "7"})"));
  REQUIRE_FALSE(version.ok());
  CHECK(fields_of(version.error()) == std::vector<std::string>{"expected_version"});
  auto negative_version = decode_action(obj(R"({"action": "take", "expected_version": -1})"));
  REQUIRE_FALSE(negative_version.ok());
  CHECK(fields_of(negative_version.error()) == std::vector<std::string>{"expected_version"});

  auto message = decode_action(obj(R"({"action": "add_message", "visibility": "public"})"));
  REQUIRE_FALSE(message.ok());
  CHECK(fields_of(message.error()) == std::vector<std::string>{"body", "visibility"});

  auto commitment = decode_action(obj(R"({"action": "make_commitment", "text": "x", "due_at": "tomorrow"})"));
  REQUIRE_FALSE(commitment.ok());
  CHECK(fields_of(commitment.error()) == std::vector<std::string>{"due_at"});
  auto both = decode_action(
      obj(R"({"action": "make_commitment", "text": "x", "due_at": "2026-01-01T00:00:00Z", "due_in": "PT4H"})"));
  REQUIRE_FALSE(both.ok());
  CHECK(fields_of(both.error()) == std::vector<std::string>{"due_in"});
  auto months = decode_action(obj(R"({"action": "make_commitment", "text": "x", "due_in": "P1M"})"));
  REQUIRE_FALSE(months.ok());
  CHECK(fields_of(months.error()) == std::vector<std::string>{"due_in"});
  auto neither = decode_action(obj(R"({"action": "make_commitment", "text": "x"})"));
  REQUIRE_FALSE(neither.ok());
  CHECK(fields_of(neither.error()) == std::vector<std::string>{"due_at"});

  auto keep = decode_action(obj(R"({"action": "keep_commitment", "commitment_id": "r-1"})"));
  REQUIRE_FALSE(keep.ok());
  CHECK(fields_of(keep.error()) == std::vector<std::string>{"commitment_id"});

  auto survey = decode_action(obj(R"({"action": "submit_survey", "rating": 6})"));
  REQUIRE_FALSE(survey.ok());
  CHECK(fields_of(survey.error()) == std::vector<std::string>{"rating"});
  auto survey_float = decode_action(obj(R"({"action": "submit_survey", "rating": 4.5})"));
  REQUIRE_FALSE(survey_float.ok());
  CHECK(fields_of(survey_float.error()) == std::vector<std::string>{"rating"});

  auto assess = decode_action(obj(R"({"action": "assess"})"));
  REQUIRE_FALSE(assess.ok());
  CHECK(fields_of(assess.error()) == std::vector<std::string>{"severity"});

  // A field of another action is unknown to this one.
  auto take = decode_action(obj(R"({"action": "take", "owner": "u-1"})"));
  REQUIRE_FALSE(take.ok());
  CHECK(fields_of(take.error()) == std::vector<std::string>{"owner"});
}

TEST_CASE("decode_action names the offending fields of each redress offer", "[actions]") {
  auto propose = decode_action(obj(R"({"action": "propose_redress", "outcome": "upheld", "final_response": "x",
    "offers": [{"kind": "refund", "amount": "1.234", "currency": "GBP"}, "apology", {"kind": "voucher", "extra": 1},
               {"kind": "refund", "amount": "10.00"}, {"kind": "credit", "amount": "1", "currency": "gbp"}]})"));
  REQUIRE_FALSE(propose.ok());
  CHECK(fields_of(propose.error()) == std::vector<std::string>{"offers[0].amount", "offers[1]", "offers[2].extra",
                                                               "offers[2].kind", "offers[3].currency",
                                                               "offers[4].currency"});
  auto not_array =
      decode_action(obj(R"({"action": "propose_redress", "outcome": "upheld", "final_response": "x", "offers": {}})"));
  REQUIRE_FALSE(not_array.ok());
  CHECK(fields_of(not_array.error()) == std::vector<std::string>{"offers"});

  auto offer = decode_action(
      obj(R"({"action": "offer_redress", "kind": "refund", "amount": -5, "currency": "GBP", "colour": 1})"));
  REQUIRE_FALSE(offer.ok());
  CHECK(fields_of(offer.error()) == std::vector<std::string>{"amount", "colour"});
}

TEST_CASE("amounts: decimal text or numbers into minor units - more than two decimals or negative refused",
          "[actions]") {
  auto amount = [](json::value v) { return parse_amount_minor(v); };
  CHECK(amount("12.50") == 1250);
  CHECK(amount("12.5") == 1250);
  CHECK(amount("12") == 1200);
  CHECK(amount("0.01") == 1);
  CHECK(amount("0") == 0);
  CHECK(amount("999999999999.99") == 99999999999999);
  CHECK(amount(12) == 1200);
  CHECK(amount(12.5) == 1250);
  CHECK(amount(0.1) == 10);
  CHECK(amount(19.99) == 1999);
  for (json::value bad :
       {json::value("1.234"), json::value("-1"), json::value("-0.50"), json::value(""), json::value(".5"),
        json::value("1,50"), json::value("12.5a"), json::value("1e3"), json::value(" 12"), json::value("1.2.3"),
        json::value("1234567890123"), json::value(-5), json::value(-0.5), json::value(1.234), json::value(true),
        json::value(nullptr), json::value(json::array{})}) {
    INFO(json::serialize(bad));
    CHECK_FALSE(parse_amount_minor(bad).has_value());
  }
  CHECK(format_amount(1250) == "12.50");
  CHECK(format_amount(5) == "0.05");
  CHECK(format_amount(100) == "1.00");
}

TEST_CASE("display ids: prefixed or plain, positive only", "[actions]") {
  CHECK(commitment_display_id(88) == "k-88");
  CHECK(redress_display_id(12) == "r-12");
  CHECK(message_display_id(5) == "m-5");
  CHECK(parse_display_id("k-88", 'k') == 88);
  CHECK(parse_display_id("88", 'k') == 88);
  CHECK_FALSE(parse_display_id("r-88", 'k').has_value());
  CHECK_FALSE(parse_display_id("k-0", 'k').has_value());
  CHECK_FALSE(parse_display_id("k--3", 'k').has_value());
  CHECK_FALSE(parse_display_id("k-", 'k').has_value());
  CHECK_FALSE(parse_display_id("k-8x", 'k').has_value());
  CHECK_FALSE(parse_display_id("", 'k').has_value());
}
