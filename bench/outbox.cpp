// bench/outbox: mail through the whole outbox, and what delivering costs the engine.
//
//   build/bench/outbox [--cases N] [--runs K] [--sink /usr/sbin/smtp-sink]
//
// Each run uses a fresh database (durability FULL) and Postfix's smtp-sink on a free loopback port:
//   Engine alone:     N FCA complaints created through the engine (each acknowledged on intake,
//                     so each owes the client a mail, written to the outbox in its transaction);
//                     cases/s with no worker running.
//   Engine + worker:  N more, while an OutboxWorker drains the outbox to smtp-sink on its own
//                     thread; cases/s. Their ratio is the cost of delivering to the engine
//                     (issue 5: the outbox costs the engine's durable actions/s <= 10%).
//   Drain:            N more created with no worker running, then their mail delivered by
//                     run_once on one thread: claim with a
//                     lease, load the case, render, compose, send over one SMTP connection, record
//                     each attempt; mails/s (issue 5: >= 1,000 mails/s).
// Prints each run and the medians of K runs.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "adapters/mail/smtp_mailer.h"
#include "adapters/outbox/deliveries.h"
#include "app/environment.h"
#include "smtp_sink.h"

using namespace redress;
using namespace redress::bench;
namespace fs = std::filesystem;
using Steady = std::chrono::steady_clock;

namespace {

double seconds(Steady::duration d) { return std::chrono::duration<double>(d).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// Creates `n` FCA cases through the engine, all in flight at once; seconds taken.
double create_cases(Environment& env, int n, int offset) {
  std::vector<std::promise<Result<Committed>>> done(static_cast<std::size_t>(n));
  auto begin = Steady::now();
  for (int i = 0; i < n; ++i) {
    NewCase c;
    c.client = Client{"Client " + std::to_string(offset + i), "client" + std::to_string(offset + i) + "@example.org",
                      "", "en-GB"};
    c.category = "banking";
    c.subject = "Charged twice";
    c.description = "bench";
    env.engine->create_case(c, Actor::intake("bench"), "", "", [&done, i](Result<Committed> r) {
      done[static_cast<std::size_t>(i)].set_value(std::move(r));
    });
  }
  for (auto& d : done)
    if (!d.get_future().get()) std::exit(1);
  return seconds(Steady::now() - begin);
}

}  // namespace

int main(int argc, char** argv) {
  int cases = 5000, runs = 3;
  std::string sink = "/usr/sbin/smtp-sink";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--cases")
      cases = std::max(1, std::stoi(value));
    else if (flag == "--runs")
      runs = std::max(1, std::stoi(value));
    else if (flag == "--sink")
      sink = value;
    else {
      std::fprintf(stderr, "usage: outbox [--cases N] [--runs K] [--sink PATH]\n");
      return 2;
    }
  }
  int port = free_port();
  pid_t sink_pid = start_sink(sink, port, "bench/outbox");
  auto templates = mail::MailTemplates::load(mail::MailTemplates::shipped_dir());
  if (!templates) return 1;
  security::Keyring keyring = security::Keyring::from_bytes(std::array<unsigned char, 32>{1});
  mail::MailSettings settings;
  settings.organisation = "Acme Bank";
  settings.from = mail::MailAddress{"Acme Complaints", "complaints@acme.example"};
  settings.domain = "acme.example";
  std::string base_url = "https://complaints.acme.example";
  std::printf("bench/outbox: %d cases per phase, %d runs, smtp-sink on 127.0.0.1:%d\n", cases, runs, port);

  std::vector<double> alone, with_worker, drain;
  for (int run = 0; run < runs; ++run) {
    fs::path dir =
        fs::temp_directory_path() / ("redress-bench-outbox-" + std::to_string(::getpid()) + "-" + std::to_string(run));
    fs::remove_all(dir);
    Config config;
    config.data_dir = dir.string();
    config.workflows = REDRESS_SOURCE_WORKFLOWS;
    OpenOptions options;
    options.migrate_if_needed = true;
    auto env = open_environment(config, options);
    if (!env) {
      std::fprintf(stderr, "bench/outbox: %s\n", env.error().detail.c_str());
      return 1;
    }
    mail::SmtpOptions smtp;
    smtp.url = "smtp://127.0.0.1:" + std::to_string(port);
    smtp.starttls = mail::StartTls::kOff;
    auto mailer = mail::SmtpMailer::create(smtp);
    if (!mailer) return 1;
    outbox::MailDelivery delivery(*(*env)->store, *(*env)->store, (*env)->workflows, keyring, *templates, settings, base_url,
                                  std::move(mailer).value());
    outbox::OutboxWorker::Options o;
    o.holder = "bench";
    o.batch = 256;
    outbox::OutboxWorker worker(*(*env)->store, *(*env)->clock, o, delivery);
    int failures = 0;
    worker.on_attempt = [&failures](const OutboxItem&, const DeliveryRecord& r) {
      failures += r.next != OutboxState::kDelivered;
    };

    double a = cases / create_cases(**env, cases, 0);
    (*env)->engine->set_observer([&worker](const Committed&) { worker.notify(); });
    worker.start();
    double b = cases / create_cases(**env, cases, cases);
    worker.stop();
    (void)worker.run_once();  // what phase 2 left
    (*env)->engine->set_observer(nullptr);
    (void)create_cases(**env, cases, 2 * cases);
    auto begin = Steady::now();
    int sent = worker.run_once();
    double c = sent / std::max(1e-9, seconds(Steady::now() - begin));
    alone.push_back(a);
    with_worker.push_back(b);
    drain.push_back(c);
    std::printf(
        "run %d: engine alone %.0f cases/s | with the worker delivering %.0f cases/s (ratio %.2f) | drain %d mails at "
        "%.0f mails/s%s\n",
        run + 1, a, b, b / a, sent, c, failures ? (" | " + std::to_string(failures) + " not delivered").c_str() : "");
    env->reset();
    fs::remove_all(dir);
  }
  std::printf(
      "median of %d runs: engine alone %.0f cases/s, with the worker %.0f cases/s, ratio %.2f (cost %.0f%%); "
      "outbox drain %.0f mails/s\n",
      runs, median(alone), median(with_worker), median(with_worker) / median(alone),
      100.0 * (1.0 - median(with_worker) / median(alone)), median(drain));
  std::printf("targets (issue 5): >= 1,000 mails/s; the outbox costs the engine <= 10%%\n");
  ::kill(sink_pid, SIGTERM);
  ::waitpid(sink_pid, nullptr, 0);
  return 0;
}
