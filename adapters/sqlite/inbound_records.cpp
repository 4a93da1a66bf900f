#include "adapters/sqlite/inbound_records.h"

namespace redress::sqlite {

namespace {

#define REDRESS_INBOUND_COLUMNS                                                                               \
  "SELECT id, blob_key, message_id, mailbox, from_address, subject, received_at, disposition, case_reference, " \
  "detail, bounced_address FROM inbound_mail "
constexpr const char* kListSql =
    REDRESS_INBOUND_COLUMNS "WHERE (?1 = '' OR case_reference = ?1) ORDER BY id DESC LIMIT ?2";
constexpr const char* kFindSql = REDRESS_INBOUND_COLUMNS "WHERE blob_key = ?1 AND disposition <> 'pending'";
#undef REDRESS_INBOUND_COLUMNS

InboundRecord record_from(const Statement& s) {
  InboundRecord r;
  r.id = s.integer(0);
  r.blob_key = s.text(1);
  r.message_id = s.text(2);
  r.mailbox = s.text(3);
  r.from_address = s.text(4);
  r.subject = s.text(5);
  r.received_at = from_micros(s.integer(6));
  r.disposition = s.text(7);
  r.case_reference = s.text(8);
  r.detail = s.text(9);
  r.bounced_address = s.text(10);
  return r;
}

}  // namespace

Result<bool> insert_inbound_receipt(Connection& db, const InboundReceipt& receipt) {
  auto& insert = db.cached(
      "INSERT INTO inbound_mail(blob_key, message_id, mailbox, from_address, subject, received_at, disposition, "
      "case_reference, detail, bounced_address) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10) "
      // A 'pending' row is an older version's claim its node never finished: this record replaces it.
      "ON CONFLICT(blob_key) DO UPDATE SET message_id = ?2, mailbox = ?3, from_address = ?4, subject = ?5, "
      "received_at = ?6, disposition = ?7, case_reference = ?8, detail = ?9, bounced_address = ?10, "
      "claimed_until = NULL WHERE inbound_mail.disposition = 'pending'");
  insert.bind(1, receipt.blob_key)
      .bind(2, receipt.message_id)
      .bind(3, receipt.mailbox)
      .bind(4, receipt.from_address)
      .bind(5, receipt.subject)
      .bind(6, to_micros(receipt.received_at))
      .bind(7, receipt.disposition)
      .bind(8, receipt.case_reference)
      .bind(9, receipt.detail)
      .bind(10, receipt.bounced_address);
  if (auto s = insert.run(); !s) return s.error();
  return db.changes() == 1;
}

Result<std::optional<InboundRecord>> InboundRecords::find_inbound(const std::string& blob_key) {
  return store_.readers.read([&](Connection& db) -> Result<std::optional<InboundRecord>> {
    auto& find = db.cached(kFindSql);
    find.bind(1, blob_key);
    std::optional<InboundRecord> record;
    if (find.step()) record = record_from(find);
    if (!find.status()) return find.status().error();
    find.reset();
    return record;
  });
}

Result<Recorded> InboundRecords::record_inbound(const InboundReceipt& receipt) {
  Recorded recorded = Recorded::kNew;
  Status status = store_.writer.run_write(
      [&](Connection& db) -> Status {
        auto inserted = insert_inbound_receipt(db, receipt);
        if (!inserted) return inserted.error();
        recorded = *inserted ? Recorded::kNew : Recorded::kDuplicate;
        return Status::success();
      },
      WriteScope::kNoCaseRows);
  if (!status) return status.error();
  return recorded;
}

Result<std::int64_t> InboundRecords::count_inbound_from(const std::string& address, Time since) {
  return store_.readers.read([&](Connection& db) -> Result<std::int64_t> {
    auto& count = db.cached("SELECT count(*) FROM inbound_mail WHERE from_address = ?1 AND received_at >= ?2");
    count.bind(1, address).bind(2, to_micros(since));
    if (!count.step()) return count.status().ok() ? Error::internal("no count") : count.status().error();
    std::int64_t n = count.integer(0);
    count.reset();
    return n;
  });
}

Result<std::string> InboundRecords::notification_case(std::int64_t notification_id) {
  return store_.readers.read([&](Connection& db) -> Result<std::string> {
    auto& find =
        db.cached("SELECT c.reference FROM notifications n JOIN cases c ON c.id = n.case_id WHERE n.id = ?1");
    find.bind(1, notification_id);
    if (!find.step())
      return find.status().ok() ? Error::not_found("no such notification") : find.status().error();
    std::string reference = find.text(0);
    find.reset();
    return reference;
  });
}

Result<std::vector<InboundRecord>> InboundRecords::list_inbound(const std::string& case_reference, int limit) {
  return store_.readers.read([&](Connection& db) -> Result<std::vector<InboundRecord>> {
    auto& list = db.cached(kListSql);
    list.bind(1, case_reference).bind(2, limit);
    std::vector<InboundRecord> records;
    while (list.step()) records.push_back(record_from(list));
    if (!list.status()) return list.status().error();
    return records;
  });
}

Result<std::int64_t> InboundRecords::count_open_cases_with_bounces() {
  return store_.readers.read([&](Connection& db) -> Result<std::int64_t> {
    auto& count = db.cached(
        "SELECT count(DISTINCT c.id) FROM inbound_mail i JOIN cases c ON c.reference = i.case_reference "
        "WHERE i.disposition = 'bounce' AND c.status NOT IN ('resolved','closed','withdrawn')");
    if (!count.step()) return count.status().ok() ? Error::internal("no count") : count.status().error();
    std::int64_t n = count.integer(0);
    count.reset();
    return n;
  });
}

}  // namespace redress::sqlite
