// Catalogues: the languages an organisation ships for its clients, each a gettext catalogue
// (po/<tag>.po in the source tree, compiled to <dir>/<tag>/LC_MESSAGES/redress.mo by the build)
// loaded through Boost.Locale. English is the language the templates and the code are written in;
// it needs no catalogue and is always there. Adding a language is adding a catalogue: no code
// changes (docs/languages.md).
//
// Messages are looked up by their English text (the msgid), so a string a catalogue lacks comes
// out in English, never as a key. A message may have a context (msgctxt) when the same English
// word means two things ("May" the month). A language's own name, as the switcher on the pages
// shows it, is its translation of "English" in the context "language" ("Español", "Cymraeg").
//
// Templates mark the text to translate with a Mustache section, {{#t}}...{{/t}}: the text between
// is the msgid, variables and all ("Dear {{client.name}},"). translate_template() replaces each
// marked text by its translation. A translation may use only the {{tags}} its English text uses
// (so it can neither print a value raw in HTML nor name another value), and must be valid
// Mustache on its own: a catalogue that breaks either rule is refused when the templates load,
// naming the file, the language and the text.
//
// Loaded once at start-up; immutable afterwards, so every member function is thread-safe.
#pragma once

#include <filesystem>
#include <locale>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/result.h"

namespace redress::i18n {

// Marks a string for the catalogue without translating it where it stands (a table of labels);
// scripts/extract-messages finds it. Translate it later with Language::translate.
constexpr const char* translatable(const char* english) { return english; }
// The same for a text in a context (msgctxt): translate it with Language::translate_in(context, ...).
constexpr const char* translatable_in(const char* context, const char* english) { return (void)context, english; }

class Language {
 public:
  // English: no catalogue, every message as written.
  Language();
  Language(std::string tag, std::locale locale);

  // "en", "es", "cy": the catalogue's folder name, a BCP 47 primary language (and region).
  [[nodiscard]] const std::string& tag() const { return tag_; }
  // The language's name in itself: "English", "Español", "Cymraeg" (the tag when untranslated).
  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] bool is_english() const { return !has_catalogue_; }

  // The translation of `english`; `english` itself when the catalogue has none.
  [[nodiscard]] std::string translate(std::string_view english) const;
  // The same, for `english` in `context` (msgctxt).
  [[nodiscard]] std::string translate_in(std::string_view context, std::string_view english) const;

 private:
  std::string tag_;
  std::string name_;
  std::locale locale_;
  bool has_catalogue_ = false;
};

class Catalogues {
 public:
  // English alone.
  Catalogues();
  // English alone, for as long as the process runs (a default that may be kept by reference).
  [[nodiscard]] static const Catalogues& english_only();
  // Every catalogue in `dir` (<dir>/<tag>/LC_MESSAGES/redress.mo), besides English. kNotFound when
  // `dir` is not a folder; kInvalid naming a catalogue Boost.Locale cannot load.
  [[nodiscard]] static Result<Catalogues> load(const std::filesystem::path& dir);
  // Where this build compiled the shipped catalogues (po/*.po).
  [[nodiscard]] static std::filesystem::path built_dir();
  // The catalogues' domain: redress.mo.
  static constexpr const char* kDomain = "redress";

  // English first, then the others by tag.
  [[nodiscard]] const std::vector<std::shared_ptr<const Language>>& languages() const { return languages_; }
  [[nodiscard]] const Language& english() const { return *languages_.front(); }
  // The shipped language with exactly this tag (case-insensitive); nullptr when none.
  [[nodiscard]] const Language* exact(std::string_view tag) const;
  // The shipped language for a BCP 47 tag or a POSIX locale name: "es-MX", "es_ES.UTF-8" and "es"
  // are Spanish when Spanish is shipped (a shipped "es-MX" is preferred for "es-MX"); nullptr when
  // none is shipped.
  [[nodiscard]] const Language* match(std::string_view tag) const;
  // match(tag), or English.
  [[nodiscard]] const Language& for_tag(std::string_view tag) const;
  // The best shipped language for an Accept-Language header (RFC 9110 12.5.4: by q, then order;
  // q=0 refuses); nullptr when none is shipped.
  [[nodiscard]] const Language* negotiate(std::string_view accept_language) const;

 private:
  std::vector<std::shared_ptr<const Language>> languages_;
};

// `text` with each {{#t}}...{{/t}} replaced by `language`'s translation of what it marks (English:
// the marked text itself). kInvalid naming `file`, the language and the text when a marker is not
// closed, when a marked text holds a marker or a partial, or when a translation is not valid
// Mustache or uses a {{tag}} its English text does not.
[[nodiscard]] Result<std::string> translate_template(std::string_view text, const Language& language,
                                                     const std::string& file);

// The texts `text` marks for translation, in order (what scripts/extract-messages extracts).
[[nodiscard]] std::vector<std::string> marked_texts(std::string_view text);

}  // namespace redress::i18n
