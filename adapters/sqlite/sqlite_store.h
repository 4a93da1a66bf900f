// SqliteStore: the Store on an embedded SQLite file (the default; nothing else needs to run).
//
// A facade: it opens the database, owns the parts below and forwards each Store call to the part
// that answers it. The parts, each in its own file with its invariants and thread-safety:
//   WritePipeline (write_pipeline.h): the one writer thread and its queue - group commit, a
//     savepoint per item when a failed item had written, refusals on storage failures; it owns
//   WalSyncer (wal_syncer.h): with durability FULL, the thread that syncs the WAL before any
//     answer, and the latch that refuses writes for good after a failed sync;
//   WalCheckpointer (wal_checkpointer.h): the thread that keeps the WAL bounded beside the commits;
//   ChangeWriter (change_writer.h): a planned Change turned into rows, with the summaries' deltas;
//   SnapshotCache (snapshot_cache.h): the case snapshots the writer keeps and the id blocks, both
//     shared with the threads that plan actions ahead of the writer;
//   ReaderPool (reader_pool.h): the read-only connections;
//   SearchIndex (search_index.h): the trigram index in a file of its own;
//   SqliteBlobStore (blob_store.h): attachments and raw mail, content-addressed, in a file of its own;
//   and the reads and administrative writes by role: CaseQueries, StaffRecords, SignInRecords,
//     OutboxRecords, ReportQueries, SchedulerRecords, InboundRecords, MailboxRecords,
//     CannedReplyRecords.
//
// Reads see committed data only (WAL snapshot isolation); writes are answered once durable. A
// storage failure refuses writes (kUnavailable, saying which) until the disk answers again; reads
// go on. Failures are logged once per 10 s at most (write_health.h).
//
// Thread-safe: any thread may submit and read. Destruction drains the queue first.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "adapters/sqlite/blob_store.h"
#include "adapters/sqlite/canned_reply_records.h"
#include "adapters/sqlite/credentials_watch.h"
#include "adapters/sqlite/case_queries.h"
#include "adapters/sqlite/database.h"
#include "adapters/sqlite/outbox_records.h"
#include "adapters/sqlite/personal_records.h"
#include "adapters/sqlite/reader_pool.h"
#include "adapters/sqlite/saved_view_records.h"
#include "adapters/sqlite/report_queries.h"
#include "adapters/sqlite/mailbox_records.h"
#include "adapters/sqlite/scheduler_records.h"
#include "adapters/sqlite/schema.h"
#include "adapters/sqlite/search_index.h"
#include "adapters/sqlite/inbound_records.h"
#include "adapters/sqlite/sign_in_records.h"
#include "adapters/sqlite/snapshot_cache.h"
#include "adapters/sqlite/staff_records.h"
#include "adapters/sqlite/store_access.h"
#include "adapters/sqlite/write_health.h"
#include "adapters/sqlite/write_pipeline.h"
#include "engine/clock.h"
#include "ports/store.h"

namespace redress::sqlite {

// Who moves pending cases into the search index (search_index.h): its own thread, a round every
// 250 ms while any wait, or only SqliteStore::index_search (tests). Searches find pending cases
// either way.
enum class SearchIndexing { kInBackground, kOnRequest };

struct StoreOptions {
  std::string path;                           // the database file
  Durability durability = Durability::kFull;  // FULL: a commit is on disk before `done` runs
  int readers = 4;                            // read-only connections in the pool
  std::size_t max_batch = 1024;               // work items per group commit at most
  std::int64_t checkpoint_pages = 8192;       // checkpoint once the WAL holds this many pages
  std::size_t snapshot_cache = 16384;         // case snapshots the writer keeps; 0: none
  // How long a reader may keep a read transaction open for the next current-snapshot read
  // while the database has not changed (reader_pool.h); 0: never.
  std::chrono::milliseconds snapshot_reuse{10};
  SearchIndexing search_indexing = SearchIndexing::kInBackground;
  // The blob file (blob_store.h); empty: SqliteBlobStore::path_for(path), beside the database.
  std::string blob_path;
  // Tests only: runs on the syncer thread before each sync of the WAL (to hold it).
  std::function<void()> before_sync;
  // Tests only: a failure it returns is taken for the sync's own (a disk error under fdatasync).
  std::function<Status()> sync_fault;
};

class SqliteStore final : public Store {
 public:
  // Opens the database, which must be at the latest schema version (run `migrate` first), and
  // starts the writer. kInvalid when the schema is missing, older or newer.
  [[nodiscard]] static Result<std::unique_ptr<SqliteStore>> open(const StoreOptions& options, const Clock& clock);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  void submit(WorkItem item) override;
  void submit_together(std::vector<WorkItem> items) override;
  void flush() override;
  [[nodiscard]] std::shared_ptr<const CaseSnapshot> kept_snapshot(const std::string& reference) override;
  [[nodiscard]] std::unique_ptr<AheadContext> ahead_context() override;
  // Indexes every case still waiting for the search index now (in the background, the index's
  // thread does it by itself); searches find waiting cases either way.
  [[nodiscard]] Status index_search();
  // While writes fail (full disk, read-only database...): why, from the last refused group.
  [[nodiscard]] std::optional<std::string> write_failure() const override { return health_.failure(); }

  [[nodiscard]] Result<CaseSnapshot> load_case(const std::string& reference) override;
  [[nodiscard]] Result<std::vector<Event>> case_events(const std::string& reference) override;
  [[nodiscard]] Result<std::vector<Message>> case_messages(const std::string& reference) override;
  [[nodiscard]] Result<CaseView> load_case_view(const std::string& reference) override;        // CaseQueries
  [[nodiscard]] Result<CaseViewStamp> case_view_stamp(const std::string& reference) override;  // CaseQueries
  [[nodiscard]] Result<CasePage> list_cases(const CaseFilter& filter, const std::string& cursor, int limit) override;
  [[nodiscard]] Result<CasePage> search_cases(const std::string& text, const CaseFilter& filter,
                                              const std::string& cursor, int limit) override;
  [[nodiscard]] Result<AuditReport> verify_chains() override;

  [[nodiscard]] Result<Staff> add_staff(const Staff& staff) override;
  [[nodiscard]] Result<Staff> find_staff(const std::string& id_or_email) override;
  [[nodiscard]] Result<std::vector<Staff>> list_staff() override;
  [[nodiscard]] Status add_token(const std::string& staff_id, const std::string& token_hash,
                                 const std::string& label) override;
  [[nodiscard]] Result<Staff> staff_for_token(const std::string& token_hash) override;

  // CaseQueries (client links, commitments, counts) and OutboxRecords (subscriptions).
  [[nodiscard]] Result<CaseSnapshot> load_case_by_client_link(const std::string& token_hash) override;
  [[nodiscard]] Result<std::string> client_link_nonce(const std::string& reference) override;
  [[nodiscard]] Status replace_client_link(const std::string& reference, const std::string& nonce,
                                           const std::string& token_hash) override;
  [[nodiscard]] Result<Subscription> add_subscription(const Subscription& subscription) override;
  [[nodiscard]] Result<std::vector<Subscription>> list_subscriptions() override;
  [[nodiscard]] Status delete_subscription(std::int64_t id) override;
  [[nodiscard]] Result<CommitmentPage> list_commitments(const CommitmentFilter& filter, const std::string& cursor,
                                                        int limit) override;
  [[nodiscard]] Result<std::string> commitment_case(std::int64_t commitment_id) override;
  [[nodiscard]] Result<std::string> redress_case(std::int64_t redress_id) override;
  [[nodiscard]] Result<std::vector<std::pair<std::string, std::int64_t>>> count_cases_by_status() override;
  [[nodiscard]] Result<std::int64_t> count_open_commitments() override;
  [[nodiscard]] Result<std::vector<TagCount>> count_cases_by_tag() override;

  // SavedViewRecords: the console's saved case-list views (ports/saved_views.h).
  [[nodiscard]] Result<std::vector<SavedView>> list_views(const std::string& staff_id,
                                                          const std::string& team) override;
  [[nodiscard]] Result<SavedView> save_view(const SavedView& view) override;
  [[nodiscard]] Status delete_view(std::int64_t id, const std::string& staff_id) override;

  // SchedulerRecords (wakes, leases) and ReportQueries (reports).
  [[nodiscard]] Result<std::optional<Time>> next_wake() override;
  [[nodiscard]] Result<std::vector<DueCase>> due_cases(Time now, int limit) override;
  [[nodiscard]] Result<std::optional<std::int64_t>> acquire_lease(const std::string& name, const std::string& holder,
                                                                  Time now, Time until) override;
  [[nodiscard]] Result<bool> holds_lease(const LeaseFence& fence, Time now) override;
  [[nodiscard]] Status release_lease(const std::string& name, const std::string& holder) override;
  [[nodiscard]] Result<OverdueReport> overdue_report(Time now, int limit) override;
  [[nodiscard]] Result<std::vector<OwnerStats>> owner_report(Time since) override;
  [[nodiscard]] Result<std::vector<PledgeAttainment>> standards_report(Time now) override;
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

  // OutboxRecords.
  [[nodiscard]] Result<std::vector<OutboxItem>> claim_notifications(NotificationDraft::Channel channel, Time now,
                                                                    const std::string& holder, Time lease_until,
                                                                    int limit) override;
  [[nodiscard]] Result<std::vector<std::string>> store_payloads(
      const std::string& holder, const std::vector<std::pair<std::int64_t, std::string>>& payloads) override;
  [[nodiscard]] Status record_deliveries(const std::string& holder,
                                         const std::vector<DeliveryRecord>& records) override;
  [[nodiscard]] Result<std::optional<Time>> next_delivery(NotificationDraft::Channel channel) override;
  [[nodiscard]] Result<std::vector<NotificationView>> case_notifications(const std::string& reference) override;
  [[nodiscard]] Result<std::vector<NotificationView>> dead_notifications(int limit) override;
  [[nodiscard]] Result<std::int64_t> retry_notifications(std::optional<std::int64_t> id, Time now) override;
  [[nodiscard]] Result<Subscription> find_subscription(std::int64_t id) override;
  [[nodiscard]] Status disable_subscription(std::int64_t id, const std::string& reason, Time now) override;
  [[nodiscard]] Result<bool> digest_owed(const std::string& day, const std::string& recipient, Time now) override;
  [[nodiscard]] Result<bool> digest_owed_fenced(const std::string& day, const std::string& recipient, Time now,
                                                const LeaseFence& fence) override;
  [[nodiscard]] Status record_digest(const std::string& day, const std::string& recipient, bool sent,
                                     const std::string& detail, Time now) override;

  // MailboxRecords: where each polled IMAP mailbox was left (ports/mailbox_state.h).
  [[nodiscard]] Result<std::optional<MailboxPosition>> mailbox_position(const std::string& mailbox) override;
  [[nodiscard]] Status set_mailbox_position(const std::string& mailbox, const MailboxPosition& position) override;
  [[nodiscard]] Status set_mailbox_position_fenced(const std::string& mailbox, const MailboxPosition& position,
                                                   const LeaseFence& fence, Time now) override;

  // StaffRecords (password_hash), SignInRecords (sign-ins, sessions) and ReportQueries (the board).
  [[nodiscard]] Result<std::string> password_hash(const std::string& staff_id) override;
  [[nodiscard]] Result<Staff> update_staff(const Staff& staff) override;
  [[nodiscard]] Status set_password_hash(const std::string& staff_id, const std::string& hash) override;
  [[nodiscard]] Result<std::vector<TokenInfo>> list_tokens(const std::string& staff_id) override;
  [[nodiscard]] Result<TokenInfo> revoke_token(const std::string& token_id) override;
  [[nodiscard]] Result<std::int64_t> credentials_generation() override;
  [[nodiscard]] Result<SignInGate> sign_in_gate(const std::string& email, Time now) override;
  [[nodiscard]] Result<SignInGate> record_sign_in_failure(const std::string& email, Time now, int max_failures,
                                                          Duration window, Duration lockout) override;
  [[nodiscard]] Status clear_sign_in_failures(const std::string& email) override;
  [[nodiscard]] Status create_session(const StaffSession& session) override;
  [[nodiscard]] Result<StaffSession> find_session(const std::string& token_hash, Time now) override;
  [[nodiscard]] Status end_session(const std::string& token_hash, Time now) override;
  [[nodiscard]] Result<std::vector<WorklistItem>> owner_worklist(const std::string& owner_id, int limit) override;
  [[nodiscard]] Result<std::vector<AttentionCount>> attention_by_owner(Time now) override;
  [[nodiscard]] Result<std::vector<EscalationCount>> escalation_counts() override;
  [[nodiscard]] Result<std::vector<WeeklyCount>> weekly_counts(Time since) override;

  // InboundRecords (the inbound_mail table).
  [[nodiscard]] Result<std::optional<InboundRecord>> find_inbound(const std::string& blob_key) override;
  [[nodiscard]] Result<Recorded> record_inbound(const InboundReceipt& receipt) override;
  [[nodiscard]] Result<std::int64_t> count_inbound_from(const std::string& address, Time since) override;
  [[nodiscard]] Result<std::string> notification_case(std::int64_t notification_id) override;
  [[nodiscard]] Result<std::vector<InboundRecord>> list_inbound(const std::string& case_reference,
                                                                int limit) override;
  [[nodiscard]] Result<std::int64_t> count_open_cases_with_bounces() override;

  // CannedReplyRecords (ports/canned_replies.h).
  [[nodiscard]] Result<std::vector<CannedReply>> list_canned_replies() override;
  [[nodiscard]] Result<CannedReply> find_canned_reply(std::int64_t id) override;
  [[nodiscard]] Result<CannedReply> add_canned_reply(const CannedReply& reply) override;
  [[nodiscard]] Result<CannedReply> update_canned_reply(const CannedReply& reply) override;
  [[nodiscard]] Status delete_canned_reply(std::int64_t id) override;

  // SqliteBlobStore (blob_store.h), in its own file.
  [[nodiscard]] Result<BlobInfo> put_blob(std::string_view bytes) override { return blobs_->put_blob(bytes); }
  [[nodiscard]] Result<std::string> get_blob(const std::string& key) override { return blobs_->get_blob(key); }

  // PersonalRecords (personal_records.h): erasure, restriction, legal holds, redaction, retention.
  [[nodiscard]] Result<CaseRewrite> rewrite_case(const std::string& reference, const RewritePlan& plan) override;
  [[nodiscard]] Result<CasePrivacy> case_privacy(const std::string& reference) override;
  [[nodiscard]] Result<std::vector<PrivacyCandidate>> cases_of_client(const std::string& email) override;
  [[nodiscard]] Result<std::vector<PrivacyCandidate>> retention_candidates() override;
  [[nodiscard]] Result<std::vector<PrivacyCandidate>> unerased_cases() override;
  [[nodiscard]] Result<std::int64_t> start_erasure(const ErasureRecord& record) override;
  [[nodiscard]] Status finish_erasure(std::int64_t id, std::int64_t erased, std::int64_t restricted,
                                      Time at) override;
  [[nodiscard]] Result<std::vector<ErasureRecord>> erasures() override;
  [[nodiscard]] Result<PurgeReport> purge_erased() override;
  [[nodiscard]] Result<CompactionReport> compact(const CompactionProgress& progress) override;
  [[nodiscard]] Result<bool> claim_retention_run(const std::string& day, const std::string& holder,
                                                 Time now) override;
  [[nodiscard]] Status finish_retention_run(const std::string& day, const std::string& report, Time now) override;

  // Runs `work` on the writer connection inside the writer's transaction, and waits for the commit.
  // For maintenance and administration that is not a case action.
  // kNoCaseRows keeps the writer's case snapshots (the work touches no case, commitment or redress row).
  using WriteScope = sqlite::WriteScope;
  [[nodiscard]] Status run_write(std::function<Status(Connection&)> work,
                                 WriteScope scope = WriteScope::kMayTouchCases);
  // Runs `work` with a pooled read-only connection.
  template <typename Fn>
  auto with_reader(Fn&& work) {
    return readers_.read(std::forward<Fn>(work));
  }
  // Runs `work` with a pooled connection standing in a read transaction on a current snapshot,
  // often one kept from an earlier use (reader_pool.h): `work` runs statements only.
  template <typename Fn>
  auto with_current_snapshot(Fn&& work) {
    return readers_.read_current(std::forward<Fn>(work));
  }

  struct Counters {
    std::int64_t batches = 0;
    std::int64_t items = 0;
    std::int64_t checkpoints = 0;
    std::int64_t writer_checkpoints = 0;  // of which on the writer thread (the tails, and when idle)
    std::int64_t syncs = 0;               // fdatasync calls on the WAL by the syncer (durability FULL)
    std::int64_t ahead_plans = 0;         // work items that came with a plan made ahead
    std::int64_t ahead_written = 0;       // of which written as made (the rest were planned again)
    ReaderPool::Counters readers;
  };
  [[nodiscard]] Counters counters() const;
  [[nodiscard]] std::optional<WriteStats> write_stats() const override;

 private:
  SqliteStore(const StoreOptions& options, const Clock& clock, std::unique_ptr<Connection> writer,
              std::unique_ptr<SqliteBlobStore> blobs);

  const StoreOptions options_;
  // The only read-write connection, the writer's (touched only by its thread once running); closes
  // last of the store's connections to the database, so that it checkpoints and removes the WAL.
  std::unique_ptr<Connection> writer_connection_;
  std::unique_ptr<SqliteBlobStore> blobs_;  // its own file and connections; never touches the writer
  // The trigram index in its own file; its rounds write to the store through run_write, so it is
  // stopped before the writer. Its connection to the index file closes after the readers': the
  // last connection to close a WAL database deletes the WAL, which the readers, read-only, cannot.
  std::unique_ptr<SearchIndex> search_index_;
  ReaderPool readers_;
  SnapshotCache snapshots_;
  WriteHealth health_;      // refused groups and their log lines (thread-safe)
  WritePipeline pipeline_;  // the writer, syncer and checkpointer threads: started here, stopped first
  StoreAccess access_;      // what the role classes below read and write through
  CaseQueries cases_;
  StaffRecords staff_;
  SignInRecords sign_ins_;
  OutboxRecords outbox_;
  ReportQueries reports_;
  SchedulerRecords scheduler_;
  InboundRecords inbound_;
  MailboxRecords mailboxes_;
  SavedViewRecords views_;
  CannedReplyRecords canned_replies_;
  // The credentials' generation, asked on every request with a remembered token (credentials_watch.h).
  std::unique_ptr<CredentialsWatch> credentials_;
  PersonalRecords personal_;
};

}  // namespace redress::sqlite
