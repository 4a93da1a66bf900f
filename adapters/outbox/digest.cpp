#include "adapters/outbox/digest.h"

#include <date/date.h>
#include <spdlog/spdlog.h>

#include <map>

#include "engine/hash_chain.h"

namespace redress::outbox {

DigestJob::DigestJob(ReportStore& reports, StaffDirectory& staff, OutboxStore& outbox,
                     const mail::MailTemplates& templates, mail::MailSettings settings, const std::string& base_url,
                     std::unique_ptr<Mailer> mailer, CaseStore& leases, std::string holder, int hour)
    : reports_(reports),
      staff_(staff),
      outbox_(outbox),
      templates_(templates),
      settings_(std::move(settings)),
      base_url_(base_url),
      mailer_(std::move(mailer)),
      leases_(leases),
      holder_(std::move(holder)),
      hour_(hour) {}

int DigestJob::run_due(Time now) {
  auto day_start = std::chrono::floor<date::days>(now);
  if (now < day_start + std::chrono::hours(hour_)) return 0;
  std::string day = date::format("%F", day_start);
  // The run's lease: long enough for a run's sends; released at the end, so that whichever node runs
  // next takes it (a new attempt).
  auto lease = leases_.acquire_lease(kLeaseName, holder_, now, now + std::chrono::minutes(10));
  if (!lease) {
    spdlog::warn("digest: cannot take the lease: {}", lease.error().detail);
    return 0;
  }
  if (!*lease) return 0;  // another node sends the digests now
  const LeaseFence fence{kLeaseName, holder_, **lease};
  struct Release {
    CaseStore& leases;
    const std::string& holder;
    ~Release() { (void)leases.release_lease(kLeaseName, holder); }
  } release{leases_, holder_};
  auto report = reports_.overdue_report(now, 1000);
  if (!report) {
    spdlog::warn("digest: cannot read the overdue report: {}", report.error().detail);
    return 0;
  }
  auto staff = staff_.list_staff();
  if (!staff) return 0;
  std::map<std::string, std::string> names;
  for (const auto& s : *staff) names[s.id] = s.name;
  int sent = 0;
  for (const auto& person : *staff) {
    if (!person.active || person.email.empty() || (person.role != Role::kLead && person.role != Role::kManager))
      continue;
    std::vector<mail::DigestItem> items;
    auto add = [&](const std::vector<ReportItem>& list) {
      for (const auto& item : list) {
        if (person.role == Role::kLead && item.team != person.team) continue;
        auto owner = names.find(item.commitment.owner_id);
        items.push_back(mail::DigestItem{item.reference, item.case_subject,
                                         owner == names.end() ? std::string() : owner->second, item.commitment,
                                         base_url_ + "/staff/cases/" + item.reference});
      }
    };
    add(report->broken_unhandled);
    add(report->past_due);
    if (items.empty()) continue;
    auto owed = outbox_.digest_owed_fenced(day, person.email, now, fence);
    if (!owed && owed.error().code == ErrorCode::kConflict) {
      // Taken over (this node stalled past its lease): the successor sends the rest.
      spdlog::warn("digest: {}; the rest is left to the new holder", owed.error().detail);
      break;
    }
    if (!owed || !*owed) continue;
    boost::json::object context = mail::build_digest_context(items, now, person.name, settings_, {});
    // A stable id per day and recipient: a resend is the same mail.
    std::int64_t id =
        static_cast<std::int64_t>(std::stoull(sha256_hex(day + "/" + person.email).substr(0, 12), nullptr, 16));
    mail::MailNotification notification{id, "", "manager.digest", mail::MailAddress{person.name, person.email},
                                        day_start + std::chrono::hours(hour_)};
    auto mail = mail::compose_notification(notification, context, templates_, settings_);
    if (!mail) {
      (void)outbox_.record_digest(day, person.email, false, "cannot compose: " + mail.error().detail, now);
      continue;
    }
    DeliveryResult result = mailer_->send(*mail);
    bool delivered = result.outcome == DeliveryOutcome::kDelivered;
    (void)outbox_.record_digest(day, person.email, delivered, result.detail, now);
    if (delivered)
      ++sent;
    else
      spdlog::warn("digest: to {} not sent: {}", person.email, result.detail);
  }
  return sent;
}

}  // namespace redress::outbox
