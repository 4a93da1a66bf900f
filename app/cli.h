// The `redress` command line: subcommands, their options, help and exit statuses.
//
// Exit status: 0 success; 1 the operation failed (message on stderr); 2 wrong usage (a one-line
// error and the usage on stderr). Not thread-safe; called once from main.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "app/config.h"

namespace redress {

struct Arguments {
  std::vector<std::string> positional;        // after the command words
  std::map<std::string, std::string> values;  // --name VALUE / --name=VALUE
  std::set<std::string> flags;                // --name
  Config config;                              // defaults < file < environment < flags

  [[nodiscard]] bool has(const std::string& name) const { return values.count(name) || flags.count(name); }
  [[nodiscard]] std::string get(const std::string& name, const std::string& fallback = {}) const {
    auto it = values.find(name);
    return it == values.end() ? fallback : it->second;
  }
};

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

int run_cli(int argc, char** argv);

// Subcommands (app/commands.cpp, app/demo.cpp, app/serve.cpp).
int command_migrate(const Arguments& args);
int command_staff_add(const Arguments& args);
int command_staff_token(const Arguments& args);
int command_staff_password(const Arguments& args);
int command_staff_list(const Arguments& args);
int command_audit_verify(const Arguments& args);
int command_audit_summaries(const Arguments& args);
int command_outbox_list(const Arguments& args);
int command_outbox_retry(const Arguments& args);
int command_demo(const Arguments& args);
int command_serve(const Arguments& args);
int command_mailgate(const Arguments& args);
int command_export(const Arguments& args);
int command_import(const Arguments& args);
int command_subject_export(const Arguments& args);
// Personal data (app/privacy_commands.cpp).
int command_subject_erase(const Arguments& args);
int command_retention_run(const Arguments& args);
int command_compact(const Arguments& args);

}  // namespace redress
