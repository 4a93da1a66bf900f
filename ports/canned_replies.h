// CannedReplyStore: the canned replies admins write and staff insert into a message to a client.
//
// A canned reply is a titled Mustache text (web/canned_replies.h renders it for a case) that
// applies to one workflow or to all (`workflow` empty) and to one team or to all (`team` empty).
// Ids are never reused, also after a deletion. The store keeps the text as given; checking it is
// the caller's (web/canned_replies.h).
//
// Implementations (adapters/sqlite, adapters/postgres) are thread-safe: any thread may call, and
// every node of one database sees the same replies at once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/result.h"
#include "engine/time.h"

namespace redress {

struct CannedReply {
  std::int64_t id = 0;   // shown as "cr-12"
  std::string title;     // what staff pick it by: "We are looking into it"
  std::string body;      // Mustache: {{client.name}}, {{case.reference}}, {{final_response_due}}...
  std::string workflow;  // the workflow it applies to; empty: every workflow
  std::string team;      // the team it applies to; empty: every team
  std::string created_by;  // staff id
  Time created_at{};
  std::string updated_by;  // staff id
  Time updated_at{};
};

class CannedReplyStore {
 public:
  virtual ~CannedReplyStore() = default;
  // Every canned reply, by title (then id).
  [[nodiscard]] virtual Result<std::vector<CannedReply>> list_canned_replies() = 0;
  // kNotFound when there is none.
  [[nodiscard]] virtual Result<CannedReply> find_canned_reply(std::int64_t id) = 0;
  // Stores a new reply (its id, created_* and updated_* are set here, from `reply.created_by` and
  // the store's clock); returns it as stored.
  [[nodiscard]] virtual Result<CannedReply> add_canned_reply(const CannedReply& reply) = 0;
  // Writes title, body, workflow and team over the stored reply's, and updated_by/updated_at;
  // kNotFound when there is none. Returns it as stored.
  [[nodiscard]] virtual Result<CannedReply> update_canned_reply(const CannedReply& reply) = 0;
  // kNotFound when there is none.
  [[nodiscard]] virtual Status delete_canned_reply(std::int64_t id) = 0;
};

}  // namespace redress
