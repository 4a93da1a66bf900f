// The lifecycle machine. Reactions decide and transit; they never throw and never touch the world.
// Each accepted reaction calls accept(); a guard that fails records why and discards the event.
// Internal events (clock and ownership) carry a decision from the lifecycle region to the others.
#include "engine/lifecycle.h"

#include <boost/mpl/list.hpp>
#include <boost/statechart/custom_reaction.hpp>
#include <boost/statechart/event.hpp>
#include <boost/statechart/simple_state.hpp>
#include <boost/statechart/state_machine.hpp>

#include <algorithm>
#include <array>
#include <atomic>

namespace redress {

namespace {
constexpr std::array<std::string_view, kActionTypeCount> kActionNames{"acknowledge",
                                                                      "take",
                                                                      "assign",
                                                                      "transfer",
                                                                      "start",
                                                                      "request_info",
                                                                      "client_replied",
                                                                      "propose_redress",
                                                                      "accept_redress",
                                                                      "reject_redress",
                                                                      "resolve",
                                                                      "reopen",
                                                                      "close",
                                                                      "withdraw",
                                                                      "escalate",
                                                                      "deescalate",
                                                                      "assess",
                                                                      "add_message",
                                                                      "make_commitment",
                                                                      "keep_commitment",
                                                                      "renegotiate_commitment",
                                                                      "offer_redress",
                                                                      "fulfil_redress",
                                                                      "submit_survey",
                                                                      "request_escalation",
                                                                      "exempt_commitment",
                                                                      "hold_message",
                                                                      "accept_message",
                                                                      "reject_message",
                                                                      "record_bounce",
                                                                      "flag_vulnerable",
                                                                      "clear_vulnerable",
                                                                      "tag",
                                                                      "untag",
                                                                      "merge",
                                                                      "link",
                                                                      "unlink",
                                                                      "return_to_queue"};
}  // namespace

std::string_view to_string(ActionType type) { return kActionNames.at(static_cast<std::size_t>(type)); }

std::optional<ActionType> parse_ActionType(std::string_view text) {
  auto it = std::find(kActionNames.begin(), kActionNames.end(), text);
  if (it == kActionNames.end()) return std::nullopt;
  return static_cast<ActionType>(it - kActionNames.begin());
}

namespace {

namespace sc = boost::statechart;
namespace mpl = boost::mpl;
using A = ActionType;

template <ActionType kType>
struct Ev : sc::event<Ev<kType>> {};
// Restore events: one per region, each answered by that region's choice point.
struct EvRestoreLifecycle : sc::event<EvRestoreLifecycle> {};
struct EvRestoreClock : sc::event<EvRestoreClock> {};
struct EvRestoreOwnership : sc::event<EvRestoreOwnership> {};
// Internal events from the lifecycle region to the clock and ownership regions.
struct EvPauseClock : sc::event<EvPauseClock> {};
struct EvResumeClock : sc::event<EvResumeClock> {};
struct EvStopClock : sc::event<EvStopClock> {};
struct EvOwnerSet : sc::event<EvOwnerSet> {};
struct EvOwnerDropped : sc::event<EvOwnerDropped> {};

struct Live;
struct LifecycleChoice;
struct ClockChoice;
struct OwnershipChoice;

struct Machine : sc::state_machine<Machine, Live> {
  Machine(const LifecycleState& stored, const LifecycleFacts& facts) : stored(stored), facts(facts) {}

  bool owned() const;
  void accept() { accepted = true; }
  void refuse(std::string why, RefusalKind kind = RefusalKind::kNotAllowed, std::string field = {}) {
    reason = std::move(why);
    refusal_kind = kind;
    refused_field = std::move(field);
  }
  LifecycleState current() const;

  const LifecycleState stored;  // what the choice points restore
  const LifecycleFacts facts;   // what the guards read
  bool accepted = false;
  RefusalKind refusal_kind = RefusalKind::kNotAllowed;
  std::string reason;
  std::string refused_field;
};

// The three regions run side by side inside Live.
struct Live : sc::simple_state<Live, Machine, mpl::list<LifecycleChoice, ClockChoice, OwnershipChoice>> {};

// ---- Region 0: lifecycle ------------------------------------------------------------------------
struct Open;
struct Received;
struct Acknowledged;
struct Investigating;
struct AwaitingClient;
struct RedressProposed;
struct Resolved;
struct Closed;
struct Withdrawn;

// A state's stable name is its CaseStatus (stored); Machine::current() reads it back.
template <typename Derived, typename Context, CaseStatus kStatus, typename Inner = mpl::list<>>
struct StatusState : sc::simple_state<Derived, Context, Inner> {
  static constexpr CaseStatus kStoredName = kStatus;
};

struct LifecycleChoice : sc::simple_state<LifecycleChoice, Live::orthogonal<0>> {
  using reactions = sc::custom_reaction<EvRestoreLifecycle>;
  sc::result react(const EvRestoreLifecycle&);
};

// Reactions shared by every open status (received to redress_proposed).
struct Open : sc::simple_state<Open, Live::orthogonal<0>, Received> {
  using reactions =
      mpl::list<sc::custom_reaction<Ev<A::kTake>>, sc::custom_reaction<Ev<A::kAssign>>,
                sc::custom_reaction<Ev<A::kTransfer>>, sc::custom_reaction<Ev<A::kWithdraw>>,
                sc::custom_reaction<Ev<A::kEscalate>>, sc::custom_reaction<Ev<A::kDeescalate>>,
                sc::custom_reaction<Ev<A::kAssess>>, sc::custom_reaction<Ev<A::kAddMessage>>,
                sc::custom_reaction<Ev<A::kMakeCommitment>>, sc::custom_reaction<Ev<A::kKeepCommitment>>,
                sc::custom_reaction<Ev<A::kRenegotiateCommitment>>, sc::custom_reaction<Ev<A::kFulfilRedress>>,
                sc::custom_reaction<Ev<A::kRequestEscalation>>, sc::custom_reaction<Ev<A::kExemptCommitment>>,
                sc::custom_reaction<Ev<A::kMerge>>>;

  sc::result react(const Ev<A::kTake>&) {
    auto& m = outermost_context();
    if (m.owned()) {
      m.refuse("the case already has an owner; pass it on with transfer or assign");
      return discard_event();
    }
    m.accept();
    post_event(EvOwnerSet());
    return discard_event();
  }
  sc::result react(const Ev<A::kAssign>&) {
    auto& m = outermost_context();
    if (m.owned() && !m.facts.action_has_note) {
      m.refuse("re-assigning an owned case needs a handover note", RefusalKind::kMissingField, "note");
      return discard_event();
    }
    m.accept();
    post_event(EvOwnerSet());
    return discard_event();
  }
  sc::result react(const Ev<A::kTransfer>&) {
    auto& m = outermost_context();
    if (!m.owned()) {
      m.refuse("only an owned case can be transferred; take or assign it first");
      return discard_event();
    }
    if (!m.facts.action_has_note) {
      m.refuse("a transfer needs a handover note", RefusalKind::kMissingField, "note");
      return discard_event();
    }
    m.accept();
    return discard_event();
  }
  sc::result react(const Ev<A::kWithdraw>&) {
    outermost_context().accept();
    post_event(EvStopClock());
    return transit<Withdrawn>();
  }
  // A duplicate closes into the case that carries on; as closing, never over accepted redress
  // still owed to the client.
  sc::result react(const Ev<A::kMerge>&) {
    auto& m = outermost_context();
    if (m.facts.has_unfulfilled_redress) {
      m.refuse("accepted redress is not fulfilled yet; fulfil it before merging the case into another");
      return discard_event();
    }
    m.accept();
    post_event(EvStopClock());
    return transit<Closed>();
  }
  sc::result react(const Ev<A::kEscalate>&) {
    auto& m = outermost_context();
    if (!m.facts.below_top_level) {
      m.refuse("the case is already at the top of its escalation ladder");
      return discard_event();
    }
    m.accept();
    return discard_event();
  }
  sc::result react(const Ev<A::kDeescalate>&) {
    auto& m = outermost_context();
    if (!m.facts.above_owner_level) {
      m.refuse("the case is not escalated");
      return discard_event();
    }
    m.accept();
    return discard_event();
  }
  sc::result react(const Ev<A::kAssess>&) { return accept_in_place(); }
  sc::result react(const Ev<A::kAddMessage>&) { return accept_in_place(); }
  sc::result react(const Ev<A::kMakeCommitment>&) { return accept_in_place(); }
  sc::result react(const Ev<A::kKeepCommitment>&) { return accept_in_place(); }
  sc::result react(const Ev<A::kRenegotiateCommitment>&) { return accept_in_place(); }
  sc::result react(const Ev<A::kFulfilRedress>&) { return fulfil(); }
  sc::result react(const Ev<A::kExemptCommitment>&) { return accept_in_place(); }
  sc::result react(const Ev<A::kRequestEscalation>&) {
    auto& m = outermost_context();
    if (!m.facts.takes_escalation_requests) {
      m.refuse("this service standard does not take escalation requests from clients");
      return discard_event();
    }
    if (m.facts.escalation_requested_here) {
      m.refuse("escalation was already asked for at this level; it can be asked for again once the case moves up");
      return discard_event();
    }
    m.accept();
    return discard_event();
  }

  sc::result accept_in_place() {
    outermost_context().accept();
    return discard_event();
  }
  sc::result fulfil() {
    auto& m = outermost_context();
    if (!m.facts.has_unfulfilled_redress) {
      m.refuse("there is no accepted redress waiting to be fulfilled");
      return discard_event();
    }
    m.accept();
    return discard_event();
  }
};

// A case that may still wait unowned (received, acknowledged) goes back to its team's queue; a
// handover note says why. From investigation on the reaction is missing, so it is refused.
template <typename Derived>
sc::result return_to_queue(Derived& state) {
  auto& m = state.outermost_context();
  if (!m.owned()) {
    m.refuse("the case is already in its team's queue: nobody owns it");
    return state.discard_event();
  }
  if (!m.facts.action_has_note) {
    m.refuse("returning a case to its team's queue needs a handover note", RefusalKind::kMissingField, "note");
    return state.discard_event();
  }
  m.accept();
  state.post_event(EvOwnerDropped());
  return state.discard_event();
}

struct Received : StatusState<Received, Open, CaseStatus::kReceived> {
  using reactions = mpl::list<sc::custom_reaction<Ev<A::kAcknowledge>>, sc::custom_reaction<Ev<A::kReturnToQueue>>>;
  sc::result react(const Ev<A::kAcknowledge>&) {
    outermost_context().accept();
    return transit<Acknowledged>();
  }
  sc::result react(const Ev<A::kReturnToQueue>&) { return return_to_queue(*this); }
};

// Redress may be prepared from acknowledgement until it is proposed.
template <typename Derived>
sc::result offer_redress(Derived& state) {
  state.outermost_context().accept();
  return state.discard_event();
}

struct Acknowledged : StatusState<Acknowledged, Open, CaseStatus::kAcknowledged> {
  using reactions = mpl::list<sc::custom_reaction<Ev<A::kStart>>, sc::custom_reaction<Ev<A::kOfferRedress>>,
                              sc::custom_reaction<Ev<A::kReturnToQueue>>>;
  sc::result react(const Ev<A::kReturnToQueue>&) { return return_to_queue(*this); }
  sc::result react(const Ev<A::kStart>&) {
    auto& m = outermost_context();
    if (!m.owned()) {
      m.refuse("investigation needs an owner: take or assign the case first");
      return discard_event();
    }
    m.accept();
    return transit<Investigating>();
  }
  sc::result react(const Ev<A::kOfferRedress>&) { return offer_redress(*this); }
};

struct Investigating : StatusState<Investigating, Open, CaseStatus::kInvestigating> {
  using reactions = mpl::list<sc::custom_reaction<Ev<A::kRequestInfo>>, sc::custom_reaction<Ev<A::kProposeRedress>>,
                              sc::custom_reaction<Ev<A::kResolve>>, sc::custom_reaction<Ev<A::kOfferRedress>>>;
  sc::result react(const Ev<A::kRequestInfo>&) {
    outermost_context().accept();
    post_event(EvPauseClock());
    return transit<AwaitingClient>();
  }
  sc::result react(const Ev<A::kProposeRedress>&) {
    auto& m = outermost_context();
    if (!m.facts.has_pending_offers && !m.facts.action_has_offers) {
      m.refuse("propose_redress needs at least one redress offer: add one, or include offers");
      return discard_event();
    }
    m.accept();
    return transit<RedressProposed>();
  }
  sc::result react(const Ev<A::kResolve>&) {
    outermost_context().accept();
    post_event(EvStopClock());
    return transit<Resolved>();
  }
  sc::result react(const Ev<A::kOfferRedress>&) { return offer_redress(*this); }
};

struct AwaitingClient : StatusState<AwaitingClient, Open, CaseStatus::kAwaitingClient> {
  using reactions = mpl::list<sc::custom_reaction<Ev<A::kClientReplied>>, sc::custom_reaction<Ev<A::kAddMessage>>,
                              sc::custom_reaction<Ev<A::kOfferRedress>>>;
  sc::result react(const Ev<A::kClientReplied>&) {
    outermost_context().accept();
    post_event(EvResumeClock());
    return transit<Investigating>();
  }
  // The client's reply moves the case back to investigation by itself.
  sc::result react(const Ev<A::kAddMessage>&) {
    auto& m = outermost_context();
    m.accept();
    if (!m.facts.message_from_client) return discard_event();
    post_event(EvResumeClock());
    return transit<Investigating>();
  }
  sc::result react(const Ev<A::kOfferRedress>&) { return offer_redress(*this); }
};

struct RedressProposed : StatusState<RedressProposed, Open, CaseStatus::kRedressProposed> {
  using reactions = mpl::list<sc::custom_reaction<Ev<A::kAcceptRedress>>, sc::custom_reaction<Ev<A::kRejectRedress>>,
                              sc::custom_reaction<Ev<A::kResolve>>>;
  sc::result react(const Ev<A::kAcceptRedress>&) {
    outermost_context().accept();
    post_event(EvStopClock());
    return transit<Resolved>();
  }
  sc::result react(const Ev<A::kRejectRedress>&) {
    outermost_context().accept();
    return transit<Investigating>();
  }
  sc::result react(const Ev<A::kResolve>&) {
    outermost_context().accept();
    post_event(EvStopClock());
    return transit<Resolved>();
  }
};

struct Resolved : StatusState<Resolved, Live::orthogonal<0>, CaseStatus::kResolved> {
  using reactions =
      mpl::list<sc::custom_reaction<Ev<A::kReopen>>, sc::custom_reaction<Ev<A::kClose>>,
                sc::custom_reaction<Ev<A::kAddMessage>>, sc::custom_reaction<Ev<A::kMakeCommitment>>,
                sc::custom_reaction<Ev<A::kKeepCommitment>>, sc::custom_reaction<Ev<A::kRenegotiateCommitment>>,
                sc::custom_reaction<Ev<A::kFulfilRedress>>, sc::custom_reaction<Ev<A::kSubmitSurvey>>,
                sc::custom_reaction<Ev<A::kExemptCommitment>>>;
  sc::result react(const Ev<A::kReopen>&) {
    auto& m = outermost_context();
    if (!m.facts.within_reopen_window) {
      m.refuse("the reopen window of this case's workflow has ended");
      return discard_event();
    }
    m.accept();
    post_event(EvResumeClock());
    return transit<Investigating>();
  }
  sc::result react(const Ev<A::kClose>&) {
    auto& m = outermost_context();
    if (m.facts.has_unfulfilled_redress) {
      m.refuse("accepted redress is not fulfilled yet; fulfil it before closing");
      return discard_event();
    }
    m.accept();
    return transit<Closed>();
  }
  sc::result react(const Ev<A::kAddMessage>&) { return in_place(); }
  sc::result react(const Ev<A::kMakeCommitment>&) { return in_place(); }
  sc::result react(const Ev<A::kKeepCommitment>&) { return in_place(); }
  sc::result react(const Ev<A::kRenegotiateCommitment>&) { return in_place(); }
  sc::result react(const Ev<A::kSubmitSurvey>&) { return in_place(); }
  sc::result react(const Ev<A::kExemptCommitment>&) { return in_place(); }
  sc::result react(const Ev<A::kFulfilRedress>&) {
    auto& m = outermost_context();
    if (!m.facts.has_unfulfilled_redress) {
      m.refuse("there is no accepted redress waiting to be fulfilled");
      return discard_event();
    }
    m.accept();
    return discard_event();
  }
  sc::result in_place() {
    outermost_context().accept();
    return discard_event();
  }
};

// An ended case still records internal notes, kept promises and delivered redress.
template <typename Derived, CaseStatus kStatus>
struct Ended : StatusState<Derived, Live::orthogonal<0>, kStatus> {
  using Base = StatusState<Derived, Live::orthogonal<0>, kStatus>;
  sc::result note() {
    auto& m = this->outermost_context();
    if (!m.facts.message_internal) {
      m.refuse(std::string("the case is ") + std::string(to_string(kStatus)) + "; only internal notes can be added");
      return this->discard_event();
    }
    m.accept();
    return this->discard_event();
  }
};

struct Closed : Ended<Closed, CaseStatus::kClosed> {
  using reactions = mpl::list<sc::custom_reaction<Ev<A::kAddMessage>>, sc::custom_reaction<Ev<A::kKeepCommitment>>,
                              sc::custom_reaction<Ev<A::kFulfilRedress>>, sc::custom_reaction<Ev<A::kSubmitSurvey>>>;
  sc::result react(const Ev<A::kAddMessage>&) { return note(); }
  sc::result react(const Ev<A::kKeepCommitment>&) {
    outermost_context().accept();
    return discard_event();
  }
  sc::result react(const Ev<A::kFulfilRedress>&) {
    auto& m = outermost_context();
    if (!m.facts.has_unfulfilled_redress) {
      m.refuse("there is no accepted redress waiting to be fulfilled");
      return discard_event();
    }
    m.accept();
    return discard_event();
  }
  sc::result react(const Ev<A::kSubmitSurvey>&) {
    outermost_context().accept();
    return discard_event();
  }
};

// Withdrawal cancels the pledges, but a promise made to the client may still be kept.
struct Withdrawn : Ended<Withdrawn, CaseStatus::kWithdrawn> {
  using reactions = mpl::list<sc::custom_reaction<Ev<A::kAddMessage>>, sc::custom_reaction<Ev<A::kKeepCommitment>>>;
  sc::result react(const Ev<A::kAddMessage>&) { return note(); }
  sc::result react(const Ev<A::kKeepCommitment>&) {
    outermost_context().accept();
    return discard_event();
  }
};

sc::result LifecycleChoice::react(const EvRestoreLifecycle&) {
  switch (outermost_context().stored.status) {
    case CaseStatus::kReceived: return transit<Received>();
    case CaseStatus::kAcknowledged: return transit<Acknowledged>();
    case CaseStatus::kInvestigating: return transit<Investigating>();
    case CaseStatus::kAwaitingClient: return transit<AwaitingClient>();
    case CaseStatus::kRedressProposed: return transit<RedressProposed>();
    case CaseStatus::kResolved: return transit<Resolved>();
    case CaseStatus::kClosed: return transit<Closed>();
    case CaseStatus::kWithdrawn: return transit<Withdrawn>();
  }
  return discard_event();
}

// ---- Region 1: clocks ---------------------------------------------------------------------------
struct ClockRunning;
struct ClockPaused;
struct ClockStopped;

struct ClockChoice : sc::simple_state<ClockChoice, Live::orthogonal<1>> {
  using reactions = sc::custom_reaction<EvRestoreClock>;
  sc::result react(const EvRestoreClock&) {
    switch (outermost_context().stored.clock) {
      case ClockState::kRunning: return transit<ClockRunning>();
      case ClockState::kPaused: return transit<ClockPaused>();
      case ClockState::kStopped: return transit<ClockStopped>();
    }
    return discard_event();
  }
};

struct ClockRunning : sc::simple_state<ClockRunning, Live::orthogonal<1>> {
  using reactions = mpl::list<sc::custom_reaction<EvPauseClock>, sc::custom_reaction<EvStopClock>>;
  sc::result react(const EvPauseClock&) { return transit<ClockPaused>(); }
  sc::result react(const EvStopClock&) { return transit<ClockStopped>(); }
};

struct ClockPaused : sc::simple_state<ClockPaused, Live::orthogonal<1>> {
  using reactions = mpl::list<sc::custom_reaction<EvResumeClock>, sc::custom_reaction<EvStopClock>>;
  sc::result react(const EvResumeClock&) { return transit<ClockRunning>(); }
  sc::result react(const EvStopClock&) { return transit<ClockStopped>(); }
};

struct ClockStopped : sc::simple_state<ClockStopped, Live::orthogonal<1>> {
  using reactions = sc::custom_reaction<EvResumeClock>;
  sc::result react(const EvResumeClock&) { return transit<ClockRunning>(); }
};

// ---- Region 2: ownership ------------------------------------------------------------------------
struct Unowned;
struct Owned;

struct OwnershipChoice : sc::simple_state<OwnershipChoice, Live::orthogonal<2>> {
  using reactions = sc::custom_reaction<EvRestoreOwnership>;
  sc::result react(const EvRestoreOwnership&) {
    if (outermost_context().stored.owned) return transit<Owned>();
    return transit<Unowned>();
  }
};

struct Unowned : sc::simple_state<Unowned, Live::orthogonal<2>> {
  using reactions = sc::custom_reaction<EvOwnerSet>;
  sc::result react(const EvOwnerSet&) { return transit<Owned>(); }
};

// Ownership is passed on; the only way out is back to the team's queue, which only the received
// and acknowledged states allow (return_to_queue above).
struct Owned : sc::simple_state<Owned, Live::orthogonal<2>> {
  using reactions = sc::custom_reaction<EvOwnerDropped>;
  sc::result react(const EvOwnerDropped&) { return transit<Unowned>(); }
};

bool Machine::owned() const { return state_downcast<const Owned*>() != nullptr; }

LifecycleState Machine::current() const {
  LifecycleState state;
  if (state_downcast<const Received*>())
    state.status = CaseStatus::kReceived;
  else if (state_downcast<const Acknowledged*>())
    state.status = CaseStatus::kAcknowledged;
  else if (state_downcast<const Investigating*>())
    state.status = CaseStatus::kInvestigating;
  else if (state_downcast<const AwaitingClient*>())
    state.status = CaseStatus::kAwaitingClient;
  else if (state_downcast<const RedressProposed*>())
    state.status = CaseStatus::kRedressProposed;
  else if (state_downcast<const Resolved*>())
    state.status = CaseStatus::kResolved;
  else if (state_downcast<const Closed*>())
    state.status = CaseStatus::kClosed;
  else
    state.status = CaseStatus::kWithdrawn;
  if (state_downcast<const ClockRunning*>())
    state.clock = ClockState::kRunning;
  else if (state_downcast<const ClockPaused*>())
    state.clock = ClockState::kPaused;
  else
    state.clock = ClockState::kStopped;
  state.owned = owned();
  return state;
}

template <ActionType kType>
void dispatch_one(Machine& machine) {
  machine.process_event(Ev<kType>());
}

using Dispatcher = void (*)(Machine&);
template <std::size_t... I>
constexpr std::array<Dispatcher, sizeof...(I)> make_dispatchers(std::index_sequence<I...>) {
  return {&dispatch_one<static_cast<ActionType>(I)>...};
}
constexpr auto kDispatchers = make_dispatchers(std::make_index_sequence<kActionTypeCount>());

void restore(Machine& machine) {
  machine.initiate();
  machine.process_event(EvRestoreLifecycle());
  machine.process_event(EvRestoreClock());
  machine.process_event(EvRestoreOwnership());
}

}  // namespace

Verdict decide(const LifecycleState& state, ActionType action, const LifecycleFacts& request_facts) {
  // The mail intake's operations are decided as the message they carry: a held message, its
  // rejection and a bounce as an internal note (allowed in every state); an accepted message as the
  // client's own (it moves awaiting_client back to investigating, and is refused once the case ended).
  LifecycleFacts facts = request_facts;
  ActionType decided = action;
  // A vulnerability flag is a staff-only record about the client, a tag a label and a link a
  // pointer to another case: each decided as an internal note.
  if (action == A::kHoldMessage || action == A::kRejectMessage || action == A::kRecordBounce ||
      action == A::kFlagVulnerable || action == A::kClearVulnerable || action == A::kTag || action == A::kUntag ||
      action == A::kLink || action == A::kUnlink) {
    decided = A::kAddMessage;
    facts.message_from_client = false;
    facts.message_internal = true;
  } else if (action == A::kAcceptMessage) {
    decided = A::kAddMessage;
    facts.message_from_client = true;
    facts.message_internal = false;
  }
  Machine machine(state, facts);
  restore(machine);
  kDispatchers.at(static_cast<std::size_t>(decided))(machine);
  Verdict verdict;
  verdict.accepted = machine.accepted;
  verdict.next = machine.accepted ? machine.current() : state;
  if (!machine.accepted) {
    verdict.refusal_kind = machine.refusal_kind;
    verdict.field = machine.refused_field;
    verdict.reason = machine.reason.empty() ? std::string(to_string(action)) + " is not allowed while the case is " +
                                                  std::string(to_string(state.status))
                                            : machine.reason;
  }
  return verdict;
}

namespace {

// Allowed actions depend only on the state and the case facts below; they are computed once per
// combination from the machine itself and cached. Bit 63 marks a computed entry.
constexpr std::uint64_t kComputed = std::uint64_t{1} << 63;
static_assert(kActionTypeCount < 63, "the allowed-actions cache keeps one bit per action");
std::array<std::atomic<std::uint64_t>, 8192> g_allowed_cache{};

std::size_t cache_key(const LifecycleState& s, const LifecycleFacts& f) {
  std::size_t key = static_cast<std::size_t>(s.status);
  key = key * 3 + static_cast<std::size_t>(s.clock);
  key = key * 2 + (s.owned ? 1 : 0);
  key = key * 2 + (f.has_pending_offers ? 1 : 0);
  key = key * 2 + (f.has_unfulfilled_redress ? 1 : 0);
  key = key * 2 + (f.within_reopen_window ? 1 : 0);
  key = key * 2 + (f.below_top_level ? 1 : 0);
  key = key * 2 + (f.above_owner_level ? 1 : 0);
  key = key * 2 + (f.takes_escalation_requests ? 1 : 0);
  key = key * 2 + (f.escalation_requested_here ? 1 : 0);
  return key;  // < 8 * 3 * 2 * 128 = 6144
}

}  // namespace

std::vector<ActionType> allowed_actions(const LifecycleState& state, const LifecycleFacts& case_facts,
                                        ActionScope scope) {
  LifecycleFacts facts = case_facts;
  facts.action_has_offers = false;
  facts.action_has_note = true;
  facts.message_from_client = false;
  facts.message_internal = true;
  auto& slot = g_allowed_cache[cache_key(state, facts)];
  std::uint64_t mask = slot.load(std::memory_order_acquire);
  if (!(mask & kComputed)) {
    mask = kComputed;
    for (int i = 0; i < kActionTypeCount; ++i)
      if (decide(state, static_cast<ActionType>(i), facts).accepted) mask |= std::uint64_t{1} << i;
    slot.store(mask, std::memory_order_release);
  }
  std::vector<ActionType> allowed;
  int count = scope == ActionScope::kLifecycleOnly ? kLifecycleActionCount : kActionTypeCount;
  for (int i = 0; i < count; ++i)
    if (mask & (std::uint64_t{1} << i)) allowed.push_back(static_cast<ActionType>(i));
  return allowed;
}

std::vector<std::string> allowed_action_names(const LifecycleState& state, const LifecycleFacts& facts) {
  std::vector<std::string> names;
  for (auto action : allowed_actions(state, facts)) names.emplace_back(to_string(action));
  return names;
}

}  // namespace redress
