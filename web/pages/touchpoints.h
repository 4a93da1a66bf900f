// Moments of truth (issue 26, docs/measuring.md): the touchpoint pages for leads and managers,
// /staff/touchpoints/{touchpoint} and the index /staff/touchpoints, and the ranking of touchpoints
// the index and the review board show. Registered once before serving; thread-safe afterwards.
#pragma once

#include <string>
#include <vector>

#include "web/pages/pages.h"

namespace redress::web {

// One touchpoint ranked: its complaints over the last 12 weeks (the board's weekly summary), the
// complaints of the last 90 days and the commitments broken on them, and its rank by each.
struct TouchpointRank {
  Touchpoint touchpoint;
  std::int64_t received_12_weeks = 0;
  std::int64_t received_90_days = 0;
  std::int64_t broken_90_days = 0;
  int rank_by_complaints = 0;  // 1: the most complaints per week
  int rank_by_broken = 0;      // 1: the most broken commitments
};

// Every touchpoint the configuration describes or complaints came from in the last 12 weeks,
// ordered by complaints per week (most first). `weekly`: the weekly counts from 12 weeks before
// `now` when the caller has read them already (the board), else null to read them here.
[[nodiscard]] Result<std::vector<TouchpointRank>> rank_touchpoints(ApiContext& api, Time now,
                                                                   const std::vector<WeeklyCount>* weekly);
// "2.5": complaints per week over the 12 weeks.
[[nodiscard]] std::string complaints_per_week(const TouchpointRank& rank);

void register_touchpoint_pages(Router& router, PagesContext& pages);

}  // namespace redress::web
