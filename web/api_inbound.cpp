// Inbound email over HTTP: POST /v1/inbound/email takes one raw message (what `redress mailgate`
// posts for an MTA), GET /v1/inbound/email lists what the mail intake did, and a message that came
// by email can be opened as received.
#include <boost/beast/core/string.hpp>
#include <boost/json.hpp>

#include "engine/actions.h"
#include "web/api_internal.h"
#include "web/query.h"

namespace redress::web {

namespace json = boost::json;

namespace {

Response unavailable_inbound() {
  return problem(http::status::service_unavailable, "inbound-mail-unavailable", "Inbound email is not available",
                 "this server takes no inbound email");
}

json::object record_json(const InboundRecord& r) {
  return json::object{{"id", r.id},
                      {"received_at", format_time(r.received_at)},
                      {"mailbox", r.mailbox},
                      {"from", r.from_address},
                      {"subject", r.subject},
                      {"message_id", r.message_id},
                      {"disposition", r.disposition},
                      {"reference", r.case_reference},
                      {"detail", r.detail},
                      {"bounced_address", r.bounced_address},
                      {"blob", r.blob_key}};
}

}  // namespace

void take_inbound_email(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  if (!api.mail_intake || !api.blocking) return reply(unavailable_inbound());
  std::string_view type(ctx->request[http::field::content_type].data(),
                        ctx->request[http::field::content_type].size());
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  if (!boost::beast::iequals(type, "message/rfc822"))
    return reply(problem(http::status::unsupported_media_type, "unsupported-media-type",
                         "The body must be a raw email",
                         "send one RFC 5322 message with Content-Type: message/rfc822"));
  QueryReader query(*ctx);
  std::string mailbox = query.text("mailbox", 100);
  if (query.refusal()) return reply(*query.refusal());
  if (ctx->request.body().empty())
    return reply(problem_from(Error::invalid_field("body", "is empty: one raw email is expected")));
  // The pipeline stores and waits for durable writes: off the I/O threads.
  api.blocking([&api, ctx, mailbox = std::move(mailbox), reply = std::move(reply)]() mutable {
    auto taken = api.mail_intake->take_message(ctx->request.body(), mailbox);
    api.defer([taken = std::move(taken), reply = std::move(reply)]() mutable {
      if (!taken) return reply(problem_from(taken.error()));
      const inbound::IntakeOutcome& done = *taken;
      http::status status = done.disposition == inbound::Disposition::kOpenedCase ? http::status::created
                            : done.disposition == inbound::Disposition::kDuplicate ? http::status::ok
                                                                                   : http::status::accepted;
      Response response = json_response(status, json::object{{"disposition", inbound::to_string(done.disposition)},
                                                              {"reference", done.reference},
                                                              {"detail", done.detail},
                                                              {"blob", done.blob_key}});
      if (!done.reference.empty()) response.set(http::field::location, "/v1/cases/" + done.reference);
      reply(std::move(response));
    });
  });
}

void inbound_mail_records(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  if (!api.inbound_records) return reply(unavailable_inbound());
  QueryReader query(*ctx);
  std::string reference = query.text("case", 40);
  int limit = query.limit(500, 100);
  if (query.refusal()) return reply(*query.refusal());
  auto records = api.inbound_records->list_inbound(reference, limit);
  if (!records) return reply(list_failure(records.error()));
  json::array items;
  for (const auto& r : *records) items.push_back(record_json(r));
  reply(json_response(http::status::ok, json::object{{"items", std::move(items)}}));
}

Response original_mail(ApiContext& api, const std::string& reference, const std::string& message_id) {
  if (!api.blobs) return unavailable_inbound();
  auto id = parse_display_id(message_id, 'm');
  if (!id) return not_found("no message " + message_id);
  auto messages = api.reads.case_messages(reference);
  if (!messages) return problem_from(messages.error());
  const Message* found = nullptr;
  for (const auto& m : *messages)
    if (m.id == *id) found = &m;
  if (!found) return not_found("no message " + message_id + " on " + reference);
  if (found->mail_blob.empty()) return not_found(message_id + " did not come by email");
  auto raw = api.blobs->get_blob(found->mail_blob);
  if (!raw) return problem_from(raw.error());
  Response response{http::status::ok, 11};
  // A download, never rendered from the product's origin: mail is content from strangers.
  response.set(http::field::content_type, "message/rfc822");
  response.set(http::field::content_disposition,
               "attachment; filename=\"" + message_display_id(found->id) + ".eml\"");
  response.set("X-Content-Type-Options", "nosniff");
  response.set("Content-Security-Policy", "sandbox; default-src 'none'");
  response.set(http::field::cache_control, "private, no-store");
  response.body() = std::move(raw).value();
  response.prepare_payload();
  return response;
}

void message_original(ApiContext& api, const ContextPtr& ctx, Reply reply) {
  reply(original_mail(api, ctx->param("ref"), ctx->param("id")));
}

}  // namespace redress::web
