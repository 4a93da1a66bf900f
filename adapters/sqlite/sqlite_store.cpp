#include "adapters/sqlite/sqlite_store.h"

#include <algorithm>
#include <stdexcept>

#include "adapters/sqlite/plan_contexts.h"

namespace redress::sqlite {

namespace {

WritePipeline::Options pipeline_options(const StoreOptions& options) {
  return WritePipeline::Options{options.path,        options.durability, options.max_batch, options.checkpoint_pages,
                                options.before_sync, options.sync_fault};
}

}  // namespace

// ---- opening, closing and the writer ----------------------------------------------------------

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const StoreOptions& options, const Clock& clock) {
  std::unique_ptr<Connection> writer;
  try {
    writer = std::make_unique<Connection>(options.path, OpenMode::kReadWrite);
  } catch (const std::exception& e) {
    return Error::unavailable(e.what());
  }
  // The version check comes first: a database this binary cannot use is not touched, not even by
  // the pragmas (journal_mode = WAL rewrites the file header).
  sqlite3_busy_timeout(writer->handle(), 10000);
  auto version = schema_version(*writer);
  if (!version) return version.error();
  if (*version != latest_schema_version())
    return Error::invalid("the database " + options.path + " is at schema version " + std::to_string(*version) +
                          " but this redress needs version " + std::to_string(latest_schema_version()) +
                          (*version < latest_schema_version()
                               ? "; run `redress migrate` first"
                               : "; it is newer than this redress, which leaves it untouched"));
  if (auto s = configure_connection(*writer, options.durability, OpenMode::kReadWrite); !s) return s.error();
  auto blobs =
      SqliteBlobStore::open(options.blob_path.empty() ? SqliteBlobStore::path_for(options.path) : options.blob_path);
  if (!blobs) return blobs.error();
  try {
    return std::unique_ptr<SqliteStore>(new SqliteStore(options, clock, std::move(writer), std::move(blobs).value()));
  } catch (const std::exception& e) {
    return Error::unavailable(e.what());
  }
}

SqliteStore::SqliteStore(const StoreOptions& options, const Clock& clock, std::unique_ptr<Connection> writer,
                         std::unique_ptr<SqliteBlobStore> blobs)
    : options_(options),
      writer_connection_(std::move(writer)),
      blobs_(std::move(blobs)),
      // Opened on the writer's connection before the writer thread starts (search_index.h).
      search_index_(std::make_unique<SearchIndex>(
          options.path, *writer_connection_,
          [this](auto work) { return run_write(std::move(work), WriteScope::kNoCaseRows); })),
      readers_(options.snapshot_reuse),
      snapshots_(options.snapshot_cache),
      pipeline_(pipeline_options(options), *writer_connection_, snapshots_, readers_, health_),
      access_{readers_, pipeline_, clock},
      cases_(access_),
      staff_(access_, snapshots_),
      sign_ins_(access_),
      outbox_(access_),
      reports_(access_),
      scheduler_(access_),
      inbound_(access_),
      mailboxes_(access_),
      views_(access_),
      canned_replies_(access_),
      personal_(access_, options.path, *search_index_, *blobs_) {
  for (int i = 0; i < std::max(1, options.readers); ++i) {
    auto reader = std::make_unique<Connection>(options.path, OpenMode::kReadOnly);
    if (auto s = configure_connection(*reader, options.durability, OpenMode::kReadOnly); !s)
      throw std::runtime_error("cannot configure a reader: " + s.error().detail);
    if (auto s = search_index_->attach(*reader); !s)
      throw std::runtime_error("cannot attach the search index to a reader: " + s.error().detail);
    readers_.add(std::move(reader));
  }
  credentials_ = std::make_unique<CredentialsWatch>(options.path);
  if (options.search_indexing == SearchIndexing::kInBackground) search_index_->start(std::chrono::milliseconds(250));
}

SqliteStore::~SqliteStore() {
  // Its last round may still write through the writer.
  if (search_index_) search_index_->stop();
  pipeline_.stop();
  readers_.end_idle_snapshots();  // a kept snapshot would hold the truncation up
  (void)writer_connection_->exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

void SqliteStore::submit(WorkItem item) { pipeline_.submit(std::move(item)); }

void SqliteStore::submit_together(std::vector<WorkItem> items) { pipeline_.submit_together(std::move(items)); }

Result<std::vector<TagCount>> SqliteStore::count_cases_by_tag() { return cases_.count_cases_by_tag(); }

Result<std::vector<SavedView>> SqliteStore::list_views(const std::string& staff_id, const std::string& team) {
  return views_.list_views(staff_id, team);
}
Result<SavedView> SqliteStore::save_view(const SavedView& view) { return views_.save_view(view); }
Status SqliteStore::delete_view(std::int64_t id, const std::string& staff_id) {
  return views_.delete_view(id, staff_id);
}

Status SqliteStore::run_write(std::function<Status(Connection&)> work, WriteScope scope) {
  return pipeline_.run_write(std::move(work), scope);
}

void SqliteStore::flush() { pipeline_.flush(); }

std::shared_ptr<const CaseSnapshot> SqliteStore::kept_snapshot(const std::string& reference) {
  return snapshots_.kept(reference);
}

std::unique_ptr<AheadContext> SqliteStore::ahead_context() { return std::make_unique<AheadPlanContext>(snapshots_); }

Status SqliteStore::index_search() { return search_index_->index_now(); }

SqliteStore::Counters SqliteStore::counters() const {
  const WritePipeline::Counters writes = pipeline_.counters();
  Counters counters;
  counters.batches = writes.batches;
  counters.items = writes.items;
  counters.checkpoints = writes.checkpoints.checkpoints;
  counters.writer_checkpoints = writes.checkpoints.writer_checkpoints;
  counters.syncs = writes.syncs;
  counters.ahead_plans = writes.ahead_plans;
  counters.ahead_written = writes.ahead_written;
  counters.readers = readers_.counters();
  return counters;
}

std::optional<WriteStats> SqliteStore::write_stats() const { return pipeline_.write_stats(); }

// ---- forwarded to CaseQueries ------------------------------------------------------------------

Result<CaseSnapshot> SqliteStore::load_case(const std::string& reference) { return cases_.load_case(reference); }

Result<std::vector<Event>> SqliteStore::case_events(const std::string& reference) {
  return cases_.case_events(reference);
}

Result<std::vector<Message>> SqliteStore::case_messages(const std::string& reference) {
  return cases_.case_messages(reference);
}

Result<CaseView> SqliteStore::load_case_view(const std::string& reference) { return cases_.load_case_view(reference); }

Result<CaseViewStamp> SqliteStore::case_view_stamp(const std::string& reference) {
  return cases_.case_view_stamp(reference);
}

Result<CasePage> SqliteStore::list_cases(const CaseFilter& filter, const std::string& cursor, int limit) {
  return cases_.list_cases(filter, cursor, limit);
}

Result<CasePage> SqliteStore::search_cases(const std::string& text, const CaseFilter& filter, const std::string& cursor,
                                           int limit) {
  return cases_.search_cases(text, filter, cursor, limit);
}

Result<AuditReport> SqliteStore::verify_chains() { return cases_.verify_chains(); }

Result<CaseSnapshot> SqliteStore::load_case_by_client_link(const std::string& token_hash) {
  return cases_.load_case_by_client_link(token_hash);
}

Result<std::string> SqliteStore::client_link_nonce(const std::string& reference) {
  return cases_.client_link_nonce(reference);
}

Status SqliteStore::replace_client_link(const std::string& reference, const std::string& nonce,
                                        const std::string& token_hash) {
  return cases_.replace_client_link(reference, nonce, token_hash);
}

Result<CommitmentPage> SqliteStore::list_commitments(const CommitmentFilter& filter, const std::string& cursor,
                                                     int limit) {
  return cases_.list_commitments(filter, cursor, limit);
}

Result<std::string> SqliteStore::commitment_case(std::int64_t commitment_id) {
  return cases_.commitment_case(commitment_id);
}

Result<std::string> SqliteStore::redress_case(std::int64_t redress_id) { return cases_.redress_case(redress_id); }

Result<std::vector<std::pair<std::string, std::int64_t>>> SqliteStore::count_cases_by_status() {
  return cases_.count_cases_by_status();
}

Result<std::int64_t> SqliteStore::count_open_commitments() { return cases_.count_open_commitments(); }

// ---- forwarded to StaffRecords ---------------------------------------------------------------

Result<Staff> SqliteStore::add_staff(const Staff& staff) { return staff_.add_staff(staff); }

Result<Staff> SqliteStore::find_staff(const std::string& id_or_email) { return staff_.find_staff(id_or_email); }

Result<std::vector<Staff>> SqliteStore::list_staff() { return staff_.list_staff(); }

Status SqliteStore::add_token(const std::string& staff_id, const std::string& token_hash, const std::string& label) {
  return staff_.add_token(staff_id, token_hash, label);
}

Result<Staff> SqliteStore::staff_for_token(const std::string& token_hash) { return staff_.staff_for_token(token_hash); }

Result<std::string> SqliteStore::password_hash(const std::string& staff_id) { return staff_.password_hash(staff_id); }

Result<Staff> SqliteStore::update_staff(const Staff& staff) { return staff_.update_staff(staff); }

Status SqliteStore::set_password_hash(const std::string& staff_id, const std::string& hash) {
  return staff_.set_password_hash(staff_id, hash);
}

Result<std::vector<TokenInfo>> SqliteStore::list_tokens(const std::string& staff_id) {
  return staff_.list_tokens(staff_id);
}

Result<TokenInfo> SqliteStore::revoke_token(const std::string& token_id) { return staff_.revoke_token(token_id); }
Result<std::int64_t> SqliteStore::credentials_generation() { return credentials_->generation(); }

// ---- forwarded to SignInRecords ----------------------------------------------------------------

Result<SignInGate> SqliteStore::sign_in_gate(const std::string& email, Time now) {
  return sign_ins_.sign_in_gate(email, now);
}

Result<SignInGate> SqliteStore::record_sign_in_failure(const std::string& email, Time now, int max_failures,
                                                       Duration window, Duration lockout) {
  return sign_ins_.record_sign_in_failure(email, now, max_failures, window, lockout);
}

Status SqliteStore::clear_sign_in_failures(const std::string& email) { return sign_ins_.clear_sign_in_failures(email); }

Status SqliteStore::create_session(const StaffSession& session) { return sign_ins_.create_session(session); }

Result<StaffSession> SqliteStore::find_session(const std::string& token_hash, Time now) {
  return sign_ins_.find_session(token_hash, now);
}

Status SqliteStore::end_session(const std::string& token_hash, Time now) {
  return sign_ins_.end_session(token_hash, now);
}

// ---- forwarded to OutboxRecords ----------------------------------------------------------------

Result<std::vector<OutboxItem>> SqliteStore::claim_notifications(NotificationDraft::Channel channel, Time now,
                                                                 const std::string& holder, Time lease_until,
                                                                 int limit) {
  return outbox_.claim_notifications(channel, now, holder, lease_until, limit);
}

Result<std::vector<std::string>> SqliteStore::store_payloads(
    const std::string& holder, const std::vector<std::pair<std::int64_t, std::string>>& payloads) {
  return outbox_.store_payloads(holder, payloads);
}

Status SqliteStore::record_deliveries(const std::string& holder, const std::vector<DeliveryRecord>& records) {
  return outbox_.record_deliveries(holder, records);
}

Result<std::optional<Time>> SqliteStore::next_delivery(NotificationDraft::Channel channel) {
  return outbox_.next_delivery(channel);
}

Result<std::vector<NotificationView>> SqliteStore::case_notifications(const std::string& reference) {
  return outbox_.case_notifications(reference);
}

Result<std::vector<NotificationView>> SqliteStore::dead_notifications(int limit) {
  return outbox_.dead_notifications(limit);
}

Result<std::int64_t> SqliteStore::retry_notifications(std::optional<std::int64_t> id, Time now) {
  return outbox_.retry_notifications(id, now);
}

Result<Subscription> SqliteStore::add_subscription(const Subscription& subscription) {
  return outbox_.add_subscription(subscription);
}

Result<std::vector<Subscription>> SqliteStore::list_subscriptions() { return outbox_.list_subscriptions(); }

Result<Subscription> SqliteStore::find_subscription(std::int64_t id) { return outbox_.find_subscription(id); }

Status SqliteStore::delete_subscription(std::int64_t id) { return outbox_.delete_subscription(id); }

Status SqliteStore::disable_subscription(std::int64_t id, const std::string& reason, Time now) {
  return outbox_.disable_subscription(id, reason, now);
}

Result<bool> SqliteStore::digest_owed(const std::string& day, const std::string& recipient, Time now) {
  return outbox_.digest_owed(day, recipient, now);
}

Result<bool> SqliteStore::digest_owed_fenced(const std::string& day, const std::string& recipient, Time now,
                                             const LeaseFence& fence) {
  return outbox_.digest_owed_fenced(day, recipient, now, fence);
}

Status SqliteStore::record_digest(const std::string& day, const std::string& recipient, bool sent,
                                  const std::string& detail, Time now) {
  return outbox_.record_digest(
      day, recipient, sent ? OutboxRecords::DigestState::kSent : OutboxRecords::DigestState::kPending, detail, now);
}

// ---- forwarded to ReportQueries ----------------------------------------------------------------

Result<OverdueReport> SqliteStore::overdue_report(Time now, int limit) { return reports_.overdue_report(now, limit); }

Result<std::vector<OwnerStats>> SqliteStore::owner_report(Time since) { return reports_.owner_report(since); }

Result<std::vector<PledgeAttainment>> SqliteStore::standards_report(Time now) { return reports_.standards_report(now); }

Result<std::vector<WorklistItem>> SqliteStore::owner_worklist(const std::string& owner_id, int limit) {
  return reports_.owner_worklist(owner_id, limit);
}

Result<std::vector<AttentionCount>> SqliteStore::attention_by_owner(Time now) {
  return reports_.attention_by_owner(now);
}

Result<std::vector<EscalationCount>> SqliteStore::escalation_counts() { return reports_.escalation_counts(); }

Result<std::vector<WeeklyCount>> SqliteStore::weekly_counts(Time since) { return reports_.weekly_counts(since); }

Result<std::vector<ReturnCaseHistory>> SqliteStore::return_histories(const std::string& workflow, Time before) {
  return reports_.return_histories(workflow, before);
}

Result<std::vector<SurveyAnswer>> SqliteStore::survey_answers(Time since) { return reports_.survey_answers(since); }
Result<std::vector<SurveyGroupSums>> SqliteStore::survey_by_group(Time since) { return reports_.survey_by_group(since); }
Result<std::vector<SurveyDaySums>> SqliteStore::survey_by_day(Time since) { return reports_.survey_by_day(since); }

Result<ReturnLedgerRows> SqliteStore::return_days(const std::string& workflow, std::int32_t first_day,
                                                  std::int32_t last_day) {
  return reports_.return_days(workflow, first_day, last_day);
}

Result<bool> SqliteStore::return_ledger_built() { return reports_.return_ledger_built(); }

Result<TouchpointReport> SqliteStore::touchpoint_report(const std::string& touchpoint, Time since, int limit) {
  return reports_.touchpoint_report(touchpoint, since, limit);
}

Result<std::vector<TouchpointCount>> SqliteStore::touchpoint_counts(const std::vector<std::string>& touchpoints,
                                                                    Time since) {
  return reports_.touchpoint_counts(touchpoints, since);
}

Status SqliteStore::rebuild_return_ledger(const ReturnEntriesOf& entries_of) {
  return reports_.rebuild_return_ledger(entries_of);
}

// ---- forwarded to MailboxRecords ----------------------------------------------------------------

Result<std::vector<CannedReply>> SqliteStore::list_canned_replies() { return canned_replies_.list_canned_replies(); }
Result<CannedReply> SqliteStore::find_canned_reply(std::int64_t id) { return canned_replies_.find_canned_reply(id); }
Result<CannedReply> SqliteStore::add_canned_reply(const CannedReply& reply) {
  return canned_replies_.add_canned_reply(reply);
}
Result<CannedReply> SqliteStore::update_canned_reply(const CannedReply& reply) {
  return canned_replies_.update_canned_reply(reply);
}
Status SqliteStore::delete_canned_reply(std::int64_t id) { return canned_replies_.delete_canned_reply(id); }

Result<std::optional<MailboxPosition>> SqliteStore::mailbox_position(const std::string& mailbox) {
  return mailboxes_.mailbox_position(mailbox);
}

Status SqliteStore::set_mailbox_position(const std::string& mailbox, const MailboxPosition& position) {
  return mailboxes_.set_mailbox_position(mailbox, position);
}

Status SqliteStore::set_mailbox_position_fenced(const std::string& mailbox, const MailboxPosition& position,
                                                const LeaseFence& fence, Time now) {
  return mailboxes_.set_mailbox_position_fenced(mailbox, position, fence, now);
}

// ---- forwarded to SchedulerRecords -------------------------------------------------------------

Result<std::optional<Time>> SqliteStore::next_wake() { return scheduler_.next_wake(); }

Result<std::vector<DueCase>> SqliteStore::due_cases(Time now, int limit) { return scheduler_.due_cases(now, limit); }

Result<std::optional<std::int64_t>> SqliteStore::acquire_lease(const std::string& name, const std::string& holder,
                                                               Time now, Time until) {
  return scheduler_.acquire_lease(name, holder, now, until);
}

Result<bool> SqliteStore::holds_lease(const LeaseFence& fence, Time now) { return scheduler_.holds_lease(fence, now); }

Status SqliteStore::release_lease(const std::string& name, const std::string& holder) {
  return scheduler_.release_lease(name, holder);
}

// ---- forwarded to InboundRecords ---------------------------------------------------------------

Result<std::optional<InboundRecord>> SqliteStore::find_inbound(const std::string& blob_key) {
  return inbound_.find_inbound(blob_key);
}

Result<Recorded> SqliteStore::record_inbound(const InboundReceipt& receipt) { return inbound_.record_inbound(receipt); }

Result<std::int64_t> SqliteStore::count_inbound_from(const std::string& address, Time since) {
  return inbound_.count_inbound_from(address, since);
}

Result<std::string> SqliteStore::notification_case(std::int64_t notification_id) {
  return inbound_.notification_case(notification_id);
}

Result<std::vector<InboundRecord>> SqliteStore::list_inbound(const std::string& case_reference, int limit) {
  return inbound_.list_inbound(case_reference, limit);
}

Result<std::int64_t> SqliteStore::count_open_cases_with_bounces() { return inbound_.count_open_cases_with_bounces(); }

// PersonalRecords (personal_records.h).
Result<CaseRewrite> SqliteStore::rewrite_case(const std::string& reference, const RewritePlan& plan) {
  return personal_.rewrite_case(reference, plan);
}
Result<CasePrivacy> SqliteStore::case_privacy(const std::string& reference) { return personal_.case_privacy(reference); }
Result<std::vector<PrivacyCandidate>> SqliteStore::cases_of_client(const std::string& email) {
  return personal_.cases_of_client(email);
}
Result<std::vector<PrivacyCandidate>> SqliteStore::retention_candidates() { return personal_.retention_candidates(); }
Result<std::vector<PrivacyCandidate>> SqliteStore::unerased_cases() { return personal_.unerased_cases(); }
Result<std::int64_t> SqliteStore::start_erasure(const ErasureRecord& record) { return personal_.start_erasure(record); }
Status SqliteStore::finish_erasure(std::int64_t id, std::int64_t erased, std::int64_t restricted, Time at) {
  return personal_.finish_erasure(id, erased, restricted, at);
}
Result<std::vector<ErasureRecord>> SqliteStore::erasures() { return personal_.erasures(); }
Result<PurgeReport> SqliteStore::purge_erased() { return personal_.purge_erased(); }
Result<CompactionReport> SqliteStore::compact(const CompactionProgress& progress) {
  return personal_.compact(progress);
}
Result<bool> SqliteStore::claim_retention_run(const std::string& day, const std::string& holder, Time now) {
  return personal_.claim_retention_run(day, holder, now);
}
Status SqliteStore::finish_retention_run(const std::string& day, const std::string& report, Time now) {
  return personal_.finish_retention_run(day, report, now);
}

}  // namespace redress::sqlite
