// OutboxWorker: delivers the notifications the outbox holds, for one channel (mail or web hooks).
//
// Every change writes the notifications it owes in its own transaction; a worker then claims
// them in batches with a lease held in the database (so several processes on one database never
// send the same notification at once, and a crashed worker's claims are taken over once its lease
// runs out), composes and stores the payload of each one not yet attempted, makes one attempt each
// through its `Delivery`, and records each attempt — time, outcome, the peer's reply — as soon as
// it is made, so that a crash resends at most the one in flight. A notification is delivered once the peer
// accepted it; a transient failure is tried again after an exponential back-off with jitter
// (honouring Retry-After), for at least 24 hours from when it was owed; a permanent failure, a
// 410 or the end of the retries dead-letters it (`redress outbox retry` sends it again).
// Delivery is in order per recipient: a notification waits while an older one to the same
// recipient is still pending.
//
// The payload (the composed mail, the hook body) is stored before the first attempt, and every
// attempt sends those bytes: a retry, or a resend after a crash, is the same mail, never a second,
// different one.
//
// Thread-safe: start/stop from one thread; notify() and run_once() from any. Attempts run on the
// worker's thread (or the caller's, for run_once), one at a time: an Attempt owns its connection.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include "engine/clock.h"
#include "ports/outbox_store.h"

namespace redress::outbox {

struct RetryPolicy {
  Duration first = std::chrono::seconds(30);  // after the first failed attempt
  double factor = 2.0;
  Duration longest = std::chrono::hours(6);  // the back-off never grows past this
  // A transient failure this long after the notification was owed dead-letters it: retries span
  // at least this long.
  Duration give_up_after = std::chrono::hours(24);
  double jitter = 0.2;  // ± this share of each wait
  // The wait after `attempts` failed attempts (>= 1), with `unit` in [0, 1) drawing the jitter.
  [[nodiscard]] Duration backoff(int attempts, double unit) const;
};

// What a worker delivers through: mail (MailDelivery), web hooks (WebhookDelivery), a test's fake.
// Thread-compatible: its worker makes one call at a time.
class Delivery {
 public:
  virtual ~Delivery() = default;
  // The bytes the notification is (the whole mail, the hook's body), made once, before its first
  // attempt, and stored. An error dead-letters the notification.
  [[nodiscard]] virtual Result<std::string> compose(const OutboxItem& item) = 0;
  // One attempt at sending `item.payload`, as stored.
  [[nodiscard]] virtual DeliveryResult send(const OutboxItem& item) = 0;
};

class OutboxWorker {
 public:
  struct Options {
    std::string holder;  // this process's name for the leases
    NotificationDraft::Channel channel = NotificationDraft::Channel::kEmail;
    int batch = 64;
    Duration lease = std::chrono::minutes(5);        // longer than a batch's attempts take
    Duration idle_check = std::chrono::seconds(30);  // longest sleep while nothing is due
    // The least sleep after a round the store refused (a full disk...), so that a notification
    // due now does not make the loop spin.
    Duration pause_after_failure = std::chrono::seconds(5);
    RetryPolicy retry;
  };

  // `delivery` outlives the worker.
  OutboxWorker(OutboxStore& store, const Clock& clock, Options options, Delivery& delivery);
  ~OutboxWorker();
  OutboxWorker(const OutboxWorker&) = delete;
  OutboxWorker& operator=(const OutboxWorker&) = delete;

  void start();
  void stop();
  // Something was written to the outbox: look now.
  void notify();
  // Claims and attempts everything due now, batch after batch; returns the attempts made.
  int run_once();

  // Called after each attempt, on the attempting thread (logs; disabling a gone subscription).
  std::function<void(const OutboxItem&, const DeliveryRecord&)> on_attempt;

 private:
  void loop();
  [[nodiscard]] DeliveryRecord decide(const OutboxItem& item, const DeliveryResult& result, Time now);
  // Composes and stores the payloads the batch lacks; drops an item no longer leased to this
  // worker, and adds the records of those that cannot be composed to `records`.
  [[nodiscard]] Status prepare(std::vector<OutboxItem>& batch, std::vector<DeliveryRecord>& records);

  OutboxStore& store_;
  const Clock& clock_;
  const Options options_;
  Delivery& delivery_;
  std::mutex run_mutex_;       // one round at a time
  std::mt19937_64 random_;     // guarded by run_mutex_
  bool store_failed_ = false;  // the last round's claim or record was refused; guarded by run_mutex_

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  bool poked_ = false;     // guarded by mutex_
  std::thread thread_;
};

}  // namespace redress::outbox
