// bench/tokens: what checking the credentials' generation costs a request's authentication on SQLite.
//
//   build/bench/tokens [--calls N] [--threads T] [--runs K]
//
// A fresh SQLite data directory with one staff member and a token. Each run authenticates the token
// N times on each of T threads at once through web::TokenCache, three ways, in turn:
//   remembered:    look-ups remembered for 5 s, nothing asked per request (before issue 27's
//                  change; a deactivation on another node was honoured within 5 s);
//   generation:    remembered while the credentials' generation stays (what `redress serve` does on
//                  SQLite: one statement on a kept read snapshot per request; honoured at once);
//   no memory:     every request looks the token up (staff and token rows);
//   generation while writing: as generation, while another thread commits as fast as it can (each
//                  commit moves the WAL header, so the row is read again after each).
// Prints authentications/s of each, the medians of K runs, and the generation's ratio to remembered.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "adapters/security/secrets.h"
#include "app/environment.h"
#include "web/token_cache.h"

using namespace redress;
namespace fs = std::filesystem;
using Steady = std::chrono::steady_clock;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// Authentications per second of `cache` over `threads` threads of `calls` each.
double rate(web::TokenCache& cache, const std::string& token, int calls, int threads) {
  std::vector<std::thread> workers;
  auto begin = Steady::now();
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&] {
      for (int i = 0; i < calls; ++i)
        if (!cache.authenticate(token)) std::exit(1);
    });
  for (auto& w : workers) w.join();
  return static_cast<double>(calls) * threads / std::chrono::duration<double>(Steady::now() - begin).count();
}

}  // namespace

int main(int argc, char** argv) {
  int calls = 200000, threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency())), runs = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--calls")
      calls = std::max(1, std::stoi(value));
    else if (flag == "--threads")
      threads = std::max(1, std::stoi(value));
    else if (flag == "--runs")
      runs = std::max(1, std::stoi(value));
    else {
      std::fprintf(stderr, "usage: tokens [--calls N] [--threads T] [--runs K]\n");
      return 2;
    }
  }
  const fs::path dir = fs::temp_directory_path() / ("redress-bench-tokens-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  Config config;
  config.data_dir = dir.string();
  config.workflows = REDRESS_SOURCE_WORKFLOWS;
  OpenOptions options;
  options.migrate_if_needed = true;
  auto env = open_environment(config, options);
  if (!env) {
    std::fprintf(stderr, "bench/tokens: %s\n", env.error().detail.c_str());
    return 1;
  }
  Store& store = *(*env)->store;
  Staff staff;
  staff.name = "Bench Agent";
  staff.email = "bench@example.org";
  staff.role = Role::kAgent;
  staff.active = true;
  auto added = store.add_staff(staff);
  const std::string token = security::new_token("rdr_");
  if (!added || !store.add_token(added->id, security::token_hash(token), "bench")) return 1;
  auto lookup = [&store](const std::string& hash) { return store.staff_for_token(hash); };
  auto generation = [&store]() -> std::optional<std::int64_t> {
    auto current = store.credentials_generation();
    return current ? std::optional<std::int64_t>(*current) : std::nullopt;
  };
  std::printf("bench/tokens: %d authentications on each of %d threads, %d runs (SQLite, %s)\n", calls, threads, runs,
              dir.c_str());
  std::vector<double> remembered, checked, uncached, while_writing;
  std::int64_t commits = 0;
  for (int run = 0; run < runs; ++run) {
    web::TokenCache before(lookup, {}, std::chrono::seconds(5));
    web::TokenCache after(lookup, generation, std::chrono::seconds(5));
    web::TokenCache none(lookup, {}, std::chrono::seconds(0));
    remembered.push_back(rate(before, token, calls, threads));
    checked.push_back(rate(after, token, calls, threads));
    uncached.push_back(rate(none, token, calls / 10, threads));
    std::atomic<bool> stop{false};
    std::thread writer([&] {
      while (!stop.load()) {
        if (!store.set_password_hash(added->id, "not-a-hash")) std::exit(1);
        ++commits;
      }
    });
    web::TokenCache busy(lookup, generation, std::chrono::seconds(5));
    while_writing.push_back(rate(busy, token, calls, threads));
    stop = true;
    writer.join();
    std::printf("run %d  remembered %9.0f/s  generation %9.0f/s  no memory %9.0f/s  generation while writing %9.0f/s\n",
                run + 1, remembered.back(), checked.back(), uncached.back(), while_writing.back());
  }
  const double a = median(remembered), b = median(checked), c = median(uncached);
  std::printf("medians: remembered %.0f/s (%.2f us each), generation %.0f/s (%.2f us each), no memory %.0f/s "
              "(%.2f us each)\n",
              a, 1e6 * threads / a, b, 1e6 * threads / b, c, 1e6 * threads / c);
  const double d = median(while_writing);
  std::printf("generation / remembered: %.3f; the check adds %.2f us of a thread's time per request\n", b / a,
              1e6 * threads / b - 1e6 * threads / a);
  std::printf("generation while writing: %.0f/s (%.2f us each; %lld commits in all, durable)\n", d, 1e6 * threads / d,
              static_cast<long long>(commits));
  env->reset();
  fs::remove_all(dir);
  return 0;
}
