// Shared support for the web tests: the real `redress` binary run as a server on an ephemeral
// loopback port (a fresh data directory, staff of every role with their tokens, an intake source),
// and a small blocking HTTP/1.1 client over a POSIX socket that can also send raw bytes.
//
// Header-only: the test CMake glob builds only *_test.cpp files. Everything here is usable from
// the test thread; Connection and the free functions below it (not the Catch macros) are also safe
// to use from helper threads.
#pragma once

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json.hpp>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "support/files.h"

extern char** environ;

namespace redress::webtest {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

// ---- files and processes ------------------------------------------------------------------------

using testing::read_text;
using testing::TempDir;
using testing::write_text;

// argv and envp prepared before fork, so the child only calls async-signal-safe functions.
struct ExecSpec {
  std::vector<std::string> argv_strings;
  std::vector<std::string> env_strings;
  std::vector<char*> argv;
  std::vector<char*> envp;

  explicit ExecSpec(const std::vector<std::string>& args) {
    argv_strings.push_back(REDRESS_BINARY);
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    // The environment of this process without REDRESS_*, so a developer's settings cannot leak in.
    for (char** e = environ; *e; ++e)
      if (std::strncmp(*e, "REDRESS_", 8) != 0) env_strings.emplace_back(*e);
    for (auto& s : argv_strings) argv.push_back(s.data());
    argv.push_back(nullptr);
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
  }
};

// Starts the binary with stdin from `input` (/dev/null by default) and stdout+stderr into
// `output`. Returns the pid.
inline pid_t spawn_redress(const std::vector<std::string>& args, const fs::path& output,
                           const fs::path& input = "/dev/null") {
  ExecSpec spec(args);
  std::string out_path = output.string();
  std::string in_path = input.string();
  pid_t pid = ::fork();
  if (pid == 0) {
    int in = ::open(in_path.c_str(), O_RDONLY);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0) ::_exit(127);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::execve(spec.argv[0], spec.argv.data(), spec.envp.data());
    ::_exit(127);
  }
  return pid;
}

// Waits for `pid` up to `limit`; the exit status (128 + signal when killed), or nullopt on timeout.
inline std::optional<int> wait_exit(pid_t pid, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    int status = 0;
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (done < 0) return -1;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(10ms);
  }
}

struct RunResult {
  int status = -1;
  std::string output;  // stdout and stderr together
};

// Runs the binary to completion (at most 60 s), with `input` as its standard input.
inline RunResult run_redress(const std::vector<std::string>& args, const fs::path& scratch,
                             const std::string& input = {}) {
  static std::atomic<int> counter{0};
  int n = counter++;
  fs::path output = scratch / ("run-" + std::to_string(n) + ".out");
  fs::path stdin_path = "/dev/null";
  if (!input.empty()) {
    stdin_path = scratch / ("run-" + std::to_string(n) + ".in");
    std::ofstream(stdin_path, std::ios::binary) << input;
  }
  pid_t pid = spawn_redress(args, output, stdin_path);
  REQUIRE(pid > 0);
  auto status = wait_exit(pid, 60s);
  if (!status) {
    ::kill(pid, SIGKILL);
    status = wait_exit(pid, 10s);
    FAIL("redress did not finish within 60 s: " << read_text(output));
  }
  return RunResult{*status, read_text(output)};
}

inline std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  std::size_t start = s.find_first_not_of(" \r\n");
  return start == std::string::npos ? std::string() : s.substr(start);
}

// ---- crypto helpers (independent of the project's own code) -------------------------------------

inline std::string base64(const unsigned char* data, std::size_t size) {
  std::string out(4 * ((size + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

inline std::string base64(std::string_view bytes) {
  return base64(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

inline std::string unbase64(std::string_view text) {
  std::string out(3 * (text.size() / 4) + 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return {};
  std::size_t size = static_cast<std::size_t>(n);
  // EVP_DecodeBlock counts the padding as zero bytes.
  if (text.size() >= 1 && text.back() == '=') --size;
  if (text.size() >= 2 && text[text.size() - 2] == '=') --size;
  out.resize(size);
  return out;
}

inline std::string random_bytes(std::size_t n) {
  static thread_local std::mt19937_64 generator{std::random_device{}()};
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(generator() & 0xff);
  return out;
}

inline std::string new_whsec() { return "whsec_" + base64(random_bytes(24)); }

// The Standard Webhooks signature "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>", computed
// with OpenSSL from the spec, not with the project's signer.
inline std::string standard_webhooks_signature(const std::string& whsec, const std::string& id, std::int64_t timestamp,
                                               const std::string& body) {
  std::string key = unbase64(std::string_view(whsec).substr(6));
  std::string content = id + "." + std::to_string(timestamp) + "." + body;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(content.data()),
       content.size(), mac, &length);
  return "v1," + base64(mac, length);
}

inline std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// ---- HTTP ---------------------------------------------------------------------------------------

inline std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct HttpResponse {
  int status = 0;
  std::string reason;
  std::multimap<std::string, std::string> headers;  // names in lower case
  std::string body;

  [[nodiscard]] std::string header(const std::string& name) const {
    auto it = headers.find(lower(name));
    return it == headers.end() ? std::string() : it->second;
  }
  [[nodiscard]] bool has_header(const std::string& name) const { return headers.count(lower(name)) > 0; }
  // The body as JSON; a null value when it is not JSON.
  [[nodiscard]] json::value json() const {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec) return nullptr;
    return v;
  }
  [[nodiscard]] bool is_problem() const {
    if (header("content-type").rfind("application/problem+json", 0) != 0) return false;
    json::value v = json();
    return v.is_object() && v.get_object().contains("type") && v.get_object().contains("title") &&
           v.get_object().contains("status") && v.get_object().at("status").is_int64() &&
           v.get_object().at("status").get_int64() == status;
  }
  // The "field" names of a problem's "fields".
  [[nodiscard]] std::vector<std::string> problem_fields() const {
    std::vector<std::string> names;
    json::value v = json();
    if (!v.is_object()) return names;
    if (const json::value* fields = v.get_object().if_contains("fields"); fields && fields->is_array())
      for (const auto& f : fields->get_array())
        if (f.is_object())
          if (const json::value* name = f.get_object().if_contains("field"); name && name->is_string())
            names.emplace_back(name->get_string());
    return names;
  }
  [[nodiscard]] std::string describe() const {
    return std::to_string(status) + " " + reason + ": " + body.substr(0, 600);
  }
};

using Headers = std::vector<std::pair<std::string, std::string>>;

// An HTTP/1.1 request as bytes. Adds Host and, for a body or a POST, Content-Length; adds
// Content-Type: application/json for a body unless `headers` names a type.
inline std::string build_request(const std::string& method, const std::string& target, const Headers& headers = {},
                                 const std::string& body = {}, bool keep_alive = true) {
  std::string out = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  bool has_type = false, has_length = false;
  for (const auto& [name, value] : headers) {
    out += name + ": " + value + "\r\n";
    has_type = has_type || lower(name) == "content-type";
    has_length = has_length || lower(name) == "content-length" || lower(name) == "transfer-encoding";
  }
  if (!body.empty() && !has_type) out += "Content-Type: application/json\r\n";
  if (!has_length && (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH"))
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  if (!keep_alive) out += "Connection: close\r\n";
  out += "\r\n";
  out += body;
  return out;
}

// What a response carries after its header: a body framed by its header, or none because it
// answers a HEAD (RFC 9110 §9.3.2: its Content-Length is the GET's, but no body follows).
enum class Answering { kBodyAsFramed, kHead };

// One blocking TCP connection to 127.0.0.1. Never uses Catch macros: safe on helper threads.
class Connection {
 public:
  Connection() = default;
  // `source`: the local address to connect from ("127.0.0.2"); empty: the kernel's choice.
  explicit Connection(unsigned short port, const std::string& source = {}) { connect(port, source); }
  ~Connection() { close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  Connection(Connection&& other) noexcept
      : fd_(other.fd_), peer_closed_(other.peer_closed_), buffer_(std::move(other.buffer_)) {
    other.fd_ = -1;
  }

  bool connect(unsigned short port, const std::string& source = {}) {
    close();
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return false;
    if (!source.empty()) {
      sockaddr_in local{};
      local.sin_family = AF_INET;
      local.sin_port = 0;
      if (::inet_pton(AF_INET, source.c_str(), &local.sin_addr) != 1 ||
          ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
        close();
        return false;
      }
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      close();
      return false;
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return true;
  }
  [[nodiscard]] bool is_open() const { return fd_ >= 0; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    peer_closed_ = false;
    buffer_.clear();
  }

  // Sends all of `bytes`; false when the peer is gone.
  bool send_raw(std::string_view bytes) {
    if (fd_ < 0) return false;
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Reads one response (skipping 1xx). Nullopt when the connection closes or `timeout` passes first.
  std::optional<HttpResponse> read_response(std::chrono::milliseconds timeout = 20s,
                                            Answering answering = Answering::kBodyAsFramed) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      std::size_t end;
      while ((end = buffer_.find("\r\n\r\n")) == std::string::npos)
        if (!fill(deadline)) return std::nullopt;
      HttpResponse response;
      std::string head = buffer_.substr(0, end);
      buffer_.erase(0, end + 4);
      std::istringstream lines(head);
      std::string line;
      std::getline(lines, line);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.rfind("HTTP/1.", 0) != 0 || line.size() < 12) return std::nullopt;
      response.status = std::atoi(line.substr(9, 3).c_str());
      response.reason = line.size() > 13 ? line.substr(13) : "";
      while (std::getline(lines, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        response.headers.emplace(lower(line.substr(0, colon)), trim(line.substr(colon + 1)));
      }
      if (response.status >= 100 && response.status < 200) continue;
      if (answering == Answering::kHead) return response;
      if (lower(response.header("transfer-encoding")).find("chunked") != std::string::npos) {
        for (;;) {
          std::size_t eol;
          while ((eol = buffer_.find("\r\n")) == std::string::npos)
            if (!fill(deadline)) return std::nullopt;
          std::size_t size = std::stoul(buffer_.substr(0, eol), nullptr, 16);
          buffer_.erase(0, eol + 2);
          while (buffer_.size() < size + 2)
            if (!fill(deadline)) return std::nullopt;
          response.body += buffer_.substr(0, size);
          buffer_.erase(0, size + 2);
          if (size == 0) break;
        }
      } else if (response.has_header("content-length")) {
        std::size_t size = std::stoul(response.header("content-length"));
        while (buffer_.size() < size)
          if (!fill(deadline)) return std::nullopt;
        response.body = buffer_.substr(0, size);
        buffer_.erase(0, size);
      } else if (response.status != 204 && response.status != 304) {
        while (fill(deadline)) {}
        response.body = std::move(buffer_);
        buffer_.clear();
      }
      return response;
    }
  }

  // True when the peer closes (EOF or reset) within `timeout`; what it sent meanwhile is kept in
  // the buffer (see pending()).
  bool wait_closed(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (fill(deadline)) {}
    return peer_closed_;
  }

  std::optional<HttpResponse> request(const std::string& method, const std::string& target, const Headers& headers = {},
                                      const std::string& body = {}, std::chrono::milliseconds timeout = 20s) {
    if (!send_raw(build_request(method, target, headers, body))) return std::nullopt;
    return read_response(timeout);
  }

  [[nodiscard]] const std::string& pending() const { return buffer_; }
  [[nodiscard]] int fd() const { return fd_; }

 private:
  // Reads more bytes into the buffer; false on EOF, error or deadline.
  bool fill(std::chrono::steady_clock::time_point deadline) {
    if (fd_ < 0 || peer_closed_) return false;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      int r = ::poll(&p, 1, static_cast<int>(left.count()));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      char chunk[16384];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        peer_closed_ = true;
        return false;
      }
      buffer_.append(chunk, static_cast<std::size_t>(n));
      return true;
    }
  }

  int fd_ = -1;
  bool peer_closed_ = false;
  std::string buffer_;
};

// Whether GET /healthz answers 200 on a fresh connection, tried up to 100 times 50 ms apart: a
// server notices closed connections asynchronously, so a freed place is not free at once.
inline bool healthz_served_soon(unsigned short port) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    if (attempt) std::this_thread::sleep_for(50ms);
    Connection c(port);
    auto r = c.request("GET", "/healthz", {}, {}, 5s);
    if (r && r->status == 200) return true;
  }
  return false;
}

// ---- the server process -------------------------------------------------------------------------

// The log of the server started last, so that a failure can show what the server said.
inline fs::path& last_server_log() {
  static fs::path path;
  return path;
}

inline std::string server_log_tail(std::size_t bytes = 3000) {
  if (last_server_log().empty()) return {};
  std::string text = read_text(last_server_log());
  return text.size() > bytes ? text.substr(text.size() - bytes) : text;
}

inline const std::vector<std::string>& staff_roles() {
  static const std::vector<std::string> roles{"intake", "agent", "lead", "manager", "admin"};
  return roles;
}

struct ServerSetup {
  bool manual_clock = false;
  int threads = 2;
  // Extra top-level config lines ("read_timeout_seconds = 2").
  std::vector<std::string> config;
  // A PostgreSQL database to serve from (tests/support/postgres.h), migrated and given the staff of
  // every role by the real CLI; empty: the SQLite file of the data directory, from the template.
  std::string database_url = {};
};

// The name and mapping of the configured intake source.
inline constexpr const char* kIntakeSource = "web-form";

// Stops a `redress serve` process: SIGTERM, then SIGKILL after 30 s. Nothing when pid <= 0.
inline void stop_server(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  if (!wait_exit(pid, 30s)) {
    ::kill(pid, SIGKILL);
    (void)wait_exit(pid, 10s);
  }
}

// The port `redress serve` (process `pid`, logging to `log`) listens on, once it says so. FAILs
// when it exits first (and sets pid to -1) or says nothing within 60 s.
inline unsigned short wait_listening(pid_t& pid, const fs::path& log) {
  REQUIRE(pid > 0);
  const std::string marker = "listening on http://127.0.0.1:";
  auto deadline = std::chrono::steady_clock::now() + 60s;
  for (;;) {
    std::string text = read_text(log);
    if (auto at = text.find(marker); at != std::string::npos) {
      auto port = static_cast<unsigned short>(std::atoi(text.c_str() + at + marker.size()));
      REQUIRE(port != 0);
      return port;
    }
    if (auto exited = wait_exit(pid, 0ms)) {
      pid = -1;
      FAIL("redress serve exited with " << *exited << " before listening: " << text);
    }
    if (std::chrono::steady_clock::now() > deadline) FAIL("redress serve did not listen within 60 s: " << text);
    std::this_thread::sleep_for(20ms);
  }
}

// A migrated data directory with one staff member and token per role, made once per build of the
// binary by the real CLI (`migrate`, then `staff add` and `staff token` for each role) and kept
// beside it in test-output/. Each RedressServer copies it. Why: those are eleven processes per
// server, and a sanitized binary takes a fifth of a second to start and exit, which added minutes
// to the ASan suite. The CLI commands themselves are tested in tests/app and contract_test.
struct DataTemplate {
  fs::path data;  // the data directory to copy
  std::map<std::string, std::string> staff_ids;
  std::map<std::string, std::string> tokens;
};

inline DataTemplate make_data_template() {
  const fs::path binary = REDRESS_BINARY;
  // Keyed by the binary's size and time: a rebuild makes a new template (its schema may differ).
  const std::string key =
      std::to_string(fs::file_size(binary)) + "-" +
      std::to_string(std::hash<std::int64_t>{}(fs::last_write_time(binary).time_since_epoch().count()));
  const fs::path folder = binary.parent_path() / "test-output";
  const fs::path made = folder / ("data-template-" + key);
  const fs::path staff_file = made / "staff.txt";
  if (!fs::exists(staff_file)) {
    // Made aside and renamed into place: test processes run in parallel, and the first rename wins.
    fs::create_directories(folder);
    const fs::path aside = folder / ("data-template-" + key + ".making-" + std::to_string(::getpid()));
    fs::remove_all(aside);
    fs::create_directories(aside);
    write_text(aside / "redress.toml", "threads = 2\n");
    auto run = [&](std::vector<std::string> args) {
      args.push_back("--data-dir=" + (aside / "data").string());
      args.push_back("--config=" + (aside / "redress.toml").string());
      auto result = run_redress(args, aside);
      INFO(result.output);
      REQUIRE(result.status == 0);
      return result.output;
    };
    (void)run({"migrate"});
    std::string staff;
    for (const auto& role : staff_roles()) {
      std::string email = role + "@example.org";
      std::string added = run({"staff", "add", "--name", "Test " + role, "--email", email, "--role", role});
      // The token is the first line (stdout); a note for the operator follows (stderr).
      std::string token = run({"staff", "token", "--email", email});
      staff +=
          role + " " + trim(added.substr(0, added.find('\n'))) + " " + trim(token.substr(0, token.find('\n'))) + "\n";
    }
    write_text(aside / "staff.txt", staff);
    std::error_code renamed;
    fs::rename(aside, made, renamed);
    if (renamed) {
      fs::remove_all(aside);
      REQUIRE(fs::exists(staff_file));  // another process made it first
    } else {
      // Templates of earlier builds of this binary are of no further use.
      for (const auto& entry : fs::directory_iterator(folder)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind("data-template-", 0) == 0 && name.find(".making-") == std::string::npos && entry.path() != made)
          fs::remove_all(entry.path(), renamed);
      }
    }
  }
  DataTemplate result;
  result.data = made / "data";
  std::istringstream lines(read_text(staff_file));
  std::string role, id, token;
  while (lines >> role >> id >> token) {
    result.staff_ids[role] = id;
    result.tokens[role] = token;
  }
  REQUIRE(result.tokens.size() == staff_roles().size());
  return result;
}

// fsync for every file in `folder` and for the folder itself: a copy is then as durable as the
// files SQLite wrote (the disk-fault tests make the file system read-only under a server).
inline void sync_folder(const fs::path& folder) {
  for (const auto& entry : fs::directory_iterator(folder)) {
    int fd = ::open(entry.path().c_str(), O_RDONLY);
    REQUIRE(fd >= 0);
    REQUIRE(::fsync(fd) == 0);
    ::close(fd);
  }
  int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY);
  REQUIRE(fd >= 0);
  REQUIRE(::fsync(fd) == 0);
  ::close(fd);
}

inline const DataTemplate& data_template() {
  static const DataTemplate made = make_data_template();
  return made;
}

// `redress serve` on 127.0.0.1:0 over a fresh data directory, with one staff member and token per
// role and an intake source. Stops it (SIGTERM, then SIGKILL after 30 s) when destroyed.
class RedressServer {
 public:
  // `data_dir`: where the data directory is made; empty: in the server's temporary folder.
  explicit RedressServer(ServerSetup setup = {}, const fs::path& data_dir = {}) : setup_(std::move(setup)) {
    data_ = data_dir.empty() ? dir_.path() / "data" : data_dir;
    intake_secret_ = new_whsec();
    std::string config;
    config += "threads = " + std::to_string(setup_.threads) + "\n";
    for (const auto& line : setup_.config) config += line + "\n";
    config += std::string("\n[intake.") + kIntakeSource + "]\n";
    config += "secret = \"" + intake_secret_ + "\"\n";
    config += "channel = \"web\"\ncategory = \"billing\"\n";
    config += std::string("[intake.") + kIntakeSource + ".mapping]\n";
    config += "\"client.name\" = \"/customer/name\"\n\"client.email\" = \"/customer/email\"\n";
    config += "subject = \"/title\"\ndescription = \"/message\"\n";
    config_path_ = dir_.path() / "redress.toml";
    write_text(config_path_, config);

    if (setup_.database_url.empty()) {
      const DataTemplate& made = data_template();
      fs::create_directories(data_);
      fs::copy(made.data, data_, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
      sync_folder(data_);
      staff_ids_ = made.staff_ids;
      tokens_ = made.tokens;
    } else {
      // The database is the test's own: migrated and staffed here, as an operator would.
      fs::create_directories(data_);
      auto must = [&](std::vector<std::string> args) {
        auto result = run(std::move(args));
        INFO(result.output);
        REQUIRE(result.status == 0);
        return result.output;
      };
      (void)must({"migrate"});
      for (const auto& role : staff_roles()) {
        const std::string email = role + "@example.org";
        const std::string added = must({"staff", "add", "--name", "Test " + role, "--email", email, "--role", role});
        const std::string token = must({"staff", "token", "--email", email});
        staff_ids_[role] = trim(added.substr(0, added.find('\n')));
        tokens_[role] = trim(token.substr(0, token.find('\n')));
      }
    }
    for (const auto& role : staff_roles()) REQUIRE(tokens_[role].size() >= 32);
    start();
  }
  ~RedressServer() { stop_server(pid_); }
  RedressServer(const RedressServer&) = delete;
  RedressServer& operator=(const RedressServer&) = delete;

  // Runs another subcommand on the same data directory and config.
  RunResult run(std::vector<std::string> args, const std::string& input = {}) const {
    args.push_back("--data-dir=" + data_.string());
    args.push_back("--config=" + config_path_.string());
    if (!setup_.database_url.empty()) args.push_back("--database=" + setup_.database_url);
    return run_redress(args, dir_.path(), input);
  }
  // Sets the sign-in password of the staff member of `role` (role@example.org).
  void set_password(const std::string& role, const std::string& password) const {
    auto set = run({"staff", "password", "--email", role + "@example.org"}, password + "\n");
    INFO(set.output);
    REQUIRE(set.status == 0);
  }

  // SIGTERM; the exit status, or nullopt when it did not exit within `limit`.
  std::optional<int> terminate(std::chrono::milliseconds limit = 60s) { return stop_with(SIGTERM, limit); }
  std::optional<int> stop_with(int signal, std::chrono::milliseconds limit = 60s) {
    REQUIRE(pid_ > 0);
    ::kill(pid_, signal);
    auto status = wait_exit(pid_, limit);
    if (status) pid_ = -1;
    return status;
  }
  [[nodiscard]] bool running() const { return pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0; }

  [[nodiscard]] unsigned short port() const { return port_; }
  [[nodiscard]] const std::string& token(const std::string& role) const { return tokens_.at(role); }
  [[nodiscard]] const std::string& staff_id(const std::string& role) const { return staff_ids_.at(role); }
  [[nodiscard]] const std::string& intake_secret() const { return intake_secret_; }
  [[nodiscard]] const fs::path& data_dir() const { return data_; }
  [[nodiscard]] fs::path database() const { return data_ / "redress.db"; }
  [[nodiscard]] const fs::path& config_path() const { return config_path_; }
  [[nodiscard]] std::string log() const { return read_text(log_path_); }
  // Whether the log holds `text` within `timeout`: lines below "warn" reach the file once a second.
  [[nodiscard]] bool log_shows(const std::string& text, std::chrono::seconds timeout = std::chrono::seconds(10)) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (log().find(text) != std::string::npos) return true;
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  // Starts `redress serve` again after terminate() or stop_with().
  void restart() {
    REQUIRE(pid_ <= 0);
    fs::remove(log_path_);  // so that the old "listening on" line is not read as the new one
    start();
  }

 private:
  void start() {
    log_path_ = dir_.path() / "serve.log";
    last_server_log() = log_path_;
    std::vector<std::string> args{"serve", "--listen", "127.0.0.1:0", "--data-dir=" + data_.string(),
                                  "--config=" + config_path_.string()};
    if (setup_.manual_clock) args.insert(args.end(), {"--clock", "manual"});
    if (!setup_.database_url.empty()) args.push_back("--database=" + setup_.database_url);
    pid_ = spawn_redress(args, log_path_);
    port_ = wait_listening(pid_, log_path_);
  }

  ServerSetup setup_;
  TempDir dir_;
  fs::path data_;
  fs::path config_path_;
  fs::path log_path_;
  std::string intake_secret_;
  std::map<std::string, std::string> tokens_;
  std::map<std::string, std::string> staff_ids_;
  pid_t pid_ = -1;
  unsigned short port_ = 0;
};

// A second `redress serve` on the same data directory and config as `server`: another node over
// the same database. Stopped (SIGTERM, then SIGKILL) when destroyed.
class SecondNode {
 public:
  // `flags`: more arguments for `serve` (they override the shared config file).
  SecondNode(const RedressServer& server, const fs::path& log, const std::vector<std::string>& flags = {}) : log_(log) {
    std::vector<std::string> args{"serve", "--listen", "127.0.0.1:0", "--data-dir=" + server.data_dir().string(),
                                  "--config=" + server.config_path().string()};
    args.insert(args.end(), flags.begin(), flags.end());
    pid_ = spawn_redress(args, log_);
    port_ = wait_listening(pid_, log_);
  }
  ~SecondNode() { stop_server(pid_); }
  SecondNode(const SecondNode&) = delete;
  SecondNode& operator=(const SecondNode&) = delete;
  [[nodiscard]] unsigned short port() const { return port_; }

 private:
  fs::path log_;
  pid_t pid_ = -1;
  unsigned short port_ = 0;
};

// ---- a keep-alive client for the test thread ----------------------------------------------------

inline Headers bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

inline Headers operator+(Headers a, const Headers& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Requests over one keep-alive connection, reconnecting when the server closed it. REQUIREs an answer.
class Client {
 public:
  explicit Client(unsigned short port, std::string token = {}) : port_(port), token_(std::move(token)) {}

  HttpResponse call(const std::string& method, const std::string& target, const std::string& body = {},
                    const Headers& headers = {}) {
    Headers all = headers;
    if (!token_.empty()) all.insert(all.begin(), {"Authorization", "Bearer " + token_});
    return raw(build_request(method, target, all, body));
  }
  HttpResponse get(const std::string& target, const Headers& headers = {}) { return call("GET", target, {}, headers); }
  HttpResponse post(const std::string& target, const json::value& body, const Headers& headers = {}) {
    return call("POST", target, json::serialize(body), headers);
  }
  HttpResponse post(const std::string& target, const std::string& body, const Headers& headers = {}) {
    return call("POST", target, body, headers);
  }

  // Sends bytes as they are and reads one answer.
  HttpResponse raw(const std::string& bytes) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      bool reused = connection_.is_open();
      if (!reused && !connection_.connect(port_)) FAIL("cannot connect to 127.0.0.1:" << port_);
      std::optional<HttpResponse> response;
      if (connection_.send_raw(bytes)) response = connection_.read_response(30s);
      if (response) {
        if (lower(response->header("connection")) == "close") connection_.close();
        return *response;
      }
      connection_.close();
      // Only a reused keep-alive connection may have been closed by the server meanwhile; a fresh
      // connection that gets no answer is a failure.
      if (!reused) break;
    }
    FAIL("no HTTP response from 127.0.0.1:" << port_ << " to: " << bytes.substr(0, 200) << "\n--- server log:\n"
                                            << server_log_tail());
    return {};
  }

  void set_token(std::string token) { token_ = std::move(token); }
  Connection& connection() { return connection_; }

 private:
  unsigned short port_;
  std::string token_;
  Connection connection_;
};

// ---- cases --------------------------------------------------------------------------------------

inline json::object new_case_body(const std::string& subject = "Charged twice",
                                  const std::string& email = "ana@example.org") {
  return json::object{{"client", json::object{{"name", "Ana Ruiz"}, {"email", email}}},
                      {"channel", "web"},
                      {"category", "billing"},
                      {"touchpoint", "billing"},
                      {"subject", subject},
                      {"description", "I was charged twice for one order."},
                      {"workflow", "retail"}};
}

// A final response that carries the retail workflow's required elements.
inline std::string final_response_text() {
  return "Dear Ana, we have decided to uphold your complaint. If you are not satisfied you may refer it to an "
         "alternative dispute resolution service, which we will use.";
}

inline const json::object& as_object(const json::value& v) {
  static const json::object empty;
  return v.is_object() ? v.get_object() : empty;
}

inline std::string string_at(const json::value& v, std::string_view key) {
  if (!v.is_object()) return {};
  const json::value* member = v.get_object().if_contains(key);
  return member && member->is_string() ? std::string(member->get_string()) : std::string();
}

inline std::vector<std::string> strings_at(const json::value& v, std::string_view key) {
  std::vector<std::string> out;
  if (!v.is_object()) return out;
  if (const json::value* member = v.get_object().if_contains(key); member && member->is_array())
    for (const auto& s : member->get_array())
      if (s.is_string()) out.emplace_back(s.get_string());
  return out;
}

// The token of a client_url ("http://host/c/<token>").
inline std::string link_token(const std::string& client_url) {
  auto at = client_url.rfind("/c/");
  return at == std::string::npos ? std::string() : client_url.substr(at + 3);
}

// Creates a case as `token`'s holder and returns the 201 body.
inline json::value create_case(Client& client, const std::string& subject = "Charged twice") {
  HttpResponse r = client.post("/v1/cases", json::value(new_case_body(subject)));
  INFO(r.describe());
  REQUIRE(r.status == 201);
  json::value body = r.json();
  REQUIRE(!string_at(body, "reference").empty());
  return body;
}

}  // namespace redress::webtest
