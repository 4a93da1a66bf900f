// The workflow data a regulatory return needs (issue 26, docs/measuring.md): products and root
// causes with display names, what a resolution must record, and the buckets closed cases are counted
// in, on the workflow's business calendar (FCA DISP 1 Annex 1R across bank holidays).
#include <catch2/catch.hpp>

#include <string>

#include "engine/support.h"
#include "engine/workflow.h"
#include "workflows/loader.h"
#include "workflows/support.h"

using namespace redress;

namespace returns_test {

using enginetest::at;

const Workflow& shipped_workflow(const std::string& name) {
  const Workflow* found = workflowtest::shipped().find(name);
  REQUIRE(found != nullptr);
  return *found;
}

std::string bucket_key(const Workflow& w, const std::string& received, const std::string& resolved) {
  const ReturnBucket* bucket = w.bucket_for(at(received), at(resolved));
  REQUIRE(bucket != nullptr);
  return bucket->key;
}

const std::string kBase = R"(name = "mini"
title = "Mini"
description = "A minimal standard."
pledge = "We answer within 5 business days."
team = "care"
%TERMS%
[routing]
categories = ["mini"]

[calendar]
zone = "Europe/London"
first_year = 2026
last_year = 2027

[calendar.hours]
monday = ["09:00-17:00"]

[[escalation]]
name = "Lead"
roles = ["lead"]

[clocks.answer]
text = "We will answer"
start = "received"
target = "P5D"
basis = "business"
%RETURNS%)";

std::string workflow_text(const std::string& terms, const std::string& returns) {
  std::string text = kBase;
  text.replace(text.find("%TERMS%"), 7, terms);
  text.replace(text.find("%RETURNS%"), 9, returns);
  return text;
}

std::string load_error(const std::string& text) {
  auto parsed = parse_workflow(text, "workflows/mini.toml");
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.error().code == ErrorCode::kInvalid);
  return parsed.error().detail;
}


TEST_CASE("a workflow without the returns data still loads: nothing required, no buckets", "[loader][returns]") {
  auto parsed = parse_workflow(workflow_text("", ""), "workflows/mini.toml");
  REQUIRE(parsed.ok());
  const Workflow& w = parsed.value();
  CHECK(w.products.empty());
  CHECK(w.root_causes.empty());
  CHECK_FALSE(w.returns.require_root_cause);
  CHECK_FALSE(w.returns.require_product);
  CHECK(w.returns.buckets.empty());
  CHECK(w.bucket_for(at("2026-06-01T09:00:00Z"), at("2026-06-02T09:00:00Z")) == nullptr);
}

TEST_CASE("products, root causes and buckets are read with their display names", "[loader][returns]") {
  const std::string terms = R"(products = [{ key = "widgets", name = "Widgets" }, { key = "gadgets", name = "Gadgets" }]
root_causes = [{ key = "late", name = "We were late" }]
)";
  const std::string returns = R"(
[returns]
require_root_cause = true

[[returns.buckets]]
key = "within_1_day"
within = "P1D"
basis = "business"

[[returns.buckets]]
key = "later"
name = "Later"
)";
  auto parsed = parse_workflow(workflow_text(terms, returns), "workflows/mini.toml");
  REQUIRE(parsed.ok());
  const Workflow& w = parsed.value();
  REQUIRE(w.products.size() == 2);
  CHECK(w.find_product("gadgets")->name == "Gadgets");
  CHECK(w.find_product("nothing") == nullptr);
  CHECK(w.find_root_cause("late")->name == "We were late");
  CHECK(w.returns.require_root_cause);
  CHECK_FALSE(w.returns.require_product);
  REQUIRE(w.returns.buckets.size() == 2);
  CHECK(w.returns.buckets[0].name == "Within 1 day");  // from the key when not given
  CHECK(w.returns.buckets[1].name == "Later");
  CHECK_FALSE(w.returns.buckets[1].within.has_value());
}

TEST_CASE("the loader refuses returns data it could not use, naming the line", "[loader][returns][errors]") {
  const std::string terms = "root_causes = [{ key = \"late\", name = \"Late\" }]\n";
  SECTION("a requirement without its list") {
    const auto detail = load_error(workflow_text(terms, "\n[returns]\nrequire_product = true\n"));
    CHECK(detail.find("returns.require_product: requires a product from products") != std::string::npos);
  }
  SECTION("a key listed twice") {
    const auto detail =
        load_error(workflow_text("root_causes = [{ key = \"late\", name = \"A\" }, { key = \"late\", name = \"B\" }]\n", ""));
    CHECK(detail.find("root_causes[1].key: \"late\" is listed twice") != std::string::npos);
  }
  SECTION("a key that is not a name") {
    const auto detail = load_error(workflow_text("products = [{ key = \"Big Things\", name = \"B\" }]\n", ""));
    CHECK(detail.find("products[0].key: use lower-case letters") != std::string::npos);
  }
  SECTION("a bucket before the last without within") {
    const auto detail = load_error(
        workflow_text(terms, "\n[[returns.buckets]]\nkey = \"a\"\n\n[[returns.buckets]]\nkey = \"b\"\n"));
    CHECK(detail.find("returns.buckets[0].within: required on every bucket but the last") != std::string::npos);
  }
  SECTION("the last bucket with within") {
    const auto detail = load_error(workflow_text(
        terms, "\n[[returns.buckets]]\nkey = \"a\"\nwithin = \"P1D\"\n\n[[returns.buckets]]\nkey = \"b\"\nwithin = \"P2D\"\n"));
    CHECK(detail.find("returns.buckets[1].within: the last bucket counts everything closed later") != std::string::npos);
  }
  SECTION("an unknown key in a term") {
    const auto detail = load_error(workflow_text("products = [{ key = \"a\", name = \"A\", nme = \"x\" }]\n", ""));
    CHECK(detail.find("products[0].nme: unknown key") != std::string::npos);
  }
}

TEST_CASE("each shipped standard has a taxonomy and buckets - FCA requires both", "[loader][returns]") {
  for (const auto& w : workflowtest::shipped().all()) {
    INFO(w.name);
    CHECK(w.products.size() >= 3);
    CHECK(w.root_causes.size() >= 3);
    CHECK(w.returns.buckets.size() >= 2);
    CHECK_FALSE(w.returns.buckets.back().within.has_value());
  }
  const Workflow& fca = shipped_workflow("fca-disp");
  CHECK(fca.returns.require_root_cause);
  CHECK(fca.returns.require_product);
  REQUIRE(fca.returns.buckets.size() == 3);
  CHECK(fca.returns.buckets[0].key == "within_3_business_days");
  CHECK(fca.returns.buckets[1].key == "within_8_weeks");
  CHECK(fca.returns.buckets[2].key == "after_8_weeks");
  CHECK_FALSE(shipped_workflow("retail").returns.require_root_cause);
}

TEST_CASE("FCA buckets count business days across bank holidays", "[loader][returns][fca]") {
  const Workflow& fca = shipped_workflow("fca-disp");
  SECTION("received on a Friday evening before the Early May bank holiday") {
    // Friday 1 May 2026, 18:30 BST, out of hours: treated as received Tuesday 5 May (Monday 4 May is
    // a bank holiday); the third business day after is Friday 8 May, close of business 17:00 BST.
    const std::string received = "2026-05-01T17:30:00Z";
    CHECK(bucket_key(fca, received, "2026-05-08T15:59:00Z") == "within_3_business_days");
    CHECK(bucket_key(fca, received, "2026-05-08T16:00:00Z") == "within_3_business_days");
    CHECK(bucket_key(fca, received, "2026-05-08T16:00:01Z") == "within_8_weeks");
    // Eight weeks from receipt (calendar time, as received): Friday 26 June, 18:30 BST.
    CHECK(bucket_key(fca, received, "2026-06-26T17:30:00Z") == "within_8_weeks");
    CHECK(bucket_key(fca, received, "2026-06-26T17:30:01Z") == "after_8_weeks");
  }
  SECTION("received just before Christmas") {
    // Wednesday 23 December 2026, 10:00 GMT. Business days after it: Thursday 24, (25 and 28 are
    // holidays, 26-27 the weekend) Tuesday 29, Wednesday 30: close of business 30 December.
    const std::string received = "2026-12-23T10:00:00Z";
    CHECK(bucket_key(fca, received, "2026-12-30T16:59:00Z") == "within_3_business_days");
    CHECK(bucket_key(fca, received, "2026-12-31T09:00:00Z") == "within_8_weeks");
  }
}

}  // namespace returns_test
