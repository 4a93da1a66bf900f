// WriteHealth: whether the store can write now, as its writer thread finds out, and the log of it.
//
// The writer reports each refused group (disk full, read-only database, I/O error) and each
// successful commit that wrote something. A failure is logged at once, then at most one line per 10 s however many
// writes are refused (each line says how many were refused since the last one), so a flood of
// requests against a full disk does not flood the log; the first success after failures logs that
// writes work again. `failure()` is the detail of the failure while writes fail (for /healthz).
//
// Thread-safe: the writer reports, any thread reads.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>

#include "engine/result.h"

namespace redress::sqlite {

class WriteHealth {
 public:
  using Clock = std::chrono::steady_clock;
  explicit WriteHealth(Clock::duration log_every = std::chrono::seconds(10)) : log_every_(log_every) {}

  // `refused` writes (requests, admin items) were refused with `error`.
  void failed(const Error& error, std::size_t refused);
  // A commit that wrote something succeeded (an empty one proves nothing about the disk).
  void succeeded();
  [[nodiscard]] std::optional<std::string> failure() const;

 private:
  const Clock::duration log_every_;
  mutable std::mutex mutex_;
  std::optional<std::string> failing_;  // the last failure's detail, until a commit succeeds
  Clock::time_point since_{};           // when writes started failing
  Clock::time_point last_line_{};
  std::size_t unlogged_ = 0;  // refused since the last line
  std::size_t refused_ = 0;   // refused since writes started failing
};

}  // namespace redress::sqlite
