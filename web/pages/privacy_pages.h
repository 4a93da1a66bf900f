// The console's side of personal data (docs/personal-data.md): a restricted case refused to all
// but admins, the case page's privacy card (legal hold, restriction, erasure) with the legal hold
// form for managers and the redaction form for leads and above, and the forms' posts
// (/staff/cases/{ref}/hold, /hold/lift, /redact), which do what the API's routes do (web/privacy.h).
// Thread-safe, as the pages are.
#pragma once

#include <boost/json/object.hpp>

#include <optional>

#include "ports/case_reader.h"
#include "web/pages/staff_session.h"

namespace redress::web {

// The 403 page for a restricted case when `who` is not an admin; nullopt when the page may show.
[[nodiscard]] std::optional<Response> restricted_page(PagesContext& pages, const CaseView& view, const SignedIn& who);
// Adds the privacy card's data to a case page's data: "privacy" (state, hold, when), "can_hold",
// "can_redact" and the redactable values ("redactable": [{value, label}]).
void put_privacy_data(PagesContext& pages, boost::json::object& data, const CaseView& view, const SignedIn& who);
void register_privacy_pages(Router& router, PagesContext& pages);

}  // namespace redress::web
