// Letter templates: the letters each published standard ships, which staff start from instead of
// typing a letter from scratch (workflows/README.md, Letters).
//
// A folder holds one sub-folder per workflow, `<letters>/<workflow>/<name>.txt`, each a Mustache
// text an organisation edits. A letter's name says what it is for, and so which required
// elements it must carry:
//   acknowledgement                 none (the acknowledgement sent as a client message)
//   final_response_<outcome>        the workflow's final_response.elements; one per outcome
//   summary_resolution              summary_resolution.elements (workflows that have one)
//   holding_reply                   holding_reply.elements (workflows that have a [holding_reply])
//   extension                       the holding reply of a clock moved under its exceptional target:
//                                   that clock's holding_reply_elements and the new deadline
// Any other name is a letter staff may send as a client message, with no elements.
//
// Variables: the case's own (`client_name`, `reference`, `subject`, `received_date`, `today`,
// `owner_name`, `organisation`, and for an extension `deadline`) are filled in; every other
// variable a letter names is a variable part the sender writes, and all of them are required.
//
// Loading checks every file (Mustache syntax), that each workflow ships the letters its standard
// needs, and that each letter, its variable parts filled with sample text, carries its required
// elements: a shipped letter can never fail the check it exists to pass. A loaded set is
// immutable; every member function is thread-safe.
//
// The client's language (adapters/i18n/catalogues.h): a letter's words marked {{#t}}...{{/t}} are
// translated into each language of the catalogues given to load(), and each translated letter is
// checked for its elements as the English one is (the workflow's `any_of` phrases name the
// required wording in each language it ships). A letter is drafted in the case's language
// (LetterContext::language), its dates in that language's words; `t` is the marker, never a
// variable part. A translated letter's `deadline` reads "4 de diciembre de 2026 (2026-12-04)": the
// standard checks a holding reply for the date in English words or as a date.
#pragma once

#include <boost/json/object.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "adapters/i18n/catalogues.h"
#include "engine/actions.h"
#include "engine/model.h"
#include "engine/result.h"
#include "engine/workflow.h"

namespace redress::web {

// What a letter is for, from its name.
enum class LetterPurpose { kAcknowledgement, kFinalResponse, kSummaryResolution, kHoldingReply, kExtension, kOther };

struct LetterInfo {
  std::string name;                    // "final_response_upheld"
  LetterPurpose purpose = LetterPurpose::kOther;
  std::optional<Outcome> outcome;      // kFinalResponse: the outcome it is written for
  std::vector<std::string> variables;  // the variable parts the sender writes, in order of first use
};

// The values a letter is rendered with besides the sender's variable parts.
struct LetterContext {
  const Case* record = nullptr;
  std::string owner_name;
  std::string organisation;
  Time today{};
  std::optional<Time> deadline;  // an extension's new due time
  // The language the letter is written in (the case's client locale, where shipped); English when
  // null or not loaded.
  const i18n::Language* language = nullptr;
};

class LetterTemplates {
 public:
  // The letters shipped with Redress (templates/letters in the source tree).
  [[nodiscard]] static std::filesystem::path shipped_dir();
  // kInvalid naming the file (and line) of the first problem; kNotFound when `dir` is not a folder.
  [[nodiscard]] static Result<LetterTemplates> load(const std::filesystem::path& dir, const WorkflowSet& workflows,
                                                    const i18n::Catalogues& catalogues = i18n::Catalogues::english_only());

  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }
  // The letters of a workflow, by name; empty for a workflow without letters.
  [[nodiscard]] std::vector<LetterInfo> letters(const std::string& workflow) const;
  [[nodiscard]] const LetterInfo* find(const std::string& workflow, const std::string& name) const;

  // The letter `name` of `workflow` with the sender's `variables` (string values): kNotFound for an
  // unknown letter; kInvalid naming each missing, empty or unknown variable (field
  // "variables.<name>").
  [[nodiscard]] Result<std::string> render(const Workflow& workflow, const std::string& name,
                                           const LetterContext& context, const boost::json::object& variables) const;
  // The letter with each variable part shown as "[name]", for staff to edit (the console's forms).
  [[nodiscard]] std::string draft(const Workflow& workflow, const std::string& name,
                                  const LetterContext& context) const;

 private:
  struct Letter {
    LetterInfo info;
    std::map<std::string, std::string, std::less<>> texts;  // by language tag, marked for rendering; "en" always
    [[nodiscard]] const std::string& text_in(const i18n::Language* language) const;
  };
  [[nodiscard]] Result<std::string> render_with(const Workflow& workflow, const Letter& letter,
                                                const LetterContext& context, const boost::json::object& parts) const;
  std::filesystem::path dir_;
  std::map<std::string, std::map<std::string, Letter>> letters_;  // by workflow, then name
};

[[nodiscard]] std::string_view to_string(LetterPurpose purpose);

// A request body's {"letter": name, "variables": {...}} made into the letter's text, in the field
// the action takes it in: resolve and propose_redress a final_response_<outcome> letter (matching
// the body's outcome) as final_response, or summary_resolution as summary_resolution;
// add_message any letter as the client message's body (a holding_reply letter of kind
// "holding_reply"); renegotiate_commitment the extension letter as holding_reply. The body keeps
// "letter" (recorded on the event) and loses "variables". A body without "letter" is returned as
// it is. kInvalid when the action takes no letter, the letter does not fit it, or a field the
// letter fills was also given.
[[nodiscard]] Result<boost::json::object> expand_letter(const LetterTemplates& letters, const Workflow& workflow,
                                                        ActionType type, boost::json::object body,
                                                        const LetterContext& context);

}  // namespace redress::web
