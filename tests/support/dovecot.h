// Dovecot: a real IMAP server for tests, started by the test on a loopback port in a temporary
// folder (configuration, one passwd-file user, a maildir), stopped and removed at the end.
// Needs /usr/sbin/dovecot (Debian's dovecot-imapd; scripts/install-deps). Runs unprivileged, or as
// root with the mail owned by "nobody" and Dovecot's own users for its processes.
// Header-only. One thread owns a Dovecot; deliver() may be called while clients are connected.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>

#include "tests/support/files.h"

extern char** environ;

namespace redress::testing {

inline bool dovecot_installed() { return std::filesystem::exists("/usr/sbin/dovecot"); }

class Dovecot {
 public:
  Dovecot(std::string user = "jo", std::string password = "secret")
      : user_(std::move(user)), password_(std::move(password)) {
    namespace fs = std::filesystem;
    const fs::path& root = dir_.path();
    fs::permissions(root, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec);
    for (const char* sub : {"run", "state", "home"}) fs::create_directories(root / sub);
    for (const char* sub : {"new", "cur", "tmp"}) fs::create_directories(maildir() / sub);
    write_text(root / "passwd", user_ + ":{PLAIN}" + password_ + "::::::\n");
    if (::geteuid() == 0) {
      mail_uid_ = 65534;  // nobody: Dovecot refuses to give mail to root
      chown_all(root / "home");
    } else {
      mail_uid_ = ::geteuid();
      mail_gid_ = ::getegid();
    }
    port_ = free_port();
    std::string internal = ::geteuid() == 0 ? "default_internal_user = dovecot\ndefault_login_user = dovenull\n"
                                            : "default_internal_user = " + current_user() +
                                                  "\ndefault_login_user = " + current_user() + "\n";
    write_text(root / "dovecot.conf",
               "base_dir = " + (root / "run").string() + "\nstate_dir = " + (root / "state").string() +
                   "\nlog_path = " + (root / "dovecot.log").string() + "\nprotocols = imap\nlisten = 127.0.0.1\n"
                   "ssl = no\ndisable_plaintext_auth = no\nauth_mechanisms = plain login\n" + internal +
                   "first_valid_uid = 1\npassdb {\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u " +
                   (root / "passwd").string() + "\n}\nuserdb {\n  driver = static\n  args = uid=" +
                   std::to_string(mail_uid_) + " gid=" + std::to_string(mail_gid_) + " home=" +
                   (root / "home").string() + "/%u\n}\nmail_location = maildir:~/Maildir\n"
                   "service imap-login {\n  inet_listener imap {\n    address = 127.0.0.1\n    port = " +
                   std::to_string(port_) + "\n  }\n  inet_listener imaps {\n    port = 0\n  }\n}\n"
                   "service stats {\n  unix_listener stats-reader {\n    mode = 0666\n  }\n"
                   "  unix_listener stats-writer {\n    mode = 0666\n  }\n}\n");
    std::string config = (root / "dovecot.conf").string();
    std::string log = (root / "stdout.log").string();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    const char* argv[] = {"/usr/sbin/dovecot", "-F", "-c", config.c_str(), nullptr};
    int spawned = posix_spawn(&pid_, argv[0], &actions, nullptr, const_cast<char* const*>(argv), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) throw std::runtime_error("cannot start /usr/sbin/dovecot");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!accepting()) {
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("dovecot did not listen: " + read_text(root / "stdout.log") +
                                 read_text(root / "dovecot.log"));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~Dovecot() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  Dovecot(const Dovecot&) = delete;
  Dovecot& operator=(const Dovecot&) = delete;

  [[nodiscard]] std::string url() const { return "imap://127.0.0.1:" + std::to_string(port_) + "/INBOX"; }
  [[nodiscard]] const std::string& user() const { return user_; }
  [[nodiscard]] const std::string& password() const { return password_; }
  [[nodiscard]] std::filesystem::path maildir() const { return dir_.path() / "home" / user_ / "Maildir"; }

  // Delivers a message as an MTA does: written into tmp/, then renamed into new/.
  void deliver(const std::string& raw) {
    static std::atomic<int> counter{0};
    std::string name = std::to_string(std::time(nullptr)) + ".M" + std::to_string(counter++) + "P" +
                       std::to_string(::getpid()) + ".redress-test";
    auto temporary = maildir() / "tmp" / name;
    write_text(temporary, raw);
    chown_all(temporary);
    std::filesystem::rename(temporary, maildir() / "new" / name);
  }

 private:
  static std::string current_user() {
    const char* name = std::getenv("USER");
    return name == nullptr ? "nobody" : name;
  }

  void chown_all(const std::filesystem::path& path) const {
    if (::geteuid() != 0) return;
    (void)::chown(path.c_str(), mail_uid_, mail_gid_);
    if (std::filesystem::is_directory(path))
      for (const auto& entry : std::filesystem::recursive_directory_iterator(path))
        (void)::chown(entry.path().c_str(), mail_uid_, mail_gid_);
  }

  static int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    int port = ntohs(address.sin_port);
    ::close(fd);
    return port;
  }

  bool accepting() const {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(port_));
    bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    return connected;
  }

  TempDir dir_;
  std::string user_;
  std::string password_;
  uid_t mail_uid_ = 65534;
  gid_t mail_gid_ = 65534;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace redress::testing
