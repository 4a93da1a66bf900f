#include "web/pages/page_support.h"

#include "web/views.h"

#include <date/tz.h>

#include <cctype>
#include <charconv>
#include <cstdio>
#include <set>
#include <sstream>

namespace redress::web {

namespace json = boost::json;

Response render_page(PagesContext& pages, http::status status, std::string_view page, json::object data) {
  if (!data.contains("organisation")) data["organisation"] = pages.api.settings.organisation;
  std::string language = "en";
  if (const auto* lang = data.if_contains("lang"); lang && lang->is_string()) language = lang->get_string();
  auto html = pages.templates.render(page, data, language);
  if (!html) {
    Response response{http::status::internal_server_error, 11};
    response.set(http::field::content_type, "text/plain; charset=utf-8");
    set_security_headers(response);
    response.body() = "The page could not be rendered: " + html.error().detail + "\n";
    response.prepare_payload();
    return response;
  }
  return html_response(status, std::move(html).value());
}

Response message_page(PagesContext& pages, http::status status, const std::string& title, const std::string& text,
                      json::object data) {
  data["title"] = title;
  data["heading"] = title;
  data["text"] = text;
  return render_page(pages, status, "message", std::move(data));
}

void put_error(json::object& data, const Error& error) {
  data["error"] = error.detail;
  json::array fields;
  for (const auto& f : error.fields) fields.push_back(json::object{{"field", f.field}, {"message", f.message}});
  data["has_error_fields"] = !fields.empty();
  data["error_fields"] = std::move(fields);
}

http::status page_status(const Error& error) { return status_for(error.code); }

json::object form_json(const Form& form, std::initializer_list<std::string_view> integers,
                       std::initializer_list<std::string_view> booleans) {
  json::object out;
  for (const auto& [name, value] : form.fields()) {
    if (name == "csrf" || value.empty()) continue;
    bool is_integer = false, is_boolean = false;
    for (auto n : integers) is_integer = is_integer || n == name;
    for (auto n : booleans) is_boolean = is_boolean || n == name;
    if (is_boolean) {
      out[name] = value == "on" || value == "true" || value == "1";
    } else if (is_integer) {
      std::int64_t number = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
      if (ec == std::errc() && end == value.data() + value.size())
        out[name] = number;
      else
        out[name] = value;
    } else {
      out[name] = value;
    }
  }
  return out;
}

void run_page_action(PagesContext& pages, ActionRequest request, std::function<void(Result<Committed>)> done) {
  ApiContext& api = pages.api;
  api.engine.submit(std::move(request), [&api, done = std::move(done)](Result<Committed> result) mutable {
    api.defer([done = std::move(done), result = std::move(result)]() mutable { done(std::move(result)); });
  });
}

namespace {

const date::time_zone* zone_of(PagesContext& pages, const std::string& workflow) {
  const Workflow* found = pages.api.engine.workflows().find(workflow);
  if (!found) return nullptr;
  try {
    return date::locate_zone(found->calendar.zone_name());
  } catch (const std::exception&) {
    return nullptr;
  }
}

}  // namespace

mail::LocalTimeFormatter time_formatter(PagesContext& pages, const std::string& workflow,
                                        const i18n::Language* language) {
  const Workflow* found = pages.api.engine.workflows().find(workflow);
  if (found)
    if (auto formatter = mail::zone_formatter(found->calendar.zone_name(), language); formatter)
      return std::move(formatter).value();
  return [language](Time t) { return mail::format_utc_for_reader(t, language); };
}

namespace {

constexpr std::string_view kLanguageCookie = "lang";
constexpr long kLanguageCookieSeconds = 365L * 24 * 3600;

}  // namespace

PageLanguage client_language(PagesContext& pages, const RequestContext& ctx, std::string_view case_locale) {
  static const i18n::Catalogues& english = i18n::Catalogues::english_only();
  const i18n::Catalogues& shipped = pages.api.languages ? *pages.api.languages : english;
  if (auto picked = ctx.query_value("lang"))
    if (const i18n::Language* language = shipped.exact(*picked)) return PageLanguage{language, true};
  if (auto remembered = cookie_value(ctx.request, kLanguageCookie))
    if (const i18n::Language* language = shipped.exact(*remembered)) return PageLanguage{language, false};
  if (const i18n::Language* language = shipped.match(case_locale)) return PageLanguage{language, false};
  const auto accept = ctx.request[http::field::accept_language];
  if (const i18n::Language* language = shipped.negotiate(std::string_view(accept.data(), accept.size())))
    return PageLanguage{language, false};
  return PageLanguage{&shipped.english(), false};
}

void put_language(json::object& data, PagesContext& pages, const PageLanguage& language, const std::string& path) {
  const i18n::Language& current = language.language ? *language.language : i18n::Catalogues::english_only().english();
  data["lang"] = current.tag();
  json::array choices;
  if (pages.api.languages)
    for (const auto& shipped : pages.api.languages->languages())
      choices.push_back(json::object{{"tag", shipped->tag()},
                                     {"name", shipped->name()},
                                     {"url", path + "?lang=" + form_encode(shipped->tag())},
                                     {"current", shipped->tag() == current.tag()}});
  data["has_languages"] = choices.size() > 1;
  data["languages"] = std::move(choices);
}

Response in_language(Response response, PagesContext& pages, const PageLanguage& language) {
  if (!language.language) return response;
  response.set(http::field::content_language, language.language->tag());
  response.set(http::field::vary, "Accept-Language, Cookie");
  if (language.picked_now) {
    const bool secure = pages.api.base_url.rfind("https://", 0) == 0;
    response.insert(http::field::set_cookie,
                    set_cookie(kLanguageCookie, language.language->tag(), kLanguageCookieSeconds,
                               secure ? CookieSecurity::kSecure : CookieSecurity::kPlain));
  }
  return response;
}

std::string short_time(PagesContext& pages, const std::string& workflow, Time t) {
  if (t == Time::max()) return "on hold";
  using namespace std::chrono;
  auto minutes_utc = floor<minutes>(t);
  date::local_time<minutes> local{minutes_utc.time_since_epoch()};
  std::string abbreviation = "UTC";
  if (const date::time_zone* zone = zone_of(pages, workflow)) {
    auto zoned = date::make_zoned(zone, minutes_utc);
    local = floor<minutes>(zoned.get_local_time());
    abbreviation = zoned.get_info().abbrev;
  }
  auto day = floor<days>(local);
  year_month_day ymd{sys_days(day.time_since_epoch())};
  auto minute_of_day = duration_cast<minutes>(local - day).count();
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u %02d:%02d %s", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(minute_of_day / 60), static_cast<int>(minute_of_day % 60), abbreviation.c_str());
  return buffer;
}

// The <input type="datetime-local"> value of an instant in the workflow's zone.
std::string local_input(const Workflow* workflow, Time t) {
  using namespace std::chrono;
  auto m = floor<minutes>(t);
  date::local_time<minutes> local{m.time_since_epoch()};
  if (workflow) try {
      local = floor<minutes>(date::make_zoned(workflow->calendar.zone_name(), m).get_local_time());
    } catch (const std::exception&) {}
  return date::format("%Y-%m-%dT%H:%M", local);
}

// An instant from a datetime-local value in the workflow's zone (a skipped local time moves forward).
std::optional<Time> parse_local_input(const Workflow* workflow, const std::string& text) {
  std::istringstream in(text);
  date::local_time<std::chrono::minutes> local;
  in >> date::parse("%Y-%m-%dT%H:%M", local);
  if (in.fail()) return std::nullopt;
  try {
    if (!workflow) return Time(local.time_since_epoch());
    const date::time_zone* zone = date::locate_zone(workflow->calendar.zone_name());
    return Time(zone->to_sys(local, date::choose::earliest).time_since_epoch());
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

json::array category_options(PagesContext& pages, const std::string& selected, const i18n::Language* language) {
  json::array categories;
  std::set<std::string> seen;
  const WorkflowSet& workflows = pages.api.engine.workflows();
  for (const auto& w : workflows.all())
    for (const auto& c : w.categories)
      if (seen.insert(c).second) {
        std::string label = workflows.category_name(c);
        if (language) label = language->translate(label);
        categories.push_back(json::object{{"value", c}, {"label", std::move(label)}, {"selected", selected == c}});
      }
  return categories;
}

json::array touchpoint_options(PagesContext& pages, const std::string& selected, const i18n::Language* language) {
  json::array touchpoints;
  for (const auto& [id, label] : pages.api.engine.workflows().touchpoints())
    touchpoints.push_back(json::object{
        {"value", id}, {"label", language ? language->translate(label) : label}, {"selected", selected == id}});
  return touchpoints;
}

}  // namespace redress::web
