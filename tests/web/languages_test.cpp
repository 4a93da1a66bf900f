// The client's language (issue 27), through the real server: mail received by the test SMTP
// server and parsed strictly, the status page and the complaint form in the client's language,
// a missing translation falling back to English, and a catalogue that would break a template
// refused at start-up (docs/languages.md).
#include <cstdlib>
#include <regex>

#include "adapters/peers.h"
#include "tests/web/support.h"
#include "web/pages/html.h"

namespace redress::webtest::languages {

// The catalogues this build compiled from po/ (beside the binary).
fs::path built_catalogues() { return fs::path(REDRESS_BINARY).parent_path() / "locale"; }

// `dir` with the shipped catalogues and one of the test's own, `tag`, compiled from `entries`.
void language_folder(const fs::path& dir, const std::string& tag, const std::string& entries) {
  fs::create_directories(dir);
  fs::copy(built_catalogues(), dir, fs::copy_options::recursive);
  fs::create_directories(dir / tag / "LC_MESSAGES");
  const fs::path po = dir / (tag + ".po");
  write_text(po, "msgid \"\"\nmsgstr \"\"\n\"Project-Id-Version: redress\\n\"\n\"PO-Revision-Date: 2026-12-07 00:00+0000\\n\"\n"
                 "\"Last-Translator: Tests\\n\"\n\"Language-Team: Tests\\n\"\n\"MIME-Version: 1.0\\n\"\n"
                 "\"Content-Type: text/plain; charset=UTF-8\\n\"\n\"Content-Transfer-Encoding: 8bit\\n\"\n\"Language: " + tag +
                     "\\n\"\n\n" + entries);
  const std::string command =
      "msgfmt --check -o '" + (dir / tag / "LC_MESSAGES" / "redress.mo").string() + "' '" + po.string() + "'";
  REQUIRE(std::system(command.c_str()) == 0);
}

json::object case_in(const std::string& subject, const std::string& email, const std::string& locale) {
  json::object body = new_case_body(subject, email);
  body["client"].as_object()["locale"] = locale;
  return body;
}

// The mails captured so far, parsed strictly, whose subject holds `words`; waits up to 60 s for
// `count` of them.
json::array mails_with(const redress::peers::CaptureServer& smtp, const fs::path& scratch, const std::string& words,
                       std::size_t count, const RedressServer& server) {
  auto deadline = std::chrono::steady_clock::now() + 60s;
  for (;;) {
    json::array found;
    auto files = smtp.messages();
    if (!files.empty())
      for (const auto& mail : redress::peers::strict_parse(files, scratch))
        if (string_at(mail, "subject").find(words) != std::string::npos) found.push_back(mail);
    if (found.size() >= count) return found;
    if (std::chrono::steady_clock::now() > deadline)
      FAIL("no mail \"" << words << "\" within 60 s: " << server.log());
    std::this_thread::sleep_for(100ms);
  }
}

// A server that sends its mail to `smtp`, from Acme's complaints address.
ServerSetup mailing_to(const redress::peers::CaptureServer& smtp) {
  ServerSetup setup;
  setup.config = {"smtp_url = \"" + smtp.url() + "\"", "mail_from = \"complaints@acme.example\"",
                  "organisation = \"Acme\""};
  return setup;
}

TEST_CASE("languages: a Spanish acknowledgement (subject, body, Content-Language) received and parsed strictly",
          "[web][languages][smtp]") {
  TempDir scratch;
  redress::peers::CaptureServer smtp(scratch.path());
  RedressServer server(mailing_to(smtp));
  Client agent(server.port(), server.token("agent"));
  auto created = agent.post("/v1/cases", json::value(case_in("Cobro doble", "lucia@example.es", "es-ES")));
  REQUIRE(created.status == 201);
  const std::string reference = string_at(created.json(), "reference");
  // And an English one beside it, whose locale is not shipped (French).
  REQUIRE(agent.post("/v1/cases", json::value(case_in("Charged twice", "jean@example.fr", "fr-FR"))).status == 201);
  for (const char* action : {"acknowledge", "take"})
    REQUIRE(agent.post("/v1/cases/" + reference + "/actions", json::object{{"action", action}}).status == 200);

  const json::value mail = mails_with(smtp, scratch.path(), "Tenemos su reclamación", 1, server)[0];
  CHECK(string_at(mail, "subject") == "[" + reference + "] Tenemos su reclamación: qué ocurre ahora");
  CHECK(string_at(mail, "to_address") == "lucia@example.es");
  CHECK(string_at(mail.at("headers"), "Content-Language") == "es");
  const std::string plain = string_at(mail, "plain");
  INFO(plain);
  CHECK(plain.rfind("Estimado/a Ana Ruiz:", 0) == 0);
  CHECK(plain.find("Hemos revisado su reclamación sobre \"Cobro doble\"") != std::string::npos);
  CHECK(plain.find("Su referencia: " + reference) != std::string::npos);
  CHECK(plain.find("Estado: Confirmada") != std::string::npos);
  // The due date in Spanish words: "viernes, 27 de noviembre de 2026 a las 17:00 GMT".
  CHECK(std::regex_search(plain, std::regex("Nuestra respuesta completa, a más tardar: "
                                            "(lunes|martes|miércoles|jueves|viernes|sábado|domingo), [0-9]+ de "
                                            "[a-z]+ de 20[0-9]{2} a las [0-9]{2}:[0-9]{2} [A-Z]+")));
  CHECK(plain.find("Nuestro compromiso con usted: Confirmaremos la recepción") != std::string::npos);
  CHECK(plain.find("Equipo de reclamaciones de Acme") != std::string::npos);
  CHECK(plain.find("Dear ") == std::string::npos);
  const std::string html = string_at(mail, "html");
  CHECK(html.find("<html lang=\"es\">") != std::string::npos);
  CHECK(html.find("<p>Estimado/a Ana Ruiz:</p>") != std::string::npos);
  // The receipt before it was Spanish too; the French client's is English, and says so.
  const json::value received = mails_with(smtp, scratch.path(), "Hemos recibido su reclamación", 1, server)[0];
  CHECK(string_at(received.at("headers"), "Content-Language") == "es");
  const json::value english = mails_with(smtp, scratch.path(), "We have received your complaint", 1, server)[0];
  CHECK(string_at(english, "to_address") == "jean@example.fr");
  CHECK(string_at(english.at("headers"), "Content-Language") == "en");
  CHECK(string_at(english, "plain").rfind("Dear Ana Ruiz,", 0) == 0);
}

TEST_CASE("languages: a merged complaint's client is mailed where it went, in Spanish and English, a stranger's "
          "case by its reference alone",
          "[web][languages][smtp][merge]") {
  TempDir scratch;
  redress::peers::CaptureServer smtp(scratch.path());
  RedressServer server(mailing_to(smtp));
  Client agent(server.port(), server.token("agent"));
  Client lead(server.port(), server.token("lead"));
  struct Filed {
    std::string reference;
    std::string client_url;
  };
  auto file = [&](const std::string& subject, const std::string& email, const std::string& locale) {
    auto created = agent.post("/v1/cases", json::value(case_in(subject, email, locale)));
    INFO(created.describe());
    REQUIRE(created.status == 201);
    return Filed{string_at(created.json(), "reference"), string_at(created.json(), "client_url")};
  };
  auto merge = [&](const Filed& duplicate, const Filed& into) {
    auto merged = lead.post("/v1/cases/" + duplicate.reference + "/actions",
                            json::object{{"action", "merge"}, {"into", into.reference}, {"note", "Sent twice"}});
    INFO(merged.describe());
    REQUIRE(merged.status == 200);
  };
  const Filed lucia_first = file("Cobro doble", "lucia@example.es", "es-ES");
  const Filed lucia_again = file("Cobro doble (otra vez)", "Lucia@Example.es", "es-ES");
  const Filed jean_first = file("Charged twice", "jean@example.org", "en-GB");
  const Filed jean_again = file("Charged twice again", "jean@example.org", "en-GB");
  const Filed kim = file("My neighbour was charged twice", "kim@example.net", "en-GB");
  merge(lucia_again, lucia_first);
  merge(jean_again, jean_first);
  merge(kim, jean_first);

  // In Spanish: the other complaint named as hers, with its link; her own link shows the merge.
  const json::value spanish =
      mails_with(smtp, scratch.path(), "Su reclamación se gestiona ahora con la referencia", 1, server)[0];
  CHECK(string_at(spanish, "subject") == "[" + lucia_again.reference +
                                             "] Su reclamación se gestiona ahora con la referencia " +
                                             lucia_first.reference);
  CHECK(lower(string_at(spanish, "to_address")) == "lucia@example.es");
  CHECK(string_at(spanish.at("headers"), "Content-Language") == "es");
  const std::string plain = string_at(spanish, "plain");
  INFO(plain);
  CHECK(plain.find("trata del mismo asunto que su otra reclamación, " + lucia_first.reference) != std::string::npos);
  CHECK(plain.find("Puede seguir " + lucia_first.reference + " aquí") != std::string::npos);
  CHECK(plain.find(lucia_first.client_url) != std::string::npos);
  CHECK(plain.find(lucia_again.client_url) != std::string::npos);
  CHECK(plain.find("Hemos cerrado " + lucia_again.reference) != std::string::npos);

  // In English, and then a stranger's case: the reference alone, never jean's link.
  json::array english = mails_with(smtp, scratch.path(), "Your complaint is now handled under", 2, server);
  for (const auto& mail : english) {
    const std::string text = string_at(mail, "plain");
    INFO(text);
    CHECK(string_at(mail, "subject").find("Your complaint is now handled under " + jean_first.reference) !=
          std::string::npos);
    if (string_at(mail, "to_address") == "jean@example.org") {
      CHECK(text.find("your other complaint, " + jean_first.reference) != std::string::npos);
      CHECK(text.find(jean_first.client_url) != std::string::npos);
    } else {
      CHECK(string_at(mail, "to_address") == "kim@example.net");
      CHECK(text.find("the same matter as complaint " + jean_first.reference) != std::string::npos);
      CHECK(text.find("your other complaint") == std::string::npos);
      CHECK(text.find(jean_first.client_url) == std::string::npos);
      CHECK(text.find(kim.client_url) != std::string::npos);
    }
  }
  // The case that carries on owes its client nothing for either merge.
  auto owed = agent.get("/v1/cases/" + jean_first.reference + "/notifications");
  REQUIRE(owed.status == 200);
  CHECK(owed.body.find("client.merged") == std::string::npos);
  auto duplicate_owed = agent.get("/v1/cases/" + kim.reference + "/notifications");
  REQUIRE(duplicate_owed.status == 200);
  CHECK(duplicate_owed.body.find("client.merged") != std::string::npos);
}

TEST_CASE("languages: the status page in Welsh by the case's locale, by Accept-Language, and by the switcher",
          "[web][languages][pages]") {
  RedressServer server;
  Client agent(server.port(), server.token("agent"));
  auto welsh_case = agent.post("/v1/cases", json::value(case_in("Bil anghywir", "ifan@example.cymru", "cy-GB")));
  REQUIRE(welsh_case.status == 201);
  const std::string reference = string_at(welsh_case.json(), "reference");
  const std::string link = link_token(string_at(welsh_case.json(), "client_url"));
  Client browser(server.port());
  auto page = browser.get("/c/" + link);
  REQUIRE(page.status == 200);
  CHECK(page.header("content-language") == "cy");
  CHECK(page.body.find("<html lang=\"cy\">") != std::string::npos);
  CHECK(page.body.find("<h1>Eich cwyn <span class=\"ref\">" + reference + "</span></h1>") != std::string::npos);
  CHECK(page.body.find("Ble mae pethau arni") != std::string::npos);
  CHECK(page.body.find("<strong>Wedi dod i law.</strong> Mae eich cwyn wedi dod i law.") != std::string::npos);
  CHECK(page.body.find("Byddwn yn rhoi ein hateb llawn i chi") != std::string::npos);  // the pledge's promise
  CHECK(page.body.find("Ysgrifennwch atom") != std::string::npos);
  CHECK(page.body.find("Where it stands") == std::string::npos);
  // The switcher names each language in itself and marks this one.
  CHECK(page.body.find("<a href=\"/c/" + link + "?lang=cy\" lang=\"cy\" hreflang=\"cy\" aria-current=\"true\">Cymraeg</a>") !=
        std::string::npos);
  CHECK(page.body.find(">Español</a>") != std::string::npos);

  // A case in English, read by a browser that asks for Welsh first.
  auto english_case = agent.post("/v1/cases", json::value(new_case_body("Wrong bill", "sian@example.org")));
  REQUIRE(english_case.status == 201);
  const std::string english_link = link_token(string_at(english_case.json(), "client_url"));
  auto asked = browser.get("/c/" + english_link, {{"Accept-Language", "cy-GB, en;q=0.5"}});
  CHECK(asked.header("content-language") == "cy");
  CHECK(asked.body.find("Ble mae pethau arni") != std::string::npos);
  CHECK(browser.get("/c/" + english_link).body.find("Where it stands") != std::string::npos);

  // The switcher: Spanish now, and remembered by its cookie over the Welsh case's locale.
  auto picked = browser.get("/c/" + link + "?lang=es");
  CHECK(picked.header("content-language") == "es");
  CHECK(picked.body.find("En qué punto está") != std::string::npos);
  const std::string cookie = picked.header("set-cookie");
  REQUIRE(cookie.rfind("lang=es;", 0) == 0);
  auto remembered = browser.get("/c/" + link, {{"Cookie", "lang=es"}});
  CHECK(remembered.body.find("En qué punto está") != std::string::npos);
  CHECK(browser.get("/c/" + link + "?lang=xx").header("content-language") == "cy");  // not shipped: as before

  // A reply through the Welsh page: thanked in Welsh, and the page stays Welsh.
  auto replied = browser.post("/c/" + link + "/reply", "body=" + web::form_encode("Diolch, dyma'r bil."),
                              {{"Content-Type", "application/x-www-form-urlencoded"}});
  REQUIRE(replied.status == 303);
  auto thanked = browser.get(replied.header("location"));
  CHECK(thanked.body.find("Diolch: mae eich neges wedi dod i law.") != std::string::npos);
  // An unknown link answers in the browser's language too.
  auto unknown = browser.get("/c/cl_" + std::string(40, 'x'), {{"Accept-Language", "es"}});
  CHECK(unknown.status == 404);
  CHECK(unknown.body.find("Este enlace no abre ninguna reclamación") != std::string::npos);
}

TEST_CASE("languages: the complaint form in Spanish files a Spanish case, mailed in Spanish", "[web][languages][pages]") {
  RedressServer server;
  Client browser(server.port());
  auto form = browser.get("/complain", {{"Accept-Language", "es-ES,es;q=0.9"}});
  REQUIRE(form.status == 200);
  CHECK(form.body.find("<h1>Presentar una reclamación</h1>") != std::string::npos);
  CHECK(form.body.find("<label for=\"name\">Su nombre</label>") != std::string::npos);
  CHECK(form.body.find(">Facturación y pagos</option>") != std::string::npos);  // the workflow's names
  CHECK(form.body.find("name=\"lang\" value=\"es\"") != std::string::npos);
  // Refused: the messages at the fields in Spanish, what was typed kept.
  auto refused = browser.post("/complain",
                              std::string("lang=es&name=Luc%C3%ADa&email=nope&description=Me%20cobraron%20dos%20veces"),
                              {{"Content-Type", "application/x-www-form-urlencoded"}});
  CHECK(refused.status == 422);
  CHECK(refused.body.find("Revise los campos marcados a continuación.") != std::string::npos);
  CHECK(refused.body.find("debe ser una dirección de correo electrónico") != std::string::npos);
  CHECK(refused.body.find("Elija el motivo de su reclamación") != std::string::npos);
  CHECK(refused.body.find("value=\"Lucía\"") != std::string::npos);
  auto filed = browser.post("/complain",
                            "lang=es&name=Luc%C3%ADa&email=lucia%40example.es&category=billing&description=" +
                                web::form_encode("Me cobraron dos veces el pedido 1234."),
                            {{"Content-Type", "application/x-www-form-urlencoded"}});
  INFO(filed.describe());
  REQUIRE(filed.status == 201);
  CHECK(filed.header("content-language") == "es");
  CHECK(filed.body.find("Hemos recibido su reclamación") != std::string::npos);
  std::smatch m;
  REQUIRE(std::regex_search(filed.body, m, std::regex("id=\"reference\">(CMP-[0-9]{4}-[0-9]{6})<")));
  Client agent(server.port(), server.token("agent"));
  auto stored = agent.get("/v1/cases/" + std::string(m[1]));
  REQUIRE(stored.status == 200);
  CHECK(string_at(stored.json().at("client"), "locale") == "es");
}

TEST_CASE("languages: a language with a missing text falls back to English for that text alone",
          "[web][languages][pages]") {
  TempDir scratch;
  const fs::path folder = scratch.path() / "translations";
  language_folder(folder, "fr",
                  "msgctxt \"language\"\nmsgid \"English\"\nmsgstr \"Français\"\n\n"
                  "msgid \"Make a complaint\"\nmsgstr \"Déposer une réclamation\"\n\n"
                  "msgid \"About you\"\nmsgstr \"\"\n\n"
                  "#, fuzzy\nmsgid \"Your name\"\nmsgstr \"Votre nom (à revoir)\"\n");
  ServerSetup setup;
  setup.config = {"translations = \"" + folder.string() + "\""};
  RedressServer server(setup);
  CHECK(server.log().find("clients' languages: en, cy, es, fr") != std::string::npos);
  Client browser(server.port());
  auto form = browser.get("/complain", {{"Accept-Language", "fr-FR"}});
  REQUIRE(form.status == 200);
  CHECK(form.header("content-language") == "fr");
  CHECK(form.body.find("<html lang=\"fr\">") != std::string::npos);
  CHECK(form.body.find("<h1>Déposer une réclamation</h1>") != std::string::npos);
  // Untranslated and fuzzy: in English, never a key or a draft translation.
  CHECK(form.body.find("<legend>About you</legend>") != std::string::npos);
  CHECK(form.body.find("<label for=\"name\">Your name</label>") != std::string::npos);
  CHECK(form.body.find("à revoir") == std::string::npos);
  CHECK(form.body.find(">Français</a>") != std::string::npos);
  // The shipped languages are still there beside it.
  CHECK(browser.get("/complain", {{"Accept-Language", "cy"}}).body.find("Gwneud cwyn") != std::string::npos);
}

TEST_CASE("languages: a catalogue whose translation would print a value unescaped is refused at start-up",
          "[web][languages]") {
  TempDir scratch;
  const fs::path folder = scratch.path() / "translations";
  language_folder(folder, "fr",
                  "msgctxt \"language\"\nmsgid \"English\"\nmsgstr \"Français\"\n\n"
                  "msgid \"Your complaint is handled by <strong>{{owner_name}}</strong>, who is responsible for it "
                  "until it is resolved.\"\nmsgstr \"Votre réclamation est suivie par {{{owner_name}}}.\"\n");
  RedressServer server;
  auto refused = server.run({"serve", "--listen", "127.0.0.1:0", "--translations", folder.string()});
  CHECK(refused.status != 0);
  CHECK(refused.output.find("client.html") != std::string::npos);
  CHECK(refused.output.find("the fr translation of") != std::string::npos);
  CHECK(refused.output.find("uses {{{owner_name}}}") != std::string::npos);
}

}  // namespace redress::webtest::languages
