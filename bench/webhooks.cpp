// bench/webhooks: web hook deliveries per second through HttpWebhookSender, against plain unsigned
// libcurl POSTs of the same body on the same kind of kept-alive connections, in the same run.
//
//   build/bench/webhooks [--deliveries N] [--threads T] [--runs K] [--body-bytes B]
//
// A minimal receiver runs inside the process: a Boost.Beast HTTP/1.1 server on 127.0.0.1 with a
// thread per connection, reading each request whole and answering 204 with keep-alive; it does
// not verify signatures (the receiver's cost is not ours). Each run:
//   Sender: T threads, each with its own HttpWebhookSender (the guard configured to allow
//     loopback), deliver N/T web hooks each — the URL parsed and its address (an IP literal, so no
//     DNS) judged by the guard, a fresh signature, the Standard Webhooks headers — over one reused
//     connection.
//   Baseline: T threads, each with one plain CURL easy handle, POST the same body with only a
//     content-type header, N/T each, over one reused connection.
// Prints each run, then the medians of K runs and the ratio sender/baseline.
#include <curl/curl.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "adapters/webhooks/http_sender.h"

using namespace redress;
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

namespace {

struct Options {
  int deliveries = 20000;
  int threads = 4;
  int runs = 5;
  int body_bytes = 400;
};

// One connection: read requests until the client closes, answer each with 204.
void serve_connection(tcp::socket socket) {
  beast::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  beast::flat_buffer buffer;
  for (;;) {
    http::request<http::string_body> request;
    http::read(socket, buffer, request, ec);
    if (ec) break;
    http::response<http::empty_body> response{http::status::no_content, request.version()};
    response.keep_alive(request.keep_alive());
    http::write(socket, response, ec);
    if (ec || !request.keep_alive()) break;
  }
  socket.shutdown(tcp::socket::shutdown_both, ec);
}

// Accepts forever on its own thread; the process ends with the bench.
int start_receiver(net::io_context& io) {
  static tcp::acceptor acceptor(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  std::thread([] {
    for (;;) {
      beast::error_code ec;
      tcp::socket socket(acceptor.get_executor());
      acceptor.accept(socket, ec);
      if (ec) continue;
      std::thread(serve_connection, std::move(socket)).detach();
    }
  }).detach();
  return acceptor.local_endpoint().port();
}

std::string event_body(int bytes) {
  std::string body =
      R"({"type":"case.owner_changed","timestamp":"2026-03-02T09:00:00Z","data":{"reference":"CMP-2026-000042",)"
      R"("owner":{"id":"st_01HZX3","name":"Sam Okafor"},"previous_owner":null,"note":")";
  const std::size_t target = static_cast<std::size_t>(std::max(bytes, 0));
  if (body.size() + 3 < target) body += std::string(target - body.size() - 3, 'x');
  return body + "\"}}";
}

// Runs `work(thread index)` on T threads; the wall time in seconds.
template <typename Work>
double timed(int threads, Work work) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      ready.fetch_add(1);
      while (!go.load()) std::this_thread::yield();
      work(t);
    });
  while (ready.load() < threads) std::this_thread::yield();
  auto started = SteadyClock::now();
  go.store(true);
  for (auto& thread : pool) thread.join();
  return std::chrono::duration<double>(SteadyClock::now() - started).count();
}

size_t discard(char*, size_t size, size_t count, void*) { return size * count; }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n == 0 ? 0.0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const int value = std::max(1, std::atoi(argv[i + 1]));
    if (std::strcmp(argv[i], "--deliveries") == 0)
      o.deliveries = value;
    else if (std::strcmp(argv[i], "--threads") == 0)
      o.threads = value;
    else if (std::strcmp(argv[i], "--runs") == 0)
      o.runs = value;
    else if (std::strcmp(argv[i], "--body-bytes") == 0)
      o.body_bytes = value;
    else {
      std::fprintf(stderr, "usage: webhooks [--deliveries N] [--threads T] [--runs K] [--body-bytes B]\n");
      return 2;
    }
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  net::io_context io;
  const int port = start_receiver(io);
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/hooks/redress";
  const std::string body = event_body(o.body_bytes);
  const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const int per_thread = std::max(1, o.deliveries / o.threads);
  const int total = per_thread * o.threads;
  std::printf("web hooks: %d deliveries per run on %d threads, body %zu bytes, receiver on 127.0.0.1:%d, %d runs\n",
              total, o.threads, body.size(), port, o.runs);

  std::vector<double> sender_rates, baseline_rates, ratios;
  for (int run = 1; run <= o.runs; ++run) {
    std::atomic<int> failures{0};
    const double sender_seconds = timed(o.threads, [&](int t) {
      webhooks::HttpWebhookOptions options;
      options.private_networks = webhooks::PrivateNetworks::kAllow;
      webhooks::HttpWebhookSender sender(options);
      for (int i = 0; i < per_thread; ++i) {
        OutgoingWebhook hook{url, secret, "msg_n-" + std::to_string(t) + "-" + std::to_string(i), body};
        if (sender.deliver(hook).outcome != DeliveryOutcome::kDelivered) failures.fetch_add(1);
      }
    });
    const double baseline_seconds = timed(o.threads, [&](int) {
      CURL* curl = curl_easy_init();
      curl_slist* headers = curl_slist_append(nullptr, "content-type: application/json");
      curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
      curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
      curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
      curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &discard);
      for (int i = 0; i < per_thread; ++i) {
        long status = 0;
        if (curl_easy_perform(curl) != CURLE_OK ||
            curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status != 204)
          failures.fetch_add(1);
      }
      curl_slist_free_all(headers);
      curl_easy_cleanup(curl);
    });
    const double sender_rate = total / sender_seconds, baseline_rate = total / baseline_seconds;
    sender_rates.push_back(sender_rate);
    baseline_rates.push_back(baseline_rate);
    ratios.push_back(sender_rate / baseline_rate);
    std::printf("run %d: sender %.0f deliveries/s, baseline %.0f POSTs/s, ratio %.2f%s\n", run, sender_rate,
                baseline_rate, sender_rate / baseline_rate,
                failures.load() ? (" (" + std::to_string(failures.load()) + " FAILED)").c_str() : "");
    std::fflush(stdout);
    if (failures.load() != 0) return 1;
  }
  std::printf("median of %d runs: sender %.0f deliveries/s, baseline %.0f POSTs/s, ratio %.2f\n", o.runs,
              median(sender_rates), median(baseline_rates), median(ratios));
  return 0;
}
