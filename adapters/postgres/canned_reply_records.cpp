#include "adapters/postgres/canned_reply_records.h"

#include "adapters/postgres/rows.h"

namespace redress::postgres {

namespace {

constexpr const char* kReplyColumns =
    "id, title, body, workflow, team, created_by, created_at, updated_by, updated_at";

CannedReply read_reply(const Rows& rows, int i) {
  CannedReply reply;
  reply.id = rows.integer(i, 0);
  reply.title = rows.text(i, 1);
  reply.body = rows.text(i, 2);
  reply.workflow = rows.text(i, 3);
  reply.team = rows.text(i, 4);
  reply.created_by = rows.text(i, 5);
  reply.created_at = from_micros(rows.integer(i, 6));
  reply.updated_by = rows.text(i, 7);
  reply.updated_at = from_micros(rows.integer(i, 8));
  return reply;
}

Error no_reply(std::int64_t id) { return Error::not_found("no canned reply cr-" + std::to_string(id)); }

}  // namespace

Result<std::vector<CannedReply>> CannedReplyRecords::list_canned_replies() {
  return pool_.with([&](Connection& db) -> Result<std::vector<CannedReply>> {
    auto rows = db.query(std::string("SELECT ") + kReplyColumns + " FROM canned_replies ORDER BY lower(title), id");
    if (!rows) return rows.error();
    std::vector<CannedReply> all;
    for (int i = 0; i < rows->size(); ++i) all.push_back(read_reply(*rows, i));
    return all;
  });
}

Result<CannedReply> CannedReplyRecords::find_canned_reply(std::int64_t id) {
  return pool_.with([&](Connection& db) -> Result<CannedReply> {
    auto rows = db.query(std::string("SELECT ") + kReplyColumns + " FROM canned_replies WHERE id = $1",
                         Params().add(id));
    if (!rows) return rows.error();
    if (rows->empty()) return no_reply(id);
    return read_reply(*rows, 0);
  });
}

Result<CannedReply> CannedReplyRecords::add_canned_reply(const CannedReply& reply) {
  const Time now = clock_.now();
  return pool_.with([&](Connection& db) -> Result<CannedReply> {
    auto rows = db.query(std::string("INSERT INTO canned_replies(title, body, workflow, team, created_by, created_at, "
                                     "updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $5, $6) RETURNING ") +
                             kReplyColumns,
                         Params()
                             .add(reply.title)
                             .add(reply.body)
                             .add(reply.workflow)
                             .add(reply.team)
                             .add(reply.created_by)
                             .add(to_micros(now)));
    if (!rows) return rows.error();
    return read_reply(*rows, 0);
  });
}

Result<CannedReply> CannedReplyRecords::update_canned_reply(const CannedReply& reply) {
  const Time now = clock_.now();
  return pool_.with([&](Connection& db) -> Result<CannedReply> {
    auto rows = db.query(std::string("UPDATE canned_replies SET title = $2, body = $3, workflow = $4, team = $5, "
                                     "updated_by = $6, updated_at = $7 WHERE id = $1 RETURNING ") +
                             kReplyColumns,
                         Params()
                             .add(reply.id)
                             .add(reply.title)
                             .add(reply.body)
                             .add(reply.workflow)
                             .add(reply.team)
                             .add(reply.updated_by)
                             .add(to_micros(now)));
    if (!rows) return rows.error();
    if (rows->empty()) return no_reply(reply.id);
    return read_reply(*rows, 0);
  });
}

Status CannedReplyRecords::delete_canned_reply(std::int64_t id) {
  return pool_.with([&](Connection& db) -> Status {
    auto deleted = db.query("DELETE FROM canned_replies WHERE id = $1", Params().add(id));
    if (!deleted) return deleted.error();
    if (deleted->affected() == 0) return no_reply(id);
    return Status::success();
  });
}

}  // namespace redress::postgres
