// Config: how a `redress` process is set up.
//
// Values come, lowest precedence first, from built-in defaults, a TOML file (`--config FILE`),
// `REDRESS_*` environment variables, then command-line flags. Loading reports the file, line and
// key of any error. Plain value; thread-compatible.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "engine/result.h"
#include "adapters/inbound/inbound_settings.h"
#include "web/settings.h"

namespace redress {

struct Config {
  std::string data_dir = "./data";
  // Where the data lives: empty for the embedded SQLite file in data_dir; "postgresql://…" for a
  // PostgreSQL database that any number of nodes share (docs/scaling.md).
  std::string database;
  std::string listen = "127.0.0.1:8080";
  std::string workflows;            // empty: the shipped workflows/ folder
  std::string smtp_url;             // empty: mail waits in the outbox
  std::string base_url;             // for links in mail; empty: http://<listen>
  int threads = 0;                  // 0: one per core
  std::string durability = "full";  // "full" or "normal" (see README: Durability)
  std::string log_format = "text";  // "text" or "json"
  std::string log_level = "info";
  std::string clock = "system";  // "system" or "manual"
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_header_bytes = 16 << 10;
  int read_timeout_seconds = 15;
  int max_connections = 10000;
  int max_connections_per_address = 16;             // per client address (web/server.h); 0: no cap
  int intake_rate_per_minute = 600;                 // per intake source or intake token; 0: no limit
  int view_cache_mib = 32;                          // rendered case views kept (web/view_cache.h); 0: none
  int sign_in_failures_per_address = 30;            // per 15 minutes, per node (docs/security.md); 0: no limit
  std::string trusted_proxies;                      // comma-separated ranges whose X-Forwarded-For is believed
  std::string retention_compact = "off";            // "on": the daily retention run compacts after erasing
  std::map<std::string, web::IntakeSource> intake;  // by source name (web/settings.h)
  // Receipt times, attachments and the public form (web/settings.h, docs/complaint-form.md).
  std::string backdate_window = "P30D";  // ISO 8601 duration
  int attachment_max_file_bytes = 10 << 20;
  int attachment_max_files = 10;
  int attachment_max_total_bytes = 25 << 20;
  int complaint_form_per_hour = 10;

  // Mail (docs/email.md): who it comes from, the message-id domain, the templates.
  std::string organisation = "Redress";
  std::string mail_from = "complaints@redress.invalid";
  std::string mail_from_name = "Complaints team";
  std::string mail_reply_to;               // empty: replies go to mail_from
  std::string mail_domain;                 // Message-ID domain; empty: mail_from's domain
  std::string templates;                   // empty: the shipped templates/email
  std::string letters;                     // empty: the shipped templates/letters (web/letters.h)
  // The clients' languages: compiled catalogues, <dir>/<tag>/LC_MESSAGES/redress.mo
  // (docs/languages.md); empty: the ones this build compiled from po/.
  std::string translations;
  // "required", "opportunistic" or "off"; empty: "off" for a relay on a loopback address, else "required"
  std::string smtp_starttls;
  std::string smtp_tls_verify = "verify";  // "verify" or "none"
  std::string smtp_ca_file;
  // Web hooks out (docs/webhooks.md): private, loopback and link-local receivers are refused
  // unless allowed here (comma-separated CIDRs, or "all" for any private address).
  std::string webhooks_allowed_networks;
  // Inbound email (docs/inbound-email.md): the mailboxes ([[mailboxes]]), the first the default,
  // and the hourly cap on messages acted on per sender (a mail storm beyond it is kept, not acted on).
  std::vector<inbound::MailboxSettings> mailboxes;
  int inbound_per_sender_per_hour = 30;

  [[nodiscard]] std::string database_path() const { return data_dir + "/redress.db"; }
  // The database as a user names it: the URL without its password, or the SQLite file's path.
  [[nodiscard]] std::string database_name() const;
};

// Reads the TOML file into `config` (keys override what is there).
[[nodiscard]] Status apply_config_file(Config& config, const std::string& path);
// Applies REDRESS_DATA_DIR, REDRESS_LISTEN, REDRESS_WORKFLOWS, REDRESS_SMTP_URL, REDRESS_BASE_URL,
// REDRESS_THREADS, REDRESS_DURABILITY, REDRESS_LOG_FORMAT, REDRESS_LOG_LEVEL, REDRESS_CONFIG is read by the caller.
[[nodiscard]] Status apply_environment(Config& config);
// Applies one flag by its long name (without dashes); kInvalid when the name is not a config key.
[[nodiscard]] Status apply_setting(Config& config, const std::string& key, const std::string& value,
                                   const std::string& source);
// Fails with a clear message when a value is out of range (bad durability, port, threads...).
[[nodiscard]] Status validate(const Config& config);

// The shipped workflows folder: next to the binary's source tree, or installed beside it.
[[nodiscard]] std::string default_workflows_dir();

}  // namespace redress
