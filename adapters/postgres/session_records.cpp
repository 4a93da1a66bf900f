#include "adapters/postgres/session_records.h"

#include "adapters/postgres/rows.h"

namespace redress::postgres {

namespace {

constexpr std::int64_t kOneDayMicros = std::int64_t{86400} * 1000000;

InboundRecord inbound_from(const Rows& s, int row) {
  InboundRecord r;
  r.id = s.integer(row, 0);
  r.blob_key = s.text(row, 1);
  r.message_id = s.text(row, 2);
  r.mailbox = s.text(row, 3);
  r.from_address = s.text(row, 4);
  r.subject = s.text(row, 5);
  r.received_at = from_micros(s.integer(row, 6));
  r.disposition = s.text(row, 7);
  r.case_reference = s.text(row, 8);
  r.detail = s.text(row, 9);
  r.bounced_address = s.text(row, 10);
  return r;
}

}  // namespace

Result<SignInGate> SessionRecords::sign_in_gate(const std::string& email, Time now) {
  return pool_.with([&](Connection& db) -> Result<SignInGate> {
    auto rows =
        db.query("SELECT failures, locked_until FROM sign_in_failures WHERE email = lower($1)", Params().add(email));
    if (!rows) return rows.error();
    SignInGate gate;
    if (!rows->empty()) {
      gate.failures = static_cast<int>(rows->integer(0, 0));
      if (auto until = rows->optional_integer(0, 1); until && from_micros(*until) > now)
        gate.locked_until = from_micros(*until);
    }
    return gate;
  });
}

Result<SignInGate> SessionRecords::record_sign_in_failure(const std::string& email, Time now, int max_failures,
                                                          Duration window, Duration lockout) {
  return pool_.with([&](Connection& db) -> Result<SignInGate> {
    // One statement counts the failure and locks at the limit, so concurrent failures on several
    // nodes each count once and the one that reaches the limit locks.
    auto rows = db.query(
        "INSERT INTO sign_in_failures AS f(email, failures, first_at, locked_until) "
        "VALUES (lower($1), 1, $2, CASE WHEN 1 >= $4 THEN $5::bigint END) "
        "ON CONFLICT (email) DO UPDATE SET "
        " failures = CASE WHEN f.first_at < $3 AND coalesce(f.locked_until, 0) < $2 THEN 1 ELSE f.failures + 1 END, "
        " first_at = CASE WHEN f.first_at < $3 AND coalesce(f.locked_until, 0) < $2 THEN $2 ELSE f.first_at END, "
        " locked_until = CASE WHEN (CASE WHEN f.first_at < $3 AND coalesce(f.locked_until, 0) < $2 THEN 1 "
        "   ELSE f.failures + 1 END) >= $4 THEN $5::bigint ELSE f.locked_until END "
        "RETURNING failures, locked_until",
        Params()
            .add(email)
            .add(to_micros(now))
            .add(to_micros(now - window))
            .add(std::int64_t{max_failures})
            .add(to_micros(now + lockout)));
    if (!rows) return rows.error();
    if (rows->empty()) return Error::internal("no failure count returned");
    SignInGate gate;
    gate.failures = static_cast<int>(rows->integer(0, 0));
    if (gate.failures >= max_failures) gate.locked_until = now + lockout;
    return gate;
  });
}

Status SessionRecords::clear_sign_in_failures(const std::string& email) {
  return pool_.with([&](Connection& db) -> Status {
    return status_of(db.query("DELETE FROM sign_in_failures WHERE email = lower($1)", Params().add(email)));
  });
}

Status SessionRecords::create_session(const StaffSession& session) {
  return pool_.with([&](Connection& db) -> Status {
    Pipeline pipeline(db);
    pipeline.add(
        "INSERT INTO staff_sessions(token_hash, staff_id, csrf, created_at, expires_at) VALUES ($1,$2,$3,$4,$5)",
        Params()
            .add(session.token_hash)
            .add(session.staff_id)
            .add(session.csrf)
            .add(to_micros(session.created_at))
            .add(to_micros(session.expires_at)));
    // Sessions long over are of no use: each sign-in sweeps its staff member's old ones.
    pipeline.add("DELETE FROM staff_sessions WHERE staff_id = $1 AND (expires_at < $2 OR ended_at < $2)",
                 Params().add(session.staff_id).add(to_micros(session.created_at) - kOneDayMicros));
    auto transaction = Transaction::begin(db);
    if (!transaction) return transaction.error();
    auto ran = pipeline.run();
    if (!ran) return ran.error();
    return transaction->commit();
  });
}

Result<StaffSession> SessionRecords::find_session(const std::string& token_hash, Time now) {
  return pool_.with([&](Connection& db) -> Result<StaffSession> {
    auto rows = db.query(
        "SELECT s.staff_id, s.csrf, s.created_at, s.expires_at FROM staff_sessions s JOIN staff st ON st.id = "
        "s.staff_id WHERE s.token_hash = $1 AND s.ended_at IS NULL AND s.expires_at > $2 AND st.active = 1",
        Params().add(token_hash).add(to_micros(now)));
    if (!rows) return rows.error();
    if (rows->empty()) return Error::not_found("no such session");
    return StaffSession{token_hash, rows->text(0, 0), rows->text(0, 1), from_micros(rows->integer(0, 2)),
                        from_micros(rows->integer(0, 3))};
  });
}

Status SessionRecords::end_session(const std::string& token_hash, Time now) {
  return pool_.with([&](Connection& db) -> Status {
    return status_of(db.query("UPDATE staff_sessions SET ended_at = $2 WHERE token_hash = $1 AND ended_at IS NULL",
                         Params().add(token_hash).add(to_micros(now))));
  });
}

Result<std::optional<MailboxPosition>> SessionRecords::mailbox_position(const std::string& mailbox) {
  return pool_.with([&](Connection& db) -> Result<std::optional<MailboxPosition>> {
    auto rows =
        db.query("SELECT uidvalidity, last_uid FROM mailbox_positions WHERE mailbox = $1", Params().add(mailbox));
    if (!rows) return rows.error();
    std::optional<MailboxPosition> position;
    if (!rows->empty()) position = MailboxPosition{rows->integer(0, 0), rows->integer(0, 1)};
    return position;
  });
}

Status SessionRecords::set_mailbox_position(const std::string& mailbox, const MailboxPosition& position) {
  return pool_.with([&](Connection& db) -> Status {
    return status_of(
        db.query("INSERT INTO mailbox_positions(mailbox, uidvalidity, last_uid) VALUES ($1, $2, $3) "
                 "ON CONFLICT (mailbox) DO UPDATE SET uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid",
                 Params().add(mailbox).add(position.uidvalidity).add(position.last_uid)));
  });
}

Status SessionRecords::set_mailbox_position_fenced(const std::string& mailbox, const MailboxPosition& position,
                                                   const LeaseFence& fence, Time now) {
  return pool_.with([&](Connection& db) -> Status {
    // One statement: the lease row is read FOR SHARE, so a takeover waits for this write, and a
    // takeover committed first leaves no row to write from.
    auto rows = db.query(
        "WITH fence AS (SELECT 1 FROM leases WHERE name = $4 AND holder = $5 AND attempt = $6 AND expires_at > $7 "
        "FOR SHARE) "
        "INSERT INTO mailbox_positions(mailbox, uidvalidity, last_uid) SELECT $1, $2, $3 FROM fence "
        "ON CONFLICT (mailbox) DO UPDATE SET uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid",
        Params()
            .add(mailbox)
            .add(position.uidvalidity)
            .add(position.last_uid)
            .add(fence.name)
            .add(fence.holder)
            .add(fence.attempt)
            .add(to_micros(now)));
    if (!rows) return rows.error();
    if (rows->affected() != 1)
      return Error::conflict("the lease " + fence.name + " is no longer held by " + fence.holder +
                             " under attempt " + std::to_string(fence.attempt) + ": another holder took it over");
    return Status::success();
  });
}

Result<bool> insert_inbound_receipt(Connection& db, const InboundReceipt& receipt) {
  auto inserted = db.query(
      "INSERT INTO inbound_mail AS i(blob_key, message_id, mailbox, from_address, subject, received_at, disposition, "
      "case_reference, detail, bounced_address) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) "
      // A 'pending' row is an older version's claim its node never finished: this record replaces it.
      "ON CONFLICT (blob_key) DO UPDATE SET message_id = $2, mailbox = $3, from_address = $4, subject = $5, "
      "received_at = $6, disposition = $7, case_reference = $8, detail = $9, bounced_address = $10, "
      "claimed_until = NULL WHERE i.disposition = 'pending'",
      Params()
          .add(receipt.blob_key)
          .add(receipt.message_id)
          .add(receipt.mailbox)
          .add(receipt.from_address)
          .add(receipt.subject)
          .add(to_micros(receipt.received_at))
          .add(receipt.disposition)
          .add(receipt.case_reference)
          .add(receipt.detail)
          .add(receipt.bounced_address));
  if (!inserted) return inserted.error();
  return inserted->affected() == 1;
}

Result<std::optional<InboundRecord>> SessionRecords::find_inbound(const std::string& blob_key) {
  return pool_.with([&](Connection& db) -> Result<std::optional<InboundRecord>> {
    auto rows = db.query(
        "SELECT id, blob_key, message_id, mailbox, from_address, subject, received_at, disposition, case_reference, "
        "detail, bounced_address FROM inbound_mail WHERE blob_key = $1 AND disposition <> 'pending'",
        Params().add(blob_key));
    if (!rows) return rows.error();
    std::optional<InboundRecord> record;
    if (!rows->empty()) record = inbound_from(*rows, 0);
    return record;
  });
}

Result<Recorded> SessionRecords::record_inbound(const InboundReceipt& receipt) {
  return pool_.with([&](Connection& db) -> Result<Recorded> {
    auto inserted = insert_inbound_receipt(db, receipt);
    if (!inserted) return inserted.error();
    return *inserted ? Recorded::kNew : Recorded::kDuplicate;
  });
}

Result<std::int64_t> SessionRecords::count_inbound_from(const std::string& address, Time since) {
  return pool_.with([&](Connection& db) -> Result<std::int64_t> {
    auto rows = db.query("SELECT count(*) FROM inbound_mail WHERE from_address = $1 AND received_at >= $2",
                         Params().add(address).add(to_micros(since)));
    if (!rows) return rows.error();
    return rows->integer(0, 0);
  });
}

Result<std::string> SessionRecords::notification_case(std::int64_t notification_id) {
  return pool_.with([&](Connection& db) -> Result<std::string> {
    auto rows = db.query("SELECT c.reference FROM notifications n JOIN cases c ON c.id = n.case_id WHERE n.id = $1",
                         Params().add(notification_id));
    if (!rows) return rows.error();
    if (rows->empty()) return Error::not_found("no such notification");
    return rows->text(0, 0);
  });
}

Result<std::vector<InboundRecord>> SessionRecords::list_inbound(const std::string& case_reference, int limit) {
  return pool_.with([&](Connection& db) -> Result<std::vector<InboundRecord>> {
    auto rows = db.query(
        "SELECT id, blob_key, message_id, mailbox, from_address, subject, received_at, disposition, case_reference, "
        "detail, bounced_address FROM inbound_mail WHERE ($1 = '' OR case_reference = $1) ORDER BY id DESC LIMIT $2",
        Params().add(case_reference).add(std::int64_t{limit}));
    if (!rows) return rows.error();
    std::vector<InboundRecord> records;
    for (int i = 0; i < rows->size(); ++i) records.push_back(inbound_from(*rows, i));
    return records;
  });
}

Result<std::int64_t> SessionRecords::count_open_cases_with_bounces() {
  return pool_.with([&](Connection& db) -> Result<std::int64_t> {
    auto rows = db.query(
        "SELECT count(DISTINCT c.id) FROM inbound_mail i JOIN cases c ON c.reference = i.case_reference "
        "WHERE i.disposition = 'bounce' AND c.status NOT IN ('resolved','closed','withdrawn')");
    if (!rows) return rows.error();
    return rows->integer(0, 0);
  });
}

}  // namespace redress::postgres
