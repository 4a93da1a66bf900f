#include "adapters/outbox/outbox_worker.h"

#include <spdlog/spdlog.h>

#include <pthread.h>
#include <algorithm>
#include <cmath>

namespace redress::outbox {

Duration RetryPolicy::backoff(int attempts, double unit) const {
  double wait = static_cast<double>(first.count()) * std::pow(factor, std::max(0, attempts - 1));
  wait = std::min(wait, static_cast<double>(longest.count()));
  wait *= 1.0 + jitter * (2.0 * unit - 1.0);
  return Duration(static_cast<std::int64_t>(std::max(1.0, wait)));
}

OutboxWorker::OutboxWorker(OutboxStore& store, const Clock& clock, Options options, Delivery& delivery)
    : store_(store),
      clock_(clock),
      options_(std::move(options)),
      delivery_(delivery),
      random_(std::random_device{}()) {}

OutboxWorker::~OutboxWorker() { stop(); }

void OutboxWorker::start() {
  thread_ = std::thread([this] { loop(); });
  pthread_setname_np(thread_.native_handle(),
                     options_.channel == NotificationDraft::Channel::kEmail ? "redress-mail" : "redress-hooks");
}

void OutboxWorker::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void OutboxWorker::notify() {
  {
    std::lock_guard lock(mutex_);
    poked_ = true;
  }
  wake_.notify_all();
}

DeliveryRecord OutboxWorker::decide(const OutboxItem& item, const DeliveryResult& result, Time now) {
  DeliveryRecord record;
  record.attempt = DeliveryAttempt{item.id, now, result.outcome, result.status_code, result.detail};
  switch (result.outcome) {
    case DeliveryOutcome::kDelivered: record.next = OutboxState::kDelivered; break;
    case DeliveryOutcome::kGone:
    case DeliveryOutcome::kPermanentFailure: record.next = OutboxState::kDead; break;
    case DeliveryOutcome::kRetry: {
      std::uniform_real_distribution<double> unit(0.0, 1.0);
      Duration wait = options_.retry.backoff(item.attempts + 1, unit(random_));
      if (result.retry_after) wait = std::max(wait, *result.retry_after);
      Time next = now + wait;
      if (now - item.created_at >= options_.retry.give_up_after) {
        record.next = OutboxState::kDead;
        record.attempt.detail += " (gave up after " + std::to_string(item.attempts + 1) + " attempts)";
      } else {
        record.next = OutboxState::kPending;
        record.next_attempt_at = next;
      }
      break;
    }
  }
  return record;
}

Status OutboxWorker::prepare(std::vector<OutboxItem>& batch, std::vector<DeliveryRecord>& records) {
  std::vector<std::pair<std::int64_t, std::string>> composed;
  std::vector<OutboxItem> ready;
  ready.reserve(batch.size());
  for (auto& item : batch) {
    if (!item.payload.empty()) {
      ready.push_back(std::move(item));
      continue;
    }
    auto payload = delivery_.compose(item);
    // An empty payload would read as "not ours to send" below: it is a failure to compose.
    if (payload && payload->empty()) payload = Error::internal("the composed payload is empty");
    if (!payload) {
      DeliveryResult failed{DeliveryOutcome::kPermanentFailure, 0,
                            "cannot compose " + item.template_name + ": " + payload.error().detail, std::nullopt};
      records.push_back(decide(item, failed, clock_.now()));
      if (on_attempt) on_attempt(item, records.back());
      continue;
    }
    composed.emplace_back(item.id, std::move(payload).value());
    ready.push_back(std::move(item));
  }
  if (!composed.empty()) {
    auto stored = store_.store_payloads(options_.holder, composed);
    if (!stored) return stored.error();
    std::size_t next = 0;
    for (auto& item : ready) {
      if (!item.payload.empty()) continue;
      item.payload = std::move((*stored)[next++]);
    }
    // "" where the lease was lost to another worker: that one is not ours to send.
    std::erase_if(ready, [](const OutboxItem& item) { return item.payload.empty(); });
  }
  batch = std::move(ready);
  return Status::success();
}

int OutboxWorker::run_once() {
  std::lock_guard run(run_mutex_);
  int attempts = 0;
  store_failed_ = false;
  // Bounded: a round never runs forever, even if claims keep coming back (they cannot: each
  // attempt moves its notification on or leaves it leased).
  for (int round = 0; round < 100000; ++round) {
    Time now = clock_.now();
    auto claimed =
        store_.claim_notifications(options_.channel, now, options_.holder, now + options_.lease, options_.batch);
    if (!claimed) {
      // A store that refuses writes logs that itself (rate-limited); anything else is said here.
      if (claimed.error().code != ErrorCode::kUnavailable)
        spdlog::warn("outbox: cannot claim notifications: {}", claimed.error().detail);
      store_failed_ = true;
      break;
    }
    if (claimed->empty()) break;
    std::vector<DeliveryRecord> records;
    // Nothing is sent before its payload is stored: a resend after a crash sends the same bytes.
    if (auto s = prepare(*claimed, records); !s) {
      if (s.error().code != ErrorCode::kUnavailable)
        spdlog::warn("outbox: cannot store {} composed payloads: {}", claimed->size(), s.error().detail);
      store_failed_ = true;
      break;
    }
    attempts += static_cast<int>(records.size());  // the ones that could not be composed
    // Recorded after each attempt (a commit is a fraction of an SMTP exchange): a crash can then
    // resend only the notification whose attempt was in flight, not the rest of a batch. The
    // records of items that could not be composed go with the first.
    auto record = [&]() -> bool {
      if (records.empty()) return true;
      if (auto s = store_.record_deliveries(options_.holder, records); !s) {
        // The leases run out and the notifications are tried again: at least once, never lost.
        spdlog::error("outbox: cannot record {} delivery attempts: {}", records.size(), s.error().detail);
        return false;
      }
      records.clear();
      return true;
    };
    bool recorded = true;
    for (const auto& item : *claimed) {
      DeliveryResult result = delivery_.send(item);
      records.push_back(decide(item, result, clock_.now()));
      if (on_attempt) on_attempt(item, records.back());
      ++attempts;
      if (!(recorded = record())) break;
    }
    if (recorded) recorded = record();  // compose failures with nothing sent after them
    if (!recorded) {
      store_failed_ = true;
      break;
    }
  }
  return attempts;
}

void OutboxWorker::loop() {
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      poked_ = false;
    }
    (void)run_once();
    Duration sleep = options_.idle_check;
    if (auto next = store_.next_delivery(options_.channel); next && *next && !clock_.is_manual())
      sleep = std::clamp(**next - clock_.now(), Duration(std::chrono::milliseconds(50)), options_.idle_check);
    {
      std::lock_guard run(run_mutex_);
      if (store_failed_) sleep = std::max(sleep, options_.pause_after_failure);
    }
    std::unique_lock lock(mutex_);
    if (stopping_) return;
    if (poked_) continue;
    wake_.wait_for(lock, sleep, [this] { return stopping_ || poked_; });
  }
}

}  // namespace redress::outbox
