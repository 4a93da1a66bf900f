#include "web/canned_replies.h"

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <set>

#include "adapters/mail/mail_context.h"
#include "adapters/templating/mustache.h"

namespace redress::web {

namespace json = boost::json;

namespace {

constexpr std::size_t kCannedMaxTitle = 200;
constexpr std::size_t kCannedMaxBody = 20000;

// The tags of a Mustache text, in order: {{x}}, {{#x}}, {{{x}}}..., each with its sigil ('\0' for
// a plain variable) and its name, canned_trimmed.
struct CannedTag {
  char sigil = '\0';
  std::string name;
};

std::vector<CannedTag> canned_tags_of(const std::string& text) {
  std::vector<CannedTag> tags;
  std::size_t pos = 0;
  while ((pos = text.find("{{", pos)) != std::string::npos) {
    bool triple = text.compare(pos, 3, "{{{") == 0;
    std::size_t start = pos + (triple ? 3 : 2);
    std::size_t close = text.find(triple ? "}}}" : "}}", start);
    if (close == std::string::npos) break;  // check_template reports it
    std::string inside = text.substr(start, close - start);
    CannedTag tag;
    inside.erase(0, inside.find_first_not_of(" \t"));
    if (triple) {
      tag.sigil = '{';
    } else if (!inside.empty() && std::string_view("#^/!>&=").find(inside.front()) != std::string_view::npos) {
      tag.sigil = inside.front();
      inside.erase(0, 1);
    }
    inside.erase(0, inside.find_first_not_of(" \t"));
    inside.erase(inside.find_last_not_of(" \t") + 1);
    tag.name = inside;
    tags.push_back(std::move(tag));
    pos = close + (triple ? 3 : 2);
  }
  return tags;
}

std::string canned_variable_list() {
  std::string out;
  for (const auto& v : canned_reply_variables()) out += (out.empty() ? "" : ", ") + v;
  return out;
}

std::optional<std::string> canned_text_field(const json::object& body, std::string_view key, std::size_t max,
                                      std::vector<FieldError>& errors) {
  const json::value* v = body.if_contains(key);
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    errors.push_back(FieldError{std::string(key), "must be a string"});
    return std::nullopt;
  }
  std::string text(v->get_string());
  if (text.size() > max) {
    errors.push_back(FieldError{std::string(key), "must be at most " + std::to_string(max) + " bytes"});
    return std::nullopt;
  }
  return text;
}

std::string canned_trimmed(std::string text) {
  text.erase(0, text.find_first_not_of(" \t\r\n"));
  text.erase(text.find_last_not_of(" \t\r\n") + 1);
  return text;
}

}  // namespace

std::string canned_reply_display_id(std::int64_t id) { return "cr-" + std::to_string(id); }

std::optional<std::int64_t> parse_canned_reply_id(const std::string& text) {
  std::string_view digits(text);
  if (digits.rfind("cr-", 0) == 0) digits.remove_prefix(3);
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || id <= 0) return std::nullopt;
  return id;
}

const std::vector<std::string>& canned_reply_variables() {
  static const std::vector<std::string> kVariables = {
      "client",      "case",         "owner",       "team",       "organisation",       "status_label",
      "status_url",  "pledge",       "workflow",    "escalation", "final_response_due", "commitments_open",
      "has_commitments_open", "redress"};
  return kVariables;
}

Status check_canned_reply_text(const std::string& text, const std::string& field) {
  if (auto s = templating::check_template(field, 1, text, {}); !s) return Error::invalid_field(field, s.error().detail);
  int depth = 0;
  for (const auto& tag : canned_tags_of(text)) {
    switch (tag.sigil) {
      case '{':
      case '&':
        return Error::invalid_field(field, "{{{" + tag.name + "}}} and {{&" + tag.name +
                                               "}} are not allowed: every value is escaped where the reply is shown "
                                               "as HTML; write {{" + tag.name + "}}");
      case '=': return Error::invalid_field(field, "changing the delimiters ({{=...=}}) is not allowed");
      case '>': return Error::invalid_field(field, "partials ({{> " + tag.name + "}}) are not allowed");
      case '!': continue;
      case '/': --depth; continue;
      default: break;
    }
    // Outside any section a name must be one of the case's variables; inside one it may be the
    // section's own (a commitment's `text`, an offer's `amount`).
    if (depth == 0 && tag.name != ".") {
      std::string root = tag.name.substr(0, tag.name.find('.'));
      const auto& known = canned_reply_variables();
      if (std::find(known.begin(), known.end(), root) == known.end())
        return Error::invalid_field(field, "{{" + tag.name + "}} is not a variable a canned reply can use; use " +
                                               canned_variable_list() + " (docs/canned-replies.md)");
    }
    if (tag.sigil == '#' || tag.sigil == '^') ++depth;
  }
  return Status::success();
}

Result<CannedReply> canned_reply_from_json(ApiContext& api, const json::object& body, const CannedReply* existing) {
  std::vector<FieldError> errors;
  static const std::set<std::string_view> known{"title", "body", "workflow", "team"};
  for (const auto& member : body)
    if (!known.count(member.key())) errors.push_back(FieldError{std::string(member.key()), "is not a known field"});
  CannedReply reply = existing ? *existing : CannedReply{};
  auto title = canned_text_field(body, "title", kCannedMaxTitle, errors);
  auto text = canned_text_field(body, "body", kCannedMaxBody, errors);
  auto workflow = canned_text_field(body, "workflow", 64, errors);
  auto team = canned_text_field(body, "team", 100, errors);
  if (!existing) {
    if (!body.contains("title")) errors.push_back(FieldError{"title", "is required"});
    if (!body.contains("body")) errors.push_back(FieldError{"body", "is required"});
  }
  if (title) {
    if (canned_trimmed(*title).empty())
      errors.push_back(FieldError{"title", "must not be empty"});
    else if (title->find_first_of("\r\n") != std::string::npos)
      errors.push_back(FieldError{"title", "must be one line"});
    else
      reply.title = canned_trimmed(*title);
  }
  if (text) {
    if (canned_trimmed(*text).empty())
      errors.push_back(FieldError{"body", "must not be empty"});
    else if (auto s = check_canned_reply_text(*text); !s)
      for (const auto& f : s.error().fields) errors.push_back(f);
    else
      reply.body = *text;
  }
  if (workflow) {
    if (!workflow->empty() && !api.engine.workflows().find(*workflow)) {
      std::string names;
      for (const auto& w : api.engine.workflows().all()) names += (names.empty() ? "" : ", ") + w.name;
      errors.push_back(FieldError{"workflow", "\"" + *workflow + "\" is not a published workflow (" + names +
                                                  "); leave it empty for every workflow"});
    } else {
      reply.workflow = *workflow;
    }
  }
  if (team) {
    if (team->find_first_of("\r\n") != std::string::npos)
      errors.push_back(FieldError{"team", "must be one line"});
    else
      reply.team = canned_trimmed(*team);
  }
  if (!errors.empty()) return Error::invalid("the canned reply is not valid", std::move(errors));
  if (existing && body.empty()) return Error::invalid("nothing to change: give title, body, workflow or team");
  return reply;
}

bool canned_reply_applies(ApiContext& api, const CannedReply& reply, const Case& record) {
  if (!reply.workflow.empty() && reply.workflow != record.workflow) return false;
  if (reply.team.empty()) return true;
  std::string team = record.team;
  if (team.empty())
    if (const Workflow* workflow = api.engine.workflows().find(record.workflow)) team = workflow->team;
  return reply.team == team;
}

Result<RenderedReply> render_canned_reply(ApiContext& api, const CannedReply& reply, const CaseView& view) {
  mail::MailContextInput input;
  input.snapshot = &view.snapshot;
  input.workflow = api.engine.workflows().find(view.snapshot.record.workflow);
  input.owner = view.owner;
  input.recipient_name = view.snapshot.record.client.name;
  if (view.client_link_nonce) input.status_url = client_url(api, api.keyring.client_token(*view.client_link_nonce));
  mail::MailSettings settings;
  settings.organisation = api.settings.organisation;
  json::object context = mail::build_mail_context(input, settings);
  const std::string marked = templating::mark_standalone_lines(reply.body);
  auto text = templating::render(marked, context, {}, templating::Escaping::kNone);
  if (!text) return text.error();
  auto html = templating::render(marked, context, {}, templating::Escaping::kHtml);
  if (!html) return html.error();
  return RenderedReply{canned_trimmed(std::move(text).value()), canned_trimmed(std::move(html).value())};
}

json::object canned_reply_json(const CannedReply& reply) {
  return json::object{{"id", canned_reply_display_id(reply.id)},
                      {"title", reply.title},
                      {"body", reply.body},
                      {"workflow", reply.workflow},
                      {"team", reply.team},
                      {"created_by", reply.created_by},
                      {"created_at", format_time(reply.created_at)},
                      {"updated_by", reply.updated_by},
                      {"updated_at", format_time(reply.updated_at)}};
}

}  // namespace redress::web
