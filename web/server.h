// Server: the HTTP/1.1 front end on Boost.Beast.
//
// A Listener accepts connections (up to a cap, and a cap per client address; beyond them they are
// closed at once and counted) and
// gives each a Session on its own strand. A Session reads one request at a time — header limit
// (431), body limit (413, checked against Content-Length before the body is read), a read timeout
// that cuts slow clients off (checked by one sweeper for all sessions) — hands it to the Router, and writes the answer
// before reading the next, so pipelined responses leave in request order. Each answered request is logged (one line:
// method, route, status, duration, request id, client address; never the raw path or a header
// value) and counted.
//
// stop() is graceful: the listener closes, idle connections close, connections with a request in
// flight finish it (the engine commits, the response is written) and then close; wait() returns
// when the last one is gone. Thread-safe: start, stop and wait may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "adapters/network/ip_address.h"
#include "engine/result.h"
#include "web/metrics.h"
#include "web/router.h"

namespace redress::web {

struct ServerOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 8080;  // 0: an ephemeral port (see Server::port)
  int threads = 1;
  std::size_t max_body_bytes = 1 << 20;
  // The limit for a multipart/form-data body (files); never below max_body_bytes.
  std::size_t max_upload_bytes = 1 << 20;
  std::size_t max_header_bytes = 16 << 10;
  std::chrono::seconds read_timeout{15};
  int max_connections = 10000;
  // Connections one client address may hold at once; beyond it, closed at accept like those over
  // max_connections. Counted by the TCP peer; a trusted proxy's connections are not counted (the
  // clients behind it are only known from their requests). 0: no per-address cap.
  int max_connections_per_address = 16;
  bool json_logs = false;
  // Peers whose X-Forwarded-For is believed (web/client_address.h); empty: the peer is the client.
  std::vector<network::Cidr> trusted_proxies;
};

class Session;

class Server {
 public:
  // A connection's socket, bound to its strand by type: no type-erased executor on each operation.
  using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp,
                                                  boost::asio::strand<boost::asio::io_context::executor_type>>;
  Server(ServerOptions options, const Router& router, Metrics& metrics);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens, then starts the I/O threads. kUnavailable when the address cannot be bound.
  [[nodiscard]] Status start();
  [[nodiscard]] unsigned short port() const { return port_; }
  // Begins a graceful stop; returns at once.
  void stop();
  // Blocks until stopped and every connection is closed (or `grace` has passed), then joins threads.
  void wait(std::chrono::seconds grace = std::chrono::seconds(30));

  [[nodiscard]] bool draining() const { return draining_.load(std::memory_order_acquire); }
  [[nodiscard]] const ServerOptions& options() const { return options_; }
  [[nodiscard]] const Router& router() const { return router_; }
  [[nodiscard]] Metrics& metrics() { return metrics_; }
  // The I/O threads' context, for work that must not run on the caller's thread.
  [[nodiscard]] boost::asio::io_context& io() { return io_; }

 private:
  friend class Session;
  void do_accept();
  void on_accept(boost::system::error_code ec, Socket socket);
  void do_sweep();
  void on_sweep(boost::system::error_code ec);
  // Takes a place for a new connection (and one of `counted_address`'s, unless empty); false
  // when the server or the address is full.
  bool admit(const std::string& counted_address);
  void session_opened(const std::shared_ptr<Session>& session);
  void session_closed(Session* session, const std::string& counted_address);
  std::string next_request_id();

  const ServerOptions options_;
  const Router& router_;
  Metrics& metrics_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  // Wakes the sweeper, which closes the sessions whose read timeout has passed: a timeout is
  // honoured within a quarter of it (at most a second) after it passes. On its own strand.
  boost::asio::steady_timer sweep_timer_;
  const std::chrono::milliseconds sweep_interval_;
  std::vector<std::thread> threads_;
  // Keeps the I/O threads running while no I/O is pending but requests are still with the engine
  // (after stop() closed the listener); released by wait().
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::atomic<bool> draining_{false};
  std::atomic<std::uint64_t> request_counter_{0};
  std::string request_prefix_;  // random per process, so request ids are unique across restarts

  std::mutex sessions_mutex_;
  std::condition_variable sessions_empty_;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;  // guarded by sessions_mutex_
  std::unordered_map<std::string, int> connections_by_address_;    // guarded by sessions_mutex_
};

}  // namespace redress::web
