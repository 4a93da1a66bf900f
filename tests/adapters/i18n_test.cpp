// The clients' languages (adapters/i18n): the catalogues this build compiled from po/, matching a
// locale and an Accept-Language header, translating a template's marked texts, and the rules a
// translation must keep (a catalogue of the test's own, compiled with msgfmt).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "adapters/i18n/catalogues.h"
#include "adapters/mail/templates.h"
#include "support/files.h"

namespace redress::i18ntest {

namespace fs = std::filesystem;

const i18n::Catalogues& shipped_catalogues() {
  static const i18n::Catalogues catalogues = [] {
    auto loaded = i18n::Catalogues::load(i18n::Catalogues::built_dir());
    INFO((loaded ? std::string() : loaded.error().detail));
    REQUIRE(loaded.ok());
    return std::move(loaded).value();
  }();
  return catalogues;
}

// A catalogue of language `tag` compiled from `po` (the entries, after a header) into `dir`.
void compile_catalogue(const fs::path& dir, const std::string& tag, const std::string& po) {
  fs::create_directories(dir / tag / "LC_MESSAGES");
  const fs::path source = dir / (tag + ".po");
  testing::write_text(source, "msgid \"\"\nmsgstr \"\"\n\"Project-Id-Version: redress\\n\"\n\"PO-Revision-Date: 2026-12-07 00:00+0000\\n\"\n"
                 "\"Last-Translator: Tests\\n\"\n\"Language-Team: Tests\\n\"\n\"MIME-Version: 1.0\\n\"\n"
                 "\"Content-Type: text/plain; charset=UTF-8\\n\"\n\"Content-Transfer-Encoding: 8bit\\n\"\n\"Language: " +
                                  tag + "\\n\"\n\n" + po);
  const std::string command = "msgfmt --check -o '" + (dir / tag / "LC_MESSAGES" / "redress.mo").string() + "' '" +
                              source.string() + "'";
  REQUIRE(std::system(command.c_str()) == 0);
}

TEST_CASE("i18n: the shipped catalogues are English, Spanish and Welsh, each named in itself", "[i18n]") {
  const auto& catalogues = shipped_catalogues();
  std::vector<std::string> tags, names;
  for (const auto& language : catalogues.languages()) {
    tags.push_back(language->tag());
    names.push_back(language->name());
  }
  CHECK(tags == std::vector<std::string>{"en", "cy", "es"});
  CHECK(names == std::vector<std::string>{"English", "Cymraeg", "Español"});
  CHECK(catalogues.english().is_english());
  const i18n::Language& spanish = catalogues.for_tag("es");
  CHECK(spanish.translate("Make a complaint") == "Presentar una reclamación");
  CHECK(spanish.translate_in("month", "May") == "mayo");
  // A text no catalogue holds is its English words, never a key.
  CHECK(spanish.translate("A sentence nobody translated") == "A sentence nobody translated");
  CHECK(catalogues.english().translate("Make a complaint") == "Make a complaint");
}

TEST_CASE("i18n: a locale or an Accept-Language header picks a shipped language, else none", "[i18n]") {
  const auto& catalogues = shipped_catalogues();
  auto tag = [](const i18n::Language* language) { return language ? language->tag() : std::string("(none)"); };
  CHECK(tag(catalogues.match("es-MX")) == "es");
  CHECK(tag(catalogues.match("es_ES.UTF-8")) == "es");
  CHECK(tag(catalogues.match("CY-gb")) == "cy");
  CHECK(tag(catalogues.match("en-GB")) == "en");
  CHECK(tag(catalogues.match("fr")) == "(none)");
  CHECK(tag(catalogues.match("")) == "(none)");
  CHECK(catalogues.for_tag("fr-CA").tag() == "en");
  CHECK(tag(catalogues.negotiate("fr-FR, es;q=0.8, en;q=0.5")) == "es");
  CHECK(tag(catalogues.negotiate("cy;q=0, es;q=0.1")) == "es");
  CHECK(tag(catalogues.negotiate("en-GB,en;q=0.9,cy;q=0.8")) == "en");
  CHECK(tag(catalogues.negotiate("de, cy-GB;q=0.7")) == "cy");
  CHECK(tag(catalogues.negotiate("fr, de")) == "(none)");
  CHECK(tag(catalogues.negotiate("*")) == "(none)");
  CHECK(tag(catalogues.negotiate("es;q=nonsense")) == "(none)");
  CHECK(tag(catalogues.negotiate("")) == "(none)");
}

TEST_CASE("i18n: marked texts are translated in a template, English as written, markers checked", "[i18n]") {
  const auto& catalogues = shipped_catalogues();
  const std::string text = "Subject line\n{{#t}}Dear {{client.name}},{{/t}}\n{{#t}}Not in any catalogue{{/t}}\n";
  auto english = i18n::translate_template(text, catalogues.english(), "x.txt");
  REQUIRE(english.ok());
  CHECK(*english == "Subject line\nDear {{client.name}},\nNot in any catalogue\n");
  auto spanish = i18n::translate_template(text, catalogues.for_tag("es"), "x.txt");
  REQUIRE(spanish.ok());
  CHECK(*spanish == "Subject line\nEstimado/a {{client.name}}:\nNot in any catalogue\n");
  CHECK(i18n::marked_texts(text) == std::vector<std::string>{"Dear {{client.name}},", "Not in any catalogue"});
  auto unclosed = i18n::translate_template("a\n{{#t}}Dear", catalogues.english(), "y.txt");
  REQUIRE_FALSE(unclosed.ok());
  CHECK(unclosed.error().detail == "y.txt:2: {{#t}} is not closed by {{/t}}");
  auto stray = i18n::translate_template("Dear{{/t}}", catalogues.english(), "y.txt");
  REQUIRE_FALSE(stray.ok());
  CHECK_THAT(stray.error().detail, Catch::Contains("without its {{#t}}"));
  auto partial = i18n::translate_template("{{#t}}{{> footer}}{{/t}}", catalogues.english(), "y.txt");
  REQUIRE_FALSE(partial.ok());
  CHECK_THAT(partial.error().detail, Catch::Contains("cannot hold a partial"));
}

TEST_CASE("i18n: a translation may use only its English text's tags, and must be valid Mustache", "[i18n]") {
  testing::TempDir dir;
  compile_catalogue(dir.path(), "fr",
                    "msgctxt \"language\"\nmsgid \"English\"\nmsgstr \"Français\"\n\n"
                    "msgid \"Dear {{client.name}},\"\nmsgstr \"Cher {{{client.name}}},\"\n\n"
                    "msgid \"Your reference: {{case.reference}}\"\nmsgstr \"Votre référence : {{case.secret}}\"\n\n"
                    "msgid \"Status: {{status_label}}\"\nmsgstr \"Statut : {{#status_label}}\"\n\n"
                    "msgid \"Make a complaint\"\nmsgstr \"Déposer une réclamation\"\n");
  auto loaded = i18n::Catalogues::load(dir.path());
  INFO((loaded ? std::string() : loaded.error().detail));
  REQUIRE(loaded.ok());
  const i18n::Language& french = loaded->for_tag("fr-FR");
  CHECK(french.name() == "Français");
  auto raw = i18n::translate_template("{{#t}}Dear {{client.name}},{{/t}}", french, "client.html");
  REQUIRE_FALSE(raw.ok());
  CHECK(raw.error().detail ==
        "client.html:1: the fr translation of \"Dear {{client.name}},\" uses {{{client.name}}}, which the English "
        "text does not; a translation may use only the text's own {{tags}}");
  auto other = i18n::translate_template("{{#t}}Your reference: {{case.reference}}{{/t}}", french, "a.txt");
  REQUIRE_FALSE(other.ok());
  CHECK_THAT(other.error().detail, Catch::Contains("uses {{case.secret}}"));
  auto broken = i18n::translate_template("{{#t}}Status: {{status_label}}{{/t}}", french, "b.txt");
  REQUIRE_FALSE(broken.ok());
  CHECK_THAT(broken.error().detail, Catch::Contains("is not valid Mustache"));
  // Loading the mail templates with such a catalogue is refused, naming the template and the text.
  auto templates = mail::MailTemplates::load(mail::MailTemplates::shipped_dir(), *loaded);
  REQUIRE_FALSE(templates.ok());
  CHECK_THAT(templates.error().detail, Catch::Contains("the fr translation of"));
}

TEST_CASE("i18n: a catalogue that does not name its language is refused", "[i18n]") {
  testing::TempDir dir;
  compile_catalogue(dir.path(), "de", "msgid \"Make a complaint\"\nmsgstr \"Beschwerde einreichen\"\n");
  auto loaded = i18n::Catalogues::load(dir.path());
  REQUIRE_FALSE(loaded.ok());
  CHECK_THAT(loaded.error().detail, Catch::Contains("does not name its language"));
  CHECK(i18n::Catalogues::load(dir.path() / "nowhere").error().code == ErrorCode::kNotFound);
}

TEST_CASE("i18n: a mail template renders in the client's language, English where the catalogue has no text",
          "[i18n]") {
  auto templates = mail::MailTemplates::load(mail::MailTemplates::shipped_dir(), shipped_catalogues());
  INFO((templates ? std::string() : templates.error().detail));
  REQUIRE(templates.ok());
  CHECK(templates->languages() == std::vector<std::string>{"en", "cy", "es"});
  boost::json::object context{{"client", boost::json::object{{"name", "Ana Ruiz"}}},
                              {"case", boost::json::object{{"reference", "CMP-2026-000042"}, {"subject", "Cobro doble"}}},
                              {"status_label", "Recibida"},
                              {"status_url", "https://example.org/c/cl_x"},
                              {"organisation", boost::json::object{{"name", "Acme"}}}};
  auto spanish = templates->render("client.received", context, "es");
  REQUIRE(spanish.ok());
  CHECK(spanish->language == "es");
  CHECK(spanish->subject == "Hemos recibido su reclamación");
  CHECK(spanish->text.rfind("Estimado/a Ana Ruiz:\n", 0) == 0);
  CHECK_THAT(spanish->text, Catch::Contains("Su referencia es CMP-2026-000042."));
  CHECK_THAT(spanish->text, Catch::Contains("Equipo de reclamaciones de Acme"));
  auto welsh = templates->render("client.received", context, "cy");
  REQUIRE(welsh.ok());
  CHECK(welsh->subject == "Mae eich cwyn wedi dod i law");
  // A language not loaded is English; staff mail is English in every language.
  auto unknown = templates->render("client.received", context, "fr");
  REQUIRE(unknown.ok());
  CHECK(unknown->language == "en");
  CHECK(unknown->subject == "We have received your complaint");
  auto staff = templates->render("staff.assigned", context, "es");
  REQUIRE(staff.ok());
  CHECK(staff->subject.rfind("Assigned to you", 0) == 0);
}

}  // namespace redress::i18ntest
