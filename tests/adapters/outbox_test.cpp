// The outbox end to end through the real parts: the engine on SQLite in a temporary file with a
// manual clock, notifications written with each change, OutboxWorkers delivering mail through
// SmtpMailer to a real SMTP server (aiosmtpd) and signed web hooks through HttpWebhookSender to a
// real receiver that verifies each with npm standardwebhooks. Faults: the SMTP server down then
// up, a connection dropped after DATA, a refused recipient and its retry from the dead letters,
// a receiver answering 500 then 200, and 410. Concurrency: a worker on its own thread racing another.
#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "adapters/mail/smtp_mailer.h"
#include "adapters/outbox/deliveries.h"
#include "adapters/outbox/digest.h"
#include "adapters/security/standard_webhooks.h"
#include "adapters/webhooks/http_sender.h"
#include "app/environment.h"
#include "engine/due.h"
#include "peers.h"

using namespace redress;
using namespace redress::peers;

namespace {

const Time kOutboxStart = *parse_time("2026-03-02T09:00:00Z");

struct Office {
  TempDir dir;
  std::unique_ptr<Environment> env;
  security::Keyring keyring = security::Keyring::from_bytes(std::array<unsigned char, 32>{7, 7, 7});
  mail::MailTemplates templates;
  std::string base_url = "https://complaints.example";
  mail::MailSettings settings;
  Staff agent;

  Office() {
    Config config;
    config.data_dir = dir.path().string();
    config.workflows = REDRESS_SOURCE_DIR "/workflows";
    OpenOptions options;
    options.migrate_if_needed = true;
    options.manual_start = kOutboxStart;
    auto opened = open_environment(config, options);
    REQUIRE(opened.ok());
    env = std::move(opened).value();
    auto loaded = mail::MailTemplates::load(mail::MailTemplates::shipped_dir());
    REQUIRE(loaded.ok());
    templates = std::move(loaded).value();
    settings.organisation = "Acme Bank";
    settings.from = mail::MailAddress{"Acme Complaints", "complaints@acme.example"};
    settings.domain = "acme.example";
    auto added =
        env->store->add_staff(Staff{"", "Sam Okafor", "sam@acme.example", Role::kAgent, "complaints-financial", true});
    REQUIRE(added.ok());
    agent = *added;
  }
  ManualClock& clock() { return static_cast<ManualClock&>(*env->clock); }
  std::string create(const std::string& email = "zoe@example.org") {
    NewCase c;
    c.client = Client{"Zoë Ångström", email, "", "en-GB"};
    c.category = "banking";  // FCA DISP: acknowledged on intake, so the client is mailed at once
    c.subject = "Déjà vu: charged twice";
    c.description = "I was charged twice.";
    auto link = keyring.new_client_link();
    c.client_link_nonce = link.nonce;
    c.client_link_hash = link.hash;
    auto created = env->engine->create_case(c, Actor::intake("web-form"));
    REQUIRE(created.ok());
    return created->change.after.reference;
  }
  std::unique_ptr<outbox::MailDelivery> mail(const std::string& url) {
    mail::SmtpOptions smtp;
    smtp.url = url;
    smtp.starttls = mail::StartTls::kOff;
    smtp.connect_timeout = std::chrono::milliseconds(5000);
    auto mailer = mail::SmtpMailer::create(smtp);
    REQUIRE(mailer.ok());
    return std::make_unique<outbox::MailDelivery>(*env->store, *env->store, env->workflows, keyring, templates, settings, base_url,
                                                  std::move(mailer).value());
  }
  outbox::OutboxWorker worker(NotificationDraft::Channel channel, outbox::Delivery& delivery) {
    outbox::OutboxWorker::Options o;
    o.holder = "test";
    o.channel = channel;
    return outbox::OutboxWorker(*env->store, *env->clock, o, delivery);
  }
  std::vector<NotificationView> notifications(const std::string& ref, NotificationDraft::Channel channel) {
    auto all = env->store->case_notifications(ref);
    REQUIRE(all.ok());
    std::vector<NotificationView> out;
    for (auto& n : *all)
      if (n.item.channel == channel) out.push_back(std::move(n));
    return out;
  }
};

std::string header_of(const std::string& eml, const std::string& name) {
  std::istringstream lines(eml);
  std::string line;
  while (std::getline(lines, line)) {
    if (line == "\r" || line.empty()) break;
    if (line.rfind(name + ": ", 0) == 0)
      return line.substr(name.size() + 2, line.size() - name.size() - 2 - (line.back() == '\r'));
  }
  return {};
}

}  // namespace

TEST_CASE("outbox: the acknowledgement is mailed once, well formed, threaded, and its attempt is on the case",
          "[outbox][mail]") {
  Office office;
  CaptureServer smtp(office.dir.path());
  auto delivery = office.mail(smtp.url());
  auto worker = office.worker(NotificationDraft::Channel::kEmail, *delivery);
  std::string ref = office.create();
  CHECK(worker.run_once() == 1);
  CHECK(worker.run_once() == 0);  // nothing more is due
  auto mails = smtp.messages();
  REQUIRE(mails.size() == 1);
  std::string eml = read_text(mails[0]);
  auto notifications = office.notifications(ref, NotificationDraft::Channel::kEmail);
  REQUIRE(notifications.size() == 1);
  const NotificationView& n = notifications[0];
  CHECK(n.state == OutboxState::kDelivered);
  REQUIRE(n.attempts.size() == 1);
  CHECK(n.attempts[0].outcome == DeliveryOutcome::kDelivered);
  CHECK(n.attempts[0].detail.find("250") != std::string::npos);
  CHECK(header_of(eml, "Message-ID") == "<n-" + std::to_string(n.item.id) + "." + ref + "@acme.example>");
  CHECK(header_of(eml, "References") == "<" + ref + "@acme.example>");
  CHECK(smtp.envelope(mails[0]).at("rcpt_tos").as_array().front().as_string() == "zoe@example.org");
  auto parsed = strict_parse(mails, office.dir.path());
  REQUIRE(parsed.size() == 1);
  const auto& mail = parsed[0].as_object();
  CHECK(std::string(mail.at("subject").as_string()).find("[" + ref + "]") == 0);
  CHECK(std::string(mail.at("to").as_string()).find("Zoë Ångström") != std::string::npos);
  // The client's own status link is in the mail, and opens their case.
  std::string text(mail.at("plain").as_string());
  CHECK(text.find(office.base_url + "/c/cl_") != std::string::npos);
  CHECK(text.find(ref) != std::string::npos);
}

TEST_CASE("outbox: the SMTP server down for a while, then up - every mail delivered exactly once",
          "[outbox][mail][faults]") {
  Office office;
  int port = free_port();
  auto delivery = office.mail("smtp://127.0.0.1:" + std::to_string(port));
  auto worker = office.worker(NotificationDraft::Channel::kEmail, *delivery);
  std::vector<std::string> refs{office.create("a@example.org"), office.create("b@example.org"),
                                office.create("c@example.org")};
  CHECK(worker.run_once() == 3);  // each refused: the server is down
  for (const auto& ref : refs) {
    auto n = office.notifications(ref, NotificationDraft::Channel::kEmail);
    REQUIRE(n.size() == 1);
    CHECK(n[0].state == OutboxState::kPending);
    CHECK(n[0].next_attempt_at > office.clock().now());
    CHECK(n[0].attempts.size() == 1);
  }
  CHECK(worker.run_once() == 0);  // backing off: not due yet
  office.clock().advance(std::chrono::minutes(2));
  CHECK(worker.run_once() == 3);  // still down: a second failed attempt each
  CaptureServer smtp(office.dir.path(), {}, port);
  office.clock().advance(std::chrono::hours(1));
  CHECK(worker.run_once() == 3);
  office.clock().advance(std::chrono::hours(30));
  CHECK(worker.run_once() == 0);
  auto mails = smtp.messages();
  REQUIRE(mails.size() == 3);
  std::set<std::string> ids;
  for (const auto& m : mails) ids.insert(header_of(read_text(m), "Message-ID"));
  CHECK(ids.size() == 3);
  for (const auto& ref : refs) {
    auto n = office.notifications(ref, NotificationDraft::Channel::kEmail);
    CHECK(n[0].state == OutboxState::kDelivered);
    CHECK(n[0].attempts.size() == 3);
  }
  (void)strict_parse(mails, office.dir.path());
}

TEST_CASE("outbox: a connection dropped after DATA is retried with the same bytes, never a different mail",
          "[outbox][mail][faults]") {
  Office office;
  CaptureServer smtp(office.dir.path(), {"--drop-after-data", "drop@example.org"});
  auto delivery = office.mail(smtp.url());
  auto worker = office.worker(NotificationDraft::Channel::kEmail, *delivery);
  std::string ref = office.create("drop@example.org");
  CHECK(worker.run_once() == 1);
  // Whatever changed on the case since, the retry sends what the first attempt composed.
  auto note = ActionRequest{};
  note.type = ActionType::kAssess;
  note.reference = ref;
  note.actor = Actor::staff(office.agent.id, Role::kAgent);
  note.severity = Severity::kHigh;
  REQUIRE(office.env->engine->apply(note).ok());
  office.clock().advance(std::chrono::minutes(5));
  CHECK(worker.run_once() == 1);
  auto mails = smtp.messages();
  REQUIRE(mails.size() == 2);  // the server kept both: the first answer was lost
  CHECK(read_text(mails[0]) == read_text(mails[1]));
}

TEST_CASE("outbox: a worker killed after composing leaves its payload stored, and the next worker sends those bytes",
          "[outbox][mail][faults]") {
  Office office;
  CaptureServer smtp(office.dir.path());
  std::string ref = office.create("zoe@example.org");
  // The worker that dies: it claimed, composed and stored the mail, then was killed (nothing recorded).
  auto killed = office.mail(smtp.url());
  Time now = office.clock().now();
  auto claimed = office.env->store->claim_notifications(NotificationDraft::Channel::kEmail, now, "killed",
                                                        now + std::chrono::minutes(5), 10);
  REQUIRE(claimed.ok());
  REQUIRE(claimed->size() == 1);
  auto composed = killed->compose(claimed->front());
  REQUIRE(composed.ok());
  auto stored = office.env->store->store_payloads("killed", {{claimed->front().id, *composed}});
  REQUIRE(stored.ok());
  REQUIRE(stored->size() == 1);
  CHECK(stored->front() == *composed);
  // Another holder cannot store a payload over it, nor for a claim it does not hold.
  auto other = office.env->store->store_payloads("other", {{claimed->front().id, "something else"}});
  REQUIRE(other.ok());
  CHECK(other->front().empty());
  // The case moves on meanwhile: a mail composed now would say so.
  auto take = ActionRequest{};
  take.type = ActionType::kTake;  // the owner's name is in the mail
  take.reference = ref;
  take.actor = Actor::staff(office.agent.id, Role::kAgent);
  REQUIRE(office.env->engine->apply(take).ok());
  auto fresh = office.mail(smtp.url())->compose(claimed->front());
  REQUIRE(fresh.ok());
  CHECK(*fresh != *composed);
  // The lease runs out; the next worker sends what the killed one stored, byte for byte.
  office.clock().advance(std::chrono::minutes(6));
  auto delivery = office.mail(smtp.url());
  auto worker = office.worker(NotificationDraft::Channel::kEmail, *delivery);
  (void)worker.run_once();
  auto mails = smtp.messages();
  std::vector<std::string> first;
  for (const auto& m : mails)
    if (header_of(read_text(m), "Message-ID") ==
        "<n-" + std::to_string(claimed->front().id) + "." + ref + "@acme.example>")
      first.push_back(read_text(m));
  REQUIRE(first.size() == 1);
  CHECK(first[0] == *composed);  // the capture keeps DATA as it came
  auto n = office.notifications(ref, NotificationDraft::Channel::kEmail);
  REQUIRE(!n.empty());
  CHECK(n[0].item.payload == *composed);
  CHECK(n[0].state == OutboxState::kDelivered);
}

TEST_CASE("outbox: a notification that cannot be composed is dead-lettered with the reason, and nothing is sent",
          "[outbox][faults]") {
  Office office;
  struct Broken final : outbox::Delivery {
    bool empty = true;  // composes nothing at all, else fails outright
    int sends = 0;
    Result<std::string> compose(const OutboxItem&) override {
      if (empty) return std::string();
      return Error::not_found("no template");
    }
    DeliveryResult send(const OutboxItem&) override {
      ++sends;
      return DeliveryResult{DeliveryOutcome::kDelivered, 250, "250 ok", std::nullopt};
    }
  } broken;
  auto worker = office.worker(NotificationDraft::Channel::kEmail, broken);
  std::string first = office.create("a@example.org");
  CHECK(worker.run_once() == 1);
  broken.empty = false;
  std::string second = office.create("b@example.org");
  CHECK(worker.run_once() == 1);
  CHECK(broken.sends == 0);
  auto a = office.notifications(first, NotificationDraft::Channel::kEmail);
  auto b = office.notifications(second, NotificationDraft::Channel::kEmail);
  REQUIRE(a.size() == 1);
  REQUIRE(b.size() == 1);
  CHECK(a[0].state == OutboxState::kDead);
  CHECK(a[0].last_error.find("the composed payload is empty") != std::string::npos);
  CHECK(b[0].state == OutboxState::kDead);
  CHECK(b[0].last_error.find("no template") != std::string::npos);
  CHECK(a[0].item.payload.empty());  // nothing was stored
}

TEST_CASE("outbox: a refused recipient is dead-lettered, shown, and sent again on retry", "[outbox][mail][faults]") {
  Office office;
  std::string ref;
  {
    CaptureServer smtp(office.dir.path(), {"--refuse", "gone@example.org=550 5.1.1 no such user"});
    auto delivery = office.mail(smtp.url());
    auto worker = office.worker(NotificationDraft::Channel::kEmail, *delivery);
    ref = office.create("gone@example.org");
    CHECK(worker.run_once() == 1);
    CHECK(smtp.messages().empty());
  }
  auto dead = office.env->store->dead_notifications(10);
  REQUIRE(dead.ok());
  REQUIRE(dead->size() == 1);
  CHECK(dead->front().item.reference == ref);
  CHECK(dead->front().last_error.find("550") != std::string::npos);
  // The mailbox is fixed; an admin sends it again.
  auto moved = office.env->store->retry_notifications(dead->front().item.id, office.clock().now());
  REQUIRE(moved.ok());
  CHECK(*moved == 1);
  CHECK_FALSE(
      office.env->store->retry_notifications(dead->front().item.id, office.clock().now()).ok());  // no longer dead
  CaptureServer smtp(office.dir.path());
  auto delivery = office.mail(smtp.url());
  auto worker = office.worker(NotificationDraft::Channel::kEmail, *delivery);
  CHECK(worker.run_once() == 1);
  CHECK(smtp.messages().size() == 1);
  auto n = office.notifications(ref, NotificationDraft::Channel::kEmail);
  CHECK(n[0].state == OutboxState::kDelivered);
  CHECK(n[0].attempts.size() == 2);
}

TEST_CASE("outbox: web hooks to a receiver answering 500 then 200 arrive signed, with the same webhook-id",
          "[outbox][webhooks]") {
  Office office;
  Receiver receiver(R"({"sequence":[{"status":500,"body":"busy"}],"default":{"status":200,"body":"ok"}})");
  Subscription sub;
  sub.url = receiver.url();
  sub.event_types = {"case.received"};
  sub.secret_sealed = office.keyring.seal(kWebhookTestSecret);
  auto added = office.env->store->add_subscription(sub);
  REQUIRE(added.ok());
  webhooks::HttpWebhookOptions options;
  options.private_networks = webhooks::PrivateNetworks::kAllow;
  outbox::WebhookDelivery delivery(*office.env->store, *office.env->store, office.keyring,
                                   std::make_unique<webhooks::HttpWebhookSender>(options));
  auto worker = office.worker(NotificationDraft::Channel::kWebhook, delivery);
  std::string ref = office.create();
  auto hooks = office.notifications(ref, NotificationDraft::Channel::kWebhook);
  REQUIRE(hooks.size() == 1);  // only case.received: the subscription's one type
  CHECK(worker.run_once() == 1);
  office.clock().advance(std::chrono::minutes(1));
  CHECK(worker.run_once() == 1);
  auto records = receiver.records();
  REQUIRE(records.size() == 2);
  for (const auto& r : records) {
    CHECK(r.at("verified").as_bool());
    CHECK(r.at("id").as_string() == records[0].at("id").as_string());
  }
  auto body = json::parse(records[1].at("body").as_string()).as_object();
  CHECK(body.at("type").as_string() == "case.received");
  CHECK(body.at("data").at("case_reference").as_string() == ref);
  hooks = office.notifications(ref, NotificationDraft::Channel::kWebhook);
  CHECK(hooks[0].state == OutboxState::kDelivered);
  CHECK(hooks[0].attempts.size() == 2);
}

TEST_CASE("outbox: a receiver answering 410 disables its subscription", "[outbox][webhooks]") {
  Office office;
  Receiver receiver(R"({"default":{"status":410,"body":"gone"}})");
  Subscription sub;
  sub.url = receiver.url();
  sub.event_types = {"*"};
  sub.secret_sealed = office.keyring.seal(kWebhookTestSecret);
  auto added = office.env->store->add_subscription(sub);
  REQUIRE(added.ok());
  webhooks::HttpWebhookOptions options;
  options.private_networks = webhooks::PrivateNetworks::kAllow;
  outbox::WebhookDelivery delivery(*office.env->store, *office.env->store, office.keyring,
                                   std::make_unique<webhooks::HttpWebhookSender>(options));
  auto worker = office.worker(NotificationDraft::Channel::kWebhook, delivery);
  std::string ref = office.create();
  std::size_t owed = office.notifications(ref, NotificationDraft::Channel::kWebhook).size();
  REQUIRE(owed >= 3);  // received, pledges made, acknowledged...
  (void)worker.run_once();
  auto found = office.env->store->find_subscription(added->id);
  REQUIRE(found.ok());
  CHECK(found->disabled_at.has_value());
  CHECK(receiver.records().size() == 1);  // the rest failed without a request: the subscription is off
  for (const auto& n : office.notifications(ref, NotificationDraft::Channel::kWebhook))
    CHECK(n.state == OutboxState::kDead);
  // New events owe nothing to a disabled subscription.
  std::string later = office.create();
  CHECK(office.notifications(later, NotificationDraft::Channel::kWebhook).empty());
}

TEST_CASE("outbox: the back-off grows, is jittered, and gives up only after 24 hours", "[outbox]") {
  outbox::RetryPolicy policy;
  CHECK(policy.backoff(1, 0.5) == std::chrono::seconds(30));
  CHECK(policy.backoff(2, 0.5) == std::chrono::seconds(60));
  CHECK(policy.backoff(30, 0.5) == std::chrono::hours(6));
  CHECK(policy.backoff(1, 0.0) == std::chrono::seconds(24));
  CHECK(policy.backoff(1, 0.999999) < std::chrono::seconds(36));
  // Attempt after attempt, with the shortest jitter, until one fails 24 hours after the first:
  // that one is the last.
  Duration elapsed{0};
  int attempts = 1;
  while (elapsed < policy.give_up_after) elapsed += policy.backoff(attempts++, 0.0);
  CHECK(elapsed >= std::chrono::hours(24));
  CHECK(attempts >= 10);
}

TEST_CASE("digest: each lead and manager gets one daily digest of overdue and broken commitments", "[outbox][digest]") {
  Office office;
  auto lead = office.env->store->add_staff(
      Staff{"", "Grace Adeyemi", "grace@acme.example", Role::kLead, "complaints-financial", true});
  auto other_lead =
      office.env->store->add_staff(Staff{"", "Lee Other", "lee@acme.example", Role::kLead, "customer-care", true});
  auto manager = office.env->store->add_staff(Staff{"", "Maya Chen", "maya@acme.example", Role::kManager, "", true});
  REQUIRE(lead.ok());
  REQUIRE(other_lead.ok());
  REQUIRE(manager.ok());
  std::string ref = office.create();
  auto promise = ActionRequest{};
  promise.type = ActionType::kMakeCommitment;
  promise.reference = ref;
  promise.actor = Actor::staff(office.agent.id, Role::kAgent);
  promise.text = "We will call you back today";
  promise.due.in = parse_duration("PT2H");
  REQUIRE(office.env->engine->apply(promise).ok());
  // Break it: the scheduler's plan at a later time.
  office.clock().advance(std::chrono::hours(3));
  const WorkflowSet& workflows = office.env->workflows;
  auto fired = office.env->engine->apply_plan(ref, [&](const CaseSnapshot& current, WriteContext& context, Time now) {
    return plan_due(current, workflows, now, context);
  });
  REQUIRE(fired.ok());

  CaptureServer smtp(office.dir.path());
  mail::SmtpOptions options;
  options.url = smtp.url();
  options.starttls = mail::StartTls::kOff;
  auto mailer = mail::SmtpMailer::create(options);
  REQUIRE(mailer.ok());
  outbox::DigestJob digest(*office.env->store, *office.env->store, *office.env->store, office.templates,
                           office.settings, office.base_url, std::move(mailer).value(), *office.env->store, "node-a");
  CHECK(digest.run_due(*parse_time("2026-03-03T07:59:00Z")) == 0);  // before 08:00: nothing yet
  CHECK(digest.run_due(*parse_time("2026-03-03T08:00:00Z")) == 2);  // the FCA team's lead and the manager
  CHECK(digest.run_due(*parse_time("2026-03-03T09:00:00Z")) == 0);  // once a day
  auto mails = smtp.messages();
  REQUIRE(mails.size() == 2);
  std::set<std::string> to;
  for (const auto& m : mails) {
    std::string text = read_text(m);
    CHECK(text.find(ref) != std::string::npos);
    CHECK(text.find("We will call you back today") != std::string::npos);
    to.insert(std::string(smtp.envelope(m).at("rcpt_tos").as_array().front().as_string()));
  }
  CHECK(to == std::set<std::string>{"grace@acme.example", "maya@acme.example"});
  (void)strict_parse(mails, office.dir.path());
  CHECK(digest.run_due(*parse_time("2026-03-04T08:00:00Z")) == 2);  // the next day, still broken and unhandled
}

namespace redress::digesttest {

// A node's mailer that stalls: its `stall_at`-th send (from 1) signals that it has begun, waits
// until released, then delivers or fails as a send that timed out. Every other send goes straight
// to the real mailer.
class StallingMailer final : public Mailer {
 public:
  enum class AfterStall { kDeliver, kTimeOut };
  StallingMailer(std::unique_ptr<Mailer> inner, int stall_at, AfterStall after)
      : inner_(std::move(inner)), stall_at_(stall_at), after_(after) {}
  DeliveryResult send(const OutgoingMail& mail) override {
    if (++sends_ == stall_at_) {
      stalled_.set_value();
      released_.wait();
      if (after_ == AfterStall::kTimeOut) return DeliveryResult{DeliveryOutcome::kRetry, 0, "timed out", std::nullopt};
    }
    return inner_->send(mail);
  }
  [[nodiscard]] bool wait_stalled() { return stalled_seen_.wait_for(std::chrono::seconds(60)) == std::future_status::ready; }
  void release() { release_.set_value(); }

 private:
  std::unique_ptr<Mailer> inner_;
  const int stall_at_;
  const AfterStall after_;
  int sends_ = 0;
  std::promise<void> stalled_;
  std::shared_future<void> stalled_seen_ = stalled_.get_future().share();
  std::promise<void> release_;
  std::shared_future<void> released_ = release_.get_future().share();
};

}  // namespace redress::digesttest

TEST_CASE("digest: a node that stalled past the digest's lease sends no digest its successor sends",
          "[outbox][digest][fencing]") {
  Office office;
  auto lead = office.env->store->add_staff(
      Staff{"", "Grace Adeyemi", "grace@acme.example", Role::kLead, "complaints-financial", true});
  auto other_lead =
      office.env->store->add_staff(Staff{"", "Lee Other", "lee@acme.example", Role::kLead, "customer-care", true});
  auto manager = office.env->store->add_staff(Staff{"", "Maya Chen", "maya@acme.example", Role::kManager, "", true});
  REQUIRE(lead.ok());
  REQUIRE(other_lead.ok());
  REQUIRE(manager.ok());
  std::string ref = office.create();
  auto promise = ActionRequest{};
  promise.type = ActionType::kMakeCommitment;
  promise.reference = ref;
  promise.actor = Actor::staff(office.agent.id, Role::kAgent);
  promise.text = "We will call you back today";
  promise.due.in = parse_duration("PT2H");
  REQUIRE(office.env->engine->apply(promise).ok());
  // Break it: the scheduler's plan at a later time.
  office.clock().advance(std::chrono::hours(3));
  const WorkflowSet& workflows = office.env->workflows;
  auto fired = office.env->engine->apply_plan(ref, [&](const CaseSnapshot& current, WriteContext& context, Time now) {
    return plan_due(current, workflows, now, context);
  });
  REQUIRE(fired.ok());

  CaptureServer smtp(office.dir.path());
  mail::SmtpOptions options;
  options.url = smtp.url();
  options.starttls = mail::StartTls::kOff;
  auto mailer = mail::SmtpMailer::create(options);
  REQUIRE(mailer.ok());
  auto second_mailer = mail::SmtpMailer::create(options);
  REQUIRE(second_mailer.ok());
  using digesttest::StallingMailer;
  // Node A's first send hangs past its lease, then times out; node B's second send waits meanwhile.
  auto stalling_a =
      std::make_unique<StallingMailer>(std::move(mailer).value(), 1, StallingMailer::AfterStall::kTimeOut);
  auto stalling_b =
      std::make_unique<StallingMailer>(std::move(second_mailer).value(), 2, StallingMailer::AfterStall::kDeliver);
  StallingMailer& mailer_a = *stalling_a;
  StallingMailer& mailer_b = *stalling_b;
  outbox::DigestJob node_a(*office.env->store, *office.env->store, *office.env->store, office.templates,
                           office.settings, office.base_url, std::move(stalling_a), *office.env->store, "node-a");
  outbox::DigestJob node_b(*office.env->store, *office.env->store, *office.env->store, office.templates,
                           office.settings, office.base_url, std::move(stalling_b), *office.env->store, "node-b");
  const Time eight = *parse_time("2026-03-03T08:00:00Z");
  auto sent_by_a = std::async(std::launch::async, [&] { return node_a.run_due(eight); });
  REQUIRE(mailer_a.wait_stalled());  // A is in its first send; its ten-minute lease runs out
  auto sent_by_b = std::async(std::launch::async, [&] { return node_b.run_due(eight + std::chrono::minutes(11)); });
  REQUIRE(mailer_b.wait_stalled());  // B took the lease over, sent the first digest, is sending the second
  mailer_a.release();  // A's send times out, and A would go on to the second digest: refused
  CHECK(sent_by_a.get() == 0);
  mailer_b.release();
  CHECK(sent_by_b.get() == 2);
  // Each digest once: the first by B (A's timed out, and its late failure did not make it owed
  // again), the second by B alone.
  auto mails = smtp.messages();
  REQUIRE(mails.size() == 2);
  std::set<std::string> to;
  for (const auto& m : mails) to.insert(std::string(smtp.envelope(m).at("rcpt_tos").as_array().front().as_string()));
  CHECK(to == std::set<std::string>{"grace@acme.example", "maya@acme.example"});
  CHECK(node_a.run_due(eight + std::chrono::hours(1)) == 0);
  CHECK(node_b.run_due(eight + std::chrono::hours(1)) == 0);
  CHECK(smtp.messages().size() == 2);
}

TEST_CASE("outbox: mail to one recipient goes in order - a later one waits while an earlier one is retried",
          "[outbox][mail][faults]") {
  Office office;
  int port = free_port();
  auto delivery = office.mail("smtp://127.0.0.1:" + std::to_string(port));
  auto worker = office.worker(NotificationDraft::Channel::kEmail, *delivery);
  std::string ref = office.create();  // client.acknowledged to zoe@example.org
  auto message = ActionRequest{};
  message.type = ActionType::kAddMessage;
  message.reference = ref;
  message.actor = Actor::staff(office.agent.id, Role::kAgent);
  message.visibility = Visibility::kClient;
  message.body = "We have asked the card team to look at the second charge.";
  REQUIRE(office.env->engine->apply(message).ok());  // client.message to the same client
  auto owed = office.notifications(ref, NotificationDraft::Channel::kEmail);
  REQUIRE(owed.size() == 2);
  CHECK(worker.run_once() == 1);  // the server is down: the first fails, the second is not tried
  owed = office.notifications(ref, NotificationDraft::Channel::kEmail);
  CHECK(owed[0].attempts.size() == 1);
  CHECK(owed[1].attempts.empty());
  CaptureServer smtp(office.dir.path(), {}, port);
  office.clock().advance(std::chrono::minutes(5));
  CHECK(worker.run_once() == 2);
  auto mails = smtp.messages();
  REQUIRE(mails.size() == 2);
  CHECK(header_of(read_text(mails[0]), "Message-ID").find("<n-" + std::to_string(owed[0].item.id) + ".") == 0);
  CHECK(header_of(read_text(mails[1]), "Message-ID").find("<n-" + std::to_string(owed[1].item.id) + ".") == 0);
  CHECK(read_text(mails[1]).find("second charge") != std::string::npos);
}

TEST_CASE("outbox: each event mails the right people - client, assignee, owner, escalation level", "[outbox][mail]") {
  Office office;
  auto lead = office.env->store->add_staff(
      Staff{"", "Grace Adeyemi", "grace@acme.example", Role::kLead, "complaints-financial", true});
  REQUIRE(lead.ok());
  CaptureServer smtp(office.dir.path());
  auto delivery = office.mail(smtp.url());
  auto worker = office.worker(NotificationDraft::Channel::kEmail, *delivery);
  std::string ref = office.create();
  auto act = [&](ActionRequest r) {
    r.reference = ref;
    auto result = office.env->engine->apply(r);
    INFO(to_string(r.type) << ": " << (result.ok() ? std::string() : result.error().detail));
    REQUIRE(result.ok());
  };
  ActionRequest assign;
  assign.type = ActionType::kAssign;
  assign.actor = Actor::staff(lead->id, Role::kLead);
  assign.owner = office.agent.id;
  act(assign);
  ActionRequest update;
  update.type = ActionType::kAddMessage;
  update.actor = Actor::staff(office.agent.id, Role::kAgent);
  update.visibility = Visibility::kClient;
  update.body = "We are looking into the second charge.";
  act(update);
  ActionRequest reply;
  reply.type = ActionType::kAddMessage;
  reply.actor = Actor::client();
  reply.body = "Thank you. It was on 3 March.";
  act(reply);
  ActionRequest escalate;
  escalate.type = ActionType::kEscalate;
  escalate.actor = Actor::staff(office.agent.id, Role::kAgent);
  escalate.reason = "The client is vulnerable";
  act(escalate);
  CHECK(worker.run_once() == 6);

  // Who got what, from the outbox's own record, against what the SMTP server received.
  std::map<std::string, std::string> owed;  // template -> recipient
  for (const auto& n : office.notifications(ref, NotificationDraft::Channel::kEmail)) {
    CHECK(n.state == OutboxState::kDelivered);
    owed[n.item.template_name] = n.item.recipient;
  }
  CHECK(owed == std::map<std::string, std::string>{{"client.acknowledged", "zoe@example.org"},
                                                   {"staff.assigned", "sam@acme.example"},
                                                   {"client.owner_changed", "zoe@example.org"},
                                                   {"client.message", "zoe@example.org"},
                                                   {"staff.client_message", "sam@acme.example"},
                                                   {"staff.escalated", "grace@acme.example"}});
  auto mails = smtp.messages();
  CHECK(mails.size() == owed.size());
  std::multiset<std::string> received;
  for (const auto& m : mails)
    received.insert(std::string(smtp.envelope(m).at("rcpt_tos").as_array().front().as_string()));
  CHECK(received.count("zoe@example.org") == 3);
  CHECK(received.count("sam@acme.example") == 2);
  CHECK(received.count("grace@acme.example") == 1);
  auto parsed = strict_parse(mails, office.dir.path());
  for (const auto& p : parsed)
    CHECK(std::string(p.as_object().at("subject").as_string()).rfind("[" + ref + "]", 0) == 0);
}

TEST_CASE("outbox: a worker on its own thread and another racing it attempt each notification exactly once",
          "[outbox][concurrency]") {
  Office office;
  // Counts the sends of each notification; shared by both workers.
  struct Counting final : outbox::Delivery {
    std::mutex mutex;
    std::map<std::int64_t, int> attempts;  // by notification id, guarded by mutex
    Result<std::string> compose(const OutboxItem& item) override { return "mail " + std::to_string(item.id); }
    DeliveryResult send(const OutboxItem& item) override {
      std::lock_guard lock(mutex);
      ++attempts[item.id];
      return DeliveryResult{DeliveryOutcome::kDelivered, 250, "250 ok", std::nullopt};
    }
  } counting;
  auto& attempts = counting.attempts;
  outbox::OutboxWorker::Options a_options, b_options;
  a_options.holder = "a";
  b_options.holder = "b";
  outbox::OutboxWorker a(*office.env->store, *office.env->clock, a_options, counting);
  outbox::OutboxWorker b(*office.env->store, *office.env->clock, b_options, counting);
  a.start();
  // While cases arrive on this thread, `a` wakes on notify() and `b` claims from another thread.
  std::atomic<bool> done{false};
  std::thread racer([&] {
    while (!done) {
      (void)b.run_once();
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  std::vector<std::string> refs;
  for (int i = 0; i < 20; ++i) {
    refs.push_back(office.create("client" + std::to_string(i) + "@example.org"));
    a.notify();
  }
  auto all_delivered = [&] {
    for (const auto& ref : refs)
      for (const auto& n : office.notifications(ref, NotificationDraft::Channel::kEmail))
        if (n.state != OutboxState::kDelivered) return false;
    return true;
  };
  for (int i = 0; i < 500 && !all_delivered(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  done = true;
  racer.join();
  a.stop();
  CHECK(all_delivered());
  std::size_t owed = 0;
  for (const auto& ref : refs) owed += office.notifications(ref, NotificationDraft::Channel::kEmail).size();
  CHECK(owed >= refs.size());  // each client is mailed at least the acknowledgement
  std::lock_guard lock(counting.mutex);
  CHECK(attempts.size() == owed);
  for (const auto& [id, count] : attempts) {
    INFO("notification " << id);
    CHECK(count == 1);
  }
}
