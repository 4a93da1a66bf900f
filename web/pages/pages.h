// The web pages: the client's status page (/c/{token}), the staff console (/staff), the managers'
// review board (/staff/board) and the public service standards (/standards), rendered on the
// server from web/templates. They act through the same Engine and Store as the v1 API, so a page
// can do nothing the API's rules refuse.
//
// Staff sign in with a password (argon2id) and get a session cookie (HttpOnly, SameSite=Strict);
// every staff form carries the session's CSRF token, and every form post must come from this site.
// Sessions, sign-in failures and lock-outs live in the database, so several nodes agree; failures
// from one client address are also limited per node. Password checks run off the I/O threads
// (PasswordChecker).
// Registered once before serving; thread-safe afterwards.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "web/api.h"
#include "web/pages/page_templates.h"
#include "web/pages/password_checker.h"
#include "web/rate_limit.h"
#include "web/router.h"

namespace redress::web {

struct SignInPolicy {
  int max_failures = 5;                     // failed sign-ins before the lock-out
  std::chrono::minutes failure_window{15};  // failures older than this are forgotten
  std::chrono::minutes lockout{15};         // how long an account stays locked
  std::chrono::hours session_lifetime{12};  // a session ends this long after sign-in
  // Failed sign-ins one client address may make at once, refilled over failure_window (config
  // sign_in_failures_per_address); then it is refused before any password is checked. 0: no limit.
  int address_failures = 30;
};

struct PagesContext {
  ApiContext& api;
  PageTemplates templates;
  std::string stylesheet;  // web/static/redress.css
  std::string script;      // web/static/redress.js
  SignInPolicy sign_in;
  // Per client address, per node (like every RateLimiter): the account lock-out is in the
  // database, this one bounds one address guessing across many accounts. Made by set_sign_in_policy.
  std::shared_ptr<RateLimiter> address_failures;
  // Last, so destroyed first: its queued checks still find the rest of the context.
  std::shared_ptr<PasswordChecker> passwords = std::make_shared<PasswordChecker>();
};

// Loads the templates and static files from `web_dir` (web/ in the source tree); kInvalid naming
// the broken file.
[[nodiscard]] Result<PagesContext> load_pages(ApiContext& api, const std::string& web_dir);
void register_pages(Router& router, PagesContext& pages);
// Sets the sign-in policy (before serving) and the per-address limiter it asks for.
void set_sign_in_policy(PagesContext& pages, SignInPolicy policy);

}  // namespace redress::web
