#include "adapters/postgres/postgres_store.h"

#include "adapters/postgres/schema.h"
#include "engine/hash_chain.h"

namespace redress::postgres {

namespace {

// The answer of a port method this store does not have yet: never a made-up result.
Error not_yet(const char* what) { return Error::unavailable(std::string(what) + " is not yet on PostgreSQL"); }

}  // namespace

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
      outbox_(pool_),
      writer_(std::move(writer)) {}

PostgresStore::~PostgresStore() { writer_.reset(); }

Result<bool> PostgresStore::acquire_lease(const std::string& name, const std::string& holder, Time now, Time until) {
  auto attempt = scheduler_.acquire(name, holder, now, until);
  if (!attempt) return attempt.error();
  return attempt->has_value();
}

Result<CommitmentPage> PostgresStore::list_commitments(const CommitmentFilter&, const std::string&, int) {
  return not_yet("listing commitments");
}

Result<SignInGate> PostgresStore::sign_in_gate(const std::string&, Time) { return not_yet("sign-in"); }
Result<SignInGate> PostgresStore::record_sign_in_failure(const std::string&, Time, int, Duration, Duration) {
  return not_yet("sign-in");
}
Status PostgresStore::clear_sign_in_failures(const std::string&) { return not_yet("sign-in"); }
Status PostgresStore::create_session(const StaffSession&) { return not_yet("a staff session"); }
Result<StaffSession> PostgresStore::find_session(const std::string&, Time) { return not_yet("a staff session"); }
Status PostgresStore::end_session(const std::string&, Time) { return not_yet("a staff session"); }

Result<std::vector<std::string>> PostgresStore::store_payloads(const std::string&,
                                                               const std::vector<std::pair<std::int64_t, std::string>>&) {
  return not_yet("storing a delivery's payload");
}
Status PostgresStore::record_deliveries(const std::string&, const std::vector<DeliveryRecord>&) {
  return not_yet("recording deliveries");
}
Result<std::vector<NotificationView>> PostgresStore::case_notifications(const std::string&) {
  return not_yet("a case's notifications");
}
Result<std::vector<NotificationView>> PostgresStore::dead_notifications(int) { return not_yet("dead letters"); }
Result<std::int64_t> PostgresStore::retry_notifications(std::optional<std::int64_t>, Time) {
  return not_yet("retrying notifications");
}
Result<Subscription> PostgresStore::add_subscription(const Subscription&) { return not_yet("web hook subscriptions"); }
Result<std::vector<Subscription>> PostgresStore::list_subscriptions() { return not_yet("web hook subscriptions"); }
Status PostgresStore::delete_subscription(std::int64_t) { return not_yet("web hook subscriptions"); }
Result<Subscription> PostgresStore::find_subscription(std::int64_t) { return not_yet("web hook subscriptions"); }
Status PostgresStore::disable_subscription(std::int64_t, const std::string&, Time) {
  return not_yet("web hook subscriptions");
}
Result<bool> PostgresStore::digest_owed(const std::string&, const std::string&, Time) { return not_yet("the digest"); }
Status PostgresStore::record_digest(const std::string&, const std::string&, bool, const std::string&, Time) {
  return not_yet("the digest");
}

Result<OverdueReport> PostgresStore::overdue_report(Time, int) { return not_yet("the overdue report"); }
Result<std::vector<OwnerStats>> PostgresStore::owner_report(Time) { return not_yet("the owners' report"); }
Result<std::vector<PledgeAttainment>> PostgresStore::standards_report(Time) {
  return not_yet("the standards report");
}
Result<std::vector<WorklistItem>> PostgresStore::owner_worklist(const std::string&, int) {
  return not_yet("the work list");
}
Result<std::vector<AttentionCount>> PostgresStore::attention_by_owner(Time) { return not_yet("the review board"); }
Result<std::vector<EscalationCount>> PostgresStore::escalation_counts() { return not_yet("the review board"); }
Result<std::vector<WeeklyCount>> PostgresStore::weekly_counts(Time) { return not_yet("the review board"); }

Result<std::optional<InboundRecord>> PostgresStore::find_inbound(const std::string&) { return not_yet("inbound mail"); }
Result<Recorded> PostgresStore::record_inbound(const InboundReceipt&) { return not_yet("inbound mail"); }
Result<std::int64_t> PostgresStore::count_inbound_from(const std::string&, Time) { return not_yet("inbound mail"); }
Result<std::string> PostgresStore::notification_case(std::int64_t) { return not_yet("inbound mail"); }
Result<std::vector<InboundRecord>> PostgresStore::list_inbound(const std::string&, int) {
  return not_yet("inbound mail");
}
Result<std::int64_t> PostgresStore::count_open_cases_with_bounces() { return not_yet("inbound mail"); }
Result<std::optional<MailboxPosition>> PostgresStore::mailbox_position(const std::string&) {
  return not_yet("mailbox positions");
}
Status PostgresStore::set_mailbox_position(const std::string&, const MailboxPosition&) {
  return not_yet("mailbox positions");
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

}  // namespace redress::postgres
