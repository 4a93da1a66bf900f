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

  InboundArrival arrival{key, message.message_id, box->name, lower(message.from.address),
                         cut(message.subject, kMaxShortText)};
  Time now = engine_.clock().now();
  auto claim = records_.claim_inbound(arrival, now, settings_.claim_lease);
  if (!claim) return claim.error();
  if (claim->kind == InboundClaim::Kind::kDuplicate) {
    IntakeOutcome done = outcome(Disposition::kDuplicate, claim->case_reference,
                                 "already taken (" + claim->disposition + ")");
    done.blob_key = key;
    return done;
  }

  auto result = act(message, *box, key);
  if (!result) {
    // Left pending: the claim lapses, and the next delivery of the message finishes it.
    spdlog::warn("inbound mail {} from {}: {}", message.message_id, message.from.address, result.error().detail);
    return result.error();
  }
  result->blob_key = key;
  const std::string bounced = result->disposition == Disposition::kBounce && message.bounce &&
                                      !message.bounce->failed_recipients.empty()
                                  ? message.bounce->failed_recipients.front()
                                  : std::string();
  if (auto s = records_.finish_inbound(claim->id, std::string(to_string(result->disposition)), result->reference,
                                       result->detail, bounced);
      !s)
    return s.error();
  spdlog::info("inbound mail {} from {}: {}{}{}", message.message_id, message.from.address,
               to_string(result->disposition), result->reference.empty() ? "" : " ", result->reference);
  return result;
}

Result<IntakeOutcome> MailPipeline::act(const ParsedMessage& message, const MailboxSettings& box,
                                        const std::string& blob_key) {
  if (message.kind == MailKind::kBounce) return bounce(message);
  if (message.kind != MailKind::kPersonal)
    return outcome(Disposition::kIgnored, {}, std::string(to_string(message.kind)) + ": " + message.kind_reason);
  if (message.from.address.empty()) return outcome(Disposition::kIgnored, {}, "no sender address");
  // Our own mail coming back by another road (an alias that forwards to the mailbox).
  if (!box.address.empty() && lower(message.from.address) == lower(box.address))
    return outcome(Disposition::kIgnored, {}, "loop: sent from the mailbox's own address");

  auto recent = records_.count_inbound_from(lower(message.from.address),
                                            engine_.clock().now() - std::chrono::hours(1));
  if (!recent) return recent.error();
  if (*recent > settings_.max_messages_per_sender_per_hour)
    return outcome(Disposition::kIgnored, {},
                   "mail storm: more than " + std::to_string(settings_.max_messages_per_sender_per_hour) +
                       " messages from this sender in an hour");

  if (auto threaded = thread(message, box)) return to_case(message, *threaded, blob_key);
  return open_case(message, box, blob_key);
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

Result<IntakeOutcome> MailPipeline::to_case(const ParsedMessage& message, const Threaded& threaded,
                                            const std::string& blob_key) {
  auto snapshot = cases_.load_case(threaded.reference);
  if (!snapshot) return snapshot.error();
  if (lower(snapshot->record.client.email) != lower(message.from.address))
    return hold(message, threaded.reference, blob_key,
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
  auto committed = engine_.apply(std::move(request));
  if (committed)
    return outcome(Disposition::kThreaded, threaded.reference, "the client's reply, threaded by " + threaded.how);
  if (committed.error().code == ErrorCode::kUnavailable) return committed.error();
  // The case does not take the client's messages now (it ended): staff decide.
  return hold(message, threaded.reference, blob_key,
              "the client wrote, but the case did not take it: " + committed.error().detail);
}

Result<IntakeOutcome> MailPipeline::hold(const ParsedMessage& message, const std::string& reference,
                                         const std::string& blob_key, const std::string& reason) {
  ActionRequest request;
  request.type = ActionType::kHoldMessage;
  request.reference = reference;
  request.actor = Actor::intake("email");
  int left_out = 0;
  auto files = store_files(message, left_out);
  if (!files) return files.error();
  request.body = with_files_note(message_body(message), left_out);
  request.attachments = std::move(files).value();
  request.mail = mail_of(message, blob_key);
  request.mail.hold_reason = reason;
  auto committed = engine_.apply(std::move(request));
  if (!committed) return committed.error();
  return outcome(Disposition::kHeld, reference, "held for staff: " + reason);
}

Result<IntakeOutcome> MailPipeline::open_case(const ParsedMessage& message, const MailboxSettings& box,
                                              const std::string& blob_key) {
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
  // Keyed by the raw message, so a retry after a failure between creation and the record's finish
  // finds the case made the first time instead of opening a second.
  auto created = engine_.create_case(std::move(request), Actor::intake("email"), "mail:" + blob_key, blob_key);
  if (!created) return created.error();
  return outcome(Disposition::kOpenedCase, created->change.after.reference,
                 created->replayed ? "the case opened by an earlier delivery" : "a new complaint");
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


Result<IntakeOutcome> MailPipeline::bounce(const ParsedMessage& message) {
  if (!message.bounce || message.bounce->failed_recipients.empty())
    return outcome(Disposition::kIgnored, {}, "a delivery report naming no failed recipient");
  const BounceReport& report = *message.bounce;
  std::optional<OurMessageId> ours;
  if (!settings_.domain.empty()) ours = parse_our_message_id(report.original_message_id, settings_.domain);
  if (!ours || ours->notification_id == 0)
    return outcome(Disposition::kIgnored, {}, "a delivery report for mail Redress did not send");
  auto owner = records_.notification_case(ours->notification_id);
  if (!owner || *owner != ours->reference)
    return outcome(Disposition::kIgnored, {}, "a delivery report naming an unknown notification");
  ActionRequest request;
  request.type = ActionType::kRecordBounce;
  request.reference = ours->reference;
  request.actor = Actor::intake("email");
  request.bounce.address = report.failed_recipients.front();
  request.bounce.status = report.status;
  request.bounce.diagnostic = cut(report.diagnostic, kMaxShortText);
  request.bounce.notification_id = ours->notification_id;
  request.bounce.permanent = report.permanent;
  auto committed = engine_.apply(std::move(request));
  if (!committed) return committed.error();
  return outcome(Disposition::kBounce, ours->reference,
                 "mail to " + report.failed_recipients.front() + " failed (" + report.status + ")");
}

}  // namespace redress::inbound
