// Postfix's smtp-sink as the benches' SMTP peer: a free loopback port, and the sink started on it
// (it accepts every mail and keeps nothing). Single-threaded helpers for bench programs.
#pragma once

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

namespace redress::bench {

inline int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t size = sizeof address;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    std::perror("free_port");
    std::exit(1);
  }
  int port = ntohs(address.sin_port);
  ::close(fd);
  return port;
}

inline bool port_open(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}

// smtp-sink on 127.0.0.1:port, waited for until it accepts; exits the bench (status 2) naming
// `who` when it does not start. As root the sink must drop privileges (-u).
inline pid_t start_sink(const std::string& sink, int port, const char* who) {
  std::string listen = "127.0.0.1:" + std::to_string(port);
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::geteuid() == 0)
      ::execl(sink.c_str(), sink.c_str(), "-u", "nobody", listen.c_str(), "256", static_cast<char*>(nullptr));
    else
      ::execl(sink.c_str(), sink.c_str(), listen.c_str(), "256", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  for (int i = 0; i < 500 && !port_open(port); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (!port_open(port)) {
    std::fprintf(stderr, "%s: %s did not open port %d (install it: apt-get install postfix)\n", who, sink.c_str(),
                 port);
    ::kill(pid, SIGKILL);
    std::exit(2);
  }
  return pid;
}

}  // namespace redress::bench
