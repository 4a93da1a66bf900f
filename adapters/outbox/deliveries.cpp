#include "adapters/outbox/deliveries.h"

#include <boost/json.hpp>

#include "adapters/mail/mime.h"
#include "engine/actions.h"

namespace redress::outbox {

namespace {

DeliveryResult failed(std::string detail) {
  return DeliveryResult{DeliveryOutcome::kPermanentFailure, 0, std::move(detail), std::nullopt};
}

Result<Event> find_event(CaseReader& cases, const std::string& reference, std::int64_t seq) {
  auto events = cases.case_events(reference);
  if (!events) return events.error();
  for (auto& e : *events)
    if (e.seq == seq) return std::move(e);
  return Error::not_found("case " + reference + " has no event " + std::to_string(seq));
}

// Two client addresses are one client's when they are equal but for the letters' case.
bool same_client_address(const std::string& a, const std::string& b) {
  if (a.empty() || a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

MailDelivery::MailDelivery(CaseReader& cases, BlobStore& blobs, const WorkflowSet& workflows,
                           const security::Keyring& keyring, const mail::MailTemplates& templates,
                           mail::MailSettings settings, const std::string& base_url, std::unique_ptr<Mailer> mailer,
                           const i18n::Catalogues& catalogues)
    : cases_(cases),
      blobs_(blobs),
      workflows_(workflows),
      keyring_(keyring),
      templates_(templates),
      settings_(std::move(settings)),
      base_url_(base_url),
      mailer_(std::move(mailer)),
      catalogues_(catalogues) {}

Result<OutgoingMail> MailDelivery::compose_mail(const OutboxItem& item) {
  auto view = cases_.load_case_view(item.reference);
  if (!view) return view.error();
  auto event = find_event(cases_, item.reference, item.event_seq);
  if (!event) return event.error();
  const Message* message = nullptr;
  boost::system::error_code ec;
  auto data = boost::json::parse(event->data, ec);
  if (!ec && data.is_object())
    if (const auto* id = data.get_object().if_contains("message_id"); id && id->is_string())
      for (const auto& m : view->messages)
        if (message_display_id(m.id) == id->get_string()) message = &m;
  mail::MailContextInput input;
  input.snapshot = &view->snapshot;
  input.workflow = workflows_.find(view->snapshot.record.workflow);
  input.owner = view->owner;
  input.event = &*event;
  input.message = message;
  input.recipient_name = item.recipient_name;
  if (item.audience == "client") {
    // In the client's language where it is shipped; else English.
    input.language = &catalogues_.for_tag(view->snapshot.record.client.locale);
    if (view->client_link_nonce) input.status_url = base_url_ + "/c/" + keyring_.client_token(*view->client_link_nonce);
    if (!input.status_url.empty()) input.survey_url = input.status_url + "#survey";
    // Merged into another case: its link is given only to that case's own client, as the status
    // page does; to anyone else it is a reference alone.
    if (const std::string& into = view->snapshot.record.merged_into; !into.empty())
      if (auto other = cases_.load_case_view(into);
          other && same_client_address(other->snapshot.record.client.email, view->snapshot.record.client.email)) {
        input.merged_into_same_client = true;
        if (other->client_link_nonce)
          input.merged_into_url = base_url_ + "/c/" + keyring_.client_token(*other->client_link_nonce);
      }
  } else {
    input.status_url = base_url_ + "/staff/cases/" + item.reference;
  }
  boost::json::object context = mail::build_mail_context(input, settings_);
  // A staff message to the client with files: attached when they fit one mail, else linked.
  std::vector<mail::MailAttachment> attachments;
  if (item.audience == "client" && message && message->visibility == Visibility::kClient &&
      message->author.rfind("staff:", 0) == 0 && !message->attachments.empty()) {
    std::int64_t total = 0;
    boost::json::array files;
    for (const auto& file : message->attachments) {
      total += file.size;
      files.push_back(boost::json::object{{"filename", file.filename}, {"size", file.size}});
    }
    const bool attach = total <= kMaxMailAttachmentBytes;
    if (attach)
      for (const auto& file : message->attachments) {
        auto bytes = blobs_.get_blob(file.key);
        if (!bytes) return bytes.error();
        attachments.push_back(mail::MailAttachment{file.filename, file.content_type, std::move(bytes).value()});
      }
    if (auto* fields = context["message"].if_object()) {
      (*fields)["has_files"] = true;
      (*fields)["files"] = std::move(files);
      (*fields)["files_attached"] = attach;
      (*fields)["files_linked"] = !attach;
    }
  }
  mail::MailNotification notification{item.id, item.reference, item.template_name,
                                      mail::MailAddress{item.recipient_name, item.recipient}, item.created_at};
  return mail::compose_notification(notification, context, templates_, settings_, std::move(attachments));
}

Result<std::string> MailDelivery::compose(const OutboxItem& item) {
  auto mail = compose_mail(item);
  if (!mail) return mail.error();
  return std::move(mail->data);
}

DeliveryResult MailDelivery::send(const OutboxItem& item) {
  // The envelope is the notification's; the stored bytes carry the same Message-ID.
  OutgoingMail mail;
  mail.message_id = mail::notification_message_id(item.id, item.reference, settings_.domain);
  mail.envelope_from = settings_.from.address;
  mail.recipients = {item.recipient};
  mail.data = item.payload;
  return mailer_->send(mail);
}

WebhookDelivery::WebhookDelivery(CaseReader& cases, OutboxStore& outbox, const security::Keyring& keyring,
                                 std::unique_ptr<WebhookSender> sender)
    : cases_(cases), outbox_(outbox), keyring_(keyring), sender_(std::move(sender)) {}

Result<std::string> WebhookDelivery::compose(const OutboxItem& item) {
  auto event = find_event(cases_, item.reference, item.event_seq);
  if (!event) return event.error();
  boost::system::error_code ec;
  auto parsed = boost::json::parse(event->data, ec);
  boost::json::object data = (!ec && parsed.is_object()) ? parsed.get_object() : boost::json::object{};
  data["case_reference"] = item.reference;
  data["event_seq"] = item.event_seq;
  data["actor"] = event->actor;
  data["event_hash"] = event->hash;
  return boost::json::serialize(
      boost::json::object{{"type", event->type}, {"timestamp", format_time(event->at)}, {"data", std::move(data)}});
}

DeliveryResult WebhookDelivery::send(const OutboxItem& item) {
  auto subscription = outbox_.find_subscription(item.subscription_id);
  if (!subscription) return failed("the subscription wh-" + std::to_string(item.subscription_id) + " was deleted");
  if (subscription->disabled_at)
    return failed("the subscription wh-" + std::to_string(item.subscription_id) +
                  " is disabled: " + subscription->disabled_reason);
  auto secret = keyring_.unseal(subscription->secret_sealed);
  if (!secret) return failed("the subscription's secret cannot be unsealed with this server's key");
  OutgoingWebhook hook{subscription->url, *secret, "msg_" + std::to_string(item.id), item.payload};
  DeliveryResult result = sender_->deliver(hook);
  if (result.outcome == DeliveryOutcome::kGone)
    (void)outbox_.disable_subscription(
        item.subscription_id, "the receiver answered 410 Gone",
        Time(std::chrono::duration_cast<Duration>(std::chrono::system_clock::now().time_since_epoch())));
  return result;
}

}  // namespace redress::outbox
