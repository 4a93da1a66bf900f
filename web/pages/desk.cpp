// The console's "Log a complaint": staff file a complaint taken by phone, letter or in person.
// GET /staff/new shows the form; POST /staff/new creates the case through the Engine as POST
// /v1/cases does (the same decoder, the same receipt-time rules: check_receipt_window for the
// configured backdating window here, never in the future and a reason when earlier in the engine),
// with the files in the BlobStore first, then, when "take it now" is ticked, takes the case for
// the signed-in agent as a second action. A refused form is shown again with what was typed and a
// message at each field; nothing is stored then (files excepted: unreferenced blobs are harmless).
//
// The receipt time is typed as a local date and time in the zone of the workflow the complaint
// routes to (its category and channel), as every time in the console is.
#include <boost/json.hpp>

#include <set>

#include "engine/actions.h"
#include "web/attachments.h"
#include "web/pages/staff_session.h"

namespace redress::web {

namespace json = boost::json;

namespace {

const std::vector<Role> kStaffRoles{Role::kAgent, Role::kLead, Role::kManager, Role::kAdmin};

// The ways a complaint reaches the desk, in words; the first is the default.
const std::pair<Channel, const char*> kDeskChannels[] = {
    {Channel::kPhone, "Phone call"},
    {Channel::kInPerson, "In person"},
    {Channel::kLetter, "Letter"},
};

// The form's field a decoder's or the engine's field name belongs to.
std::string form_field(const std::string& field) {
  if (field == "client.name") return "name";
  if (field == "client.email") return "email";
  if (field == "client.phone") return "phone";
  if (field == "received_at") return "received_local";
  return field;
}

// "Local time (Europe/London)." when every standard keeps one zone, else each standard's zone.
std::string zone_hint(PagesContext& pages) {
  std::set<std::string> zones;
  for (const auto& w : pages.api.engine.workflows().all()) zones.insert(w.calendar.zone_name());
  if (zones.size() == 1) return "Local time (" + *zones.begin() + ").";
  std::string out = "Local time of the complaint's service standard:";
  for (const auto& w : pages.api.engine.workflows().all())
    out += (out.back() == ':' ? " " : "; ") + w.title + " " + w.calendar.zone_name();
  return out + ".";
}

// "30 days", "12 hours": the backdating window in words.
std::string window_text(Duration window) {
  auto hours = std::chrono::duration_cast<std::chrono::hours>(window).count();
  if (hours >= 24 && hours % 24 == 0) return std::to_string(hours / 24) + (hours == 24 ? " day" : " days");
  if (hours >= 1) return std::to_string(hours) + (hours == 1 ? " hour" : " hours");
  return format_duration(window);
}

Response form_page(PagesContext& pages, const SignedIn& who, http::status status,
                   const std::map<std::string, std::string>& values, const Error* error) {
  auto value = [&](const char* name) {
    auto it = values.find(name);
    return it == values.end() ? std::string() : it->second;
  };
  json::array channels;
  for (const auto& [channel, label] : kDeskChannels)
    channels.push_back(json::object{
        {"value", to_string(channel)}, {"label", label}, {"selected", value("channel") == to_string(channel)}});
  json::object draft;
  for (const auto& [k, v] : values) draft[k] = v;
  const auto& limits = pages.api.settings.attachments;
  const Workflow* any = pages.api.engine.workflows().all().empty() ? nullptr : &pages.api.engine.workflows().all()[0];
  json::object data{{"title", "Log a complaint"},
                    {"staff", staff_nav(who, "new")},
                    {"categories", category_options(pages, value("category"))},
                    {"touchpoints", touchpoint_options(pages, value("touchpoint"))},
                    {"channels", std::move(channels)},
                    {"draft", std::move(draft)},
                    {"take_checked", values.empty() || value("take") == "on"},
                    {"errors", json::object{}},
                    {"zone_hint", zone_hint(pages)},
                    {"now_local", local_input(any, pages.api.engine.clock().now())},
                    {"window", window_text(pages.api.settings.backdate_window)},
                    {"max_files", limits.max_files},
                    {"max_file_size", size_text(limits.max_file_bytes)},
                    {"files_allowed", pages.api.blobs != nullptr && limits.max_files > 0}};
  if (error) {
    json::object errors;
    for (const auto& f : error->fields) errors[form_field(f.field)] = f.message;
    data["error"] = error->fields.empty() ? error->detail : "Please check the fields marked below.";
    data["errors"] = std::move(errors);
  }
  return render_page(pages, status, "log_complaint", std::move(data));
}

// Takes the new case for `who`, then sends the agent to it. No expected version: the scheduler may
// already have recorded a breach on a backdated case (a new version), and the lifecycle itself refuses
// a take once anyone owns the case, so the check would only turn that race into a false refusal.
void take_then_show(PagesContext& pages, const SignedIn& who, const Case& created, Reply reply) {
  ActionRequest take;
  take.type = ActionType::kTake;
  take.reference = created.reference;
  take.actor = Actor::staff(who.staff.id, who.staff.role);
  take.note = "taken when logged";
  const std::string page = "/staff/cases/" + created.reference + "?done=";
  run_page_action(pages, std::move(take), [reply = std::move(reply), page](Result<Committed> result) mutable {
    if (result) return reply(see_other(page + form_encode("logged and taken")));
    // The case exists either way; say why it is not yours.
    reply(see_other(page + form_encode("logged, but not taken (" + result.error().detail + ")")));
  });
}

void submit(PagesContext& pages, Reply reply, const SignedIn& who, const Form& form) {
  ApiContext& api = pages.api;
  std::map<std::string, std::string> values;
  for (const auto& [k, v] : form.fields())
    if (k != "csrf") values.emplace(k, v);
  auto value = [&](const char* name) {
    auto it = values.find(name);
    return it == values.end() ? std::string() : it->second;
  };
  auto refuse = [&](const Error& error) { reply(form_page(pages, who, page_status(error), values, &error)); };
  json::object client{{"name", value("name")}, {"email", value("email")}};
  if (!value("phone").empty()) client["phone"] = value("phone");
  json::object body{{"client", std::move(client)},
                    {"channel", value("channel").empty() ? std::string("phone") : value("channel")},
                    {"category", value("category")},
                    {"subject", value("subject")},
                    {"description", value("description")}};
  for (const char* optional : {"touchpoint", "remedy_requested", "received_reason"})
    if (!value(optional).empty()) body[optional] = value(optional);
  auto request = decode_new_case(body);
  if (!request) return refuse(request.error());
  if (request->channel != Channel::kPhone && request->channel != Channel::kInPerson &&
      request->channel != Channel::kLetter)
    return refuse(Error::invalid_field("channel", "must be a phone call, in person or a letter"));
  // The receipt time, typed in the zone of the workflow the complaint routes to; empty: now.
  if (!value("received_local").empty()) {
    const Workflow* workflow = api.engine.workflows().all().empty()
                                   ? nullptr
                                   : &api.engine.workflows().route(request->category, request->channel);
    auto received = parse_local_input(workflow, value("received_local"));
    if (!received) return refuse(Error::invalid_field("received_at", "must be a date and time like 2027-01-04T09:30"));
    request->received_at = *received;
  } else if (!value("received_reason").empty()) {
    return refuse(Error::invalid_field("received_at", "give the time it was received, or leave the reason empty"));
  }
  if (auto s = check_receipt_window(*request, api.engine.clock().now(), api.settings.backdate_window); !s)
    return refuse(s.error());
  auto files = store_files(api.blobs, api.settings.attachments, form.files());
  if (!files) return refuse(files.error());
  request->attachments = std::move(files).value();
  auto link = api.keyring.new_client_link();
  request->client_link_nonce = link.nonce;
  request->client_link_hash = link.hash;
  const bool take = value("take") == "on";
  api.engine.create_case(
      std::move(request).value(), Actor::staff(who.staff.id, who.staff.role), {}, {},
      [&pages, who, take, values = std::move(values), reply = std::move(reply)](Result<Committed> result) mutable {
        pages.api.defer([&pages, who, take, values = std::move(values), reply = std::move(reply),
                         result = std::move(result)]() mutable {
          if (!result) return reply(form_page(pages, who, page_status(result.error()), values, &result.error()));
          const Case& created = result->change.after;
          if (take) return take_then_show(pages, who, created, std::move(reply));
          reply(see_other("/staff/cases/" + created.reference + "?done=" + form_encode("logged")));
        });
      });
}

}  // namespace

void register_desk_pages(Router& router, PagesContext& pages) {
  add_staff_page(router, pages, "/staff/new", kStaffRoles,
                 [&pages](const ContextPtr&, Reply reply, const SignedIn& who) {
                   reply(form_page(pages, who, http::status::ok, {}, nullptr));
                 });
  add_staff_form(router, pages, "/staff/new", kStaffRoles,
                 [&pages](const ContextPtr&, Reply reply, const SignedIn& who, const Form& form) {
                   submit(pages, std::move(reply), who, form);
                 });
}

}  // namespace redress::web
