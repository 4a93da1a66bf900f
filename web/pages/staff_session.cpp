#include "web/pages/staff_session.h"

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>

#include "adapters/security/secrets.h"

namespace redress::web {

namespace json = boost::json;
using verb = http::verb;

namespace {

constexpr std::string_view kSessionCookie = "redress_staff";
constexpr std::string_view kLoginCookie = "redress_signin";

CookieSecurity cookie_security(PagesContext& pages) {
  return pages.api.base_url.rfind("https://", 0) == 0 ? CookieSecurity::kSecure : CookieSecurity::kPlain;
}

// Only a path of ours may be returned to after signing in (no open redirect).
std::string safe_next(const std::string& next) {
  if (next.rfind("/staff", 0) != 0 || next.find("//") != std::string::npos || next.find('\\') != std::string::npos ||
      next.find_first_of("\r\n") != std::string::npos || next.rfind("/staff/login", 0) == 0 ||
      next.rfind("/staff/logout", 0) == 0)
    return "/staff";
  return next;
}

// A hash to verify against when the email is unknown, so the answer takes as long either way.
const std::string& dummy_hash() {
  static const std::string hash = [] {
    auto h = security::hash_password("not a password of anyone's");
    return h ? std::move(h).value() : std::string();
  }();
  return hash;
}

Response sign_in_form(PagesContext& pages, http::status status, const std::string& email, const std::string& next,
                      const std::string& error, const std::string& notice = {}) {
  std::string token = security::new_token("si_");
  json::object data{{"title", "Sign in"}, {"email", email}, {"next", next}, {"csrf", token}};
  if (!error.empty()) data["error"] = error;
  if (!notice.empty()) data["notice"] = notice;
  Response response = render_page(pages, status, "sign_in", std::move(data));
  response.set(http::field::set_cookie, set_cookie(kLoginCookie, token, 3600, cookie_security(pages)));
  return response;
}

// The 429 of a locked email address: Retry-After in whole seconds and the page in whole minutes,
// both rounded up from what is left of the lock (a 15-minute lock says 15, not 16).
Response locked_sign_in(PagesContext& pages, const std::string& email, const std::string& next, Time until) {
  auto left = std::chrono::ceil<std::chrono::seconds>(until - pages.api.engine.clock().now()).count();
  left = std::max<std::int64_t>(left, 1);
  auto minutes = (left + 59) / 60;
  Response response = sign_in_form(pages, http::status::too_many_requests, email, next,
                                   "Too many failed attempts: signing in with this email address is locked for " +
                                       std::to_string(minutes) + " more minute" + (minutes == 1 ? "" : "s") +
                                       ". Ask an administrator if you cannot wait.");
  response.set(http::field::retry_after, std::to_string(left));
  return response;
}

// Checks the password and, when it matches, opens the session. On the PasswordChecker's thread.
void finish_sign_in(PagesContext& pages, const std::string& email, const std::string& next, const std::string& password,
                    const std::string& address, Time now, Reply reply) {
  auto staff = pages.api.staff.find_staff(email);
  std::optional<std::string> hash;
  if (staff && staff->active && staff->role != Role::kIntake)
    if (auto h = pages.api.staff.password_hash(staff->id); h) hash = std::move(h).value();
  bool ok = security::verify_password(password, hash ? *hash : dummy_hash()) && hash.has_value();
  if (!ok) {
    (void)pages.address_failures->take(address);
    const SignInPolicy& policy = pages.sign_in;
    auto failed = pages.api.sessions.record_sign_in_failure(email, now, policy.max_failures, policy.failure_window,
                                                            policy.lockout);
    if (failed && failed->locked_until) {
      spdlog::warn("sign-in locked for {} minutes after {} failures", policy.lockout.count(), failed->failures);
      return reply(locked_sign_in(pages, email, next, *failed->locked_until));
    }
    return reply(
        sign_in_form(pages, http::status::unauthorized, email, next, "That email address and password do not match."));
  }
  if (auto s = pages.api.sessions.clear_sign_in_failures(email); !s)
    return reply(sign_in_form(pages, page_status(s.error()), email, next, s.error().detail));
  std::string token = security::new_token("ss_");
  StaffSession session{security::token_hash(token), staff->id, security::new_token(""), now,
                       now + pages.sign_in.session_lifetime};
  if (auto s = pages.api.sessions.create_session(session); !s)
    return reply(sign_in_form(pages, page_status(s.error()), email, next, s.error().detail));
  // Leads and above land on the review board, agents on their cases, unless a page was asked for.
  Response response = see_other(next == "/staff" && role_at_least(staff->role, Role::kLead) ? "/staff/board" : next);
  auto lifetime = std::chrono::duration_cast<std::chrono::seconds>(pages.sign_in.session_lifetime).count();
  response.insert(http::field::set_cookie, set_cookie(kSessionCookie, token, lifetime, cookie_security(pages)));
  response.insert(http::field::set_cookie, set_cookie(kLoginCookie, "", 0, cookie_security(pages)));
  reply(std::move(response));
}

void sign_in(PagesContext& pages, const ContextPtr& ctx, Reply reply) {
  auto form = Form::parse(ctx->request);
  if (!form) return reply(sign_in_form(pages, http::status::bad_request, "", "/staff", form.error().detail));
  std::string email = form->get("email");
  std::string next = safe_next(form->get("next"));
  auto cookie = cookie_value(ctx->request, kLoginCookie);
  if (!same_origin_post(ctx->request, pages.api.base_url) || !cookie || cookie->size() != form->get("csrf").size() ||
      !security::secrets_equal(*cookie, form->get("csrf")))
    return reply(sign_in_form(pages, http::status::forbidden, email, next,
                              "The sign-in form had expired or came from another site. Please try again."));
  if (email.empty() || form->get("password").empty())
    return reply(
        sign_in_form(pages, http::status::unprocessable_entity, email, next, "Enter your email address and password."));
  // One address guessing across many accounts is stopped before a password is checked.
  if (auto verdict = pages.address_failures->check(ctx->client_address); !verdict.allowed) {
    spdlog::warn("sign-in refused: too many failures from one client address");
    auto minutes = (verdict.retry_after.count() + 59) / 60;
    Response response =
        sign_in_form(pages, http::status::too_many_requests, email, next,
                     "Too many failed sign-ins from your network: please try again in " + std::to_string(minutes) +
                         " minute" + (minutes == 1 ? "" : "s") + ". Ask an administrator if you cannot wait.");
    response.set(http::field::retry_after, std::to_string(verdict.retry_after.count()));
    return reply(std::move(response));
  }
  SessionStore& sessions = pages.api.sessions;
  Time now = pages.api.engine.clock().now();
  auto gate = sessions.sign_in_gate(email, now);
  if (!gate) return reply(sign_in_form(pages, page_status(gate.error()), email, next, gate.error().detail));
  if (gate->locked_until) return reply(locked_sign_in(pages, email, next, *gate->locked_until));
  // The check itself (argon2id) runs on the checker's thread; the reply is sent from there.
  std::string password = form->get("password");
  bool queued = pages.passwords->submit(
      [&pages, email, next, password = std::move(password), address = ctx->client_address, now, reply]() mutable {
        finish_sign_in(pages, email, next, password, address, now, std::move(reply));
      });
  if (!queued) {
    Response response =
        sign_in_form(pages, http::status::service_unavailable, email, next,
                     "Too many people are signing in at this moment. Please try again in a few seconds.");
    response.set(http::field::retry_after, "2");
    reply(std::move(response));
  }
}

Response forbidden_page(PagesContext& pages, const std::string& text) {
  return message_page(pages, http::status::forbidden, "Not allowed", text,
                      json::object{{"back_url", "/staff"}, {"back_label", "Back to my cases"}});
}

bool role_allowed(const std::vector<Role>& roles, Role role) {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

}  // namespace

std::optional<SignedIn> signed_in(PagesContext& pages, const Request& request) {
  auto token = cookie_value(request, kSessionCookie);
  if (!token || token->size() < 10 || token->size() > 100) return std::nullopt;
  auto session = pages.api.sessions.find_session(security::token_hash(*token), pages.api.engine.clock().now());
  if (!session) return std::nullopt;
  auto staff = pages.api.staff.find_staff(session->staff_id);
  if (!staff || !staff->active) return std::nullopt;
  return SignedIn{std::move(staff).value(), std::move(session).value()};
}

json::object staff_nav(const SignedIn& who, std::string_view current) {
  json::object nav{{"name", who.staff.name},
                   {"role", to_string(who.staff.role)},
                   {"csrf", who.session.csrf},
                   {"id", who.staff.id},
                   {"is_lead", role_at_least(who.staff.role, Role::kLead)},
                   {"is_admin", who.staff.role == Role::kAdmin}};
  nav[std::string("nav_") + std::string(current)] = true;
  return nav;
}

void add_staff_page(Router& router, PagesContext& pages, std::string pattern, std::vector<Role> roles,
                    StaffHandler handler) {
  router.add(RouteSpec{verb::get,
                       std::move(pattern),
                       Access::kPublic,
                       {},
                       false,
                       [&pages, roles, handler = std::move(handler)](const ContextPtr& ctx, Reply reply) {
                         auto who = signed_in(pages, ctx->request);
                         if (!who) {
                           std::string target(ctx->request.target());
                           return reply(see_other("/staff/login?next=" + form_encode(target)));
                         }
                         if (!role_allowed(roles, who->staff.role))
                           return reply(forbidden_page(pages, "Your role (" + std::string(to_string(who->staff.role)) +
                                                                  ") may not open this page."));
                         handler(ctx, std::move(reply), *who);
                       }});
}

void add_staff_form(Router& router, PagesContext& pages, std::string pattern, std::vector<Role> roles,
                    StaffFormHandler handler) {
  router.add(RouteSpec{
      verb::post,
      std::move(pattern),
      Access::kPublic,
      {},
      false,
      [&pages, roles, handler = std::move(handler)](const ContextPtr& ctx, Reply reply) {
        auto who = signed_in(pages, ctx->request);
        if (!who) return reply(see_other("/staff/login?next=/staff"));
        if (!role_allowed(roles, who->staff.role))
          return reply(
              forbidden_page(pages, "Your role (" + std::string(to_string(who->staff.role)) + ") may not do this."));
        auto form = Form::parse(ctx->request);
        if (!form)
          return reply(
              message_page(pages, http::status::bad_request, "The form could not be read", form.error().detail));
        const std::string& csrf = form->get("csrf");
        if (!same_origin_post(ctx->request, pages.api.base_url) || csrf.size() != who->session.csrf.size() ||
            !security::secrets_equal(csrf, who->session.csrf))
          return reply(forbidden_page(pages,
                                      "This form was not sent from your signed-in session (its "
                                      "security token is missing or wrong). Reload the page and try again."));
        handler(ctx, std::move(reply), *who, *form);
      }});
}

void register_sign_in(Router& router, PagesContext& pages) {
  router.add(
      RouteSpec{verb::get, "/staff/login", Access::kPublic, {}, false, [&pages](const ContextPtr& ctx, Reply reply) {
                  if (signed_in(pages, ctx->request))
                    return reply(see_other(safe_next(ctx->query_value("next").value_or("/staff"))));
                  std::string notice = ctx->query_value("signed_out") ? "You are signed out." : "";
                  reply(sign_in_form(pages, http::status::ok, "",
                                     safe_next(ctx->query_value("next").value_or("/staff")), "", notice));
                }});
  router.add(
      RouteSpec{verb::post, "/staff/login", Access::kPublic, {}, false, [&pages](const ContextPtr& ctx, Reply reply) {
                  sign_in(pages, ctx, std::move(reply));
                }});
  add_staff_form(router, pages, "/staff/logout", {Role::kAgent, Role::kLead, Role::kManager, Role::kAdmin},
                 [&pages](const ContextPtr&, Reply reply, const SignedIn& who, const Form&) {
                   (void)pages.api.sessions.end_session(who.session.token_hash, pages.api.engine.clock().now());
                   Response response = see_other("/staff/login?signed_out=1");
                   response.set(http::field::set_cookie, set_cookie(kSessionCookie, "", 0, cookie_security(pages)));
                   reply(std::move(response));
                 });
}

}  // namespace redress::web
