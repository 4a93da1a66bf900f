#include "adapters/sqlite/write_health.h"

#include <spdlog/spdlog.h>

namespace redress::sqlite {

void WriteHealth::failed(const Error& error, std::size_t refused) {
  std::lock_guard lock(mutex_);
  auto now = Clock::now();
  if (!failing_) {
    since_ = now;
    refused_ = 0;
    last_line_ = {};
  }
  failing_ = error.detail;
  refused_ += refused;
  unlogged_ += refused;
  if (last_line_ != Clock::time_point{} && now - last_line_ < log_every_) return;
  spdlog::error("store: writes refused ({} in this group, {} since the last line): {}", refused, unlogged_,
                error.detail);
  last_line_ = now;
  unlogged_ = 0;
}

void WriteHealth::succeeded() {
  std::lock_guard lock(mutex_);
  if (!failing_) return;
  auto seconds = std::chrono::duration<double>(Clock::now() - since_).count();
  spdlog::warn("store: writes succeed again, after {} refused over {:.1f} s ({})", refused_, seconds, *failing_);
  failing_.reset();
  unlogged_ = 0;
}

std::optional<std::string> WriteHealth::failure() const {
  std::lock_guard lock(mutex_);
  return failing_;
}

}  // namespace redress::sqlite
