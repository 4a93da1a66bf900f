// Scheduler: fires what falls due — broken commitments, warnings, automatic closure — at its time.
//
// Durable: what is due is not held in memory but in the store (each case's wake time, written in
// the same transaction as the change that moved it), so a restart loses nothing and fires on start
// whatever fell due while the process was down, oldest first. Exactly once: each firing is a plan
// (engine/due.h, plan_due) that runs in the store's transaction against the case as stored, so
// a commitment already broken is not broken again — by another thread or another node. Several
// nodes on one database take turns through a lease held in the database; without it each would
// still be correct, only busier.
//
// The background thread sleeps until the earliest wake time (it is told when a commit sets an
// earlier one), so nothing runs while nothing is due but a cheap look at the index every
// `recheck`. Under a manual clock, time moves only when told: run_due() is called after each move
// and returns once everything due up to then is committed.
//
// Thread-safe: notify() may be called from any thread; run_due() calls are serialised.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "engine/engine.h"

namespace redress {

class Scheduler {
 public:
  struct Options {
    std::string holder;                           // this process's name for the lease
    Duration lease = std::chrono::seconds(60);    // how long a lease holds unless renewed
    Duration recheck = std::chrono::seconds(20);  // longest sleep (renews the lease; other nodes' wakes)
    int batch = 512;                              // cases fired per round at most
    // The least sleep after a round that could not fire what is due (the lease is held elsewhere,
    // or the store refuses writes): a due case must not make the loop spin.
    Duration pause_after_failure = std::chrono::seconds(2);
  };
  struct RunReport {
    std::int64_t cases = 0;    // cases whose plans were committed
    std::int64_t failed = 0;   // plans that failed (logged through `on_failure`)
    bool lease_held = true;    // false when another process holds the lease: nothing was fired
    bool unavailable = false;  // the store refused writes (full disk...): the round stopped there
  };

  Scheduler(Engine& engine, Options options);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Starts the background thread. Call once.
  void start();
  // Stops the thread (waits for a round in progress) and releases the lease.
  void stop();

  // Fires everything due up to the clock's now, in order; returns once it is committed.
  [[nodiscard]] RunReport run_due();

  // A commit set a case's wake time to `wake_at`: wakes the thread when that is earlier than planned,
  // or already due on the clock.
  void notify(Time wake_at);

  // Reports a plan that failed (reference, reason); default: ignored. Set before start().
  std::function<void(const std::string&, const std::string&)> on_failure;

 private:
  void loop();

  Engine& engine_;
  const Options options_;
  std::mutex run_mutex_;  // one round at a time

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;       // guarded by mutex_
  bool poked_ = false;          // guarded by mutex_: a commit set an earlier wake time
  Time planned_ = Time::max();  // guarded by mutex_: when the thread means to wake next
  std::thread thread_;
};

}  // namespace redress
