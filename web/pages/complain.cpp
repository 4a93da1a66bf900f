// The public complaint form: GET /complain shows it, POST /complain files the complaint (channel
// web) through the Engine like POST /v1/cases, then shows its reference and the private link; the
// acknowledgement is mailed as for any case. No account, no JavaScript; every field labelled.
//
// Abuse: a post must come from this site (same_origin_post; the form carries nothing secret, so
// the origin check is its CSRF defence); each client address may file complaint_form_per_hour an
// hour (per node); a filled honeypot field ("website", hidden from people) is thanked and dropped;
// bodies and files are bounded (server limits, attachments limits). A refused form is shown again
// with what was typed and a message at each field.
#include <boost/json.hpp>

#include "adapters/security/secrets.h"
#include "engine/actions.h"
#include "web/attachments.h"
#include "web/multipart.h"
#include "web/pages/page_support.h"

namespace redress::web {

namespace json = boost::json;
using verb = http::verb;

namespace {

// The form's field a decoder's field name belongs to.
std::string form_field(const std::string& field) {
  if (field == "client.name") return "name";
  if (field == "client.email") return "email";
  if (field == "client.phone") return "phone";
  if (field == "subject") return "description";
  return field;
}

using i18n::translatable;

// The engine's words for what is wrong with a field, as the catalogues know them: a message a
// catalogue lacks is shown in English.
[[maybe_unused]] constexpr const char* kFieldMessages[] = {
    translatable("is required"), translatable("must not be empty"), translatable("must be an email address"),
    translatable("must not contain control characters"), translatable("must be valid UTF-8")};

json::object form_data(PagesContext& pages, const std::map<std::string, std::string>& values,
                       const PageLanguage& page_language) {
  const i18n::Language& language = *page_language.language;
  auto value = [&](const char* name) {
    auto it = values.find(name);
    return it == values.end() ? std::string() : it->second;
  };
  json::array categories = category_options(pages, value("category"), &language);
  json::array touchpoints = touchpoint_options(pages, value("touchpoint"), &language);
  json::object draft;
  for (const auto& [k, v] : values) draft[k] = v;
  const auto& limits = pages.api.settings.attachments;
  json::object data{{"title", language.translate(translatable("Make a complaint"))},
                    {"body_class", "public"},
                    {"categories", std::move(categories)},
                    {"touchpoints", std::move(touchpoints)},
                    {"draft", std::move(draft)},
                    {"errors", json::object{}},
                    {"max_files", limits.max_files},
                    {"max_file_size", size_text(limits.max_file_bytes)},
                    {"files_allowed", pages.api.blobs != nullptr && limits.max_files > 0}};
  put_language(data, pages, page_language, "/complain");
  return data;
}

Response form_page(PagesContext& pages, http::status status, const std::map<std::string, std::string>& values,
                   const Error* error, const PageLanguage& page_language) {
  const i18n::Language& language = *page_language.language;
  json::object data = form_data(pages, values, page_language);
  if (error) {
    json::object errors;
    for (const auto& f : error->fields) errors[form_field(f.field)] = language.translate(f.message);
    if (error->fields.empty())
      data["error"] = error->detail;
    else
      data["error"] = language.translate(translatable("Please check the fields marked below."));
    data["errors"] = std::move(errors);
  }
  return in_language(render_page(pages, status, "complain", std::move(data)), pages, page_language);
}

// The language of the form post: the one the form was shown in (its hidden `lang`), else as a page
// would pick it.
PageLanguage posted_language(PagesContext& pages, const ContextPtr& ctx,
                             const std::map<std::string, std::string>& values) {
  if (auto shown = values.find("lang"); shown != values.end() && pages.api.languages)
    if (const i18n::Language* language = pages.api.languages->exact(shown->second))
      return PageLanguage{language, false};
  return client_language(pages, *ctx);
}

void submit(PagesContext& pages, const std::shared_ptr<RateLimiter>& limiter, const ContextPtr& ctx, Reply reply) {
  ApiContext& api = pages.api;
  const PageLanguage asked = client_language(pages, *ctx);
  const i18n::Language& words = *asked.language;
  json::object public_page{{"body_class", "public"}, {"lang", words.tag()}};
  if (!same_origin_post(ctx->request, api.base_url))
    return reply(in_language(
        message_page(pages, http::status::forbidden, words.translate(translatable("This form was sent from another site")),
                     words.translate(translatable("Please use the complaint form on our own site.")), public_page),
        pages, asked));
  if (auto verdict = limiter->take("complain:" + ctx->client_address); !verdict.allowed) {
    Response response = in_language(
        message_page(pages, http::status::too_many_requests,
                     words.translate(translatable("Too many complaints from here")),
                     words.translate(translatable("Please wait a while before sending another complaint, or call us.")),
                     public_page),
        pages, asked);
    response.set(http::field::retry_after, std::to_string(verdict.retry_after.count()));
    return reply(std::move(response));
  }
  // The fields, from a form with files (multipart) or without (urlencoded).
  std::map<std::string, std::string> values;
  std::vector<UploadedFile> uploads;
  auto type = ctx->request[http::field::content_type];
  std::string_view content_type(type.data(), type.size());
  if (is_multipart_form(content_type)) {
    auto form = MultipartForm::parse(content_type, ctx->request.body());
    if (!form) return reply(form_page(pages, http::status::bad_request, values, &form.error(), asked));
    for (const auto& [k, v] : form->fields()) values.emplace(k, v);
    uploads = form->files();
  } else {
    auto form = Form::parse(ctx->request);
    if (!form) return reply(form_page(pages, http::status::bad_request, values, &form.error(), asked));
    for (const auto& [k, v] : form->fields()) values.emplace(k, v);
  }
  const PageLanguage language = posted_language(pages, ctx, values);
  // The honeypot: people never see it; a filled one is thanked and nothing is stored.
  if (auto trap = values.find("website"); trap != values.end() && !trap->second.empty())
    return reply(in_language(message_page(pages, http::status::ok, language.language->translate(translatable("Thank you")),
                                          language.language->translate(translatable("We have your message.")),
                                          json::object{{"body_class", "public"}, {"lang", language.language->tag()}}),
                             pages, language));

  auto value = [&](const char* name) {
    auto it = values.find(name);
    return it == values.end() ? std::string() : it->second;
  };
  json::object client{{"name", value("name")}, {"email", value("email")}};
  if (!value("phone").empty()) client["phone"] = value("phone");
  // The client wrote in this language: their mail and status page follow it.
  if (!language.language->is_english()) client["locale"] = language.language->tag();
  std::string description = value("description");
  // The subject: the first line of what happened, shortened at a word.
  std::string subject = description.substr(0, description.find('\n'));
  if (subject.size() > 80) {
    auto cut = subject.rfind(' ', 77);
    subject = subject.substr(0, cut == std::string::npos || cut < 40 ? 77 : cut) + "...";
  }
  json::object body{{"client", std::move(client)},
                    {"channel", "web"},
                    {"category", value("category")},
                    {"subject", subject},
                    {"description", description}};
  if (!value("touchpoint").empty()) body["touchpoint"] = value("touchpoint");
  if (!value("remedy_requested").empty()) body["remedy_requested"] = value("remedy_requested");
  auto request = decode_new_case(body);
  if (!request) {
    Error error = request.error();
    if (value("category").empty())
      for (auto& f : error.fields)
        if (f.field == "category") f.message = translatable("Choose what your complaint is about");
    return reply(form_page(pages, http::status::unprocessable_entity, values, &error, language));
  }
  auto files = store_files(api.blobs, api.settings.attachments, uploads);
  if (!files) return reply(form_page(pages, page_status(files.error()), values, &files.error(), language));
  request->attachments = std::move(files).value();
  auto link = api.keyring.new_client_link();
  request->client_link_nonce = link.nonce;
  request->client_link_hash = link.hash;
  api.engine.create_case(
      std::move(request).value(), Actor::intake("complaint-form"), {}, {},
      [&pages, reply = std::move(reply), values, token = link.token, language](Result<Committed> result) mutable {
        pages.api.defer([&pages, reply = std::move(reply), values = std::move(values), token, language,
                         result = std::move(result)]() mutable {
          if (!result) return reply(form_page(pages, page_status(result.error()), values, &result.error(), language));
          const std::string url = client_url(pages.api, token);
          json::object data{{"title", language.language->translate(translatable("Your complaint is with us"))},
                            {"body_class", "public"},
                            {"reference", result->change.after.reference},
                            {"client_url", url},
                            {"email", result->change.after.client.email}};
          put_language(data, pages, language, "/complain");
          reply(in_language(render_page(pages, http::status::created, "complained", std::move(data)), pages,
                            language));
        });
      });
}

}  // namespace

void register_complaint_form(Router& router, PagesContext& pages) {
  auto limiter = std::make_shared<RateLimiter>(pages.api.settings.complaint_form_per_hour, std::chrono::hours(1));
  router.add(RouteSpec{verb::get, "/complain", Access::kPublic, {}, false, [&pages](const ContextPtr& ctx, Reply reply) {
                         reply(form_page(pages, http::status::ok, {}, nullptr, client_language(pages, *ctx)));
                       }});
  router.add(RouteSpec{
      verb::post, "/complain", Access::kPublic, {}, false, [&pages, limiter](const ContextPtr& ctx, Reply reply) {
        submit(pages, limiter, ctx, std::move(reply));
      }});
}

}  // namespace redress::web
