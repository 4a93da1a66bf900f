// The desk's operations in the engine (issue 27): tags with their before and after, a duplicate
// merged into the case that carries on (both written together or not at all), links on both
// cases, and who may do each. On the in-memory CaseStore (memory_store.h), as the engine's other
// tests.
#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/memory_store.h"
#include "engine/planner.h"
#include "engine/support.h"
#include "engine/tags.h"

namespace redress::enginetest::desk {

namespace json = boost::json;

// A standard with two pledges: acknowledge within 2 hours, a final response within 8 weeks.
WorkflowSet desk_workflows() {
  Workflow workflow;
  workflow.name = "retail";
  workflow.title = "Retail complaints";
  workflow.team = "care";
  workflow.is_default = true;
  ClockRule acknowledge;
  acknowledge.name = "acknowledge";
  acknowledge.text = "We will acknowledge your complaint";
  acknowledge.start = ClockStart::kReceived;
  acknowledge.stop = ClockStop::kAcknowledged;
  acknowledge.target = ClockTarget{IsoDuration{0, std::chrono::hours(2)}, TimeBasis::kCalendar};
  workflow.clocks.push_back(acknowledge);
  ClockRule final_response = acknowledge;
  final_response.name = "final_response";
  final_response.text = "We will send you our final response";
  final_response.stop = ClockStop::kResolved;
  final_response.target = ClockTarget{IsoDuration{0, std::chrono::hours(24 * 56)}, TimeBasis::kCalendar};
  workflow.clocks.push_back(final_response);
  return WorkflowSet({workflow}, "retail");
}

struct DeskFixture {
  ManualClock clock{at("2026-03-09T10:00:00Z")};
  WorkflowSet workflows = desk_workflows();
  MemoryCaseStore store;
  Engine engine{store, clock, workflows};
  Staff owner = store.add_staff(Staff{"", "Sam Okafor", "sam@redress.example", Role::kAgent, "care", true});
  Staff colleague = store.add_staff(Staff{"", "Ana Ruiz", "ana@redress.example", Role::kAgent, "care", true});
  Staff lead = store.add_staff(Staff{"", "Grace Adeyemi", "grace@redress.example", Role::kLead, "care", true});

  std::string create(const std::string& subject = "Charged twice") {
    NewCase c;
    c.client = Client{"Zoë Lane", "zoe@example.org", "", ""};
    c.category = "billing";
    c.subject = subject;
    c.description = "I was charged twice for one order.";
    auto created = engine.create_case(c, Actor::intake("web-form"));
    INFO((created.ok() ? std::string() : created.error().detail));
    REQUIRE(created.ok());
    return created->change.after.reference;
  }
  // The case taken by `who` (so that it has an owner).
  std::string owned_by(const Staff& who, const std::string& subject = "Charged twice") {
    std::string reference = create(subject);
    ActionRequest take = request(ActionType::kTake, reference, who);
    auto taken = engine.apply(take);
    REQUIRE(taken.ok());
    return reference;
  }
  static ActionRequest request(ActionType type, const std::string& reference, const Staff& who) {
    ActionRequest r;
    r.type = type;
    r.reference = reference;
    r.actor = Actor::staff(who.id, who.role);
    return r;
  }
  CaseSnapshot snapshot(const std::string& reference) const {
    auto found = store.snapshot(reference);
    REQUIRE(found.has_value());
    return *found;
  }
  json::object last_event_data(const std::string& reference, const std::string& type) const {
    for (auto events = store.events(reference); !events.empty(); events.pop_back())
      if (events.back().type == type) return json::parse(events.back().data).as_object();
    FAIL("no " << type << " event on " << reference);
    return {};
  }
};

std::vector<std::string> strings(const json::value& array) {
  std::vector<std::string> out;
  for (const auto& v : array.as_array()) out.emplace_back(v.as_string());
  return out;
}

TEST_CASE("tags: normalised, validated, and refused when they are not tags", "[engine][tags]") {
  CHECK(*normalize_tag("VIP") == "vip");
  CHECK(*normalize_tag("billing-error_2") == "billing-error_2");
  CHECK_FALSE(normalize_tag("").ok());
  CHECK_FALSE(normalize_tag("-leading").ok());
  CHECK_FALSE(normalize_tag("two words").ok());
  CHECK_FALSE(normalize_tag("café").ok());
  CHECK_FALSE(normalize_tag(std::string(41, 'a')).ok());
  CHECK(normalize_tag(std::string(40, 'a')).ok());
  CHECK(split_words(join_words({"a", "b-c"})) == std::vector<std::string>{"a", "b-c"});
  CHECK(split_words("").empty());

  auto decoded = decode_action(json::parse(R"({"action":"tag","tags":["VIP","vip","billing"]})").as_object());
  REQUIRE(decoded.ok());
  CHECK(decoded->tags == std::vector<std::string>{"billing", "vip"});
  auto bad = decode_action(json::parse(R"({"action":"tag","tags":["ok","no spaces",7]})").as_object());
  REQUIRE_FALSE(bad.ok());
  REQUIRE(bad.error().fields.size() == 2);
  CHECK(bad.error().fields[0].field == "tags[1]");
  CHECK(bad.error().fields[1].field == "tags[2]");
  CHECK_FALSE(decode_action(json::parse(R"({"action":"untag","tags":[]})").as_object()).ok());
  CHECK_FALSE(decode_action(json::parse(R"({"action":"tag"})").as_object()).ok());
  auto merge = decode_action(json::parse(R"({"action":"merge"})").as_object());
  REQUIRE_FALSE(merge.ok());
  CHECK(merge.error().fields[0].field == "into");
}

TEST_CASE("tags: added and removed as events with before and after, by any agent", "[engine][tags]") {
  DeskFixture desk;
  const std::string reference = desk.owned_by(desk.owner);
  ActionRequest tag = DeskFixture::request(ActionType::kTag, reference, desk.colleague);  // a colleague's case
  tag.tags = {"billing", "vip"};
  auto tagged = desk.engine.apply(tag);
  INFO((tagged.ok() ? std::string() : tagged.error().detail));
  REQUIRE(tagged.ok());
  CHECK(tagged->change.tags_changed);
  CHECK(desk.snapshot(reference).record.tags == std::vector<std::string>{"billing", "vip"});
  json::object data = desk.last_event_data(reference, "case.tagged");
  CHECK(strings(data["added"]) == std::vector<std::string>{"billing", "vip"});
  CHECK(strings(data["before"]).empty());
  CHECK(strings(data["after"]) == std::vector<std::string>{"billing", "vip"});

  // Tagging again with nothing new changes nothing and says why.
  auto again = desk.engine.apply(tag);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == ErrorCode::kRefused);
  CHECK(again.error().detail.find("already tagged") != std::string::npos);

  ActionRequest untag = DeskFixture::request(ActionType::kUntag, reference, desk.owner);
  untag.tags = {"vip", "unknown"};
  REQUIRE(desk.engine.apply(untag).ok());
  data = desk.last_event_data(reference, "case.untagged");
  CHECK(strings(data["removed"]) == std::vector<std::string>{"vip"});
  CHECK(strings(data["before"]) == std::vector<std::string>{"billing", "vip"});
  CHECK(strings(data["after"]) == std::vector<std::string>{"billing"});
  CHECK(desk.snapshot(reference).record.tags == std::vector<std::string>{"billing"});

  // A closed or withdrawn case is still tagged (reports count it); the client cannot tag.
  ActionRequest withdraw = DeskFixture::request(ActionType::kWithdraw, reference, desk.owner);
  REQUIRE(desk.engine.apply(withdraw).ok());
  tag.tags = {"after-the-end"};
  CHECK(desk.engine.apply(tag).ok());
  ActionRequest by_client = tag;
  by_client.actor = Actor::client();
  by_client.tags = {"client-tag"};
  auto refused = desk.engine.apply(by_client);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == ErrorCode::kForbidden);
}

TEST_CASE("merge: the duplicate closes with a pointer and the case that carries on records it", "[engine][merge]") {
  DeskFixture desk;
  const std::string survivor = desk.owned_by(desk.owner, "Charged twice");
  const std::string duplicate = desk.owned_by(desk.owner, "Charged twice (sent again)");
  ActionRequest promise = DeskFixture::request(ActionType::kMakeCommitment, duplicate, desk.owner);
  promise.text = "We will call you back";
  promise.due.at = at("2026-03-10T10:00:00Z");
  REQUIRE(desk.engine.apply(promise).ok());
  const std::int64_t survivor_version = desk.snapshot(survivor).record.version;

  ActionRequest merge = DeskFixture::request(ActionType::kMerge, duplicate, desk.owner);
  merge.other_case = survivor;
  merge.note = "The client wrote twice";
  auto merged = desk.engine.apply(merge);
  INFO((merged.ok() ? std::string() : merged.error().detail));
  REQUIRE(merged.ok());

  const CaseSnapshot closed = desk.snapshot(duplicate);
  CHECK(closed.record.status == CaseStatus::kClosed);
  CHECK(closed.record.clock == ClockState::kStopped);
  CHECK(closed.record.merged_into == survivor);
  CHECK(closed.record.links == std::vector<std::string>{survivor});
  CHECK(closed.record.ended_at == desk.clock.now());
  // Its pledges are cancelled by the clocks and its promise with the merge's reason.
  for (const auto& k : closed.commitments) {
    INFO(k.text);
    if (k.kind == CommitmentKind::kPromise) {
      CHECK(k.status == CommitmentStatus::kCancelled);
      CHECK(k.note == "the case was merged into " + survivor);
    } else if (k.status != CommitmentStatus::kKept) {
      CHECK(k.status == CommitmentStatus::kCancelled);
    }
  }
  json::object data = desk.last_event_data(duplicate, "case.merged");
  CHECK(data["into"].as_string() == survivor);
  CHECK(data["note"].as_string() == "The client wrote twice");
  CHECK(strings(data["cancelled_promises"]).size() == 1);
  json::object closing = desk.last_event_data(duplicate, "case.closed");
  CHECK(closing["via"].as_string() == "merge");
  CHECK(closing["from"].as_string() == "received");
  CHECK(closing["to"].as_string() == "closed");

  // The duplicate's client is mailed once, on the closing; the case that carries on mails nobody.
  std::int64_t closing_seq = 0;
  for (const auto& e : desk.store.events(duplicate))
    if (e.type == "case.closed") closing_seq = e.seq;
  std::vector<std::string> merge_mail;
  for (const auto& n : desk.store.notifications(duplicate))
    if (n.channel == NotificationDraft::Channel::kEmail && n.template_name == "client.merged")
      merge_mail.push_back(n.audience + " " + n.recipient + " " + std::to_string(n.event_seq));
  CHECK(merge_mail == std::vector<std::string>{"client zoe@example.org " + std::to_string(closing_seq)});
  for (const auto& n : desk.store.notifications(survivor)) {
    INFO(n.template_name << " to " << n.recipient);
    CHECK_FALSE((n.channel == NotificationDraft::Channel::kEmail && n.event_seq > survivor_version));
  }

  const CaseSnapshot carries_on = desk.snapshot(survivor);
  CHECK(carries_on.record.status == CaseStatus::kReceived);
  CHECK(carries_on.record.version == survivor_version + 1);
  CHECK(carries_on.record.links == std::vector<std::string>{duplicate});
  CHECK(desk.last_event_data(survivor, "case.duplicate_merged")["duplicate"].as_string() == duplicate);
  // The history of each stays, and each chain stays whole.
  // The history stays: the merge, then the closing and the pledges the clocks cancelled with it.
  auto events = desk.store.events(duplicate);
  CHECK(events.front().type == "case.received");
  std::vector<std::string> tail;
  for (const auto& e : events)
    if (!tail.empty() || e.type == "case.merged") tail.push_back(e.type);
  CHECK(tail == std::vector<std::string>{"case.merged", "commitment.cancelled", "case.closed", "commitment.cancelled",
                                         "commitment.cancelled"});

  // The duplicate cannot be merged again, nor be unlinked from the case it was merged into.
  auto twice = desk.engine.apply(merge);
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.error().code == ErrorCode::kRefused);
  ActionRequest unlink = DeskFixture::request(ActionType::kUnlink, survivor, desk.owner);
  unlink.other_case = duplicate;
  auto kept_link = desk.engine.apply(unlink);
  REQUIRE_FALSE(kept_link.ok());
  CHECK(kept_link.error().detail.find("merge stays linked") != std::string::npos);
}

TEST_CASE("merge: refused on either side, nothing is written on either case", "[engine][merge]") {
  DeskFixture desk;
  const std::string survivor = desk.owned_by(desk.owner, "First");
  const std::string duplicate = desk.owned_by(desk.owner, "Second");
  const std::string other = desk.owned_by(desk.colleague, "A colleague's");
  auto versions = [&] {
    return std::vector<std::int64_t>{desk.snapshot(survivor).record.version, desk.snapshot(duplicate).record.version,
                                     desk.snapshot(other).record.version};
  };

  // Into a withdrawn case: the survivor's side refuses, so the duplicate stays open too.
  ActionRequest withdraw = DeskFixture::request(ActionType::kWithdraw, survivor, desk.owner);
  REQUIRE(desk.engine.apply(withdraw).ok());
  const auto before = versions();
  ActionRequest merge = DeskFixture::request(ActionType::kMerge, duplicate, desk.owner);
  merge.other_case = survivor;
  auto refused = desk.engine.apply(merge);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == ErrorCode::kRefused);
  CHECK(refused.error().detail.find("withdrawn") != std::string::npos);
  CHECK(versions() == before);
  CHECK(desk.snapshot(duplicate).record.status == CaseStatus::kReceived);
  CHECK(desk.snapshot(duplicate).record.merged_into.empty());

  // Into itself, or into a case that does not exist.
  merge.other_case = duplicate;
  auto itself = desk.engine.apply(merge);
  REQUIRE_FALSE(itself.ok());
  CHECK(itself.error().code == ErrorCode::kInvalid);
  merge.other_case = "CMP-2026-999999";
  auto unknown = desk.engine.apply(merge);
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().code == ErrorCode::kNotFound);
  CHECK(versions() == before);

  // A colleague's case is its owner's (or a lead's) to merge; a lead may.
  merge.other_case = duplicate;
  merge.reference = other;
  auto forbidden = desk.engine.apply(merge);
  // The owner of `duplicate` asks to merge a colleague's case: refused before anything is planned.
  REQUIRE_FALSE(forbidden.ok());
  CHECK(forbidden.error().code == ErrorCode::kForbidden);
  CHECK(versions() == before);
  merge.actor = Actor::staff(desk.lead.id, desk.lead.role);
  REQUIRE(desk.engine.apply(merge).ok());
  CHECK(desk.snapshot(other).record.merged_into == duplicate);
}

TEST_CASE("links: both cases see the link, and unlinking takes it from both", "[engine][links]") {
  DeskFixture desk;
  const std::string first = desk.owned_by(desk.owner, "Late delivery");
  const std::string second = desk.owned_by(desk.colleague, "Late delivery, the neighbour");
  ActionRequest link = DeskFixture::request(ActionType::kLink, first, desk.owner);
  link.other_case = second;
  link.note = "Same van, same day";
  REQUIRE(desk.engine.apply(link).ok());
  CHECK(desk.snapshot(first).record.links == std::vector<std::string>{second});
  CHECK(desk.snapshot(second).record.links == std::vector<std::string>{first});
  CHECK(desk.last_event_data(first, "case.linked")["case"].as_string() == second);
  CHECK(desk.last_event_data(second, "case.linked")["case"].as_string() == first);

  // Linked already (from either side): refused, nothing written.
  const auto version = desk.snapshot(second).record.version;
  ActionRequest back = DeskFixture::request(ActionType::kLink, second, desk.colleague);
  back.other_case = first;
  auto again = desk.engine.apply(back);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == ErrorCode::kRefused);
  CHECK(desk.snapshot(second).record.version == version);

  ActionRequest unlink = DeskFixture::request(ActionType::kUnlink, second, desk.colleague);
  unlink.other_case = first;
  REQUIRE(desk.engine.apply(unlink).ok());
  CHECK(desk.snapshot(first).record.links.empty());
  CHECK(desk.snapshot(second).record.links.empty());
  CHECK(desk.last_event_data(first, "case.unlinked")["case"].as_string() == second);

  // Linking is a decision on the acted-on case: a colleague's is the owner's or a lead's.
  ActionRequest by_colleague = DeskFixture::request(ActionType::kLink, first, desk.colleague);
  by_colleague.other_case = second;
  auto forbidden = desk.engine.apply(by_colleague);
  REQUIRE_FALSE(forbidden.ok());
  CHECK(forbidden.error().code == ErrorCode::kForbidden);
}

TEST_CASE("the console offers tags to every agent, and merge and links to whoever decides", "[engine][rights]") {
  DeskFixture desk;
  const std::string reference = desk.owned_by(desk.owner);
  const Case record = desk.snapshot(reference).record;
  auto offers = [&](const Staff& who, ActionType type) {
    auto open = desk.engine.allowed_actions(record, Actor::staff(who.id, who.role));
    return std::find(open.begin(), open.end(), type) != open.end();
  };
  CHECK(offers(desk.colleague, ActionType::kTag));
  CHECK(offers(desk.colleague, ActionType::kUntag));
  CHECK_FALSE(offers(desk.colleague, ActionType::kMerge));
  CHECK_FALSE(offers(desk.colleague, ActionType::kLink));
  CHECK(offers(desk.owner, ActionType::kMerge));
  CHECK(offers(desk.lead, ActionType::kLink));
}

}  // namespace redress::enginetest::desk
