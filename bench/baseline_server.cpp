// bench/baseline_server: the ceiling for bench/http.sh. A minimal Beast HTTP/1.1 keep-alive server
// with the same threading model as `redress serve` (one io_context run by N threads, a strand per
// connection, TCP_NODELAY) answering every request with a fixed JSON body. It reads the request
// body (a POST is consumed like ours) and does nothing else: no routing, no logging, no metrics.
//
//   build-bench-http/bench/baseline_server [--port P] [--threads N]
//
// Prints "listening on 127.0.0.1:P" once ready; runs until killed.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

const std::string kBody = R"({"reference":"CMP-2025-000001","status":"received","version":1})";

class Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(tcp::socket socket) : stream_(std::move(socket)) {}
  void run() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
  }

 private:
  void read() {
    request_ = {};
    http::async_read(stream_, buffer_, request_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->close();
      self->respond();
    });
  }
  void respond() {
    response_ = {http::status::ok, request_.version()};
    response_.set(http::field::server, "baseline");
    response_.set(http::field::content_type, "application/json");
    response_.keep_alive(request_.keep_alive());
    response_.body() = kBody;
    response_.prepare_payload();
    http::async_write(stream_, response_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec || !self->response_.keep_alive()) return self->close();
      self->read();
    });
  }
  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
};

void accept(net::io_context& io, tcp::acceptor& acceptor) {
  acceptor.async_accept(net::make_strand(io), [&io, &acceptor](beast::error_code ec, tcp::socket socket) {
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<Session>(std::move(socket))->run();
    }
    accept(io, acceptor);
  });
}

}  // namespace

int main(int argc, char** argv) {
  unsigned short port = 8090;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--port") == 0)
      port = static_cast<unsigned short>(std::atoi(argv[i + 1]));
    else if (std::strcmp(argv[i], "--threads") == 0)
      threads = std::max(1, std::atoi(argv[i + 1]));
  }
  net::io_context io(threads);
  tcp::acceptor acceptor(net::make_strand(io), tcp::endpoint(net::ip::make_address("127.0.0.1"), port),
                         /*reuse_address=*/true);
  accept(io, acceptor);
  std::printf("listening on 127.0.0.1:%u (%d threads)\n", acceptor.local_endpoint().port(), threads);
  std::fflush(stdout);
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : pool) t.join();
}
