#include "web/server.h"

#include <sodium.h>
#include <spdlog/spdlog.h>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <pthread.h>
#include <algorithm>
#include <cctype>
#include <optional>
#include <string_view>
#include <vector>

#include "web/client_address.h"

namespace redress::web {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

namespace {

network::IpAddress peer_of(const Server::Socket& socket) {
  beast::error_code ec;
  auto peer = socket.remote_endpoint(ec);
  if (ec) return {};
  return network::ip_of(peer.data()).value_or(network::IpAddress{});
}

Response bad_framing(std::string_view detail) {
  return problem(http::status::bad_request, "bad-request", "The request is not valid HTTP/1.1", detail);
}

// What is wrong with a request's header as bytes (the request line and fields up to and including
// the blank line), before Beast parses it: Beast unfolds obs-fold lines silently, and a header that
// one server unfolds and another splits is a smuggling vector (RFC 9112 §5.2 lets a server refuse
// them). A bare CR or LF is refused too (§2.2). Nullopt when the bytes are clean.
std::optional<std::string> raw_header_fault(std::string_view header) {
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i] == '\n' && (i == 0 || header[i - 1] != '\r')) return "a line ends in a bare LF";
    if (header[i] != '\r') continue;
    if (i + 1 >= header.size() || header[i + 1] != '\n') return "a bare CR in the header";
    if (i + 2 < header.size() && (header[i + 2] == ' ' || header[i + 2] == '\t'))
      return "a header line starts with white space (obs-fold or white space after the request line)";
  }
  return std::nullopt;
}

bool is_host_character(unsigned char c) {
  return std::isalnum(c) ||
         std::string_view("-._~%!$&'()*+,;=:[]").find(static_cast<char>(c)) != std::string_view::npos;
}

// The framing rules of RFC 9112 that Beast leaves to the server (§3.2 Host, §6.1 Transfer-Encoding,
// §6.3 message body length): a request that breaks one is answered 400 (501 for a transfer coding
// other than chunked) and its connection closed, so that its body is never read as a next request.
std::optional<Response> framing_fault(const http::request_parser<http::string_body>::value_type& header) {
  std::size_t hosts = 0, lengths = 0;
  std::vector<std::string> codings;
  bool has_coding_field = false;
  for (const auto& field : header) {
    std::string_view value(field.value().data(), field.value().size());
    if (field.name() == http::field::host) {
      ++hosts;
      for (char c : value)
        if (!is_host_character(static_cast<unsigned char>(c))) return bad_framing("the Host header is not a host");
    } else if (field.name() == http::field::content_length) {
      ++lengths;
      if (value.find(',') != std::string_view::npos) return bad_framing("Content-Length must be one number");
    } else if (field.name() == http::field::transfer_encoding) {
      has_coding_field = true;
      while (!value.empty()) {
        auto comma = value.find(',');
        std::string_view part = value.substr(0, comma);
        value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
        while (!part.empty() && (part.front() == ' ' || part.front() == '\t')) part.remove_prefix(1);
        while (!part.empty() && (part.back() == ' ' || part.back() == '\t')) part.remove_suffix(1);
        if (!part.empty()) codings.emplace_back(part);
      }
    }
  }
  if (header.version() >= 11 && hosts == 0) return bad_framing("an HTTP/1.1 request must have a Host header");
  if (hosts > 1) return bad_framing("a request must have one Host header, not several");
  if (lengths > 1) return bad_framing("a request must have at most one Content-Length header");
  if (!has_coding_field) return std::nullopt;
  if (header.version() < 11) return bad_framing("Transfer-Encoding is not allowed in an HTTP/1.0 request");
  if (lengths > 0) return bad_framing("a request must not have both Transfer-Encoding and Content-Length");
  if (codings.empty() || !beast::iequals(codings.back(), "chunked"))
    return bad_framing("the final transfer coding of a request must be chunked");
  for (std::size_t i = 0; i + 1 < codings.size(); ++i) {
    if (beast::iequals(codings[i], "chunked")) return bad_framing("chunked must be applied only once");
    return problem(http::status::not_implemented, "not-implemented", "Transfer coding not implemented",
                   "the only transfer coding accepted is chunked");
  }
  return std::nullopt;
}

}  // namespace

// One connection: read a request, dispatch it, write the answer, repeat. All members are touched
// only on the session's strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  // `counted_address`: the address this connection counts against in the per-address cap (empty:
  // none, when the peer is a trusted proxy or no cap is set).
  Session(Server::Socket socket, Server& server, network::IpAddress peer, std::string counted_address)
      : peer_(peer),
        peer_text_(peer_.to_string()),
        counted_address_(std::move(counted_address)),
        socket_(std::move(socket)),
        server_(server) {}
  ~Session() { server_.session_closed(this, counted_address_); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void run() {
    net::dispatch(socket_.get_executor(), [self = shared_from_this()] { self->do_read(); });
  }

  // At shutdown: an idle connection closes now; a busy one closes after its response.
  void drain() {
    net::post(socket_.get_executor(), [self = shared_from_this()] {
      if (self->busy_) return;
      beast::error_code ec;
      self->socket_.cancel(ec);
    });
  }

  // Whether the read timeout has passed for what the session waits on (a request, or the client
  // taking a response). Any thread: the server's sweeper asks.
  [[nodiscard]] bool late(std::chrono::steady_clock::time_point now) const {
    auto deadline = deadline_.load(std::memory_order_acquire);
    return deadline != kNoDeadline && now.time_since_epoch().count() >= deadline;
  }

  // Closes the connection if it is still late once on the strand (a request may have completed
  // meanwhile); the pending read or write then ends with operation_aborted.
  void expire() {
    net::post(socket_.get_executor(), [self = shared_from_this()] {
      if (!self->late(std::chrono::steady_clock::now())) return;
      self->deadline_.store(kNoDeadline, std::memory_order_release);
      self->server_.metrics().connection_timed_out();
      spdlog::debug("connection timed out");
      beast::error_code ec;
      self->socket_.close(ec);
    });
  }

 private:
  void do_read() {
    if (server_.draining()) return do_close();
    busy_ = false;
    client_ = peer_text_;  // until a request is read whole, the log names the peer
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_.options().max_header_bytes));
    parser_->body_limit(server_.options().max_body_bytes);
    body_limit_ = server_.options().max_body_bytes;
    arm_deadline();  // for the whole request, however slowly its bytes arrive
    read_header();
  }

  // Reads until the buffer holds a whole header (or more than the header limit), looks at its
  // bytes (raw_header_fault), then lets Beast parse it; the body is read by Beast (read_body).
  void read_header() {
    std::string_view bytes(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    auto end = bytes.find("\r\n\r\n");
    std::size_t limit = server_.options().max_header_bytes;
    if (end == std::string_view::npos) {
      if (auto fault = raw_header_fault(bytes.substr(0, bytes.size() - (bytes.ends_with('\r') ? 1 : 0))))
        return reject_unparsed(*fault);
      if (bytes.size() > limit) return on_read_error(http::error::header_limit);
      socket_.async_read_some(buffer_.prepare(std::max<std::size_t>(4096, std::min<std::size_t>(limit, 65536))),
                              beast::bind_front_handler(&Session::on_read_some, shared_from_this()));
      return;
    }
    if (end + 4 > limit) return on_read_error(http::error::header_limit);
    if (auto fault = raw_header_fault(bytes.substr(0, end + 4))) return reject_unparsed(*fault);
    beast::error_code ec;
    std::size_t used = parser_->put(buffer_.data(), ec);
    buffer_.consume(used);
    if (!ec && !parser_->is_header_done()) ec = http::error::bad_value;
    on_read_header(ec);
  }

  // Files and whole emails may be larger than other bodies (ServerOptions::max_upload_bytes).
  std::size_t body_limit_for(const http::request_parser<http::string_body>::value_type& header) const {
    std::string_view type(header[http::field::content_type].data(), header[http::field::content_type].size());
    auto starts = [&](std::string_view prefix) {
      return type.size() >= prefix.size() && beast::iequals(type.substr(0, prefix.size()), prefix);
    };
    const auto& options = server_.options();
    if (starts("multipart/form-data") || starts("message/rfc822"))
      return std::max(options.max_body_bytes, options.max_upload_bytes);
    return options.max_body_bytes;
  }

  void on_read_some(beast::error_code ec, std::size_t read) {
    buffer_.commit(read);
    if (ec == net::error::eof) ec = buffer_.size() == 0 ? http::error::end_of_stream : http::error::partial_message;
    if (ec) return on_read_error(ec);
    read_header();
  }

  // A header refused before Beast parsed it: nothing of it is known but its bytes.
  void reject_unparsed(const std::string& fault) {
    method_ = "UNKNOWN";
    started_ = std::chrono::steady_clock::now();
    reject(bad_framing(fault));
  }

  void on_read_header(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    auto& header = parser_->get();
    started_ = std::chrono::steady_clock::now();
    method_ = std::string(header.method_string());
    if (header.method_string().size() > 16) method_ = "OTHER";
    head_ = header.method() == http::verb::head;
    if (auto fault = framing_fault(header)) return reject(std::move(*fault));
    const std::size_t body_limit = body_limit_for(header);
    parser_->body_limit(body_limit);
    if (auto length = parser_->content_length(); length && *length > body_limit)
      return reject(problem(http::status::payload_too_large, "payload-too-large", "The body is too large",
                            "bodies are limited to " + std::to_string(body_limit) + " bytes"));
    if (beast::iequals(header[http::field::expect], "100-continue")) {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, header.version());
      return http::async_write(socket_, *cont, [self = shared_from_this(), cont](beast::error_code ec, std::size_t) {
        if (ec) return self->do_close();
        self->read_body();
      });
    }
    // A request without a body (most GETs) is complete with its header: no second read.
    if (parser_->is_done()) return on_read_body({}, 0);
    read_body();
  }

  void read_body() {
    http::async_read(socket_, buffer_, *parser_, beast::bind_front_handler(&Session::on_read_body, shared_from_this()));
  }

  void on_read_body(beast::error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    busy_ = true;
    deadline_.store(kNoDeadline, std::memory_order_release);  // the handler's time is not the client's
    Request request = parser_->release();
    keep_alive_ = request.keep_alive();
    request_id_ = server_.next_request_id();
    if (auto given = request["X-Request-Id"]; !given.empty() && given.size() <= 64) {
      bool clean = true;
      for (char c : given)
        clean = clean && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.');
      if (clean) request_id_ = std::string(given);
    }
    if (!server_.options().trusted_proxies.empty()) {
      std::string forwarded;
      for (auto [it, end] = request.equal_range("X-Forwarded-For"); it != end; ++it)
        forwarded += (forwarded.empty() ? "" : ",") + std::string(it->value());
      client_ = client_address(peer_, forwarded, server_.options().trusted_proxies);
    }
    auto self = shared_from_this();
    server_.router().dispatch(
        std::move(request), request_id_, client_,
        // Inline when the handler answered on the session's strand; posted to it otherwise.
        [self](Response response) {
          net::dispatch(self->socket_.get_executor(),
                        [self, response = std::move(response)]() mutable { self->send(std::move(response)); });
        },
        route_);
  }

  void on_read_error(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == net::error::operation_aborted || ec == net::error::eof ||
        ec == net::error::connection_reset)
      return do_close();
    if (method_.empty()) method_ = "UNKNOWN";
    if (started_ == std::chrono::steady_clock::time_point{}) started_ = std::chrono::steady_clock::now();
    if (ec == http::error::header_limit)
      return reject(problem(http::status::request_header_fields_too_large, "header-too-large",
                            "The request header is too large",
                            "headers are limited to " + std::to_string(server_.options().max_header_bytes) + " bytes"));
    if (ec == http::error::body_limit)
      return reject(problem(http::status::payload_too_large, "payload-too-large", "The body is too large",
                            "bodies are limited to " + std::to_string(body_limit_) + " bytes"));
    reject(problem(http::status::bad_request, "bad-request", "The request is not valid HTTP/1.1", ec.message()));
  }

  // Answers a request that could not be read whole, then closes: the stream is out of step.
  void reject(Response response) {
    busy_ = true;
    keep_alive_ = false;
    route_ = "unreadable";
    request_id_ = server_.next_request_id();
    send(std::move(response));
  }

  void send(Response response) {
    bool keep = keep_alive_ && !server_.draining();
    response.set(http::field::server, "redress");
    response.set("X-Content-Type-Options", "nosniff");
    response.set("X-Request-Id", request_id_);
    if (response.find(http::field::cache_control) == response.end())
      response.set(http::field::cache_control, "no-store");
    response.keep_alive(keep);
    response.prepare_payload();
    if (head_) {
      // The same header as for GET, Content-Length included, and no body (RFC 9110 §9.3.2).
      std::string length = std::to_string(response.body().size());
      response.body().clear();
      response.set(http::field::content_length, length);
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    int status = static_cast<int>(response.result_int());
    server_.metrics().observe(method_, route_, status, seconds);
    if (server_.options().json_logs) {
      boost::json::object line{{"method", method_},         {"route", route_},
                               {"status", status},          {"duration_ms", seconds * 1000.0},
                               {"request_id", request_id_}, {"client", client_}};
      spdlog::info("{}", boost::json::serialize(line));
    } else {
      spdlog::info("{} {} {} {:.3f}ms id={} client={}", method_, route_, status, seconds * 1000.0, request_id_,
                   client_);
    }
    response_ = std::make_shared<Response>(std::move(response));
    arm_deadline();  // a client that will not take its response is cut off too
    http::async_write(socket_, *response_, [self = shared_from_this(), keep](beast::error_code ec, std::size_t) {
      self->response_.reset();
      if (ec || !keep) return self->do_close();
      self->method_.clear();
      self->head_ = false;
      self->do_read();
    });
  }

  void arm_deadline() {
    deadline_.store((std::chrono::steady_clock::now() + server_.options().read_timeout).time_since_epoch().count(),
                    std::memory_order_release);
  }

  void do_close() {
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    socket_.close(ec);
  }

  network::IpAddress peer_;  // the TCP peer (declared before socket_: read from it first)
  std::string peer_text_;    // and as text: the client address when no proxy is trusted
  const std::string counted_address_;
  // The socket itself, not a beast::tcp_stream: timeouts are the sweeper's (deadline_), so the
  // stream's timer and its type-erased executor would only cost time on every read and write.
  Server::Socket socket_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;  // fresh for each request
  Server& server_;
  bool busy_ = false;           // a request is being handled or answered
  bool keep_alive_ = true;      // the current request asked to keep the connection
  bool head_ = false;           // the current request is a HEAD: its answer has no body
  std::size_t body_limit_ = 0;  // of the current request: max_body_bytes, or max_upload_bytes for files
  std::string method_;          // of the current request, for logs and metrics
  std::string route_;           // the matched route pattern, set by the router
  std::string request_id_;
  std::string client_;  // the current request's client address (web/client_address.h), for the log
  std::chrono::steady_clock::time_point started_{};
  std::shared_ptr<Response> response_;  // kept alive while being written
  // When the read timeout passes for the current read or write, in steady_clock ticks; kNoDeadline
  // while the handler runs. Written on the strand, read by the sweeper: one atomic, no timer per
  // request (a Beast stream timeout costs a timer queue insert and a cancelled wait each time).
  static constexpr std::chrono::steady_clock::rep kNoDeadline = 0;
  std::atomic<std::chrono::steady_clock::rep> deadline_{kNoDeadline};
};

Server::Server(ServerOptions options, const Router& router, Metrics& metrics)
    : options_(std::move(options)),
      router_(router),
      metrics_(metrics),
      io_(std::max(1, options_.threads)),
      acceptor_(net::make_strand(io_)),
      sweep_timer_(net::make_strand(io_)),
      sweep_interval_(std::clamp<std::chrono::milliseconds>(
          std::chrono::duration_cast<std::chrono::milliseconds>(options_.read_timeout) / 4,
          std::chrono::milliseconds(50), std::chrono::milliseconds(1000))) {
  unsigned char random[4];
  randombytes_buf(random, sizeof random);
  char prefix[16];
  std::snprintf(prefix, sizeof prefix, "%02x%02x%02x%02x", random[0], random[1], random[2], random[3]);
  request_prefix_ = prefix;
}

Server::~Server() {
  stop();
  wait(std::chrono::seconds(5));
}

Status Server::start() {
  beast::error_code ec;
  auto address = net::ip::make_address(options_.host == "localhost" ? "127.0.0.1" : options_.host, ec);
  if (ec) return Error::invalid("cannot listen on \"" + options_.host + "\": not an IP address");
  tcp::endpoint endpoint(address, options_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return Error::unavailable("cannot listen on " + options_.host + ":" + std::to_string(options_.port) + ": " +
                              ec.message());
  port_ = acceptor_.local_endpoint().port();
  do_accept();
  do_sweep();
  work_.emplace(io_.get_executor());
  for (int i = 0; i < std::max(1, options_.threads); ++i) {
    threads_.emplace_back([this] { io_.run(); });
    pthread_setname_np(threads_.back().native_handle(), "redress-http");
  }
  return Status::success();
}

void Server::do_accept() {
  acceptor_.async_accept(net::make_strand(io_), beast::bind_front_handler(&Server::on_accept, this));
}

void Server::on_accept(boost::system::error_code ec, Socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
  if (!ec) {
    network::IpAddress peer = peer_of(socket);
    // A trusted proxy carries many clients, whose addresses are only known from their requests:
    // its connections count against max_connections alone.
    bool proxy = false;
    for (const auto& range : options_.trusted_proxies) proxy = proxy || range.contains(peer);
    std::string counted = options_.max_connections_per_address > 0 && !proxy ? peer.to_string() : std::string();
    if (draining() || !admit(counted)) {
      metrics_.connection_refused();
      beast::error_code ignored;
      socket.close(ignored);
    } else {
      socket.set_option(tcp::no_delay(true), ec);
      auto session = std::make_shared<Session>(std::move(socket), *this, peer, std::move(counted));
      session_opened(session);
      session->run();
    }
  }
  do_accept();
}

void Server::do_sweep() {
  sweep_timer_.expires_after(sweep_interval_);
  sweep_timer_.async_wait(beast::bind_front_handler(&Server::on_sweep, this));
}

void Server::on_sweep(boost::system::error_code ec) {
  if (ec) return;  // cancelled: the server is stopping
  auto now = std::chrono::steady_clock::now();
  std::vector<std::shared_ptr<Session>> late;
  {
    std::lock_guard lock(sessions_mutex_);
    for (auto& [raw, weak] : sessions_)
      if (auto s = weak.lock(); s && s->late(now)) late.push_back(std::move(s));
  }
  for (auto& s : late) s->expire();
  do_sweep();
}

bool Server::admit(const std::string& counted_address) {
  std::lock_guard lock(sessions_mutex_);
  if (static_cast<int>(sessions_.size()) >= options_.max_connections) return false;
  if (!counted_address.empty()) {
    int& held = connections_by_address_[counted_address];
    if (held >= options_.max_connections_per_address) return false;
    ++held;
  }
  return true;
}

void Server::session_opened(const std::shared_ptr<Session>& session) {
  std::lock_guard lock(sessions_mutex_);
  sessions_[session.get()] = session;
  metrics_.connection_opened();
}

void Server::session_closed(Session* session, const std::string& counted_address) {
  std::lock_guard lock(sessions_mutex_);
  sessions_.erase(session);
  if (!counted_address.empty())
    if (auto it = connections_by_address_.find(counted_address);
        it != connections_by_address_.end() && --it->second <= 0)
      connections_by_address_.erase(it);
  metrics_.connection_closed();
  if (sessions_.empty()) sessions_empty_.notify_all();
}

std::string Server::next_request_id() {
  return request_prefix_ + "-" + std::to_string(request_counter_.fetch_add(1, std::memory_order_relaxed) + 1);
}

void Server::stop() {
  if (draining_.exchange(true)) return;
  net::post(acceptor_.get_executor(), [this] {
    beast::error_code ec;
    acceptor_.close(ec);
  });
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard lock(sessions_mutex_);
    for (auto& [raw, weak] : sessions_)
      if (auto s = weak.lock()) live.push_back(std::move(s));
  }
  for (auto& s : live) s->drain();
}

void Server::wait(std::chrono::seconds grace) {
  if (threads_.empty()) return;
  {
    std::unique_lock lock(sessions_mutex_);
    // Wait for the stop, then for the sessions to finish.
    while (!draining()) {
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      lock.lock();
    }
    sessions_empty_.wait_for(lock, grace, [this] { return sessions_.empty(); });
  }
  net::post(sweep_timer_.get_executor(), [this] { sweep_timer_.cancel(); });
  work_.reset();
  io_.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

}  // namespace redress::web
