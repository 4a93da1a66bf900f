#include "engine/pledges.h"

#include <algorithm>
#include <cmath>

#include "engine/actions.h"
#include "engine/clocks.h"
#include "engine/plan_steps.h"

namespace redress {

namespace {

constexpr const char* kClockEvents[] = {"case.received",       "case.acknowledged", "case.info_requested",
                                        "case.client_replied", "case.resolved",     "case.reopened",
                                        "case.withdrawn",      "case.closed",       "case.assessed"};

bool moves_clocks(const std::string& type) {
  return std::any_of(std::begin(kClockEvents), std::end(kClockEvents), [&](const char* t) { return type == t; });
}

json::value time_or_null(Time t) { return t == Time::max() ? json::value(nullptr) : json::value(format_time(t)); }

// "retail/final_response#2" → ("retail", "final_response").
std::pair<std::string, std::string> split_key(const std::string& key) {
  auto slash = key.find('/');
  auto hash = key.rfind('#');
  if (slash == std::string::npos || hash == std::string::npos || hash < slash) return {};
  return {key.substr(0, slash), key.substr(slash + 1, hash - slash - 1)};
}

const ClockRule* clock_of(const Commitment& c, const WorkflowSet& workflows) {
  if (c.kind != CommitmentKind::kPledge) return nullptr;
  auto [workflow, clock] = split_key(c.pledge_key);
  const Workflow* w = workflows.find(workflow);
  return w ? w->find_clock(clock) : nullptr;
}

BreachRule breach_rule(const Commitment& c, const Workflow& workflow, const WorkflowSet& workflows) {
  if (const ClockRule* rule = clock_of(c, workflows)) return rule->breach;
  if (c.kind == CommitmentKind::kRedress) return workflow.redress_breach;
  return BreachRule{};
}

json::object commitment_ref(const Commitment& c) {
  json::object o{{"commitment_id", commitment_display_id(c.id)},
                 {"kind", to_string(c.kind)},
                 {"text", c.text},
                 {"due_at", time_or_null(c.due_at)},
                 {"owner", c.owner_id},
                 {"client_visible", c.client_visible}};
  if (!c.pledge_key.empty()) o["pledge"] = c.pledge_key;
  return o;
}

void owe_redress_commitment(ChangeBuilder& b, const Redress& r, const Workflow& workflow, WriteContext& context) {
  Commitment c;
  c.id = context.next_id(WriteContext::IdKind::kCommitment);
  c.case_id = b.record().id;
  c.kind = CommitmentKind::kRedress;
  c.text = "Pay " + std::string(to_string(r.kind)) +
           (r.amount_minor ? " of " + format_amount(*r.amount_minor) + " " + r.currency : std::string()) +
           (r.text.empty() ? std::string() : ": " + r.text);
  c.due_at = workflow.redress_due_at(b.now());
  c.owner_id = b.record().owner_id;
  c.client_visible = true;
  c.created_at = b.now();
  c.redress_id = r.id;
  json::object data = commitment_ref(c);
  data["redress_id"] = redress_display_id(r.id);
  b.event("commitment.made", std::move(data), Actor::system().text());
  b.put(std::move(c));
  ++b.record().unfulfilled_redress;
}

// Records automatic compensation of `amount` for `broken`: accepted on the client's behalf (the
// standard grants it), with its redress.granted event.
Redress granted_redress(ChangeBuilder& b, const Commitment& broken, const Compensation& compensation,
                        std::int64_t amount, std::string text, WriteContext& context) {
  Redress r;
  r.id = context.next_id(WriteContext::IdKind::kRedress);
  r.case_id = b.record().id;
  r.kind = compensation.kind;
  r.amount_minor = amount;
  r.currency = compensation.currency;
  r.text = std::move(text);
  r.status = RedressStatus::kAccepted;
  r.automatic = true;
  r.created_at = b.now();
  r.decided_at = b.now();
  r.commitment_id = broken.id;
  b.event("redress.granted",
          json::object{{"redress_id", redress_display_id(r.id)},
                       {"kind", to_string(r.kind)},
                       {"amount", format_amount(amount)},
                       {"currency", r.currency},
                       {"text", r.text},
                       {"automatic", true},
                       {"commitment_id", commitment_display_id(broken.id)}},
          Actor::system().text());
  b.put(r);
  return r;
}

// Automatic compensation for a broken commitment, owed at once (accepted on the client's behalf:
// the standard grants it), with a commitment to pay it.
void grant(ChangeBuilder& b, const Commitment& broken, const Compensation& compensation, const Workflow& workflow,
           WriteContext& context) {
  Redress r = granted_redress(
      b, broken, compensation, compensation.amount_for(Duration::zero()),
      compensation.text.empty() ? "Compensation: " + broken.text + " was not met in time" : compensation.text, context);
  owe_redress_commitment(b, r, workflow, context);
}

// The failure a payment answers: for automatic compensation, the commitment whose breach granted
// it (all its top-ups share it); for accepted redress, the offer itself. 0 for anything else.
std::int64_t failure_paid(const ChangeBuilder& b, const Commitment& c) {
  if (c.kind != CommitmentKind::kRedress) return 0;
  for (const auto& r : b.redress())
    if (r.id == c.redress_id) return r.automatic && r.commitment_id != 0 ? r.commitment_id : -r.id;
  return 0;
}

// True when a late payment of the same failure has already owed its penalty: the penalty is owed
// once per failure (a supply restored late is paid in top-ups, each its own payment to make, but
// paying them late is one failure to pay).
bool penalty_owed_already(const ChangeBuilder& b, const Commitment& c) {
  const std::int64_t failure = failure_paid(b, c);
  if (failure == 0) return false;
  for (const auto& r : b.redress()) {
    if (!r.automatic || r.commitment_id == 0 || r.commitment_id == c.id) continue;
    const Commitment* late = b.find_commitment(r.commitment_id);
    if (late && late->kind == CommitmentKind::kRedress && failure_paid(b, *late) == failure) return true;
  }
  return false;
}

// True for the commitment to pay a late-payment penalty: its own lateness owes no further penalty
// (else penalties would chase penalties every redress term).
bool pays_a_penalty(const ChangeBuilder& b, const Commitment& c) {
  if (c.kind != CommitmentKind::kRedress) return false;
  for (const auto& r : b.redress())
    if (r.id == c.redress_id && r.automatic && r.commitment_id != 0)
      if (const Commitment* answered = b.find_commitment(r.commitment_id))
        return answered->kind == CommitmentKind::kRedress;
  return false;
}

void notify_staff(ChangeBuilder& b, const std::string& staff_id, const Workflow& workflow, const char* template_name,
                  WriteContext& context) {
  if (auto owner = context.find_staff(staff_id)) {
    b.email_staff(*owner, "owner", template_name);
    return;
  }
  // Unowned: the team's leads answer for it.
  for (const auto& lead : context.staff_with_roles({Role::kLead}, {workflow.team}))
    b.email_staff(lead, "team", template_name);
}

// The pledge of the clock a holding reply answers fell due unmet before the case was resolved
// and none was sent: the standard requires one now (FCA DISP 1.6.2R(2) at eight weeks). The case
// records it (case.holding_reply_due) and the owner, or the team's leads, are prompted by mail.
void prompt_holding_reply(ChangeBuilder& b, const Commitment& c, const Workflow& workflow, WriteContext& context) {
  if (!workflow.holding_reply || c.kind != CommitmentKind::kPledge) return;
  if (split_key(c.pledge_key).second != workflow.holding_reply->clock) return;
  const Case& record = b.record();
  if (!is_open(record.status) || record.holding_reply_at) return;
  json::object data{{"commitment_id", commitment_display_id(c.id)}, {"clock", workflow.holding_reply->clock}};
  if (!workflow.holding_reply->rule.empty()) data["rule"] = workflow.holding_reply->rule;
  b.event("case.holding_reply_due", std::move(data), Actor::system().text());
  notify_staff(b, record.owner_id, workflow, "staff.holding_reply_due", context);
}

void break_commitment(ChangeBuilder& b, Commitment c, const WorkflowSet& workflows, WriteContext& context) {
  const Workflow& workflow = workflow_of(b.record(), workflows);
  c.status = CommitmentStatus::kBroken;
  c.settled_at = c.due_at;
  b.put(c);
  b.event("commitment.broken", commitment_ref(c), Actor::system().text());
  BreachRule rule = breach_rule(c, workflow, workflows);

  int from = b.record().escalation_level;
  std::string clock = split_key(c.pledge_key).second;
  int target = triggered_level(workflow, from, [&](const EscalationTrigger& t) {
    if (t.kind == TriggerKind::kCommitmentBroken) return t.matches_broken(c.kind, c.client_visible);
    return t.kind == TriggerKind::kClockBreach && c.kind == CommitmentKind::kPledge &&
           (t.clock.empty() || t.clock == clock);
  });
  if (rule.escalate_to) target = std::max(target, std::min(*rule.escalate_to, workflow.max_escalation_level()));
  bool raised = target > from;
  if (raised)
    raise_level(b, workflow, target, "commitment " + commitment_display_id(c.id) + " was broken: " + c.text,
                "commitment.broken", context);

  std::vector<NotifyTarget> targets = rule.notify;
  if (targets.empty()) targets = {NotifyTarget::kOwner, NotifyTarget::kClient};
  for (NotifyTarget t : targets) {
    switch (t) {
      case NotifyTarget::kClient:
        if (c.client_visible) b.email_client("client.commitment_broken");
        break;
      case NotifyTarget::kOwner:
        notify_staff(b, c.owner_id.empty() ? b.record().owner_id : c.owner_id, workflow, "staff.commitment_broken",
                     context);
        break;
      case NotifyTarget::kTeam:
        for (const auto& lead : context.staff_with_roles({Role::kLead, Role::kManager}, {workflow.team}))
          b.email_staff(lead, "team", "staff.commitment_broken");
        break;
      case NotifyTarget::kEscalationLevel:
        if (!raised) notify_escalation(b, workflow, b.record().escalation_level, context);
        break;
    }
  }
  // Automatic compensation, unless an exemption was recorded; a late-payment penalty once per failure.
  if (rule.compensation && c.exemption.empty() && !pays_a_penalty(b, c) && !penalty_owed_already(b, c))
    grant(b, c, *rule.compensation, workflow, context);
  prompt_holding_reply(b, c, workflow, context);
}

void raise_warning(ChangeBuilder& b, Commitment c, const WorkflowSet& workflows, WriteContext& context) {
  const Workflow& workflow = workflow_of(b.record(), workflows);
  double fraction = 0;
  if (const ClockRule* rule = clock_of(c, workflows))
    if (c.warnings_fired < static_cast<int>(rule->warnings.size()))
      fraction = rule->warnings[static_cast<std::size_t>(c.warnings_fired)];
  Time at = c.warning_times[static_cast<std::size_t>(c.warnings_fired)];
  ++c.warnings_fired;
  b.put(c);
  json::object data = commitment_ref(c);
  data["fraction"] = fraction;
  data["warning_at"] = format_time(at);
  b.event("commitment.at_risk", std::move(data), Actor::system().text());
  std::string clock = split_key(c.pledge_key).second;
  int from = b.record().escalation_level;
  int target = triggered_level(workflow, from, [&](const EscalationTrigger& t) {
    return t.kind == TriggerKind::kClockWarning && c.kind == CommitmentKind::kPledge &&
           (t.clock.empty() || t.clock == clock) && (t.fraction == 0 || std::abs(t.fraction - fraction) < 1e-9);
  });
  if (target > from)
    raise_level(b, workflow, target, "commitment " + commitment_display_id(c.id) + " is at risk: " + c.text,
                "commitment.at_risk", context);
  notify_staff(b, c.owner_id.empty() ? b.record().owner_id : c.owner_id, workflow, "staff.commitment_at_risk", context);
}

// A pledge met after its due time: it stays broken; per-period compensation is settled now.
void met_late(ChangeBuilder& b, const Commitment& c, Time met_at, const WorkflowSet& workflows, WriteContext& context) {
  Duration late = met_at - c.due_at;
  b.event("commitment.met_late",
          json::object{{"commitment_id", commitment_display_id(c.id)},
                       {"met_at", format_time(met_at)},
                       {"late_by", format_duration(late)}},
          Actor::system().text());
  const ClockRule* rule = clock_of(c, workflows);
  if (!rule || !rule->breach.compensation || rule->breach.compensation->per_period_minor == 0) return;
  if (!c.exemption.empty()) return;  // exempt: no further sum
  const Compensation& compensation = *rule->breach.compensation;
  std::int64_t owed = compensation.amount_for(late);
  std::int64_t granted = 0;
  for (const auto& r : b.redress())
    if (r.automatic && r.commitment_id == c.id) granted += r.amount_minor.value_or(0);
  if (owed <= granted) return;
  const Workflow& workflow = workflow_of(b.record(), workflows);
  Redress r = granted_redress(b, c, compensation, owed - granted,
                              (compensation.text.empty() ? std::string("Compensation") : compensation.text) +
                                  ": further payment for " + format_duration(late) + " late",
                              context);
  owe_redress_commitment(b, r, workflow, context);
}

// The commitment that carries a run: the latest with its key (a renegotiated pledge's successor
// carries the key on).
const Commitment* find_pledge(const ChangeBuilder& b, const std::string& key) {
  const Commitment* found = nullptr;
  for (const auto& c : b.commitments())
    if (c.kind == CommitmentKind::kPledge && c.pledge_key == key) found = &c;
  return found;
}

void sync_run(ChangeBuilder& b, const PledgeRun& run, const WorkflowSet& workflows, WriteContext& context) {
  const Commitment* found = find_pledge(b, run.key());
  if (!found) {
    Commitment c;
    c.id = context.next_id(WriteContext::IdKind::kCommitment);
    c.case_id = b.record().id;
    c.kind = CommitmentKind::kPledge;
    c.text = run.text;
    c.due_at = run.due_at;
    c.owner_id = b.record().owner_id;
    c.client_visible = run.client_visible;
    c.created_at = run.opened_at;
    c.pledge_key = run.key();
    c.warning_times = run.warning_times;
    c.rule_due_at = run.due_at;
    b.put(c);
    b.event("commitment.made", commitment_ref(c), Actor::system().text());
    found = find_pledge(b, run.key());
  }
  Commitment c = *found;
  // The time the pledge's rule sets: the run's due time, or, for a pledge moved under its
  // exceptional target, that target's due time for the same run.
  std::optional<Time> rule_time = run.due_at;
  if (c.replaces_id != 0)
    if (const ClockRule* rule = clock_of(c, workflows); rule && rule->renegotiation == Renegotiation::kExceptional)
      if (const Workflow* w = workflows.find(run.workflow))
        rule_time = rule->exceptional_due_at(w->calendar, run.started, run.pauses);
  if (c.status == CommitmentStatus::kOpen) {
    c.rule_due_at = rule_time;
    if (run.met_at) {
      if (*run.met_at > c.due_at) {
        // Due before the scheduler got to it: it broke at its due time, whatever came since.
        break_commitment(b, c, workflows, context);
        met_late(b, *find_pledge(b, run.key()), *run.met_at, workflows, context);
        return;
      }
      c.status = CommitmentStatus::kKept;
      c.settled_at = *run.met_at;
      c.note = "met";
      b.put(c);
      b.event("commitment.kept",
              json::object{{"commitment_id", commitment_display_id(c.id)}, {"note", "met"}, {"pledge", c.pledge_key}},
              Actor::system().text());
    } else if (run.cancelled_at) {
      c.status = CommitmentStatus::kCancelled;
      c.settled_at = *run.cancelled_at;
      c.note = run.cancel_reason;
      b.put(c);
      b.event("commitment.cancelled",
              json::object{{"commitment_id", commitment_display_id(c.id)}, {"reason", run.cancel_reason}},
              Actor::system().text());
    } else if (c.replaces_id == 0 && (c.due_at != run.due_at || c.warning_times != run.warning_times)) {
      // A pause began or ended: the due time is derived from the history, not an event of its own.
      c.due_at = run.due_at;
      c.warning_times = run.warning_times;
      b.put(c);
    } else if (c.rule_due_at != found->rule_due_at) {
      b.put(c);  // a moved pledge's rule time follows the pauses as its due time would have
    }
  } else if (c.status == CommitmentStatus::kBroken && run.met_at) {
    met_late(b, c, *run.met_at, workflows, context);
  }
}

Result<ClockFold> restore_fold(const CaseSnapshot* current, const Case& record, const WorkflowSet& workflows,
                               WriteContext& context) {
  if (!current) return ClockFold(workflows, record.workflow, record.category);
  if (current->clock_fold && !current->clock_state.empty()) return *current->clock_fold;  // already restored
  if (!current->clock_state.empty())
    if (auto fold = ClockFold::restore(workflows, current->clock_state)) return fold;
  // No state stored (a case older than the clocks) or one this binary cannot read: fold the history.
  ClockFold fold(workflows, record.workflow, record.category);
  for (const auto& e : context.case_history(record.id)) (void)fold.apply(e);
  return fold;
}

}  // namespace

const ClockRule* pledge_clock(const Commitment& c, const WorkflowSet& workflows) { return clock_of(c, workflows); }

bool compensates(const Commitment& c, const Workflow& workflow, const WorkflowSet& workflows) {
  return breach_rule(c, workflow, workflows).compensation.has_value();
}

PledgeMove pledge_move(const CaseSnapshot& current, const Commitment& c, const WorkflowSet& workflows,
                       WriteContext& context) {
  PledgeMove move;
  if (c.kind != CommitmentKind::kPledge) return move;
  const ClockRule* rule = clock_of(c, workflows);
  auto [workflow_name, clock_name] = split_key(c.pledge_key);
  move.workflow = workflow_name;
  move.rule_due_at = c.rule_due_at;
  if (!rule) return move;  // a clock no longer published: it moves as a promise would
  move.clock = rule;
  move.renegotiation = rule->renegotiation;
  const Workflow* workflow = workflows.find(workflow_name);
  switch (rule->renegotiation) {
    case Renegotiation::kNever: move.latest = c.due_at; break;
    case Renegotiation::kAllowed:
      if (rule->renegotiation_limit && workflow)
        move.latest = workflow->calendar.add(c.rule_due_at.value_or(c.due_at), *rule->renegotiation_limit,
                                             TimeBasis::kCalendar);
      break;
    case Renegotiation::kExceptional: {
      // The exceptional target of the same run, its pauses counted as the run's own.
      auto fold = restore_fold(&current, current.record, workflows, context);
      if (fold && workflow)
        for (const auto& run : fold->runs())
          if (run.key() == c.pledge_key) move.latest = rule->exceptional_due_at(workflow->calendar, run.started, run.pauses);
      if (!move.latest) move.latest = c.due_at;  // no run to measure from: it cannot move
      move.rule_due_at = move.latest;
      break;
    }
  }
  return move;
}

void fold_clocks(ChangeBuilder& b, const CaseSnapshot* current, const WorkflowSet& workflows, WriteContext& context) {
  if (workflows.empty()) return;
  std::size_t count = b.events().size();  // events appended below are commitment events: no clock moves
  // Most actions (notes, promises, ownership) move no clock: the stored state stays as it is.
  if (current && !current->clock_state.empty() &&
      std::none_of(b.events().begin(), b.events().end(), [](const Event& e) { return ClockFold::may_change(e); }))
    return;
  auto fold = restore_fold(current, b.record(), workflows, context);
  if (!fold) return;
  bool moved = false;
  for (std::size_t i = 0; i < count; ++i) {
    Event e = b.events()[i];
    auto changed = fold->apply(e);
    moved = moved || !changed.empty() || moves_clocks(e.type);
    for (std::size_t index : changed) sync_run(b, fold->runs()[index], workflows, context);
  }
  if (moved || !current || current->clock_state.empty()) {
    b.change().clock_state = fold->serialise();
    b.change().clock_fold = std::make_shared<const ClockFold>(std::move(fold).value());
  }
}

void fire_due(ChangeBuilder& b, const WorkflowSet& workflows, WriteContext& context) {
  Time now = b.now();
  // Each pass fires the earliest thing due; a breach or warning may change others (escalation
  // does not move due times, so this ends after at most one pass per warning and breach).
  for (int guard = 0; guard < 10000; ++guard) {
    const Commitment* next = nullptr;
    Time at = Time::max();
    bool is_breach = false;
    for (const auto& c : b.commitments()) {
      if (c.status != CommitmentStatus::kOpen) continue;
      if (auto w = c.next_warning(); w && *w <= now && *w < c.due_at && *w < at) {
        next = &c, at = *w, is_breach = false;
      }
      if (c.due_at <= now && c.due_at < at) next = &c, at = c.due_at, is_breach = true;
    }
    if (!next) return;
    Commitment c = *next;
    if (is_breach)
      break_commitment(b, std::move(c), workflows, context);
    else
      raise_warning(b, std::move(c), workflows, context);
  }
}

std::optional<Time> wake_time(const Case& record, const std::vector<Commitment>& commitments,
                              const WorkflowSet& workflows) {
  Time wake = Time::max();
  for (const auto& c : commitments) {
    if (c.status != CommitmentStatus::kOpen) continue;
    wake = std::min(wake, c.due_at);
    if (auto w = c.next_warning()) wake = std::min(wake, *w);
  }
  if (record.status == CaseStatus::kResolved && record.resolved_at && !workflows.empty()) {
    const Workflow& workflow = workflow_of(record, workflows);
    if (record.unfulfilled_redress == 0) wake = std::min(wake, *record.resolved_at + workflow.reopen_window);
  }
  if (wake == Time::max()) return std::nullopt;
  return wake;
}

void set_wake(ChangeBuilder& b, const CaseSnapshot* current, const WorkflowSet& workflows, WakeWrite write) {
  auto after = wake_time(b.record(), b.commitments(), workflows);
  if (write == WakeWrite::kWhenMoved) {
    std::optional<Time> before;
    if (current) before = wake_time(current->record, current->commitments, workflows);
    if (before == after) return;
  }
  Change& change = b.change();
  change.wake = after ? Change::Wake::kSet : Change::Wake::kClear;
  change.wake_at = after.value_or(Time{});
}

void follow_owner(ChangeBuilder& b) {
  const std::string& owner = b.record().owner_id;
  std::vector<Commitment> moved;
  for (const auto& c : b.commitments())
    if (c.status == CommitmentStatus::kOpen && c.owner_id != owner) moved.push_back(c);
  for (auto& c : moved) {
    c.owner_id = owner;
    b.put(std::move(c));
  }
}

Result<Change> plan_breach_handled(const CaseSnapshot& current, std::int64_t commitment_id, const Actor& actor,
                                   const std::string& note, const WorkflowSet& workflows, Time now,
                                   WriteContext& context) {
  (void)workflows;
  (void)context;
  if (actor.kind != Actor::Kind::kStaff) return Error::forbidden("only staff record how a breach was handled");
  if (note.empty()) return Error::invalid_field("note", "say what was done about the broken commitment");
  if (note.size() > kMaxLongText)
    return Error::invalid_field("note", "is longer than " + std::to_string(kMaxLongText) + " characters");
  auto it = std::find_if(current.commitments.begin(), current.commitments.end(),
                         [&](const Commitment& c) { return c.id == commitment_id; });
  if (it == current.commitments.end())
    return Error::not_found("no commitment " + commitment_display_id(commitment_id) + " on this case");
  if (it->status != CommitmentStatus::kBroken)
    return Error::refused("commitment " + commitment_display_id(commitment_id) + " is " +
                              std::string(to_string(it->status)) + "; only a broken commitment is handled",
                          {});
  if (it->handled_at)
    return Error::refused(
        "commitment " + commitment_display_id(commitment_id) + " was handled at " + format_time(*it->handled_at), {});
  ChangeBuilder b(current.record, actor, now, current.record.version, current.commitments, current.redress);
  Commitment c = *it;
  c.handled_at = now;
  c.handled_note = note;
  b.put(c);
  b.event("commitment.breach_handled", json::object{{"commitment_id", commitment_display_id(c.id)}, {"note", note}});
  return std::move(b).finish();
}

}  // namespace redress
