#include "engine/scheduler.h"

#include <algorithm>
#include <future>
#include <map>
#include <set>

#include "engine/due.h"

namespace redress {

namespace {
constexpr const char* kLeaseName = "scheduler";
}

Scheduler::Scheduler(Engine& engine, Options options) : engine_(engine), options_(std::move(options)) {}

Scheduler::~Scheduler() { stop(); }

void Scheduler::start() {
  thread_ = std::thread([this] { loop(); });
}

void Scheduler::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
    (void)engine_.store().release_lease(kLeaseName, options_.holder);
  }
}

void Scheduler::notify(Time wake_at) {
  Time now = engine_.clock().now();
  {
    std::lock_guard lock(mutex_);
    // A wake time already due wakes the thread even when it is not earlier than planned: a manual
    // clock moves past `planned_` while the thread still waits out its real-time sleep.
    if (wake_at >= planned_ && wake_at > now) return;
    poked_ = true;
    planned_ = std::min(planned_, wake_at);
  }
  wake_.notify_all();
}

Scheduler::RunReport Scheduler::run_due() {
  std::lock_guard run(run_mutex_);
  RunReport report;
  CaseStore& store = engine_.store();
  Time now = engine_.clock().now();
  auto lease = store.acquire_lease(kLeaseName, options_.holder, now, now + options_.lease);
  if (!lease || !*lease) {
    report.lease_held = false;
    report.unavailable = !lease && lease.error().code == ErrorCode::kUnavailable;
    return report;
  }
  // A case that comes back due with the same wake time after its plan ran has something that
  // cannot fire now; it is left for the next round rather than tried in a loop.
  std::map<std::string, Time> seen;
  for (;;) {
    now = engine_.clock().now();
    auto due = store.due_cases(now, options_.batch);
    if (!due || due->empty()) break;
    std::vector<std::future<Result<Committed>>> pending;
    std::vector<std::string> references;
    for (const auto& d : *due) {
      auto it = seen.find(d.reference);
      if (it != seen.end() && it->second == d.wake_at) continue;
      seen[d.reference] = d.wake_at;
      auto promise = std::make_shared<std::promise<Result<Committed>>>();
      pending.push_back(promise->get_future());
      references.push_back(d.reference);
      const WorkflowSet& workflows = engine_.workflows();
      engine_.submit_plan(
          d.reference,
          [&workflows](const CaseSnapshot& current, WriteContext& context, Time at) {
            return plan_due(current, workflows, at, context);
          },
          [promise](Result<Committed> result) { promise->set_value(std::move(result)); });
    }
    if (pending.empty()) break;
    for (std::size_t i = 0; i < pending.size(); ++i) {
      auto result = pending[i].get();
      if (result) {
        ++report.cases;
      } else if (result.error().code == ErrorCode::kUnavailable) {
        ++report.failed;  // the store logs why; each case would say the same
        report.unavailable = true;
      } else {
        ++report.failed;
        if (on_failure) on_failure(references[i], result.error().detail);
      }
    }
    if (report.unavailable) break;  // the cases stay due and fire once the store writes again
  }
  return report;
}

void Scheduler::loop() {
  const Clock& clock = engine_.clock();
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      poked_ = false;
      planned_ = Time::max();
    }
    RunReport report = run_due();
    auto next = engine_.store().next_wake();
    Time now = clock.now();
    Duration sleep = options_.recheck;
    if (next && *next && !clock.is_manual()) sleep = std::min(sleep, std::max(Duration::zero(), **next - now));
    if (!report.lease_held || report.unavailable) sleep = std::max(sleep, options_.pause_after_failure);
    std::unique_lock lock(mutex_);
    if (stopping_) return;
    if (poked_) continue;  // an earlier wake came in while this round ran
    planned_ = now + sleep;
    wake_.wait_for(lock, sleep, [this] { return stopping_ || poked_; });
  }
}

}  // namespace redress
