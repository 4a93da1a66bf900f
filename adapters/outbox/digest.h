// DigestJob: the managers' daily digest of overdue and broken commitments, by mail.
//
// Once a day, from `hour` (UTC) on, every active lead and manager gets one mail (manager.digest)
// listing the open commitments past due and the broken ones nobody has handled yet: a manager
// all of them, a lead those of their team's cases. Nobody is mailed an empty digest. Each digest
// is recorded per day and recipient in the database before it is sent and marked sent once the
// mail server accepted it, so it goes once a day — a failed send is tried again at the next run.
//
// Thread-compatible: one thread runs it (it owns its Mailer).
#pragma once

#include <memory>
#include <string>

#include "adapters/mail/mail_context.h"
#include "adapters/mail/templates.h"
#include "engine/clock.h"
#include "engine/outbound.h"
#include "ports/outbox_store.h"
#include "ports/report_store.h"
#include "ports/staff_directory.h"

namespace redress::outbox {

class DigestJob {
 public:
  DigestJob(ReportStore& reports, StaffDirectory& staff, OutboxStore& outbox, const mail::MailTemplates& templates,
            mail::MailSettings settings, const std::string& base_url, std::unique_ptr<Mailer> mailer, int hour = 8);
  DigestJob(const DigestJob&) = delete;
  DigestJob& operator=(const DigestJob&) = delete;

  // Sends today's digests still owed at `now` (none before `hour`). Returns how many were sent.
  int run_due(Time now);

 private:
  ReportStore& reports_;
  StaffDirectory& staff_;
  OutboxStore& outbox_;
  const mail::MailTemplates& templates_;
  const mail::MailSettings settings_;
  const std::string& base_url_;
  std::unique_ptr<Mailer> mailer_;
  const int hour_;
};

}  // namespace redress::outbox
