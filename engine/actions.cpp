#include "engine/actions.h"

#include <boost/json.hpp>

#include <charconv>
#include <cmath>
#include <set>

#include "engine/tags.h"

namespace redress {

namespace json = boost::json;

namespace {

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t extra = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : 4;
    if (extra == 4 || (extra == 1 && c < 0xC2) || i + extra >= s.size() + (extra == 0 ? 1 : 0)) return false;
    for (std::size_t k = 1; k <= extra; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += extra + 1;
  }
  return true;
}

bool has_control_characters(std::string_view s) {
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 && c != '\n' && c != '\r' && c != '\t') return true;
  }
  return false;
}

// Reads fields of one JSON object, remembering which were read and what was wrong, so that one
// answer names every offending field, unknown ones included.
class FieldReader {
 public:
  FieldReader(const json::object& object, std::string prefix = {}) : object_(object), prefix_(std::move(prefix)) {}

  std::optional<std::string> text(std::string_view key, bool required, std::size_t max = kMaxShortText) {
    const json::value* v = find(key);
    if (!v || v->is_null()) {
      if (required) fail(key, "is required");
      return std::nullopt;
    }
    if (!v->is_string()) {
      fail(key, "must be a string");
      return std::nullopt;
    }
    std::string s(v->get_string());
    if (!valid_utf8(s)) {
      fail(key, "must be valid UTF-8");
      return std::nullopt;
    }
    if (s.size() > max) {
      fail(key, "is longer than " + std::to_string(max) + " bytes");
      return std::nullopt;
    }
    if (max <= kMaxShortText && has_control_characters(s)) {
      fail(key, "must not contain control characters");
      return std::nullopt;
    }
    if (required && trimmed_empty(s)) {
      fail(key, "must not be empty");
      return std::nullopt;
    }
    return s;
  }

  template <typename Enum>
  std::optional<Enum> choice(std::string_view key, bool required, std::optional<Enum> (*parse)(std::string_view),
                             const std::vector<std::string_view>& names) {
    auto s = text(key, required);
    if (!s) return std::nullopt;
    auto value = parse(*s);
    if (!value) {
      std::string list;
      for (auto n : names) list += (list.empty() ? "" : ", ") + std::string(n);
      fail(key, "must be one of: " + list);
    }
    return value;
  }

  std::optional<std::int64_t> integer(std::string_view key, bool required, std::int64_t min, std::int64_t max) {
    const json::value* v = find(key);
    if (!v || v->is_null()) {
      if (required) fail(key, "is required");
      return std::nullopt;
    }
    std::int64_t n = 0;
    if (v->is_int64())
      n = v->get_int64();
    else if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
      n = static_cast<std::int64_t>(v->get_uint64());
    else {
      fail(key, "must be an integer");
      return std::nullopt;
    }
    if (n < min || n > max) {
      fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
      return std::nullopt;
    }
    return n;
  }

  std::optional<bool> boolean(std::string_view key) {
    const json::value* v = find(key);
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_bool()) {
      fail(key, "must be true or false");
      return std::nullopt;
    }
    return v->get_bool();
  }

  std::optional<std::int64_t> id(std::string_view key, char prefix, bool required) {
    const json::value* v = find(key);
    if (!v || v->is_null()) {
      if (required) fail(key, "is required");
      return std::nullopt;
    }
    std::optional<std::int64_t> parsed;
    if (v->is_string())
      parsed = parse_display_id(v->get_string(), prefix);
    else if (v->is_int64() && v->get_int64() > 0)
      parsed = v->get_int64();
    if (!parsed) fail(key, std::string("must be an id like \"") + prefix + "-42\"");
    return parsed;
  }

  std::optional<Time> time(std::string_view key) {
    auto s = text(key, false);
    if (!s) return std::nullopt;
    auto t = parse_time(*s);
    if (!t) fail(key, "must be an RFC 3339 time like \"2026-11-27T17:00:00Z\"");
    return t;
  }

  std::optional<IsoDuration> duration(std::string_view key) {
    auto s = text(key, false);
    if (!s) return std::nullopt;
    auto d = parse_duration(*s);
    if (!d || d->total() <= Duration::zero())
      fail(key, "must be a positive ISO 8601 duration like \"PT4H\" or \"P3D\"");
    return d;
  }

  const json::object* object(std::string_view key, bool required) {
    const json::value* v = find(key);
    if (!v || v->is_null()) {
      if (required) fail(key, "is required");
      return nullptr;
    }
    if (!v->is_object()) {
      fail(key, "must be an object");
      return nullptr;
    }
    return &v->get_object();
  }

  const json::array* array(std::string_view key) {
    const json::value* v = find(key);
    if (!v || v->is_null()) return nullptr;
    if (!v->is_array()) {
      fail(key, "must be an array");
      return nullptr;
    }
    return &v->get_array();
  }

  const json::value* raw(std::string_view key) { return find(key); }

  void fail(std::string_view key, std::string message) { errors_.push_back(FieldError{path(key), std::move(message)}); }
  void merge(std::vector<FieldError> more) {
    for (auto& e : more) errors_.push_back(std::move(e));
  }
  std::string path(std::string_view key) const {
    return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
  }

  // Adds an error for every key that was never read.
  void refuse_unknown() {
    for (const auto& member : object_)
      if (!seen_.count(std::string(member.key())))
        errors_.push_back(FieldError{path(member.key()), "is not a known field"});
  }
  std::vector<FieldError>& errors() { return errors_; }

 private:
  static bool trimmed_empty(const std::string& s) { return s.find_first_not_of(" \t\r\n") == std::string::npos; }
  const json::value* find(std::string_view key) {
    seen_.insert(std::string(key));
    return object_.if_contains(key);
  }

  const json::object& object_;
  std::string prefix_;
  std::set<std::string> seen_;
  std::vector<FieldError> errors_;
};

}  // namespace

const std::vector<std::string_view>& rater_dimensions() {
  static const std::vector<std::string_view> names{"reliability", "assurance", "tangibles", "empathy",
                                                   "responsiveness"};
  return names;
}

int rater_score(const RaterScores& scores, std::size_t dimension) {
  switch (dimension) {
    case 0: return scores.reliability;
    case 1: return scores.assurance;
    case 2: return scores.tangibles;
    case 3: return scores.empathy;
    case 4: return scores.responsiveness;
    default: return 0;
  }
}

namespace {

Error invalid_from(std::vector<FieldError> errors) {
  std::string detail = "invalid request: ";
  for (std::size_t i = 0; i < errors.size() && i < 5; ++i)
    detail += (i ? "; " : "") + errors[i].field + " " + errors[i].message;
  if (errors.size() > 5) detail += "; and " + std::to_string(errors.size() - 5) + " more";
  return Error::invalid(std::move(detail), std::move(errors));
}

bool plausible_email(const std::string& s) {
  auto at = s.find('@');
  return at != std::string::npos && at > 0 && at + 1 < s.size() && s.find('@', at + 1) == std::string::npos &&
         s.find_first_of(" \t\r\n<>,;\"") == std::string::npos && s.find('.', at) != std::string::npos;
}

std::optional<RedressOffer> read_offer(const json::object& object, const std::string& prefix,
                                       std::vector<FieldError>& errors) {
  FieldReader r(object, prefix);
  RedressOffer offer;
  auto kind = r.choice<RedressKind>("kind", true, &parse_RedressKind, all_names_RedressKind());
  if (kind) offer.kind = *kind;
  if (auto text = r.text("text", false, kMaxLongText)) offer.text = *text;
  if (const json::value* amount = r.raw("amount"); amount && !amount->is_null()) {
    offer.amount_minor = parse_amount_minor(*amount);
    if (!offer.amount_minor)
      r.fail("amount", "must be a non-negative amount with at most two decimals, like \"25.00\"");
  }
  if (auto currency = r.text("currency", false)) {
    bool ok = currency->size() == 3;
    for (char c : *currency) ok = ok && c >= 'A' && c <= 'Z';
    if (!ok)
      r.fail("currency", "must be an ISO 4217 code like \"GBP\"");
    else
      offer.currency = *currency;
  }
  if (offer.amount_minor && offer.currency.empty() && r.errors().empty())
    r.fail("currency", "is required with an amount");
  r.refuse_unknown();
  bool ok = r.errors().empty();
  for (auto& e : r.errors()) errors.push_back(std::move(e));
  if (!ok) return std::nullopt;
  return offer;
}

void read_offers(FieldReader& r, std::vector<RedressOffer>& offers) {
  const json::array* list = r.array("offers");
  if (!list) return;
  std::vector<FieldError> errors;
  for (std::size_t i = 0; i < list->size(); ++i) {
    std::string prefix = r.path("offers") + "[" + std::to_string(i) + "]";
    if (!(*list)[i].is_object()) {
      errors.push_back(FieldError{prefix, "must be an object"});
      continue;
    }
    if (auto offer = read_offer((*list)[i].get_object(), prefix, errors)) offers.push_back(std::move(*offer));
  }
  if (list->size() > 20) errors.push_back(FieldError{r.path("offers"), "has more than 20 offers"});
  r.merge(std::move(errors));
}

std::optional<TimeBasis> parse_basis(std::string_view text) {
  if (text == "calendar") return TimeBasis::kCalendar;
  if (text == "business") return TimeBasis::kBusiness;
  return std::nullopt;
}
const std::vector<std::string_view>& basis_names() {
  static const std::vector<std::string_view> names{"calendar", "business"};
  return names;
}

void read_due(FieldReader& r, DueSpec& due, bool required) {
  due.at = r.time("due_at");
  due.in = r.duration("due_in");
  if (auto v = r.choice<TimeBasis>("due_basis", false, &parse_basis, basis_names())) due.basis = *v;
  if (due.at && due.in)
    r.fail("due_in", "give due_at or due_in, not both");
  else if (due.at && due.basis)
    r.fail("due_basis", "applies to due_in only");
  else if (required && !due.at && !due.in && r.errors().empty())
    r.fail("due_at", "is required (or due_in)");
}

}  // namespace

Result<NewCase> decode_new_case(const json::object& body) {
  FieldReader r(body);
  NewCase c;
  if (const json::object* client = r.object("client", true)) {
    FieldReader cr(*client, "client");
    if (auto v = cr.text("name", true)) c.client.name = *v;
    if (auto v = cr.text("email", true)) {
      if (!plausible_email(*v))
        cr.fail("email", "must be an email address");
      else
        c.client.email = *v;
    }
    if (auto v = cr.text("phone", false, 40)) c.client.phone = *v;
    if (auto v = cr.text("locale", false, 35)) c.client.locale = *v;
    cr.refuse_unknown();
    r.merge(std::move(cr.errors()));
  }
  if (auto v = r.choice<Channel>("channel", false, &parse_Channel, all_names_Channel())) c.channel = *v;
  if (auto v = r.text("category", true, 64)) c.category = *v;
  if (auto v = r.text("touchpoint", false, 64)) c.touchpoint = *v;
  if (auto v = r.text("subject", true)) c.subject = *v;
  if (auto v = r.text("description", true, kMaxLongText)) c.description = *v;
  if (auto v = r.text("remedy_requested", false, kMaxLongText)) c.remedy_requested = *v;
  if (auto v = r.choice<Severity>("severity", false, &parse_Severity, all_names_Severity())) c.severity = *v;
  if (auto v = r.text("workflow", false, 64)) c.workflow = *v;
  c.received_at = r.time("received_at");
  if (auto v = r.text("received_reason", false, kMaxShortText)) c.received_reason = *v;
  if (auto v = r.text("regulator_reference", false, 100)) c.regulator_reference = *v;
  c.routed_at = r.time("routed_at");
  r.refuse_unknown();
  if (!r.errors().empty()) return invalid_from(std::move(r.errors()));
  return c;
}

Result<CaseCorrection> decode_case_correction(const json::object& body) {
  FieldReader r(body);
  CaseCorrection c;
  auto not_empty = [](FieldReader& reader, std::string_view key, std::optional<std::string>& value) {
    if (value && value->find_first_not_of(" \t\r\n") == std::string::npos) {
      reader.fail(key, "must not be empty");
      value.reset();
    }
  };
  if (const json::object* client = r.object("client", false)) {
    FieldReader cr(*client, "client");
    c.client_name = cr.text("name", false);
    not_empty(cr, "name", c.client_name);
    c.client_email = cr.text("email", false);
    if (c.client_email && !plausible_email(*c.client_email)) {
      cr.fail("email", "must be an email address");
      c.client_email.reset();
    }
    c.client_phone = cr.text("phone", false, 40);
    c.client_locale = cr.text("locale", false, 35);
    if (c.client_locale && c.client_locale->find_first_not_of(
                               "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != std::string::npos) {
      cr.fail("locale", "must be a BCP 47 language tag like \"en-GB\"");
      c.client_locale.reset();
    }
    cr.refuse_unknown();
    r.merge(std::move(cr.errors()));
  }
  c.subject = r.text("subject", false);
  not_empty(r, "subject", c.subject);
  c.description = r.text("description", false, kMaxLongText);
  not_empty(r, "description", c.description);
  r.refuse_unknown();
  if (!r.errors().empty()) return invalid_from(std::move(r.errors()));
  if (c.empty())
    return Error::invalid("nothing to correct: give client.name, client.email, client.phone, client.locale, subject "
                          "or description",
                          {FieldError{"subject", "or another correctable field is required"}});
  return c;
}

Status check_receipt_window(const NewCase& request, Time now, Duration window) {
  if (!request.received_at || *request.received_at >= now - window) return Status::success();
  return Error::invalid_field(
      "received_at", "may be at most " + format_duration(window) + " before now (the configured backdating window)");
}

Result<ActionRequest> decode_action_fields(ActionType type, const json::object& body) {
  FieldReader r(body);
  ActionRequest a;
  a.type = type;
  if (auto v = r.integer("expected_version", false, 0, INT64_MAX)) a.expected_version = *v;
  using T = ActionType;
  switch (type) {
    case T::kAcknowledge:
    case T::kTake:
    case T::kStart:
    case T::kClientReplied:
    case T::kClose:
    case T::kReturnToQueue:  // the lifecycle asks for its handover note
      if (auto v = r.text("note", false, kMaxLongText)) a.note = *v;
      break;
    case T::kAssign:
    case T::kTransfer:
      if (auto v = r.text("owner", true)) a.owner = *v;
      if (auto v = r.text("note", false, kMaxLongText)) a.note = *v;
      break;
    case T::kRequestInfo:
      if (auto v = r.text("body", false, kMaxLongText)) a.body = *v;
      break;
    case T::kProposeRedress:
    case T::kResolve: {
      a.outcome = r.choice<Outcome>("outcome", true, &parse_Outcome, all_names_Outcome());
      // A resolution carries a final response or, while its window is open, a summary resolution.
      auto summary = type == T::kResolve ? r.text("summary_resolution", false, kMaxLongText) : std::nullopt;
      if (summary) {
        a.summary_resolution = *summary;
        if (r.raw("final_response") && !r.raw("final_response")->is_null())
          r.fail("summary_resolution", "give final_response or summary_resolution, not both");
      } else if (auto v = r.text("final_response", true, kMaxLongText)) {
        a.final_response = *v;
      }
      if (type == T::kProposeRedress) read_offers(r, a.offers);
      if (auto v = r.text("letter", false, 64)) a.letter = *v;
      // What the return needs (checked against the workflow's lists by the planner).
      if (auto v = r.text("root_cause", false, 64)) a.root_cause = *v;
      if (auto v = r.text("product", false, 64)) a.product = *v;
      break;
    }
    case T::kAcceptRedress:
    case T::kRejectRedress:
      if (auto v = r.id("redress_id", 'r', false)) a.redress_id = *v;
      if (auto v = r.text("reason", false, kMaxLongText)) a.reason = *v;
      break;
    case T::kReopen:
    case T::kEscalate:
    case T::kDeescalate:
      if (auto v = r.text("reason", true, kMaxLongText)) a.reason = *v;
      if (type == T::kEscalate)
        if (auto v = r.integer("level", false, 1, 20)) a.level = static_cast<int>(*v);
      break;
    case T::kWithdraw:
      if (auto v = r.text("reason", false, kMaxLongText)) a.reason = *v;
      break;
    case T::kAssess:
      a.severity = r.choice<Severity>("severity", false, &parse_Severity, all_names_Severity());
      if (auto v = r.text("category", false, 64)) a.category = *v;
      if (auto v = r.text("workflow", false, 64)) a.workflow = *v;
      if (auto v = r.text("note", false, kMaxLongText)) a.note = *v;
      if (!a.severity && a.category.empty() && a.workflow.empty() && r.errors().empty())
        r.fail("severity", "assess needs severity, category or workflow");
      break;
    case T::kAddMessage:
      if (auto v = r.choice<Visibility>("visibility", true, &parse_Visibility, all_names_Visibility()))
        a.visibility = *v;
      if (auto v = r.text("body", true, kMaxLongText)) a.body = *v;
      if (auto v = r.text("kind", false, 64); v && !v->empty()) {
        if (*v != "holding_reply")
          r.fail("kind", "must be \"holding_reply\" (or left out for an ordinary message)");
        else if (a.visibility != Visibility::kClient)
          r.fail("kind", "a holding reply is written to the client: visibility must be \"client\"");
        else
          a.message_kind = *v;
      }
      if (auto v = r.text("letter", false, 64)) a.letter = *v;
      break;
    case T::kMakeCommitment:
      if (auto v = r.text("text", true, 2000)) a.text = *v;
      read_due(r, a.due, true);
      if (auto v = r.boolean("client_visible")) a.client_visible = *v;
      break;
    case T::kKeepCommitment:
      if (auto v = r.id("commitment_id", 'k', true)) a.commitment_id = *v;
      if (auto v = r.text("note", false, kMaxLongText)) a.note = *v;
      break;
    case T::kRenegotiateCommitment:
      if (auto v = r.id("commitment_id", 'k', true)) a.commitment_id = *v;
      read_due(r, a.due, true);
      if (auto v = r.text("reason", true, kMaxLongText)) a.reason = *v;
      if (auto v = r.text("holding_reply", false, kMaxLongText)) a.holding_reply = *v;
      if (auto v = r.text("letter", false, 64)) a.letter = *v;
      break;
    case T::kOfferRedress: {
      std::vector<FieldError> errors;
      // The offer's own fields are the body (POST /v1/cases/{ref}/redress).
      json::object offer_fields;
      for (const auto& member : body)
        if (member.key() != "expected_version" && member.key() != "action")
          offer_fields.emplace(member.key(), member.value());
      if (auto offer = read_offer(offer_fields, "", errors)) a.offers.push_back(std::move(*offer));
      for (auto& e : errors) r.fail(e.field, e.message);
      for (const auto& member : offer_fields) (void)r.raw(member.key());
      break;
    }
    case T::kFulfilRedress:
      if (auto v = r.id("redress_id", 'r', true)) a.redress_id = *v;
      if (auto v = r.text("note", false, kMaxLongText)) a.note = *v;
      // What was paid, when it differs from the offer (or the offer named no amount).
      if (const json::value* amount = r.raw("amount"); amount && !amount->is_null()) {
        a.paid_minor = parse_amount_minor(*amount);
        if (!a.paid_minor) r.fail("amount", "must be a non-negative amount with at most two decimals, like \"25.00\"");
      }
      if (auto currency = r.text("currency", false); currency && !currency->empty()) {
        bool ok = currency->size() == 3;
        for (char c : *currency) ok = ok && c >= 'A' && c <= 'Z';
        if (!ok)
          r.fail("currency", "must be an ISO 4217 code like \"GBP\"");
        else
          a.paid_currency = *currency;
      }
      if (a.paid_minor && a.paid_currency.empty() && r.errors().empty())
        r.fail("currency", "is required with an amount");
      if (!a.paid_minor && !a.paid_currency.empty() && r.errors().empty())
        r.fail("amount", "is required with a currency");
      break;
    case T::kFlagVulnerable: {
      Vulnerability flag;
      if (auto v = r.choice<VulnerabilityDriver>("driver", true, &parse_VulnerabilityDriver,
                                                 all_names_VulnerabilityDriver()))
        flag.driver = *v;
      if (auto v = r.text("note", true, kMaxLongText)) {
        if (v->empty()) r.fail("note", "must say what staff should know");
        flag.note = *v;
      }
      if (auto v = r.text("review_on", true, 10)) {
        auto date = parse_date(*v);
        if (!date)
          r.fail("review_on", "must be a date like \"2027-03-31\"");
        else
          flag.review_on = *date;
      }
      a.vulnerability = std::move(flag);
      break;
    }
    case T::kClearVulnerable:
      if (auto v = r.text("note", true, kMaxLongText)) {
        if (v->empty()) r.fail("note", "must say why the flag is cleared");
        a.note = *v;
      }
      break;
    case T::kSubmitSurvey: {
      // "overall" (RATER) or, as before, "rating": the same 1-5 answer.
      auto overall = r.integer("overall", false, 1, 5);
      auto rating = r.integer("rating", false, 1, 5);
      const bool both = r.raw("overall") && !r.raw("overall")->is_null() && r.raw("rating") && !r.raw("rating")->is_null();
      if (both)
        r.fail("overall", "give overall (or the older rating), not both");
      else if (overall || rating)
        a.rating = static_cast<int>(overall ? *overall : *rating);
      else if (!(r.raw("overall") && !r.raw("overall")->is_null()) && !(r.raw("rating") && !r.raw("rating")->is_null()))
        r.fail("overall", "is required: 1 (poor) to 5 (excellent)");
      if (const json::object* answers = r.object("rater", false)) {
        FieldReader dimensions(*answers, r.path("rater"));
        RaterScores scores;
        int* fields[] = {&scores.reliability, &scores.assurance, &scores.tangibles, &scores.empathy,
                         &scores.responsiveness};
        bool complete = true;
        for (std::size_t i = 0; i < rater_dimensions().size(); ++i) {
          auto v = dimensions.integer(rater_dimensions()[i], true, 1, 5);
          if (v)
            *fields[i] = static_cast<int>(*v);
          else
            complete = false;
        }
        dimensions.refuse_unknown();
        if (complete && dimensions.errors().empty()) a.rater = scores;
        r.merge(std::move(dimensions.errors()));
      }
      if (auto v = r.text("comment", false, kMaxLongText)) a.comment = *v;
      break;
    }
    case T::kRequestEscalation:
      if (auto v = r.text("reason", true, kMaxLongText)) a.reason = *v;
      break;
    case T::kExemptCommitment:
      if (auto v = r.id("commitment_id", 'k', true)) a.commitment_id = *v;
      if (auto v = r.text("reason", true, kMaxLongText)) a.reason = *v;
      break;
    case T::kAcceptMessage:
      if (auto v = r.id("message_id", 'm', true)) a.message_id = *v;
      if (auto v = r.text("note", false, kMaxLongText)) a.note = *v;
      break;
    case T::kRejectMessage:
      if (auto v = r.id("message_id", 'm', true)) a.message_id = *v;
      if (auto v = r.text("reason", true, kMaxLongText)) a.reason = *v;
      break;
    case T::kTag:
    case T::kUntag: {
      const json::array* tags = r.array("tags");
      if (!tags) {
        if (!r.raw("tags") || r.raw("tags")->is_null()) r.fail("tags", "is required: a list of tags like [\"vip\"]");
        break;
      }
      if (tags->empty() || tags->size() > kMaxTagsPerRequest) {
        r.fail("tags", "must list 1 to " + std::to_string(kMaxTagsPerRequest) + " tags");
        break;
      }
      for (std::size_t i = 0; i < tags->size(); ++i) {
        const std::string field = "tags[" + std::to_string(i) + "]";
        const json::value& tag = (*tags)[i];
        if (!tag.is_string()) {
          r.fail(field, "must be a string");
          continue;
        }
        auto normal = normalize_tag(tag.get_string());
        if (!normal)
          r.fail(field, normal.error().detail);
        else
          insert_sorted(a.tags, *normal);
      }
      break;
    }
    case T::kMerge:
    case T::kLink:
    case T::kUnlink: {
      const char* field = type == T::kMerge ? "into" : "case";
      if (auto v = r.text(field, true, 64)) {
        if (v->find_first_of(" \t\r\n/?#") != std::string::npos)
          r.fail(field, "must be a case reference like \"CMP-2026-000042\"");
        else
          a.other_case = *v;
      }
      if (auto v = r.text("note", false, kMaxLongText)) a.note = *v;
      break;
    }
    case T::kHoldMessage:
    case T::kRecordBounce:
      // Only the mail intake holds a message or records a bounce; nothing decodes them from JSON.
      r.fail("action", std::string(to_string(type)) + " is the mail intake's own");
      break;
  }
  (void)r.raw("action");
  r.refuse_unknown();
  if (!r.errors().empty()) return invalid_from(std::move(r.errors()));
  return a;
}

Result<ActionRequest> decode_action(const json::object& body) {
  const json::value* name = body.if_contains("action");
  if (!name || !name->is_string()) return Error::invalid_field("action", "is required: the name of a lifecycle action");
  auto type = parse_ActionType(name->get_string());
  if (!type) {
    std::string list;
    for (int i = 0; i < kActionTypeCount; ++i)
      list += (i ? ", " : "") + std::string(to_string(static_cast<ActionType>(i)));
    return Error::invalid_field("action", "unknown action \"" + std::string(name->get_string()) + "\"; known: " + list);
  }
  return decode_action_fields(*type, body);
}

std::string commitment_display_id(std::int64_t id) { return "k-" + std::to_string(id); }
std::string redress_display_id(std::int64_t id) { return "r-" + std::to_string(id); }
std::string message_display_id(std::int64_t id) { return "m-" + std::to_string(id); }

std::optional<std::int64_t> parse_display_id(std::string_view text, char prefix) {
  if (text.size() > 2 && text[0] == prefix && text[1] == '-') text.remove_prefix(2);
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value <= 0) return std::nullopt;
  return value;
}

std::optional<std::int64_t> parse_amount_minor(const json::value& amount) {
  std::string text;
  if (amount.is_string())
    text = std::string(amount.get_string());
  else if (amount.is_int64())
    text = std::to_string(amount.get_int64());
  else if (amount.is_uint64())
    text = std::to_string(amount.get_uint64());
  else if (amount.is_double()) {
    double d = amount.get_double();
    if (!std::isfinite(d) || d < 0 || d > 1e12) return std::nullopt;
    double cents = std::round(d * 100);
    if (std::fabs(cents - d * 100) > 1e-6) return std::nullopt;
    return static_cast<std::int64_t>(cents);
  } else
    return std::nullopt;
  auto dot = text.find('.');
  std::string whole = text.substr(0, dot);
  std::string fraction = dot == std::string::npos ? "" : text.substr(dot + 1);
  if (whole.empty() || whole.size() > 12 || fraction.size() > 2) return std::nullopt;
  for (char c : whole + fraction)
    if (c < '0' || c > '9') return std::nullopt;
  while (fraction.size() < 2) fraction += '0';
  return std::stoll(whole) * 100 + std::stoll(fraction);
}

std::string format_amount(std::int64_t minor) {
  std::string cents = std::to_string(minor % 100);
  if (cents.size() < 2) cents = "0" + cents;
  return std::to_string(minor / 100) + "." + cents;
}

}  // namespace redress
