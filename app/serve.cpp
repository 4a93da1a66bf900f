// `redress serve`: the composition of the HTTP server, the API and the engine on the store.
#include <filesystem>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>

#include <condition_variable>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>

#include "adapters/i18n/catalogues.h"
#include "adapters/inbound/imap_poller.h"
#include "adapters/inbound/mail_pipeline.h"
#include "adapters/mail/smtp_mailer.h"
#include "adapters/outbox/deliveries.h"
#include "adapters/outbox/digest.h"
#include "adapters/postgres/listener.h"
#include "adapters/security/keyring.h"
#include "adapters/security/secrets.h"
#include "adapters/webhooks/http_sender.h"
#include "app/cli.h"
#include "app/privacy_commands.h"
#include "web/privacy.h"
#include "app/environment.h"
#include "engine/scheduler.h"
#include "web/api.h"
#include "web/client_address.h"
#include "web/pages/pages.h"
#include "web/server.h"
#include "web/token_cache.h"

namespace redress {

namespace {

void configure_logging(const Config& config) {
  auto logger = spdlog::stdout_logger_mt("redress");
  if (config.log_format == "json")
    logger->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","message":%v})", spdlog::pattern_time_type::utc);
  else
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::level::from_str(config.log_level));
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  spdlog::flush_every(std::chrono::seconds(1));
}

// The name this process holds leases under (the scheduler's, the outbox claims). The process that
// holds an exclusive flock on <data dir>/serve.lock is "<host>:<data dir>:serve": the kernel drops the lock
// when a process dies, even by SIGKILL, so a server restarted after a crash takes that name, and
// with it the leases its predecessor held, at once instead of after they run out (60 s for the
// scheduler, 5 min for mail). Any other process on the data dir gets a name of its own.
std::string lease_holder(const std::string& data_dir, const std::string& host) {
  std::string path = data_dir + "/serve.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  // The node's name, stable across its restarts: its host and its data directory, so that several
  // nodes on one host (each with its own directory, one database) never share a lease or a claim.
  if (fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) == 0) {  // fd stays open until exit
    std::error_code ec;
    auto dir = std::filesystem::weakly_canonical(data_dir, ec);
    return host + ":" + (ec ? data_dir : dir.string()) + ":serve";
  }
  if (fd >= 0) ::close(fd);
  return host + ":" + std::to_string(getpid()) + ":" + security::new_token("").substr(0, 8);
}

// How far below the server's other threads inbound mail runs (setpriority, per thread).
constexpr int kInboundNiceness = 10;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

int command_serve(const Arguments& args) {
  const Config& config = args.config;
  auto colon = config.listen.rfind(':');
  std::string host = config.listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = -1;
  try {
    port = std::stoi(config.listen.substr(colon + 1));
  } catch (const std::exception&) {}
  if (port < 0 || port > 65535) {
    std::cerr << "redress: --listen needs a port from 0 to 65535, not \"" << config.listen.substr(colon + 1) << "\"\n";
    return kExitUsage;
  }
  configure_logging(config);

  auto opened = open_environment(config, OpenOptions{});
  if (!opened) {
    std::cerr << "redress: " << opened.error().detail << "\n";
    return kExitFailure;
  }
  Environment& env = **opened;
  // On PostgreSQL the data directory holds only this node's server key (which every node of one
  // installation must share: docs/scaling.md), so it may not exist yet.
  if (env.postgres) {
    std::error_code ec;
    std::filesystem::create_directories(config.data_dir, ec);
  }
  auto keyring = security::Keyring::load_or_create(config.data_dir);
  if (!keyring) {
    std::cerr << "redress: " << keyring.error().detail << "\n";
    return kExitFailure;
  }
  std::string openapi = read_file(std::string(REDRESS_SOURCE_WEB) + "/openapi.json");
  if (openapi.empty()) {
    spdlog::warn("web/openapi.json was not found; /v1/openapi.json serves an empty document");
    openapi = "{}";
  }

  // The clients' languages (docs/languages.md): the catalogues this build compiled from po/, or the
  // folder configured. A broken catalogue stops the server here, as a broken template does.
  i18n::Catalogues catalogues;
  {
    const bool configured = !config.translations.empty();
    auto loaded = i18n::Catalogues::load(configured ? std::filesystem::path(config.translations)
                                                    : i18n::Catalogues::built_dir());
    if (loaded) {
      catalogues = std::move(loaded).value();
    } else if (configured || loaded.error().code != ErrorCode::kNotFound) {
      std::cerr << "redress: the translations: " << loaded.error().detail << "\n";
      return kExitFailure;
    } else {
      spdlog::warn("no compiled translations in {}: clients get English alone", i18n::Catalogues::built_dir().string());
    }
    std::string tags;
    for (const auto& language : catalogues.languages()) tags += (tags.empty() ? "" : ", ") + language->tag();
    spdlog::info("clients' languages: {}", tags);
  }

  web::Metrics metrics;
  auto& store = *env.store;
  // Bearer tokens are remembered while the credentials' generation stays where it was (a
  // deactivation, a role change or a revoked token moves it, on any node: web/token_cache.h), so a
  // request need not read the staff and token rows, and such a change is honoured at once on every
  // node: each request asks the database's generation. On SQLite that costs no statement while no
  // process has committed (adapters/sqlite/credentials_watch.h); on PostgreSQL it is one indexed
  // read. (An announcement heard by a listener would cost nothing, but arrives when that node's
  // listener thread gets to it: another node could answer one more request with the old rights.)
  web::TokenCache::Generation generation = [&store]() -> std::optional<std::int64_t> {
    auto current = store.credentials_generation();
    return current ? std::optional<std::int64_t>(*current) : std::nullopt;
  };
  web::TokenCache tokens([&store](const std::string& hash) { return store.staff_for_token(hash); },
                         std::move(generation), std::chrono::seconds(5));
  web::Router router([&tokens](const std::string& token) { return tokens.authenticate(token); });
  web::ServerOptions options;
  options.host = host;
  options.port = static_cast<unsigned short>(port);
  options.threads =
      config.threads > 0 ? config.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  options.max_body_bytes = config.max_body_bytes;
  options.max_header_bytes = config.max_header_bytes;
  // A form with files may carry every file of one message besides its text fields.
  options.max_upload_bytes = std::max(
      config.max_body_bytes, static_cast<std::size_t>(config.attachment_max_total_bytes) + config.max_body_bytes);
  options.read_timeout = std::chrono::seconds(config.read_timeout_seconds);
  options.max_connections = config.max_connections;
  options.max_connections_per_address = config.max_connections_per_address;
  options.json_logs = config.log_format == "json";
  auto proxies = web::parse_trusted_proxies(config.trusted_proxies);
  if (!proxies) {
    std::cerr << "redress: " << proxies.error().detail << "\n";
    return kExitUsage;
  }
  options.trusted_proxies = std::move(proxies).value();
  web::Server server(options, router, metrics);

  web::WebSettings web_settings;
  web_settings.intake_rate_per_minute = config.intake_rate_per_minute;
  web_settings.view_cache_mib = config.view_cache_mib;
  web_settings.intake = config.intake;
  web_settings.organisation = config.organisation;
  if (auto window = parse_duration(config.backdate_window)) web_settings.backdate_window = window->total();
  web_settings.attachments.max_file_bytes = config.attachment_max_file_bytes;
  web_settings.attachments.max_files = config.attachment_max_files;
  web_settings.attachments.max_total_bytes = config.attachment_max_total_bytes;
  web_settings.complaint_form_per_hour = config.complaint_form_per_hour;
  web::ApiContext api{*env.engine, store,   store, store, store, store, store, store, *keyring, web_settings,
                      metrics,     nullptr, {},    {},    {},    {},    {},    {},    {},
                      nullptr,     nullptr, nullptr, {},    {},    {},    {},    &store, &store, nullptr};
  api.manual_clock = env.clock->is_manual() ? static_cast<ManualClock*>(env.clock.get()) : nullptr;
  api.openapi_document = std::move(openapi);
  api.languages = &catalogues;
  // After a change to staff or a token: this node forgets its look-ups now (the others see the
  // generation move at their next request).
  api.on_staff_changed = [&tokens] { tokens.clear(); };
  api.defer = [&server](std::function<void()> work) { boost::asio::post(server.io(), std::move(work)); };
  // Business calendars that end within 90 days: said now, in /healthz and on the board.
  for (const auto& ending : calendars_ending(env.engine->workflows(), env.clock->now()))
    spdlog::warn("{}", calendar_warning(ending));
  // The letters each standard ships (web/letters.h): a letter that lacks what its standard
  // requires, or a standard without its letters, is refused here rather than at the first case.
  auto letters = web::LetterTemplates::load(
      config.letters.empty() ? web::LetterTemplates::shipped_dir() : std::filesystem::path(config.letters),
      env.engine->workflows(), catalogues);
  if (!letters) {
    std::cerr << "redress: the letter templates: " << letters.error().detail << "\n";
    return kExitFailure;
  }
  api.letters = std::make_shared<const web::LetterTemplates>(std::move(letters).value());
  // Personal data (web/privacy.h): the store's side, and the erasure ledger beside the database,
  // whose requests a restored database lacks are applied again before anything is served.
  auto erasure_ledger = open_erasure_ledger(config);
  if (!erasure_ledger) {
    std::cerr << "redress: " << erasure_ledger.error().detail << "\n";
    return kExitFailure;
  }
  api.personal = &store;
  api.erasure_ledger = &*erasure_ledger;
  const web::PrivacySources privacy{store, env.engine->workflows(), *env.clock, &*erasure_ledger};
  if (auto reapplied = web::reapply_ledger(privacy); !reapplied)
    spdlog::warn("erasure ledger: {}", reapplied.error().detail);
  else if (*reapplied > 0)
    spdlog::warn("erasure ledger: the database lacked erasures the ledger records (restored from a backup?); "
                 "{} cases erased or restricted again",
                 *reapplied);
  web::register_api(router, api);
  auto pages = web::load_pages(api, REDRESS_SOURCE_WEB);
  if (!pages) {
    std::cerr << "redress: the web pages: " << pages.error().detail << "\n";
    return kExitFailure;
  }
  web::SignInPolicy sign_in;
  sign_in.address_failures = config.sign_in_failures_per_address;
  web::set_sign_in_policy(*pages, sign_in);
  web::register_pages(router, *pages);

  // The scheduler fires breaches, warnings and automatic closure at their time; a commit that sets
  // an earlier wake time wakes it. Under the manual clock, /v1/admin/clock runs it before answering.
  char hostname[256] = {};
  (void)gethostname(hostname, sizeof hostname - 1);
  Scheduler::Options scheduler_options;
  scheduler_options.holder = lease_holder(config.data_dir, hostname);
  spdlog::info("leases are held as {}", scheduler_options.holder);
  Scheduler scheduler(*env.engine, scheduler_options);
  scheduler.on_failure = [](const std::string& reference, const std::string& reason) {
    spdlog::warn("scheduler: {} could not be fired: {}", reference, reason);
  };
  // The outbox workers deliver what every change owes: mail over SMTP (only with --smtp; without
  // it mail waits in the outbox) and signed web hooks.
  auto templates = mail::MailTemplates::load(
      config.templates.empty() ? mail::MailTemplates::shipped_dir() : std::filesystem::path(config.templates),
      catalogues);
  if (!templates) {
    std::cerr << "redress: the mail templates: " << templates.error().detail << "\n";
    return kExitFailure;
  }
  mail::MailSettings mail_settings;
  mail_settings.organisation = config.organisation;
  mail_settings.from = mail::MailAddress{config.mail_from_name, config.mail_from};
  if (!config.mail_reply_to.empty()) mail_settings.reply_to = mail::MailAddress{"", config.mail_reply_to};
  mail_settings.domain =
      config.mail_domain.empty() ? config.mail_from.substr(config.mail_from.find('@') + 1) : config.mail_domain;
  if (!config.mailboxes.empty()) mail_settings.reply_mailbox = config.mailboxes.front().address;

  // Inbound email: one pipeline for POST /v1/inbound/email (and `redress mailgate` through it) and
  // the mailboxes the server polls. Its work waits for durable writes, so it runs on a pool of its own.
  inbound::InboundSettings inbound_settings;
  inbound_settings.domain = mail_settings.domain;
  inbound_settings.mailboxes = config.mailboxes;
  inbound_settings.max_messages_per_sender_per_hour = config.inbound_per_sender_per_hour;
  inbound_settings.max_files = config.attachment_max_files;
  inbound_settings.max_file_bytes = config.attachment_max_file_bytes;
  inbound_settings.max_total_bytes = config.attachment_max_total_bytes;
  inbound::MailPipeline mail_pipeline(*env.engine, store, store, store, *keyring, inbound_settings);
  boost::asio::thread_pool inbound_pool(4);
  api.mail_intake = &mail_pipeline;
  api.inbound_records = &store;
  api.blobs = &store;
  // Below the engine's priority: parsing mail must not slow the answers to staff and clients.
  api.blocking = [&inbound_pool](std::function<void()> work) {
    boost::asio::post(inbound_pool, [work = std::move(work)] {
      static thread_local bool lowered =
          (void(setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), kInboundNiceness)), true);
      (void)lowered;
      work();
    });
  };
  // Each mailbox with an IMAP account is polled by every node; its lease lets one poll at a time.
  std::vector<std::unique_ptr<inbound::ImapPoller>> pollers;
  std::vector<std::chrono::seconds> poll_intervals;
  for (const auto& box : config.mailboxes) {
    if (box.url.empty()) continue;
    inbound::ImapMailboxSettings imap;
    imap.name = box.name;
    imap.url = box.url;
    imap.user = box.user;
    imap.password = box.password;
    imap.bearer = box.bearer;
    imap.tls = box.verify_tls ? inbound::TlsCheck::kVerify : inbound::TlsCheck::kSkipVerify;
    pollers.push_back(std::make_unique<inbound::ImapPoller>(imap, scheduler_options.holder + ":" + box.name,
                                                            mail_pipeline, store, store, *env.clock));
    poll_intervals.push_back(box.poll_interval);
    spdlog::info("mailbox {}: polling {} every {} s", box.name, box.url, box.poll_interval.count());
  }
  auto log_attempt = [](const char* channel) {
    return [channel](const OutboxItem& item, const DeliveryRecord& record) {
      spdlog::info("outbox: {} n-{} {} ({}) {}: {}", channel, item.id, item.template_name, item.reference,
                   to_string(record.next), record.attempt.detail);
    };
  };
  std::unique_ptr<outbox::MailDelivery> mail_delivery;
  std::unique_ptr<outbox::OutboxWorker> mail_worker;
  std::unique_ptr<outbox::DigestJob> digest;  // the managers' daily digest, with --smtp
  std::mutex digest_mutex;
  if (!config.smtp_url.empty()) {
    mail::SmtpOptions smtp;
    smtp.url = config.smtp_url;
    // Unset: a relay on a loopback address is spoken to in clear (nothing leaves the machine);
    // anywhere else STARTTLS is required.
    std::string starttls = config.smtp_starttls;
    if (starttls.empty()) starttls = mail::url_host_is_loopback(config.smtp_url) ? "off" : "required";
    smtp.starttls = starttls == "off"             ? mail::StartTls::kOff
                    : starttls == "opportunistic" ? mail::StartTls::kOpportunistic
                                                  : mail::StartTls::kRequired;
    smtp.verification =
        config.smtp_tls_verify == "none" ? mail::TlsVerification::kNoVerification : mail::TlsVerification::kVerify;
    smtp.ca_file = config.smtp_ca_file;
    auto mailer = mail::SmtpMailer::create(smtp);
    if (!mailer) {
      std::cerr << "redress: --smtp: " << mailer.error().detail << "\n";
      return kExitFailure;
    }
    spdlog::info("mail goes out through {}", (*mailer)->description());
    mail_delivery = std::make_unique<outbox::MailDelivery>(store, store, env.workflows, *keyring, *templates, mail_settings,
                                                           api.base_url, std::move(mailer).value(), catalogues);
    outbox::OutboxWorker::Options o;
    o.holder = scheduler_options.holder + ":mail";
    o.channel = NotificationDraft::Channel::kEmail;
    mail_worker = std::make_unique<outbox::OutboxWorker>(store, *env.clock, o, *mail_delivery);
    // Mail that does not go out is a warning in the log and a degraded /healthz until one goes.
    api.mail_health = std::make_shared<web::MailHealth>();
    mail_worker->on_attempt = [health = api.mail_health, clock = env.clock.get()](const OutboxItem& item,
                                                                                 const DeliveryRecord& record) {
      if (record.next == OutboxState::kDelivered) {
        spdlog::info("outbox: mail n-{} {} ({}) delivered: {}", item.id, item.template_name, item.reference,
                     record.attempt.detail);
        health->delivered();
        return;
      }
      spdlog::warn("outbox: mail n-{} {} ({}) not delivered ({}): {}", item.id, item.template_name, item.reference,
                   to_string(record.next), record.attempt.detail);
      health->failed(record.attempt.detail, clock->now());
    };
    auto digest_mailer = mail::SmtpMailer::create(smtp);
    if (!digest_mailer) {
      std::cerr << "redress: --smtp: " << digest_mailer.error().detail << "\n";
      return kExitFailure;
    }
    digest = std::make_unique<outbox::DigestJob>(store, store, store, *templates, mail_settings, api.base_url,
                                                 std::move(digest_mailer).value(), store, scheduler_options.holder);
  } else {
    spdlog::warn("no --smtp given: mail is written to the outbox and waits there");
  }
  webhooks::HttpWebhookOptions hook_options;
  for (std::size_t start = 0; start < config.webhooks_allowed_networks.size();) {
    auto comma = config.webhooks_allowed_networks.find(',', start);
    std::string part =
        config.webhooks_allowed_networks.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    part.erase(0, part.find_first_not_of(' '));
    part.erase(part.find_last_not_of(' ') + 1);
    if (part == "all")
      hook_options.private_networks = webhooks::PrivateNetworks::kAllow;
    else if (!part.empty()) {
      auto cidr = network::parse_cidr(part);
      if (!cidr) {
        std::cerr << "redress: webhooks_allowed_networks: \"" << part << "\" is not a CIDR range like 10.0.0.0/8\n";
        return kExitUsage;
      }
      hook_options.allowed_networks.push_back(*cidr);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  outbox::WebhookDelivery hook_delivery(store, store, *keyring,
                                        std::make_unique<webhooks::HttpWebhookSender>(hook_options));
  outbox::OutboxWorker::Options hook_worker_options;
  hook_worker_options.holder = scheduler_options.holder + ":webhooks";
  hook_worker_options.channel = NotificationDraft::Channel::kWebhook;
  outbox::OutboxWorker hook_worker(store, *env.clock, hook_worker_options, hook_delivery);
  hook_worker.on_attempt = log_attempt("webhook");

  api.on_outbox_retry = [&mail_worker, &hook_worker] {
    if (mail_worker) mail_worker->notify();
    hook_worker.notify();
  };
  env.engine->set_observer([&scheduler, &mail_worker, &hook_worker](const Committed& committed) {
    if (committed.change.wake == Change::Wake::kSet) scheduler.notify(committed.change.wake_at);
    if (!committed.change.notifications.empty()) {
      if (mail_worker) mail_worker->notify();
      hook_worker.notify();
    }
  });
  // On PostgreSQL another node's commit may set an earlier wake time or owe mail: its NOTIFY wakes
  // this node's scheduler and workers (adapters/postgres/listener.h); their polling stays the fallback.
  std::unique_ptr<postgres::Listener> listener;
  if (env.postgres) {
    listener = std::make_unique<postgres::Listener>(
        config.database,
        [&scheduler, &mail_worker, &hook_worker, &env, &tokens](const postgres::Wake& wake) {
          // Another node moved the credentials' generation: forget the look-ups now (each request
          // also asks the generation itself, so this only saves the next one a second read).
          if (wake.credentials) tokens.clear();
          if (wake.wake_at) scheduler.notify(*wake.wake_at);
          if (wake.reconnected) scheduler.notify(env.clock->now());
          if (wake.outbox) {
            if (mail_worker) mail_worker->notify();
            hook_worker.notify();
          }
        });
  }
  // The retention run: once a day (UTC) across every process on the database, under a lease.
  std::mutex retention_mutex;
  const auto compaction =
      config.retention_compact == "on" ? web::RetentionCompaction::kAfterErasure : web::RetentionCompaction::kOff;
  auto run_retention = [&retention_mutex, &privacy, &store, &api, compaction,
                        holder = scheduler_options.holder + ":retention"] {
    std::lock_guard lock(retention_mutex);
    auto report = web::run_retention_if_due(privacy, store, holder, compaction);
    if (!report) {
      spdlog::warn("retention run: {}", report.error().detail);
      return;
    }
    if (!*report) return;
    spdlog::info("retention run: {}", (*report)->summary());
    if (api.view_cache)
      for (const auto& reference : (*report)->erased) api.view_cache->forget(reference);
    if (!(*report)->compaction) return;
    for (const auto& step : (*report)->compaction->steps)
      if (step.outcome == StepOutcome::kDone)
        spdlog::info("retention run: compaction: {} ({} ms)", step.name, step.took.count());
      else
        spdlog::warn("retention run: compaction: {}: {}", step.name, step.detail);
    for (const auto& left : (*report)->compaction->copies_left) spdlog::warn("retention run: compaction: {}", left);
  };
  api.on_clock_moved = [&scheduler, &mail_worker, &hook_worker, &digest, &digest_mutex, &env, &run_retention] {
    run_retention();
    if (digest) {
      std::lock_guard lock(digest_mutex);
      (void)digest->run_due(env.clock->now());
    }
    auto report = scheduler.run_due();
    if (report.cases || report.failed)
      spdlog::info("clock moved: {} cases fired, {} failed", report.cases, report.failed);
    // Retries that fell due go out too (the workers wake by themselves, but not on a manual clock).
    if (mail_worker) mail_worker->notify();
    hook_worker.notify();
  };

  if (auto started = server.start(); !started) {
    std::cerr << "redress: " << started.error().detail << "\n";
    return kExitFailure;
  }
  api.base_url = config.base_url.empty() ? "http://" + host + ":" + std::to_string(server.port()) : config.base_url;
  while (!api.base_url.empty() && api.base_url.back() == '/') api.base_url.pop_back();
  scheduler.start();
  if (mail_worker) mail_worker->start();
  hook_worker.start();
  if (listener) listener->start();
  // The digest looks every 10 minutes; it sends each day's once, from 08:00 UTC.
  std::mutex digest_wait_mutex;
  std::condition_variable digest_wake;
  bool digest_stopping = false;
  std::thread digest_thread;
  if (digest)
    digest_thread = std::thread([&] {
      std::unique_lock lock(digest_wait_mutex);
      while (!digest_stopping) {
        lock.unlock();
        {
          std::lock_guard run(digest_mutex);
          (void)digest->run_due(env.clock->now());
        }
        lock.lock();
        digest_wake.wait_for(lock, std::chrono::minutes(10), [&] { return digest_stopping; });
      }
    });
  // The retention run looks every 10 minutes (it runs once a day); with the digest's stop.
  std::thread retention_thread([&] {
    std::unique_lock lock(digest_wait_mutex);
    while (!digest_stopping) {
      lock.unlock();
      run_retention();
      lock.lock();
      digest_wake.wait_for(lock, std::chrono::minutes(10), [&] { return digest_stopping; });
    }
  });
  // The mailboxes: one thread each, polling at the mailbox's interval until shutdown.
  std::mutex poll_mutex;
  std::condition_variable poll_wake;
  bool polling_stopped = false;
  std::vector<std::thread> poll_threads;
  for (std::size_t i = 0; i < pollers.size(); ++i)
    poll_threads.emplace_back([&, i] {
      (void)setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), kInboundNiceness);
      std::unique_lock lock(poll_mutex);
      while (!polling_stopped) {
        lock.unlock();
        auto round = pollers[i]->poll_once();
        if (!round)
          spdlog::warn("mailbox poll: {}", round.error().detail);
        else if (!round->taken.empty() || !round->stopped.empty())
          spdlog::info("mailbox poll: {} messages taken{}{}", round->taken.size(),
                       round->stopped.empty() ? "" : "; stopped: ", round->stopped);
        lock.lock();
        poll_wake.wait_for(lock, poll_intervals[i], [&] { return polling_stopped; });
      }
    });
  spdlog::info("listening on http://{}:{} ({} threads, {} clock, database {})", host, server.port(), options.threads,
               env.clock->is_manual() ? "manual" : "system", config.database_name());
  spdlog::default_logger()->flush();

  // SIGTERM / SIGINT: stop accepting, finish what is in flight, flush the store, exit 0.
  boost::asio::io_context signals_io;
  boost::asio::signal_set signals(signals_io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int signal) {
    spdlog::info("signal {}: stopping; finishing requests in flight", signal);
    server.stop();
  });
  std::thread signal_thread([&] { signals_io.run(); });
  server.wait(std::chrono::seconds(60));
  signals_io.stop();
  signal_thread.join();
  if (listener) listener->stop();  // before what it wakes
  scheduler.stop();
  if (mail_worker) mail_worker->stop();
  hook_worker.stop();
  {
    std::lock_guard lock(digest_wait_mutex);
    digest_stopping = true;
  }
  digest_wake.notify_all();
  if (digest_thread.joinable()) digest_thread.join();
  retention_thread.join();
  {
    std::lock_guard lock(poll_mutex);
    polling_stopped = true;
  }
  poll_wake.notify_all();
  for (auto& t : poll_threads) t.join();
  inbound_pool.join();
  env.store->flush();
  spdlog::info("stopped; every acknowledged request is committed");
  spdlog::default_logger()->flush();
  return kExitOk;
}

}  // namespace redress
