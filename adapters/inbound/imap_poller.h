// ImapPoller: takes the new messages of one IMAP mailbox into the mail pipeline (MailIntake).
//
// Each poll_once() round, under the lease "mailbox:<name>" (CaseStore::acquire_lease, so exactly
// one process polls a mailbox however many run): EXAMINE reads the mailbox's UIDVALIDITY; UID
// SEARCH lists the UIDs after the last one taken (MailboxStateStore); each message is fetched
// (UID FETCH, by libcurl) and handed to take_message in UID order, and its UID is recorded only
// after take_message succeeded (kDuplicate counts as taken; kInvalid too: the bytes will never be
// a message, and the pipeline has stored them). kUnavailable, any other error, a lost lease or a
// failed fetch ends the round; the next round starts again after the last UID recorded. Each
// position is written fenced by the lease's attempt (MailboxStateStore::set_mailbox_position_fenced):
// a poller that stalled past its lease, and was taken over, is refused its late write and ends its
// round, so the position never goes back (what it took meanwhile, its successor takes again: the
// pipeline answers kDuplicate). When the
// UIDVALIDITY changed (the mailbox was rebuilt), the whole mailbox is read again: the pipeline
// answers kDuplicate for what it already has. Messages stay in the mailbox (read-only access).
//
// Not thread-safe: one thread calls poll_once (the server's poll loop). Several pollers (threads
// or processes) on one mailbox exclude each other through the lease.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "adapters/inbound/mail_intake.h"
#include "engine/clock.h"
#include "engine/result.h"
#include "engine/store.h"
#include "ports/mailbox_state.h"

namespace redress::inbound {

enum class TlsCheck { kVerify, kSkipVerify };  // kSkipVerify: self-signed test servers only

struct ImapMailboxSettings {
  std::string name;      // the configured mailbox's name: routing defaults and the lease's name
  std::string url;       // "imaps://mail.example.com/INBOX" (imap:// only on trusted networks)
  std::string user;
  std::string password;  // or:
  std::string bearer;    // an OAuth2 access token (XOAUTH2/OAUTHBEARER), used when set
  TlsCheck tls = TlsCheck::kVerify;
  std::chrono::seconds timeout{60};         // per IMAP command (connect and transfer)
  std::chrono::seconds lease{120};          // renewed before every message
  std::size_t max_messages_per_round = 200;  // the rest wait for the next round
};

struct PollReport {
  bool polled = false;            // false: another process holds the mailbox's lease
  std::int64_t uidvalidity = 0;
  bool uidvalidity_changed = false;
  std::vector<IntakeOutcome> taken;  // in UID order
  std::string stopped;               // why the round ended early ("" when it took all it found)
};

class ImapPoller {
 public:
  // `holder` names this process in the lease (e.g. "host:pid"). The references must outlive the poller.
  ImapPoller(ImapMailboxSettings settings, std::string holder, MailIntake& intake, MailboxStateStore& positions,
             CaseStore& leases, const Clock& clock);

  // One round. Errors: kUnavailable when the server cannot be reached or refuses the login, or the
  // store cannot be read; the report of a round that took some messages and then stopped is a
  // value, its `stopped` saying why.
  [[nodiscard]] Result<PollReport> poll_once();

 private:
  ImapMailboxSettings settings_;
  std::string holder_;
  MailIntake& intake_;
  MailboxStateStore& positions_;
  CaseStore& leases_;
  const Clock& clock_;
};

// The untagged answers of IMAP commands, exposed for tests: "* OK [UIDVALIDITY 3857529045]" in an
// EXAMINE answer -> 3857529045 (nullopt when absent), and "* SEARCH 4 7 9" -> {4, 7, 9}.
[[nodiscard]] std::optional<std::int64_t> uidvalidity_in(std::string_view examine_answer);
[[nodiscard]] std::vector<std::int64_t> uids_in(std::string_view search_answer);

}  // namespace redress::inbound
