// The v1 API's commitments and redress by id: the list across cases, keeping and renegotiating a
// commitment, recording what was done about a broken one, fulfilling accepted redress. See
// web/api_internal.h.
#include <boost/json.hpp>

#include "web/api_internal.h"
#include "web/query.h"
#include "web/views.h"

namespace redress::web {

namespace json = boost::json;

namespace {

// The case a commitment or redress id ("k-12", "r-3") belongs to; 404 when the id is malformed or unknown.
Result<std::pair<std::int64_t, std::string>> case_of(ApiContext& api, const std::string& text, char prefix) {
  auto id = parse_display_id(text, prefix);
  if (!id) return Error::not_found(std::string(prefix == 'k' ? "no commitment " : "no redress ") + text);
  auto reference = prefix == 'k' ? api.reads.commitment_case(*id) : api.reads.redress_case(*id);
  if (!reference) return reference.error();
  return std::pair{*id, std::move(reference).value()};
}

// The answer to a change of one commitment or offer: {"case", `field`: the row with `id`}.
template <typename Rows, typename RowJson>
Response changed_row(const Change& change, const Rows& rows, std::int64_t id, const char* field, RowJson row_json) {
  json::object body{{"case", change.after.reference}};
  for (const auto& row : rows)
    if (row.id == id) body[field] = row_json(row);
  Response response = json_response(http::status::ok, body);
  set_etag(response, change.after.version);
  return response;
}

}  // namespace

void list_commitments(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  QueryReader query(*ctx);
  CommitmentFilter filter;
  filter.status = query.choice("status", &parse_CommitmentStatus, "a commitment status");
  filter.kind = query.choice("kind", &parse_CommitmentKind, "a kind: promise, pledge or redress");
  filter.owner_id = owner_param(query, *ctx);
  filter.due_before = query.time("due_before");
  filter.case_reference = query.text("case", 200);
  PageRequest asked = page_request(query);
  if (query.refusal()) return reply(*query.refusal());
  auto page = api.reads.list_commitments(filter, asked.cursor, asked.limit);
  if (!page) return reply(list_failure(page.error()));
  json::array items;
  for (const auto& [k, reference] : page->items) items.push_back(commitment_json(k, reference));
  reply(json_response(http::status::ok, page_json(std::move(items), page->next_cursor)));
}

void commitment_action(ApiContext& api, const ContextPtr& ctx, Reply reply, ActionType type) {
  auto found = case_of(api, ctx->param("id"), 'k');
  if (!found) return reply(problem_from(found.error()));
  ctx->body["commitment_id"] = found->first;
  run_staff_action(api, ctx, std::move(reply), type, found->second, [](const Committed& committed) {
    json::array changed;
    for (const auto& k : committed.change.commitments)
      changed.push_back(commitment_json(k, committed.change.after.reference));
    Response response = json_response(http::status::ok, json::object{{"commitments", std::move(changed)},
                                                                     {"case", committed.change.after.reference}});
    set_etag(response, committed.change.after.version);
    return response;
  });
}

void handle_breach(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  auto found = case_of(api, ctx->param("id"), 'k');
  if (!found) return reply(problem_from(found.error()));
  const json::object& body = ctx->body;
  for (const auto& [key, value] : body)
    if (key != "note")
      return reply(problem_from(Error::invalid_field(std::string(key), "is not a field of this operation")));
  const json::value* note = body.if_contains("note");
  if (!note || !note->is_string())
    return reply(problem_from(Error::invalid_field("note", "is required: say what was done")));
  std::int64_t id = found->first;
  api.engine.handle_breach(found->second, id, ctx->actor(), std::string(note->get_string()),
                           answer_when_committed(api, std::move(reply), [id](const Committed& committed) {
                             return changed_row(committed.change, committed.change.commitments, id, "commitment",
                                                [&committed](const Commitment& k) {
                                                  return commitment_json(k, committed.change.after.reference);
                                                });
                           }));
}

void fulfil_redress(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  auto found = case_of(api, ctx->param("id"), 'r');
  if (!found) return reply(problem_from(found.error()));
  ctx->body["redress_id"] = found->first;
  std::int64_t id = found->first;
  run_staff_action(api, ctx, std::move(reply), ActionType::kFulfilRedress, found->second,
                   [id](const Committed& committed) {
                     return changed_row(committed.change, committed.change.redress, id, "redress",
                                        [](const Redress& r) { return redress_json(r); });
                   });
}

}  // namespace redress::web
