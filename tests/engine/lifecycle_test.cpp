// The lifecycle machine: the whole transition table from one table literal, the guards, the clock
// region, and the ownership invariant under long random action sequences.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "engine/lifecycle.h"

using namespace redress;

namespace {

using A = ActionType;
using S = CaseStatus;

constexpr std::array<S, 8> kStatuses{S::kReceived,        S::kAcknowledged, S::kInvestigating, S::kAwaitingClient,
                                     S::kRedressProposed, S::kResolved,     S::kClosed,        S::kWithdrawn};

// The clock region that goes with each status in a consistent history.
ClockState clock_of(S status) {
  switch (status) {
    case S::kAwaitingClient: return ClockState::kPaused;
    case S::kResolved:
    case S::kClosed:
    case S::kWithdrawn: return ClockState::kStopped;
    default: return ClockState::kRunning;
  }
}

// Case and request facts under which every guard that does not depend on the state passes, except
// that no accepted redress awaits fulfilment (so `close` is allowed and `fulfil_redress` is not).
LifecycleFacts table_facts() {
  LifecycleFacts f;
  f.has_pending_offers = true;
  f.has_unfulfilled_redress = false;
  f.within_reopen_window = true;
  f.below_top_level = true;
  f.above_owner_level = true;
  f.takes_escalation_requests = true;
  f.escalation_requested_here = false;
  f.action_has_offers = true;
  f.action_has_note = true;
  f.message_from_client = false;
  f.message_internal = true;
  return f;
}

// One cell: "" refused, "=" allowed and the status stays, otherwise the status it leads to.
// Columns, in kStatuses order: received, acknowledged, investigating, awaiting_client,
// redress_proposed, resolved, closed, withdrawn.
struct Row {
  A action;
  std::array<const char*, 8> unowned;
  std::array<const char*, 8> owned;
};

// clang-format off
const std::vector<Row> kTable = {
  //                         received        acknowledged     investigating       awaiting_client     redress_proposed  resolved         closed  withdrawn
  {A::kAcknowledge,         {{"acknowledged", "",             "",                 "",                 "",               "",              "",     ""}},
                            {{"acknowledged", "",             "",                 "",                 "",               "",              "",     ""}}},
  {A::kTake,                {{"=",            "=",            "=",                "=",                "=",              "",              "",     ""}},
                            {{"",             "",             "",                 "",                 "",               "",              "",     ""}}},
  {A::kAssign,              {{"=",            "=",            "=",                "=",                "=",              "",              "",     ""}},
                            {{"=",            "=",            "=",                "=",                "=",              "",              "",     ""}}},
  {A::kTransfer,            {{"",             "",             "",                 "",                 "",               "",              "",     ""}},
                            {{"=",            "=",            "=",                "=",                "=",              "",              "",     ""}}},
  {A::kStart,               {{"",             "",             "",                 "",                 "",               "",              "",     ""}},
                            {{"",             "investigating", "",                "",                 "",               "",              "",     ""}}},
  {A::kRequestInfo,         {{"",             "",             "awaiting_client",  "",                 "",               "",              "",     ""}},
                            {{"",             "",             "awaiting_client",  "",                 "",               "",              "",     ""}}},
  {A::kClientReplied,       {{"",             "",             "",                 "investigating",    "",               "",              "",     ""}},
                            {{"",             "",             "",                 "investigating",    "",               "",              "",     ""}}},
  {A::kProposeRedress,      {{"",             "",             "redress_proposed", "",                 "",               "",              "",     ""}},
                            {{"",             "",             "redress_proposed", "",                 "",               "",              "",     ""}}},
  {A::kAcceptRedress,       {{"",             "",             "",                 "",                 "resolved",       "",              "",     ""}},
                            {{"",             "",             "",                 "",                 "resolved",       "",              "",     ""}}},
  {A::kRejectRedress,       {{"",             "",             "",                 "",                 "investigating",  "",              "",     ""}},
                            {{"",             "",             "",                 "",                 "investigating",  "",              "",     ""}}},
  {A::kResolve,             {{"",             "",             "resolved",         "",                 "resolved",       "",              "",     ""}},
                            {{"",             "",             "resolved",         "",                 "resolved",       "",              "",     ""}}},
  {A::kReopen,              {{"",             "",             "",                 "",                 "",               "investigating", "",     ""}},
                            {{"",             "",             "",                 "",                 "",               "investigating", "",     ""}}},
  {A::kClose,               {{"",             "",             "",                 "",                 "",               "closed",        "",     ""}},
                            {{"",             "",             "",                 "",                 "",               "closed",        "",     ""}}},
  {A::kWithdraw,            {{"withdrawn",    "withdrawn",    "withdrawn",        "withdrawn",        "withdrawn",      "",              "",     ""}},
                            {{"withdrawn",    "withdrawn",    "withdrawn",        "withdrawn",        "withdrawn",      "",              "",     ""}}},
  {A::kEscalate,            {{"=",            "=",            "=",                "=",                "=",              "",              "",     ""}},
                            {{"=",            "=",            "=",                "=",                "=",              "",              "",     ""}}},
  {A::kDeescalate,          {{"=",            "=",            "=",                "=",                "=",              "",              "",     ""}},
                            {{"=",            "=",            "=",                "=",                "=",              "",              "",     ""}}},
  {A::kAssess,              {{"=",            "=",            "=",                "=",                "=",              "",              "",     ""}},
                            {{"=",            "=",            "=",                "=",                "=",              "",              "",     ""}}},
  {A::kAddMessage,          {{"=",            "=",            "=",                "=",                "=",              "=",             "=",    "="}},
                            {{"=",            "=",            "=",                "=",                "=",              "=",             "=",    "="}}},
  {A::kMakeCommitment,      {{"=",            "=",            "=",                "=",                "=",              "=",             "",     ""}},
                            {{"=",            "=",            "=",                "=",                "=",              "=",             "",     ""}}},
  {A::kKeepCommitment,      {{"=",            "=",            "=",                "=",                "=",              "=",             "=",    "="}},
                            {{"=",            "=",            "=",                "=",                "=",              "=",             "=",    "="}}},
  {A::kRenegotiateCommitment,{{"=",           "=",            "=",                "=",                "=",              "=",             "",     ""}},
                            {{"=",            "=",            "=",                "=",                "=",              "=",             "",     ""}}},
  {A::kOfferRedress,        {{"",             "=",            "=",                "=",                "",               "",              "",     ""}},
                            {{"",             "=",            "=",                "=",                "",               "",              "",     ""}}},
  {A::kFulfilRedress,       {{"",             "",             "",                 "",                 "",               "",              "",     ""}},
                            {{"",             "",             "",                 "",                 "",               "",              "",     ""}}},
  {A::kSubmitSurvey,        {{"",             "",             "",                 "",                 "",               "=",             "=",    ""}},
                            {{"",             "",             "",                 "",                 "",               "=",             "=",    ""}}},
  {A::kRequestEscalation,   {{"=",            "=",            "=",                "=",                "=",              "",              "",     ""}},
                            {{"=",            "=",            "=",                "=",                "=",              "",              "",     ""}}},
  {A::kExemptCommitment,    {{"=",            "=",            "=",                "=",                "=",              "=",             "",     ""}},
                            {{"=",            "=",            "=",                "=",                "=",              "=",             "",     ""}}},
  // The mail intake's operations: decided as an internal note, or (accept) as the client's message.
  {A::kHoldMessage,         {{"=",            "=",            "=",                "=",                "=",              "=",             "=",    "="}},
                            {{"=",            "=",            "=",                "=",                "=",              "=",             "=",    "="}}},
  {A::kAcceptMessage,       {{"=",            "=",            "=",                "investigating",    "=",              "=",             "",     ""}},
                            {{"=",            "=",            "=",                "investigating",    "=",              "=",             "",     ""}}},
  {A::kRejectMessage,       {{"=",            "=",            "=",                "=",                "=",              "=",             "=",    "="}},
                            {{"=",            "=",            "=",                "=",                "=",              "=",             "=",    "="}}},
  {A::kRecordBounce,        {{"=",            "=",            "=",                "=",                "=",              "=",             "=",    "="}},
                            {{"=",            "=",            "=",                "=",                "=",              "=",             "=",    "="}}},
  // A vulnerability flag is a staff-only record about the client: decided as an internal note.
  {A::kFlagVulnerable,      {{"=",            "=",            "=",                "=",                "=",              "=",             "=",    "="}},
                            {{"=",            "=",            "=",                "=",                "=",              "=",             "=",    "="}}},
  {A::kClearVulnerable,     {{"=",            "=",            "=",                "=",                "=",              "=",             "=",    "="}},
                            {{"=",            "=",            "=",                "=",                "=",              "=",             "=",    "="}}},
  // The desk's (issue 27): tags and links are decided as an internal note; a merge closes any open case.
  {A::kTag,                 {{"=",            "=",            "=",                "=",                "=",              "=",             "=",    "="}},
                            {{"=",            "=",            "=",                "=",                "=",              "=",             "=",    "="}}},
  {A::kUntag,               {{"=",            "=",            "=",                "=",                "=",              "=",             "=",    "="}},
                            {{"=",            "=",            "=",                "=",                "=",              "=",             "=",    "="}}},
  {A::kMerge,               {{"closed",       "closed",       "closed",           "closed",           "closed",         "",              "",     ""}},
                            {{"closed",       "closed",       "closed",           "closed",           "closed",         "",              "",     ""}}},
  {A::kLink,                {{"=",            "=",            "=",                "=",                "=",              "=",             "=",    "="}},
                            {{"=",            "=",            "=",                "=",                "=",              "=",             "=",    "="}}},
  {A::kUnlink,              {{"=",            "=",            "=",                "=",                "=",              "=",             "=",    "="}},
                            {{"=",            "=",            "=",                "=",                "=",              "=",             "=",    "="}}},
  // Back to the team's queue: only an owned case that may still wait unowned (received, acknowledged).
  {A::kReturnToQueue,       {{"",             "",             "",                 "",                 "",               "",              "",     ""}},
                            {{"=",            "=",            "",                 "",                 "",               "",              "",     ""}}},
};
// clang-format on

std::string name(A action) { return std::string(to_string(action)); }
std::string name(S status) { return std::string(to_string(status)); }

LifecycleState state_of(S status, bool owned) { return LifecycleState{status, clock_of(status), owned}; }

}  // namespace

TEST_CASE("the table names every action exactly once", "[lifecycle]") {
  std::set<A> seen;
  for (const auto& row : kTable) CHECK(seen.insert(row.action).second);
  CHECK(static_cast<int>(seen.size()) == kActionTypeCount);
}

TEST_CASE("action names round-trip and unknown names are refused", "[lifecycle]") {
  for (int i = 0; i < kActionTypeCount; ++i) {
    auto action = static_cast<A>(i);
    auto parsed = parse_ActionType(to_string(action));
    REQUIRE(parsed.has_value());
    CHECK(*parsed == action);
  }
  CHECK_FALSE(parse_ActionType("takeover").has_value());
  CHECK_FALSE(parse_ActionType("").has_value());
  CHECK_FALSE(parse_ActionType("Take").has_value());
}

TEST_CASE("the whole transition table: every action from every status, owned and unowned", "[lifecycle]") {
  const LifecycleFacts facts = table_facts();
  int accepted = 0, refused = 0;
  for (const auto& row : kTable) {
    for (bool owned : {false, true}) {
      for (std::size_t column = 0; column < kStatuses.size(); ++column) {
        const S from = kStatuses[column];
        const std::string expected = (owned ? row.owned : row.unowned)[column];
        const LifecycleState before = state_of(from, owned);
        INFO(name(row.action) << " from " << name(from) << (owned ? " (owned)" : " (unowned)"));
        Verdict verdict = decide(before, row.action, facts);
        if (expected.empty()) {
          ++refused;
          CHECK_FALSE(verdict.accepted);
          CHECK(verdict.next == before);
          CHECK_FALSE(verdict.reason.empty());
          CHECK(verdict.refusal_kind == RefusalKind::kNotAllowed);
          // The refusal's list of actions allowed now never offers the refused action.
          auto allowed = allowed_actions(before, facts, ActionScope::kAll);
          CHECK(std::find(allowed.begin(), allowed.end(), row.action) == allowed.end());
        } else {
          ++accepted;
          REQUIRE(verdict.accepted);
          CHECK(verdict.reason.empty());
          const std::string to = expected == "=" ? name(from) : expected;
          CHECK(name(verdict.next.status) == to);
          // Ownership is dropped only by return_to_queue; take and assign give an owner.
          if (row.action == A::kReturnToQueue)
            CHECK_FALSE(verdict.next.owned);
          else if (owned)
            CHECK(verdict.next.owned);
          if (row.action == A::kTake || row.action == A::kAssign)
            CHECK(verdict.next.owned);
          else if (row.action != A::kReturnToQueue)
            CHECK(verdict.next.owned == owned);
        }
      }
    }
  }
  CHECK(accepted + refused == kActionTypeCount * 8 * 2);
  CHECK(accepted > 0);
  CHECK(refused > 0);
}

TEST_CASE("the allowed actions listed with a refusal are exactly the table's allowed cells", "[lifecycle]") {
  const LifecycleFacts facts = table_facts();
  for (bool owned : {false, true}) {
    for (std::size_t column = 0; column < kStatuses.size(); ++column) {
      const LifecycleState state = state_of(kStatuses[column], owned);
      std::vector<A> expected_all, expected_lifecycle;
      for (int i = 0; i < kActionTypeCount; ++i) {
        auto action = static_cast<A>(i);
        const Row& row = *std::find_if(kTable.begin(), kTable.end(), [&](const Row& r) { return r.action == action; });
        if (std::string((owned ? row.owned : row.unowned)[column]).empty()) continue;
        expected_all.push_back(action);
        if (is_lifecycle_action(action)) expected_lifecycle.push_back(action);
      }
      INFO(name(state.status) << (owned ? " (owned)" : " (unowned)"));
      // Twice: the second answer comes from the cache and must be the same.
      for (int pass = 0; pass < 2; ++pass) {
        CHECK(allowed_actions(state, facts, ActionScope::kAll) == expected_all);
        CHECK(allowed_actions(state, facts) == expected_lifecycle);
      }
      std::vector<std::string> names;
      for (auto a : expected_lifecycle) names.push_back(name(a));
      CHECK(allowed_action_names(state, facts) == names);
    }
  }
}

TEST_CASE("the ended statuses allow no lifecycle action", "[lifecycle]") {
  for (bool owned : {false, true}) {
    CHECK(allowed_actions(state_of(S::kClosed, owned), table_facts()).empty());
    CHECK(allowed_actions(state_of(S::kWithdrawn, owned), table_facts()).empty());
  }
}

// ---- guards --------------------------------------------------------------------------------------

TEST_CASE("guard: investigation needs an owner", "[lifecycle][guards]") {
  LifecycleFacts facts;
  Verdict unowned = decide(state_of(S::kAcknowledged, false), A::kStart, facts);
  CHECK_FALSE(unowned.accepted);
  CHECK(unowned.refusal_kind == RefusalKind::kNotAllowed);
  CHECK_THAT(unowned.reason, Catch::Contains("owner"));
  Verdict owned = decide(state_of(S::kAcknowledged, true), A::kStart, facts);
  CHECK(owned.accepted);
  CHECK(owned.next.status == S::kInvestigating);
  CHECK(owned.next.owned);
}

TEST_CASE("guard: take is refused once the case has an owner", "[lifecycle][guards]") {
  for (S status : {S::kReceived, S::kAcknowledged, S::kInvestigating, S::kAwaitingClient, S::kRedressProposed}) {
    INFO(name(status));
    CHECK(decide(state_of(status, false), A::kTake, {}).accepted);
    Verdict v = decide(state_of(status, true), A::kTake, {});
    CHECK_FALSE(v.accepted);
    CHECK_THAT(v.reason, Catch::Contains("already has an owner"));
    auto allowed = allowed_actions(state_of(status, true), {});
    CHECK(std::find(allowed.begin(), allowed.end(), A::kTake) == allowed.end());
    CHECK(std::find(allowed.begin(), allowed.end(), A::kTransfer) != allowed.end());
  }
}

TEST_CASE("guard: transfer and re-assignment need a handover note", "[lifecycle][guards]") {
  LifecycleFacts without_note;
  LifecycleFacts with_note;
  with_note.action_has_note = true;
  for (S status : {S::kReceived, S::kAcknowledged, S::kInvestigating, S::kAwaitingClient, S::kRedressProposed}) {
    INFO(name(status));
    for (A action : {A::kTransfer, A::kAssign}) {
      Verdict v = decide(state_of(status, true), action, without_note);
      CHECK_FALSE(v.accepted);
      CHECK(v.refusal_kind == RefusalKind::kMissingField);
      CHECK(v.field == "note");
      CHECK(v.next == state_of(status, true));
      CHECK(decide(state_of(status, true), action, with_note).accepted);
    }
    // The first assignment hands over nothing, so it needs no note.
    Verdict first = decide(state_of(status, false), A::kAssign, without_note);
    CHECK(first.accepted);
    CHECK(first.next.owned);
    // An unowned case cannot be transferred, note or not.
    Verdict transfer = decide(state_of(status, false), A::kTransfer, with_note);
    CHECK_FALSE(transfer.accepted);
    CHECK(transfer.refusal_kind == RefusalKind::kNotAllowed);
  }
}

TEST_CASE("guard: a case goes back to its team's queue only before investigation, with a handover note",
          "[lifecycle][guards]") {
  LifecycleFacts without_note;
  LifecycleFacts with_note;
  with_note.action_has_note = true;
  for (S status : {S::kReceived, S::kAcknowledged}) {
    INFO(name(status));
    Verdict returned = decide(state_of(status, true), A::kReturnToQueue, with_note);
    REQUIRE(returned.accepted);
    CHECK(returned.next == state_of(status, false));
    Verdict no_note = decide(state_of(status, true), A::kReturnToQueue, without_note);
    CHECK_FALSE(no_note.accepted);
    CHECK(no_note.refusal_kind == RefusalKind::kMissingField);
    CHECK(no_note.field == "note");
    Verdict unowned = decide(state_of(status, false), A::kReturnToQueue, with_note);
    CHECK_FALSE(unowned.accepted);
    CHECK_THAT(unowned.reason, Catch::Contains("already in its team's queue"));
    // Once back in the queue, anyone of the team may take it again.
    CHECK(decide(returned.next, A::kTake, with_note).accepted);
  }
  // From investigation on a case keeps exactly one owner.
  for (S status : {S::kInvestigating, S::kAwaitingClient, S::kRedressProposed, S::kResolved}) {
    INFO(name(status));
    Verdict v = decide(state_of(status, true), A::kReturnToQueue, with_note);
    CHECK_FALSE(v.accepted);
    CHECK(v.refusal_kind == RefusalKind::kNotAllowed);
    CHECK(v.next.owned);
  }
}

TEST_CASE("guard: close is refused while accepted redress is unfulfilled", "[lifecycle][guards]") {
  LifecycleFacts facts;
  facts.has_unfulfilled_redress = true;
  Verdict v = decide(state_of(S::kResolved, true), A::kClose, facts);
  CHECK_FALSE(v.accepted);
  CHECK_THAT(v.reason, Catch::Contains("fulfil"));
  auto allowed = allowed_actions(state_of(S::kResolved, true), facts, ActionScope::kAll);
  CHECK(std::find(allowed.begin(), allowed.end(), A::kClose) == allowed.end());
  CHECK(std::find(allowed.begin(), allowed.end(), A::kFulfilRedress) != allowed.end());
  facts.has_unfulfilled_redress = false;
  CHECK(decide(state_of(S::kResolved, true), A::kClose, facts).accepted);
}

TEST_CASE("guard: fulfil_redress needs accepted, unfulfilled redress - never on a withdrawn case",
          "[lifecycle][guards]") {
  LifecycleFacts facts;
  facts.has_unfulfilled_redress = true;
  for (S status : kStatuses) {
    INFO(name(status));
    bool expected = status != S::kWithdrawn;
    CHECK(decide(state_of(status, true), A::kFulfilRedress, facts).accepted == expected);
  }
  facts.has_unfulfilled_redress = false;
  for (S status : kStatuses) CHECK_FALSE(decide(state_of(status, true), A::kFulfilRedress, facts).accepted);
}

TEST_CASE("guard: reopen only within the workflow's reopen window", "[lifecycle][guards]") {
  LifecycleFacts facts;
  facts.within_reopen_window = false;
  Verdict v = decide(state_of(S::kResolved, true), A::kReopen, facts);
  CHECK_FALSE(v.accepted);
  CHECK_THAT(v.reason, Catch::Contains("window"));
  facts.within_reopen_window = true;
  Verdict ok = decide(state_of(S::kResolved, true), A::kReopen, facts);
  CHECK(ok.accepted);
  CHECK(ok.next.status == S::kInvestigating);
}

TEST_CASE("guard: escalate at the top and deescalate at level 0 are refused", "[lifecycle][guards]") {
  for (S status : {S::kReceived, S::kAcknowledged, S::kInvestigating, S::kAwaitingClient, S::kRedressProposed}) {
    INFO(name(status));
    LifecycleFacts top;
    top.below_top_level = false;
    top.above_owner_level = true;
    CHECK_FALSE(decide(state_of(status, true), A::kEscalate, top).accepted);
    CHECK(decide(state_of(status, true), A::kDeescalate, top).accepted);
    LifecycleFacts bottom;
    bottom.below_top_level = true;
    bottom.above_owner_level = false;
    CHECK(decide(state_of(status, true), A::kEscalate, bottom).accepted);
    Verdict v = decide(state_of(status, true), A::kDeescalate, bottom);
    CHECK_FALSE(v.accepted);
    CHECK_THAT(v.reason, Catch::Contains("not escalated"));
  }
}

TEST_CASE("guard: a client asks for escalation once per level, where the standard takes such requests",
          "[lifecycle][guards]") {
  for (S status : {S::kReceived, S::kAcknowledged, S::kInvestigating, S::kAwaitingClient, S::kRedressProposed}) {
    INFO(name(status));
    LifecycleFacts facts;
    facts.takes_escalation_requests = true;
    CHECK(decide(state_of(status, true), A::kRequestEscalation, facts).accepted);
    facts.escalation_requested_here = true;
    Verdict asked = decide(state_of(status, true), A::kRequestEscalation, facts);
    CHECK_FALSE(asked.accepted);
    CHECK_THAT(asked.reason, Catch::Contains("already asked"));
    facts.escalation_requested_here = false;
    facts.takes_escalation_requests = false;
    Verdict none = decide(state_of(status, false), A::kRequestEscalation, facts);
    CHECK_FALSE(none.accepted);
    CHECK_THAT(none.reason, Catch::Contains("does not take escalation requests"));
  }
  LifecycleFacts facts;
  facts.takes_escalation_requests = true;
  for (S status : {S::kResolved, S::kClosed, S::kWithdrawn})
    CHECK_FALSE(decide(state_of(status, true), A::kRequestEscalation, facts).accepted);
}

TEST_CASE("guard: propose_redress needs at least one offer, stored or inline", "[lifecycle][guards]") {
  LifecycleFacts none;
  Verdict v = decide(state_of(S::kInvestigating, true), A::kProposeRedress, none);
  CHECK_FALSE(v.accepted);
  CHECK_THAT(v.reason, Catch::Contains("offer"));
  LifecycleFacts stored;
  stored.has_pending_offers = true;
  CHECK(decide(state_of(S::kInvestigating, true), A::kProposeRedress, stored).accepted);
  LifecycleFacts inline_offers;
  inline_offers.action_has_offers = true;
  CHECK(decide(state_of(S::kInvestigating, true), A::kProposeRedress, inline_offers).accepted);
  // Listing assumes no inline offers: without stored ones it is not offered.
  auto allowed = allowed_actions(state_of(S::kInvestigating, true), none);
  CHECK(std::find(allowed.begin(), allowed.end(), A::kProposeRedress) == allowed.end());
}

TEST_CASE("guard: an ended case takes internal notes only", "[lifecycle][guards]") {
  for (S status : {S::kClosed, S::kWithdrawn}) {
    INFO(name(status));
    LifecycleFacts to_client;
    to_client.message_internal = false;
    Verdict v = decide(state_of(status, true), A::kAddMessage, to_client);
    CHECK_FALSE(v.accepted);
    CHECK_THAT(v.reason, Catch::Contains("internal"));
    LifecycleFacts internal;
    internal.message_internal = true;
    CHECK(decide(state_of(status, true), A::kAddMessage, internal).accepted);
  }
}

TEST_CASE("a client's message moves an awaiting case back to investigation - staff's does not", "[lifecycle]") {
  LifecycleFacts client;
  client.message_from_client = true;
  Verdict v = decide(state_of(S::kAwaitingClient, true), A::kAddMessage, client);
  REQUIRE(v.accepted);
  CHECK(v.next.status == S::kInvestigating);
  CHECK(v.next.clock == ClockState::kRunning);
  LifecycleFacts staff;
  staff.message_internal = true;
  Verdict w = decide(state_of(S::kAwaitingClient, true), A::kAddMessage, staff);
  REQUIRE(w.accepted);
  CHECK(w.next.status == S::kAwaitingClient);
  CHECK(w.next.clock == ClockState::kPaused);
}

// ---- the clock region ----------------------------------------------------------------------------

TEST_CASE("clock region: request_info pauses, the reply resumes, resolve and withdraw stop, reopen resumes",
          "[lifecycle][clock]") {
  LifecycleFacts facts = table_facts();
  auto step = [&](LifecycleState state, A action) {
    Verdict v = decide(state, action, facts);
    INFO(name(action) << " from " << name(state.status));
    REQUIRE(v.accepted);
    return v.next;
  };
  LifecycleState s{S::kReceived, ClockState::kRunning, false};
  s = step(s, A::kAcknowledge);
  CHECK(s.clock == ClockState::kRunning);
  s = step(s, A::kTake);
  s = step(s, A::kStart);
  CHECK(s == LifecycleState{S::kInvestigating, ClockState::kRunning, true});
  s = step(s, A::kRequestInfo);
  CHECK(s == LifecycleState{S::kAwaitingClient, ClockState::kPaused, true});
  // Actions that do not move the lifecycle leave the clock alone.
  CHECK(step(s, A::kEscalate).clock == ClockState::kPaused);
  CHECK(step(s, A::kOfferRedress).clock == ClockState::kPaused);
  s = step(s, A::kClientReplied);
  CHECK(s == LifecycleState{S::kInvestigating, ClockState::kRunning, true});
  s = step(s, A::kProposeRedress);
  CHECK(s.clock == ClockState::kRunning);
  CHECK(step(s, A::kRejectRedress).clock == ClockState::kRunning);
  s = step(s, A::kAcceptRedress);
  CHECK(s == LifecycleState{S::kResolved, ClockState::kStopped, true});
  s = step(s, A::kReopen);
  CHECK(s == LifecycleState{S::kInvestigating, ClockState::kRunning, true});
  s = step(s, A::kResolve);
  CHECK(s == LifecycleState{S::kResolved, ClockState::kStopped, true});
  s = step(s, A::kClose);
  CHECK(s == LifecycleState{S::kClosed, ClockState::kStopped, true});

  // Withdrawal stops the clock whether it was running or paused.
  CHECK(step(LifecycleState{S::kAwaitingClient, ClockState::kPaused, true}, A::kWithdraw) ==
        LifecycleState{S::kWithdrawn, ClockState::kStopped, true});
  CHECK(step(LifecycleState{S::kReceived, ClockState::kRunning, false}, A::kWithdraw) ==
        LifecycleState{S::kWithdrawn, ClockState::kStopped, false});
  // Resolve from redress_proposed stops it too.
  CHECK(step(LifecycleState{S::kRedressProposed, ClockState::kRunning, true}, A::kResolve).clock ==
        ClockState::kStopped);
}

TEST_CASE("the machine is restored from every stored combination of the three regions", "[lifecycle]") {
  // Restoring never replays: whatever is stored comes back, and an in-place action keeps it.
  for (S status : kStatuses)
    for (ClockState clock : {ClockState::kRunning, ClockState::kPaused, ClockState::kStopped})
      for (bool owned : {false, true}) {
        LifecycleState stored{status, clock, owned};
        LifecycleFacts facts;
        facts.message_internal = true;
        Verdict v = decide(stored, A::kAddMessage, facts);
        INFO(name(status) << " " << to_string(clock) << " " << owned);
        REQUIRE(v.accepted);
        CHECK(v.next == stored);
      }
}

// ---- the ownership invariant ---------------------------------------------------------------------

TEST_CASE("ownership invariant under long random action sequences (seeded)", "[lifecycle][random]") {
  constexpr int kSequences = 200;
  constexpr int kActions = 300;
  std::mt19937 random(20261123);
  std::map<S, int> statuses_seen;
  int accepted_total = 0, owner_changes = 0;
  for (int sequence = 0; sequence < kSequences; ++sequence) {
    LifecycleState state{S::kReceived, ClockState::kRunning, false};
    bool ever_owned = false;
    for (int i = 0; i < kActions; ++i) {
      auto action = static_cast<A>(std::uniform_int_distribution<int>(0, kActionTypeCount - 1)(random));
      std::bernoulli_distribution coin(0.5);
      LifecycleFacts facts;
      facts.has_pending_offers = coin(random);
      facts.has_unfulfilled_redress = coin(random);
      facts.within_reopen_window = coin(random);
      facts.below_top_level = coin(random);
      facts.above_owner_level = coin(random);
      facts.action_has_offers = coin(random);
      facts.action_has_note = coin(random);
      facts.message_from_client = coin(random);
      facts.message_internal = coin(random);
      Verdict v = decide(state, action, facts);
      INFO("sequence " << sequence << " action " << i << ": " << name(action) << " from " << name(state.status));
      if (!v.accepted) {
        REQUIRE(v.next == state);
        REQUIRE_FALSE(v.reason.empty());
        auto allowed = allowed_actions(state, facts, ActionScope::kAll);
        // A refusal for the state (not for a request field) is never listed as allowed.
        if (v.refusal_kind == RefusalKind::kNotAllowed && !facts.action_has_offers &&
            (action != A::kAddMessage || facts.message_internal))
          REQUIRE(std::find(allowed.begin(), allowed.end(), action) == allowed.end());
        continue;
      }
      ++accepted_total;
      // Once owned, never unowned - but for a return to the team's queue before investigation.
      if (ever_owned && !v.next.owned) {
        REQUIRE(action == A::kReturnToQueue);
        REQUIRE((state.status == S::kReceived || state.status == S::kAcknowledged));
        ever_owned = false;
      }
      // Only take and assign give an owner.
      if (!state.owned && v.next.owned) {
        REQUIRE((action == A::kTake || action == A::kAssign));
        ++owner_changes;
      }
      // The clock is stopped exactly when the case is resolved or ended, paused exactly while awaiting.
      REQUIRE((v.next.clock == ClockState::kStopped) ==
              (v.next.status == S::kResolved || v.next.status == S::kClosed || v.next.status == S::kWithdrawn));
      REQUIRE((v.next.clock == ClockState::kPaused) == (v.next.status == S::kAwaitingClient));
      // Investigation never happens without an owner.
      if (v.next.status == S::kInvestigating || v.next.status == S::kAwaitingClient ||
          v.next.status == S::kRedressProposed)
        REQUIRE(v.next.owned);
      // Ended statuses are never left.
      if (is_ended(state.status)) REQUIRE(v.next.status == state.status);
      state = v.next;
      ever_owned = ever_owned || state.owned;
      ++statuses_seen[state.status];
    }
  }
  // The walk reached every status, so the invariant was exercised everywhere.
  CHECK(statuses_seen.size() == kStatuses.size());
  CHECK(accepted_total > kSequences * 10);
  CHECK(owner_changes > 0);
}
