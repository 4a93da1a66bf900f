// The two kinds of delivery attempt the outbox workers make.
//
// MailDelivery renders a mail notification from the case as stored (its template, the case, the
// event that made it owed, the client's link) and sends it through a Mailer. The client's mail of a
// client-visible staff message with files carries them (bytes from the BlobStore) up to
// kMaxMailAttachmentBytes in all; beyond that it names them and sends the client to the status
// page for them instead; WebhookDelivery
// builds a web hook's body from its event and sends it, signed, to its subscription's URL. The
// worker stores what compose() made before the first send(), and every send() sends those stored
// bytes, so a retry is the same mail and the same body.
//
// Thread-compatible: one instance per worker (each owns its Mailer or WebhookSender).
#pragma once

#include <memory>
#include <string>

#include "adapters/mail/mail_context.h"
#include "adapters/mail/templates.h"
#include "adapters/outbox/outbox_worker.h"
#include "adapters/security/keyring.h"
#include "engine/outbound.h"
#include "engine/workflow.h"
#include "ports/blob_store.h"
#include "ports/case_reader.h"
#include "ports/outbox_store.h"

namespace redress::outbox {

// The most file bytes one mail carries: many mail systems refuse more (with base64's third on top).
inline constexpr std::int64_t kMaxMailAttachmentBytes = 10 << 20;

class MailDelivery final : public Delivery {
 public:
  // `catalogues`: the clients' languages; a client's mail is in their case's locale where it is
  // one of them (adapters/i18n/catalogues.h), staff mail in English.
  MailDelivery(CaseReader& cases, BlobStore& blobs, const WorkflowSet& workflows, const security::Keyring& keyring,
               const mail::MailTemplates& templates, mail::MailSettings settings, const std::string& base_url,
               std::unique_ptr<Mailer> mailer,
               const i18n::Catalogues& catalogues = i18n::Catalogues::english_only());
  MailDelivery(const MailDelivery&) = delete;
  MailDelivery& operator=(const MailDelivery&) = delete;

  // The whole mail (headers and body, as sent over DATA).
  [[nodiscard]] Result<std::string> compose(const OutboxItem& item) override;
  [[nodiscard]] DeliveryResult send(const OutboxItem& item) override;
  // The composed mail with its envelope, for a notification not yet sent.
  [[nodiscard]] Result<OutgoingMail> compose_mail(const OutboxItem& item);

 private:
  CaseReader& cases_;
  BlobStore& blobs_;
  const WorkflowSet& workflows_;
  const security::Keyring& keyring_;
  const mail::MailTemplates& templates_;
  const mail::MailSettings settings_;
  const std::string& base_url_;  // the server's, known once it listens; outlives this
  std::unique_ptr<Mailer> mailer_;
  const i18n::Catalogues& catalogues_;
};

class WebhookDelivery final : public Delivery {
 public:
  WebhookDelivery(CaseReader& cases, OutboxStore& outbox, const security::Keyring& keyring,
                  std::unique_ptr<WebhookSender> sender);
  WebhookDelivery(const WebhookDelivery&) = delete;
  WebhookDelivery& operator=(const WebhookDelivery&) = delete;

  // {"type": ..., "timestamp": ..., "data": {...}} for the notification's event.
  [[nodiscard]] Result<std::string> compose(const OutboxItem& item) override;
  [[nodiscard]] DeliveryResult send(const OutboxItem& item) override;

 private:
  CaseReader& cases_;
  OutboxStore& outbox_;
  const security::Keyring& keyring_;
  std::unique_ptr<WebhookSender> sender_;
};

}  // namespace redress::outbox
