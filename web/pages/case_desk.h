// The case page's desk section (issue 27): the case's tags, the cases linked to it (and the one it
// was merged into, or those merged into it), with the forms to tag, link, unlink and merge for
// whoever may (the console shows only what the engine would allow the signed-in person).
// Thread-safe, as the rest of the pages.
#pragma once

#include <boost/json/object.hpp>

#include "web/pages/staff_session.h"

namespace redress::web {

// Puts the section's values into the case page's `data` (which already holds "can").
void put_case_desk(PagesContext& pages, const Case& record, const SignedIn& who, boost::json::object& data);

}  // namespace redress::web
