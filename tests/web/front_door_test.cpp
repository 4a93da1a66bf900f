// Every way in, over real HTTP against the real binary: receipt times given by staff (and refused
// to everyone else), the landing page, the public complaint form and its refusals, and files on
// messages with who may download them.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "web/support.h"

using namespace redress::webtest;

namespace {

// The due times of a case's pledges, in order.
std::vector<std::string> pledge_due_times(const json::value& view) {
  std::vector<std::string> due;
  for (const auto& k : view.at("commitments").as_array())
    if (string_at(k, "kind") == "pledge") due.push_back(string_at(k, "due_at"));
  return due;
}

json::object backdated_case_body(const std::string& received_at, const std::string& reason) {
  json::object body = new_case_body("Phoned about a double charge");
  body["channel"] = "phone";
  body["received_at"] = received_at;
  if (!reason.empty()) body["received_reason"] = reason;
  return body;
}

}  // namespace

TEST_CASE("front door: a call logged two days late counts its pledges from received_at", "[web][receipt]") {
  ServerSetup setup;
  setup.manual_clock = true;
  RedressServer server(setup);
  Client admin(server.port(), server.token("admin"));
  Client agent(server.port(), server.token("agent"));
  REQUIRE(admin.post("/v1/admin/clock", json::value(json::object{{"set", "2027-01-04T10:00:00Z"}})).status == 200);
  // The same complaint taken at once: its pledges are the yardstick.
  json::value at_once = create_case(agent);
  REQUIRE_FALSE(pledge_due_times(at_once).empty());

  REQUIRE(admin.post("/v1/admin/clock", json::value(json::object{{"set", "2027-01-06T10:00:00Z"}})).status == 200);
  HttpResponse logged = agent.post(
      "/v1/cases", json::value(backdated_case_body("2027-01-04T10:00:00Z", "Voicemail heard after the holiday")));
  INFO(logged.describe());
  REQUIRE(logged.status == 201);
  json::value view = logged.json();
  CHECK(string_at(view, "received_at").rfind("2027-01-04T10:00:00", 0) == 0);
  CHECK(string_at(view, "channel") == "phone");
  CHECK(pledge_due_times(view) == pledge_due_times(at_once));

  // The reason is in the creation event, on the chain.
  HttpResponse events = agent.get("/v1/cases/" + string_at(view, "reference") + "/events");
  INFO(events.describe());
  REQUIRE(events.status == 200);
  CHECK(events.body.find("Voicemail heard after the holiday") != std::string::npos);
  CHECK(events.body.find("\"received_at\":\"2027-01-04T10:00:00Z\"") != std::string::npos);
}

TEST_CASE("front door: received_at in the future, beyond the window, without a reason or from intake is refused",
          "[web][receipt][refusals]") {
  ServerSetup setup;
  setup.manual_clock = true;
  setup.config = {"backdate_window = \"P7D\""};
  RedressServer server(setup);
  Client admin(server.port(), server.token("admin"));
  Client agent(server.port(), server.token("agent"));
  Client intake(server.port(), server.token("intake"));
  REQUIRE(admin.post("/v1/admin/clock", json::value(json::object{{"set", "2027-01-20T10:00:00Z"}})).status == 200);

  auto refused = [&](Client& who, const json::object& body) {
    HttpResponse r = who.post("/v1/cases", json::value(body));
    INFO(r.describe());
    CHECK(r.is_problem());
    return r;
  };
  HttpResponse future = refused(agent, backdated_case_body("2027-01-20T10:05:00Z", "clock skew"));
  CHECK(future.status == 422);
  CHECK(future.problem_fields() == std::vector<std::string>{"received_at"});
  HttpResponse too_old = refused(agent, backdated_case_body("2027-01-12T10:00:00Z", "found in a drawer"));
  CHECK(too_old.status == 422);
  CHECK(too_old.problem_fields() == std::vector<std::string>{"received_at"});
  CHECK(too_old.body.find("P7D") != std::string::npos);
  HttpResponse no_reason = refused(agent, backdated_case_body("2027-01-19T10:00:00Z", ""));
  CHECK(no_reason.status == 422);
  CHECK(no_reason.problem_fields() == std::vector<std::string>{"received_reason"});
  HttpResponse not_a_time = refused(agent, backdated_case_body("yesterday", "a letter"));
  CHECK(not_a_time.status == 422);
  CHECK(not_a_time.problem_fields() == std::vector<std::string>{"received_at"});
  HttpResponse from_intake = refused(intake, backdated_case_body("2027-01-19T10:00:00Z", "a letter"));
  CHECK(from_intake.status == 403);

  // Nothing refused was stored; within the window with a reason it is taken.
  HttpResponse list = agent.get("/v1/cases");
  REQUIRE(list.status == 200);
  CHECK(list.json().at("items").as_array().empty());
  HttpResponse taken = agent.post("/v1/cases", json::value(backdated_case_body("2027-01-13T10:00:01Z", "a letter")));
  INFO(taken.describe());
  CHECK(taken.status == 201);
}

TEST_CASE("front door: GET / is the landing page - complain, standards, staff sign-in - and HEAD / too",
          "[web][pages][landing]") {
  RedressServer server;
  Client anonymous(server.port());
  HttpResponse landing = anonymous.get("/");
  INFO(landing.describe());
  REQUIRE(landing.status == 200);
  CHECK(landing.header("content-type").rfind("text/html", 0) == 0);
  CHECK(landing.body.find("href=\"/complain\"") != std::string::npos);
  CHECK(landing.body.find("href=\"/standards\"") != std::string::npos);
  CHECK(landing.body.find("href=\"/staff\"") != std::string::npos);
  CHECK(landing.header("content-security-policy").find("default-src") != std::string::npos);
  // The empty path is not a wildcard: other unknown paths stay 404.
  CHECK(anonymous.get("/nothing-here").status == 404);
  CHECK(anonymous.call("POST", "/", "x=1", {{"Content-Type", "application/x-www-form-urlencoded"}}).status == 405);
}

namespace {

struct Part {
  std::string name;
  std::string value;
  std::string filename;  // non-empty: a file
  std::string type = "application/octet-stream";
};

const std::string kBoundary = "----redress-test-boundary-7MA4YWxkTrZu0gW";

std::string multipart_body(const std::vector<Part>& parts) {
  std::string body;
  for (const auto& p : parts) {
    body += "--" + kBoundary + "\r\nContent-Disposition: form-data; name=\"" + p.name + "\"";
    if (!p.filename.empty()) body += "; filename=\"" + p.filename + "\"\r\nContent-Type: " + p.type;
    body += "\r\n\r\n" + p.value + "\r\n";
  }
  return body + "--" + kBoundary + "--\r\n";
}

Headers multipart_type() { return {{"Content-Type", "multipart/form-data; boundary=" + kBoundary}}; }

// Bytes with CR, LF, NUL and every other byte value, as a photograph would have.
std::string binary_file(std::size_t size) {
  std::string bytes(size, '\0');
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 37 + 11) % 256);
  return bytes;
}

std::vector<json::value> case_messages(Client& staff, const std::string& reference) {
  HttpResponse view = staff.get("/v1/cases/" + reference);
  REQUIRE(view.status == 200);
  std::vector<json::value> out;
  const json::value body = view.json();
  for (const auto& m : body.at("messages").as_array()) out.push_back(m);
  return out;
}

}  // namespace

TEST_CASE("front door: staff send files on a message - each downloads as an attachment, never inline",
          "[web][attachments]") {
  RedressServer server;
  Client agent(server.port(), server.token("agent"));
  json::value created = create_case(agent);
  const std::string reference = string_at(created, "reference");
  const std::string photo = binary_file(70000);
  HttpResponse sent = agent.post("/v1/cases/" + reference + "/messages",
                                 multipart_body({{"body", "Photos of the damaged parcel", ""},
                                                 {"visibility", "internal", ""},
                                                 {"files", photo, "parcel photo.jpg", "image/jpeg"},
                                                 {"files", "<script>alert(1)</script>", "ünïcode.html", "text/html"}}),
                                 multipart_type());
  INFO(sent.describe());
  REQUIRE(sent.status == 201);
  json::value message = sent.json();
  REQUIRE(message.at("attachments").as_array().size() == 2);
  CHECK(string_at(message.at("attachments").at(0), "filename") == "parcel photo.jpg");
  CHECK(message.at("attachments").at(0).at("size").as_int64() == 70000);
  const std::string download = string_at(message.at("attachments").at(0), "download");
  REQUIRE(download == "/v1/cases/" + reference + "/messages/" + string_at(message, "id") + "/attachments/0");

  HttpResponse got = agent.get(download);
  INFO(got.status);
  REQUIRE(got.status == 200);
  CHECK((got.body == photo));  // not decomposed: Catch would print 70 kB of binary
  CHECK(got.header("content-type") == "image/jpeg");
  CHECK(got.header("content-disposition") ==
        "attachment; filename=\"parcel photo.jpg\"; filename*=UTF-8''parcel%20photo.jpg");
  CHECK(got.header("x-content-type-options") == "nosniff");
  CHECK(got.header("content-security-policy") == "sandbox; default-src 'none'");

  HttpResponse html = agent.get("/v1/cases/" + reference + "/messages/" + string_at(message, "id") + "/attachments/1");
  REQUIRE(html.status == 200);
  CHECK(html.header("content-disposition").rfind("attachment;", 0) == 0);
  CHECK(html.header("content-disposition").find("filename*=UTF-8''%C3%BCn%C3%AFcode.html") != std::string::npos);
  CHECK(html.header("content-security-policy") == "sandbox; default-src 'none'");

  // The files are on the message when the case is read back, and in its event.
  auto messages = case_messages(agent, reference);
  REQUIRE(messages.size() == 1);
  CHECK(messages[0].at("attachments").as_array().size() == 2);
  CHECK(agent.get("/v1/cases/" + reference + "/events").body.find("parcel photo.jpg") != std::string::npos);

  // No file 2, no such message, and nobody without a token.
  CHECK(agent.get("/v1/cases/" + reference + "/messages/" + string_at(message, "id") + "/attachments/2").status == 404);
  CHECK(agent.get("/v1/cases/" + reference + "/messages/m-999/attachments/0").status == 404);
  Client anonymous(server.port());
  CHECK(anonymous.get(download).status == 401);
}

TEST_CASE("front door: a client link downloads files of client messages only, and replies with files",
          "[web][attachments]") {
  RedressServer server;
  Client agent(server.port(), server.token("agent"));
  json::value created = create_case(agent);
  const std::string reference = string_at(created, "reference");
  const std::string token = link_token(string_at(created, "client_url"));
  REQUIRE_FALSE(token.empty());
  auto send = [&](const std::string& visibility, const std::string& file) {
    HttpResponse r = agent.post("/v1/cases/" + reference + "/messages",
                                multipart_body({{"body", "see the file", ""},
                                                {"visibility", visibility, ""},
                                                {"files", file, visibility + ".pdf", "application/pdf"}}),
                                multipart_type());
    INFO(r.describe());
    REQUIRE(r.status == 201);
    return string_at(r.json(), "id");
  };
  const std::string internal = send("internal", "internal notes");
  const std::string to_client = send("client", "our letter to you");
  Client anonymous(server.port());
  HttpResponse mine = anonymous.get("/v1/client/" + token + "/messages/" + to_client + "/attachments/0");
  INFO(mine.describe());
  CHECK(mine.status == 200);
  CHECK(mine.body == "our letter to you");
  CHECK(mine.header("content-disposition").rfind("attachment;", 0) == 0);
  HttpResponse hidden = anonymous.get("/v1/client/" + token + "/messages/" + internal + "/attachments/0");
  CHECK(hidden.status == 404);
  CHECK(hidden.body.find("internal notes") == std::string::npos);
  CHECK(anonymous.get("/v1/client/not-a-link/messages/" + to_client + "/attachments/0").status == 404);

  // The client answers with a file of their own.
  HttpResponse reply = anonymous.post(
      "/v1/client/" + token + "/messages",
      multipart_body({{"body", "Here is my receipt", ""}, {"files", "RECEIPT 42", "receipt.txt", "text/plain"}}),
      multipart_type());
  INFO(reply.describe());
  REQUIRE(reply.status == 201);
  auto messages = case_messages(agent, reference);
  REQUIRE(messages.size() == 3);
  CHECK(string_at(messages[2], "author") == "client");
  CHECK(agent.get(string_at(messages[2].at("attachments").at(0), "download")).body == "RECEIPT 42");
}

TEST_CASE("front door: files over the count, size or total limits are refused whole, and no message is lost",
          "[web][attachments][refusals]") {
  ServerSetup setup;
  setup.config = {"attachment_max_files = 2", "attachment_max_file_bytes = 1000", "attachment_max_total_bytes = 1500",
                  "max_body_bytes = 4096"};
  RedressServer server(setup);
  Client agent(server.port(), server.token("agent"));
  const std::string reference = string_at(create_case(agent), "reference");
  auto post = [&](const std::vector<Part>& parts) {
    std::vector<Part> all{{"body", "with files", ""}, {"visibility", "internal", ""}};
    all.insert(all.end(), parts.begin(), parts.end());
    return agent.post("/v1/cases/" + reference + "/messages", multipart_body(all), multipart_type());
  };
  HttpResponse too_many = post({{"files", "a", "a.txt"}, {"files", "b", "b.txt"}, {"files", "c", "c.txt"}});
  INFO(too_many.describe());
  CHECK(too_many.status == 422);
  CHECK(too_many.is_problem());
  CHECK(too_many.problem_fields() == std::vector<std::string>{"files"});
  HttpResponse too_big = post({{"files", std::string(1001, 'x'), "big.txt"}});
  CHECK(too_big.status == 422);
  CHECK(too_big.body.find("big.txt") != std::string::npos);
  HttpResponse too_much =
      post({{"files", std::string(800, 'x'), "one.txt"}, {"files", std::string(800, 'y'), "two.txt"}});
  CHECK(too_much.status == 422);
  CHECK(too_much.problem_fields() == std::vector<std::string>{"files"});
  // Beyond what any message may carry, the server refuses the body itself.
  HttpResponse huge = post({{"files", std::string(20000, 'z'), "huge.bin"}});
  CHECK(huge.status == 413);
  CHECK(huge.is_problem());
  // Not multipart and not JSON: 415 as before.
  CHECK(agent
            .post("/v1/cases/" + reference + "/messages", std::string("body=x"),
                  {{"Content-Type", "application/x-www-form-urlencoded"}})
            .status == 415);
  CHECK(case_messages(agent, reference).empty());
  HttpResponse fine = post({{"files", std::string(700, 'x'), "one.txt"}, {"files", std::string(700, 'y'), "two.txt"}});
  INFO(fine.describe());
  CHECK(fine.status == 201);
  CHECK(case_messages(agent, reference).size() == 1);
}

namespace {

std::size_t case_count(Client& staff) {
  HttpResponse list = staff.get("/v1/cases");
  REQUIRE(list.status == 200);
  const json::value body = list.json();
  return body.at("items").as_array().size();
}

std::vector<Part> complaint_parts(const std::string& email = "ana@example.org") {
  return {{"name", "Ana Ruiz", ""},
          {"email", email, ""},
          {"phone", "+44 20 7946 0000", ""},
          {"category", "delivery", ""},
          {"touchpoint", "delivery", ""},
          {"description", "The parcel arrived crushed.\r\nThe courier left it in the rain.", ""},
          {"remedy_requested", "A replacement", ""},
          {"website", "", ""}};
}

}  // namespace

TEST_CASE("front door: /complain labels every field, and a complaint with a file gets its reference and link",
          "[web][complain]") {
  RedressServer server;
  Client anonymous(server.port());
  Client agent(server.port(), server.token("agent"));
  HttpResponse form = anonymous.get("/complain");
  INFO(form.describe());
  REQUIRE(form.status == 200);
  for (const char* id : {"name", "email", "phone", "category", "touchpoint", "description", "remedy_requested", "files"}) {
    INFO(id);
    CHECK(form.body.find(std::string("<label for=\"") + id + "\"") != std::string::npos);
    CHECK(form.body.find(std::string("id=\"") + id + "\"") != std::string::npos);
  }
  CHECK(form.body.find("enctype=\"multipart/form-data\"") != std::string::npos);
  CHECK(form.body.find(">Product quality<") != std::string::npos);  // a category in words
  CHECK(form.body.find("name=\"viewport\"") != std::string::npos);

  std::vector<Part> parts = complaint_parts();
  parts.push_back({"files", binary_file(5000), "crushed.jpg", "image/jpeg"});
  HttpResponse sent = anonymous.post("/complain", multipart_body(parts), multipart_type());
  INFO(sent.describe());
  REQUIRE(sent.status == 201);
  auto at = sent.body.find("CMP-");
  REQUIRE(at != std::string::npos);
  const std::string reference = sent.body.substr(at, 15);
  auto link_at = sent.body.find("/c/");
  REQUIRE(link_at != std::string::npos);
  const std::string token = sent.body.substr(link_at + 3, sent.body.find('"', link_at) - link_at - 3);
  CHECK(anonymous.get("/c/" + token).status == 200);

  HttpResponse view = agent.get("/v1/cases/" + reference);
  REQUIRE(view.status == 200);
  const json::value c = view.json();
  CHECK(string_at(c, "channel") == "web");
  CHECK(string_at(c, "category") == "delivery");
  CHECK(string_at(c, "subject") == "The parcel arrived crushed.");
  CHECK(string_at(c, "description") == "The parcel arrived crushed.\nThe courier left it in the rain.");
  const auto& messages = c.at("messages").as_array();
  REQUIRE(messages.size() == 1);
  HttpResponse file = agent.get(string_at(messages[0].at("attachments").at(0), "download"));
  CHECK((file.body == binary_file(5000)));
  // The acknowledgement is owed to the client like any case's.
  HttpResponse mail = agent.get("/v1/cases/" + reference + "/notifications");
  CHECK(mail.body.find("ana@example.org") != std::string::npos);
}

TEST_CASE("front door: /complain refuses a filled honeypot, another site, too many posts and bad fields",
          "[web][complain][refusals]") {
  ServerSetup setup;
  setup.config = {"complaint_form_per_hour = 3", "attachment_max_file_bytes = 1000"};
  RedressServer server(setup);
  Client anonymous(server.port());
  Client agent(server.port(), server.token("agent"));

  // A bot fills every field: thanked, and nothing is stored.
  std::vector<Part> bot = complaint_parts();
  bot.back().value = "http://spam.example";
  HttpResponse trapped = anonymous.post("/complain", multipart_body(bot), multipart_type());
  CHECK(trapped.status == 200);
  CHECK(trapped.body.find("CMP-") == std::string::npos);
  CHECK(case_count(agent) == 0);

  // Posted from another site: refused.
  HttpResponse cross = anonymous.post("/complain", multipart_body(complaint_parts()),
                                      multipart_type() + Headers{{"Origin", "https://evil.example"}});
  CHECK(cross.status == 403);
  CHECK(case_count(agent) == 0);

  // A missing email and a file over the limit: the form again, with what was typed and a message at each.
  std::vector<Part> bad = complaint_parts("not-an-email");
  HttpResponse invalid = anonymous.post("/complain", multipart_body(bad), multipart_type());
  INFO(invalid.describe());
  CHECK(invalid.status == 422);
  CHECK(invalid.body.find("id=\"email-error\"") != std::string::npos);
  CHECK(invalid.body.find("value=\"Ana Ruiz\"") != std::string::npos);
  CHECK(invalid.body.find("The courier left it in the rain.") != std::string::npos);
  CHECK(invalid.body.find("<option value=\"delivery\" selected>") != std::string::npos);
  std::vector<Part> big = complaint_parts();
  big.push_back({"files", std::string(1001, 'x'), "too-big.pdf", "application/pdf"});
  HttpResponse too_big = anonymous.post("/complain", multipart_body(big), multipart_type());
  CHECK(too_big.status == 422);
  CHECK(too_big.body.find("id=\"files-error\"") != std::string::npos);
  CHECK(case_count(agent) == 0);

  // Three posts from this address reached the limiter (the honeypot, the bad email, the big file; the
  // cross-site post was refused before it): the budget of 3 an hour is spent, so the next is 429.
  HttpResponse limited = anonymous.post("/complain", multipart_body(complaint_parts()), multipart_type());
  CHECK(limited.status == 429);
  CHECK_FALSE(limited.header("retry-after").empty());
  CHECK(case_count(agent) == 0);
}
