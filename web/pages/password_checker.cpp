#include "web/pages/password_checker.h"

#include <spdlog/spdlog.h>

#include <exception>

namespace redress::web {

PasswordChecker::PasswordChecker(std::size_t capacity) : capacity_(capacity), thread_([this] { loop(); }) {}

PasswordChecker::~PasswordChecker() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

bool PasswordChecker::submit(std::function<void()> check) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= capacity_) return false;
    queue_.push_back(std::move(check));
  }
  wake_.notify_one();
  return true;
}

void PasswordChecker::loop() {
  for (;;) {
    std::function<void()> check;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to run
      check = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      check();
    } catch (const std::exception& e) {  // a bug in a check must not end the checker
      spdlog::error("sign-in: a password check failed with an exception: {}", e.what());
    }
  }
}

}  // namespace redress::web
