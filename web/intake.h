// Intake mapping: a configured intake source's web hook payload turned into a NewCase.
//
// Each mapping entry names a case field ("subject", "client.email") and a JSON pointer into the
// payload ("/customer/email"). Pointers that find nothing or null are skipped; a value that is not
// a string is an error naming the pointer. The source's channel, category and workflow fill the
// fields the payload left unset, and the result is validated by decode_new_case, so an intake
// case passes exactly the checks of POST /v1/cases. Pure function; thread-safe.
#pragma once

#include <boost/json/value.hpp>

#include "engine/actions.h"
#include "engine/result.h"
#include "web/settings.h"

namespace redress::web {

// kInvalid naming every offending field (mapped values first, then decode_new_case's).
[[nodiscard]] Result<NewCase> map_intake_payload(const IntakeSource& source, const boost::json::value& payload);

}  // namespace redress::web
