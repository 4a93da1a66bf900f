// PostgresServer: a real PostgreSQL 15 for tests, started by the test process itself into a
// temporary folder on a free loopback port (initdb, then pg_ctl), with a fresh database per test,
// stopped and removed when the process ends. Never a system service.
//
// Debian's binaries (/usr/lib/postgresql/15/bin; package postgresql-15, scripts/install-deps
// --test) refuse to run as root: as root the cluster belongs to the `postgres` user and every
// command runs through `runuser -u postgres --`. fsync is off: a test's data need not survive a
// power cut. Trust authentication on 127.0.0.1 only.
//
// Header-only. PostgresServer::shared() starts one server per test process on first use (each
// ctest test is a process of its own); fresh_database() may be called from any thread.
#pragma once

#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <libpq-fe.h>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace redress::testing {

inline const char* kPostgresBin = "/usr/lib/postgresql/15/bin";

inline bool postgres_installed() {
  return std::filesystem::exists(std::string(kPostgresBin) + "/initdb") &&
         std::filesystem::exists(std::string(kPostgresBin) + "/pg_ctl");
}

class PostgresServer {
 public:
  // The one server of this process, started on first use.
  static PostgresServer& shared() {
    static PostgresServer server;
    return server;
  }

  PostgresServer() {
    if (!postgres_installed())
      throw std::runtime_error(std::string("PostgreSQL 15 is not installed (no ") + kPostgresBin +
                               "/initdb): install Debian's postgresql-15 (scripts/install-deps --test)");
    char pattern[] = "/tmp/redress-pg-XXXXXX";
    if (!::mkdtemp(pattern)) throw std::runtime_error("cannot make a temporary folder for PostgreSQL");
    root_ = pattern;
    as_postgres_ = ::geteuid() == 0;
    if (as_postgres_) {
      struct passwd* user = ::getpwnam("postgres");
      if (!user) throw std::runtime_error("running as root, but there is no `postgres` user to run PostgreSQL as");
      if (::chown(root_.c_str(), user->pw_uid, user->pw_gid) != 0)
        throw std::runtime_error("cannot give " + root_.string() + " to the postgres user");
    }
    data_ = root_ / "data";
    run_or_throw(command("initdb") + " -D " + data_.string() +
                     " -U redress --auth=trust --encoding=UTF8 --no-locale --no-sync > " +
                     (root_ / "initdb.log").string() + " 2>&1",
                 "initdb");
    // A free port can be taken by another process between our look and the server's bind: try again.
    for (int attempt = 0;; ++attempt) {
      port_ = free_port();
      std::string options = "-c listen_addresses=127.0.0.1 -p " + std::to_string(port_) + " -k " + root_.string() +
                            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
                            " -c max_connections=200 -c shared_buffers=32MB";
      int started = run(command("pg_ctl") + " -D " + data_.string() + " -l " + (root_ / "server.log").string() +
                        " -w -t 60 -o '" + options + "' start > " + (root_ / "pg_ctl.log").string() + " 2>&1");
      if (started == 0 && wait_ready()) break;
      if (attempt == 2) {
        std::string log = read_log();
        stop();
        throw std::runtime_error("PostgreSQL did not start; its log:\n" + log);
      }
    }
  }
  ~PostgresServer() { stop(); }
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // A new empty database: its connection URL.
  std::string fresh_database() {
    static std::atomic<int> counter{0};
    std::string name = "test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    PGconn* admin = PQconnectdb(url("postgres").c_str());
    std::string failure;
    if (PQstatus(admin) != CONNECTION_OK) {
      failure = PQerrorMessage(admin);
    } else {
      PGresult* made = PQexec(admin, ("CREATE DATABASE " + name).c_str());
      if (PQresultStatus(made) != PGRES_COMMAND_OK) failure = PQresultErrorMessage(made);
      PQclear(made);
    }
    PQfinish(admin);
    if (!failure.empty()) throw std::runtime_error("cannot create a test database: " + failure);
    return url(name);
  }

  [[nodiscard]] std::string url(const std::string& database) const {
    return "postgresql://redress@127.0.0.1:" + std::to_string(port_) + "/" + database;
  }
  [[nodiscard]] int port() const { return port_; }
  // The cluster's data directory (base/<database oid>/ holds a database's table and index files).
  [[nodiscard]] const std::filesystem::path& data_directory() const { return data_; }

  // The files of the whole cluster (every database's tables and indexes, the catalogs, pg_wal...)
  // whose bytes hold `needle`, by their path under the data directory.
  [[nodiscard]] std::vector<std::string> files_holding(const std::string& needle) const {
    std::vector<std::string> found;
    std::error_code ec;  // a file PostgreSQL removes while we look is skipped
    for (auto it = std::filesystem::recursive_directory_iterator(data_, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file(ec)) continue;
      std::ifstream in(it->path(), std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (bytes.find(needle) != std::string::npos)
        found.push_back(std::filesystem::relative(it->path(), data_).string());
    }
    return found;
  }

 private:
  static int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof address;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      if (fd >= 0) ::close(fd);
      throw std::runtime_error("cannot find a free loopback port");
    }
    ::close(fd);
    return ntohs(address.sin_port);
  }

  // `binary` of PostgreSQL's, run as the postgres user when we are root (from /tmp: the postgres
  // user may not enter the current folder).
  std::string command(const std::string& binary) const {
    std::string path = std::string(kPostgresBin) + "/" + binary;
    return "cd /tmp && " + (as_postgres_ ? "runuser -u postgres -- " + path : path);
  }
  static int run(const std::string& shell_command) { return std::system(shell_command.c_str()); }
  void run_or_throw(const std::string& shell_command, const std::string& what) {
    if (run(shell_command) != 0) {
      std::string log = read_log();
      std::error_code ignored;
      std::filesystem::remove_all(root_, ignored);
      throw std::runtime_error(what + " failed: " + shell_command + "\n" + log);
    }
  }
  std::string read_log() const {
    std::string out;
    for (const char* name : {"initdb.log", "pg_ctl.log", "server.log"}) {
      std::FILE* file = std::fopen((root_ / name).c_str(), "r");
      if (!file) continue;
      char buffer[4096];
      std::size_t n;
      out += std::string("--- ") + name + "\n";
      while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) out.append(buffer, n);
      std::fclose(file);
    }
    return out;
  }
  // A connect loop: pg_ctl -w has waited already, but a server may still be replaying.
  bool wait_ready() const {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      if (PQping(url("postgres").c_str()) == PQPING_OK) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  void stop() {
    if (root_.empty()) return;
    if (std::filesystem::exists(data_ / "postmaster.pid"))
      (void)run(command("pg_ctl") + " -D " + data_.string() + " -m immediate -w stop > /dev/null 2>&1");
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
    root_.clear();
  }

  std::filesystem::path root_;
  std::filesystem::path data_;
  bool as_postgres_ = false;
  int port_ = 0;
};

}  // namespace redress::testing
