// MailPipeline: the MailIntake every way in shares (POST /v1/inbound/email, `redress mailgate`
// through it, the IMAP poller) — store, record, parse, classify, thread, act.
//
// For each message, in this order:
//   1. the raw bytes go to the BlobStore (durable before anything else is done with them);
//   2. the InboundMailStore is asked for a record of its blob key: the same bytes again are a
//      duplicate and change nothing;
//   3. it is parsed (parsed_message.h) and classified: auto-replies, bulk and list mail, our own
//      mail come back (loops), and mail from a sender over the hourly cap never open a case and are
//      never answered; a delivery report marks the failed recipient on the case its mail was about;
//   4. it is threaded to a case by, in order, the reference tag in the subject, In-Reply-To and
//      References naming a Message-ID Redress made (a notification's is checked against the
//      notification's own case), and a per-case reply address (plus-addressing) — never by the
//      subject's words;
//   5. on its case it becomes the client's message when it comes from the client's own address
//      (moving awaiting_client back to investigating, the owner told), and is held for staff to
//      accept or reject otherwise, or when the case no longer takes the client's messages;
//   6. a message that threads to nothing opens a case (channel email) routed by its mailbox.
// Every change to a case goes through the Engine as an action, so the case's rules, history and
// notifications apply as to any other. The message's record (InboundReceipt) is written in that
// change's own transaction — or alone, for mail that changes no case — so a message is recorded
// exactly when it has been dealt with, and a second delivery racing the first is refused by the
// record's unique key. A failure to store is kUnavailable (retry later): nothing is recorded, and
// the next delivery deals with the message afresh.
//
// Thread-safe: take_message may be called from any number of threads at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "adapters/inbound/inbound_settings.h"
#include "adapters/inbound/mail_intake.h"
#include "adapters/inbound/parsed_message.h"
#include "adapters/security/keyring.h"
#include "engine/engine.h"
#include "ports/blob_store.h"
#include "ports/case_reader.h"
#include "ports/inbound_mail_store.h"

namespace redress::inbound {

class MailPipeline final : public MailIntake {
 public:
  MailPipeline(Engine& engine, CaseReader& cases, BlobStore& blobs, InboundMailStore& records,
               const security::Keyring& keyring, InboundSettings settings);

  [[nodiscard]] Result<IntakeOutcome> take_message(std::string_view raw, const std::string& mailbox) override;

  [[nodiscard]] const InboundSettings& settings() const { return settings_; }

 private:
  struct Threaded {
    std::string reference;
    std::string how;  // "subject tag", "In-Reply-To", "reply address"
  };
  [[nodiscard]] std::optional<Threaded> thread(const ParsedMessage& message, const MailboxSettings& box);
  [[nodiscard]] bool case_exists(const std::string& reference);
  // Each takes `base`, the message's record before it is dealt with, and writes it with what it did.
  [[nodiscard]] Result<IntakeOutcome> act(const ParsedMessage& message, const MailboxSettings& box,
                                          const InboundReceipt& base);
  [[nodiscard]] Result<IntakeOutcome> to_case(const ParsedMessage& message, const Threaded& threaded,
                                              const InboundReceipt& base);
  [[nodiscard]] Result<IntakeOutcome> hold(const ParsedMessage& message, const std::string& reference,
                                           const InboundReceipt& base, const std::string& reason);
  [[nodiscard]] Result<IntakeOutcome> open_case(const ParsedMessage& message, const MailboxSettings& box,
                                                const InboundReceipt& base);
  [[nodiscard]] Result<IntakeOutcome> bounce(const ParsedMessage& message, const InboundReceipt& base);
  // Records mail that changes no case; kConflict when another delivery recorded it first.
  [[nodiscard]] Result<IntakeOutcome> ignore(const InboundReceipt& base, const std::string& detail);
  // The message's files, stored, within the limits; `left_out` counts the files that were not.
  [[nodiscard]] Result<std::vector<AttachmentRef>> store_files(const ParsedMessage& message, int& left_out);

  Engine& engine_;
  CaseReader& cases_;
  BlobStore& blobs_;
  InboundMailStore& records_;
  const security::Keyring& keyring_;
  const InboundSettings settings_;
  const MailboxSettings default_mailbox_;
};

}  // namespace redress::inbound
