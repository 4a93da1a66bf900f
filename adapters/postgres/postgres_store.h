// PostgresStore: the Store on a PostgreSQL server that any number of `redress serve` nodes share.
//
// A facade over parts, each in its own file: WritePipeline (write_pipeline.h), the writer thread
// and its group commits, with each case row locked while its plan runs; ChangeWriter
// (change_writer.h), a Change turned into rows; CaseQueries, StaffRecords, SchedulerRecords and
// OutboxRecords, the reads and administrative writes by role on a ConnectionPool; blobs in a table.
// Nothing a node keeps in memory is trusted for correctness: versions are checked, ids drawn and
// leases decided in the database (docs/scaling.md).
//
// Every port method is implemented; the writer keeps the report summaries in its transactions, as
// SQLite's does (adapters/summaries/summary_deltas.h), so reports read small tables.
//
// Thread-safe: any thread may submit and read. Destruction drains the writer's queue first.
#pragma once

#include <memory>
#include <string>

#include "adapters/postgres/canned_reply_records.h"
#include "adapters/postgres/case_queries.h"
#include "adapters/postgres/connection_pool.h"
#include "adapters/postgres/outbox_records.h"
#include "adapters/postgres/compaction.h"
#include "adapters/postgres/personal_records.h"
#include "adapters/postgres/report_records.h"
#include "adapters/postgres/saved_view_records.h"
#include "adapters/postgres/scheduler_records.h"
#include "adapters/postgres/session_records.h"
#include "adapters/postgres/staff_records.h"
#include "adapters/postgres/write_pipeline.h"
#include "engine/clock.h"
#include "ports/store.h"

namespace redress::postgres {

struct StoreOptions {
  std::string url;              // postgresql://user:pass@host:5432/db
  int readers = 8;              // pooled connections for reads and administrative writes
  std::size_t max_batch = 256;  // work items per group commit at most
};

// Whether `url` names a PostgreSQL database (postgresql:// or postgres://).
[[nodiscard]] bool is_postgres_url(const std::string& url);

class PostgresStore final : public Store {
 public:
  // Connects and starts the writer. kInvalid when the schema is missing, older or newer (run
  // `redress migrate --database URL`); kUnavailable when the server cannot be reached.
  [[nodiscard]] static Result<std::unique_ptr<PostgresStore>> open(const StoreOptions& options, const Clock& clock);
  ~PostgresStore() override;
  PostgresStore(const PostgresStore&) = delete;
  PostgresStore& operator=(const PostgresStore&) = delete;

  // ---- CaseStore ----
  void submit(WorkItem item) override { writer_->submit(std::move(item)); }
  void submit_together(std::vector<WorkItem> items) override { writer_->submit_together(std::move(items)); }
  void flush() override { writer_->flush(); }
  [[nodiscard]] std::optional<std::string> write_failure() const override { return writer_->failure(); }
  [[nodiscard]] Result<std::optional<Time>> next_wake() override { return scheduler_.next_wake(); }
  [[nodiscard]] Result<std::vector<DueCase>> due_cases(Time now, int limit) override {
    return scheduler_.due_cases(now, limit);
  }
  [[nodiscard]] Result<std::optional<std::int64_t>> acquire_lease(const std::string& name, const std::string& holder,
                                                                  Time now, Time until) override {
    return scheduler_.acquire(name, holder, now, until);
  }
  [[nodiscard]] Result<bool> holds_lease(const LeaseFence& fence, Time now) override {
    return scheduler_.holds(fence.name, fence.holder, fence.attempt, now);
  }
  [[nodiscard]] Status release_lease(const std::string& name, const std::string& holder) override {
    return scheduler_.release(name, holder);
  }

  // ---- CaseReader, CaseSearch, ClientLinks ----
  [[nodiscard]] Result<CaseSnapshot> load_case(const std::string& r) override { return cases_.load_case(r); }
  [[nodiscard]] Result<std::vector<Event>> case_events(const std::string& r) override { return cases_.case_events(r); }
  [[nodiscard]] Result<std::vector<Message>> case_messages(const std::string& r) override {
    return cases_.case_messages(r);
  }
  [[nodiscard]] Result<CaseView> load_case_view(const std::string& r) override { return cases_.load_case_view(r); }
  [[nodiscard]] Result<CaseViewStamp> case_view_stamp(const std::string& r) override {
    return cases_.case_view_stamp(r);
  }
  [[nodiscard]] Result<CasePage> list_cases(const CaseFilter& filter, const std::string& cursor, int limit) override {
    return cases_.list_cases(filter, cursor, limit);
  }
  [[nodiscard]] Result<CasePage> search_cases(const std::string& text, const CaseFilter& filter,
                                              const std::string& cursor, int limit) override {
    return cases_.search_cases(text, filter, cursor, limit);
  }
  [[nodiscard]] Result<AuditReport> verify_chains() override { return cases_.verify_chains(); }
  [[nodiscard]] Result<CommitmentPage> list_commitments(const CommitmentFilter& filter, const std::string& cursor,
                                                        int limit) override;
  [[nodiscard]] Result<std::string> commitment_case(std::int64_t id) override { return cases_.commitment_case(id); }
  [[nodiscard]] Result<std::string> redress_case(std::int64_t id) override { return cases_.redress_case(id); }
  [[nodiscard]] Result<std::vector<std::pair<std::string, std::int64_t>>> count_cases_by_status() override {
    return cases_.count_cases_by_status();
  }
  [[nodiscard]] Result<std::int64_t> count_open_commitments() override { return cases_.count_open_commitments(); }
  [[nodiscard]] Result<std::vector<TagCount>> count_cases_by_tag() override { return cases_.count_cases_by_tag(); }

  // ---- SavedViewStore ----
  [[nodiscard]] Result<std::vector<SavedView>> list_views(const std::string& staff_id,
                                                          const std::string& team) override {
    return views_.list_views(staff_id, team);
  }
  [[nodiscard]] Result<SavedView> save_view(const SavedView& view) override { return views_.save_view(view); }
  [[nodiscard]] Status delete_view(std::int64_t id, const std::string& staff_id) override {
    return views_.delete_view(id, staff_id);
  }
  [[nodiscard]] Result<CaseSnapshot> load_case_by_client_link(const std::string& token_hash) override {
    return cases_.load_case_by_client_link(token_hash);
  }
  [[nodiscard]] Result<std::string> client_link_nonce(const std::string& r) override {
    return cases_.client_link_nonce(r);
  }
  [[nodiscard]] Status replace_client_link(const std::string& reference, const std::string& nonce,
                                           const std::string& token_hash) override {
    return cases_.replace_client_link(reference, nonce, token_hash);
  }

  // ---- StaffDirectory ----
  [[nodiscard]] Result<Staff> add_staff(const Staff& staff) override { return staff_.add_staff(staff); }
  [[nodiscard]] Result<Staff> find_staff(const std::string& id_or_email) override {
    return staff_.find_staff(id_or_email);
  }
  [[nodiscard]] Result<std::vector<Staff>> list_staff() override { return staff_.list_staff(); }
  [[nodiscard]] Status add_token(const std::string& staff_id, const std::string& token_hash,
                                 const std::string& label) override {
    return staff_.add_token(staff_id, token_hash, label);
  }
  [[nodiscard]] Result<Staff> staff_for_token(const std::string& token_hash) override {
    return staff_.staff_for_token(token_hash);
  }
  [[nodiscard]] Result<std::string> password_hash(const std::string& staff_id) override {
    return staff_.password_hash(staff_id);
  }
  [[nodiscard]] Status set_password_hash(const std::string& staff_id, const std::string& hash) override {
    return staff_.set_password_hash(staff_id, hash);
  }
  [[nodiscard]] Result<Staff> update_staff(const Staff& staff) override { return staff_.update_staff(staff); }
  [[nodiscard]] Result<std::vector<TokenInfo>> list_tokens(const std::string& staff_id) override {
    return staff_.list_tokens(staff_id);
  }
  [[nodiscard]] Result<TokenInfo> revoke_token(const std::string& token_id) override {
    return staff_.revoke_token(token_id);
  }
  [[nodiscard]] Result<std::int64_t> credentials_generation() override { return staff_.credentials_generation(); }

  // ---- SessionStore ----
  [[nodiscard]] Result<SignInGate> sign_in_gate(const std::string& email, Time now) override;
  [[nodiscard]] Result<SignInGate> record_sign_in_failure(const std::string& email, Time now, int max_failures,
                                                          Duration window, Duration lockout) override;
  [[nodiscard]] Status clear_sign_in_failures(const std::string& email) override;
  [[nodiscard]] Status create_session(const StaffSession& session) override;
  [[nodiscard]] Result<StaffSession> find_session(const std::string& token_hash, Time now) override;
  [[nodiscard]] Status end_session(const std::string& token_hash, Time now) override;

  // ---- OutboxStore ----
  [[nodiscard]] Result<std::vector<OutboxItem>> claim_notifications(NotificationDraft::Channel channel, Time now,
                                                                    const std::string& holder, Time lease_until,
                                                                    int limit) override {
    return outbox_.claim_notifications(channel, now, holder, lease_until, limit);
  }
  [[nodiscard]] Result<std::optional<Time>> next_delivery(NotificationDraft::Channel channel) override {
    return outbox_.next_delivery(channel);
  }
  [[nodiscard]] Result<std::vector<std::string>> store_payloads(
      const std::string& holder, const std::vector<std::pair<std::int64_t, std::string>>& payloads) override;
  [[nodiscard]] Status record_deliveries(const std::string& holder,
                                         const std::vector<DeliveryRecord>& records) override;
  [[nodiscard]] Result<std::vector<NotificationView>> case_notifications(const std::string& reference) override;
  [[nodiscard]] Result<std::vector<NotificationView>> dead_notifications(int limit) override;
  [[nodiscard]] Result<std::int64_t> retry_notifications(std::optional<std::int64_t> id, Time now) override;
  [[nodiscard]] Result<Subscription> add_subscription(const Subscription& subscription) override;
  [[nodiscard]] Result<std::vector<Subscription>> list_subscriptions() override;
  [[nodiscard]] Status delete_subscription(std::int64_t id) override;
  [[nodiscard]] Result<Subscription> find_subscription(std::int64_t id) override;
  [[nodiscard]] Status disable_subscription(std::int64_t id, const std::string& reason, Time now) override;
  [[nodiscard]] Result<bool> digest_owed(const std::string& day, const std::string& recipient, Time now) override;
  [[nodiscard]] Result<bool> digest_owed_fenced(const std::string& day, const std::string& recipient, Time now,
                                                const LeaseFence& fence) override;
  [[nodiscard]] Status record_digest(const std::string& day, const std::string& recipient, bool sent,
                                     const std::string& detail, Time now) override;

  // ---- ReportStore: the summaries the writer keeps (report_records.h) ----
  [[nodiscard]] Result<OverdueReport> overdue_report(Time now, int limit) override;
  [[nodiscard]] Result<std::vector<OwnerStats>> owner_report(Time since) override;
  [[nodiscard]] Result<std::vector<PledgeAttainment>> standards_report(Time now) override;
  [[nodiscard]] Result<std::vector<WorklistItem>> owner_worklist(const std::string& owner_id, int limit) override;
  [[nodiscard]] Result<std::vector<AttentionCount>> attention_by_owner(Time now) override;
  [[nodiscard]] Result<std::vector<EscalationCount>> escalation_counts() override;
  [[nodiscard]] Result<std::vector<WeeklyCount>> weekly_counts(Time since) override;
  [[nodiscard]] Result<std::vector<ReturnCaseHistory>> return_histories(const std::string& workflow,
                                                                         Time before) override;
  [[nodiscard]] Result<std::vector<SurveyAnswer>> survey_answers(Time since) override;
  [[nodiscard]] Result<std::vector<SurveyGroupSums>> survey_by_group(Time since) override;
  [[nodiscard]] Result<std::vector<SurveyDaySums>> survey_by_day(Time since) override;
  [[nodiscard]] Result<ReturnLedgerRows> return_days(const std::string& workflow, std::int32_t first_day,
                                                     std::int32_t last_day) override;
  [[nodiscard]] Result<bool> return_ledger_built() override;
  [[nodiscard]] Result<TouchpointReport> touchpoint_report(const std::string& touchpoint, Time since,
                                                         int limit) override;
  [[nodiscard]] Result<std::vector<TouchpointCount>> touchpoint_counts(const std::vector<std::string>& touchpoints,
                                                                      Time since) override;
  [[nodiscard]] Status rebuild_return_ledger(const ReturnEntriesOf& entries_of) override;

  // ---- InboundMailStore, MailboxStateStore ----
  [[nodiscard]] Result<std::optional<InboundRecord>> find_inbound(const std::string& blob_key) override;
  [[nodiscard]] Result<Recorded> record_inbound(const InboundReceipt& receipt) override;
  [[nodiscard]] Result<std::int64_t> count_inbound_from(const std::string& address, Time since) override;
  [[nodiscard]] Result<std::string> notification_case(std::int64_t notification_id) override;
  [[nodiscard]] Result<std::vector<InboundRecord>> list_inbound(const std::string& case_reference, int limit) override;
  [[nodiscard]] Result<std::int64_t> count_open_cases_with_bounces() override;
  [[nodiscard]] Result<std::optional<MailboxPosition>> mailbox_position(const std::string& mailbox) override;
  [[nodiscard]] Status set_mailbox_position(const std::string& mailbox, const MailboxPosition& position) override;
  [[nodiscard]] Status set_mailbox_position_fenced(const std::string& mailbox, const MailboxPosition& position,
                                                   const LeaseFence& fence, Time now) override;

  // ---- CannedReplyStore: the `canned_replies` table ----
  [[nodiscard]] Result<std::vector<CannedReply>> list_canned_replies() override {
    return canned_replies_.list_canned_replies();
  }
  [[nodiscard]] Result<CannedReply> find_canned_reply(std::int64_t id) override {
    return canned_replies_.find_canned_reply(id);
  }
  [[nodiscard]] Result<CannedReply> add_canned_reply(const CannedReply& reply) override {
    return canned_replies_.add_canned_reply(reply);
  }
  [[nodiscard]] Result<CannedReply> update_canned_reply(const CannedReply& reply) override {
    return canned_replies_.update_canned_reply(reply);
  }
  [[nodiscard]] Status delete_canned_reply(std::int64_t id) override { return canned_replies_.delete_canned_reply(id); }

  // ---- BlobStore: the `blobs` table ----
  [[nodiscard]] Result<BlobInfo> put_blob(std::string_view bytes) override;
  [[nodiscard]] Result<std::string> get_blob(const std::string& key) override;

  // ---- PersonalDataStore (personal_records.h) ----
  [[nodiscard]] Result<CaseRewrite> rewrite_case(const std::string& reference, const RewritePlan& plan) override {
    return personal_.rewrite_case(reference, plan);
  }
  [[nodiscard]] Result<CasePrivacy> case_privacy(const std::string& reference) override {
    return personal_.case_privacy(reference);
  }
  [[nodiscard]] Result<std::vector<PrivacyCandidate>> cases_of_client(const std::string& email) override {
    return personal_.cases_of_client(email);
  }
  [[nodiscard]] Result<std::vector<PrivacyCandidate>> retention_candidates() override {
    return personal_.retention_candidates();
  }
  [[nodiscard]] Result<std::vector<PrivacyCandidate>> unerased_cases() override { return personal_.unerased_cases(); }
  [[nodiscard]] Result<std::int64_t> start_erasure(const ErasureRecord& record) override {
    return personal_.start_erasure(record);
  }
  [[nodiscard]] Status finish_erasure(std::int64_t id, std::int64_t erased, std::int64_t restricted,
                                      Time at) override {
    return personal_.finish_erasure(id, erased, restricted, at);
  }
  [[nodiscard]] Result<std::vector<ErasureRecord>> erasures() override { return personal_.erasures(); }
  [[nodiscard]] Result<PurgeReport> purge_erased() override { return personal_.purge_erased(); }
  [[nodiscard]] Result<CompactionReport> compact(const CompactionProgress& progress) override {
    return Compaction(pool_.url()).run(progress);
  }

  // `redress audit summaries` (summaries.h): the report summaries that differ from their
  // aggregates over the rows, "" when none; repair_summaries rebuilds them all (the writers of
  // every node wait meanwhile) and answers what differs afterwards.
  [[nodiscard]] Result<std::string> check_summaries();
  [[nodiscard]] Result<std::string> repair_summaries();
  [[nodiscard]] Result<bool> claim_retention_run(const std::string& day, const std::string& holder,
                                                 Time now) override {
    return personal_.claim_retention_run(day, holder, now);
  }
  [[nodiscard]] Status finish_retention_run(const std::string& day, const std::string& report, Time now) override {
    return personal_.finish_retention_run(day, report, now);
  }

  // Groups the writer committed, and of those how many it ran again after meeting another writer.
  [[nodiscard]] std::int64_t groups() const { return writer_->groups(); }
  [[nodiscard]] std::int64_t retried_groups() const { return writer_->retried_groups(); }

 private:
  PostgresStore(const StoreOptions& options, const Clock& clock, std::unique_ptr<WritePipeline> writer);

  const StoreOptions options_;
  ConnectionPool pool_;
  CaseQueries cases_;
  StaffRecords staff_;
  SchedulerRecords scheduler_;
  OutboxRecords outbox_;
  SessionRecords sessions_;
  ReportRecords reports_;
  SavedViewRecords views_;
  CannedReplyRecords canned_replies_;
  PersonalRecords personal_;
  std::unique_ptr<WritePipeline> writer_;  // stopped first: destroyed first of what it uses
};

}  // namespace redress::postgres
