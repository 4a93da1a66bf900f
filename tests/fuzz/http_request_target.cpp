// The whole request path: bytes sent over a loopback socket to a real web::Server (Beast's parser,
// the Session's framing checks, the Router, the API's and the pages' handlers, the engine and a
// SQLite store in a temporary folder), as `redress serve` composes them (app/serve.cpp), made once
// per process. Each input is one connection: its bytes are sent, the sending side is shut, and
// everything is read back until the server closes.
//
// In the input, {agent} and {admin} become those staff members' bearer tokens and {case} the
// reference of a case made at start, so that the fuzzer reaches the handlers behind them.
//
// Properties: the server closes the connection within 5 s of the input ending; the answers, read
// in order by their Content-Length, are HTTP/1.1 answers with a status 100..599 that is never 500,
// each with X-Request-Id and Content-Length; nothing follows an answer that says Connection: close;
// and every 256 inputs, /healthz on a fresh connection answers 200.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/post.hpp>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "adapters/security/keyring.h"
#include "adapters/security/secrets.h"
#include "app/environment.h"
#include "tests/fuzz/targets.h"
#include "web/api.h"
#include "web/metrics.h"
#include "web/pages/pages.h"
#include "web/router.h"
#include "web/server.h"
#include "web/settings.h"

namespace redress::fuzz {

namespace {

// The server and what it serves; made once, never destroyed (the fuzzer exits with it running).
struct HttpHarness {
  std::unique_ptr<Environment> environment;
  std::unique_ptr<security::Keyring> keyring;
  web::Metrics metrics;
  web::WebSettings settings;
  std::unique_ptr<web::Router> router;
  std::unique_ptr<web::Server> server;
  std::unique_ptr<web::ApiContext> api;
  std::unique_ptr<Result<web::PagesContext>> pages;
  std::string agent_token;
  std::string admin_token;
  std::string case_reference;
  unsigned short port = 0;
};

[[noreturn]] void harness_failed(const std::string& what) {
  std::fprintf(stderr, "http_request: %s\n", what.c_str());
  std::abort();
}

std::string staff_token(Store& store, const std::string& name, Role role) {
  Staff staff;
  staff.name = name;
  staff.email = name + "@example.org";
  staff.role = role;
  auto added = store.add_staff(staff);
  if (!added) harness_failed("add_staff: " + added.error().detail);
  std::string token = security::new_token("rdr_");
  if (auto s = store.add_token(added->id, security::token_hash(token), "fuzz"); !s) harness_failed(s.error().detail);
  return token;
}

// Sends `bytes` on a new connection, shuts the sending side, and reads until the server closes.
// The answer bytes, and whether the server closed within `limit`.
std::pair<std::string, bool> send_and_read(unsigned short port, std::string_view bytes,
                                           std::chrono::milliseconds limit) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) harness_failed("socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // Closed with a reset (linger 0) below: a connection per input at hundreds a second would
  // otherwise leave tens of thousands in TIME_WAIT and use up the loopback's ephemeral ports (a
  // first 600 s run stopped on connect after 131,800 inputs). A refused connect is retried.
  int attempts = 0;
  while (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    if (++attempts == 50) harness_failed(std::string("connect: ") + std::strerror(errno));
    ::close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) harness_failed("socket");
  }
  linger reset{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  std::string received;
  bool closed = false;
  auto deadline = std::chrono::steady_clock::now() + limit;
  auto read_some = [&](int wait_ms) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, wait_ms) <= 0) return;
    char chunk[65536];
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0)
      closed = true;
    else
      received.append(chunk, static_cast<std::size_t>(n));
  };
  while (!bytes.empty() && !closed) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0)
      bytes.remove_prefix(static_cast<std::size_t>(n));
    else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      break;                    // the server closed while the input was still being sent
    read_some(n > 0 ? 0 : 10);  // take answers meanwhile, so neither side blocks on a full buffer
  }
  ::shutdown(fd, SHUT_WR);
  while (!closed && std::chrono::steady_clock::now() < deadline) read_some(50);
  ::close(fd);
  return {received, closed};
}

HttpHarness& http_harness() {
  static HttpHarness* made = [] {
    spdlog::set_level(spdlog::level::off);
    auto* h = new HttpHarness;
    static char folder[] = "/tmp/redress-fuzz-http-XXXXXX";
    if (!::mkdtemp(folder)) harness_failed("mkdtemp");
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(folder, ignored);
    });
    Config config;
    config.data_dir = std::string(folder) + "/data";
    config.durability = "normal";
    OpenOptions open;
    open.migrate_if_needed = true;
    auto environment = open_environment(config, open);
    if (!environment) harness_failed(environment.error().detail);
    h->environment = std::move(environment).value();
    auto keyring = security::Keyring::load_or_create(config.data_dir);
    if (!keyring) harness_failed(keyring.error().detail);
    h->keyring = std::make_unique<security::Keyring>(std::move(keyring).value());
    Store& store = *h->environment->store;
    h->agent_token = staff_token(store, "agent", Role::kAgent);
    h->admin_token = staff_token(store, "admin", Role::kAdmin);

    h->router = std::make_unique<web::Router>(
        [&store](const std::string& token) { return store.staff_for_token(security::token_hash(token)); });
    web::ServerOptions options;
    options.port = 0;
    options.threads = 2;
    options.read_timeout = std::chrono::seconds(2);
    options.max_body_bytes = 64 << 10;
    h->server = std::make_unique<web::Server>(options, *h->router, h->metrics);
    h->api = std::make_unique<web::ApiContext>(web::ApiContext{*h->environment->engine,
                                                               store,
                                                               store,
                                                               store,
                                                               store,
                                                               store,
                                                               store,
                                                               store,
                                                               *h->keyring,
                                                               h->settings,
                                                               h->metrics,
                                                               nullptr,
                                                               {},
                                                               {},
                                                               {},
                                                               {},
                                                               {},
                                                               {},
                                                               {},
                                                               nullptr,
                                                               nullptr,
                                                               nullptr,
                                                               {},
                                                               {},
                                                               {},
                                                               {},
                                                               &store,
                                                               &store,
                                                               nullptr});
    h->api->openapi_document = "{}";
    web::Server& server = *h->server;
    h->api->defer = [&server](std::function<void()> work) { boost::asio::post(server.io(), std::move(work)); };
    web::register_api(*h->router, *h->api);
    h->pages = std::make_unique<Result<web::PagesContext>>(web::load_pages(*h->api, REDRESS_SOURCE_WEB));
    if (!*h->pages) harness_failed("load_pages: " + h->pages->error().detail);
    web::register_pages(*h->router, **h->pages);
    if (auto s = h->server->start(); !s) harness_failed(s.error().detail);
    h->port = h->server->port();

    std::string body =
        R"({"client":{"name":"Ana Ruiz","email":"ana@example.org"},"channel":"web","category":"billing",)"
        R"("subject":"Charged twice","description":"Twice for one order.","workflow":"retail"})";
    std::string request = "POST /v1/cases HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + h->agent_token +
                          "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                          "\r\n\r\n" + body;
    auto [answer, closed] = send_and_read(h->port, request, std::chrono::seconds(30));
    auto at = answer.find("\"reference\":\"");
    if (answer.rfind("HTTP/1.1 201", 0) != 0 || at == std::string::npos) harness_failed("no case: " + answer);
    h->case_reference = answer.substr(at + 13, answer.find('"', at + 13) - at - 13);
    return h;
  }();
  return *made;
}

std::string with_placeholders(std::string input, const HttpHarness& h) {
  const std::pair<std::string_view, std::string_view> replacements[] = {
      {"{agent}", h.agent_token}, {"{admin}", h.admin_token}, {"{case}", h.case_reference}};
  for (const auto& [placeholder, value] : replacements)
    for (auto at = input.find(placeholder); at != std::string::npos; at = input.find(placeholder, at + value.size()))
      input.replace(at, placeholder.size(), value);
  return input;
}

// The value of header `name` (lower case) in a response head, or nullopt.
std::optional<std::string_view> header_in(std::string_view head, std::string_view name) {
  std::size_t at = head.find("\r\n");
  while (at != std::string_view::npos && at + 2 < head.size()) {
    std::size_t start = at + 2;
    std::size_t end = head.find("\r\n", start);
    std::string_view line = head.substr(start, end == std::string_view::npos ? head.npos : end - start);
    auto colon = line.find(':');
    if (colon == name.size()) {
      bool same = true;
      for (std::size_t i = 0; i < colon && same; ++i)
        same = std::tolower(static_cast<unsigned char>(line[i])) == name[i];
      if (same) {
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        return value;
      }
    }
    at = end;
  }
  return std::nullopt;
}

// Checks the answers in `stream`, in order, as far as their framing is known (an answer to HEAD
// announces a length it does not send, so reading stops where the next bytes are not an answer).
void check_answers(std::string_view stream) {
  while (!stream.empty()) {
    if (stream.substr(0, 9) != "HTTP/1.1 ") return;  // after a HEAD's answer: framing unknown here
    auto end = stream.find("\r\n\r\n");
    FUZZ_CHECK(end != std::string_view::npos);
    std::string_view head = stream.substr(0, end);
    FUZZ_CHECK(head.size() >= 12);
    int status = std::atoi(std::string(head.substr(9, 3)).c_str());
    FUZZ_CHECK(status >= 100 && status <= 599);
    FUZZ_CHECK(status != 500);
    stream.remove_prefix(end + 4);
    if (status < 200) continue;  // 100 Continue: the answer follows
    FUZZ_CHECK(header_in(head, "x-request-id").has_value());
    auto length = header_in(head, "content-length");
    FUZZ_CHECK(length.has_value());
    std::size_t size = std::strtoull(std::string(*length).c_str(), nullptr, 10);
    auto connection = header_in(head, "connection");
    bool last = connection && *connection == "close";
    if (size > stream.size()) {
      FUZZ_CHECK(last || stream.empty() || stream.substr(0, 9) == "HTTP/1.1 ");
      return;
    }
    if (last) {
      // Nothing after the last answer; an answer to HEAD sent no body, so its length may be all there is.
      FUZZ_CHECK(stream.size() == size || stream.empty());
      return;
    }
    stream.remove_prefix(size);
  }
}

}  // namespace

int http_request(const std::uint8_t* data, std::size_t size) {
  HttpHarness& h = http_harness();
  std::string input = with_placeholders(std::string(reinterpret_cast<const char*>(data), size), h);
  auto [answers, closed] = send_and_read(h.port, input, std::chrono::seconds(5));
  FUZZ_CHECK(closed);
  check_answers(answers);
  static unsigned inputs = 0;
  if (++inputs % 256 == 0) {
    auto [health, health_closed] =
        send_and_read(h.port, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", std::chrono::seconds(5));
    FUZZ_CHECK(health.rfind("HTTP/1.1 200", 0) == 0);
  }
  return 0;
}

}  // namespace redress::fuzz
