// Reports: what managers review — overdue, at-risk and broken commitments by owner; each owner's
// reliability and speed; each published standard's attainment — as v1 routes on a Router.
//
// Read-only: every report is a few indexed queries on the store's read connections, shaped here.
// Thread-safe once registered.
#pragma once

#include "web/api.h"
#include "web/router.h"

namespace redress::web {

void register_reports(Router& router, ApiContext& api);

}  // namespace redress::web
