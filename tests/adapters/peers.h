// Real protocol peers for the adapter tests, started by the tests on loopback ports: an SMTP
// server (Debian's python3-aiosmtpd, tests/python/smtp_capture.py) and a web hook receiver
// (tests/node/webhook-receiver.mjs, verifying every delivery with npm standardwebhooks). Each is
// stopped (SIGTERM, then SIGKILL) when destroyed. Also process helpers and the strict mail check.
// Not thread-safe: one test thread owns each peer.
#pragma once

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/files.h"

namespace redress::peers {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

inline const char* const kPython = "/usr/bin/python3";  // Debian's, where python3-aiosmtpd is installed
// The Standard Webhooks test secret (the known vector's).
inline const std::string kWebhookTestSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

using testing::read_text;
using testing::TempDir;
using testing::write_text;

inline bool on_path(const std::string& program) {
  return std::system(("command -v " + program + " >/dev/null 2>&1").c_str()) == 0;
}

// Starts argv with stdin from /dev/null and stdout+stderr into `output`.
inline pid_t spawn(const std::vector<std::string>& args, const fs::path& output) {
  std::vector<std::string> strings = args;
  std::vector<char*> argv;
  for (auto& s : strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  std::string out_path = output.string();
  pid_t pid = ::fork();
  if (pid == 0) {
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0) ::_exit(127);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

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

// Runs argv to completion, its output in a new file under `scratch`; FAILs after `limit`.
inline RunResult run(const std::vector<std::string>& args, const fs::path& scratch,
                     std::chrono::milliseconds limit = 120s) {
  static std::atomic<int> counter{0};
  fs::path output = scratch / ("run-" + std::to_string(counter++) + ".out");
  pid_t pid = spawn(args, output);
  REQUIRE(pid > 0);
  auto status = wait_exit(pid, limit);
  if (!status) {
    ::kill(pid, SIGKILL);
    (void)wait_exit(pid, 10s);
    FAIL("did not finish in time: " << args[0] << " " << (args.size() > 1 ? args[1] : ""));
  }
  return RunResult{*status, read_text(output)};
}

// tests/python/check_mail.py over the files: every one must parse in strict mode (Python's email
// parser with no defect); their parsed headers and parts.
inline json::array strict_parse(const std::vector<fs::path>& files, const fs::path& scratch) {
  std::vector<std::string> args{kPython, REDRESS_SOURCE_DIR "/tests/python/check_mail.py"};
  for (const auto& f : files) args.push_back(f.string());
  auto result = run(args, scratch);
  INFO(result.output);
  REQUIRE(result.status == 0);
  auto start = result.output.find('[');
  REQUIRE(start != std::string::npos);
  return json::parse(result.output.substr(start)).as_array();
}

struct Tls {
  std::string cert;  // the server's certificate, for localhost only (no IP address in it)
  std::string key;
  std::string ca;  // the CA that signed it
};

// The capture server in its own folder; stopped (SIGTERM, then SIGKILL) when destroyed.
class CaptureServer {
 public:
  CaptureServer(const fs::path& root, std::vector<std::string> extra = {}, int port = 0) {
    static std::atomic<int> counter{0};
    dir_ = root / ("smtp-" + std::to_string(counter++));
    fs::create_directories(dir_);
    fs::path port_file = dir_ / "port";
    std::vector<std::string> args{kPython,       REDRESS_SOURCE_DIR "/tests/python/smtp_capture.py",
                                  "--dir",       (dir_ / "mail").string(),
                                  "--port-file", port_file.string(),
                                  "--port",      std::to_string(port)};
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = spawn(args, dir_ / "server.log");
    REQUIRE(pid_ > 0);
    // Generous: python's start-up on a loaded 2-core machine can take seconds.
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (!fs::exists(port_file)) {
      if (auto status = wait_exit(pid_, 0ms)) {
        pid_ = -1;
        FAIL("the SMTP capture server exited with " << *status << ": " << read_text(dir_ / "server.log"));
      }
      if (std::chrono::steady_clock::now() > deadline) {
        stop();
        FAIL("the SMTP capture server did not start in 60 s: " << read_text(dir_ / "server.log"));
      }
      std::this_thread::sleep_for(20ms);
    }
    port_ = std::stoi(read_text(port_file));
  }
  ~CaptureServer() { stop(); }
  CaptureServer(const CaptureServer&) = delete;
  CaptureServer& operator=(const CaptureServer&) = delete;

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    if (!wait_exit(pid_, 20s)) {
      ::kill(pid_, SIGKILL);
      (void)wait_exit(pid_, 10s);
    }
    pid_ = -1;
  }

  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] std::string url(const std::string& scheme = "smtp") const {
    return scheme + "://127.0.0.1:" + std::to_string(port_);
  }
  // The captured messages, in order of arrival.
  [[nodiscard]] std::vector<fs::path> messages() const {
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir_ / "mail", ec))
      if (entry.path().extension() == ".eml") out.push_back(entry.path());
    std::sort(out.begin(), out.end());
    return out;
  }
  [[nodiscard]] json::object envelope(const fs::path& eml) const {
    fs::path info = eml;
    info.replace_extension(".json");
    return json::parse(read_text(info)).as_object();
  }
  [[nodiscard]] int connections() const {
    std::string log = read_text(dir_ / "mail" / "connections.log");
    return static_cast<int>(std::count(log.begin(), log.end(), '\n'));
  }

 private:
  fs::path dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// The receiver, started with a plan; stopped (SIGTERM, then SIGKILL) when it goes out of scope.
class Receiver {
 public:
  explicit Receiver(const std::string& plan = "{}", const Tls* tls = nullptr,
                    const std::string& secret = kWebhookTestSecret) {
    REQUIRE(on_path("node"));
    const fs::path node_dir = fs::path(REDRESS_SOURCE_DIR) / "tests" / "node";
    INFO("tests/node/node_modules is missing: run scripts/install-deps --test");
    REQUIRE(fs::is_directory(node_dir / "node_modules" / "standardwebhooks"));
    log_ = dir_.path() / "deliveries.jsonl";
    const fs::path out = dir_.path() / "stdout", err = dir_.path() / "stderr";
    std::vector<std::string> args = {
        "node", (node_dir / "webhook-receiver.mjs").string(), "--secret", secret, "--log", log_.string(), "--plan",
        plan};
    if (tls) args.insert(args.end(), {"--tls-cert", tls->cert, "--tls-key", tls->key});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string out_path = out.string(), err_path = err.string();
    pid_ = ::fork();
    if (pid_ == 0) {
      int in = ::open("/dev/null", O_RDONLY);
      int o = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int e = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (in < 0 || o < 0 || e < 0) ::_exit(127);
      ::dup2(in, 0);
      ::dup2(o, 1);
      ::dup2(e, 2);
      ::execvp("node", argv.data());
      ::_exit(127);
    }
    REQUIRE(pid_ > 0);
    // Node starts slowly on a loaded machine: wait up to 60 s for the port.
    const std::regex listening(R"(listening ([0-9]+))");
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < deadline) {
      std::smatch m;
      std::string text = read_text(out);
      if (std::regex_search(text, m, listening)) {
        port_ = std::stoi(m[1]);
        return;
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        FAIL("the receiver exited before listening: " << read_text(err));
      }
      std::this_thread::sleep_for(20ms);
    }
    FAIL("the receiver did not print its port within 60 s: " << read_text(err));
  }
  ~Receiver() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 500 && ::waitpid(pid_, &status, WNOHANG) != pid_; ++i) std::this_thread::sleep_for(10ms);
    if (::kill(pid_, 0) == 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
  }
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] std::string url(const std::string& host = "127.0.0.1", const std::string& scheme = "http") const {
    return scheme + "://" + host + ":" + std::to_string(port_) + "/hooks/redress";
  }
  // Every request recorded so far, in arrival order.
  [[nodiscard]] std::vector<json::object> records() const {
    std::vector<json::object> out;
    std::istringstream lines(read_text(log_));
    std::string line;
    while (std::getline(lines, line))
      if (!line.empty()) out.push_back(json::parse(line).as_object());
    return out;
  }

 private:
  TempDir dir_;
  fs::path log_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// A loopback port with nothing listening on it: bound, then closed.
inline int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t length = sizeof address;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  ::close(fd);
  return ntohs(address.sin_port);
}

}  // namespace redress::peers
