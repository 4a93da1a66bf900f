// How the store's parts start and stop the threads they own (the writer, the syncer, the
// checkpointer): each thread is named, and each loop waits on its owner's condition variable, under
// its owner's mutex, until there is work or `stopping` is set.
//
// Thread-safety: start_named_thread from the owner's constructor; stop_thread from the owner's
// stop or destructor, never from the thread itself.
#pragma once

#include <pthread.h>

#include <condition_variable>
#include <mutex>
#include <thread>
#include <utility>

namespace redress::sqlite {

// Starts `run` on a thread named `name`, as `top -H` and `ps -L` show it (15 characters at most).
template <typename Run>
[[nodiscard]] std::thread start_named_thread(const char* name, Run&& run) {
  std::thread thread(std::forward<Run>(run));
  pthread_setname_np(thread.native_handle(), name);
  return thread;
}

// Sets `stopping` under `mutex`, wakes the loop waiting on `wake` and joins `thread` once it has
// ended. Idempotent.
inline void stop_thread(std::mutex& mutex, bool& stopping, std::condition_variable& wake, std::thread& thread) {
  {
    std::lock_guard lock(mutex);
    stopping = true;
  }
  wake.notify_all();
  if (thread.joinable()) thread.join();
}

}  // namespace redress::sqlite
