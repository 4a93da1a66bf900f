// bench/mail: mails per second through SmtpMailer over one reused connection, against plain
// libcurl SMTP sends of the same bytes, in the same run.
//
//   build/bench/mail [--mails N] [--runs K] [--sink /usr/sbin/smtp-sink]
//
// The SMTP peer is Postfix's smtp-sink (Debian package postfix), started on a free loopback port
// and stopped at the end; it accepts every mail and keeps nothing. Each run:
//   Mailer:   one SmtpMailer sends N different, already composed notifications (the outbox
//             worker's cost per attempt: reply tracking, classification) over one connection.
//   Baseline: one plain CURL easy handle sends the same N messages, with only the options SMTP
//             needs (no reply tracking), over one connection.
//   Compose:  N notifications rendered from the shipped templates and composed (CPU only).
// Prints each run, then the medians of K runs, the ratio mailer/baseline, and the end-to-end rate
// of render + compose + send on one worker thread.
#include <curl/curl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "adapters/mail/mail_context.h"
#include "adapters/mail/mime.h"
#include "adapters/mail/smtp_mailer.h"
#include "adapters/mail/templates.h"
#include "smtp_sink.h"

using namespace redress;
using namespace redress::bench;
using SteadyClock = std::chrono::steady_clock;

namespace {

struct Options {
  int mails = 5000;
  int runs = 5;
  std::string sink = "/usr/sbin/smtp-sink";
};

// A realistic acknowledgement: the shipped template, a case with a pledge and an owner.
boost::json::object sample_context(const mail::MailSettings& settings) {
  static CaseSnapshot snapshot;
  snapshot.record.reference = "CMP-2026-000042";
  snapshot.record.client = {"Zoë O'Brien", "zoe@example.org", "", "en-GB"};
  snapshot.record.subject = "Charged twice for my March bill";
  snapshot.record.team = "Billing";
  snapshot.record.status = CaseStatus::kAcknowledged;
  snapshot.record.received_at = *parse_time("2026-03-02T09:00:00Z");
  Commitment pledge;
  pledge.id = 7;
  pledge.kind = CommitmentKind::kPledge;
  pledge.text = "We will send you our final response";
  pledge.due_at = *parse_time("2026-04-27T16:00:00Z");
  snapshot.commitments = {pledge};
  mail::MailContextInput input;
  input.snapshot = &snapshot;
  input.owner = Staff{"u-17", "Priya Natarajan", "priya@acme.example", Role::kAgent, "Billing", true};
  input.recipient_name = snapshot.record.client.name;
  input.status_url = "https://complaints.acme.example/status/tok_abc123";
  static const mail::LocalTimeFormatter london = std::move(mail::zone_formatter("Europe/London")).value();
  input.format_time = london;
  return mail::build_mail_context(input, settings);
}

std::vector<OutgoingMail> compose_all(int count, const mail::MailTemplates& templates,
                                      const mail::MailSettings& settings, const boost::json::object& context) {
  std::vector<OutgoingMail> out;
  out.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    mail::MailNotification n;
    n.id = 1000 + i;
    n.reference = "CMP-2026-000042";
    n.template_name = "client.acknowledged";
    n.to = {"Zoë O'Brien", "zoe@example.org"};
    n.created_at = *parse_time("2026-03-02T09:00:00Z");
    auto mail = mail::compose_notification(n, context, templates, settings);
    if (!mail) {
      std::fprintf(stderr, "mail bench: %s\n", mail.error().detail.c_str());
      std::exit(1);
    }
    out.push_back(std::move(mail).value());
  }
  return out;
}

struct Upload {
  const std::string* data;
  std::size_t offset;
};

size_t read_upload(char* buffer, size_t size, size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  size_t n = std::min(size * count, upload->data->size() - upload->offset);
  std::memcpy(buffer, upload->data->data() + upload->offset, n);
  upload->offset += n;
  return n;
}

// The same messages through a bare easy handle: what libcurl alone costs.
double baseline(const std::string& url, const std::vector<OutgoingMail>& mails) {
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, &read_upload);
  auto start = SteadyClock::now();
  for (const auto& mail : mails) {
    Upload upload{&mail.data, 0};
    curl_slist* rcpt = curl_slist_append(nullptr, ("<" + mail.recipients[0] + ">").c_str());
    std::string from = "<" + mail.envelope_from + ">";
    curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(mail.data.size()));
    CURLcode code = curl_easy_perform(curl);
    curl_slist_free_all(rcpt);
    if (code != CURLE_OK) {
      std::fprintf(stderr, "mail bench: baseline send failed: %s\n", curl_easy_strerror(code));
      std::exit(1);
    }
  }
  double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  curl_easy_cleanup(curl);
  return static_cast<double>(mails.size()) / seconds;
}

double through_mailer(const std::string& url, const std::vector<OutgoingMail>& mails, long& connections) {
  mail::SmtpOptions options;
  options.url = url;
  options.starttls = mail::StartTls::kOff;
  auto mailer = mail::SmtpMailer::create(options);
  if (!mailer) {
    std::fprintf(stderr, "mail bench: %s\n", mailer.error().detail.c_str());
    std::exit(1);
  }
  auto start = SteadyClock::now();
  for (const auto& mail : mails) {
    auto result = (*mailer)->send(mail);
    if (result.outcome != DeliveryOutcome::kDelivered) {
      std::fprintf(stderr, "mail bench: send failed: %s\n", result.detail.c_str());
      std::exit(1);
    }
  }
  double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  connections = (*mailer)->connections_opened();
  return static_cast<double>(mails.size()) / seconds;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "mail bench: %s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--mails")
      options.mails = std::max(1, std::atoi(next().c_str()));
    else if (arg == "--runs")
      options.runs = std::max(1, std::atoi(next().c_str()));
    else if (arg == "--sink")
      options.sink = next();
    else {
      std::fprintf(stderr, "usage: mail [--mails N] [--runs K] [--sink PATH]\n");
      return 2;
    }
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  auto templates = mail::MailTemplates::load(mail::MailTemplates::shipped_dir());
  if (!templates) {
    std::fprintf(stderr, "mail bench: %s\n", templates.error().detail.c_str());
    return 1;
  }
  mail::MailSettings settings;
  settings.organisation = "Acme Energy";
  settings.from = {"Acme Complaints", "complaints@acme.example"};
  settings.domain = "redress.acme.example";
  auto context = sample_context(settings);

  int port = free_port();
  pid_t sink = start_sink(options.sink, port, "mail bench");
  std::string url = "smtp://127.0.0.1:" + std::to_string(port);
  auto mails = compose_all(options.mails, *templates, settings, context);
  std::printf("mail bench: %d mails of %zu bytes per run, %d runs, smtp-sink on %s\n", options.mails,
              mails[0].data.size(), options.runs, url.c_str());

  std::vector<double> mailer_rates, baseline_rates, compose_rates;
  for (int run = 1; run <= options.runs; ++run) {
    long connections = 0;
    double mailer = through_mailer(url, mails, connections);
    double plain = baseline(url, mails);
    auto start = SteadyClock::now();
    auto composed = compose_all(options.mails, *templates, settings, context);
    double compose = options.mails / std::chrono::duration<double>(SteadyClock::now() - start).count();
    mailer_rates.push_back(mailer);
    baseline_rates.push_back(plain);
    compose_rates.push_back(compose);
    std::printf(
        "run %d: SmtpMailer %.0f mails/s (%ld connection%s), plain curl %.0f mails/s, ratio %.2f; "
        "render+compose %.0f mails/s\n",
        run, mailer, connections, connections == 1 ? "" : "s", plain, mailer / plain, compose);
  }
  double m = median(mailer_rates), b = median(baseline_rates), c = median(compose_rates);
  std::printf(
      "median: SmtpMailer %.0f mails/s, plain curl %.0f mails/s, ratio %.2f; render+compose %.0f mails/s; "
      "render+compose+send on one worker %.0f mails/s\n",
      m, b, m / b, c, 1.0 / (1.0 / m + 1.0 / c));
  ::kill(sink, SIGTERM);
  int status = 0;
  ::waitpid(sink, &status, 0);
  curl_global_cleanup();
  return 0;
}
