// Mail context: the variables a mail template sees, built from the engine's types; and the one
// call that turns a notification into an OutgoingMail (render, thread, compose).
//
// build_mail_context() reads the case as stored, the event that made the notification owed and
// what the caller knows beyond the store (links, the organisation, the recipient). Values that do
// not apply are left out, so `{{#owner}}...{{/owner}}` sections work; docs/email.md lists every
// variable. Times are formatted for the reader in the case's workflow time zone. Pure functions
// of their inputs; thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "adapters/i18n/catalogues.h"
#include "adapters/mail/mime.h"
#include "adapters/mail/templates.h"
#include "engine/model.h"
#include "engine/outbound.h"
#include "engine/result.h"
#include "engine/store.h"
#include "engine/workflow.h"

namespace redress::mail {

// An instant as a reader sees it: "Friday 27 November 2026 at 17:00 GMT".
using LocalTimeFormatter = std::function<std::string(Time)>;
// A formatter for the IANA zone (`zone_name` "Europe/London"); kInvalid for an unknown zone. In
// `language` (the catalogue's day and month names and its order of the parts: "viernes, 27 de
// noviembre de 2026 a las 17:00 GMT"); English when null. The language must outlive it.
[[nodiscard]] Result<LocalTimeFormatter> zone_formatter(const std::string& zone_name,
                                                        const i18n::Language* language = nullptr);
// "Friday 27 November 2026 at 17:00 UTC": the fallback when no zone is known.
[[nodiscard]] std::string format_utc_for_reader(Time t, const i18n::Language* language = nullptr);
// "25.00 GBP" from minor units (two decimals, as the engine stores money).
[[nodiscard]] std::string format_money(std::int64_t amount_minor, const std::string& currency);
// "Being investigated", "Waiting for your reply"...: the client's words for a status, in
// `language` (English when null).
[[nodiscard]] std::string status_label(CaseStatus status, const i18n::Language* language = nullptr);
// "A refund", "An apology"...: the client's words for a kind of redress.
[[nodiscard]] std::string redress_kind_label(RedressKind kind, const i18n::Language* language = nullptr);
// "on hold until we hear back from you": a paused pledge's due time, in words.
[[nodiscard]] std::string paused_label(const i18n::Language* language = nullptr);

// The organisation: who mail comes from, and the domain of its message ids.
struct MailSettings {
  std::string organisation;             // "Acme Energy"
  MailAddress from;                     // {"Acme Complaints", "complaints@acme.example"}
  std::optional<MailAddress> reply_to;  // where replies go, when not to `from`
  std::string domain;                   // message-id domain, e.g. "redress.acme.example"
  std::string support_email;            // shown in mail; empty to leave out
  std::string support_phone;            // shown in mail; empty to leave out
  // The inbound mailbox's address: a case's mail asks for replies at its per-case address
  // (local+REFERENCE@domain), which threads the reply however the client's mail program quotes.
  // Empty: replies go to reply_to (or from), threaded by the subject's tag and In-Reply-To.
  std::string reply_mailbox;
};

struct MailContextInput {
  const CaseSnapshot* snapshot = nullptr;  // required: the case as stored after the event
  const Workflow* workflow = nullptr;      // the pledge, the clocks, escalation names, the time zone
  std::optional<Staff> owner;              // the case's owner, when owned
  const Event* event = nullptr;            // the event that made the notification owed
  const Message* message = nullptr;        // the message of a client.message / staff.client_message
  std::string recipient_name;              // NotificationDraft::recipient_name
  std::string status_url;                  // the client's status link (client mail) or the staff case page
  std::string survey_url;                  // client.closed
  // A case merged into another (client.merged): whether that case is the same client's (the same
  // address), and then its status link. Nothing of another client's case is given but its reference.
  bool merged_into_same_client = false;
  std::string merged_into_url;
  LocalTimeFormatter format_time;          // empty: the workflow's zone, else UTC
  // The reader's language: the words the context holds (status_label, kind_label, dates) and the
  // workflow's texts (pledge, title, the pledges' own text) come from its catalogue, the case's
  // data as it is. English when null.
  const i18n::Language* language = nullptr;
};

// The template variables for one notification. `settings` gives organisation.*.
[[nodiscard]] boost::json::object build_mail_context(const MailContextInput& input, const MailSettings& settings);

// One line of a manager's digest.
struct DigestItem {
  std::string reference;
  std::string case_subject;
  std::string owner_name;  // empty when unowned
  Commitment commitment;   // open and past due, or broken
  std::string case_url;    // the staff page of the case
};

// The variables of manager.digest: digest.items (reference, subject, owner_name, text, due_local,
// state "broken" or "overdue", case_url), digest.count, digest.broken_count, digest.overdue_count,
// digest.date_local.
[[nodiscard]] boost::json::object build_digest_context(const std::vector<DigestItem>& items, Time now,
                                                       const std::string& recipient_name, const MailSettings& settings,
                                                       const LocalTimeFormatter& format_time);

// Everything the outbox knows about one email notification.
struct MailNotification {
  std::int64_t id = 0;        // the notification's id: its Message-ID and boundary follow from it
  std::string reference;      // the case, "CMP-2026-000042"
  std::string template_name;  // "client.acknowledged"
  MailAddress to;             // recipient and recipient_name
  Time created_at{};          // the Date header: when it was owed, the same on every attempt
};

// Renders the template with `context` in the context's `language` (English when it has none, or
// when the templates were not loaded with it), tags the subject with the reference, threads it
// into the case and composes it, with X-Redress-Case, X-Redress-Notification, Content-Language
// and Auto-Submitted: auto-generated; with `attachments`, multipart/mixed carrying them. The same
// inputs give the same bytes: a retry is the same mail.
[[nodiscard]] Result<OutgoingMail> compose_notification(const MailNotification& notification,
                                                        const boost::json::object& context,
                                                        const MailTemplates& templates, const MailSettings& settings,
                                                        std::vector<MailAttachment> attachments = {});

}  // namespace redress::mail
