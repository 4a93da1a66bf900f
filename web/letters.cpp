#include "web/letters.h"

#include <boost/json.hpp>

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "adapters/templating/mustache.h"

namespace redress::web {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

// The values every letter may use without the sender writing them.
const std::set<std::string, std::less<>> kCaseVariables{"client_name",  "reference", "subject",     "received_date",
                                                        "today",        "owner_name", "organisation", "deadline"};

// A letter's date in its language: "27 November 2026", "27 de noviembre de 2026".
constexpr const char* kLetterDate = i18n::translatable_in("letter date", "{day} {month} {year}");

std::string letter_date_in(const BusinessCalendar& calendar, Time t, const i18n::Language* language) {
  if (!language || language->is_english()) return letter_date(calendar, t);
  static constexpr const char* kMonthNames[] = {"January", "February", "March",     "April",   "May",      "June",
                                                "July",    "August",   "September", "October", "November", "December"};
  const std::chrono::year_month_day day = calendar.local_date(t);
  std::string text = language->translate_in("letter date", kLetterDate);
  auto put = [&text](std::string_view name, const std::string& value) {
    if (auto at = text.find(name); at != std::string::npos) text.replace(at, name.size(), value);
  };
  put("{day}", std::to_string(static_cast<unsigned>(day.day())));
  put("{month}", language->translate_in("month", kMonthNames[static_cast<unsigned>(day.month()) - 1]));
  put("{year}", std::to_string(static_cast<int>(day.year())));
  return text;
}

std::string sample_value(const std::string& name) { return "[" + name + "]"; }

std::optional<LetterInfo> info_for(const std::string& name) {
  LetterInfo info;
  info.name = name;
  if (name == "acknowledgement") {
    info.purpose = LetterPurpose::kAcknowledgement;
  } else if (name == "summary_resolution") {
    info.purpose = LetterPurpose::kSummaryResolution;
  } else if (name == "holding_reply") {
    info.purpose = LetterPurpose::kHoldingReply;
  } else if (name == "extension") {
    info.purpose = LetterPurpose::kExtension;
  } else if (name.rfind("final_response_", 0) == 0) {
    auto outcome = parse_Outcome(std::string_view(name).substr(15));
    if (!outcome) return std::nullopt;
    info.purpose = LetterPurpose::kFinalResponse;
    info.outcome = outcome;
  } else {
    info.purpose = LetterPurpose::kOther;
  }
  return info;
}

// The variable parts a text names: every {{name}}, {{{name}}}, {{&name}}, {{#name}} and {{^name}}
// that is not one of the case's own, in order of first use.
std::vector<std::string> variable_parts(const std::string& text) {
  static const std::regex tag(R"(\{\{\{?\s*([#^&]?)\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}?\}\})");
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), tag); it != std::sregex_iterator(); ++it) {
    std::string name = (*it)[2];
    // `t` marks the words to translate ({{#t}}...{{/t}}): never a variable part.
    if (name == "t" || kCaseVariables.count(name) || std::find(out.begin(), out.end(), name) != out.end()) continue;
    out.push_back(std::move(name));
  }
  return out;
}

Result<std::string> read_text_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::invalid("letters: cannot read " + path.string());
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// The letters a workflow's standard needs, by name.
std::vector<std::string> needed_letters(const Workflow& workflow) {
  std::vector<std::string> names{"acknowledgement"};
  for (auto outcome : all_names_Outcome()) names.push_back("final_response_" + std::string(outcome));
  if (workflow.summary_resolution) names.emplace_back("summary_resolution");
  if (workflow.holding_reply) names.emplace_back("holding_reply");
  if (std::any_of(workflow.clocks.begin(), workflow.clocks.end(),
                  [](const ClockRule& c) { return c.renegotiation == Renegotiation::kExceptional; }))
    names.emplace_back("extension");
  return names;
}

// The elements a letter of `purpose` must carry that `text` lacks, as "key (description)" lines.
std::vector<std::string> missing_elements(const Workflow& workflow, LetterPurpose purpose, const std::string& text) {
  std::vector<const RequiredElement*> missing;
  switch (purpose) {
    case LetterPurpose::kFinalResponse: missing = workflow.missing_elements(text); break;
    case LetterPurpose::kSummaryResolution: missing = workflow.missing_summary_elements(text); break;
    case LetterPurpose::kHoldingReply: missing = workflow.missing_holding_reply_elements(text); break;
    case LetterPurpose::kExtension:
      for (const auto& clock : workflow.clocks)
        if (clock.renegotiation == Renegotiation::kExceptional)
          for (const auto* element : missing_in_text(clock.holding_reply_elements, text)) missing.push_back(element);
      break;
    case LetterPurpose::kAcknowledgement:
    case LetterPurpose::kOther: break;
  }
  std::vector<std::string> out;
  for (const auto* element : missing) out.push_back(element->key + " (" + element->description + ")");
  return out;
}

}  // namespace

std::string_view to_string(LetterPurpose purpose) {
  switch (purpose) {
    case LetterPurpose::kAcknowledgement: return "acknowledgement";
    case LetterPurpose::kFinalResponse: return "final_response";
    case LetterPurpose::kSummaryResolution: return "summary_resolution";
    case LetterPurpose::kHoldingReply: return "holding_reply";
    case LetterPurpose::kExtension: return "extension";
    case LetterPurpose::kOther: return "message";
  }
  return "message";
}

fs::path LetterTemplates::shipped_dir() { return fs::path(REDRESS_SOURCE_DIR) / "templates" / "letters"; }

const std::string& LetterTemplates::Letter::text_in(const i18n::Language* language) const {
  if (language)
    if (auto it = texts.find(language->tag()); it != texts.end()) return it->second;
  return texts.at("en");
}

Result<LetterTemplates> LetterTemplates::load(const fs::path& dir, const WorkflowSet& workflows,
                                              const i18n::Catalogues& catalogues) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Error::not_found("letters: " + dir.string() + " is not a folder");
  LetterTemplates out;
  out.dir_ = dir;
  for (const auto& workflow : workflows.all()) {
    const fs::path folder = dir / workflow.name;
    auto& letters = out.letters_[workflow.name];
    if (fs::is_directory(folder, ec)) {
      for (const auto& entry : fs::directory_iterator(folder, ec)) {
        if (!entry.is_regular_file() || entry.path().extension() != ".txt") continue;
        const std::string name = entry.path().stem().string();
        const std::string file = (fs::path(workflow.name) / entry.path().filename()).string();
        auto info = info_for(name);
        if (!info)
          return Error::invalid("letters: " + file + ": a final response letter is named final_response_<outcome>, " +
                                "with an outcome of upheld, partly_upheld, not_upheld or resolved_informally");
        auto text = read_text_file(entry.path());
        if (!text) return text.error();
        if (auto s = templating::check_template(file, 1, *text, {}); !s) return s.error();
        info->variables = variable_parts(*text);
        // Each language's copy; a translation uses only its English text's tags, so no copy has a
        // variable part the English one lacks.
        Letter letter{std::move(*info), {}};
        for (const auto& language : catalogues.languages()) {
          auto translated = i18n::translate_template(*text, *language, "letters/" + file);
          if (!translated) return translated.error();
          letter.texts[language->tag()] = templating::mark_standalone_lines(*translated);
        }
        letters.emplace(name, std::move(letter));
      }
      if (ec) return Error::invalid("letters: cannot list " + folder.string() + ": " + ec.message());
    }
    std::string missing;
    for (const auto& name : needed_letters(workflow))
      if (!letters.count(name)) missing += (missing.empty() ? "" : ", ") + name + ".txt";
    if (!missing.empty())
      return Error::invalid("letters: the " + workflow.name + " standard needs letters that " + folder.string() +
                            " lacks: " + missing);
    // Each letter, its variable parts filled with sample text, carries the elements it is for.
    Case sample;
    sample.reference = "CMP-0000-000000";
    sample.client.name = "[client_name]";
    sample.subject = "[subject]";
    const auto& years = workflow.calendar.years();
    const Time in_years =
        years ? Time(std::chrono::sys_days(std::chrono::year(years->first) / std::chrono::March / 2)) : Time{};
    sample.received_at = in_years + std::chrono::hours(10);
    LetterContext context{&sample, "[owner_name]", "[organisation]", sample.received_at,
                          sample.received_at + std::chrono::hours(24 * 20), nullptr};
    for (const auto& language : catalogues.languages()) {
      context.language = language.get();
      for (const auto& [name, letter] : letters) {
        json::object parts;
        for (const auto& variable : letter.info.variables) parts[variable] = sample_value(variable);
        auto rendered = out.render_with(workflow, letter, context, parts);
        if (!rendered) return rendered.error();
        auto missing_elements_list = missing_elements(workflow, letter.info.purpose, *rendered);
        // The deadline, as the standard checks a holding reply for it: in English words, or as a date.
        if (letter.info.purpose == LetterPurpose::kExtension &&
            rendered->find(letter_date(workflow.calendar, *context.deadline)) == std::string::npos &&
            rendered->find(format_date(workflow.calendar.local_date(*context.deadline))) == std::string::npos)
          missing_elements_list.emplace_back("deadline (state the new deadline: use {{deadline}})");
        if (!missing_elements_list.empty()) {
          std::string list;
          for (const auto& m : missing_elements_list) list += (list.empty() ? "" : "; ") + m;
          return Error::invalid(
              "letters: " + (fs::path(workflow.name) / (name + ".txt")).string() +
              (language->is_english() ? std::string()
                                      : " in " + language->tag() + " (as its catalogue translates it)") +
              " lacks what the " + workflow.name + " standard requires of a " +
              std::string(to_string(letter.info.purpose)) + " letter: " + list +
              (language->is_english() ? std::string()
                                      : "; the standard's any_of phrases must include the translation's wording"));
        }
      }
    }
  }
  return out;
}

std::vector<LetterInfo> LetterTemplates::letters(const std::string& workflow) const {
  std::vector<LetterInfo> out;
  auto it = letters_.find(workflow);
  if (it == letters_.end()) return out;
  for (const auto& [name, letter] : it->second) out.push_back(letter.info);
  return out;
}

const LetterInfo* LetterTemplates::find(const std::string& workflow, const std::string& name) const {
  auto it = letters_.find(workflow);
  if (it == letters_.end()) return nullptr;
  auto letter = it->second.find(name);
  return letter == it->second.end() ? nullptr : &letter->second.info;
}

Result<std::string> LetterTemplates::render_with(const Workflow& workflow, const Letter& letter,
                                                 const LetterContext& context, const json::object& parts) const {
  json::object data = parts;
  const i18n::Language* language = context.language;
  if (context.record) {
    data["client_name"] = context.record->client.name;
    data["reference"] = context.record->reference;
    data["subject"] = context.record->subject;
    data["received_date"] = letter_date_in(workflow.calendar, context.record->received_at, language);
  }
  data["today"] = letter_date_in(workflow.calendar, context.today, language);
  data["owner_name"] = context.owner_name;
  data["organisation"] = context.organisation;
  // A translated extension's deadline also carries the date as the standard checks it (2026-12-04),
  // since the standard's check cannot read the date in every language's words.
  if (context.deadline)
    data["deadline"] = language && !language->is_english()
                           ? letter_date_in(workflow.calendar, *context.deadline, language) + " (" +
                                 format_date(workflow.calendar.local_date(*context.deadline)) + ")"
                           : letter_date(workflow.calendar, *context.deadline);
  return templating::render(letter.text_in(language), data, {}, templating::Escaping::kNone);
}

Result<std::string> LetterTemplates::render(const Workflow& workflow, const std::string& name,
                                            const LetterContext& context, const json::object& variables) const {
  auto in_workflow = letters_.find(workflow.name);
  const Letter* letter = nullptr;
  if (in_workflow != letters_.end())
    if (auto it = in_workflow->second.find(name); it != in_workflow->second.end()) letter = &it->second;
  if (!letter) {
    std::string known;
    if (in_workflow != letters_.end())
      for (const auto& [other, unused] : in_workflow->second) known += (known.empty() ? "" : ", ") + other;
    return Error::invalid_field("letter", "the " + workflow.name + " standard has no letter \"" + name + "\"" +
                                              (known.empty() ? std::string() : " (its letters: " + known + ")"));
  }
  std::vector<FieldError> errors;
  json::object parts;
  for (const auto& variable : letter->info.variables) {
    const json::value* value = variables.if_contains(variable);
    if (!value || !value->is_string() || value->get_string().find_first_not_of(" \t\r\n") == json::string::npos) {
      errors.push_back(FieldError{"variables." + variable, "the letter \"" + name + "\" needs it (text)"});
      continue;
    }
    if (value->get_string().size() > kMaxLongText) {
      errors.push_back(FieldError{"variables." + variable, "is longer than " + std::to_string(kMaxLongText) + " bytes"});
      continue;
    }
    parts[variable] = *value;
  }
  for (const auto& [key, value] : variables)
    if (std::find(letter->info.variables.begin(), letter->info.variables.end(), std::string(key)) ==
        letter->info.variables.end())
      errors.push_back(FieldError{"variables." + std::string(key),
                                  "is not a variable part of the letter \"" + name + "\"" +
                                      (kCaseVariables.count(std::string(key)) ? " (the case fills it in)" : "")});
  if (letter->info.purpose == LetterPurpose::kExtension && !context.deadline)
    errors.push_back(FieldError{"due_at", "the letter \"" + name + "\" states the new deadline: give due_at"});
  if (!errors.empty()) {
    std::string detail = "the letter \"" + name + "\":";
    for (const auto& e : errors) detail += " " + e.field + " " + e.message + ";";
    detail.pop_back();
    return Error::invalid(std::move(detail), std::move(errors));
  }
  return render_with(workflow, *letter, context, parts);
}

std::string LetterTemplates::draft(const Workflow& workflow, const std::string& name,
                                   const LetterContext& context) const {
  auto in_workflow = letters_.find(workflow.name);
  if (in_workflow == letters_.end()) return {};
  auto it = in_workflow->second.find(name);
  if (it == in_workflow->second.end()) return {};
  json::object parts;
  for (const auto& variable : it->second.info.variables) parts[variable] = sample_value(variable);
  auto rendered = render_with(workflow, it->second, context, parts);
  return rendered ? std::move(rendered).value() : std::string();
}

Result<json::object> expand_letter(const LetterTemplates& letters, const Workflow& workflow, ActionType type,
                                   json::object body, const LetterContext& context) {
  const json::value* letter_value = body.if_contains("letter");
  if (!letter_value || letter_value->is_null()) {
    if (body.contains("variables")) return Error::invalid_field("variables", "go with a letter");
    return body;
  }
  if (!letter_value->is_string() || letter_value->get_string().empty())
    return Error::invalid_field("letter", "must be the name of one of the standard's letters");
  const std::string name(letter_value->get_string());
  json::object variables;
  if (const json::value* given = body.if_contains("variables"); given && !given->is_null()) {
    if (!given->is_object()) return Error::invalid_field("variables", "must be an object of texts");
    variables = given->get_object();
  }
  body.erase("variables");
  const LetterInfo* info = letters.find(workflow.name, name);
  if (!info) {
    auto rendered = letters.render(workflow, name, context, variables);  // names the letters there are
    return rendered.error();
  }
  // The field the letter fills for this action.
  std::string field;
  switch (type) {
    case ActionType::kResolve:
    case ActionType::kProposeRedress:
      if (info->purpose == LetterPurpose::kSummaryResolution && type == ActionType::kResolve) {
        field = "summary_resolution";
      } else if (info->purpose == LetterPurpose::kFinalResponse) {
        field = "final_response";
        const json::value* outcome = body.if_contains("outcome");
        if (outcome && outcome->is_string() && outcome->get_string() != to_string(*info->outcome))
          return Error::invalid_field("letter", "the letter \"" + name + "\" is for the outcome " +
                                                    std::string(to_string(*info->outcome)) + ", not " +
                                                    std::string(outcome->get_string()));
      } else {
        return Error::invalid_field("letter", "the letter \"" + name + "\" is not a final response" +
                                                  (type == ActionType::kResolve ? " or summary resolution" : ""));
      }
      break;
    case ActionType::kAddMessage:
      field = "body";
      if (const json::value* v = body.if_contains("visibility"); v && v->is_string() && v->get_string() != "client")
        return Error::invalid_field("visibility", "a letter is written to the client");
      body["visibility"] = "client";
      if (info->purpose == LetterPurpose::kHoldingReply) body["kind"] = "holding_reply";
      break;
    case ActionType::kRenegotiateCommitment:
      if (info->purpose != LetterPurpose::kExtension)
        return Error::invalid_field("letter", "a move is sent with the letter \"extension\", not \"" + name + "\"");
      field = "holding_reply";
      break;
    default: return Error::invalid_field("letter", "this action sends no letter");
  }
  if (const json::value* given = body.if_contains(field); given && !given->is_null())
    return Error::invalid_field(field, "give a letter (with its variables) or " + field + ", not both");
  auto rendered = letters.render(workflow, name, context, variables);
  if (!rendered) return rendered.error();
  body[field] = std::move(rendered).value();
  return body;
}

}  // namespace redress::web
