// Inbound email through a real `redress serve`: POST /v1/inbound/email and `redress mailgate`,
// threading a client's reply to the mail Redress sent (captured by a real SMTP server), strangers'
// mail held for staff, machines' mail ignored, bounces recorded, storms capped, bad input refused.
// The messages are real-shaped (tests/adapters/inbound/corpus holds the parser's corpus).
#include "web/support.h"

#include "adapters/peers.h"
#include "support/dovecot.h"

#include <atomic>
#include <set>
#include <thread>

using namespace redress::webtest;

namespace {

const std::string kCorpus = REDRESS_SOURCE_DIR "/tests/adapters/inbound/corpus/";

// A plain text message, as a mail program would send it.
std::string mail(const std::string& from, const std::string& subject, const std::string& body,
                 const std::vector<std::string>& extra_headers = {}, const std::string& to = "complaints@acme.example") {
  static int counter = 0;
  std::string out = "From: " + from + "\r\nTo: " + to + "\r\nSubject: " + subject +
                    "\r\nDate: Sun, 06 Dec 2026 10:00:00 +0000\r\nMessage-ID: <t" + std::to_string(++counter) + "." +
                    std::to_string(::getpid()) + "@mail.example.net>\r\nMIME-Version: 1.0\r\n";
  for (const auto& h : extra_headers) out += h + "\r\n";
  out += "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body;
  return out;
}

HttpResponse post_mail(Client& client, const std::string& raw, const std::string& query = {}) {
  return client.post("/v1/inbound/email" + query, raw, {{"Content-Type", "message/rfc822"}});
}

std::string header_of(const std::string& message, const std::string& name) {
  std::istringstream lines(message);
  std::string line;
  const std::string wanted = lower(name) + ":";
  while (std::getline(lines, line)) {
    if (line == "\r" || line.empty()) break;
    if (lower(line.substr(0, wanted.size())) == wanted) return trim(line.substr(wanted.size()));
  }
  return {};
}

json::array case_messages(Client& staff, const std::string& reference) {
  auto answer = staff.get("/v1/cases/" + reference);
  REQUIRE(answer.status == 200);
  return answer.json().at("messages").as_array();
}

std::int64_t case_count(Client& staff) {
  auto answer = staff.get("/v1/cases?limit=200");
  REQUIRE(answer.status == 200);
  return static_cast<std::int64_t>(answer.json().at("items").as_array().size());
}

// The captured mail to `to`, waiting up to 30 s for it.
std::string captured_mail_to(const redress::peers::CaptureServer& smtp, const std::string& to) {
  auto deadline = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    for (const auto& file : smtp.messages()) {
      std::string text = read_text(file);
      if (header_of(text, "To").find(to) != std::string::npos) return text;
    }
    if (std::chrono::steady_clock::now() > deadline) FAIL("no mail to " << to << " within 30 s");
    std::this_thread::sleep_for(50ms);
  }
}

}  // namespace

TEST_CASE("inbound email: a new message opens a case by email - the same message again is one message",
          "[web][inbound]") {
  RedressServer server;
  Client intake(server.port(), server.token("intake"));
  Client agent(server.port(), server.token("agent"));
  const std::string raw = mail("Dana Whitfield <dana@example.net>", "My parcel never arrived",
                               "I ordered a kettle on 1 December and it never came.\r\nOrder 5521.\r\n");
  auto first = post_mail(intake, raw);
  INFO(first.describe());
  REQUIRE(first.status == 201);
  const std::string reference = string_at(first.json(), "reference");
  CHECK(string_at(first.json(), "disposition") == "opened_case");
  CHECK(first.header("Location") == "/v1/cases/" + reference);

  auto view = agent.get("/v1/cases/" + reference).json();
  CHECK(string_at(view.at("client"), "email") == "dana@example.net");
  CHECK(string_at(view.at("client"), "name") == "Dana Whitfield");
  CHECK(string_at(view, "channel") == "email");
  CHECK(string_at(view, "subject") == "My parcel never arrived");
  CHECK(string_at(view, "description").find("Order 5521.") != std::string::npos);
  const std::int64_t cases = case_count(agent);

  // An MTA's retry, or a second poller: the same bytes are taken once.
  auto again = post_mail(intake, raw);
  REQUIRE(again.status == 200);
  CHECK(string_at(again.json(), "disposition") == "duplicate");
  CHECK(string_at(again.json(), "reference") == reference);
  CHECK(case_count(agent) == cases);

  // The record says what was done, for the admin.
  Client admin(server.port(), server.token("admin"));
  auto records = admin.get("/v1/inbound/email?case=" + reference).json().at("items").as_array();
  REQUIRE(records.size() == 1);
  CHECK(string_at(records[0], "disposition") == "opened_case");
  CHECK(string_at(records[0], "from") == "dana@example.net");
}

TEST_CASE("inbound email: the client's reply to Redress's mail threads to the case through mailgate",
          "[web][inbound]") {
  TempDir scratch;
  redress::peers::CaptureServer smtp(scratch.path());
  ServerSetup setup;
  setup.config = {"smtp_url = \"" + smtp.url() + "\"", "smtp_starttls = \"off\"",
                  "mail_from = \"complaints@acme.example\"", "[[mailboxes]]", "name = \"complaints\"",
                  "address = \"complaints@acme.example\"", "category = \"delivery\""};
  RedressServer server(setup);
  Client agent(server.port(), server.token("agent"));
  auto created = agent.post("/v1/cases", new_case_body("Charged twice", "priya@example.net"));
  REQUIRE(created.status == 201);
  const std::string reference = string_at(created.json(), "reference");

  // The acknowledgement: automatic, marked as ours, and asking for replies at the case's address.
  const std::string sent = captured_mail_to(smtp, "priya@example.net");
  CHECK(header_of(sent, "Auto-Submitted") == "auto-generated");
  CHECK(header_of(sent, "X-Redress-Loop") == "acme.example");
  CHECK(header_of(sent, "Reply-To").find("complaints+" + reference + "@acme.example") != std::string::npos);
  const std::string message_id = header_of(sent, "Message-ID");
  REQUIRE(message_id.find(reference) != std::string::npos);

  // The case waits for the client; their reply (Gmail's quoting, no tag in the subject) answers it.
  REQUIRE(agent.post("/v1/cases/" + reference + "/actions", json::object{{"action", "acknowledge"}}).status == 200);
  REQUIRE(agent.post("/v1/cases/" + reference + "/actions", json::object{{"action", "take"}}).status == 200);
  REQUIRE(agent.post("/v1/cases/" + reference + "/actions", json::object{{"action", "start"}}).status == 200);
  REQUIRE(agent
              .post("/v1/cases/" + reference + "/actions",
                    json::object{{"action", "request_info"}, {"body", "Which card was charged?"}})
              .status == 200);
  const std::string reply =
      mail("Priya Shah <Priya@Example.net>", "Re: your complaint",
           "It was my Visa ending 4242.\r\n\r\nOn Sun, 6 Dec 2026 at 09:00, Complaints team "
           "<complaints@acme.example> wrote:\r\n> Which card was charged?\r\n> Thank you\r\n",
           {"In-Reply-To: " + message_id, "References: " + message_id});
  auto gate = server.run({"mailgate", "--url", "http://127.0.0.1:" + std::to_string(server.port()), "--token",
                          server.token("intake")},
                         reply);
  INFO(gate.output);
  REQUIRE(gate.status == 0);
  CHECK(gate.output.find("\"threaded\"") != std::string::npos);

  auto view = agent.get("/v1/cases/" + reference).json();
  CHECK(string_at(view, "status") == "investigating");
  const json::array messages = view.at("messages").as_array();
  const json::value& last = messages.back();
  CHECK(string_at(last, "author") == "client");
  CHECK(string_at(last, "via") == "email");
  CHECK(string_at(last, "visibility") == "client");
  CHECK(string_at(last, "body") == "It was my Visa ending 4242.");  // the quote folded away
  CHECK(string_at(last, "original").find("> Which card was charged?") != std::string::npos);
  // The raw email, one click away, as a download.
  auto original = agent.get("/v1/cases/" + reference + "/messages/" + string_at(last, "id") + "/original");
  REQUIRE(original.status == 200);
  CHECK(original.header("Content-Type") == "message/rfc822");
  CHECK(original.header("Content-Disposition").rfind("attachment", 0) == 0);
  CHECK(original.header("X-Content-Type-Options") == "nosniff");
  CHECK(original.body == reply);

  // The per-case reply address threads too, even with the subject rewritten and no headers kept.
  const std::string second = mail("priya@example.net", "one more thing", "The charge was on 2 December.\r\n", {},
                                  "complaints+" + reference + "@acme.example");
  Client intake(server.port(), server.token("intake"));
  auto threaded = post_mail(intake, second);
  REQUIRE(threaded.status == 202);
  CHECK(string_at(threaded.json(), "reference") == reference);
  CHECK(string_at(threaded.json(), "disposition") == "threaded");

  // Our own acknowledgement coming back to the mailbox is a loop: kept, never acted on.
  const std::int64_t before = case_count(agent);
  auto loop = post_mail(intake, sent);
  REQUIRE(loop.status == 202);
  CHECK(string_at(loop.json(), "disposition") == "ignored");
  CHECK(case_count(agent) == before);
}

TEST_CASE("inbound email: a stranger's mail with a case's reference is held - staff accept or reject it",
          "[web][inbound]") {
  RedressServer server;
  Client agent(server.port(), server.token("agent"));
  Client intake(server.port(), server.token("intake"));
  auto created = agent.post("/v1/cases", new_case_body("Charged twice", "ana@example.org"));
  REQUIRE(created.status == 201);
  const std::string reference = string_at(created.json(), "reference");
  const std::string client_url = string_at(created.json(), "client_url");
  const std::string token = client_url.substr(client_url.rfind('/') + 1);

  // A guessed reference in the subject from another address: held, seen by staff only.
  auto forged = post_mail(intake, mail("mallory@attacker.example", "Re: [" + reference + "] update",
                                       "Please send the refund to account 99-11-22.\r\n"));
  REQUIRE(forged.status == 202);
  CHECK(string_at(forged.json(), "disposition") == "held");
  auto messages = case_messages(agent, reference);
  REQUIRE(messages.size() == 1);
  const std::string held_id = string_at(messages[0], "id");
  CHECK(string_at(messages[0], "state") == "held");
  CHECK(string_at(messages[0], "visibility") == "internal");
  CHECK(string_at(messages[0], "author") == "email:mallory@attacker.example");
  Client client(server.port());
  auto client_view = client.get("/v1/client/" + token).json();
  CHECK(client_view.at("messages").as_array().empty());

  // The mail intake's own operations are not the API's.
  auto hold = agent.post("/v1/cases/" + reference + "/actions", json::object{{"action", "hold_message"}});
  CHECK(hold.status == 422);

  // Rejected with a reason: it stays internal, decided once.
  auto rejected = agent.post("/v1/cases/" + reference + "/actions",
                             json::object{{"action", "reject_message"}, {"message_id", held_id}});
  CHECK(rejected.status == 422);  // a reason is required
  rejected = agent.post("/v1/cases/" + reference + "/actions",
                        json::object{{"action", "reject_message"}, {"message_id", held_id}, {"reason", "fraud"}});
  INFO(rejected.describe());
  REQUIRE(rejected.status == 200);
  CHECK(string_at(case_messages(agent, reference)[0], "state") == "rejected");
  auto twice = agent.post("/v1/cases/" + reference + "/actions",
                          json::object{{"action", "accept_message"}, {"message_id", held_id}});
  CHECK(twice.status == 409);

  // The client writing from their work address: held, then accepted as theirs.
  auto work = post_mail(intake, mail("ana.ruiz@work.example", "Re: [" + reference + "]",
                                     "Writing from work: the second charge is still there.\r\n"));
  REQUIRE(string_at(work.json(), "disposition") == "held");
  const std::string work_id = string_at(case_messages(agent, reference)[1], "id");
  auto accepted = agent.post("/v1/cases/" + reference + "/actions",
                             json::object{{"action", "accept_message"}, {"message_id", work_id}});
  INFO(accepted.describe());
  REQUIRE(accepted.status == 200);
  auto after = case_messages(agent, reference);
  CHECK(string_at(after[1], "state") == "accepted");
  CHECK(string_at(after[1], "visibility") == "client");
  auto thread = client.get("/v1/client/" + token).json().at("messages").as_array();
  REQUIRE(thread.size() == 1);
  CHECK(string_at(thread[0], "body") == "Writing from work: the second charge is still there.");
  auto unknown = agent.post("/v1/cases/" + reference + "/actions",
                            json::object{{"action", "accept_message"}, {"message_id", "m-999999"}});
  CHECK(unknown.status == 404);

  // The history names each step.
  auto events = agent.get("/v1/cases/" + reference + "/events").json().at("items").as_array();
  std::vector<std::string> types;
  for (const auto& e : events) types.emplace_back(string_at(e, "type"));
  CHECK(std::count(types.begin(), types.end(), "message.held") == 2);
  CHECK(std::count(types.begin(), types.end(), "message.rejected") == 1);
  CHECK(std::count(types.begin(), types.end(), "message.accepted") == 1);
}

TEST_CASE("inbound email: a reply to a merged complaint reaches the case that carries on - never another client's",
          "[web][inbound][merge]") {
  RedressServer server;
  Client agent(server.port(), server.token("agent"));
  Client intake(server.port(), server.token("intake"));
  auto open = [&](const std::string& subject, const std::string& email) {
    auto created = agent.post("/v1/cases", new_case_body(subject, email));
    REQUIRE(created.status == 201);
    const std::string reference = string_at(created.json(), "reference");
    REQUIRE(agent.post("/v1/cases/" + reference + "/actions", json::object{{"action", "take"}}).status == 200);
    return reference;
  };
  auto merge = [&](const std::string& duplicate, const std::string& into) {
    auto merged = agent.post("/v1/cases/" + duplicate + "/actions",
                             json::object{{"action", "merge"}, {"into", into}, {"note", "the same matter"}});
    INFO(merged.describe());
    REQUIRE(merged.status == 200);
  };

  // Ana wrote twice; her second complaint is merged into her first. Her reply to the second's
  // mail (its reference in the subject) goes on to the first.
  const std::string survivor = open("Charged twice", "ana@example.org");
  const std::string duplicate = open("Charged twice, again", "ana@example.org");
  merge(duplicate, survivor);
  auto reply = post_mail(intake, mail("Ana Ruiz <Ana@example.org>", "Re: [" + duplicate + "] Charged twice, again",
                                      "Here is the bank statement line STMT-5521.\r\n"));
  INFO(reply.describe());
  REQUIRE(reply.status == 202);
  CHECK(string_at(reply.json(), "disposition") == "threaded");
  CHECK(string_at(reply.json(), "reference") == survivor);
  CHECK(string_at(reply.json(), "detail").find("merged into") != std::string::npos);
  auto on_survivor = case_messages(agent, survivor);
  REQUIRE(!on_survivor.empty());
  CHECK(string_at(on_survivor.back(), "body").find("STMT-5521") != std::string::npos);
  CHECK(string_at(on_survivor.back(), "author") == "client");
  for (const auto& m : case_messages(agent, duplicate)) CHECK(string_at(m, "body").find("STMT-5521") == std::string::npos);

  // Bart's complaint was merged into Cleo's (one outage, two clients): his reply is never put on
  // her case, where her status page would show it. It is held on his, for staff.
  const std::string cleo = open("Power cut on Elm Street", "cleo@example.org");
  const std::string bart = open("Power cut, Elm Street", "bart@example.org");
  merge(bart, cleo);
  auto bart_reply = post_mail(intake, mail("bart@example.org", "Re: [" + bart + "] Power cut, Elm Street",
                                           "My freezer thawed: FRZ-118.\r\n"));
  INFO(bart_reply.describe());
  REQUIRE(bart_reply.status == 202);
  CHECK(string_at(bart_reply.json(), "disposition") == "held");
  CHECK(string_at(bart_reply.json(), "reference") == bart);
  CHECK(string_at(bart_reply.json(), "detail").find("another client's complaint") != std::string::npos);
  for (const auto& m : case_messages(agent, cleo)) CHECK(string_at(m, "body").find("FRZ-118") == std::string::npos);
  bool held_on_his = false;
  for (const auto& m : case_messages(agent, bart))
    held_on_his = held_on_his || (string_at(m, "body").find("FRZ-118") != std::string::npos &&
                                  string_at(m, "state") == "held");
  CHECK(held_on_his);
}

TEST_CASE("inbound email: deliveries of one message at once change its case once", "[web][inbound]") {
  RedressServer server;
  Client intake(server.port(), server.token("intake"));
  Client agent(server.port(), server.token("agent"));
  auto opened = post_mail(intake, mail("Dana Whitfield <dana@example.net>", "My parcel never arrived", "It never came.\r\n"));
  REQUIRE(opened.status == 201);
  const std::string reference = string_at(opened.json(), "reference");
  const std::size_t messages_before = case_messages(agent, reference).size();

  // The client's reply and an auto-reply, each delivered by six callers at the same moment (an MTA's
  // retry racing a second poller): each is dealt with once, the others are told it was a duplicate.
  const std::string reply =
      mail("dana@example.net", "Re: [" + reference + "] My parcel never arrived", "Still nothing today.\r\n");
  const std::string auto_reply = read_text(kCorpus + "out_of_office.eml");
  for (const auto& [raw, dealt] : {std::pair{reply, "threaded"}, std::pair{auto_reply, "ignored"}}) {
    INFO(dealt);
    constexpr int kCallers = 6;
    std::vector<std::string> dispositions(kCallers);
    std::vector<int> statuses(kCallers);
    std::atomic<int> ready{0};
    std::vector<std::thread> callers;
    for (int i = 0; i < kCallers; ++i)
      callers.emplace_back([&, i] {
        Client own(server.port(), server.token("intake"));
        ++ready;
        while (ready < kCallers) std::this_thread::yield();
        auto answer = post_mail(own, raw);
        statuses[i] = answer.status;
        if (answer.status < 300) dispositions[i] = string_at(answer.json(), "disposition");
      });
    for (auto& c : callers) c.join();
    int first = 0, duplicates = 0;
    for (int i = 0; i < kCallers; ++i) {
      INFO(statuses[i] << " " << dispositions[i]);
      CHECK(statuses[i] < 300);
      first += dispositions[i] == dealt;
      duplicates += dispositions[i] == "duplicate";
    }
    CHECK(first == 1);
    CHECK(duplicates == kCallers - 1);
  }
  auto messages = case_messages(agent, reference);
  int replies = 0;
  for (const auto& m : messages) replies += string_at(m, "body").find("Still nothing today.") != std::string::npos;
  CHECK(replies == 1);
  CHECK(messages.size() == messages_before + 1);
  Client admin(server.port(), server.token("admin"));
  CHECK(admin.get("/v1/inbound/email").json().at("items").as_array().size() == 3);
}

TEST_CASE("inbound email: auto-replies, lists, bulk mail and loops never open a case", "[web][inbound]") {
  RedressServer server;
  Client intake(server.port(), server.token("intake"));
  Client agent(server.port(), server.token("agent"));
  const std::int64_t before = case_count(agent);
  for (const char* name : {"out_of_office.eml", "exchange_oof.eml", "mailing_list.eml", "newsletter.eml", "loop.eml"}) {
    INFO(name);
    auto answer = post_mail(intake, read_text(kCorpus + name));
    INFO(answer.describe());
    REQUIRE(answer.status == 202);
    CHECK(string_at(answer.json(), "disposition") == "ignored");
    CHECK(string_at(answer.json(), "reference").empty());
  }
  CHECK(case_count(agent) == before);
}

TEST_CASE("inbound email: a bounce of Redress's mail marks the failing address on its case", "[web][inbound]") {
  TempDir scratch;
  redress::peers::CaptureServer smtp(scratch.path());
  ServerSetup setup;
  setup.config = {"smtp_url = \"" + smtp.url() + "\"", "smtp_starttls = \"off\"",
                  "mail_from = \"complaints@acme.example\""};
  RedressServer server(setup);
  Client agent(server.port(), server.token("agent"));
  auto created = agent.post("/v1/cases", new_case_body("Charged twice", "gone@example.net"));
  REQUIRE(created.status == 201);
  const std::string reference = string_at(created.json(), "reference");
  const std::string message_id = header_of(captured_mail_to(smtp, "gone@example.net"), "Message-ID");

  const std::string dsn =
      "From: MAILER-DAEMON@mx.example.net\r\nTo: complaints@acme.example\r\nSubject: Undelivered Mail Returned "
      "to Sender\r\nMessage-ID: <dsn.1@mx.example.net>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; "
      "report-type=delivery-status; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nThe mail "
      "could not be delivered.\r\n--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; "
      "mx.example.net\r\n\r\nFinal-Recipient: rfc822; gone@example.net\r\nAction: failed\r\nStatus: "
      "5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\r\n--B\r\nContent-Type: "
      "text/rfc822-headers\r\n\r\nFrom: complaints@acme.example\r\nTo: gone@example.net\r\nMessage-ID: " +
      message_id + "\r\n--B--\r\n";
  Client intake(server.port(), server.token("intake"));
  auto answer = post_mail(intake, dsn, "");
  INFO(answer.describe());
  REQUIRE(answer.status == 202);
  CHECK(string_at(answer.json(), "disposition") == "bounce");
  CHECK(string_at(answer.json(), "reference") == reference);
  auto events = agent.get("/v1/cases/" + reference + "/events").json().at("items").as_array();
  const json::value& last = events.back();
  CHECK(string_at(last, "type") == "mail.bounced");
  CHECK(string_at(last.at("data"), "address") == "gone@example.net");
  CHECK(string_at(last.at("data"), "status") == "5.1.1");
  Client admin(server.port(), server.token("admin"));
  auto records = admin.get("/v1/inbound/email?case=" + reference).json().at("items").as_array();
  REQUIRE(records.size() == 1);
  CHECK(string_at(records[0], "bounced_address") == "gone@example.net");
}

TEST_CASE("inbound email: a mail storm from one sender is capped", "[web][inbound]") {
  ServerSetup setup;
  setup.config = {"inbound_per_sender_per_hour = 3"};
  RedressServer server(setup);
  Client intake(server.port(), server.token("intake"));
  std::vector<std::string> dispositions;
  for (int i = 0; i < 5; ++i)
    dispositions.push_back(string_at(
        post_mail(intake, mail("storm@example.net", "Complaint " + std::to_string(i), "Text " + std::to_string(i)))
            .json(),
        "disposition"));
  CHECK(dispositions == std::vector<std::string>{"opened_case", "opened_case", "opened_case", "ignored", "ignored"});
}

TEST_CASE("inbound email: bad input is refused clearly and loses nothing - mailgate exits as MTAs expect",
          "[web][inbound]") {
  RedressServer server;
  Client intake(server.port(), server.token("intake"));
  auto json_body = intake.post("/v1/inbound/email", json::object{{"hello", "world"}});
  CHECK(json_body.status == 415);
  CHECK(json_body.is_problem());
  auto empty = post_mail(intake, "");
  CHECK(empty.status == 422);
  auto garbage = post_mail(intake, "this is not an email at all");
  CHECK(garbage.status == 422);
  CHECK(garbage.is_problem());
  auto mailbox = post_mail(intake, mail("a@example.net", "x", "y"), "?mailbox=nowhere");
  CHECK(mailbox.status == 422);
  Client agent(server.port(), server.token("agent"));
  CHECK(post_mail(agent, mail("a@example.net", "x", "y")).status == 403);

  const std::string url = "http://127.0.0.1:" + std::to_string(server.port());
  auto unusable = server.run({"mailgate", "--url", url, "--token", server.token("intake")}, "not a message");
  CHECK(unusable.status == 65);
  auto no_token = server.run({"mailgate", "--url", url}, mail("a@example.net", "x", "y"));
  CHECK(no_token.status == 75);
  auto bad_token = server.run({"mailgate", "--url", url, "--token", "wrong"}, mail("a@example.net", "x", "y"));
  CHECK(bad_token.status == 75);
  // Nobody listening: the MTA keeps the message and tries again.
  auto down = server.run({"mailgate", "--url", "http://127.0.0.1:1", "--token", server.token("intake")},
                         mail("a@example.net", "x", "y"));
  CHECK(down.status == 75);
}

TEST_CASE("inbound email: two servers polling one IMAP mailbox (Dovecot) take each message once",
          "[web][inbound][imap]") {
  redress::testing::Dovecot dovecot;
  ServerSetup setup;
  setup.config = {"[[mailboxes]]",
                  "name = \"complaints\"",
                  "url = \"" + dovecot.url() + "\"",
                  "user = \"" + dovecot.user() + "\"",
                  "password = \"" + dovecot.password() + "\"",
                  "poll_seconds = 5",
                  "category = \"delivery\""};
  RedressServer server(setup);
  TempDir scratch;
  SecondNode second(server, scratch.path() / "second.log");
  Client agent(server.port(), server.token("agent"));
  const std::int64_t before = case_count(agent);
  for (int i = 0; i < 4; ++i)
    dovecot.deliver(mail("imap" + std::to_string(i) + "@example.net", "By IMAP " + std::to_string(i),
                         "Complaint number " + std::to_string(i) + ".\r\n"));
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (case_count(agent) < before + 4 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(200ms);
  REQUIRE(case_count(agent) == before + 4);
  // Both nodes have polled at least once more by now; nothing came in twice.
  std::this_thread::sleep_for(6s);
  CHECK(case_count(agent) == before + 4);
  auto items = agent.get("/v1/cases?limit=200").json().at("items").as_array();
  std::set<std::string> subjects;
  for (const auto& c : items) subjects.insert(string_at(c, "subject"));
  for (int i = 0; i < 4; ++i) CHECK(subjects.count("By IMAP " + std::to_string(i)) == 1);
}

TEST_CASE("inbound email: files on a message reach the case - files over the limits stay in the email, and it says so",
          "[web][inbound][attachments]") {
  ServerSetup setup;
  setup.config = {"attachment_max_files = 1"};
  RedressServer server(setup);
  Client intake(server.port(), server.token("intake"));
  Client agent(server.port(), server.token("agent"));
  // The corpus's Apple-Mail-like message: an inline picture (small) and a PDF receipt.
  auto opened = post_mail(intake, read_text(kCorpus + "attachments.eml"));
  INFO(opened.describe());
  REQUIRE(opened.status == 201);
  const std::string reference = string_at(opened.json(), "reference");
  auto messages = case_messages(agent, reference);
  std::vector<std::string> names;
  std::string download;
  for (const auto& m : messages)
    if (const json::value* files = m.as_object().if_contains("attachments"))
      for (const auto& f : files->as_array()) {
        names.push_back(string_at(f, "filename"));
        if (download.empty()) download = string_at(f, "download");
      }
  REQUIRE(!names.empty());
  // One file per message is allowed here: the picture is kept, the receipt is named as left out.
  CHECK(names == std::vector<std::string>{"damage.png"});
  auto view = agent.get("/v1/cases/" + reference).json();
  CHECK(string_at(view, "description").find("1 file was over the size or count limits") != std::string::npos);
  REQUIRE(!download.empty());
  auto file = agent.get(download);
  REQUIRE(file.status == 200);
  CHECK(file.header("Content-Disposition").rfind("attachment", 0) == 0);
  CHECK(file.header("X-Content-Type-Options") == "nosniff");
  CHECK(!file.body.empty());
  // The whole email is still there, files and all.
  Client admin(server.port(), server.token("admin"));
  auto records = admin.get("/v1/inbound/email?case=" + reference).json().at("items").as_array();
  REQUIRE(records.size() == 1);
}
