#include "adapters/postgres/postgres_store.h"

#include "adapters/postgres/summaries.h"

#include "adapters/postgres/schema.h"
#include "engine/hash_chain.h"

namespace redress::postgres {

bool is_postgres_url(const std::string& url) {
  return url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
}

Result<std::unique_ptr<PostgresStore>> PostgresStore::open(const StoreOptions& options, const Clock& clock) {
  {
    auto connection = Connection::open(options.url);
    if (!connection) return connection.error();
    auto version = schema_version(**connection);
    if (!version) return version.error();
    if (*version != latest_schema_version())
      return Error::invalid("the PostgreSQL database has schema version " + std::to_string(*version) +
                            ", this redress needs " + std::to_string(latest_schema_version()) +
                            (*version < latest_schema_version() ? "; run `redress migrate --database URL` first"
                                                                : "; run a newer redress"));
  }
  auto writer = WritePipeline::start(WritePipeline::Options{options.url, options.max_batch});
  if (!writer) return writer.error();
  return std::unique_ptr<PostgresStore>(new PostgresStore(options, clock, std::move(writer).value()));
}

PostgresStore::PostgresStore(const StoreOptions& options, const Clock& clock, std::unique_ptr<WritePipeline> writer)
    : options_(options),
      pool_(options.url, options.readers),
      cases_(pool_, clock),
      staff_(pool_, clock),
      scheduler_(pool_),
      outbox_(pool_, clock),
      sessions_(pool_),
      reports_(pool_),
      views_(pool_, clock),
      canned_replies_(pool_, clock),
      personal_(pool_),
      writer_(std::move(writer)) {}

PostgresStore::~PostgresStore() { writer_.reset(); }

Result<CommitmentPage> PostgresStore::list_commitments(const CommitmentFilter& filter, const std::string& cursor,
                                                       int limit) {
  return cases_.list_commitments(filter, cursor, limit);
}

Result<SignInGate> PostgresStore::sign_in_gate(const std::string& email, Time now) {
  return sessions_.sign_in_gate(email, now);
}
Result<SignInGate> PostgresStore::record_sign_in_failure(const std::string& email, Time now, int max_failures,
                                                         Duration window, Duration lockout) {
  return sessions_.record_sign_in_failure(email, now, max_failures, window, lockout);
}
Status PostgresStore::clear_sign_in_failures(const std::string& email) {
  return sessions_.clear_sign_in_failures(email);
}
Status PostgresStore::create_session(const StaffSession& session) { return sessions_.create_session(session); }
Result<StaffSession> PostgresStore::find_session(const std::string& token_hash, Time now) {
  return sessions_.find_session(token_hash, now);
}
Status PostgresStore::end_session(const std::string& token_hash, Time now) {
  return sessions_.end_session(token_hash, now);
}

Result<std::vector<std::string>> PostgresStore::store_payloads(
    const std::string& holder, const std::vector<std::pair<std::int64_t, std::string>>& payloads) {
  return outbox_.store_payloads(holder, payloads);
}
Status PostgresStore::record_deliveries(const std::string& holder, const std::vector<DeliveryRecord>& records) {
  return outbox_.record_deliveries(holder, records);
}
Result<std::vector<NotificationView>> PostgresStore::case_notifications(const std::string& reference) {
  return outbox_.case_notifications(reference);
}
Result<std::vector<NotificationView>> PostgresStore::dead_notifications(int limit) {
  return outbox_.dead_notifications(limit);
}
Result<std::int64_t> PostgresStore::retry_notifications(std::optional<std::int64_t> id, Time now) {
  return outbox_.retry_notifications(id, now);
}
Result<Subscription> PostgresStore::add_subscription(const Subscription& subscription) {
  return outbox_.add_subscription(subscription);
}
Result<std::vector<Subscription>> PostgresStore::list_subscriptions() { return outbox_.list_subscriptions(); }
Status PostgresStore::delete_subscription(std::int64_t id) { return outbox_.delete_subscription(id); }
Result<Subscription> PostgresStore::find_subscription(std::int64_t id) { return outbox_.find_subscription(id); }
Status PostgresStore::disable_subscription(std::int64_t id, const std::string& reason, Time now) {
  return outbox_.disable_subscription(id, reason, now);
}
Result<bool> PostgresStore::digest_owed(const std::string& day, const std::string& recipient, Time now) {
  return outbox_.digest_owed(day, recipient, now);
}

Result<bool> PostgresStore::digest_owed_fenced(const std::string& day, const std::string& recipient, Time now,
                                               const LeaseFence& fence) {
  return outbox_.digest_owed_fenced(day, recipient, now, fence);
}
Status PostgresStore::record_digest(const std::string& day, const std::string& recipient, bool sent,
                                    const std::string& detail, Time now) {
  return outbox_.record_digest(day, recipient, sent, detail, now);
}

Result<OverdueReport> PostgresStore::overdue_report(Time now, int limit) { return reports_.overdue_report(now, limit); }
Result<std::vector<OwnerStats>> PostgresStore::owner_report(Time since) { return reports_.owner_report(since); }
Result<std::vector<PledgeAttainment>> PostgresStore::standards_report(Time now) {
  return reports_.standards_report(now);
}
Result<std::vector<WorklistItem>> PostgresStore::owner_worklist(const std::string& owner_id, int limit) {
  return reports_.owner_worklist(owner_id, limit);
}
Result<std::vector<AttentionCount>> PostgresStore::attention_by_owner(Time now) {
  return reports_.attention_by_owner(now);
}
Result<std::vector<EscalationCount>> PostgresStore::escalation_counts() { return reports_.escalation_counts(); }
Result<std::vector<WeeklyCount>> PostgresStore::weekly_counts(Time since) { return reports_.weekly_counts(since); }
Result<std::vector<ReturnCaseHistory>> PostgresStore::return_histories(const std::string& workflow, Time before) {
  return reports_.return_histories(workflow, before);
}
Result<std::vector<SurveyAnswer>> PostgresStore::survey_answers(Time since) { return reports_.survey_answers(since); }
Result<std::vector<SurveyGroupSums>> PostgresStore::survey_by_group(Time since) { return reports_.survey_by_group(since); }
Result<std::vector<SurveyDaySums>> PostgresStore::survey_by_day(Time since) { return reports_.survey_by_day(since); }
Result<ReturnLedgerRows> PostgresStore::return_days(const std::string& workflow, std::int32_t first_day,
                                                    std::int32_t last_day) {
  return reports_.return_days(workflow, first_day, last_day);
}
Result<bool> PostgresStore::return_ledger_built() { return reports_.return_ledger_built(); }
Result<TouchpointReport> PostgresStore::touchpoint_report(const std::string& touchpoint, Time since, int limit) {
  return reports_.touchpoint_report(touchpoint, since, limit);
}
Result<std::vector<TouchpointCount>> PostgresStore::touchpoint_counts(const std::vector<std::string>& touchpoints,
                                                                      Time since) {
  return reports_.touchpoint_counts(touchpoints, since);
}
Status PostgresStore::rebuild_return_ledger(const ReturnEntriesOf& entries_of) {
  return writer_->run_write([&](Connection& db) { return ReportRecords::rebuild_return_ledger(db, entries_of); });
}

Result<std::optional<InboundRecord>> PostgresStore::find_inbound(const std::string& blob_key) {
  return sessions_.find_inbound(blob_key);
}
Result<Recorded> PostgresStore::record_inbound(const InboundReceipt& receipt) {
  return sessions_.record_inbound(receipt);
}
Result<std::int64_t> PostgresStore::count_inbound_from(const std::string& address, Time since) {
  return sessions_.count_inbound_from(address, since);
}
Result<std::string> PostgresStore::notification_case(std::int64_t notification_id) {
  return sessions_.notification_case(notification_id);
}
Result<std::vector<InboundRecord>> PostgresStore::list_inbound(const std::string& case_reference, int limit) {
  return sessions_.list_inbound(case_reference, limit);
}
Result<std::int64_t> PostgresStore::count_open_cases_with_bounces() {
  return sessions_.count_open_cases_with_bounces();
}
Result<std::optional<MailboxPosition>> PostgresStore::mailbox_position(const std::string& mailbox) {
  return sessions_.mailbox_position(mailbox);
}
Status PostgresStore::set_mailbox_position(const std::string& mailbox, const MailboxPosition& position) {
  return sessions_.set_mailbox_position(mailbox, position);
}

Status PostgresStore::set_mailbox_position_fenced(const std::string& mailbox, const MailboxPosition& position,
                                                  const LeaseFence& fence, Time now) {
  return sessions_.set_mailbox_position_fenced(mailbox, position, fence, now);
}

Result<BlobInfo> PostgresStore::put_blob(std::string_view bytes) {
  BlobInfo info{sha256_hex(bytes), static_cast<std::int64_t>(bytes.size())};
  return pool_.with([&](Connection& db) -> Result<BlobInfo> {
    auto stored = db.query("INSERT INTO blobs(key, size, bytes) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING",
                           Params().add(info.key).add(info.size).add_bytes(bytes));
    if (!stored) return stored.error();
    return info;
  });
}

Result<std::string> PostgresStore::get_blob(const std::string& key) {
  return pool_.with([&](Connection& db) -> Result<std::string> {
    auto rows = db.query("SELECT bytes FROM blobs WHERE key = $1", Params().add(key));
    if (!rows) return rows.error();
    if (rows->empty()) return Error::not_found("no blob " + key);
    return rows->bytes(0, 0);
  });
}

Result<std::string> PostgresStore::check_summaries() {
  return pool_.with([](Connection& db) -> Result<std::string> {
    auto transaction = Transaction::begin(db);
    if (!transaction) return transaction.error();
    if (auto s = db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"); !s) return s.error();
    return postgres::check_summaries(db);  // the transaction rolls back: it only read
  });
}

Result<std::string> PostgresStore::repair_summaries() {
  return pool_.with([](Connection& db) -> Result<std::string> {
    auto transaction = Transaction::begin(db);
    if (!transaction) return transaction.error();
    if (auto s = postgres::rebuild_summaries(db); !s) return s.error();
    auto after = postgres::check_summaries(db);
    if (!after) return after.error();
    if (auto s = transaction->commit(); !s) return s.error();
    return after;
  });
}

}  // namespace redress::postgres
