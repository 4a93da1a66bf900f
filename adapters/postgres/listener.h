// Listener: wakes this node's scheduler and delivery workers when any node commits a change that
// sets an earlier wake time or owes notifications (LISTEN redress_wake; the writer sends NOTIFY in
// the committing transaction, write_pipeline.cpp), and tells the node's token cache when any node
// moved the credentials' generation (staff_records.cpp: a deactivation, a revoked token).
//
// A notification can be missed while the connection is down: when it is found lost the listener
// calls `on_wake` with `lost` set, and after every (re)connection with `reconnected` set, so the
// caller looks at everything as if woken, and the callers' own polling stays as the fallback.
// One thread with its own connection.
//
// Thread-safe: start once, stop (or destroy) from any thread; `on_wake` runs on the listener thread.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "engine/model.h"

namespace redress::postgres {

struct Wake {
  std::optional<Time> wake_at;  // the earliest wake time a commit set
  bool outbox = false;          // a commit owes notifications
  bool reconnected = false;     // (re)connected: anything may have been missed
  bool lost = false;            // the connection was found lost: nothing is heard until `reconnected`
  std::optional<std::int64_t> credentials;  // a commit moved the credentials' generation to this
};

class Listener {
 public:
  Listener(std::string url, std::function<void(const Wake&)> on_wake);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  void start();
  void stop();
  // Whether the listening connection is up now (for /healthz and tests).
  [[nodiscard]] bool listening() const { return listening_; }
  // Notifications received since start.
  [[nodiscard]] std::int64_t received() const { return received_; }

  // "wake=<micros>;outbox", "credentials=<generation>" → Wake (unknown parts ignored).
  [[nodiscard]] static Wake parse(const std::string& payload);

 private:
  void run();

  const std::string url_;
  std::function<void(const Wake&)> on_wake_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> listening_{false};
  std::atomic<std::int64_t> received_{0};
  std::thread thread_;
};

}  // namespace redress::postgres
