#include "adapters/summaries/summary_deltas.h"

#include <algorithm>
#include <string>
#include <utility>

#include "engine/actions.h"

namespace redress {

namespace {

// The statuses the summaries count as open (the SQL of migration 8 names the same five).
bool counted_open(CaseStatus status) {
  switch (status) {
    case CaseStatus::kReceived:
    case CaseStatus::kAcknowledged:
    case CaseStatus::kInvestigating:
    case CaseStatus::kAwaitingClient:
    case CaseStatus::kRedressProposed: return true;
    default: return false;
  }
}

bool settled_counted(const Commitment& k) {
  return (k.status == CommitmentStatus::kKept || k.status == CommitmentStatus::kBroken) && k.settled_at.has_value();
}

// "retail/final_response#1" → "retail/final_response"; no '#' → "" (as SQL's substr(x, 1, instr(x, '#') - 1)).
std::string pledge_of(const std::string& key) {
  auto hash = key.find('#');
  return hash == std::string::npos ? std::string() : key.substr(0, hash);
}

// A settled pledge's row of report_pledges, as the definition's CASE says.
std::string pledge_attainment(const Commitment& k) {
  if (k.status == CommitmentStatus::kKept) {
    if (k.rule_due_at && k.settled_at && *k.settled_at > *k.rule_due_at) return "renegotiated";
    if (k.replaces_id != 0) return "moved";
  }
  return std::string(to_string(k.status));
}

template <typename Map>
void merge_counts(Map& into, const Map& from) {
  for (const auto& [key, n] : from) into[key] += n;
}

}  // namespace

void SummaryDeltas::case_written(const Case* before, const Case& after) {
  if (before) {
    // Only what the summaries read is compared: most actions change none of it.
    bool owner_cases_same = before->owner_id == after.owner_id && before->received_at == after.received_at &&
                            before->acknowledged_at == after.acknowledged_at &&
                            before->resolved_at == after.resolved_at;
    bool received_same = before->received_at == after.received_at && before->category == after.category &&
                         before->touchpoint == after.touchpoint;
    bool open_same = counted_open(before->status) == counted_open(after.status) && before->owner_id == after.owner_id &&
                     before->escalation_level == after.escalation_level;
    if (!owner_cases_same) add_owner_cases(*before, -1), add_owner_cases(after, +1);
    if (!received_same) add_received(*before, -1), add_received(after, +1);
    if (!open_same) add_open(*before, -1), add_open(after, +1);
    return;
  }
  add_owner_cases(after, +1);
  add_received(after, +1);
  add_open(after, +1);
}

void SummaryDeltas::commitment_written(const Commitment* before, const Commitment& after) {
  if (before) {
    bool settled_same = before->owner_id == after.owner_id && before->kind == after.kind &&
                        before->status == after.status && before->settled_at == after.settled_at &&
                        before->pledge_key == after.pledge_key;
    bool attention_same = before->owner_id == after.owner_id && before->status == after.status &&
                          before->warnings_fired == after.warnings_fired && before->handled_at == after.handled_at;
    if (!settled_same) add_settled(*before, -1), add_settled(after, +1);
    if (!attention_same) add_attention(*before, -1), add_attention(after, +1);
    return;
  }
  add_settled(after, +1);
  add_attention(after, +1);
}

void SummaryDeltas::add_owner_cases(const Case& c, int sign) {
  OwnerCases& row = owner_cases_[{summary_day(c.received_at), c.owner_id}];
  if (c.acknowledged_at) {
    row.acknowledged += sign;
    row.acknowledge_total += sign * (to_micros(*c.acknowledged_at) - to_micros(c.received_at));
  }
  if (c.resolved_at) {
    row.resolved += sign;
    row.resolve_total += sign * (to_micros(*c.resolved_at) - to_micros(c.received_at));
  }
}

void SummaryDeltas::add_received(const Case& c, int sign) {
  std::int64_t day = summary_day(c.received_at);
  received_[{day, "category", c.category}] += sign;
  received_[{day, "touchpoint", c.touchpoint}] += sign;
}

void SummaryDeltas::add_open(const Case& c, int sign) {
  if (counted_open(c.status)) open_[{c.owner_id, c.escalation_level}] += sign;
}

void SummaryDeltas::add_settled(const Commitment& k, int sign) {
  if (!settled_counted(k)) return;
  std::int64_t day = summary_day(*k.settled_at);
  bool pledge = k.kind == CommitmentKind::kPledge;
  std::string key = pledge ? pledge_of(k.pledge_key) : std::string();
  settled_[{day, k.owner_id, std::string(to_string(k.kind)), std::string(to_string(k.status)), key}] += sign;
  if (pledge) pledges_[{day, std::move(key), pledge_attainment(k)}] += sign;
}

void SummaryDeltas::add_attention(const Commitment& k, int sign) {
  Attention& row = attention_[k.owner_id];
  bool open = k.status == CommitmentStatus::kOpen;
  row.open += sign * open;
  row.at_risk += sign * (open && k.warnings_fired > 0);
  row.broken_unhandled += sign * (k.status == CommitmentStatus::kBroken && !k.handled_at);
}

void SummaryDeltas::returns_written(const std::vector<ReturnEntry>& entries) {
  for (const auto& e : entries)
    returns_[{e.day, e.workflow, std::string(to_string(e.measure)), e.key}] += e.value;
}

void SummaryDeltas::touchpoint_commitment(const std::string& touchpoint, const Commitment* before,
                                          const Commitment& after) {
  const bool was = before && before->status == CommitmentStatus::kBroken;
  const bool is = after.status == CommitmentStatus::kBroken;
  if (was && is && before->due_at == after.due_at) return;
  if (was) touchpoints_[{summary_day(before->due_at), touchpoint, "broken", ""}] -= 1;
  if (is) touchpoints_[{summary_day(after.due_at), touchpoint, "broken", ""}] += 1;
}

void SummaryDeltas::survey_written(const Case& c, const Event& event) {
  SurveyAnswer answer;
  answer.owner_id = c.owner_id;
  answer.owner_team = c.team;
  if (!read_survey_data(event.data, answer)) return;
  const std::int64_t day = summary_day(event.at);
  SurveySums sums;
  sums.responses = 1;
  sums.overall = answer.overall;
  if (answer.rater) {
    sums.rated = 1;
    for (std::size_t i = 0; i < rater_dimensions().size(); ++i) sums.scores[i] = rater_score(*answer.rater, i);
  }
  survey_[{day, "workflow", c.workflow}].add(sums);
  survey_[{day, "touchpoint", c.touchpoint}].add(sums);
  survey_[{day, "owner", answer.owner_id}].add(sums);
  survey_[{day, "team", answer.owner_team}].add(sums);
  const std::string& touchpoint = c.touchpoint;
  touchpoints_[{day, touchpoint, "survey_responses", ""}] += 1;
  touchpoints_[{day, touchpoint, "survey_overall", ""}] += answer.overall;
  if (!answer.rater) return;
  touchpoints_[{day, touchpoint, "survey_rated", ""}] += 1;
  for (std::size_t i = 0; i < rater_dimensions().size(); ++i)
    touchpoints_[{day, touchpoint, "survey_score", std::string(rater_dimensions()[i])}] +=
        rater_score(*answer.rater, i);
}

void SummaryDeltas::merge(const SummaryDeltas& other) {
  merge_counts(settled_, other.settled_);
  merge_counts(touchpoints_, other.touchpoints_);
  for (const auto& [key, sums] : other.survey_) survey_[key].add(sums);
  merge_counts(returns_, other.returns_);
  merge_counts(pledges_, other.pledges_);
  merge_counts(received_, other.received_);
  merge_counts(open_, other.open_);
  for (const auto& [key, d] : other.owner_cases_) {
    OwnerCases& row = owner_cases_[key];
    row.acknowledged += d.acknowledged;
    row.acknowledge_total += d.acknowledge_total;
    row.resolved += d.resolved;
    row.resolve_total += d.resolve_total;
  }
  for (const auto& [key, d] : other.attention_) {
    Attention& row = attention_[key];
    row.open += d.open;
    row.at_risk += d.at_risk;
    row.broken_unhandled += d.broken_unhandled;
  }
}

void SummaryDeltas::clear() {
  settled_.clear();
  pledges_.clear();
  owner_cases_.clear();
  received_.clear();
  open_.clear();
  attention_.clear();
  touchpoints_.clear();
  survey_.clear();
  returns_.clear();
}

bool SummaryDeltas::empty() const {
  return settled_.empty() && pledges_.empty() && owner_cases_.empty() && received_.empty() && open_.empty() &&
         attention_.empty() && touchpoints_.empty() && survey_.empty() &&
         returns_.empty();
}

std::vector<const Commitment*> commitments_before(const Change& change, const CaseSnapshot* before) {
  std::vector<const Commitment*> old(change.commitments.size(), nullptr);
  for (std::size_t i = 0; i < change.commitments.size(); ++i) {
    const Commitment& k = change.commitments[i];
    for (std::size_t j = i; j-- > 0;)
      if (change.commitments[j].id == k.id) {
        old[i] = &change.commitments[j];
        break;
      }
    if (!old[i] && before) {
      auto at = std::lower_bound(before->commitments.begin(), before->commitments.end(), k.id,
                                 [](const Commitment& x, std::int64_t id) { return x.id < id; });
      if (at != before->commitments.end() && at->id == k.id) old[i] = &*at;
    }
  }
  return old;
}

void SummaryDeltas::change_written(const Change& change, const CaseSnapshot* before,
                                   const std::vector<const Commitment*>& old) {
  const Case& c = change.after;
  case_written(before ? &before->record : nullptr, c);
  for (std::size_t i = 0; i < change.commitments.size(); ++i) {
    commitment_written(old[i], change.commitments[i]);
    touchpoint_commitment(c.touchpoint, old[i], change.commitments[i]);
  }
  for (const auto& e : change.events)
    if (e.type == "survey.submitted") survey_written(c, e);
  returns_written(change.return_entries);
}

}  // namespace redress
