// `redress subject erase` and `redress retention run` (web/privacy.h), and the erasure ledger in
// the data directory (web/erasure_ledger.h).
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

#include "app/cli.h"
#include "app/environment.h"
#include "app/privacy_commands.h"
#include "web/privacy.h"

namespace redress {

std::string erasure_ledger_path(const Config& config) { return config.data_dir + "/erasure-ledger"; }

Result<web::ErasureLedger> open_erasure_ledger(const Config& config) {
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);  // on PostgreSQL it may not exist yet
  return web::ErasureLedger::open(erasure_ledger_path(config));
}

Result<std::int64_t> reapply_erasure_ledger(const Config& config) {
  if (!std::filesystem::exists(erasure_ledger_path(config))) return std::int64_t{0};
  auto ledger = open_erasure_ledger(config);
  if (!ledger) return ledger.error();
  auto env = open_environment(config, OpenOptions{});
  if (!env) return env.error();
  Environment& e = **env;
  return web::reapply_ledger(web::PrivacySources{*e.store, e.workflows, *e.clock, &*ledger});
}

namespace {

// Tests only: TEST_REDRESS_KILL_ERASURE_AFTER=N kills this process (SIGKILL, as a power cut would)
// once N cases are done, to prove that an interrupted erasure is finished by running it again.
void maybe_die(std::int64_t done) {
  static const char* after = std::getenv("TEST_REDRESS_KILL_ERASURE_AFTER");
  if (after && std::atoll(after) == done) ::raise(SIGKILL);
}

}  // namespace

int command_subject_erase(const Arguments& args) {
  const std::string email = args.get("email");
  const std::string reason = args.get("reason");
  if (email.empty() || reason.find_first_not_of(" \t") == std::string::npos) {
    std::cerr << "redress: subject erase needs --email and --reason\n"
                 "Run `redress subject erase --help` for its options.\n";
    return kExitUsage;
  }
  if (auto s = web::check_email(email); !s) {
    std::cerr << "redress: --email must be an email address like ana@example.org, not \"" << email << "\"\n";
    return kExitUsage;
  }
  auto env = open_environment(args.config, OpenOptions{});
  if (!env) {
    std::cerr << "redress: " << env.error().detail << "\n";
    return kExitFailure;
  }
  Environment& e = **env;
  auto ledger = open_erasure_ledger(args.config);
  if (!ledger) {
    std::cerr << "redress: " << ledger.error().detail << "\n";
    return kExitFailure;
  }
  const bool terminal = ::isatty(STDERR_FILENO) == 1;
  web::PrivacySources sources{*e.store, e.workflows, *e.clock, &*ledger};
  auto outcome = web::erase_subject(sources, email, reason, Actor::system(),
                                    [terminal](std::int64_t done, std::int64_t total) {
                                      if (terminal) std::cerr << "\rerasing: case " << done << " of " << total << std::flush;
                                      maybe_die(done);
                                    });
  if (terminal) std::cerr << "\r\033[K";
  if (!outcome) {
    std::cerr << "redress: " << outcome.error().detail << "\n";
    return outcome.error().code == ErrorCode::kInvalid ? kExitUsage : kExitFailure;
  }
  if (outcome->erased_before) {
    std::cout << "Nothing left to erase: the client with this address was erased on "
              << format_time(*outcome->erased_before) << " (e-" << outcome->erasure_id << ").\n";
    return kExitOk;
  }
  std::cout << "Erasure e-" << outcome->erasure_id << ": " << outcome->erased.size()
            << (outcome->erased.size() == 1 ? " case" : " cases") << " erased";
  for (const auto& reference : outcome->erased) std::cout << (&reference == &outcome->erased.front() ? " (" : ", ") << reference;
  std::cout << (outcome->erased.empty() ? "" : ")") << ", " << outcome->restricted.size() << " restricted.\n";
  for (const auto& kept : outcome->restricted)
    std::cout << "  " << kept.reference << " restricted, not erased: " << kept.why << "\n";
  std::cout << "Files deleted: " << outcome->purge.blobs_deleted
            << (outcome->purge.files_compacted ? "; the WAL files are truncated."
                                               : "; the WAL was busy: it is truncated when the server is next idle.")
            << "\n";
  return kExitOk;
}

int command_retention_run(const Arguments& args) {
  const web::RetentionMode mode = args.has("dry-run") ? web::RetentionMode::kDryRun : web::RetentionMode::kErase;
  auto env = open_environment(args.config, OpenOptions{});
  if (!env) {
    std::cerr << "redress: " << env.error().detail << "\n";
    return kExitFailure;
  }
  Environment& e = **env;
  auto ledger = open_erasure_ledger(args.config);
  if (!ledger) {
    std::cerr << "redress: " << ledger.error().detail << "\n";
    return kExitFailure;
  }
  const bool terminal = ::isatty(STDERR_FILENO) == 1;
  web::PrivacySources sources{*e.store, e.workflows, *e.clock, &*ledger};
  // Under the server's lease, so that it never runs beside a server's daily run.
  const std::string holder = "cli:" + std::to_string(::getpid());
  const Time now = e.clock->now();
  auto leased = e.store->acquire_lease("retention", holder, now, now + std::chrono::hours(1));
  if (!leased) {
    std::cerr << "redress: " << leased.error().detail << "\n";
    return kExitFailure;
  }
  if (!*leased) {
    std::cerr << "redress: a server is running the retention run now; try again in a few minutes\n";
    return kExitFailure;
  }
  auto report = web::run_retention(sources, mode, [terminal](std::int64_t done, std::int64_t total) {
    if (terminal) std::cerr << "\rerasing: case " << done << " of " << total << std::flush;
  });
  (void)e.store->release_lease("retention", holder);
  if (terminal) std::cerr << "\r\033[K";
  if (!report) {
    std::cerr << "redress: " << report.error().detail << "\n";
    return kExitFailure;
  }
  const bool dry = mode == web::RetentionMode::kDryRun;
  for (const auto& reference : report->erased) std::cout << (dry ? "would erase " : "erased ") << reference << "\n";
  for (const auto& kept : report->held) std::cout << "kept " << kept.reference << ": " << kept.why << "\n";
  std::cout << report->summary() << (report->erasure_id ? " (e-" + std::to_string(report->erasure_id) + ")" : "")
            << ".\n";
  return kExitOk;
}

}  // namespace redress
