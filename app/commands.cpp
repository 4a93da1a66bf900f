// The administrative subcommands: migrate, staff, audit.
#include <functional>
#include <iostream>
#include <string>

#include "adapters/security/secrets.h"
#include "adapters/sqlite/summaries.h"
#include "app/cli.h"
#include "app/environment.h"
#include "engine/actions.h"

namespace redress {

namespace {

int fail(const std::string& message) {
  std::cerr << "redress: " << message << "\n";
  return kExitFailure;
}

int missing(const char* option, const char* command) {
  std::cerr << "redress: " << command << " needs --" << option << "\n"
            << "Run `redress " << command << " --help` for its options.\n";
  return kExitUsage;
}

Result<std::unique_ptr<Environment>> open_for_admin(const Arguments& args) {
  OpenOptions options;
  options.load_workflows = false;
  return open_environment(args.config, options);
}

}  // namespace

int command_migrate(const Arguments& args) {
  auto report = migrate_database(args.config);
  if (!report) return fail(report.error().detail);
  if (report->from == report->to)
    std::cout << "The database " << args.config.database_name() << " is up to date (schema version " << report->to
              << ").\n";
  else
    std::cout << "Migrated " << args.config.database_name() << " from schema version " << report->from << " to "
              << report->to << ".\n";
  return kExitOk;
}

int command_staff_add(const Arguments& args) {
  if (!args.has("name")) return missing("name", "staff add");
  if (!args.has("email")) return missing("email", "staff add");
  if (!args.has("role")) return missing("role", "staff add");
  auto role = parse_Role(args.get("role"));
  if (!role) {
    std::cerr << "redress: --role must be one of agent, lead, manager, admin, intake; not \"" << args.get("role")
              << "\"\n";
    return kExitUsage;
  }
  std::string email = args.get("email");
  if (email.find('@') == std::string::npos || email.find_first_of(" \t<>") != std::string::npos) {
    std::cerr << "redress: --email must be an email address, not \"" << email << "\"\n";
    return kExitUsage;
  }
  if (args.get("name").empty()) {
    std::cerr << "redress: --name must not be empty\n";
    return kExitUsage;
  }
  auto env = open_for_admin(args);
  if (!env) return fail(env.error().detail);
  Staff staff;
  staff.name = args.get("name");
  staff.email = email;
  staff.role = *role;
  staff.team = args.get("team");
  auto added = (*env)->store->add_staff(staff);
  if (!added) return fail(added.error().detail);
  std::cout << added->id << "\n";
  return kExitOk;
}

int command_staff_token(const Arguments& args) {
  if (!args.has("email")) return missing("email", "staff token");
  auto env = open_for_admin(args);
  if (!env) return fail(env.error().detail);
  auto staff = (*env)->store->find_staff(args.get("email"));
  if (!staff) return fail(staff.error().detail);
  if (!staff->active) return fail(staff->email + " is not active");
  std::string token = security::new_token("rdr_");
  if (auto s = (*env)->store->add_token(staff->id, security::token_hash(token), args.get("label", "cli")); !s)
    return fail(s.error().detail);
  std::cout << token << "\n";
  std::cerr << "This token is shown once; only its hash is stored. Role: " << to_string(staff->role) << ".\n";
  return kExitOk;
}

int command_staff_password(const Arguments& args) {
  if (!args.has("email")) return missing("email", "staff password");
  std::string password;
  if (!std::getline(std::cin, password)) return fail("no password on standard input");
  if (!password.empty() && password.back() == '\r') password.pop_back();
  auto hash = security::hash_password(password);
  if (!hash) return fail(hash.error().detail);
  auto env = open_for_admin(args);
  if (!env) return fail(env.error().detail);
  auto staff = (*env)->store->find_staff(args.get("email"));
  if (!staff) return fail(staff.error().detail);
  auto status = (*env)->store->set_password_hash(staff->id, *hash);
  if (!status) return fail(status.error().detail);
  std::cout << "Password set for " << staff->email << ".\n";
  return kExitOk;
}

int command_staff_list(const Arguments& args) {
  auto env = open_for_admin(args);
  if (!env) return fail(env.error().detail);
  auto staff = (*env)->store->list_staff();
  if (!staff) return fail(staff.error().detail);
  for (const auto& s : *staff)
    std::cout << s.id << "\t" << to_string(s.role) << "\t" << (s.team.empty() ? "-" : s.team) << "\t" << s.email << "\t"
              << s.name << (s.active ? "" : "\t(inactive)") << "\n";
  return kExitOk;
}

int command_outbox_list(const Arguments& args) {
  auto env = open_for_admin(args);
  if (!env) return fail(env.error().detail);
  auto dead = (*env)->store->dead_notifications(10000);
  if (!dead) return fail(dead.error().detail);
  for (const auto& v : *dead)
    std::cout << "n-" << v.item.id << "\t" << v.item.reference << "\t"
              << (v.item.channel == NotificationDraft::Channel::kEmail ? "email" : "webhook") << "\t"
              << v.item.template_name << "\t" << v.item.recipient << "\t" << v.attempts.size() << " attempts\t"
              << v.last_error << "\n";
  std::cout << dead->size() << " dead notification" << (dead->size() == 1 ? "" : "s") << ".\n";
  return kExitOk;
}

int command_outbox_retry(const Arguments& args) {
  if (args.has("id") == (args.flags.count("all") > 0)) {
    std::cerr << "redress: outbox retry needs --id n-ID or --all\n";
    return kExitUsage;
  }
  std::optional<std::int64_t> id;
  if (args.has("id")) {
    id = parse_display_id(args.get("id"), 'n');
    if (!id) {
      std::cerr << "redress: --id must be a notification id like n-12, not \"" << args.get("id") << "\"\n";
      return kExitUsage;
    }
  }
  auto env = open_for_admin(args);
  if (!env) return fail(env.error().detail);
  auto moved = (*env)->store->retry_notifications(id, (*env)->clock->now());
  if (!moved) return fail(moved.error().detail);
  std::cout << *moved << " notification" << (*moved == 1 ? "" : "s") << " queued for delivery again.\n";
  return kExitOk;
}

int command_audit_verify(const Arguments& args) {
  auto env = open_for_admin(args);
  if (!env) return fail(env.error().detail);
  auto report = (*env)->store->verify_chains();
  if (!report) return fail(report.error().detail);
  if (report->broken.empty()) {
    std::cout << "OK: " << report->cases_checked << " cases, " << report->events_checked
              << " events; every hash chain is whole.\n";
    return kExitOk;
  }
  for (const auto& b : report->broken)
    std::cout << "BROKEN: " << b.reference << " event " << b.seq << ": " << b.problem << "\n";
  std::cout << report->broken.size() << " of " << report->cases_checked << " cases have a broken chain ("
            << report->events_checked << " events checked).\n";
  return kExitFailure;
}

namespace {

// `audit summaries` on either store: `check` answers the summaries that differ ("" for none),
// `repair` rebuilds them all and answers what differs afterwards.
int audit_summaries(const Arguments& args, const std::function<Result<std::string>()>& check,
                    const std::function<Result<std::string>()>& repair) {
  auto differing = check();
  if (!differing) return fail(differing.error().detail);
  if (differing->empty()) {
    std::cout << "OK: every report summary equals the aggregate over the rows.\n";
    return kExitOk;
  }
  if (!args.has("repair")) {
    std::cout << "DIFFERENT: " << *differing
              << " (run `redress audit summaries --repair` to rebuild them from the rows).\n";
    return kExitFailure;
  }
  auto after = repair();
  if (!after) return fail(after.error().detail);
  if (!after->empty()) return fail("the summaries still differ after the rebuild: " + *after);
  std::cout << "REPAIRED: " << *differing << " rebuilt from the rows.\n";
  return kExitOk;
}

}  // namespace

int command_audit_summaries(const Arguments& args) {
  auto env = open_for_admin(args);
  if (!env) return fail(env.error().detail);
  if ((*env)->postgres) {
    auto& store = *(*env)->postgres;
    return audit_summaries(args, [&] { return store.check_summaries(); }, [&] { return store.repair_summaries(); });
  }
  auto& store = *(*env)->sqlite;
  return audit_summaries(
      args,
      [&]() -> Result<std::string> {
        // One read transaction, so that every summary is compared with the same rows.
        return store.with_reader([](sqlite::Connection& db) -> Result<std::string> {
          if (auto s = db.exec("BEGIN"); !s) return s.error();
          auto found = sqlite::check_summaries(db);
          (void)db.exec("COMMIT");
          return found;
        });
      },
      [&]() -> Result<std::string> {
        // The rebuild and its check run in the writer's transaction: nothing is written between them.
        std::string after;
        Status repaired = store.run_write(
            [&after](sqlite::Connection& db) -> Status {
              if (auto s = sqlite::rebuild_summaries(db); !s) return s;
              auto found = sqlite::check_summaries(db);
              if (!found) return found.error();
              after = *found;
              return Status::success();
            },
            sqlite::SqliteStore::WriteScope::kNoCaseRows);
        if (!repaired) return repaired.error();
        return after;
      });
}

}  // namespace redress
