#include "adapters/sqlite/canned_reply_records.h"

#include "adapters/sqlite/rows.h"

namespace redress::sqlite {

namespace {

CannedReply read_reply(const Statement& row) {
  CannedReply reply;
  reply.id = row.integer(0);
  reply.title = row.text(1);
  reply.body = row.text(2);
  reply.workflow = row.text(3);
  reply.team = row.text(4);
  reply.created_by = row.text(5);
  reply.created_at = from_micros(row.integer(6));
  reply.updated_by = row.text(7);
  reply.updated_at = from_micros(row.integer(8));
  return reply;
}

Result<CannedReply> select_reply(Connection& db, std::int64_t id) {
  auto& find = db.cached("SELECT id, title, body, workflow, team, created_by, created_at, updated_by, updated_at "
                         "FROM canned_replies WHERE id = ?1");
  find.bind(1, id);
  if (!find.step())
    return find.status().ok() ? Error::not_found("no canned reply cr-" + std::to_string(id)) : find.status().error();
  CannedReply reply = read_reply(find);
  find.reset();
  return reply;
}

}  // namespace

Result<std::vector<CannedReply>> CannedReplyRecords::list_canned_replies() {
  return store_.readers.read([&](Connection& db) -> Result<std::vector<CannedReply>> {
    auto& list = db.cached("SELECT id, title, body, workflow, team, created_by, created_at, updated_by, updated_at "
                           "FROM canned_replies ORDER BY title COLLATE NOCASE, id");
    std::vector<CannedReply> all;
    while (list.step()) all.push_back(read_reply(list));
    if (!list.status()) return list.status().error();
    return all;
  });
}

Result<CannedReply> CannedReplyRecords::find_canned_reply(std::int64_t id) {
  return store_.readers.read([&](Connection& db) { return select_reply(db, id); });
}

Result<CannedReply> CannedReplyRecords::add_canned_reply(const CannedReply& reply) {
  CannedReply added = reply;
  added.created_at = added.updated_at = store_.clock.now();
  added.updated_by = added.created_by;
  Status status = store_.writer.run_write(
      [&](Connection& db) -> Status {
        auto& insert = db.cached(
            "INSERT INTO canned_replies(title, body, workflow, team, created_by, created_at, updated_by, updated_at) "
            "VALUES (?1,?2,?3,?4,?5,?6,?5,?6) RETURNING id");
        insert.bind(1, added.title)
            .bind(2, added.body)
            .bind(3, added.workflow)
            .bind(4, added.team)
            .bind(5, added.created_by)
            .bind(6, to_micros(added.created_at));
        if (!insert.step()) return insert.status().ok() ? Error::internal("no id for the canned reply") : insert.status();
        added.id = insert.integer(0);
        insert.reset();
        return Status::success();
      },
      WriteScope::kNoCaseRows);
  if (!status) return status.error();
  return added;
}

Result<CannedReply> CannedReplyRecords::update_canned_reply(const CannedReply& reply) {
  Result<CannedReply> stored = Error::internal("the canned reply was not written");
  Status status = store_.writer.run_write(
      [&](Connection& db) -> Status {
        auto& update = db.cached(
            "UPDATE canned_replies SET title = ?2, body = ?3, workflow = ?4, team = ?5, updated_by = ?6, "
            "updated_at = ?7 WHERE id = ?1");
        update.bind(1, reply.id)
            .bind(2, reply.title)
            .bind(3, reply.body)
            .bind(4, reply.workflow)
            .bind(5, reply.team)
            .bind(6, reply.updated_by)
            .bind(7, to_micros(store_.clock.now()));
        if (auto s = update.run(); !s) return s;
        if (db.changes() == 0) return Error::not_found("no canned reply cr-" + std::to_string(reply.id));
        stored = select_reply(db, reply.id);
        return stored ? Status::success() : Status(stored.error());
      },
      WriteScope::kNoCaseRows);
  if (!status) return status.error();
  return stored;
}

Status CannedReplyRecords::delete_canned_reply(std::int64_t id) {
  return store_.writer.run_write(
      [&](Connection& db) -> Status {
        auto& remove = db.cached("DELETE FROM canned_replies WHERE id = ?1");
        remove.bind(1, id);
        if (auto s = remove.run(); !s) return s;
        if (db.changes() == 0) return Error::not_found("no canned reply cr-" + std::to_string(id));
        return Status::success();
      },
      WriteScope::kNoCaseRows);
}

}  // namespace redress::sqlite
