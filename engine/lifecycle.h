// The case lifecycle: which action is allowed from which state, and where it leads.
//
// The rules of the SPEC's lifecycle table live in a Boost.Statechart machine (lifecycle.cpp) with
// three orthogonal regions: the lifecycle status, the clocks (running, paused while awaiting the
// client, stopped once resolved or ended) and ownership (unowned, owned). Ownership goes back to
// unowned only while a case may wait in its team's queue (received, acknowledged: return_to_queue,
// with a handover note); from investigation on it keeps exactly one owner, passed on, never dropped.
//
// The machine is restored from the stored state through choice points (one per region), never by
// replaying a case's history. Deciding is pure: no I/O, no clock, no throwing. All functions are
// thread-safe; each call builds its own machine.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model.h"

namespace redress {

// Every change a case can undergo. The first block is the SPEC's lifecycle table; the second are
// the case operations that do not move the lifecycle but are still refused in some states.
enum class ActionType {
  kAcknowledge,
  kTake,
  kAssign,
  kTransfer,
  kStart,
  kRequestInfo,
  kClientReplied,
  kProposeRedress,
  kAcceptRedress,
  kRejectRedress,
  kResolve,
  kReopen,
  kClose,
  kWithdraw,
  kEscalate,
  kDeescalate,
  kAssess,
  // Case operations.
  kAddMessage,
  kMakeCommitment,
  kKeepCommitment,
  kRenegotiateCommitment,
  kOfferRedress,
  kFulfilRedress,
  kSubmitSurvey,
  kRequestEscalation,  // the client asks for the case to be escalated (once per escalation level)
  kExemptCommitment,   // record an exemption: the commitment's breach owes no automatic compensation
  // The mail intake's operations (engine/README: inbound mail). hold_message and record_bounce are
  // the intake's own; staff accept or reject what was held. Each is decided as the message it carries.
  kHoldMessage,
  kAcceptMessage,
  kRejectMessage,
  kRecordBounce,
  // Staff flag the client as vulnerable (FCA FG21/1), or clear the flag; staff-only, never mailed.
  kFlagVulnerable,
  kClearVulnerable,
  // The desk's operations (issue 27). Tags are staff's labels: decided as an internal note. A
  // merge closes a duplicate into another case (the lifecycle's own move: any open status to
  // closed); link and unlink relate two cases, decided as a note on each. Merge, link and unlink
  // change two cases, which the engine writes together (Engine::submit).
  kTag,
  kUntag,
  kMerge,
  kLink,
  kUnlink,
  // The owner (or a lead) gives a case that is still received or acknowledged back to its team's
  // unowned queue, with a handover note (a leaver's hand-over, docs/desk.md).
  kReturnToQueue,
};
inline constexpr int kActionTypeCount = static_cast<int>(ActionType::kReturnToQueue) + 1;
inline constexpr int kLifecycleActionCount = static_cast<int>(ActionType::kAssess) + 1;

[[nodiscard]] std::string_view to_string(ActionType type);
[[nodiscard]] std::optional<ActionType> parse_ActionType(std::string_view text);
[[nodiscard]] inline bool is_lifecycle_action(ActionType type) {
  return static_cast<int>(type) < kLifecycleActionCount;
}
// Merge, link and unlink: actions that change a second case (ActionRequest::other_case) too.
[[nodiscard]] inline bool acts_on_two_cases(ActionType type) {
  return type == ActionType::kMerge || type == ActionType::kLink || type == ActionType::kUnlink;
}

// The stored state the machine is restored from.
struct LifecycleState {
  CaseStatus status = CaseStatus::kReceived;
  ClockState clock = ClockState::kRunning;
  bool owned = false;
  friend bool operator==(const LifecycleState&, const LifecycleState&) = default;
};

// Facts about the case and the request that the guards read besides the machine's own state.
struct LifecycleFacts {
  bool has_pending_offers = false;       // redress offers proposed and undecided
  bool has_unfulfilled_redress = false;  // accepted redress not yet delivered
  bool within_reopen_window = false;     // now < resolved_at + the workflow's reopen window
  bool below_top_level = true;           // escalation level < the ladder's top
  bool above_owner_level = false;        // escalation level > 0
  bool takes_escalation_requests = false;  // the workflow's ladder names a client_request trigger
  bool escalation_requested_here = false;  // the client already asked for escalation at this level
  // Request facts: set from the action being decided; left false when listing allowed actions.
  bool action_has_offers = false;    // propose_redress carries offers inline
  bool action_has_note = false;      // a handover note is present
  bool message_from_client = false;  // add_message written by the client
  bool message_internal = false;     // add_message is an internal note
};

enum class RefusalKind {
  kNotAllowed,    // not allowed from this state, or a guard on the case failed (HTTP 409)
  kMissingField,  // allowed, but the request lacks a field the rule requires (HTTP 422)
};

struct Verdict {
  bool accepted = false;
  LifecycleState next;  // the state after the action (unchanged when refused)
  RefusalKind refusal_kind = RefusalKind::kNotAllowed;
  std::string reason;  // why it was refused; empty when accepted
  std::string field;   // for kMissingField: the field required
};

// Runs `action` on a machine restored from `state`.
[[nodiscard]] Verdict decide(const LifecycleState& state, ActionType action, const LifecycleFacts& facts);

// The actions `decide` would accept now (request facts assumed present), in ActionType order.
// `lifecycle_only` limits the list to the SPEC's lifecycle table.
enum class ActionScope { kLifecycleOnly, kAll };
[[nodiscard]] std::vector<ActionType> allowed_actions(const LifecycleState& state, const LifecycleFacts& facts,
                                                      ActionScope scope = ActionScope::kLifecycleOnly);
[[nodiscard]] std::vector<std::string> allowed_action_names(const LifecycleState& state, const LifecycleFacts& facts);

}  // namespace redress
