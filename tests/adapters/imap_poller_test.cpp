// ImapPoller against a real Dovecot (tests/support/dovecot.h) on loopback, with the SQLite store's
// leases and mailbox positions, and a recording MailIntake that dedups as the pipeline does.
#include <catch2/catch.hpp>

#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "adapters/inbound/imap_poller.h"
#include "app/environment.h"
#include "tests/support/dovecot.h"
#include "tests/support/files.h"

using namespace redress;
using namespace redress::inbound;
using redress::testing::Dovecot;
using redress::testing::TempDir;

namespace {

// Records every message handed over; the same bytes twice are kDuplicate, as in the pipeline.
// `fail_next` makes the next call answer kUnavailable (storage full), once.
class RecordingIntake final : public MailIntake {
 public:
  Result<IntakeOutcome> take_message(std::string_view raw, const std::string& mailbox) override {
    std::lock_guard lock(mutex_);
    ++calls_;
    if (fail_next_) {
      fail_next_ = false;
      return Error::unavailable("the store is full");
    }
    IntakeOutcome outcome;
    outcome.detail = mailbox;
    if (!seen_.insert(std::string(raw)).second) {
      outcome.disposition = Disposition::kDuplicate;
      ++duplicates_;
    } else {
      outcome.disposition = Disposition::kOpenedCase;
      auto at = raw.find("Subject: ");
      subjects_.push_back(std::string(raw.substr(at + 9, raw.find('\r', at) - at - 9)));
    }
    return outcome;
  }
  void fail_next() {
    std::lock_guard lock(mutex_);
    fail_next_ = true;
  }
  std::vector<std::string> subjects() {
    std::lock_guard lock(mutex_);
    return subjects_;
  }
  int calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }
  int duplicates() {
    std::lock_guard lock(mutex_);
    return duplicates_;
  }

 private:
  std::mutex mutex_;
  std::set<std::string> seen_;
  std::vector<std::string> subjects_;
  int calls_ = 0;
  int duplicates_ = 0;
  bool fail_next_ = false;
};

std::string message(int n) {
  return "From: Jo Bloggs <jo@bloggs.example>\r\nTo: complaints@redress.example\r\nSubject: message " +
         std::to_string(n) + "\r\nMessage-ID: <m" + std::to_string(n) +
         "@bloggs.example>\r\nDate: Wed, 4 Mar 2026 09:00:00 +0000\r\n\r\nBody " + std::to_string(n) + "\r\n";
}

std::unique_ptr<Environment> open_store(const TempDir& dir) {
  Config config;
  config.data_dir = dir.path().string();
  config.workflows = REDRESS_SOURCE_DIR "/workflows";
  OpenOptions options;
  options.migrate_if_needed = true;
  options.manual_start = *parse_time("2026-03-04T09:00:00Z");
  auto opened = open_environment(config, options);
  INFO((opened.ok() ? std::string() : opened.error().detail));
  REQUIRE(opened.ok());
  return std::move(opened).value();
}

ImapMailboxSettings settings_for(const Dovecot& server) {
  ImapMailboxSettings settings;
  settings.name = "complaints";
  settings.url = server.url();
  settings.user = server.user();
  settings.password = server.password();
  settings.timeout = std::chrono::seconds(20);
  return settings;
}

}  // namespace

TEST_CASE("imap: the untagged answers are read", "[imap]") {
  CHECK(uidvalidity_in("* 3 EXISTS\r\n* OK [UIDVALIDITY 1796578560] UIDs valid\r\n") ==
        std::optional<std::int64_t>(1796578560));
  CHECK_FALSE(uidvalidity_in("* OK [UIDNEXT 4]\r\n").has_value());
  CHECK(uids_in("* SEARCH 9 4 7\r\n") == std::vector<std::int64_t>{4, 7, 9});
  CHECK(uids_in("* SEARCH\r\n").empty());
  CHECK(uids_in("* OK nothing\r\n").empty());
}

TEST_CASE("imap: new messages are taken once, in UID order, and the next round goes on after the last",
          "[imap][dovecot]") {
  REQUIRE(testing::dovecot_installed());  // dovecot-imapd: scripts/install-deps
  Dovecot server;
  TempDir dir;
  auto env = open_store(dir);
  RecordingIntake intake;
  ImapPoller poller(settings_for(server), "node-a", intake, *env->store, *env->store, *env->clock);

  for (int n = 1; n <= 3; ++n) server.deliver(message(n));
  auto first = poller.poll_once();
  INFO((first.ok() ? std::string() : first.error().detail));
  REQUIRE(first.ok());
  CHECK(first.value().polled);
  CHECK(first.value().taken.size() == 3);
  CHECK(first.value().stopped.empty());
  CHECK(intake.subjects() == std::vector<std::string>{"message 1", "message 2", "message 3"});
  auto position = env->store->mailbox_position("complaints");
  REQUIRE(position.ok());
  REQUIRE(position.value().has_value());
  CHECK(position.value()->uidvalidity == first.value().uidvalidity);
  CHECK(position.value()->last_uid == 3);

  auto again = poller.poll_once();
  REQUIRE(again.ok());
  CHECK(again.value().taken.empty());

  server.deliver(message(4));
  auto later = poller.poll_once();
  REQUIRE(later.ok());
  CHECK(later.value().taken.size() == 1);
  CHECK(intake.subjects().back() == "message 4");
  CHECK(intake.calls() == 4);
  CHECK(intake.duplicates() == 0);
}

TEST_CASE("imap: kUnavailable from the pipeline stops the round - the message is taken next round",
          "[imap][dovecot]") {
  REQUIRE(testing::dovecot_installed());  // dovecot-imapd: scripts/install-deps
  Dovecot server;
  TempDir dir;
  auto env = open_store(dir);
  RecordingIntake intake;
  ImapPoller poller(settings_for(server), "node-a", intake, *env->store, *env->store, *env->clock);
  for (int n = 1; n <= 3; ++n) server.deliver(message(n));

  intake.fail_next();
  auto failed = poller.poll_once();
  REQUIRE(failed.ok());
  CHECK(failed.value().taken.empty());
  CHECK_THAT(failed.value().stopped, Catch::Contains("UID 1 not taken: the store is full"));
  auto untouched = env->store->mailbox_position("complaints");
  REQUIRE(untouched.ok());
  CHECK_FALSE(untouched.value().has_value());

  auto retried = poller.poll_once();
  REQUIRE(retried.ok());
  CHECK(retried.value().taken.size() == 3);
  CHECK(intake.subjects() == std::vector<std::string>{"message 1", "message 2", "message 3"});
  CHECK(intake.duplicates() == 0);
}

TEST_CASE("imap: two pollers on one mailbox take each message once", "[imap][dovecot][concurrency]") {
  REQUIRE(testing::dovecot_installed());  // dovecot-imapd: scripts/install-deps
  Dovecot server;
  TempDir dir;
  auto env = open_store(dir);
  RecordingIntake intake;
  ImapPoller a(settings_for(server), "node-a", intake, *env->store, *env->store, *env->clock);
  ImapPoller b(settings_for(server), "node-b", intake, *env->store, *env->store, *env->clock);
  constexpr int kMessages = 12;
  int delivered = 0;
  for (; delivered < kMessages / 2; ++delivered) server.deliver(message(delivered + 1));

  std::atomic<int> rounds_polled{0};
  auto run = [&](ImapPoller& poller) {
    for (int round = 0; round < 6; ++round) {
      auto report = poller.poll_once();
      if (report.ok() && report.value().polled) ++rounds_polled;
    }
  };
  std::thread first(run, std::ref(a));
  std::thread second(run, std::ref(b));
  for (; delivered < kMessages; ++delivered) server.deliver(message(delivered + 1));
  first.join();
  second.join();
  // Whatever the interleaving, a last round by either takes what is left.
  REQUIRE(a.poll_once().ok());

  auto subjects = intake.subjects();
  std::multiset<std::string> unique(subjects.begin(), subjects.end());
  CHECK(subjects.size() == kMessages);
  for (int n = 1; n <= kMessages; ++n) CHECK(unique.count("message " + std::to_string(n)) == 1);
  CHECK(intake.duplicates() == 0);  // the lease and the position, not the pipeline's dedup, kept them apart
  CHECK(intake.calls() == kMessages);
  CHECK(rounds_polled.load() >= 1);
}

TEST_CASE("imap: a new UIDVALIDITY reads the mailbox again, and the pipeline's dedup keeps one of each",
          "[imap][dovecot]") {
  REQUIRE(testing::dovecot_installed());  // dovecot-imapd: scripts/install-deps
  Dovecot server;
  TempDir dir;
  auto env = open_store(dir);
  RecordingIntake intake;
  ImapPoller poller(settings_for(server), "node-a", intake, *env->store, *env->store, *env->clock);
  server.deliver(message(1));
  server.deliver(message(2));
  auto first = poller.poll_once();
  REQUIRE(first.ok());
  REQUIRE(first.value().taken.size() == 2);

  // A stored position under another UIDVALIDITY: as after the mailbox was rebuilt elsewhere.
  REQUIRE(env->store->set_mailbox_position("complaints", {first.value().uidvalidity + 1000, 2}).ok());
  server.deliver(message(3));
  auto reread = poller.poll_once();
  INFO((reread.ok() ? std::string() : reread.error().detail));
  REQUIRE(reread.ok());
  CHECK(reread.value().uidvalidity_changed);
  CHECK(reread.value().taken.size() == 3);
  CHECK(intake.duplicates() == 2);
  CHECK(intake.subjects() == std::vector<std::string>{"message 1", "message 2", "message 3"});
  auto position = env->store->mailbox_position("complaints");
  REQUIRE(position.value().has_value());
  CHECK(position.value()->uidvalidity == first.value().uidvalidity);
  CHECK(position.value()->last_uid == 3);
}

TEST_CASE("imap: a refused login is kUnavailable - a lease held elsewhere skips the round", "[imap][dovecot]") {
  REQUIRE(testing::dovecot_installed());  // dovecot-imapd: scripts/install-deps
  Dovecot server;
  TempDir dir;
  auto env = open_store(dir);
  RecordingIntake intake;
  server.deliver(message(1));

  auto wrong = settings_for(server);
  wrong.password = "not-the-password";
  ImapPoller refused(wrong, "node-a", intake, *env->store, *env->store, *env->clock);
  auto result = refused.poll_once();
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().code == ErrorCode::kUnavailable);
  CHECK(intake.calls() == 0);

  Time now = env->clock->now();
  REQUIRE(env->store->acquire_lease("mailbox:complaints", "node-z", now, now + std::chrono::minutes(5)).value());
  ImapPoller poller(settings_for(server), "node-a", intake, *env->store, *env->store, *env->clock);
  auto skipped = poller.poll_once();
  REQUIRE(skipped.ok());
  CHECK_FALSE(skipped.value().polled);
  CHECK(intake.calls() == 0);
  REQUIRE(env->store->release_lease("mailbox:complaints", "node-z").ok());
  auto taken = poller.poll_once();
  REQUIRE(taken.ok());
  CHECK(taken.value().taken.size() == 1);
}
