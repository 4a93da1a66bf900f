#include "adapters/sqlite/inbound_records.h"

namespace redress::sqlite {

namespace {

constexpr const char* kListSql =
    "SELECT id, blob_key, message_id, mailbox, from_address, subject, received_at, disposition, case_reference, "
    "detail, bounced_address FROM inbound_mail WHERE (?1 = '' OR case_reference = ?1) ORDER BY id DESC LIMIT ?2";

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

Result<InboundClaim> InboundRecords::claim_inbound(const InboundArrival& arrival, Time now, Duration lease) {
  InboundClaim claim;
  Status status = store_.writer.run_write(
      [&](Connection& db) -> Status {
        // One statement decides: a new row is claimed; an existing one only when it is still pending
        // and its claim lapsed (the node that took it died before finishing).
        auto& upsert = db.cached(
            "INSERT INTO inbound_mail(blob_key, message_id, mailbox, from_address, subject, received_at, "
            "claimed_until) VALUES (?1,?2,?3,?4,?5,?6,?7) "
            "ON CONFLICT(blob_key) DO UPDATE SET claimed_until = ?7 "
            "WHERE disposition = 'pending' AND claimed_until < ?6 "
            "RETURNING id");
        upsert.bind(1, arrival.blob_key)
            .bind(2, arrival.message_id)
            .bind(3, arrival.mailbox)
            .bind(4, arrival.from_address)
            .bind(5, arrival.subject)
            .bind(6, to_micros(now))
            .bind(7, to_micros(now + lease));
        if (upsert.step()) {
          claim.kind = InboundClaim::Kind::kNew;
          claim.id = upsert.integer(0);
          upsert.reset();
          return Status::success();
        }
        if (!upsert.status()) return upsert.status();
        auto& find = db.cached("SELECT id, disposition, case_reference FROM inbound_mail WHERE blob_key = ?1");
        find.bind(1, arrival.blob_key);
        if (!find.step())
          return find.status().ok() ? Status(Error::internal("inbound message vanished")) : find.status();
        claim.kind = InboundClaim::Kind::kDuplicate;
        claim.id = find.integer(0);
        claim.disposition = find.text(1);
        claim.case_reference = find.text(2);
        find.reset();
        return Status::success();
      },
      WriteScope::kNoCaseRows);
  if (!status) return status.error();
  return claim;
}

Status InboundRecords::finish_inbound(std::int64_t id, const std::string& disposition,
                                      const std::string& case_reference, const std::string& detail,
                                      const std::string& bounced_address) {
  return store_.writer.run_write(
      [&](Connection& db) -> Status {
        auto& finish = db.cached(
            "UPDATE inbound_mail SET disposition = ?2, case_reference = ?3, detail = ?4, bounced_address = ?5, "
            "claimed_until = NULL WHERE id = ?1");
        finish.bind(1, id).bind(2, disposition).bind(3, case_reference).bind(4, detail).bind(5, bounced_address);
        return finish.run();
      },
      WriteScope::kNoCaseRows);
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
