#include "web/subject_export.h"

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>

#include "web/tar_writer.h"
#include "web/views.h"

namespace redress::web {

namespace json = boost::json;

namespace {

constexpr const char* kReadme =
    "Everything Redress holds about one client, found by their email address.\n"
    "\n"
    "subject.json             each case as staff see it: the case, its commitments and redress, every\n"
    "                         message (internal notes included), its whole history (events), the\n"
    "                         records of the email it received, and the notifications sent about it\n"
    "cases/REF/files/         the files on the case's messages, by message (m-ID/N-name)\n"
    "cases/REF/mail-received/ each email received for the case, as it arrived (m-ID.eml)\n"
    "cases/REF/mail-sent/     each email sent about the case, as sent (n-ID.eml)\n"
    "cases/REF/hooks-sent/    each web hook payload sent about the case, as sent (n-ID.json)\n";

std::int64_t unix_seconds(Time t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

Result<SubjectArchive> export_subject(const SubjectSources& sources, const std::string& email, Time now,
                                      const SubjectProgress& progress) {
  const auto at = email.find('@');
  if (email.empty() || at == std::string::npos || at == 0 || at + 1 == email.size() ||
      email.find_first_of(" \t\r\n") != std::string::npos)
    return Error::invalid_field("email", "must be an email address like ana@example.org");

  // Every case of the client, oldest first.
  CaseFilter filter;
  filter.client_email = email;
  filter.restricted = CaseFilter::Restricted::kShown;  // a restricted case is still held
  std::vector<Case> found;
  std::string cursor;
  do {
    auto page = sources.cases.list_cases(filter, cursor, 200);
    if (!page) return page.error();
    found.insert(found.end(), page->cases.begin(), page->cases.end());
    cursor = page->next_cursor;
  } while (!cursor.empty());
  std::reverse(found.begin(), found.end());

  TarWriter tar;
  const std::int64_t mtime = unix_seconds(now);
  json::array cases;
  std::int64_t done = 0;
  for (const Case& listed : found) {
    const std::string& reference = listed.reference;
    const std::string folder = "cases/" + reference + "/";
    auto view = sources.cases.load_case_view(reference);
    if (!view) return view.error();
    auto events = sources.cases.case_events(reference);
    if (!events) return events.error();
    auto received = sources.inbound.list_inbound(reference, 100000);
    if (!received) return received.error();
    auto sent = sources.outbox.case_notifications(reference);
    if (!sent) return sent.error();

    json::object entry = case_json(view->snapshot, view->owner, {}, view->messages,
                                   sources.workflows.find(view->snapshot.record.workflow));
    json::array history;
    for (const auto& e : *events) history.push_back(event_json(e));
    entry["events"] = std::move(history);

    // Each message's files and, for email, the message as received.
    for (const auto& m : view->messages) {
      const std::string id = "m-" + std::to_string(m.id);
      for (std::size_t n = 0; n < m.attachments.size(); ++n) {
        const auto& file = m.attachments[n];
        auto bytes = sources.blobs.get_blob(file.key);
        if (!bytes && bytes.error().code == ErrorCode::kNotFound) continue;  // erased or redacted since
        if (!bytes) return bytes.error();
        if (auto s = tar.add(folder + "files/" + id + "/" + std::to_string(n + 1) + "-" + safe_component(file.filename),
                             *bytes, mtime);
            !s)
          return s.error();
      }
      if (!m.mail_blob.empty()) {
        auto raw = sources.blobs.get_blob(m.mail_blob);
        if (!raw && raw.error().code != ErrorCode::kNotFound) return raw.error();
        if (raw)
          if (auto s = tar.add(folder + "mail-received/" + id + ".eml", *raw, mtime); !s) return s.error();
      }
    }
    json::array records;
    for (const auto& r : *received)
      records.push_back(json::object{{"message_id", r.message_id},
                                     {"from", r.from_address},
                                     {"subject", r.subject},
                                     {"received_at", format_time(r.received_at)},
                                     {"disposition", r.disposition},
                                     {"detail", r.detail}});
    entry["mail_received"] = std::move(records);
    json::array notifications;
    for (const auto& n : *sent) {
      notifications.push_back(notification_json(n));
      if (n.item.payload.empty()) continue;
      const bool mail = n.item.channel == NotificationDraft::Channel::kEmail;
      const std::string name = folder + (mail ? "mail-sent/n-" : "hooks-sent/n-") + std::to_string(n.item.id) +
                               (mail ? ".eml" : ".json");
      if (auto s = tar.add(name, n.item.payload, mtime); !s) return s.error();
    }
    entry["notifications"] = std::move(notifications);
    cases.push_back(std::move(entry));
    if (progress) progress(++done, static_cast<std::int64_t>(found.size()));
  }

  SubjectArchive archive;
  archive.cases = static_cast<std::int64_t>(found.size());
  archive.files = static_cast<std::int64_t>(tar.files());
  json::object subject{{"email", email},
                       {"exported_at", format_time(now)},
                       {"cases_found", archive.cases},
                       {"cases", std::move(cases)}};
  // README and subject.json go last in the archive, so the counts above are those of the files.
  if (auto s = tar.add("README.txt", kReadme, mtime); !s) return s.error();
  if (auto s = tar.add("subject.json", json::serialize(subject) + "\n", mtime); !s) return s.error();
  archive.bytes = tar.finish();
  return archive;
}

}  // namespace redress::web
