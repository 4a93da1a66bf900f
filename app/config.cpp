#include "app/config.h"

#include <toml++/toml.h>

#include <cstdlib>
#include <filesystem>

namespace redress {

namespace {

// The intake secret examples/redress.toml ships: a server refuses to start with it.
constexpr std::string_view kSecretPlaceholder = "REPLACE-ME";

Status set_int(int& target, const std::string& value, const std::string& key, const std::string& source, int min,
               int max) {
  try {
    std::size_t used = 0;
    int parsed = std::stoi(value, &used);
    if (used != value.size() || parsed < min || parsed > max) throw std::out_of_range(key);
    target = parsed;
    return Status::success();
  } catch (const std::exception&) {
    return Error::invalid(source + ": " + key + " must be a whole number from " + std::to_string(min) + " to " +
                          std::to_string(max) + ", not \"" + value + "\"");
  }
}

std::string at(const std::string& path, const toml::node& node) {
  return path + ":" + std::to_string(node.source().begin.line) + ": ";
}

Status read_intake(Config& config, const toml::node& node, const std::string& path) {
  const auto* sources = node.as_table();
  if (!sources) return Error::invalid(at(path, node) + "intake: expected tables [intake.<source>]");
  for (const auto& [source_key, source_node] : *sources) {
    std::string name(source_key.str());
    std::string where = "intake." + name;
    const auto* table = source_node.as_table();
    if (!table) return Error::invalid(at(path, source_node) + where + ": expected a table");
    for (char c : name)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_')
        return Error::invalid(at(path, source_node) + where + ": source names use letters, digits, - and _");
    web::IntakeSource source;
    source.name = name;
    for (const auto& [k, v] : *table) {
      std::string key(k.str());
      if (key == "mapping") {
        const auto* mapping = v.as_table();
        if (!mapping)
          return Error::invalid(at(path, v) + where + ".mapping: expected a table of field = \"/json/pointer\"");
        for (const auto& [field, pointer] : *mapping) {
          auto text = pointer.value<std::string>();
          if (!text || (!text->empty() && text->front() != '/'))
            return Error::invalid(at(path, pointer) + where + ".mapping." + std::string(field.str()) +
                                  ": expected a JSON pointer like \"/customer/email\"");
          source.mapping.emplace_back(std::string(field.str()), *text);
        }
        continue;
      }
      if (key == "tolerance_seconds") {
        auto n = v.value<std::int64_t>();
        if (!n || *n < 1 || *n > 86400)
          return Error::invalid(at(path, v) + where + ".tolerance_seconds: expected 1..86400");
        source.tolerance_seconds = static_cast<int>(*n);
        continue;
      }
      auto text = v.value<std::string>();
      if (!text) return Error::invalid(at(path, v) + where + "." + key + ": expected a string");
      if (key == "secret")
        source.secret = *text;
      else if (key == "secret_env") {
        const char* value = std::getenv(text->c_str());
        if (!value || !*value)
          return Error::invalid(at(path, v) + where + ".secret_env: the variable " + *text + " is not set");
        source.secret = value;
      } else if (key == "channel")
        source.channel = *text;
      else if (key == "category")
        source.category = *text;
      else if (key == "workflow")
        source.workflow = *text;
      else
        return Error::invalid(at(path, v) + where + "." + key + ": unknown key");
    }
    if (source.secret.find(kSecretPlaceholder) != std::string::npos)
      return Error::invalid(at(path, source_node) + where +
                            ".secret is the example's placeholder, not a secret: make one with "
                            "echo \"whsec_$(openssl rand -base64 32)\" and put it there (or use secret_env)");
    if (source.secret.rfind("whsec_", 0) != 0 || source.secret.size() < 30)
      return Error::invalid(at(path, source_node) + where + ".secret: expected \"whsec_<base64>\" (at least 18 bytes)");
    config.intake[name] = std::move(source);
  }
  return Status::success();
}

// [[mailboxes]]: one table per mailbox.
Status read_mailboxes(Config& config, const toml::node& node, const std::string& path) {
  const auto* list = node.as_array();
  if (!list) return Error::invalid(at(path, node) + "mailboxes: expected [[mailboxes]] tables");
  for (const auto& entry : *list) {
    const auto* table = entry.as_table();
    if (!table) return Error::invalid(at(path, entry) + "mailboxes: expected [[mailboxes]] tables");
    inbound::MailboxSettings box;
    std::string where = "mailboxes[" + std::to_string(config.mailboxes.size()) + "]";
    for (const auto& [k, v] : *table) {
      std::string key(k.str());
      if (key == "poll_seconds") {
        auto n = v.value<std::int64_t>();
        if (!n || *n < 5 || *n > 86400) return Error::invalid(at(path, v) + where + ".poll_seconds: expected 5..86400");
        box.poll_interval = std::chrono::seconds(*n);
        continue;
      }
      auto text = v.value<std::string>();
      if (!text) return Error::invalid(at(path, v) + where + "." + key + ": expected a string");
      auto from_env = [&](std::string& into) -> Status {
        const char* value = std::getenv(text->c_str());
        if (!value || !*value)
          return Error::invalid(at(path, v) + where + "." + key + ": the variable " + *text + " is not set");
        into = value;
        return Status::success();
      };
      if (key == "name")
        box.name = *text;
      else if (key == "address")
        box.address = *text;
      else if (key == "url")
        box.url = *text;
      else if (key == "user")
        box.user = *text;
      else if (key == "password")
        box.password = *text;
      else if (key == "password_env") {
        if (auto s = from_env(box.password); !s) return s;
      } else if (key == "bearer_env") {
        if (auto s = from_env(box.bearer); !s) return s;
      } else if (key == "tls_verify") {
        if (*text != "verify" && *text != "none")
          return Error::invalid(at(path, v) + where + ".tls_verify: expected \"verify\" or \"none\"");
        box.verify_tls = *text == "verify";
      } else if (key == "workflow")
        box.workflow = *text;
      else if (key == "category")
        box.category = *text;
      else if (key == "touchpoint")
        box.touchpoint = *text;
      else
        return Error::invalid(at(path, v) + where + "." + key + ": unknown key");
    }
    if (box.name.empty()) return Error::invalid(at(path, entry) + where + ".name: is required");
    for (char c : box.name)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_')
        return Error::invalid(at(path, entry) + where + ".name: mailbox names use letters, digits, - and _");
    for (const auto& other : config.mailboxes)
      if (other.name == box.name) return Error::invalid(at(path, entry) + where + ".name: \"" + box.name + "\" twice");
    if (!box.url.empty() && box.url.rfind("imaps://", 0) != 0 && box.url.rfind("imap://", 0) != 0)
      return Error::invalid(at(path, entry) + where + ".url: expected imaps://host[:port]/MAILBOX");
    if (!box.url.empty() && box.user.empty()) return Error::invalid(at(path, entry) + where + ".user: is required with url");
    if (!box.url.empty() && box.password.empty() && box.bearer.empty())
      return Error::invalid(at(path, entry) + where + ": a password (password_env) or an OAuth2 token (bearer_env) is required");
    config.mailboxes.push_back(std::move(box));
  }
  return Status::success();
}

}  // namespace

Status apply_setting(Config& config, const std::string& key, const std::string& value, const std::string& source) {
  if (key == "data-dir" || key == "data_dir")
    config.data_dir = value;
  else if (key == "database" || key == "database_url" || key == "database-url")
    config.database = value;
  else if (key == "listen")
    config.listen = value;
  else if (key == "workflows")
    config.workflows = value;
  else if (key == "smtp" || key == "smtp_url" || key == "smtp-url")
    config.smtp_url = value;
  else if (key == "base-url" || key == "base_url")
    config.base_url = value;
  else if (key == "organisation")
    config.organisation = value;
  else if (key == "mail-from" || key == "mail_from")
    config.mail_from = value;
  else if (key == "mail-from-name" || key == "mail_from_name")
    config.mail_from_name = value;
  else if (key == "mail-reply-to" || key == "mail_reply_to")
    config.mail_reply_to = value;
  else if (key == "mail-domain" || key == "mail_domain")
    config.mail_domain = value;
  else if (key == "templates")
    config.templates = value;
  else if (key == "letters")
    config.letters = value;
  else if (key == "translations")
    config.translations = value;
  else if (key == "smtp-starttls" || key == "smtp_starttls")
    config.smtp_starttls = value;
  else if (key == "smtp-tls-verify" || key == "smtp_tls_verify")
    config.smtp_tls_verify = value;
  else if (key == "smtp-ca-file" || key == "smtp_ca_file")
    config.smtp_ca_file = value;
  else if (key == "webhooks-allowed-networks" || key == "webhooks_allowed_networks")
    config.webhooks_allowed_networks = value;
  else if (key == "threads")
    return set_int(config.threads, value, key, source, 0, 256);
  else if (key == "durability")
    config.durability = value;
  else if (key == "log-format" || key == "log_format")
    config.log_format = value;
  else if (key == "log-level" || key == "log_level")
    config.log_level = value;
  else if (key == "clock")
    config.clock = value;
  else if (key == "max-body-bytes" || key == "max_body_bytes") {
    int v = 0;
    if (auto s = set_int(v, value, key, source, 1024, 64 << 20); !s) return s;
    config.max_body_bytes = static_cast<std::size_t>(v);
  } else if (key == "max-header-bytes" || key == "max_header_bytes") {
    int v = 0;
    if (auto s = set_int(v, value, key, source, 1024, 1 << 20); !s) return s;
    config.max_header_bytes = static_cast<std::size_t>(v);
  } else if (key == "read-timeout" || key == "read_timeout_seconds") {
    return set_int(config.read_timeout_seconds, value, key, source, 1, 3600);
  } else if (key == "max-connections" || key == "max_connections") {
    return set_int(config.max_connections, value, key, source, 1, 1000000);
  } else if (key == "max-connections-per-address" || key == "max_connections_per_address") {
    return set_int(config.max_connections_per_address, value, key, source, 0, 1000000);
  } else if (key == "intake-rate-per-minute" || key == "intake_rate_per_minute") {
    return set_int(config.intake_rate_per_minute, value, key, source, 0, 1000000);
  } else if (key == "sign-in-failures-per-address" || key == "sign_in_failures_per_address") {
    return set_int(config.sign_in_failures_per_address, value, key, source, 0, 1000000);
  } else if (key == "trusted-proxies" || key == "trusted_proxies") {
    config.trusted_proxies = value;
  } else if (key == "retention-compact" || key == "retention_compact") {
    if (value != "on" && value != "off")
      return Error::invalid(source + ": " + key + " must be \"on\" or \"off\", not \"" + value + "\"");
    config.retention_compact = value;
  } else if (key == "view-cache-mib" || key == "view_cache_mib") {
    return set_int(config.view_cache_mib, value, key, source, 0, 65536);
  } else if (key == "inbound-per-sender-per-hour" || key == "inbound_per_sender_per_hour") {
    return set_int(config.inbound_per_sender_per_hour, value, key, source, 1, 100000);
  } else if (key == "backdate-window" || key == "backdate_window") {
    auto window = parse_duration(value);
    if (!window || window->total() < Duration::zero())
      return Error::invalid(source + ": " + key + " must be an ISO 8601 duration like \"P30D\", not \"" + value + "\"");
    config.backdate_window = value;
  } else if (key == "attachment-max-file-bytes" || key == "attachment_max_file_bytes") {
    return set_int(config.attachment_max_file_bytes, value, key, source, 1, 1 << 30);
  } else if (key == "attachment-max-files" || key == "attachment_max_files") {
    return set_int(config.attachment_max_files, value, key, source, 0, 1000);
  } else if (key == "attachment-max-total-bytes" || key == "attachment_max_total_bytes") {
    return set_int(config.attachment_max_total_bytes, value, key, source, 1, 1 << 30);
  } else if (key == "complaint-form-per-hour" || key == "complaint_form_per_hour") {
    return set_int(config.complaint_form_per_hour, value, key, source, 0, 1000000);
  } else {
    return Error::invalid(source + ": unknown setting \"" + key + "\"");
  }
  return Status::success();
}

Status apply_config_file(Config& config, const std::string& path) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return Error::invalid(path + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
  }
  for (const auto& [key, node] : table) {
    std::string name(key.str());
    if (name == "intake") {
      if (auto s = read_intake(config, node, path); !s) return s;
      continue;
    }
    if (name == "mailboxes") {
      if (auto s = read_mailboxes(config, node, path); !s) return s;
      continue;
    }
    std::string where = path + ":" + std::to_string(node.source().begin.line) + ": " + name;
    std::string value;
    if (auto s = node.value<std::string>())
      value = *s;
    else if (auto i = node.value<std::int64_t>())
      value = std::to_string(*i);
    else
      return Error::invalid(where + ": expected a string or a number");
    if (auto s = apply_setting(config, name, value, path + ":" + std::to_string(node.source().begin.line)); !s)
      return s;
  }
  return Status::success();
}

Status apply_environment(Config& config) {
  static const std::pair<const char*, const char*> kVariables[] = {
      {"REDRESS_DATA_DIR", "data_dir"},
      {"REDRESS_DATABASE_URL", "database"},
      {"REDRESS_LISTEN", "listen"},
      {"REDRESS_WORKFLOWS", "workflows"},
      {"REDRESS_SMTP_URL", "smtp_url"},
      {"REDRESS_BASE_URL", "base_url"},
      {"REDRESS_THREADS", "threads"},
      {"REDRESS_DURABILITY", "durability"},
      {"REDRESS_LOG_FORMAT", "log_format"},
      {"REDRESS_LOG_LEVEL", "log_level"},
      {"REDRESS_MAIL_FROM", "mail_from"},
      {"REDRESS_TEMPLATES", "templates"},
      {"REDRESS_LETTERS", "letters"},
      {"REDRESS_TRANSLATIONS", "translations"},
      {"REDRESS_WEBHOOKS_ALLOWED_NETWORKS", "webhooks_allowed_networks"},
      {"REDRESS_TRUSTED_PROXIES", "trusted_proxies"},
      {"REDRESS_MAX_CONNECTIONS_PER_ADDRESS", "max_connections_per_address"},
  };
  for (const auto& [variable, key] : kVariables)
    if (const char* value = std::getenv(variable); value && *value)
      if (auto s = apply_setting(config, key, value, variable); !s) return s;
  return Status::success();
}

Status validate(const Config& config) {
  if (config.durability != "full" && config.durability != "normal")
    return Error::invalid("durability must be \"full\" or \"normal\", not \"" + config.durability + "\"");
  if (config.log_format != "text" && config.log_format != "json")
    return Error::invalid("log format must be \"text\" or \"json\", not \"" + config.log_format + "\"");
  if (config.clock != "system" && config.clock != "manual")
    return Error::invalid("clock must be \"system\" or \"manual\", not \"" + config.clock + "\"");
  auto colon = config.listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == config.listen.size())
    return Error::invalid("listen must be HOST:PORT, not \"" + config.listen + "\"");
  if (config.data_dir.empty()) return Error::invalid("the data directory must not be empty");
  if (!config.database.empty() && config.database.rfind("postgresql://", 0) != 0 &&
      config.database.rfind("postgres://", 0) != 0)
    return Error::invalid("database must be a PostgreSQL URL like postgresql://user:password@host:5432/redress, not \"" +
                          config.database_name() + "\" (leave it out for SQLite in the data directory)");
  if (!config.smtp_starttls.empty() && config.smtp_starttls != "required" && config.smtp_starttls != "opportunistic" && config.smtp_starttls != "off")
    return Error::invalid("smtp_starttls must be \"required\", \"opportunistic\" or \"off\", not \"" +
                          config.smtp_starttls + "\"");
  if (config.smtp_tls_verify != "verify" && config.smtp_tls_verify != "none")
    return Error::invalid("smtp_tls_verify must be \"verify\" or \"none\", not \"" + config.smtp_tls_verify + "\"");
  if (config.mail_from.find('@') == std::string::npos)
    return Error::invalid("mail_from must be an email address, not \"" + config.mail_from + "\"");
  return Status::success();
}

std::string Config::database_name() const {
  if (database.empty()) return database_path();
  // postgresql://user:password@host/db → postgresql://user@host/db: never print a password.
  auto scheme = database.find("://");
  auto at = database.find('@', scheme == std::string::npos ? 0 : scheme + 3);
  if (scheme == std::string::npos || at == std::string::npos) return database;
  auto colon = database.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return database;
  return database.substr(0, colon) + database.substr(at);
}

std::string default_workflows_dir() {
  namespace fs = std::filesystem;
  std::error_code ec;
  // Installed layout first (<prefix>/share/redress/workflows), then the source tree it was built from.
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path installed = self.parent_path().parent_path() / "share" / "redress" / "workflows";
    if (fs::is_directory(installed, ec)) return installed.string();
  }
  return REDRESS_SOURCE_WORKFLOWS;
}

}  // namespace redress
