// Mail templates: the Mustache files an organisation edits, one per notification template name.
//
// A folder holds "<name>.txt" for each template name the engine emits ("client.acknowledged"):
// its first line is "Subject: <mustache>", then a blank line, then the plain-text body. An
// optional "<name>.html" beside it is the HTML alternative (its body only; the subject is the
// .txt's). Files named "_<partial>.txt" / "_<partial>.html" are partials, used as {{> partial}}
// from the bodies of the same kind. docs/email.md lists the variables.
//
// Loading checks every file (Mustache syntax, the subject line, the partials named) and that every
// required template is there, so a broken edit is refused at start-up, not at the first mail.
// Text is rendered without any escaping; HTML escapes {{variables}} ({{{raw}}} does not). Missing
// variables render empty. A loaded MailTemplates is immutable: render() is thread-safe.
//
// The clients' languages (adapters/i18n/catalogues.h): text marked {{#t}}...{{/t}} in a template
// is translated into each language of the catalogues given to load(), once, there; a template
// rendered in a language is its translated copy (a text the catalogue lacks stays English). A
// translation that breaks the template is refused at load, as a broken edit is.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "adapters/i18n/catalogues.h"
#include "engine/result.h"

namespace redress::mail {

struct RenderedMail {
  std::string subject;  // one line, without the "[CMP-...]" tag (mime.h: subject_with_reference)
  std::string text;
  std::string html;      // empty when the template has no .html
  std::string language;  // the language it is written in: its Content-Language ("en", "es")
};

class MailTemplates {
 public:
  // The template names the engine emits; load() refuses a folder that lacks any of them.
  [[nodiscard]] static const std::vector<std::string>& required_names();
  // The templates shipped with Redress (templates/email in the source tree).
  [[nodiscard]] static std::filesystem::path shipped_dir();

  // kInvalid naming the file and line of the first problem, or the missing templates, or a
  // translation that breaks a template; kNotFound when `dir` is not a folder. Each language of
  // `catalogues` gets its translated copy.
  [[nodiscard]] static Result<MailTemplates> load(const std::filesystem::path& dir,
                                                  const i18n::Catalogues& catalogues = i18n::Catalogues());

  [[nodiscard]] bool contains(std::string_view name) const;
  [[nodiscard]] std::vector<std::string> names() const;
  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }

  // kNotFound for an unknown template name; kInternal if Mustache fails at render time. In English,
  // or in `language` (its tag, as Catalogues::for_tag gives it): English for a language not loaded.
  [[nodiscard]] Result<RenderedMail> render(std::string_view name, const boost::json::object& context,
                                            std::string_view language = "en") const;
  // The languages templates are rendered in: "en" and each loaded catalogue's tag.
  [[nodiscard]] std::vector<std::string> languages() const;

 private:
  struct Source {
    std::string subject;
    std::string text;
    std::string html;  // empty: none
  };
  // One language's copy of every template and partial, marked for rendering.
  struct Translated {
    std::map<std::string, Source, std::less<>> templates;
    std::map<std::string, std::string, std::less<>> text_partials;
    std::map<std::string, std::string, std::less<>> html_partials;
  };
  std::filesystem::path dir_;
  std::map<std::string, Source, std::less<>> templates_;  // as written, {{#t}} markers and all
  std::map<std::string, std::string, std::less<>> text_partials_;
  std::map<std::string, std::string, std::less<>> html_partials_;
  std::map<std::string, Translated, std::less<>> languages_;  // by language tag; "en" always
};

}  // namespace redress::mail
