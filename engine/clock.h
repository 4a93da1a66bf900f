// Clock: where the engine reads "now".
//
// The engine never calls the system clock directly; it is handed a Clock. SystemClock reads the
// real time; ManualClock only moves when told (tests, demos, `serve --clock=manual`).
// Both are thread-safe.
#pragma once

#include <atomic>

#include "engine/time.h"

namespace redress {

class Clock {
 public:
  virtual ~Clock() = default;
  [[nodiscard]] virtual Time now() const = 0;
  // True for a clock that moves only when told; the server exposes /v1/admin/clock only then.
  [[nodiscard]] virtual bool is_manual() const { return false; }
};

class SystemClock final : public Clock {
 public:
  [[nodiscard]] Time now() const override;
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(Time start) : now_(to_micros(start)) {}
  ManualClock(const ManualClock&) = delete;
  ManualClock& operator=(const ManualClock&) = delete;

  [[nodiscard]] Time now() const override { return from_micros(now_.load(std::memory_order_acquire)); }
  [[nodiscard]] bool is_manual() const override { return true; }
  void set(Time t) { now_.store(to_micros(t), std::memory_order_release); }
  void advance(Duration d) { now_.fetch_add(d.count(), std::memory_order_acq_rel); }

 private:
  std::atomic<std::int64_t> now_;  // microseconds since the Unix epoch
};

}  // namespace redress
