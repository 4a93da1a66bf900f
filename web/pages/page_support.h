// What the page modules share (internal to web/pages): rendering a page, turning errors and form
// fields into what templates and the engine expect, running an action for a page, and the reader's
// time texts. Pure helpers over PagesContext; thread-safe.
#pragma once

#include <boost/json.hpp>

#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "adapters/mail/mail_context.h"
#include "web/pages/html.h"
#include "web/pages/pages.h"

namespace redress::web {

// The page inside the layout; a template failure is a 500 with a plain message (a bug).
[[nodiscard]] Response render_page(PagesContext& pages, http::status status, std::string_view page,
                                   boost::json::object data);
// A page that only says what went wrong (unknown link, not allowed...).
[[nodiscard]] Response message_page(PagesContext& pages, http::status status, const std::string& title,
                                    const std::string& text, boost::json::object data = {});
// {"error": detail, "error_fields": [{field, message}]} for the layout's error box.
void put_error(boost::json::object& data, const Error& error);
// The HTTP status a page answers an engine error with.
[[nodiscard]] http::status page_status(const Error& error);

// A form as the engine's JSON decoders expect it: empty fields are left out, `integers` and
// `booleans` ("on", "true", "1" are true) are converted, `csrf` is dropped. A number that does not
// parse stays a string, so the decoder names the field.
[[nodiscard]] boost::json::object form_json(const Form& form, std::initializer_list<std::string_view> integers = {},
                                            std::initializer_list<std::string_view> booleans = {});

// Submits an action; `done` runs on an I/O thread with the result.
void run_page_action(PagesContext& pages, ActionRequest request, std::function<void(Result<Committed>)> done);

// Reader's time texts in a workflow's zone ("Friday 27 November 2026 at 17:00 GMT"); UTC when
// the workflow is unknown. In `language` (English when null), which must outlive the formatter.
[[nodiscard]] mail::LocalTimeFormatter time_formatter(PagesContext& pages, const std::string& workflow,
                                                      const i18n::Language* language = nullptr);

// The language a client's page is shown in (the status page, the complaint form): the one the
// client picked with the page's switcher (?lang=, then remembered in a cookie), else the case's
// locale (`case_locale`), else the browser's Accept-Language, else English; always a shipped one.
struct PageLanguage {
  const i18n::Language* language = nullptr;  // never null once chosen
  bool picked_now = false;                   // ?lang= named it: the answer remembers it
};
[[nodiscard]] PageLanguage client_language(PagesContext& pages, const RequestContext& ctx,
                                           std::string_view case_locale = {});
// The page's `lang` and its switcher (`languages`: tag, name, url, current; `has_languages` when
// more than English is shipped), each link `path?lang=<tag>`.
void put_language(boost::json::object& data, PagesContext& pages, const PageLanguage& language,
                  const std::string& path);
// `response` with Content-Language, and the cookie that remembers a language picked now.
[[nodiscard]] Response in_language(Response response, PagesContext& pages, const PageLanguage& language);
// "2026-11-27 17:00 GMT": the compact form for tables, in the same zone.
[[nodiscard]] std::string short_time(PagesContext& pages, const std::string& workflow, Time t);

// The <input type="datetime-local"> value ("2026-12-04T17:00") of an instant in the workflow's zone
// (UTC when the workflow is null).
[[nodiscard]] std::string local_input(const Workflow* workflow, Time t);
// An instant from a datetime-local value in the workflow's zone (a skipped local time moves
// forward); nullopt when the text is not one.
[[nodiscard]] std::optional<Time> parse_local_input(const Workflow* workflow, const std::string& text);

// The <option>s of a form's "what is it about" (every published category, in words) and "where
// did it happen" (the touchpoints the API documents, in words): [{value, label, selected}].
// Labels in `language` where its catalogue has the workflow files' names (English when null).
[[nodiscard]] boost::json::array category_options(PagesContext& pages, const std::string& selected,
                                                  const i18n::Language* language = nullptr);
[[nodiscard]] boost::json::array touchpoint_options(PagesContext& pages, const std::string& selected,
                                                    const i18n::Language* language = nullptr);

}  // namespace redress::web
