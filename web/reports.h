// Reports: what managers review — overdue, at-risk and broken commitments by owner; each owner's
// reliability and speed; each published standard's attainment — for the v1 routes (registered in web/api.cpp).
// Their query parameters go through web/query.h, as every route's do.
//
// Read-only: every report is a few indexed queries on the store's read connections, shaped here.
// Thread-safe once registered.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "web/api.h"
#include "web/router.h"

namespace redress::web {

// GET /v1/reports/overdue (lead+), /v1/reports/owners (lead+), /v1/reports/standards (public).
void overdue_report(ApiContext& api, const ContextPtr& ctx, Reply reply);
void owners_report(ApiContext& api, const ContextPtr& ctx, Reply reply);
void standards_report(ApiContext& api, const ContextPtr& ctx, Reply reply);

// Every staff member by id (report and page rows name owners).
[[nodiscard]] std::map<std::string, Staff> staff_by_id(StaffDirectory& staff);
// One pledge's attainment from a standards report, by workflow and clock; zeros when none settled.
[[nodiscard]] PledgeAttainment attainment_of(const std::vector<PledgeAttainment>& report, const std::string& workflow,
                                             const std::string& clock);

}  // namespace redress::web
