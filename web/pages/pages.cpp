#include "web/pages/pages.h"

#include <boost/json.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "web/pages/page_support.h"
#include "web/pages/touchpoints.h"
#include "web/reports.h"
#include "web/survey_results.h"

namespace redress::web {

namespace json = boost::json;
using verb = http::verb;

void register_client_pages(Router& router, PagesContext& pages);
void register_console_pages(Router& router, PagesContext& pages);
void register_board_pages(Router& router, PagesContext& pages);
void register_complaint_form(Router& router, PagesContext& pages);
void register_desk_pages(Router& router, PagesContext& pages);
void register_staff_admin_pages(Router& router, PagesContext& pages);
void register_case_list_pages(Router& router, PagesContext& pages);  // web/pages/case_list.cpp
void register_canned_reply_pages(Router& router, PagesContext& pages);
void register_privacy_pages(Router& router, PagesContext& pages);

namespace {

Result<std::string> read_static(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::invalid("pages: cannot read " + path);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

Response static_file(const std::string& body, std::string_view type) {
  Response response{http::status::ok, 11};
  response.set(http::field::content_type, type);
  response.set("X-Content-Type-Options", "nosniff");
  response.set(http::field::cache_control, "public, max-age=300");
  response.body() = body;
  response.prepare_payload();
  return response;
}

std::string plural(std::int64_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

// "8 weeks", "15 business days", "4 working hours": a clock's target in plain words.
std::string target_words(const ClockTarget& target) {
  bool business = target.basis == TimeBasis::kBusiness;
  std::string out;
  std::int64_t days = target.duration.days;
  if (days > 0) {
    if (!business && days % 7 == 0)
      out = plural(days / 7, "week");
    else
      out = plural(days, business ? "business day" : "day");
  }
  auto minutes = std::chrono::duration_cast<std::chrono::minutes>(target.duration.time).count();
  if (minutes > 0) {
    std::string part = minutes % 60 == 0 ? plural(minutes / 60, business ? "working hour" : "hour")
                                         : plural(minutes, business ? "working minute" : "minute");
    out += (out.empty() ? "" : " and ") + part;
  }
  return out.empty() ? "at once" : out;
}

// Met as a share of all that fell due: renegotiated pledges count against it.
json::value met_percent(std::int64_t met, std::int64_t not_met) {
  if (met + not_met == 0) return nullptr;
  return json::value(std::to_string((met * 1000 / (met + not_met) + 5) / 10) + "%");
}

void standards_page(PagesContext& pages, Reply reply) {
  ApiContext& api = pages.api;
  Time now = api.engine.clock().now();
  auto attainment = api.reports.standards_report(now);
  if (!attainment)
    return reply(message_page(pages, page_status(attainment.error()), "Service standards", attainment.error().detail));
  // The overall survey results of the workflows that publish them ([survey] publish_results), over
  // 90 days: read only when one does.
  std::map<std::string, SurveyResults> survey;
  const auto& all = api.engine.workflows().all();
  if (std::any_of(all.begin(), all.end(), [](const Workflow& w) { return w.publish_survey; }))
    if (auto groups = api.reports.survey_by_group(now - std::chrono::days(90)))
      survey = survey_results_by(*groups, SurveyGroup::kWorkflow);
  json::array workflows;
  for (const auto& w : all) {
    json::array clocks;
    for (const auto& c : w.clocks) {
      if (!c.client_visible) continue;
      PledgeAttainment a = attainment_of(*attainment, w.name, c.name);
      json::object o{{"text", c.text},
                     {"target", target_words(c.target)},
                     {"met_30", a.met_30},
                     {"broken_30", a.broken_30},
                     {"met_90", a.met_90},
                     {"broken_90", a.broken_90},
                     {"percent_30", met_percent(a.met_30, a.broken_30 + a.renegotiated_30)},
                     {"percent_90", met_percent(a.met_90, a.broken_90 + a.renegotiated_90)}};
      if (a.renegotiated_30) o["renegotiated_30"] = a.renegotiated_30;
      if (a.renegotiated_90) o["renegotiated_90"] = a.renegotiated_90;
      if (c.exceptional_target) o["exceptional"] = target_words(*c.exceptional_target);
      if (c.renegotiation == Renegotiation::kNever) o["fixed"] = true;
      if (c.renegotiation == Renegotiation::kAllowed) {
        o["agreed"] = true;
        if (c.renegotiation_limit) o["agreed_limit"] = target_words(ClockTarget{*c.renegotiation_limit, TimeBasis::kCalendar});
      }
      if (!c.rule.empty()) o["rule"] = c.rule;
      clocks.push_back(std::move(o));
    }
    json::object workflow{{"title", w.title},
                          {"description", w.description},
                          {"pledge", w.pledge},
                          {"time_zone", w.calendar.zone_name()},
                          {"clocks", std::move(clocks)}};
    if (w.publish_survey) {
      const SurveyResults& results = survey[w.name];
      json::object published{{"responses", results.responses}, {"overall", average_text(results.overall())}};
      if (results.responses > 0) published["answered"] = true;
      json::array dimensions;
      for (std::size_t i = 0; i < rater_dimensions().size() && results.rated > 0; ++i)
        dimensions.push_back(json::object{{"name", words_of(rater_dimensions()[i])},
                                          {"average", average_text(results.dimension(i))}});
      if (!dimensions.empty()) {
        published["has_dimensions"] = true;
        published["dimensions"] = std::move(dimensions);
      }
      workflow["survey"] = std::move(published);
    }
    workflows.push_back(std::move(workflow));
  }
  json::object data{{"title", "Our service standards"},
                    {"workflows", std::move(workflows)},
                    {"generated_local", short_time(pages, api.engine.workflows().default_name(), now)}};
  Response response = render_page(pages, http::status::ok, "standards", std::move(data));
  reply(std::move(response));
}

}  // namespace

Result<PagesContext> load_pages(ApiContext& api, const std::string& web_dir) {
  auto templates = PageTemplates::load(web_dir + "/templates",
                                       api.languages ? *api.languages : i18n::Catalogues::english_only());
  if (!templates) return templates.error();
  auto css = read_static(web_dir + "/static/redress.css");
  if (!css) return css.error();
  auto js = read_static(web_dir + "/static/redress.js");
  if (!js) return js.error();
  for (std::string_view page :
       {"message", "client", "standards", "sign_in", "my_cases", "queue", "search", "case", "board", "landing", "complain", "complained",
        "cases", "touchpoint", "touchpoints"})
    if (!templates->contains(page))
      return Error::invalid("pages: missing " + web_dir + "/templates/" + std::string(page) + ".html");
  PagesContext pages{
      api,     std::move(templates).value(),       std::move(css).value(), std::move(js).value(), SignInPolicy{},
      nullptr, std::make_shared<PasswordChecker>()};
  set_sign_in_policy(pages, SignInPolicy{});
  return pages;
}

void set_sign_in_policy(PagesContext& pages, SignInPolicy policy) {
  pages.address_failures = std::make_shared<RateLimiter>(
      policy.address_failures, std::chrono::duration_cast<std::chrono::seconds>(policy.failure_window));
  pages.sign_in = policy;
}

void register_pages(Router& router, PagesContext& pages) {
  router.add(
      RouteSpec{verb::get, "/static/redress.css", Access::kPublic, {}, false, [&pages](const ContextPtr&, Reply reply) {
                  reply(static_file(pages.stylesheet, "text/css; charset=utf-8"));
                }});
  router.add(
      RouteSpec{verb::get, "/static/redress.js", Access::kPublic, {}, false, [&pages](const ContextPtr&, Reply reply) {
                  reply(static_file(pages.script, "text/javascript; charset=utf-8"));
                }});
  router.add(RouteSpec{verb::get, "/standards", Access::kPublic, {}, false, [&pages](const ContextPtr&, Reply reply) {
                         standards_page(pages, std::move(reply));
                       }});
  router.add(RouteSpec{verb::get, "/", Access::kPublic, {}, false, [&pages](const ContextPtr& ctx, Reply reply) {
                         // In the visitor's language (Accept-Language, or the one they picked).
                         const PageLanguage language = client_language(pages, *ctx);
                         json::object data{{"title", language.language->translate(i18n::translatable("Complaints"))},
                                           {"body_class", "public"}};
                         put_language(data, pages, language, "/");
                         reply(in_language(render_page(pages, http::status::ok, "landing", std::move(data)), pages,
                                           language));
                       }});
  register_client_pages(router, pages);
  register_console_pages(router, pages);
  register_board_pages(router, pages);
  register_touchpoint_pages(router, pages);
  register_complaint_form(router, pages);
  register_desk_pages(router, pages);
  register_staff_admin_pages(router, pages);
  register_case_list_pages(router, pages);
  register_canned_reply_pages(router, pages);
  register_privacy_pages(router, pages);
}

}  // namespace redress::web
