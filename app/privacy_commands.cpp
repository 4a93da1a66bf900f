// `redress subject erase`, `redress retention run` (web/privacy.h) and `redress compact`
// (PersonalDataStore::compact), and the erasure ledger in the data directory (web/erasure_ledger.h).
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstdio>
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

// Compacts the store (PersonalDataStore::compact) with its progress on a terminal, prints each
// step and the copies left beyond its reach; kExitOk when every step was done.
int compact_store(PersonalDataStore& store) {
  const bool terminal = ::isatty(STDERR_FILENO) == 1;
  auto report = store.compact([terminal](std::size_t step, std::size_t steps, const std::string& name) {
    if (terminal) std::cerr << "\r\033[Kcompacting: step " << step + 1 << " of " << steps << ": " << name << std::flush;
  });
  if (terminal) std::cerr << "\r\033[K";
  if (!report) {
    std::cerr << "redress: " << report.error().detail << "\n";
    return kExitFailure;
  }
  std::size_t not_done = 0;
  for (const auto& step : report->steps) {
    switch (step.outcome) {
      case StepOutcome::kDone: {
        char took[32];
        std::snprintf(took, sizeof took, "%.1f s", static_cast<double>(step.took.count()) / 1000.0);
        std::cout << "done           " << step.name << " (" << took << ")\n";
        break;
      }
      case StepOutcome::kNotPermitted:
        ++not_done;
        std::cout << "not permitted  " << step.name << "\n               " << step.detail << "\n";
        break;
      case StepOutcome::kFailed:
        ++not_done;
        std::cout << "failed         " << step.name << "\n               " << step.detail << "\n";
        break;
    }
  }
  for (const auto& left : report->copies_left) std::cout << "left           " << left << "\n";
  if (not_done > 0) {
    std::cout << "Not compacted whole: " << not_done << " of " << report->steps.size()
              << " steps were not done (above). Copies of erased data may remain; run it again once that is mended.\n";
    return kExitFailure;
  }
  std::cout << (report->copies_left.empty()
                    ? "Compacted: no file of the database holds erased data.\n"
                    : "Compacted: no file of the database holds erased data, but the copies above are beyond its reach.\n");
  return kExitOk;
}

// What an erasure's purge left, in words, and compaction when asked for (--compact); the status.
int after_purge(const PurgeReport& purge, const Arguments& args, PersonalDataStore& store) {
  std::cout << "Files deleted: " << purge.blobs_deleted;
  switch (purge.copies_left) {
    case ErasedCopies::kNone:
      std::cout << "; the WAL files are truncated.\n";
      break;
    case ErasedCopies::kWalUntilIdle:
      std::cout << "; the WAL was busy: it is truncated when the server is next idle.\n";
      break;
    case ErasedCopies::kUntilCompacted:
      std::cout << (args.has("compact")
                        ? ".\n"
                        : ".\nPostgreSQL keeps the old row versions and WAL until `redress compact` rewrites them (it "
                          "locks each table while it does).\n");
      break;
  }
  return args.has("compact") ? compact_store(store) : kExitOk;
}

}  // namespace

int command_compact(const Arguments& args) {
  auto env = open_environment(args.config, OpenOptions{});
  if (!env) {
    std::cerr << "redress: " << env.error().detail << "\n";
    return kExitFailure;
  }
  return compact_store(*(*env)->store);
}

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
  return after_purge(outcome->purge, args, *e.store);
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
  if (dry) return kExitOk;
  if (report->erased.empty()) return args.has("compact") ? compact_store(*e.store) : kExitOk;
  return after_purge(report->purge, args, *e.store);
}

}  // namespace redress
