// `redress serve`: the composition of the HTTP server, the API and the engine on the store.
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <unistd.h>

#include "adapters/security/keyring.h"
#include "adapters/security/secrets.h"
#include "app/cli.h"
#include "app/environment.h"
#include "engine/scheduler.h"
#include "web/api.h"
#include "web/server.h"
#include "web/token_cache.h"

namespace redress {

namespace {

void configure_logging(const Config& config) {
  auto logger = spdlog::stdout_logger_mt("redress");
  if (config.log_format == "json")
    logger->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","message":%v})", spdlog::pattern_time_type::utc);
  else
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::level::from_str(config.log_level));
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  spdlog::flush_every(std::chrono::seconds(1));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

int command_serve(const Arguments& args) {
  const Config& config = args.config;
  auto colon = config.listen.rfind(':');
  std::string host = config.listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = -1;
  try {
    port = std::stoi(config.listen.substr(colon + 1));
  } catch (const std::exception&) {
  }
  if (port < 0 || port > 65535) {
    std::cerr << "redress: --listen needs a port from 0 to 65535, not \"" << config.listen.substr(colon + 1) << "\"\n";
    return kExitUsage;
  }
  configure_logging(config);

  auto opened = open_environment(config, OpenOptions{});
  if (!opened) {
    std::cerr << "redress: " << opened.error().detail << "\n";
    return kExitFailure;
  }
  Environment& env = **opened;
  auto keyring = Keyring::load_or_create(config.data_dir);
  if (!keyring) {
    std::cerr << "redress: " << keyring.error().detail << "\n";
    return kExitFailure;
  }
  std::string openapi = read_file(std::string(REDRESS_SOURCE_WEB) + "/openapi.json");
  if (openapi.empty()) {
    spdlog::warn("web/openapi.json was not found; /v1/openapi.json serves an empty document");
    openapi = "{}";
  }

  web::Metrics metrics;
  auto& store = *env.store;
  // Bearer tokens are remembered for 5 s: a revoked token or a deactivated staff member is refused
  // within 5 s (web/token_cache.h), and a request need not read the database to authenticate.
  web::TokenCache tokens([&store](const std::string& hash) { return store.staff_for_token(hash); },
                         std::chrono::seconds(5));
  web::Router router([&tokens](const std::string& token) { return tokens.authenticate(token); });
  web::ServerOptions options;
  options.host = host;
  options.port = static_cast<unsigned short>(port);
  options.threads = config.threads > 0 ? config.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  options.max_body_bytes = config.max_body_bytes;
  options.max_header_bytes = config.max_header_bytes;
  options.read_timeout = std::chrono::seconds(config.read_timeout_seconds);
  options.max_connections = config.max_connections;
  options.json_logs = config.log_format == "json";
  web::Server server(options, router, metrics);

  web::ApiContext api{*env.engine, store, *keyring, config, metrics, nullptr, {}, {}, {}, {}};
  api.manual_clock = env.clock->is_manual() ? static_cast<ManualClock*>(env.clock.get()) : nullptr;
  api.openapi_document = std::move(openapi);
  api.defer = [&server](std::function<void()> work) { boost::asio::post(server.io(), std::move(work)); };
  web::register_api(router, api);

  // The scheduler fires breaches, warnings and automatic closure at their time; a commit that sets
  // an earlier wake time wakes it. Under the manual clock, /v1/admin/clock runs it before answering.
  char hostname[256] = {};
  (void)gethostname(hostname, sizeof hostname - 1);
  Scheduler::Options scheduler_options;
  scheduler_options.holder = std::string(hostname) + ":" + std::to_string(getpid()) + ":" + new_token("").substr(0, 8);
  Scheduler scheduler(*env.engine, scheduler_options);
  scheduler.on_failure = [](const std::string& reference, const std::string& reason) {
    spdlog::warn("scheduler: {} could not be fired: {}", reference, reason);
  };
  env.engine->set_observer([&scheduler](const Committed& committed) {
    if (committed.change.wake == Change::Wake::kSet) scheduler.notify(committed.change.wake_at);
  });
  api.on_clock_moved = [&scheduler] {
    auto report = scheduler.run_due();
    if (report.cases || report.failed) spdlog::info("clock moved: {} cases fired, {} failed", report.cases, report.failed);
  };

  if (auto started = server.start(); !started) {
    std::cerr << "redress: " << started.error().detail << "\n";
    return kExitFailure;
  }
  api.base_url = config.base_url.empty() ? "http://" + host + ":" + std::to_string(server.port()) : config.base_url;
  while (!api.base_url.empty() && api.base_url.back() == '/') api.base_url.pop_back();
  scheduler.start();
  spdlog::info("listening on http://{}:{} ({} threads, {} clock, database {})", host, server.port(), options.threads,
               env.clock->is_manual() ? "manual" : "system", config.database_path());
  spdlog::default_logger()->flush();

  // SIGTERM / SIGINT: stop accepting, finish what is in flight, flush the store, exit 0.
  boost::asio::io_context signals_io;
  boost::asio::signal_set signals(signals_io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int signal) {
    spdlog::info("signal {}: stopping; finishing requests in flight", signal);
    server.stop();
  });
  std::thread signal_thread([&] { signals_io.run(); });
  server.wait(std::chrono::seconds(60));
  signals_io.stop();
  signal_thread.join();
  scheduler.stop();
  env.store->flush();
  spdlog::info("stopped; every acknowledged request is committed");
  spdlog::default_logger()->flush();
  return kExitOk;
}

}  // namespace redress
