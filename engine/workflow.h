// Workflow: a published service standard, as the engine sees it.
//
// Workflows are data (TOML files in workflows/, read by workflows/loader.h). The engine reads them
// to route cases, check final responses, bound escalation and the reopen window, and (in the
// commitments module) to compute pledges on the business calendar. A WorkflowSet is immutable after
// loading and safe to share between threads.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/model.h"
#include "engine/time.h"

namespace redress {

// An element a final response must contain, e.g. the right to refer to the ombudsman.
// The response passes when, for each element, it contains at least one of `any_of`
// (case-insensitive substring).
struct RequiredElement {
  std::string key;                  // "ombudsman_referral"
  std::string description;          // shown to staff when the element is missing
  std::vector<std::string> any_of;  // accepted phrasings
};

// One rung of the escalation ladder. Level 0 is the owner and is implicit.
struct EscalationLevel {
  int level = 1;
  std::string name;                 // "Team lead"
  std::vector<Role> roles;          // staff with these roles are notified...
  std::vector<std::string> teams;   // ...restricted to these teams when not empty
  std::vector<std::string> staff;   // ...and these staff emails, named individually
};

struct Workflow {
  std::string name;         // stable key, e.g. "retail"
  std::string title;        // "Retail complaints"
  std::string description;  // the service, in plain words
  std::string pledge;       // the promise shown to clients
  std::string team;         // the queue new cases wait in
  std::vector<std::string> categories;  // routing: cases of these categories come here
  std::vector<Channel> channels;        // routing: restricted to these channels when not empty
  bool auto_acknowledge = false;        // acknowledge on intake, by the system
  Duration reopen_window = std::chrono::hours(24 * 14);
  Duration redress_due = std::chrono::hours(24 * 10);  // accepted redress delivered within
  std::vector<RequiredElement> final_response_elements;
  std::vector<EscalationLevel> escalation;  // levels 1..N, in order
  bool escalate_on_rejection = true;        // a rejected redress offer raises the level by one

  [[nodiscard]] int max_escalation_level() const { return static_cast<int>(escalation.size()); }
  // The keys of the required elements that `text` lacks.
  [[nodiscard]] std::vector<const RequiredElement*> missing_elements(const std::string& text) const;
};

class WorkflowSet {
 public:
  WorkflowSet() = default;
  explicit WorkflowSet(std::vector<Workflow> workflows, std::string default_workflow);

  [[nodiscard]] const Workflow* find(const std::string& name) const;
  // The workflow for a category and channel: the first whose categories contain the category
  // (and whose channels contain the channel, when it names channels); else the default.
  [[nodiscard]] const Workflow& route(const std::string& category, Channel channel) const;
  [[nodiscard]] const std::vector<Workflow>& all() const { return workflows_; }
  [[nodiscard]] bool empty() const { return workflows_.empty(); }

 private:
  std::vector<Workflow> workflows_;
  std::string default_;
};

}  // namespace redress
