#include "adapters/inbound/mail_pipeline.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "engine/actions.h"

namespace redress::inbound {

namespace {

constexpr std::string_view kDispositionNames[] = {"opened_case", "threaded", "held",
                                                  "bounce",      "ignored",  "duplicate"};

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// Cuts `text` to at most `limit` bytes on a UTF-8 boundary.
std::string cut(std::string text, std::size_t limit) {
  if (text.size() <= limit) return text;
  std::size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  text.resize(end);
  return text;
}

// The text a message adds to its case: what the writer wrote, or the whole text when nothing is
// left once quotes and signature are folded away.
std::string message_body(const ParsedMessage& message) {
  std::string body = message.new_text.empty() ? message.text : message.new_text;
  if (body.empty()) body = message.attachments.empty() ? "(no text)" : "(no text; files attached)";
  return cut(std::move(body), kMaxLongText);
}

// The record of `base` as dealt with: what was done, and why.
InboundReceipt receipt_of(const InboundReceipt& base, Disposition disposition, const std::string& detail,
                          const std::string& bounced_address = {}) {
  InboundReceipt receipt = base;
  receipt.disposition = std::string(to_string(disposition));
  receipt.detail = detail;
  receipt.bounced_address = bounced_address;
  return receipt;
}

// What a second delivery of a message answers: what was done the first time.
IntakeOutcome duplicate_of(const InboundRecord& first) {
  IntakeOutcome done{Disposition::kDuplicate, first.case_reference, "already taken (" + first.disposition + ")", {}};
  done.blob_key = first.blob_key;
  return done;
}

// How a change carrying a receipt says that another delivery of the same message recorded it first.
bool taken_already(const Error& error) { return error.code == ErrorCode::kConflict; }

InboundMail mail_of(const ParsedMessage& message, const std::string& blob_key) {
  InboundMail mail;
  mail.from_address = message.from.address;
  mail.from_name = message.from.name;
  mail.subject = cut(message.subject, kMaxShortText);
  std::string body = message.new_text.empty() ? message.text : message.new_text;
  if (message.text != body) mail.original = cut(message.text, kMaxLongText);
  mail.blob_key = blob_key;
  mail.message_id = message.message_id;
  return mail;
}

IntakeOutcome outcome(Disposition disposition, std::string reference, std::string detail) {
  return IntakeOutcome{disposition, std::move(reference), std::move(detail), {}};
}

// The body with a note on the files that stayed in the raw email only.
std::string with_files_note(std::string body, int left_out) {
  if (left_out == 0) return body;
  body += "\n\n[" + std::to_string(left_out) + (left_out == 1 ? " file was" : " files were") +
          " over the size or count limits: it stays in the original email, which staff can open.]";
  return cut(std::move(body), kMaxLongText);
}


}  // namespace

std::string_view to_string(Disposition disposition) {
  return kDispositionNames[static_cast<std::size_t>(disposition)];
}

const MailboxSettings* InboundSettings::mailbox(const std::string& name) const {
  for (const auto& box : mailboxes)
    if (box.name == name) return &box;
  return nullptr;
}

MailPipeline::MailPipeline(Engine& engine, CaseReader& cases, BlobStore& blobs, InboundMailStore& records,
                           const security::Keyring& keyring, InboundSettings settings)
    : engine_(engine),
      cases_(cases),
      blobs_(blobs),
      records_(records),
      keyring_(keyring),
      settings_(std::move(settings)),
      default_mailbox_(settings_.mailboxes.empty() ? MailboxSettings{} : settings_.mailboxes.front()) {}

Result<IntakeOutcome> MailPipeline::take_message(std::string_view raw, const std::string& mailbox_name) {
  const MailboxSettings* box = mailbox_name.empty() ? &default_mailbox_ : settings_.mailbox(mailbox_name);
  if (!box) return Error::invalid_field("mailbox", "no mailbox \"" + mailbox_name + "\" is configured");
  // Refused before anything is stored: too large, or not a message at all.
  auto parsed = parse_message(raw, settings_.limits);
  if (!parsed) return parsed.error();
  ParsedMessage& message = *parsed;

  auto blob = blobs_.put_blob(raw);
  if (!blob) return blob.error();
  const std::string& key = blob->key;
  // A second delivery (an MTA's retry, another poller) finds the first one's record. Two at once
  // both go on, and the one whose change commits second is refused by the record's unique key.
  auto earlier = records_.find_inbound(key);
  if (!earlier) return earlier.error();
  if (*earlier) return duplicate_of(**earlier);

  InboundReceipt base;
  base.blob_key = key;
  base.message_id = message.message_id;
  base.mailbox = box->name;
  base.from_address = lower(message.from.address);
  base.subject = cut(message.subject, kMaxShortText);
  base.received_at = engine_.clock().now();
  auto result = act(message, *box, base);
  if (!result && taken_already(result.error())) {
    auto first = records_.find_inbound(key);
    if (first && *first) return duplicate_of(**first);
  }
  if (!result) {
    // Nothing is recorded: the next delivery of the message deals with it afresh.
    spdlog::warn("inbound mail {} from {}: {}", message.message_id, message.from.address, result.error().detail);
    return result.error();
  }
  result->blob_key = key;
  spdlog::info("inbound mail {} from {}: {}{}{}", message.message_id, message.from.address,
               to_string(result->disposition), result->reference.empty() ? "" : " ", result->reference);
  return result;
}

Result<IntakeOutcome> MailPipeline::ignore(const InboundReceipt& base, const std::string& detail) {
  auto recorded = records_.record_inbound(receipt_of(base, Disposition::kIgnored, detail));
  if (!recorded) return recorded.error();
  if (*recorded == Recorded::kDuplicate) return Error::conflict("this email was taken already");
  return outcome(Disposition::kIgnored, {}, detail);
}

Result<IntakeOutcome> MailPipeline::act(const ParsedMessage& message, const MailboxSettings& box,
                                        const InboundReceipt& base) {
  if (message.kind == MailKind::kBounce) return bounce(message, base);
  if (message.kind != MailKind::kPersonal)
    return ignore(base, std::string(to_string(message.kind)) + ": " + message.kind_reason);
  if (message.from.address.empty()) return ignore(base, "no sender address");
  // Our own mail coming back by another road (an alias that forwards to the mailbox).
  if (!box.address.empty() && lower(message.from.address) == lower(box.address))
    return ignore(base, "loop: sent from the mailbox's own address");

  auto recent = records_.count_inbound_from(lower(message.from.address),
                                            engine_.clock().now() - std::chrono::hours(1));
  if (!recent) return recent.error();
  // This message is not recorded yet: it is one more than those counted.
  if (*recent + 1 > settings_.max_messages_per_sender_per_hour)
    return ignore(base, "mail storm: more than " + std::to_string(settings_.max_messages_per_sender_per_hour) +
                            " messages from this sender in an hour");

  if (auto threaded = thread(message, box)) return to_case(message, *threaded, base);
  return open_case(message, box, base);
}

bool MailPipeline::case_exists(const std::string& reference) { return cases_.load_case(reference).ok(); }

std::optional<MailPipeline::Threaded> MailPipeline::thread(const ParsedMessage& message, const MailboxSettings& box) {
  if (auto reference = reference_in_subject(message.subject); reference && case_exists(*reference))
    return Threaded{*reference, "the reference in the subject"};
  if (!settings_.domain.empty()) {
    std::vector<std::string> ids = message.in_reply_to;
    // References lists the thread oldest first: the newest is the likeliest to be ours.
    ids.insert(ids.end(), message.references.rbegin(), message.references.rend());
    for (const auto& id : ids) {
      auto ours = parse_our_message_id(id, settings_.domain);
      if (!ours) continue;
      if (ours->notification_id != 0) {
        // A notification's Message-ID names its case; the notification must be that case's.
        auto owner = records_.notification_case(ours->notification_id);
        if (owner && *owner == ours->reference) return Threaded{ours->reference, "In-Reply-To/References"};
      } else if (case_exists(ours->reference)) {
        return Threaded{ours->reference, "In-Reply-To/References"};
      }
    }
  }
  if (!box.address.empty()) {
    std::vector<MailAddress> recipients = message.to;
    recipients.insert(recipients.end(), message.cc.begin(), message.cc.end());
    for (const auto& to : recipients)
      if (auto reference = reference_in_plus_address(to.address, box.address); reference && case_exists(*reference))
        return Threaded{*reference, "the reply address"};
  }
  return std::nullopt;
}

Result<IntakeOutcome> MailPipeline::to_case(const ParsedMessage& message, const Threaded& threaded_to,
                                            const InboundReceipt& base) {
  const std::string& blob_key = base.blob_key;
  Threaded threaded = threaded_to;
  auto snapshot = cases_.load_case(threaded.reference);
  if (!snapshot) return snapshot.error();
  // A reply to a merged complaint goes on to the case that carries on when that case is the same
  // client's; never into another client's case (their status page would show it): then it is held
  // on the merged one for staff. A merge chain is followed a few steps at most.
  for (int step = 0; step < 8 && !snapshot->record.merged_into.empty() &&
                     lower(snapshot->record.client.email) == lower(message.from.address);
       ++step) {
    auto survivor = cases_.load_case(snapshot->record.merged_into);
    if (!survivor) return survivor.error();
    if (lower(survivor->record.client.email) != lower(message.from.address))
      return hold(message, threaded.reference, base,
                  "threaded by " + threaded.how + " to a case merged into " + snapshot->record.merged_into +
                      ", another client's complaint");
    threaded.how += ", then on to " + survivor->record.reference + ", which it was merged into";
    threaded.reference = survivor->record.reference;
    snapshot = std::move(survivor);
  }
  if (lower(snapshot->record.client.email) != lower(message.from.address))
    return hold(message, threaded.reference, base,
                "threaded by " + threaded.how + ", but sent from " + message.from.address +
                    ", not the client's address");
  ActionRequest request;
  request.type = ActionType::kAddMessage;
  request.reference = threaded.reference;
  request.actor = Actor::client();
  request.visibility = Visibility::kClient;
  int left_out = 0;
  auto files = store_files(message, left_out);
  if (!files) return files.error();
  request.body = with_files_note(message_body(message), left_out);
  request.attachments = std::move(files).value();
  request.mail = mail_of(message, blob_key);
  const std::string detail = "the client's reply, threaded by " + threaded.how;
  request.receipt = receipt_of(base, Disposition::kThreaded, detail);
  auto committed = engine_.apply(std::move(request));
  if (committed) return outcome(Disposition::kThreaded, threaded.reference, detail);
  if (committed.error().code == ErrorCode::kUnavailable || taken_already(committed.error())) return committed.error();
  // The case does not take the client's messages now (it ended): staff decide.
  return hold(message, threaded.reference, base,
              "the client wrote, but the case did not take it: " + committed.error().detail);
}

Result<IntakeOutcome> MailPipeline::hold(const ParsedMessage& message, const std::string& reference,
                                         const InboundReceipt& base, const std::string& reason) {
  ActionRequest request;
  request.type = ActionType::kHoldMessage;
  request.reference = reference;
  request.actor = Actor::intake("email");
  int left_out = 0;
  auto files = store_files(message, left_out);
  if (!files) return files.error();
  request.body = with_files_note(message_body(message), left_out);
  request.attachments = std::move(files).value();
  request.mail = mail_of(message, base.blob_key);
  request.mail.hold_reason = reason;
  const std::string detail = "held for staff: " + reason;
  request.receipt = receipt_of(base, Disposition::kHeld, detail);
  auto committed = engine_.apply(std::move(request));
  if (!committed) return committed.error();
  return outcome(Disposition::kHeld, reference, detail);
}

Result<IntakeOutcome> MailPipeline::open_case(const ParsedMessage& message, const MailboxSettings& box,
                                              const InboundReceipt& base) {
  const std::string& blob_key = base.blob_key;
  NewCase request;
  request.client.email = message.from.address;
  request.client.name = message.from.name.empty() ? message.from.address.substr(0, message.from.address.find('@'))
                                                  : message.from.name;
  request.client.name = cut(request.client.name, kMaxShortText);
  request.channel = Channel::kEmail;
  request.category = box.category;
  request.touchpoint = box.touchpoint;
  request.workflow = box.workflow;
  request.subject = message.subject.empty() ? "(no subject)" : cut(message.subject, kMaxShortText);
  int left_out = 0;
  auto files = store_files(message, left_out);
  if (!files) return files.error();
  std::string text = message.text.empty() ? message_body(message) : message.text;
  request.description = with_files_note(cut(std::move(text), kMaxLongText), left_out);
  request.attachments = std::move(files).value();
  auto link = keyring_.new_client_link();
  request.client_link_nonce = link.nonce;
  request.client_link_hash = link.hash;
  request.receipt = receipt_of(base, Disposition::kOpenedCase, "a new complaint");
  // Keyed by the raw message too, so two deliveries at once open one case: the second replays it.
  auto created = engine_.create_case(std::move(request), Actor::intake("email"), "mail:" + blob_key, blob_key);
  if (!created) return created.error();
  const std::string& reference = created->change.after.reference;
  if (!created->replayed) return outcome(Disposition::kOpenedCase, reference, "a new complaint");
  // The case was opened by another delivery, with its record; a case opened before records were
  // written with the change (an older version's unfinished claim) gets its record now.
  auto first = records_.find_inbound(blob_key);
  if (!first) return first.error();
  if (*first) return Error::conflict("this email was taken already");
  InboundReceipt late = receipt_of(base, Disposition::kOpenedCase, "the case opened by an earlier delivery");
  late.case_reference = reference;
  auto recorded = records_.record_inbound(late);
  if (!recorded) return recorded.error();
  return outcome(Disposition::kOpenedCase, reference, late.detail);
}

Result<std::vector<AttachmentRef>> MailPipeline::store_files(const ParsedMessage& message, int& left_out) {
  std::vector<AttachmentRef> kept;
  std::int64_t total = 0;
  left_out = 0;
  for (const auto& file : message.attachments) {
    const auto size = static_cast<std::int64_t>(file.bytes.size());
    if (static_cast<int>(kept.size()) >= settings_.max_files || size > settings_.max_file_bytes ||
        total + size > settings_.max_total_bytes) {
      ++left_out;
      continue;
    }
    auto stored = blobs_.put_blob(file.bytes);
    if (!stored) return stored.error();
    total += size;
    kept.push_back(AttachmentRef{stored->key, file.filename, file.content_type, size});
  }
  return kept;
}


Result<IntakeOutcome> MailPipeline::bounce(const ParsedMessage& message, const InboundReceipt& base) {
  if (!message.bounce || message.bounce->failed_recipients.empty())
    return ignore(base, "a delivery report naming no failed recipient");
  const BounceReport& report = *message.bounce;
  std::optional<OurMessageId> ours;
  if (!settings_.domain.empty()) ours = parse_our_message_id(report.original_message_id, settings_.domain);
  if (!ours || ours->notification_id == 0)
    return ignore(base, "a delivery report for mail Redress did not send");
  auto owner = records_.notification_case(ours->notification_id);
  if (!owner || *owner != ours->reference)
    return ignore(base, "a delivery report naming an unknown notification");
  ActionRequest request;
  request.type = ActionType::kRecordBounce;
  request.reference = ours->reference;
  request.actor = Actor::intake("email");
  request.bounce.address = report.failed_recipients.front();
  request.bounce.status = report.status;
  request.bounce.diagnostic = cut(report.diagnostic, kMaxShortText);
  request.bounce.notification_id = ours->notification_id;
  request.bounce.permanent = report.permanent;
  const std::string detail = "mail to " + report.failed_recipients.front() + " failed (" + report.status + ")";
  request.receipt = receipt_of(base, Disposition::kBounce, detail, report.failed_recipients.front());
  auto committed = engine_.apply(std::move(request));
  if (!committed) return committed.error();
  return outcome(Disposition::kBounce, ours->reference, detail);
}

}  // namespace redress::inbound
