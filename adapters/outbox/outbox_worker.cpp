#include "adapters/outbox/outbox_worker.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

namespace redress {

Duration RetryPolicy::backoff(int attempts, double unit) const {
  double wait = static_cast<double>(first.count()) * std::pow(factor, std::max(0, attempts - 1));
  wait = std::min(wait, static_cast<double>(longest.count()));
  wait *= 1.0 + jitter * (2.0 * unit - 1.0);
  return Duration(static_cast<std::int64_t>(std::max(1.0, wait)));
}

OutboxWorker::OutboxWorker(Store& store, const Clock& clock, Options options, Attempt attempt)
    : store_(store), clock_(clock), options_(std::move(options)), attempt_(std::move(attempt)),
      random_(std::random_device{}()) {}

OutboxWorker::~OutboxWorker() { stop(); }

void OutboxWorker::start() {
  thread_ = std::thread([this] { loop(); });
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

DeliveryRecord OutboxWorker::decide(const OutboxItem& item, const Outcome& outcome, Time now) {
  DeliveryRecord record;
  record.attempt = DeliveryAttempt{item.id, now, outcome.result.outcome, outcome.result.status_code, outcome.result.detail};
  if (item.payload.empty()) record.payload = outcome.sent;
  switch (outcome.result.outcome) {
    case DeliveryOutcome::kDelivered: record.next = OutboxState::kDelivered; break;
    case DeliveryOutcome::kGone:
    case DeliveryOutcome::kPermanentFailure: record.next = OutboxState::kDead; break;
    case DeliveryOutcome::kRetry: {
      std::uniform_real_distribution<double> unit(0.0, 1.0);
      Duration wait = options_.retry.backoff(item.attempts + 1, unit(random_));
      if (outcome.result.retry_after) wait = std::max(wait, *outcome.result.retry_after);
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

int OutboxWorker::run_once() {
  std::lock_guard run(run_mutex_);
  int attempts = 0;
  store_failed_ = false;
  // Bounded: a round never runs forever, even if claims keep coming back (they cannot: each
  // attempt moves its notification on or leaves it leased).
  for (int round = 0; round < 100000; ++round) {
    Time now = clock_.now();
    auto claimed = store_.claim_notifications(options_.channel, now, options_.holder, now + options_.lease, options_.batch);
    if (!claimed) {
      // A store that refuses writes logs that itself (rate-limited); anything else is said here.
      if (claimed.error().code != ErrorCode::kUnavailable)
        spdlog::warn("outbox: cannot claim notifications: {}", claimed.error().detail);
      store_failed_ = true;
      break;
    }
    if (claimed->empty()) break;
    std::vector<DeliveryRecord> records;
    records.reserve(claimed->size());
    for (const auto& item : *claimed) {
      Outcome outcome = attempt_(item);
      records.push_back(decide(item, outcome, clock_.now()));
      if (on_attempt) on_attempt(item, records.back());
      ++attempts;
    }
    if (auto s = store_.record_deliveries(options_.holder, records); !s) {
      // The leases run out and the notifications are tried again: at least once, never lost.
      spdlog::error("outbox: cannot record {} delivery attempts: {}", records.size(), s.error().detail);
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

}  // namespace redress
