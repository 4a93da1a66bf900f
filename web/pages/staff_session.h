// Staff sign-in for the pages: the sign-in form, sessions, CSRF checks and sign-out.
//
// A session is a random token in an HttpOnly, SameSite=Strict cookie; the database keeps its hash,
// its staff member, its CSRF token and its expiry, so any node can check it. Every staff form
// carries the session's CSRF token (compared in constant time) and must come from this site.
// The sign-in form itself is protected by a double-submit token (a cookie and a hidden field).
// After SignInPolicy::max_failures failures within the window an email address is locked out for
// a while, whether or not it belongs to anyone. Thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "web/pages/page_support.h"

namespace redress::web {

struct SignedIn {
  Staff staff;
  StaffSession session;
};

// The staff member signed in with the request's session cookie, if any.
[[nodiscard]] std::optional<SignedIn> signed_in(PagesContext& pages, const Request& request);

// The layout's `staff` values (name, role, csrf, is_lead) for a signed-in page.
[[nodiscard]] boost::json::object staff_nav(const SignedIn& who, std::string_view current);

using StaffHandler = std::function<void(const ContextPtr&, Reply, const SignedIn&)>;
// A GET page for staff with one of `roles`: without a session, a redirect to the sign-in page
// (which comes back here); with another role, 403.
void add_staff_page(Router& router, PagesContext& pages, std::string pattern, std::vector<Role> roles,
                    StaffHandler handler);
// A form post for staff with one of `roles`: also checks the origin and the CSRF token (403).
// The handler gets the parsed form.
using StaffFormHandler = std::function<void(const ContextPtr&, Reply, const SignedIn&, const Form&)>;
void add_staff_form(Router& router, PagesContext& pages, std::string pattern, std::vector<Role> roles,
                    StaffFormHandler handler);

// /staff/login (GET, POST) and /staff/logout (POST).
void register_sign_in(Router& router, PagesContext& pages);

}  // namespace redress::web
