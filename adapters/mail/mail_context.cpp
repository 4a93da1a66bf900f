#include "adapters/mail/mail_context.h"

#include <date/tz.h>

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "engine/actions.h"

namespace redress::mail {

namespace json = boost::json;

namespace {

using i18n::translatable_in;

constexpr const char* kMonths[] = {
    translatable_in("month", "January"), translatable_in("month", "February"), translatable_in("month", "March"),
    translatable_in("month", "April"),   translatable_in("month", "May"),      translatable_in("month", "June"),
    translatable_in("month", "July"),    translatable_in("month", "August"),   translatable_in("month", "September"),
    translatable_in("month", "October"), translatable_in("month", "November"), translatable_in("month", "December")};
constexpr const char* kWeekdays[] = {
    translatable_in("weekday", "Sunday"),   translatable_in("weekday", "Monday"), translatable_in("weekday", "Tuesday"),
    translatable_in("weekday", "Wednesday"), translatable_in("weekday", "Thursday"),
    translatable_in("weekday", "Friday"),   translatable_in("weekday", "Saturday")};
// The order of a date's parts, in the reader's language; each {name} is replaced once.
constexpr const char* kReaderDate = translatable_in("date", "{weekday} {day} {month} {year} at {time} {zone}");

std::string replaced(std::string pattern, std::string_view name, const std::string& value) {
  auto at = pattern.find(name);
  if (at != std::string::npos) pattern.replace(at, name.size(), value);
  return pattern;
}

// "Friday 27 November 2026 at 17:00 GMT" from a local time and the zone's abbreviation.
std::string reader_text(date::local_time<std::chrono::minutes> local, const std::string& abbreviation,
                        const i18n::Language* language) {
  using namespace std::chrono;
  auto day = floor<days>(local);
  year_month_day ymd{sys_days(day.time_since_epoch())};
  weekday wd{sys_days(day.time_since_epoch())};
  auto minutes_of_day = duration_cast<minutes>(local - day).count();
  char clock[16];
  std::snprintf(clock, sizeof clock, "%02d:%02d", static_cast<int>(minutes_of_day / 60),
                static_cast<int>(minutes_of_day % 60));
  auto words = [language](const char* context, const char* english) {
    return language ? language->translate_in(context, english) : std::string(english);
  };
  std::string text = words("date", kReaderDate);
  text = replaced(std::move(text), "{weekday}", words("weekday", kWeekdays[wd.c_encoding()]));
  text = replaced(std::move(text), "{day}", std::to_string(static_cast<unsigned>(ymd.day())));
  text = replaced(std::move(text), "{month}", words("month", kMonths[static_cast<unsigned>(ymd.month()) - 1]));
  text = replaced(std::move(text), "{year}", std::to_string(static_cast<int>(ymd.year())));
  text = replaced(std::move(text), "{time}", clock);
  return replaced(std::move(text), "{zone}", abbreviation);
}

// A paused pledge has no due time (Time::max()): it waits for the client.
constexpr const char* kPaused = i18n::translatable("on hold until we hear back from you");

std::string format_with(const LocalTimeFormatter& format, Time t, const i18n::Language* language) {
  if (t == Time::max()) return paused_label(language);
  return format ? format(t) : format_utc_for_reader(t, language);
}

// A text of the organisation's (a workflow's pledge, a clock's promise) in the reader's language.
std::string words_of(const i18n::Language* language, const std::string& english) {
  return language && !english.empty() ? language->translate(english) : english;
}

std::string string_field(const json::object& data, std::string_view key) {
  auto it = data.find(key);
  return it != data.end() && it->value().is_string() ? std::string(it->value().get_string()) : std::string();
}

std::optional<std::int64_t> int_field(const json::object& data, std::string_view key) {
  auto it = data.find(key);
  if (it == data.end()) return std::nullopt;
  if (it->value().is_int64()) return it->value().get_int64();
  if (it->value().is_uint64()) return static_cast<std::int64_t>(it->value().get_uint64());
  return std::nullopt;
}

const Commitment* find_commitment(const CaseSnapshot& snapshot, const std::string& display_id) {
  auto id = parse_display_id(display_id, 'k');
  if (!id) return nullptr;
  for (const auto& c : snapshot.commitments)
    if (c.id == *id) return &c;
  return nullptr;
}

json::object commitment_json(const Commitment& c, const LocalTimeFormatter& format, const i18n::Language* language) {
  json::object o;
  o["id"] = commitment_display_id(c.id);
  // A pledge's text is its workflow's (translated); a promise is what a person wrote.
  o["text"] = c.kind == CommitmentKind::kPledge ? words_of(language, c.text) : c.text;
  o["kind"] = to_string(c.kind);
  o["status"] = to_string(c.status);
  o["due_local"] = format_with(format, c.due_at, language);
  o["client_visible"] = c.client_visible;
  if (!c.note.empty()) o["note"] = c.note;
  return o;
}

json::object offer_json(const Redress& r, const i18n::Language* language) {
  json::object o;
  o["id"] = redress_display_id(r.id);
  o["kind"] = to_string(r.kind);
  o["kind_label"] = redress_kind_label(r.kind, language);
  o["text"] = r.text;
  o["status"] = to_string(r.status);
  if (r.amount_minor) o["amount"] = format_money(*r.amount_minor, r.currency);
  o["automatic"] = r.automatic;
  return o;
}

void put_if(json::object& o, std::string_view key, const std::string& value) {
  if (!value.empty()) o[key] = value;
}

}  // namespace

Result<LocalTimeFormatter> zone_formatter(const std::string& zone_name, const i18n::Language* language) {
  const date::time_zone* zone = nullptr;
  try {
    zone = date::locate_zone(zone_name);
  } catch (const std::exception&) {
    return Error::invalid_field("time_zone", "unknown time zone \"" + zone_name + "\"");
  }
  return LocalTimeFormatter([zone, language](Time t) {
    auto zoned = date::make_zoned(zone, std::chrono::floor<std::chrono::minutes>(t));
    auto local = std::chrono::floor<std::chrono::minutes>(zoned.get_local_time());
    return reader_text(local, zoned.get_info().abbrev, language);
  });
}

std::string format_utc_for_reader(Time t, const i18n::Language* language) {
  if (t == Time::max()) return paused_label(language);
  auto minutes = std::chrono::floor<std::chrono::minutes>(t);
  return reader_text(date::local_time<std::chrono::minutes>(minutes.time_since_epoch()), "UTC", language);
}

std::string paused_label(const i18n::Language* language) { return words_of(language, kPaused); }

std::string format_money(std::int64_t amount_minor, const std::string& currency) {
  bool negative = amount_minor < 0;
  std::uint64_t magnitude =
      negative ? 0 - static_cast<std::uint64_t>(amount_minor) : static_cast<std::uint64_t>(amount_minor);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%s%llu.%02llu", negative ? "-" : "",
                static_cast<unsigned long long>(magnitude / 100), static_cast<unsigned long long>(magnitude % 100));
  std::string out = buffer;
  if (!currency.empty()) out += " " + currency;
  return out;
}

std::string redress_kind_label(RedressKind kind, const i18n::Language* language) {
  using i18n::translatable;
  const char* label = translatable("Redress");
  switch (kind) {
    case RedressKind::kApology: label = translatable("An apology"); break;
    case RedressKind::kExplanation: label = translatable("An explanation"); break;
    case RedressKind::kRefund: label = translatable("A refund"); break;
    case RedressKind::kCredit: label = translatable("A credit to your account"); break;
    case RedressKind::kReplacement: label = translatable("A replacement"); break;
    case RedressKind::kRepair: label = translatable("A repair"); break;
    case RedressKind::kGoodwill: label = translatable("A goodwill payment"); break;
    case RedressKind::kCompensation: label = translatable("Compensation"); break;
  }
  return words_of(language, label);
}

std::string status_label(CaseStatus status, const i18n::Language* language) {
  using i18n::translatable;
  const char* label = translatable("In progress");
  switch (status) {
    case CaseStatus::kReceived: label = translatable("Received"); break;
    case CaseStatus::kAcknowledged: label = translatable("Acknowledged"); break;
    case CaseStatus::kInvestigating: label = translatable("Being investigated"); break;
    case CaseStatus::kAwaitingClient: label = translatable("Waiting for your reply"); break;
    case CaseStatus::kRedressProposed: label = translatable("Proposal sent to you"); break;
    case CaseStatus::kResolved: label = translatable("Final response sent"); break;
    case CaseStatus::kClosed: label = translatable("Closed"); break;
    case CaseStatus::kWithdrawn: label = translatable("Withdrawn"); break;
  }
  return words_of(language, label);
}

json::object build_mail_context(const MailContextInput& input, const MailSettings& settings) {
  json::object ctx;
  json::object organisation;
  organisation["name"] = settings.organisation;
  put_if(organisation, "support_email", settings.support_email);
  put_if(organisation, "support_phone", settings.support_phone);
  ctx["organisation"] = std::move(organisation);
  if (!input.recipient_name.empty()) ctx["recipient"] = json::object{{"name", input.recipient_name}};
  put_if(ctx, "status_url", input.status_url);
  put_if(ctx, "survey_url", input.survey_url);
  if (input.snapshot == nullptr) return ctx;

  const i18n::Language* language = input.language;
  LocalTimeFormatter format = input.format_time;
  if (!format && input.workflow != nullptr)
    if (auto zoned = zone_formatter(input.workflow->calendar.zone_name(), language); zoned)
      format = std::move(zoned).value();

  const CaseSnapshot& snapshot = *input.snapshot;
  const Case& record = snapshot.record;
  json::object kase;
  kase["reference"] = record.reference;
  kase["subject"] = record.subject;
  put_if(kase, "description", record.description);
  put_if(kase, "remedy_requested", record.remedy_requested);
  put_if(kase, "category", record.category);
  kase["status"] = to_string(record.status);
  kase["severity"] = to_string(record.severity);
  kase["received_local"] = format_with(format, record.received_at, language);
  ctx["case"] = std::move(kase);
  if (!record.merged_into.empty()) {
    json::object into{{"reference", record.merged_into}, {"yours", input.merged_into_same_client}};
    if (input.merged_into_same_client) put_if(into, "status_url", input.merged_into_url);
    ctx["merged_into"] = std::move(into);
  }
  ctx["status_label"] = status_label(record.status, language);
  ctx["language"] = language ? language->tag() : std::string("en");
  json::object client;
  client["name"] = record.client.name;
  put_if(client, "email", record.client.email);
  ctx["client"] = std::move(client);
  std::string team = record.team.empty() && input.workflow ? input.workflow->team : record.team;
  put_if(ctx, "team", team);
  if (input.owner && !input.owner->name.empty()) {
    json::object owner;
    owner["name"] = input.owner->name;
    put_if(owner, "email", input.owner->email);
    ctx["owner"] = std::move(owner);
  }

  if (input.workflow != nullptr) {
    put_if(ctx, "pledge", words_of(language, input.workflow->pledge));
    json::object workflow;
    workflow["title"] = words_of(language, input.workflow->title);
    put_if(workflow, "description", words_of(language, input.workflow->description));
    ctx["workflow"] = std::move(workflow);
  }

  // The client's open, visible pledges and promises, soonest first; and the final response's due time.
  std::vector<const Commitment*> open;
  for (const auto& c : snapshot.commitments)
    if (c.status == CommitmentStatus::kOpen && c.client_visible) open.push_back(&c);
  std::stable_sort(open.begin(), open.end(),
                   [](const Commitment* a, const Commitment* b) { return a->due_at < b->due_at; });
  json::array open_list;
  for (const auto* c : open) open_list.push_back(commitment_json(*c, format, language));
  if (!open_list.empty()) {
    ctx["commitments_open"] = std::move(open_list);
    ctx["has_commitments_open"] = true;  // Mustache cannot ask whether a list is empty
  }
  if (input.workflow != nullptr) {
    for (const auto& clock : input.workflow->clocks) {
      if (clock.stop != ClockStop::kResolved || !clock.client_visible) continue;
      const Commitment* latest = nullptr;
      for (const auto* c : open)
        if (c->kind == CommitmentKind::kPledge && c->text == clock.text &&
            (!latest || c->created_at >= latest->created_at))
          latest = c;
      if (latest) {
        ctx["final_response_due"] = format_with(format, latest->due_at, language);
        break;
      }
    }
  }

  json::array proposed, accepted;
  for (const auto& r : snapshot.redress) {
    if (r.status == RedressStatus::kProposed) proposed.push_back(offer_json(r, language));
    if (r.status == RedressStatus::kAccepted || r.status == RedressStatus::kFulfilled)
      accepted.push_back(offer_json(r, language));
  }

  int level = record.escalation_level;
  json::object escalation;
  json::object event;
  if (input.event != nullptr) {
    event["type"] = input.event->type;
    event["local_time"] = format_with(format, input.event->at, language);
    std::error_code ec;
    json::value parsed = json::parse(input.event->data, ec);
    if (!ec && parsed.is_object()) {
      const json::object& data = parsed.get_object();
      put_if(event, "reason", string_field(data, "reason"));
      put_if(event, "note", string_field(data, "note"));
      put_if(ctx, "final_response", string_field(data, "final_response"));
      put_if(ctx, "summary_resolution", string_field(data, "summary_resolution"));
      if (auto to = int_field(data, "to_level")) level = static_cast<int>(*to);
      if (auto from = int_field(data, "from_level")) escalation["from_level"] = *from;
      put_if(escalation, "reason", string_field(data, "reason"));
      // The commitment the event is about; a renegotiation names the successor and the one it replaced.
      const Commitment* subject = nullptr;
      const Commitment* replaced = nullptr;
      if (auto successor = string_field(data, "successor_id"); !successor.empty()) {
        subject = find_commitment(snapshot, successor);
        replaced = find_commitment(snapshot, string_field(data, "commitment_id"));
      } else {
        subject = find_commitment(snapshot, string_field(data, "commitment_id"));
      }
      if (subject) ctx["commitment"] = commitment_json(*subject, format, language);
      if (replaced) ctx["replaced"] = commitment_json(*replaced, format, language);
      // Redress granted automatically by the same event (a broken pledge's compensation).
      json::array automatic;
      for (const auto& r : snapshot.redress)
        if (r.automatic && r.created_at == input.event->at) automatic.push_back(offer_json(r, language));
      if (!automatic.empty()) ctx["compensation"] = std::move(automatic);
      if (auto body = string_field(data, "body"); !body.empty() && input.message == nullptr)
        ctx["message"] = json::object{{"body", body}};
    }
    ctx["event"] = std::move(event);
  }
  json::object redress;
  if (!proposed.empty()) redress["offers"] = std::move(proposed);
  if (!accepted.empty()) redress["accepted"] = std::move(accepted);
  if (!redress.empty()) ctx["redress"] = std::move(redress);

  escalation["level"] = level;
  if (input.workflow != nullptr)
    for (const auto& rung : input.workflow->escalation)
      if (rung.level == level) escalation["name"] = words_of(language, rung.name);
  ctx["escalation"] = std::move(escalation);

  if (input.message != nullptr) {
    json::object message;
    message["body"] = input.message->body;
    message["author"] = input.message->author;
    // An emailed message's sender ("email:someone@example.com" as author).
    if (input.message->author.rfind("email:", 0) == 0) message["from"] = input.message->author.substr(6);
    message["local_time"] = format_with(format, input.message->at, language);
    ctx["message"] = std::move(message);
  }
  return ctx;
}

json::object build_digest_context(const std::vector<DigestItem>& items, Time now, const std::string& recipient_name,
                                  const MailSettings& settings, const LocalTimeFormatter& format_time) {
  json::object ctx;
  json::object organisation;
  organisation["name"] = settings.organisation;
  put_if(organisation, "support_email", settings.support_email);
  ctx["organisation"] = std::move(organisation);
  if (!recipient_name.empty()) ctx["recipient"] = json::object{{"name", recipient_name}};
  json::array list;
  std::int64_t broken = 0, overdue = 0;
  for (const auto& item : items) {
    bool is_broken = item.commitment.status == CommitmentStatus::kBroken;
    (is_broken ? broken : overdue) += 1;
    json::object o;
    o["reference"] = item.reference;
    o["subject"] = item.case_subject;
    put_if(o, "owner_name", item.owner_name);
    o["text"] = item.commitment.text;
    o["due_local"] = format_with(format_time, item.commitment.due_at, nullptr);
    o["state"] = is_broken ? "broken" : "overdue";
    o["commitment_id"] = commitment_display_id(item.commitment.id);
    put_if(o, "case_url", item.case_url);
    list.push_back(std::move(o));
  }
  json::object digest;
  digest["count"] = static_cast<std::int64_t>(items.size());
  digest["broken_count"] = broken;
  digest["overdue_count"] = overdue;
  digest["date_local"] = format_with(format_time, now, nullptr);
  if (!list.empty()) digest["items"] = std::move(list);
  ctx["digest"] = std::move(digest);
  return ctx;
}

Result<OutgoingMail> compose_notification(const MailNotification& notification, const json::object& context,
                                          const MailTemplates& templates, const MailSettings& settings,
                                          std::vector<MailAttachment> attachments) {
  // The context's language (build_mail_context sets it from MailContextInput::language) picks the
  // templates' translated copy.
  std::string language = "en";
  if (const auto* tag = context.if_contains("language"); tag && tag->is_string()) language = tag->get_string();
  auto rendered = templates.render(notification.template_name, context, language);
  if (!rendered) return std::move(rendered).take_error();
  std::string domain = settings.domain;
  if (domain.empty()) {
    auto at = settings.from.address.rfind('@');
    if (at != std::string::npos) domain = settings.from.address.substr(at + 1);
  }
  if (domain.empty()) return Error::invalid_field("mail.domain", "a message-id domain (or a From address) is required");
  MailContent content;
  content.from = settings.from;
  content.reply_to = settings.reply_to;
  content.to = notification.to;
  content.subject = rendered->subject;
  content.text = std::move(rendered->text);
  content.html = std::move(rendered->html);
  content.date = notification.created_at;
  content.attachments = std::move(attachments);
  std::string reference = notification.reference.empty() ? "digest" : notification.reference;
  thread_into_case(content, notification.id, reference, domain);
  if (notification.reference.empty()) {
    // A digest is not part of a case's thread.
    content.in_reply_to.clear();
    content.references.clear();
    content.subject = rendered->subject;
  } else {
    content.headers.emplace_back("X-Redress-Case", notification.reference);
  }
  content.headers.emplace_back("X-Redress-Notification", "n-" + std::to_string(notification.id));
  // The language the template was rendered in (RFC 3282): the client's where it is shipped.
  content.headers.emplace_back("Content-Language", rendered->language.empty() ? "en" : rendered->language);
  // Automatic mail (RFC 3834), and a loop header the inbound classifier recognises when one of our
  // own messages comes back to a mailbox we read.
  content.headers.emplace_back("Auto-Submitted", "auto-generated");
  content.headers.emplace_back("X-Redress-Loop", domain);
  if (!notification.reference.empty() && !settings.reply_mailbox.empty()) {
    auto at = settings.reply_mailbox.rfind('@');
    if (at != std::string::npos && at > 0) {
      MailAddress reply = settings.reply_to ? *settings.reply_to : settings.from;
      reply.address = settings.reply_mailbox.substr(0, at) + "+" + notification.reference +
                      settings.reply_mailbox.substr(at);
      content.reply_to = reply;
    }
  }
  return compose(content);
}

}  // namespace redress::mail
