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
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "engine/result.h"

namespace redress::mail {

struct RenderedMail {
  std::string subject;  // one line, without the "[CMP-...]" tag (mime.h: subject_with_reference)
  std::string text;
  std::string html;  // empty when the template has no .html
};

class MailTemplates {
 public:
  // The template names the engine emits; load() refuses a folder that lacks any of them.
  [[nodiscard]] static const std::vector<std::string>& required_names();
  // The templates shipped with Redress (templates/email in the source tree).
  [[nodiscard]] static std::filesystem::path shipped_dir();

  // kInvalid naming the file and line of the first problem, or the missing templates;
  // kNotFound when `dir` is not a folder.
  [[nodiscard]] static Result<MailTemplates> load(const std::filesystem::path& dir);

  [[nodiscard]] bool contains(std::string_view name) const;
  [[nodiscard]] std::vector<std::string> names() const;
  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }

  // kNotFound for an unknown template name; kInternal if Mustache fails at render time.
  [[nodiscard]] Result<RenderedMail> render(std::string_view name, const boost::json::object& context) const;

 private:
  struct Source {
    std::string subject;
    std::string text;
    std::string html;  // empty: none
  };
  std::filesystem::path dir_;
  std::map<std::string, Source, std::less<>> templates_;
  std::map<std::string, std::string, std::less<>> text_partials_;
  std::map<std::string, std::string, std::less<>> html_partials_;
};

}  // namespace redress::mail
