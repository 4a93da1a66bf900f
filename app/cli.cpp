#include "app/cli.h"

#include <cstdlib>
#include <iostream>

namespace redress {

namespace {

struct OptionSpec {
  const char* name;
  const char* value;  // nullptr for a flag
  const char* help;
};

struct CommandSpec {
  std::vector<std::string> words;  // {"staff", "add"}
  const char* summary;
  const char* description;
  std::vector<OptionSpec> options;
  int (*run)(const Arguments&);
  int max_positional = 0;
};

// Accepted by every subcommand.
const std::vector<OptionSpec> kGlobalOptions = {
    {"config", "FILE", "read settings from a TOML file (also REDRESS_CONFIG)"},
    {"data-dir", "DIR", "where the database lives (REDRESS_DATA_DIR; default ./data)"},
    {"database", "URL", "a PostgreSQL database shared by several nodes, postgresql://user:pass@host:5432/db "
                        "(REDRESS_DATABASE_URL; default: SQLite in the data directory)"},
    {"workflows", "DIR", "the service standards to load (REDRESS_WORKFLOWS; default: the shipped workflows/)"},
    {"durability", "MODE", "full (default: each commit is on disk) or normal (REDRESS_DURABILITY)"},
    {"log-level", "LEVEL", "trace, debug, info, warn, error (REDRESS_LOG_LEVEL)"},
    {"help", nullptr, "show this help"},
};

const std::vector<CommandSpec>& commands() {
  static const std::vector<CommandSpec> list = {
      {{"serve"},
       "run the HTTP server",
       "Serves the v1 API, the intake hooks, the pages and /metrics until SIGTERM or SIGINT.",
       {{"listen", "HOST:PORT", "address to listen on (REDRESS_LISTEN; default 127.0.0.1:8080)"},
        {"threads", "N", "I/O threads (REDRESS_THREADS; default: one per core)"},
        {"smtp", "URL", "SMTP server for mail, e.g. smtp://127.0.0.1:2525 (REDRESS_SMTP_URL)"},
        {"smtp-starttls", "MODE", "required, opportunistic or off; by default off for a relay on a loopback address, else required"},
        {"smtp-tls-verify", "MODE", "verify (default) or none: check the SMTP server's certificate"},
        {"mail-from", "EMAIL", "the address mail comes from (REDRESS_MAIL_FROM)"},
        {"templates", "DIR", "the mail templates (REDRESS_TEMPLATES; default: the shipped templates/email)"},
        {"letters", "DIR", "the letter templates (REDRESS_LETTERS; default: the shipped templates/letters)"},
        {"translations", "DIR",
         "the clients' languages, compiled catalogues DIR/<tag>/LC_MESSAGES/redress.mo (REDRESS_TRANSLATIONS; "
         "default: the ones built from po/)"},
        {"webhooks-allowed-networks", "CIDRS", "private ranges web hooks may reach, comma-separated, or all"},
        {"base-url", "URL", "public base URL used in links (REDRESS_BASE_URL)"},
        {"clock", "KIND", "system (default) or manual: time moves only by POST /v1/admin/clock"},
        {"log-format", "FORMAT", "text (default) or json (REDRESS_LOG_FORMAT)"},
        {"max-body-bytes", "N", "largest request body (default 1048576); larger ones get 413"},
        {"max-header-bytes", "N", "largest request header (default 16384); larger ones get 431"},
        {"read-timeout", "SECONDS", "a request must arrive, and a response be taken, within this time (default 15)"},
        {"max-connections", "N", "connections beyond this are refused (default 10000)"},
        {"max-connections-per-address", "N",
         "connections one client address may hold; more are refused (default 16; 0: no cap; "
         "REDRESS_MAX_CONNECTIONS_PER_ADDRESS)"},
        {"intake-rate-per-minute", "N", "cases per intake source or token a minute (default 600; 0: no limit)"},
        {"view-cache-mib", "MIB", "memory for rendered case views (default 32; 0: none)"},
        {"retention-compact", "MODE", "on or off (default): on PostgreSQL, the daily retention run compacts "
                                      "after erasing (`redress compact`; it locks each table meanwhile)"},
        {"sign-in-failures-per-address", "N",
         "failed sign-ins one address may make per 15 minutes (default 30; 0: no limit)"},
        {"trusted-proxies", "CIDRS",
         "proxies whose X-Forwarded-For names the client, comma-separated (REDRESS_TRUSTED_PROXIES)"}},
       &command_serve},
      {{"migrate"},
       "create or upgrade the database",
       "Creates the data directory and the database if needed and applies every forward migration.\n"
       "A database newer than this binary is refused and left untouched.",
       {},
       &command_migrate},
      {{"staff", "add"},
       "add a staff member and print the new id",
       "Adds a staff member. Roles: agent, lead, manager, admin, intake (for integrations).",
       {{"name", "NAME", "full name (required)"},
        {"email", "EMAIL", "sign-in and notification address (required)"},
        {"role", "ROLE", "agent, lead, manager, admin or intake (required)"},
        {"team", "TEAM", "the team whose queue they work (optional)"}},
       &command_staff_add},
      {{"staff", "token"},
       "issue a bearer token, shown once",
       "Prints a new bearer token for the staff member. Only its hash is stored: keep the token safe.",
       {{"email", "EMAIL", "whose token (required)"}, {"label", "TEXT", "what the token is for (optional)"}},
       &command_staff_token},
      {{"staff", "password"},
       "set a sign-in password, read from standard input",
       "Reads the password from the first line of standard input and stores its argon2id hash.",
       {{"email", "EMAIL", "whose password (required)"}},
       &command_staff_password},
      {{"staff", "list"},
       "list staff members",
       "Lists every staff member: id, role, team, email, name.",
       {},
       &command_staff_list},
      {{"audit", "verify"},
       "check every case's hash chain",
       "Recomputes every event's hash and checks each case's chain, sequence and head.\n"
       "Exits 1 and names the first broken link of each affected case when the history was altered.",
       {},
       &command_audit_verify},
      {{"audit", "summaries"},
       "check the report summaries against the rows",
       "Compares every report summary (the board's and the reports' counters) with the aggregate over the\n"
       "case and commitment rows it stands for. Exits 1 naming the summaries that differ (rows edited by\n"
       "hand outside redress); --repair rebuilds them from the rows in one transaction.",
       {{"repair", nullptr, "rebuild the summaries that differ from the rows"}},
       &command_audit_summaries},
      {{"outbox", "list"},
       "list dead-lettered notifications",
       "Lists the notifications that failed for good or ran out of retries: id, case, channel, template,\n"
       "recipient, attempts and the last error. `outbox retry` sends them again.",
       {},
       &command_outbox_list},
      {{"outbox", "retry"},
       "send dead-lettered notifications again",
       "Queues dead notifications for delivery now; a running server's workers send them within\n"
       "their next look (at most 30 s, or at once through POST /v1/admin/outbox/retry).",
       {{"id", "n-ID", "one notification, e.g. n-12"}, {"all", nullptr, "every dead notification"}},
       &command_outbox_retry},
      {{"subject", "export"},
       "write everything held about one client",
       "Writes a tar archive of everything Redress holds about the client with this email address: each\n"
       "case as staff see it with its whole history (subject.json), the files on its messages, the email\n"
       "it received as received, and each mail and web hook sent about it. For a subject access request;\n"
       "review it before it goes to the client. The archive is the owner's only (mode 0600).",
       {{"email", "EMAIL", "the client's email address (required)"},
        {"out", "FILE", "where to write the archive (default: redress-subject-EMAIL.tar here)"}},
       &command_subject_export},
      {{"subject", "erase"},
       "erase a client's personal data, keeping the cases and their proof",
       "Erases everything Redress holds about the client with this email address: their name, address and\n"
       "phone, what they and staff wrote (descriptions, messages, notes, reasons), the files and mail\n"
       "received, the mail and web hooks sent, the search index entries, and the copies SQLite keeps in\n"
       "its WAL and free pages. Each case stays with its status, times, outcome, amounts and statistics,\n"
       "and `redress audit verify` still passes: each erased field keeps a salted commitment in the hash\n"
       "chain. A case under legal hold or inside its workflow's retention period is restricted instead\n"
       "(hidden, admins only) and erased by `redress retention run` once nothing keeps it. The request is\n"
       "recorded with a salted hash of the address (never the address), in the database and in the\n"
       "erasure ledger beside it, which is re-applied after a restore. Run it again after an interruption:\n"
       "it finishes what is left. Export first (`redress subject export`) if the client asked for a copy.\n"
       "On PostgreSQL, the old row versions stay in its files until `redress compact` (or --compact).",
       {{"email", "EMAIL", "the client's email address (required)"},
        {"reason", "TEXT", "why: the request and its date (required; recorded on each case)"},
        {"compact", nullptr, "on PostgreSQL, compact at once (`redress compact`): no copy left in its files"}},
       &command_subject_erase},
      {{"retention", "run"},
       "erase the closed cases whose retention period has ended",
       "Erases, as `redress subject erase` does, each closed case whose workflow's retention period\n"
       "([retention] in the workflow file: months or years from receipt or from closure) has ended, and\n"
       "each case an erasure request restricted that nothing keeps any longer; a case under legal hold is\n"
       "kept and listed. Prints its progress on a terminal and a report at the end. A running server does\n"
       "this once a day by itself, under a lease, so that several processes run it once.",
       {{"dry-run", nullptr, "list what would be erased, and erase nothing"},
        {"compact", nullptr, "on PostgreSQL, compact afterwards (`redress compact`): no copy left in its files"}},
       &command_retention_run},
      {{"compact"},
       "rewrite the database's files so that no erased data is left in them",
       "An erasure makes the client's data unreadable through Redress at once. On SQLite no file keeps a\n"
       "copy either (freed pages are zeroed, the WALs truncated). PostgreSQL keeps the rows as they were\n"
       "in its table files, statistics and WAL until they are rewritten: this rewrites each table that\n"
       "holds case data (VACUUM FULL: each is locked while it is rewritten, seconds for a large desk, so\n"
       "run it in a quiet hour), then the statistics, then switches the WAL until no segment written\n"
       "before is left. It prints each step, what the database role may not do and what to grant, and\n"
       "the copies beyond its reach (a WAL archive, standbys). Exits 1 when a step was not done.",
       {},
       &command_compact},
      {{"mailgate"},
       "post one email from standard input to a running server",
       "For an MTA's pipe transport or alias: reads one raw message on standard input and posts it to\n"
       "POST /v1/inbound/email with an intake token. Exits 0 when it was taken, 75 when the MTA should\n"
       "try again later (server down or busy, a token to fix), 65 when the message is unusable (too\n"
       "large, not a message): sysexits.h, as Postfix and Exim expect.",
       {{"url", "URL", "the server's base URL, e.g. http://127.0.0.1:8080 (required)"},
        {"token", "TOKEN", "an intake token (or REDRESS_MAILGATE_TOKEN, which keeps it out of `ps`)"},
        {"mailbox", "NAME", "the configured mailbox whose routing applies (default: the first)"}},
       &command_mailgate},
      {{"export"},
       "write the whole SQLite installation to a file",
       "Writes every case, event, commitment, redress offer, message and its files, notification, staff\n"
       "member, token hash, session and setting of the SQLite database in the data directory to FILE\n"
       "(JSON Lines), from one consistent read: a running server may go on writing. `redress import`\n"
       "reads it into PostgreSQL.",
       {{"out", "FILE", "where to write the export (required)"}},
       &command_export},
      {{"import"},
       "read an export into an empty PostgreSQL database",
       "Reads a file `redress export` wrote into the PostgreSQL database of --database (migrating it\n"
       "first), in one transaction: a database that is not empty, a cut-short file or a column this\n"
       "redress does not have is refused and nothing is written. `redress audit verify --database URL`\n"
       "then gives the result it gave before.",
       {{"in", "FILE", "the export to read (required)"}},
       &command_import},
      {{"demo"},
       "seed a realistic data set through the engine",
       "Creates staff and hundreds of cases across every workflow, category, touchpoint and status,\n"
       "with owners, commitments, redress and messages, by running real actions through the engine on\n"
       "a simulated clock over the past months. Runs `migrate` first if needed.",
       {{"cases", "N", "how many cases (default 400)"},
        {"seed", "N", "random seed, for a reproducible data set (default 42)"},
        {"days", "N", "how many days of history (default 120)"},
        {"quiet", nullptr, "no progress bar"}},
       &command_demo},
  };
  return list;
}

void print_usage(std::ostream& out, const CommandSpec& command) {
  std::string words;
  for (const auto& w : command.words) words += " " + w;
  out << "usage: redress" << words << " [options]\n\n" << command.description << "\n\noptions:\n";
  auto print = [&out](const OptionSpec& o) {
    std::string left = std::string("  --") + o.name + (o.value ? std::string(" ") + o.value : "");
    out << left << std::string(left.size() < 26 ? 26 - left.size() : 1, ' ') << o.help << "\n";
  };
  for (const auto& o : command.options) print(o);
  for (const auto& o : kGlobalOptions) print(o);
}

void print_overview(std::ostream& out) {
  out << "redress — complaints and redress: ownership, commitments, escalation and closure\n\n"
         "usage: redress <command> [options]\n\ncommands:\n";
  for (const auto& c : commands()) {
    std::string words;
    for (const auto& w : c.words) words += (words.empty() ? "" : " ") + w;
    out << "  " << words << std::string(words.size() < 18 ? 18 - words.size() : 1, ' ') << c.summary << "\n";
  }
  out << "\nRun `redress <command> --help` for a command's options.\n";
}

int usage_error(const std::string& message, const CommandSpec* command) {
  std::cerr << "redress: " << message << "\n";
  if (command)
    print_usage(std::cerr, *command);
  else
    print_overview(std::cerr);
  return kExitUsage;
}

const OptionSpec* find_option(const CommandSpec& command, const std::string& name) {
  for (const auto& o : command.options)
    if (name == o.name) return &o;
  for (const auto& o : kGlobalOptions)
    if (name == o.name) return &o;
  return nullptr;
}

// Flags that are config keys; the rest stay command options.
bool is_config_key(const std::string& name) {
  static const std::set<std::string> keys = {"data-dir",
                                             "database",
                                             "workflows",
                                             "durability",
                                             "log-level",
                                             "listen",
                                             "threads",
                                             "smtp",
                                             "base-url",
                                             "clock",
                                             "log-format",
                                             "smtp-starttls",
                                             "smtp-tls-verify",
                                             "mail-from",
                                             "templates",
                                             "letters",
                                             "translations",
                                             "webhooks-allowed-networks",
                                             "max-body-bytes",
                                             "max-header-bytes",
                                             "read-timeout",
                                             "max-connections",
                                             "max-connections-per-address",
                                             "intake-rate-per-minute",
                                             "view-cache-mib",
                                             "sign-in-failures-per-address",
                                             "trusted-proxies",
                                             "retention-compact"};
  return keys.count(name) > 0;
}

}  // namespace

int run_cli(int argc, char** argv) {
  std::vector<std::string> words(argv + 1, argv + argc);
  if (words.empty()) return usage_error("no command given", nullptr);
  if (words[0] == "--help" || words[0] == "-h" || words[0] == "help") {
    print_overview(std::cout);
    return kExitOk;
  }
  if (words[0] == "--version") {
    std::cout << "redress 0.1.0\n";
    return kExitOk;
  }
  // The longest command whose words prefix the arguments.
  const CommandSpec* command = nullptr;
  for (const auto& c : commands()) {
    if (c.words.size() > words.size()) continue;
    if (!std::equal(c.words.begin(), c.words.end(), words.begin())) continue;
    if (!command || c.words.size() > command->words.size()) command = &c;
  }
  if (!command) {
    bool group = false;
    for (const auto& c : commands())
      if (c.words.size() > 1 && c.words[0] == words[0]) group = true;
    if (group) {
      std::string message = words.size() > 1 && words[1].rfind("--", 0) != 0
                                ? "unknown command \"" + words[0] + " " + words[1] + "\""
                                : "\"" + words[0] + "\" needs a subcommand";
      std::cerr << "redress: " << message << "\n";
      for (const auto& c : commands())
        if (c.words[0] == words[0])
          std::cerr << "  redress " << c.words[0] << " " << c.words[1] << "  " << c.summary << "\n";
      return kExitUsage;
    }
    return usage_error("unknown command \"" + words[0] + "\"", nullptr);
  }

  Arguments args;
  for (std::size_t i = command->words.size(); i < words.size(); ++i) {
    const std::string& word = words[i];
    if (word == "-h") {
      print_usage(std::cout, *command);
      return kExitOk;
    }
    if (word.rfind("--", 0) != 0) {
      args.positional.push_back(word);
      continue;
    }
    std::string name = word.substr(2);
    std::optional<std::string> value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const OptionSpec* spec = find_option(*command, name);
    if (!spec) return usage_error("unknown option --" + name, command);
    if (!spec->value) {
      if (value) return usage_error("--" + name + " takes no value", command);
      args.flags.insert(name);
      continue;
    }
    if (!value) {
      if (i + 1 >= words.size()) return usage_error("--" + name + " needs a value (" + spec->value + ")", command);
      value = words[++i];
    }
    args.values[name] = *value;
  }
  if (args.flags.count("help")) {
    print_usage(std::cout, *command);
    return kExitOk;
  }
  if (static_cast<int>(args.positional.size()) > command->max_positional)
    return usage_error("unexpected argument \"" + args.positional.front() + "\"", command);

  // Settings: defaults < file < environment < flags.
  std::string config_file = args.get("config");
  if (config_file.empty())
    if (const char* env = std::getenv("REDRESS_CONFIG")) config_file = env;
  if (!config_file.empty())
    if (auto s = apply_config_file(args.config, config_file); !s) {
      std::cerr << "redress: " << s.error().detail << "\n";
      return kExitUsage;
    }
  if (auto s = apply_environment(args.config); !s) {
    std::cerr << "redress: " << s.error().detail << "\n";
    return kExitUsage;
  }
  for (const auto& [name, value] : args.values)
    if (is_config_key(name))
      if (auto s = apply_setting(args.config, name, value, "--" + name); !s)
        return usage_error(s.error().detail, command);
  if (args.flags.count("clock")) args.config.clock = "manual";
  if (auto s = validate(args.config); !s) return usage_error(s.error().detail, command);
  return command->run(args);
}

}  // namespace redress
