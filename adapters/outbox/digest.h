// DigestJob: the managers' daily digest of overdue and broken commitments, by mail.
//
// Once a day, from `hour` (UTC) on, every active lead and manager gets one mail (manager.digest)
// listing the open commitments past due and the broken ones nobody has handled yet: a manager
// all of them, a lead those of their team's cases. Nobody is mailed an empty digest. Each digest
// is recorded per day and recipient in the database before it is sent and marked sent once the
// mail server accepted it, so it goes once a day — a failed send is tried again at the next run.
// Several nodes on one database take turns through the lease "digest": a run takes it (or waits for
// the next run), and each digest is recorded owed under the run's attempt
// (OutboxStore::digest_owed_fenced), so a node that stalled past its lease and was taken over
// stops at its next digest instead of sending what its successor sends.
//
// Thread-compatible: one thread runs it (it owns its Mailer).
#pragma once

#include <memory>
#include <string>

#include "adapters/mail/mail_context.h"
#include "adapters/mail/templates.h"
#include "engine/clock.h"
#include "engine/outbound.h"
#include "engine/store.h"
#include "ports/outbox_store.h"
#include "ports/report_store.h"
#include "ports/staff_directory.h"

namespace redress::outbox {

class DigestJob {
 public:
  // `holder` names this process in the lease (as the scheduler's, app/serve.cpp lease_holder).
  DigestJob(ReportStore& reports, StaffDirectory& staff, OutboxStore& outbox, const mail::MailTemplates& templates,
            mail::MailSettings settings, const std::string& base_url, std::unique_ptr<Mailer> mailer,
            CaseStore& leases, std::string holder, int hour = 8);
  DigestJob(const DigestJob&) = delete;
  DigestJob& operator=(const DigestJob&) = delete;

  // Sends today's digests still owed at `now` (none before `hour`, none while another node holds
  // the lease). Returns how many were sent.
  int run_due(Time now);

  static constexpr const char* kLeaseName = "digest";

 private:
  ReportStore& reports_;
  StaffDirectory& staff_;
  OutboxStore& outbox_;
  const mail::MailTemplates& templates_;
  const mail::MailSettings settings_;
  const std::string& base_url_;
  std::unique_ptr<Mailer> mailer_;
  CaseStore& leases_;
  const std::string holder_;
  const int hour_;
};

}  // namespace redress::outbox
