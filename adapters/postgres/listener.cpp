#include "adapters/postgres/listener.h"

#include <libpq-fe.h>
#include <poll.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <chrono>

namespace redress::postgres {

Listener::Listener(std::string url, std::function<void(const Wake&)> on_wake)
    : url_(std::move(url)), on_wake_(std::move(on_wake)) {}

Listener::~Listener() { stop(); }

void Listener::start() {
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void Listener::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

Wake Listener::parse(const std::string& payload) {
  Wake wake;
  std::string_view rest(payload);
  while (!rest.empty()) {
    auto semicolon = rest.find(';');
    std::string_view part = rest.substr(0, semicolon);
    if (part == "outbox") wake.outbox = true;
    if (part.rfind("wake=", 0) == 0) {
      std::int64_t micros = 0;
      auto digits = part.substr(5);
      if (std::from_chars(digits.data(), digits.data() + digits.size(), micros).ec == std::errc())
        wake.wake_at = from_micros(micros);
    }
    if (part.rfind("credentials=", 0) == 0) {
      std::int64_t generation = 0;
      auto digits = part.substr(12);
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), generation);
      if (ec == std::errc() && end == digits.data() + digits.size()) wake.credentials = generation;
    }
    if (semicolon == std::string_view::npos) break;
    rest.remove_prefix(semicolon + 1);
  }
  return wake;
}

void Listener::run() {
  PGconn* db = nullptr;
  auto backoff = std::chrono::milliseconds(100);
  while (!stopping_) {
    if (!db || PQstatus(db) != CONNECTION_OK) {
      if (db) PQfinish(db);
      if (listening_.exchange(false)) {
        Wake lost;
        lost.lost = true;
        on_wake_(lost);
      }
      db = PQconnectdb(url_.c_str());
      PGresult* listen = PQstatus(db) == CONNECTION_OK ? PQexec(db, "LISTEN redress_wake") : nullptr;
      bool ok = listen && PQresultStatus(listen) == PGRES_COMMAND_OK;
      if (listen) PQclear(listen);
      if (!ok) {
        // Down: try again later, a little later each time (at most every 5 s).
        for (auto waited = std::chrono::milliseconds(0); waited < backoff && !stopping_;
             waited += std::chrono::milliseconds(50))
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        backoff = std::min<std::chrono::milliseconds>(backoff * 2, std::chrono::seconds(5));
        continue;
      }
      backoff = std::chrono::milliseconds(100);
      listening_ = true;
      Wake everything;
      everything.reconnected = true;
      everything.outbox = true;
      on_wake_(everything);
    }
    pollfd fd{PQsocket(db), POLLIN, 0};
    int ready = ::poll(&fd, 1, 200);  // a fifth of a second: stop() is seen soon
    if (ready < 0) continue;
    if (ready > 0 && PQconsumeInput(db) == 0) {
      spdlog::warn("store: the LISTEN connection was lost: {}", PQerrorMessage(db));
      PQfinish(db);
      db = nullptr;
      listening_ = false;
      Wake lost;
      lost.lost = true;
      on_wake_(lost);
      continue;
    }
    while (PGnotify* n = PQnotifies(db)) {
      ++received_;
      Wake wake = parse(n->extra ? n->extra : "");
      PQfreemem(n);
      on_wake_(wake);
    }
  }
  listening_ = false;
  if (db) PQfinish(db);
}

}  // namespace redress::postgres
