#include "engine/plan_steps.h"

namespace redress {

const Workflow& workflow_of(const Case& record, const WorkflowSet& workflows) {
  if (const auto* w = workflows.find(record.workflow)) return *w;
  return workflows.route(record.category, record.channel);
}

void notify_escalation(ChangeBuilder& b, const Workflow& workflow, int level, WriteContext& context) {
  if (level < 1 || level > workflow.max_escalation_level()) return;
  const auto& rung = workflow.escalation[static_cast<std::size_t>(level - 1)];
  for (const auto& staff : context.staff_with_roles(rung.roles, rung.teams))
    b.email_staff(staff, "escalation", "staff.escalated");
  for (const auto& email : rung.staff)
    if (auto staff = context.find_staff(email)) b.email_staff(*staff, "escalation", "staff.escalated");
}

void raise_level(ChangeBuilder& b, const Workflow& workflow, int to_level, const std::string& reason,
                 const std::string& cause, WriteContext& context) {
  int from = b.record().escalation_level;
  b.record().escalation_level = to_level;
  b.event("case.escalated",
          json::object{{"from_level", from}, {"to_level", to_level}, {"reason", reason}, {"cause", cause}});
  notify_escalation(b, workflow, to_level, context);
}

Result<Change> within_calendars(const WorkflowSet& workflows, const std::function<Result<Change>()>& plan) {
  try {
    return plan();
  } catch (const CalendarExhausted& exhausted) {
    std::string whose = "a";
    for (const auto& w : workflows.all())
      if (&w.calendar == &exhausted.calendar())
        whose = "the " + w.name + " standard's" + (w.source.empty() ? std::string() : " (" + w.source + ")");
    const auto& years = exhausted.calendar().years();
    return Error::calendar_exhausted(
        "a deadline needs " + format_date(exhausted.day()) + ", which " + whose + " business calendar does not cover" +
        (years ? " (its holidays are listed for " + std::to_string(years->first) + "-" + std::to_string(years->last) +
                     ")"
               : std::string()) +
        ": add that year's holidays and last_year to the calendar, then restart");
  }
}

}  // namespace redress
