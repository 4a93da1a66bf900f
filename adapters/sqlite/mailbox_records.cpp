#include "adapters/sqlite/mailbox_records.h"

#include "adapters/sqlite/rows.h"
#include "adapters/sqlite/scheduler_records.h"

namespace redress::sqlite {

Result<std::optional<MailboxPosition>> MailboxRecords::mailbox_position(const std::string& mailbox) {
  return store_.readers.read([&](Connection& db) -> Result<std::optional<MailboxPosition>> {
    auto& find = db.cached("SELECT uidvalidity, last_uid FROM mailbox_positions WHERE mailbox = ?1");
    find.bind(1, mailbox);
    std::optional<MailboxPosition> position;
    if (find.step()) position = MailboxPosition{find.integer(0), find.integer(1)};
    if (auto s = find.status(); !s) return s.error();
    find.reset();
    return position;
  });
}

Status MailboxRecords::set_mailbox_position(const std::string& mailbox, const MailboxPosition& position) {
  return store_.writer.run_write(
      [&](Connection& db) -> Status {
        auto& upsert = db.cached(
            "INSERT INTO mailbox_positions(mailbox, uidvalidity, last_uid) VALUES (?1, ?2, ?3) "
            "ON CONFLICT(mailbox) DO UPDATE SET uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid");
        upsert.bind(1, mailbox).bind(2, position.uidvalidity).bind(3, position.last_uid);
        return upsert.run();
      },
      WriteScope::kNoCaseRows);
}

Status MailboxRecords::set_mailbox_position_fenced(const std::string& mailbox, const MailboxPosition& position,
                                                   const LeaseFence& fence, Time now) {
  return store_.writer.run_write(
      [&](Connection& db) -> Status {
        // The check and the write in one transaction of the one writer: no takeover between them.
        if (Status held = fence_holds(db, fence, now); !held) return held;
        auto& upsert = db.cached(
            "INSERT INTO mailbox_positions(mailbox, uidvalidity, last_uid) VALUES (?1, ?2, ?3) "
            "ON CONFLICT(mailbox) DO UPDATE SET uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid");
        upsert.bind(1, mailbox).bind(2, position.uidvalidity).bind(3, position.last_uid);
        return upsert.run();
      },
      WriteScope::kNoCaseRows);
}

}  // namespace redress::sqlite
