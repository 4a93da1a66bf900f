// The v1 API: every route of the SPEC's HTTP API table, registered on a Router.
//
// Handlers decode, call the Engine (writes) or the storage ports (reads), and answer with JSON or
// problem+json. Writes complete on a store thread; `defer` moves the rendering of their answer
// onto an I/O thread so the store's writer is never kept waiting. Thread-safe once built.
#pragma once

#include <boost/json/object.hpp>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "adapters/i18n/catalogues.h"
#include "adapters/security/keyring.h"
#include "engine/clock.h"
#include "engine/engine.h"
#include "ports/blob_store.h"
#include "ports/canned_replies.h"
#include "ports/case_reader.h"
#include "ports/case_search.h"
#include "ports/client_links.h"
#include "ports/outbox_store.h"
#include "ports/report_store.h"
#include "ports/saved_views.h"
#include "ports/session_store.h"
#include "ports/staff_directory.h"
#include "web/letters.h"
#include "web/metrics.h"
#include "web/rate_limit.h"
#include "web/router.h"
#include "web/settings.h"
#include "web/view_cache.h"
#include "adapters/inbound/mail_intake.h"
#include "ports/blob_store.h"
#include "ports/inbound_mail_store.h"
#include "ports/personal_data_store.h"
#include "web/erasure_ledger.h"

namespace redress::web {

// How mail delivery went last: the delivery worker records each attempt, /healthz reads it (a
// failing relay makes the service "degraded"). Thread-safe.
class MailHealth {
 public:
  void delivered() {
    std::lock_guard lock(mutex_);
    failure_.clear();
  }
  void failed(std::string detail, Time at) {
    std::lock_guard lock(mutex_);
    if (failure_.empty()) since_ = at;
    failure_ = std::move(detail);
  }
  // The last attempt's failure and since when attempts fail; nullopt when the last one went out.
  [[nodiscard]] std::optional<std::pair<std::string, Time>> failing() const {
    std::lock_guard lock(mutex_);
    if (failure_.empty()) return std::nullopt;
    return std::make_pair(failure_, since_);
  }

 private:
  mutable std::mutex mutex_;
  std::string failure_;
  Time since_{};
};

struct ApiContext {
  Engine& engine;  // every change, and the store's write health (engine.store())
  // The storage roles the API and the pages read (ports/), each the narrowest that serves.
  CaseReader& reads;
  CaseSearch& search;
  ClientLinks& client_links;
  StaffDirectory& staff;
  SessionStore& sessions;
  OutboxStore& outbox;
  ReportStore& reports;
  const security::Keyring& keyring;
  const WebSettings& settings;
  Metrics& metrics;
  ManualClock* manual_clock = nullptr;               // set only under `serve --clock=manual`
  std::string base_url;                              // "http://127.0.0.1:8080", for links
  std::string openapi_document;                      // served at /v1/openapi.json
  std::function<void(std::function<void()>)> defer;  // runs work on an I/O thread
  // Called after the manual clock moved, before /v1/admin/clock answers (fires what fell due).
  std::function<void()> on_clock_moved;
  // Called after staff administration changed a member or revoked a token (forgets this node's
  // cached token look-ups, so a deactivated member's token is refused from the next request on).
  std::function<void()> on_staff_changed;
  // Called after dead notifications were queued again (wakes the delivery workers).
  std::function<void()> on_outbox_retry;
  // Cases each intake source or intake token may create (settings.intake_rate_per_minute); made by
  // register_api when not set.
  std::shared_ptr<RateLimiter> intake_limiter;
  // Rendered case views (settings.view_cache_mib); made by register_api when not set, none when 0.
  std::shared_ptr<ViewCache> view_cache;
  // Inbound email (adapters/inbound): the pipeline POST /v1/inbound/email feeds, the records it
  // keeps and the raw messages; `blocking` runs the pipeline's synchronous work off the I/O threads.
  // Null when not configured: the routes answer 503.
  inbound::MailIntake* mail_intake = nullptr;
  InboundMailStore* inbound_records = nullptr;
  BlobStore* blobs = nullptr;
  std::function<void(std::function<void()>)> blocking;
  // The letter templates staff start from (web/letters.h); the shipped ones when not set (none
  // when those cannot be loaded: a request naming a letter is then refused).
  std::shared_ptr<const LetterTemplates> letters;
  // Mail delivery's last outcome, for /healthz; null when mail is not sent (no --smtp).
  std::shared_ptr<MailHealth> mail_health;
  // The saved case-list views (ports/saved_views.h), the console's and GET/POST/DELETE /v1/views;
  // null: neither can save them (the routes answer 503).
  SavedViewStore* saved_views = nullptr;
  // The canned replies staff insert into messages (web/canned_replies.h); null: the routes answer 503.
  CannedReplyStore* canned_replies = nullptr;
  // The clients' languages (adapters/i18n/catalogues.h): the status page, the complaint form and
  // the letters are in the client's where it is shipped. Null: English alone.
  const i18n::Catalogues* languages = nullptr;
  // Personal data (web/privacy.h): erasure, legal holds, redaction, restricted cases. Null: those
  // routes answer 503 and no case is treated as restricted.
  PersonalDataStore* personal = nullptr;
  ErasureLedger* erasure_ledger = nullptr;
};

void register_api(Router& router, ApiContext& api);

// The case a client link opens; kNotFound for a malformed, unknown or revoked link.
[[nodiscard]] Result<CaseSnapshot> client_link_case(ApiContext& api, const std::string& token);
// What the client may do now, by the names the client view lists ("reply", "survey", "withdraw"...).
[[nodiscard]] std::vector<std::string> client_actions(ApiContext& api, const Case& record);

// A message that came by email, as received (message/rfc822), as a download; staff only.
[[nodiscard]] Response original_mail(ApiContext& api, const std::string& reference, const std::string& message_id);

// What the client sees of a merge (issue 27): {"merged_into": {"reference", "status", "client_url"}
// or null, "merged_cases": [references merged into this case]}. Another case is named to the
// client only when it is theirs (the same email address); then merged_into carries its status
// and the link to its status page.
[[nodiscard]] boost::json::object client_merge_json(ApiContext& api, const Case& record);

// The link a client follows to their status page.
[[nodiscard]] std::string client_url(const ApiContext& api, const std::string& token);

}  // namespace redress::web
