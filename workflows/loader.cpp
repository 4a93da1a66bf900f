#include "workflows/loader.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <initializer_list>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include <toml++/toml.h>

namespace redress {

namespace {

// A located validation failure. Thrown inside this file only, caught by parse_workflow.
struct LoadFailure {
  std::size_t line = 0;
  std::string path;
  std::string message;
};

[[noreturn]] void fail(std::size_t line, std::string path, std::string message) {
  throw LoadFailure{line == 0 ? 1 : line, std::move(path), std::move(message)};
}

std::size_t line_of(const toml::node& node) { return node.source().begin.line; }

std::string join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string indexed(const std::string& path, std::size_t index) { return path + "[" + std::to_string(index) + "]"; }

std::string type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    default: return "nothing";
  }
}

std::string quoted_list(const std::vector<std::string_view>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ", ";
    out += "\"" + std::string(names[i]) + "\"";
  }
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// Reads one TOML table, remembering which keys were read so that `finish` can refuse the rest.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string path) : table_(table), path_(std::move(path)) {}

  const std::string& path() const { return path_; }
  std::size_t line() const { return line_of(table_); }
  std::string key_path(std::string_view key) const { return join(path_, key); }

  const toml::node* optional(std::string_view key) {
    known_.insert(std::string(key));
    return table_.get(key);
  }
  const toml::node& required(std::string_view key) {
    const toml::node* node = optional(key);
    if (node == nullptr) {
      // Point at a likely misspelling rather than only at the table.
      for (const auto& [other, value] : table_) {
        if (known_.count(std::string(other.str())) == 0 && edit_distance(other.str(), key) <= 2) {
          fail(other.source().begin.line ? other.source().begin.line : line_of(value), key_path(other.str()),
               "unknown key; did you mean \"" + std::string(key) + "\"? (required key is missing)");
        }
      }
      fail(line(), key_path(key), "required key is missing");
    }
    return *node;
  }

  std::string string(std::string_view key) { return as_string(required(key), key_path(key)); }
  std::string string_or(std::string_view key, std::string fallback) {
    const toml::node* node = optional(key);
    return node ? as_string(*node, key_path(key)) : std::move(fallback);
  }
  bool boolean_or(std::string_view key, bool fallback) {
    const toml::node* node = optional(key);
    if (node == nullptr) return fallback;
    if (!node->is_boolean()) fail(line_of(*node), key_path(key), "expected true or false, found " + type_name(*node));
    return node->as_boolean()->get();
  }
  std::optional<std::int64_t> integer(std::string_view key) {
    const toml::node* node = optional(key);
    if (node == nullptr) return std::nullopt;
    if (!node->is_integer()) fail(line_of(*node), key_path(key), "expected an integer, found " + type_name(*node));
    return node->as_integer()->get();
  }
  std::vector<std::string> strings_or_empty(std::string_view key) {
    const toml::node* node = optional(key);
    if (node == nullptr) return {};
    return as_strings(*node, key_path(key));
  }
  const toml::table* table(std::string_view key) {
    const toml::node* node = optional(key);
    if (node == nullptr) return nullptr;
    if (!node->is_table()) fail(line_of(*node), key_path(key), "expected a table, found " + type_name(*node));
    return node->as_table();
  }
  const toml::table& required_table(std::string_view key) {
    const toml::table* found = table(key);
    if (found == nullptr) fail(line(), key_path(key), "required table is missing");
    return *found;
  }

  // Refuses every key that was not read: a typo must not pass silently.
  void finish() const {
    for (const auto& [key, node] : table_) {
      if (known_.count(std::string(key.str())) == 0) {
        std::vector<std::string_view> names(known_.begin(), known_.end());
        fail(key.source().begin.line ? key.source().begin.line : line_of(node), key_path(key.str()),
             "unknown key (expected one of " + quoted_list(names) + ")");
      }
    }
  }

  static std::string as_string(const toml::node& node, const std::string& path) {
    if (!node.is_string()) fail(line_of(node), path, "expected a string, found " + type_name(node));
    return node.as_string()->get();
  }
  static std::vector<std::string> as_strings(const toml::node& node, const std::string& path) {
    if (!node.is_array()) fail(line_of(node), path, "expected an array of strings, found " + type_name(node));
    std::vector<std::string> out;
    std::size_t index = 0;
    for (const auto& element : *node.as_array()) out.push_back(as_string(element, indexed(path, index++)));
    return out;
  }

 private:
  const toml::table& table_;
  std::string path_;
  std::set<std::string> known_;
};

const toml::table& as_table(const toml::node& node, const std::string& path) {
  if (!node.is_table()) fail(line_of(node), path, "expected a table, found " + type_name(node));
  return *node.as_table();
}

const toml::array& as_array(const toml::node& node, const std::string& path, std::string_view of) {
  if (!node.is_array())
    fail(line_of(node), path, "expected an array of " + std::string(of) + ", found " + type_name(node));
  return *node.as_array();
}

template <typename Enum, typename Parse>
Enum parse_enum(const toml::node& node, const std::string& path, Parse parse,
                const std::vector<std::string_view>& names) {
  const std::string text = TableReader::as_string(node, path);
  const std::optional<Enum> value = parse(text);
  if (!value) fail(line_of(node), path, "\"" + text + "\" is not one of " + quoted_list(names));
  return *value;
}

template <typename Enum, typename Parse>
Enum enum_or(TableReader& reader, std::string_view key, Enum fallback, Parse parse,
             const std::vector<std::string_view>& names) {
  const toml::node* node = reader.optional(key);
  return node ? parse_enum<Enum>(*node, reader.key_path(key), parse, names) : fallback;
}

IsoDuration duration_value(const toml::node& node, const std::string& path, std::string_view example) {
  const std::string text = node.is_string() ? node.as_string()->get() : std::string();
  const std::optional<IsoDuration> value = node.is_string() ? parse_duration(text) : std::nullopt;
  if (!value || value->days < 0 || value->time < Duration::zero() ||
      (value->days == 0 && value->time == Duration::zero())) {
    fail(line_of(node), path,
         "expected an ISO 8601 duration like \"" + std::string(example) + "\"" +
             (node.is_string() ? ", found \"" + text + "\"" : ", found " + type_name(node)));
  }
  return *value;
}

const std::vector<std::string_view> kBasisNames{"calendar", "business"};
const std::vector<std::string_view> kOutOfHoursNames{"next_opening", "as_received"};
const std::vector<std::string_view> kStartNames{"received", "acknowledged", "reopened", "routed"};
const std::vector<std::string_view> kStopNames{"acknowledged", "client_update", "resolved"};
const std::vector<std::string_view> kRecurrenceNames{"once", "repeat_until_resolved"};
const std::vector<std::string_view> kNotifyNames{"client", "owner", "team", "escalation_level"};
const std::vector<std::string_view> kTriggerNames{"clock_warning",    "clock_breach",   "commitment_broken",
                                                  "redress_rejected", "client_request", "severity"};
const std::vector<std::string_view> kRenegotiationNames{"never", "exceptional", "allowed"};
const std::vector<std::string_view> kWeekdayNames{"sunday",   "monday", "tuesday", "wednesday",
                                                  "thursday", "friday", "saturday"};

std::optional<Recurrence> parse_recurrence(std::string_view text) {
  if (text == "once") return Recurrence::kOnce;
  if (text == "repeat_until_resolved") return Recurrence::kRepeatUntilResolved;
  return std::nullopt;
}

bool valid_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

ClockTarget read_target(TableReader& reader, std::string_view target_key, std::string_view basis_key,
                        std::string_view example, bool required);

// A taxonomy: [{ key = "current_accounts", name = "Current accounts" }, ...], keys unique.
std::vector<Term> read_terms(const toml::node* node, const std::string& path) {
  std::vector<Term> out;
  if (node == nullptr) return out;
  std::set<std::string> keys;
  std::size_t index = 0;
  for (const auto& element : as_array(*node, path, "tables like { key = \"current_accounts\", name = \"Current accounts\" }")) {
    const std::string here = indexed(path, index++);
    TableReader reader(as_table(element, here), here);
    Term term;
    const toml::node& key = reader.required("key");
    term.key = TableReader::as_string(key, reader.key_path("key"));
    if (!valid_name(term.key)) fail(line_of(key), reader.key_path("key"), "use lower-case letters, digits, '-' and '_' only");
    if (!keys.insert(term.key).second) fail(line_of(key), reader.key_path("key"), "\"" + term.key + "\" is listed twice");
    term.name = reader.string("name");
    if (term.name.empty()) fail(reader.line(), reader.key_path("name"), "must not be empty");
    reader.finish();
    out.push_back(std::move(term));
  }
  return out;
}

// [returns]: what a resolution must record, and the buckets closed cases are counted in.
ReturnsRule read_returns(const toml::table& table, const Workflow& workflow) {
  TableReader reader(table, "returns");
  ReturnsRule returns;
  returns.require_root_cause = reader.boolean_or("require_root_cause", false);
  returns.require_product = reader.boolean_or("require_product", false);
  if (returns.require_root_cause && workflow.root_causes.empty())
    fail(line_of(*reader.optional("require_root_cause")), "returns.require_root_cause",
         "requires a root cause from root_causes, which this workflow does not list");
  if (returns.require_product && workflow.products.empty())
    fail(line_of(*reader.optional("require_product")), "returns.require_product",
         "requires a product from products, which this workflow does not list");
  if (const toml::node* buckets = reader.optional("buckets")) {
    std::set<std::string> keys;
    std::size_t index = 0;
    const auto& array = as_array(*buckets, "returns.buckets", "tables");
    for (const auto& element : array) {
      const std::string here = indexed("returns.buckets", index++);
      TableReader bucket_reader(as_table(element, here), here);
      ReturnBucket bucket;
      const toml::node& key = bucket_reader.required("key");
      bucket.key = TableReader::as_string(key, bucket_reader.key_path("key"));
      if (!valid_name(bucket.key))
        fail(line_of(key), bucket_reader.key_path("key"), "use lower-case letters, digits, '-' and '_' only");
      if (!keys.insert(bucket.key).second)
        fail(line_of(key), bucket_reader.key_path("key"), "\"" + bucket.key + "\" is listed twice");
      bucket.name = bucket_reader.string_or("name", words_of(bucket.key));
      const bool last = index == array.size();
      if (bucket_reader.optional("within") != nullptr) {
        if (last)
          fail(line_of(*bucket_reader.optional("within")), bucket_reader.key_path("within"),
               "the last bucket counts everything closed later: it has no within");
        bucket.within = read_target(bucket_reader, "within", "basis", "P3D", true);
      } else if (!last) {
        fail(bucket_reader.line(), bucket_reader.key_path("within"), "required on every bucket but the last");
      } else if (bucket_reader.optional("basis") != nullptr) {
        fail(line_of(*bucket_reader.optional("basis")), bucket_reader.key_path("basis"), "the last bucket has no within to count on a basis");
      }
      if (const toml::node* rule = bucket_reader.optional("out_of_hours"))
        bucket.out_of_hours = parse_enum<OutOfHoursRule>(*rule, bucket_reader.key_path("out_of_hours"),
                                                         parse_OutOfHoursRule, kOutOfHoursNames);
      bucket_reader.finish();
      returns.buckets.push_back(std::move(bucket));
    }
    if (returns.buckets.size() == 1)
      fail(line_of(*buckets), "returns.buckets", "needs at least two buckets (the last counts everything later)");
  }
  // The clocks are read later: read_workflow checks that each names one.
  if (const toml::node* timely = reader.optional("timely_response"))
    returns.timely_response = TableReader::as_strings(*timely, "returns.timely_response");
  reader.finish();
  return returns;
}

// A target and its basis, read from `target_key` and `basis_key` of one table.
ClockTarget read_target(TableReader& reader, std::string_view target_key, std::string_view basis_key,
                        std::string_view example, bool required) {
  const toml::node* node = required ? &reader.required(target_key) : reader.optional(target_key);
  ClockTarget target;
  target.basis = enum_or(reader, basis_key, TimeBasis::kCalendar, parse_TimeBasis, kBasisNames);
  if (node == nullptr) return target;
  target.duration = duration_value(*node, reader.key_path(target_key), example);
  if (target.basis == TimeBasis::kBusiness && target.duration.days > 0 && target.duration.time > Duration::zero()) {
    fail(line_of(*node), reader.key_path(target_key),
         "a business target counts either business days (\"P3D\") or working hours (\"PT4H\"), not both");
  }
  return target;
}

std::vector<RequiredElement> read_elements(const toml::node* node, const std::string& path) {
  std::vector<RequiredElement> out;
  if (node == nullptr) return out;
  std::size_t index = 0;
  std::set<std::string> keys;
  for (const auto& element : as_array(*node, path, "tables")) {
    const std::string here = indexed(path, index++);
    TableReader reader(as_table(element, here), here);
    RequiredElement required;
    required.key = reader.string("key");
    required.description = reader.string("description");
    required.any_of = TableReader::as_strings(reader.required("any_of"), reader.key_path("any_of"));
    if (required.any_of.empty()) fail(reader.line(), reader.key_path("any_of"), "needs at least one phrasing");
    for (const auto& phrase : required.any_of)
      if (phrase.empty()) fail(reader.line(), reader.key_path("any_of"), "a phrasing is empty");
    if (!keys.insert(required.key).second)
      fail(reader.line(), reader.key_path("key"), "\"" + required.key + "\" is listed twice");
    reader.finish();
    out.push_back(std::move(required));
  }
  return out;
}

BusinessCalendar read_calendar(const toml::table& table, const std::string& path) {
  TableReader reader(table, path);
  const toml::node& zone_node = reader.required("zone");
  const std::string zone = TableReader::as_string(zone_node, reader.key_path("zone"));
  if (auto probe = BusinessCalendar::make(zone, BusinessCalendar().hours(), {}); !probe.ok()) {
    fail(line_of(zone_node), reader.key_path("zone"), probe.error().detail);
  }
  const OutOfHoursRule out_of_hours =
      enum_or(reader, "out_of_hours", OutOfHoursRule::kNextOpening, parse_OutOfHoursRule, kOutOfHoursNames);

  const toml::table& hours_table = reader.required_table("hours");
  TableReader hours_reader(hours_table, reader.key_path("hours"));
  WeeklyHours hours;
  bool any = false;
  for (std::size_t wd = 0; wd < kWeekdayNames.size(); ++wd) {
    const toml::node* day = hours_reader.optional(kWeekdayNames[wd]);
    if (day == nullptr) continue;  // a weekday not listed is closed
    const std::string day_path = hours_reader.key_path(kWeekdayNames[wd]);
    std::size_t index = 0;
    for (const auto& element : as_array(*day, day_path, "working hours like \"09:00-17:00\"")) {
      const std::string here = indexed(day_path, index++);
      const std::optional<WorkingInterval> interval =
          element.is_string() ? parse_working_interval(element.as_string()->get()) : std::nullopt;
      if (!interval)
        fail(line_of(element), here,
             "expected working hours like \"09:00-17:00\" (HH:MM-HH:MM, start before end, end at most 24:00)");
      for (const auto& other : hours[wd]) {
        if (other.start < interval->end && interval->start < other.end) {
          fail(line_of(element), here,
               format_working_interval(*interval) + " overlaps " + format_working_interval(other));
        }
      }
      hours[wd].push_back(*interval);
      any = true;
    }
  }
  hours_reader.finish();
  if (!any) fail(line_of(hours_table), reader.key_path("hours"), "no weekday has working hours");

  // The years the holidays cover: past them the calendar refuses to count (CalendarExhausted).
  auto year_value = [&](std::string_view key) {
    const toml::node& node = reader.required(key);
    if (!node.is_integer() || node.as_integer()->get() < 1970 || node.as_integer()->get() > 9999)
      fail(line_of(node), reader.key_path(key), "expected a year like 2026, found " + type_name(node));
    return std::pair{static_cast<int>(node.as_integer()->get()), line_of(node)};
  };
  const auto [first_year, first_line] = year_value("first_year");
  const auto [last_year, last_line] = year_value("last_year");
  if (last_year < first_year)
    fail(last_line, reader.key_path("last_year"), "must not be before first_year (" + std::to_string(first_year) + ")");
  (void)first_line;

  std::vector<std::chrono::year_month_day> holidays;
  if (const toml::node* node = reader.optional("holidays")) {
    std::size_t index = 0;
    const std::string holidays_path = reader.key_path("holidays");
    for (const auto& element : as_array(*node, holidays_path, "dates like 2026-12-25")) {
      const std::string here = indexed(holidays_path, index++);
      if (!element.is_date())
        fail(line_of(element), here, "expected a date like 2026-12-25, found " + type_name(element));
      const toml::date date = element.as_date()->get();
      if (date.year < first_year || date.year > last_year)
        fail(line_of(element), here,
             "is outside the years the calendar covers (first_year " + std::to_string(first_year) + ", last_year " +
                 std::to_string(last_year) + ")");
      holidays.emplace_back(std::chrono::year(date.year), std::chrono::month(date.month), std::chrono::day(date.day));
    }
  }
  reader.finish();
  auto calendar = BusinessCalendar::make(zone, std::move(hours), std::move(holidays), out_of_hours,
                                         CalendarYears{first_year, last_year});
  if (!calendar.ok()) fail(reader.line(), path, calendar.error().detail);
  return std::move(calendar).value();
}

Compensation read_compensation(const toml::table& table, const std::string& path) {
  TableReader reader(table, path);
  Compensation compensation;
  compensation.kind = enum_or(reader, "kind", RedressKind::kCompensation, parse_RedressKind, all_names_RedressKind());
  const toml::node& currency = reader.required("currency");
  compensation.currency = TableReader::as_string(currency, reader.key_path("currency"));
  const bool iso_code =
      compensation.currency.size() == 3 && std::all_of(compensation.currency.begin(), compensation.currency.end(),
                                                       [](char c) { return c >= 'A' && c <= 'Z'; });
  if (!iso_code) fail(line_of(currency), reader.key_path("currency"), "expected an ISO 4217 code like \"GBP\"");
  auto amount = [&](std::string_view key) -> std::optional<std::int64_t> {
    const auto value = reader.integer(key);
    if (value && *value < 0) fail(line_of(*reader.optional(key)), reader.key_path(key), "must not be negative");
    return value;
  };
  compensation.fixed_minor = amount("fixed_minor").value_or(0);
  compensation.per_period_minor = amount("per_period_minor").value_or(0);
  compensation.cap_minor = amount("cap_minor");
  if (const toml::node* period = reader.optional("period")) {
    compensation.period = duration_value(*period, reader.key_path("period"), "PT12H").total();
  }
  if (compensation.per_period_minor > 0 && compensation.period == Duration::zero()) {
    fail(reader.line(), reader.key_path("period"), "required with per_period_minor");
  }
  if (compensation.fixed_minor == 0 && compensation.per_period_minor == 0) {
    fail(reader.line(), reader.key_path("fixed_minor"), "a compensation needs fixed_minor or per_period_minor");
  }
  if (compensation.cap_minor && *compensation.cap_minor < compensation.fixed_minor) {
    fail(line_of(*reader.optional("cap_minor")), reader.key_path("cap_minor"), "must be at least fixed_minor");
  }
  compensation.text = reader.string("text");
  reader.finish();
  return compensation;
}

// The escalate_to level is checked against the ladder by the caller, which knows its height.
BreachRule read_breach(const toml::table& table, const std::string& path, int max_level) {
  TableReader reader(table, path);
  BreachRule breach;
  if (const auto level = reader.integer("escalate_to")) {
    if (*level < 1 || *level > max_level) {
      fail(line_of(*reader.optional("escalate_to")), reader.key_path("escalate_to"),
           "must name a level of the escalation ladder (1 to " + std::to_string(max_level) + ")");
    }
    breach.escalate_to = static_cast<int>(*level);
  }
  if (const toml::node* notify = reader.optional("notify")) {
    const std::string notify_path = reader.key_path("notify");
    std::size_t index = 0;
    for (const auto& element : as_array(*notify, notify_path, "strings")) {
      breach.notify.push_back(
          parse_enum<NotifyTarget>(element, indexed(notify_path, index++), parse_NotifyTarget, kNotifyNames));
    }
  }
  if (const toml::table* compensation = reader.table("compensation")) {
    breach.compensation = read_compensation(*compensation, reader.key_path("compensation"));
  }
  reader.finish();
  return breach;
}

std::vector<EscalationLevel> read_escalation(const toml::node* node, const std::string& path) {
  std::vector<EscalationLevel> out;
  if (node == nullptr) return out;
  std::size_t index = 0;
  for (const auto& element : as_array(*node, path, "tables")) {
    const std::string here = indexed(path, index);
    TableReader reader(as_table(element, here), here);
    EscalationLevel level;
    level.level = static_cast<int>(index + 1);
    if (const auto number = reader.integer("level"); number && *number != level.level) {
      fail(line_of(*reader.optional("level")), reader.key_path("level"),
           "levels are listed in order from 1; this one is level " + std::to_string(level.level));
    }
    level.name = reader.string("name");
    if (const toml::node* roles = reader.optional("roles")) {
      std::size_t role_index = 0;
      for (const auto& role : as_array(*roles, reader.key_path("roles"), "strings")) {
        level.roles.push_back(
            parse_enum<Role>(role, indexed(reader.key_path("roles"), role_index++), parse_Role, all_names_Role()));
      }
    }
    level.teams = reader.strings_or_empty("teams");
    level.staff = reader.strings_or_empty("staff");
    if (level.roles.empty() && level.staff.empty()) {
      fail(reader.line(), reader.key_path("roles"), "a level needs roles or named staff to notify");
    }
    if (const toml::node* triggers = reader.optional("triggers")) {
      const std::string triggers_path = reader.key_path("triggers");
      std::size_t trigger_index = 0;
      for (const auto& trigger_node : as_array(*triggers, triggers_path, "tables")) {
        const std::string trigger_path = indexed(triggers_path, trigger_index++);
        TableReader trigger_reader(as_table(trigger_node, trigger_path), trigger_path);
        EscalationTrigger trigger;
        trigger.kind = parse_enum<TriggerKind>(trigger_reader.required("on"), trigger_reader.key_path("on"),
                                               parse_TriggerKind, kTriggerNames);
        // A key the trigger's kind does not read would never be evaluated: refused, so that a
        // standard never promises what the engine does not do.
        auto only_for = [&](std::string_view key, std::initializer_list<TriggerKind> kinds, std::string_view which) {
          const toml::node* node = trigger_reader.optional(key);
          if (node && std::find(kinds.begin(), kinds.end(), trigger.kind) == kinds.end())
            fail(line_of(*node), trigger_reader.key_path(key),
                 "applies to " + std::string(which) + " triggers only; on = \"" +
                     std::string(to_string(trigger.kind)) + "\" never reads it");
          return node;
        };
        if (const toml::node* clock = only_for("clock", {TriggerKind::kClockWarning, TriggerKind::kClockBreach},
                                               "clock_warning and clock_breach"))
          trigger.clock = TableReader::as_string(*clock, trigger_reader.key_path("clock"));
        if (const toml::node* fraction = only_for("fraction", {TriggerKind::kClockWarning}, "clock_warning")) {
          const auto value = fraction->value<double>();
          if (!value || *value <= 0 || *value >= 1)
            fail(line_of(*fraction), trigger_reader.key_path("fraction"), "expected a number between 0 and 1");
          trigger.fraction = *value;
        }
        if (const toml::node* severity = only_for("severity", {TriggerKind::kSeverity}, "severity")) {
          trigger.severity = parse_enum<Severity>(*severity, trigger_reader.key_path("severity"), parse_Severity,
                                                  all_names_Severity());
        } else if (trigger.kind == TriggerKind::kSeverity) {
          fail(trigger_reader.line(), trigger_reader.key_path("severity"), "required when on = \"severity\"");
        }
        if (const toml::node* kind = only_for("commitment", {TriggerKind::kCommitmentBroken}, "commitment_broken"))
          trigger.commitment = parse_enum<CommitmentKind>(*kind, trigger_reader.key_path("commitment"),
                                                          parse_CommitmentKind, all_names_CommitmentKind());
        if (const toml::node* visible =
                only_for("client_visible", {TriggerKind::kCommitmentBroken}, "commitment_broken")) {
          if (!visible->is_boolean())
            fail(line_of(*visible), trigger_reader.key_path("client_visible"),
                 "expected true or false, found " + type_name(*visible));
          trigger.client_visible_only = visible->as_boolean()->get();
        }
        trigger_reader.finish();
        level.triggers.push_back(std::move(trigger));
      }
    }
    reader.finish();
    out.push_back(std::move(level));
    ++index;
  }
  return out;
}

ClockRule read_clock(std::string name, const toml::table& table, const std::string& path, const Workflow& workflow) {
  TableReader reader(table, path);
  ClockRule clock;
  clock.name = std::move(name);
  clock.text = reader.string("text");
  clock.start =
      parse_enum<ClockStart>(reader.required("start"), reader.key_path("start"), parse_ClockStart, kStartNames);
  clock.stop = enum_or(reader, "stop", ClockStop::kResolved, parse_ClockStop, kStopNames);
  clock.target = read_target(reader, "target", "basis", "P8W", true);
  const toml::node* exceptional = reader.optional("exceptional_target");
  if (exceptional) {
    ClockTarget longer{duration_value(*exceptional, reader.key_path("exceptional_target"), "P35D"), clock.target.basis};
    // Same basis: the longer duration is the later deadline from any start.
    if (longer.duration.days < clock.target.duration.days ||
        (longer.duration.days == clock.target.duration.days && longer.duration.time <= clock.target.duration.time)) {
      fail(line_of(*exceptional), reader.key_path("exceptional_target"), "must be longer than target");
    }
    clock.exceptional_target = longer;
  }
  clock.rule = reader.string_or("rule", "");
  const toml::node* renegotiation = reader.optional("renegotiation");
  clock.renegotiation = renegotiation ? parse_enum<Renegotiation>(*renegotiation, reader.key_path("renegotiation"),
                                                                  parse_Renegotiation, kRenegotiationNames)
                                      : Renegotiation::kNever;
  if (clock.renegotiation == Renegotiation::kExceptional && !exceptional)
    fail(line_of(*renegotiation), reader.key_path("renegotiation"),
         "\"exceptional\" moves a pledge to its exceptional_target, which this clock does not name");
  if (exceptional && clock.renegotiation != Renegotiation::kExceptional)
    fail(line_of(*exceptional), reader.key_path("exceptional_target"),
         "only a clock with renegotiation = \"exceptional\" is moved to its exceptional_target");
  if (const toml::node* limit = reader.optional("renegotiation_limit")) {
    if (clock.renegotiation != Renegotiation::kAllowed)
      fail(line_of(*limit), reader.key_path("renegotiation_limit"),
           "applies to renegotiation = \"allowed\" only (this clock's pledges move " +
               std::string(clock.renegotiation == Renegotiation::kNever ? "never" : "to the exceptional target only") +
               ")");
    clock.renegotiation_limit = duration_value(*limit, reader.key_path("renegotiation_limit"), "P14D");
  }
  const toml::node* holding_reply = reader.optional("holding_reply_elements");
  if (holding_reply && clock.renegotiation != Renegotiation::kExceptional)
    fail(line_of(*holding_reply), reader.key_path("holding_reply_elements"),
         "applies to renegotiation = \"exceptional\" only: the holding reply that moves the pledge");
  clock.holding_reply_elements = read_elements(holding_reply, reader.key_path("holding_reply_elements"));
  clock.pause = reader.boolean_or("pause_while_awaiting_client", false) ? PauseRule::kPausesWhileAwaitingClient
                                                                        : PauseRule::kRuns;
  clock.recurrence = enum_or(reader, "recurrence", Recurrence::kOnce, parse_recurrence, kRecurrenceNames);
  if (const toml::node* warnings = reader.optional("warnings")) {
    const std::string warnings_path = reader.key_path("warnings");
    std::size_t index = 0;
    for (const auto& element : as_array(*warnings, warnings_path, "fractions like 0.75")) {
      const std::string here = indexed(warnings_path, index++);
      const auto value = element.is_floating_point() ? element.value<double>() : std::nullopt;
      if (!value || *value <= 0 || *value >= 1)
        fail(line_of(element), here, "expected a fraction between 0 and 1 like 0.75");
      if (!clock.warnings.empty() && *value <= clock.warnings.back())
        fail(line_of(element), here, "warnings must be in ascending order");
      clock.warnings.push_back(*value);
    }
  }
  clock.client_visible = reader.boolean_or("client_visible", true);
  if (const toml::node* rule = reader.optional("out_of_hours")) {
    clock.out_of_hours =
        parse_enum<OutOfHoursRule>(*rule, reader.key_path("out_of_hours"), parse_OutOfHoursRule, kOutOfHoursNames);
  }
  clock.categories = reader.strings_or_empty("categories");
  for (const auto& category : clock.categories) {
    if (std::find(workflow.categories.begin(), workflow.categories.end(), category) == workflow.categories.end()) {
      fail(line_of(*reader.optional("categories")), reader.key_path("categories"),
           "\"" + category + "\" is not one of this workflow's routing.categories");
    }
  }
  if (const toml::table* breach = reader.table("breach")) {
    clock.breach = read_breach(*breach, reader.key_path("breach"), workflow.max_escalation_level());
  }
  reader.finish();
  return clock;
}


Workflow read_workflow(const toml::table& root) {
  TableReader reader(root, "");
  Workflow workflow;
  const toml::node& name_node = reader.required("name");
  workflow.name = TableReader::as_string(name_node, "name");
  if (!valid_name(workflow.name)) fail(line_of(name_node), "name", "use lower-case letters, digits, '-' and '_' only");
  workflow.title = reader.string("title");
  workflow.description = reader.string("description");
  workflow.pledge = reader.string("pledge");
  workflow.team = reader.string("team");
  workflow.is_default = reader.boolean_or("default", false);
  workflow.auto_acknowledge = reader.boolean_or("auto_acknowledge", false);
  if (const toml::node* removed = reader.optional("escalate_on_rejection"))
    fail(line_of(*removed), "escalate_on_rejection",
         "no longer read: a rejected offer raises the case to the rung whose triggers name "
         "{ on = \"redress_rejected\" } (workflows/README.md, Escalation)");
  if (const toml::node* reopen = reader.optional("reopen_window")) {
    workflow.reopen_window = duration_value(*reopen, "reopen_window", "P8W").total();
  }
  workflow.redress_target = read_target(reader, "redress_due", "redress_due_basis", "P10D", false);
  if (reader.optional("redress_due") == nullptr) workflow.redress_target.duration = IsoDuration{10, Duration{0}};
  workflow.redress_due = workflow.redress_target.duration.total();

  const toml::table& routing = reader.required_table("routing");
  {
    TableReader routing_reader(routing, "routing");
    workflow.categories = TableReader::as_strings(routing_reader.required("categories"), "routing.categories");
    if (const toml::node* channels = routing_reader.optional("channels")) {
      std::size_t index = 0;
      for (const auto& element : as_array(*channels, "routing.channels", "strings")) {
        workflow.channels.push_back(
            parse_enum<Channel>(element, indexed("routing.channels", index++), parse_Channel, all_names_Channel()));
      }
    }
    if (workflow.categories.empty() && !workflow.is_default) {
      fail(routing_reader.line(), "routing.categories",
           "a workflow that is not the default needs at least one category");
    }
    routing_reader.finish();
  }

  workflow.calendar = read_calendar(reader.required_table("calendar"), "calendar");
  workflow.escalation = read_escalation(reader.optional("escalation"), "escalation");

  if (const toml::table* final_response = reader.table("final_response")) {
    TableReader final_reader(*final_response, "final_response");
    workflow.final_response_elements = read_elements(final_reader.optional("elements"), "final_response.elements");
    final_reader.finish();
  }
  if (const toml::table* summary = reader.table("summary_resolution")) {
    TableReader summary_reader(*summary, "summary_resolution");
    SummaryResolution resolution;
    resolution.within = read_target(summary_reader, "within", "basis", "P3D", true);
    resolution.letter = summary_reader.string("letter");
    if (const toml::node* rule = summary_reader.optional("out_of_hours")) {
      resolution.out_of_hours =
          parse_enum<OutOfHoursRule>(*rule, "summary_resolution.out_of_hours", parse_OutOfHoursRule, kOutOfHoursNames);
    }
    resolution.elements = read_elements(summary_reader.optional("elements"), "summary_resolution.elements");
    summary_reader.finish();
    workflow.summary_resolution = std::move(resolution);
  }
  const toml::table* holding_reply = reader.table("holding_reply");
  if (holding_reply) {
    TableReader holding_reader(*holding_reply, "holding_reply");
    HoldingReplyRule rule;
    rule.clock = holding_reader.string("clock");
    rule.rule = holding_reader.string_or("rule", "");
    rule.elements = read_elements(holding_reader.optional("elements"), "holding_reply.elements");
    if (rule.elements.empty())
      fail(holding_reader.line(), "holding_reply.elements", "a holding reply needs at least one required element");
    holding_reader.finish();
    workflow.holding_reply = std::move(rule);
  }
  workflow.products = read_terms(reader.optional("products"), "products");
  workflow.root_causes = read_terms(reader.optional("root_causes"), "root_causes");
  if (const toml::table* returns = reader.table("returns")) workflow.returns = read_returns(*returns, workflow);
  if (const toml::table* redress_breach = reader.table("redress_breach")) {
    workflow.redress_breach = read_breach(*redress_breach, "redress_breach", workflow.max_escalation_level());
  }
  if (const toml::table* clocks = reader.table("clocks")) {
    for (const auto& [key, node] : *clocks) {
      const std::string clock_path = join("clocks", key.str());
      if (!valid_name(key.str()))
        fail(key.source().begin.line, clock_path, "use lower-case letters, digits, '-' and '_' only");
      workflow.clocks.push_back(read_clock(std::string(key.str()), as_table(node, clock_path), clock_path, workflow));
    }
  }
  // Triggers name clocks, which are read after the ladder. A trigger that could never fire is
  // refused: a clock that does not exist, a warning the clock never gives.
  for (std::size_t i = 0; i < workflow.escalation.size(); ++i) {
    for (std::size_t t = 0; t < workflow.escalation[i].triggers.size(); ++t) {
      const auto& trigger = workflow.escalation[i].triggers[t];
      const std::string here = "escalation[" + std::to_string(i) + "].triggers[" + std::to_string(t) + "]";
      auto line_at = [&](std::string_view key) {
        const toml::node* node = root.at_path(here + "." + std::string(key)).node();
        if (!node) node = root.at_path(here).node();
        return node ? line_of(*node) : std::size_t{1};
      };
      if (!trigger.clock.empty() && workflow.find_clock(trigger.clock) == nullptr)
        fail(line_at("clock"), here + ".clock", "no clock named \"" + trigger.clock + "\"");
      if (trigger.kind != TriggerKind::kClockWarning) continue;
      auto warns = [&](const ClockRule& clock) {
        if (trigger.fraction == 0) return !clock.warnings.empty();
        return std::any_of(clock.warnings.begin(), clock.warnings.end(),
                           [&](double w) { return std::abs(w - trigger.fraction) < 1e-9; });
      };
      const std::string fraction = trigger.fraction == 0 ? "any fraction" : "fraction " + [&] {
        std::ostringstream text;
        text << trigger.fraction;
        return text.str();
      }();
      if (!trigger.clock.empty()) {
        if (!warns(*workflow.find_clock(trigger.clock)))
          fail(line_at(trigger.fraction == 0 ? "clock" : "fraction"), here,
               "clock \"" + trigger.clock + "\" never warns at " + fraction +
                   " (its warnings are the fractions in clocks." + trigger.clock + ".warnings)");
      } else if (std::none_of(workflow.clocks.begin(), workflow.clocks.end(), warns)) {
        fail(line_at("on"), here, "no clock of this workflow warns at " + fraction);
      }
    }
  }
  // How long cases are kept (docs/personal-data.md): [retention] years and/or months, counted
  // from = "receipt" or "closure". Within it an erasure request restricts a case instead of erasing it.
  if (const toml::table* retention = reader.table("retention")) {
    TableReader retention_reader(*retention, "retention");
    const auto years = retention_reader.integer("years");
    const auto months = retention_reader.integer("months");
    if (!years && !months)
      fail(retention_reader.line(), "retention", "give the period: years, months, or both (e.g. years = 3)");
    for (const auto& [key, value] : {std::pair{"years", years}, std::pair{"months", months}})
      if (value && (*value < 0 || *value > 1200))
        fail(line_of(*retention_reader.optional(key)), retention_reader.key_path(key),
             "must be a whole number from 0 to 1200");
    Retention rule;
    rule.months = static_cast<int>(years.value_or(0) * 12 + months.value_or(0));
    if (rule.months <= 0 || rule.months > 1200)
      fail(retention_reader.line(), "retention", "the period must be at least a month and at most 100 years");
    const toml::node& from = retention_reader.required("from");
    const std::string anchor = TableReader::as_string(from, "retention.from");
    if (anchor == "receipt")
      rule.from = RetentionFrom::kReceipt;
    else if (anchor == "closure")
      rule.from = RetentionFrom::kClosure;
    else
      fail(line_of(from), "retention.from", "expected \"receipt\" or \"closure\", not \"" + anchor + "\"");
    retention_reader.finish();
    workflow.retention = rule;
  }
  // Who takes decisions on an owned case: [rights] decisions = "owner_and_leads" (default) or "any_agent".
  if (const toml::table* rights = reader.table("rights")) {
    TableReader rights_reader(*rights, "rights");
    if (const toml::node* decisions = rights_reader.optional("decisions")) {
      std::string value = TableReader::as_string(*decisions, "rights.decisions");
      if (value == "owner_and_leads")
        workflow.decisions = DecisionRights::kOwnerAndLeads;
      else if (value == "any_agent")
        workflow.decisions = DecisionRights::kAnyAgent;
      else
        fail(line_of(*decisions), "rights.decisions", "expected \"owner_and_leads\" or \"any_agent\", not \"" + value + "\"");
    }
    rights_reader.finish();
  }
  // Display names: [names.categories] (each a category of routing.categories) and
  // [names.touchpoints] (any touchpoint id), each a non-empty string.
  if (const toml::table* names = reader.table("names")) {
    TableReader names_reader(*names, "names");
    auto read_names = [&](std::string_view key, std::vector<std::pair<std::string, std::string>>& out,
                          bool must_be_category) {
      const toml::table* table = names_reader.table(key);
      if (table == nullptr) return;
      for (const auto& [id, node] : *table) {
        const std::string path = join(names_reader.key_path(key), id.str());
        if (!valid_name(id.str())) fail(id.source().begin.line, path, "use lower-case letters, digits, '-' and '_' only");
        if (must_be_category &&
            std::find(workflow.categories.begin(), workflow.categories.end(), id.str()) == workflow.categories.end())
          fail(id.source().begin.line, path, "\"" + std::string(id.str()) + "\" is not one of this workflow's routing.categories");
        std::string name = TableReader::as_string(node, path);
        if (name.find_first_not_of(" \t") == std::string::npos) fail(line_of(node), path, "a display name must not be empty");
        out.emplace_back(std::string(id.str()), std::move(name));
      }
    };
    read_names("categories", workflow.category_names, true);
    read_names("touchpoints", workflow.touchpoint_names, false);
    names_reader.finish();
  }
  // [survey] publish_results: the overall survey results on the public standards page.
  if (const toml::table* survey = reader.table("survey")) {
    TableReader survey_reader(*survey, "survey");
    workflow.publish_survey = survey_reader.boolean_or("publish_results", false);
    survey_reader.finish();
  }
  // [touchpoints.<id>]: name, description and owner team of each touchpoint this workflow describes.
  if (const toml::table* touchpoints = reader.table("touchpoints")) {
    for (const auto& [id, node] : *touchpoints) {
      const std::string path = join("touchpoints", id.str());
      if (!valid_name(id.str())) fail(id.source().begin.line, path, "use lower-case letters, digits, '-' and '_' only");
      TableReader touchpoint_reader(as_table(node, path), path);
      Touchpoint touchpoint;
      touchpoint.key = std::string(id.str());
      touchpoint.name = touchpoint_reader.string("name");
      if (touchpoint.name.find_first_not_of(" \t") == std::string::npos)
        fail(touchpoint_reader.line(), touchpoint_reader.key_path("name"), "a display name must not be empty");
      touchpoint.description = touchpoint_reader.string_or("description", "");
      touchpoint.team = touchpoint_reader.string_or("team", "");
      touchpoint_reader.finish();
      for (const auto& [key, name] : workflow.touchpoint_names)
        if (key == touchpoint.key)
          fail(id.source().begin.line, path, "\"" + touchpoint.key + "\" is named in [names.touchpoints] too: name it once");
      workflow.touchpoint_names.emplace_back(touchpoint.key, touchpoint.name);
      workflow.touchpoint_details.push_back(std::move(touchpoint));
    }
  }
  for (std::size_t i = 0; i < workflow.returns.timely_response.size(); ++i)
    if (workflow.find_clock(workflow.returns.timely_response[i]) == nullptr) {
      const toml::node* node = root.at_path("returns.timely_response").node();
      fail(node ? line_of(*node) : 1, indexed("returns.timely_response", i),
           "no clock named \"" + workflow.returns.timely_response[i] + "\"");
    }
  if (workflow.holding_reply && workflow.find_clock(workflow.holding_reply->clock) == nullptr) {
    const toml::node* node = root.at_path("holding_reply.clock").node();
    fail(node ? line_of(*node) : 1, "holding_reply.clock", "no clock named \"" + workflow.holding_reply->clock + "\"");
  }
  reader.finish();
  return workflow;
}

Error located(std::string_view source, const LoadFailure& failure) {
  std::string detail = std::string(source) + ":" + std::to_string(failure.line) + ": " +
                       (failure.path.empty() ? std::string() : failure.path + ": ") + failure.message;
  return Error::invalid(std::move(detail), {FieldError{failure.path, failure.message}});
}

bool channels_overlap(const Workflow& a, const Workflow& b) {
  if (a.channels.empty() || b.channels.empty()) return true;
  return std::any_of(a.channels.begin(), a.channels.end(), [&](Channel channel) {
    return std::find(b.channels.begin(), b.channels.end(), channel) != b.channels.end();
  });
}

}  // namespace

Result<Workflow> parse_workflow(std::string_view toml_text, std::string_view source_name) {
  try {
    const toml::table root = toml::parse(toml_text, source_name);
    Workflow workflow = read_workflow(root);
    workflow.source = std::string(source_name);
    return workflow;
  } catch (const toml::parse_error& error) {
    return located(source_name,
                   LoadFailure{error.source().begin.line, "", "TOML syntax: " + std::string(error.description())});
  } catch (const LoadFailure& failure) {
    return located(source_name, failure);
  }
}

Result<WorkflowSet> load_workflows(const std::string& directory) {
  namespace fs = std::filesystem;
  std::error_code error;
  std::vector<fs::path> files;
  for (fs::directory_iterator it(directory, error), end; !error && it != end; it.increment(error)) {
    if (it->path().extension() == ".toml" && it->is_regular_file()) files.push_back(it->path());
  }
  if (error) return Error::invalid(directory + ": cannot read the workflows folder: " + error.message());
  if (files.empty()) return Error::invalid(directory + ": no workflow files (*.toml)");
  std::sort(files.begin(), files.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });

  std::vector<Workflow> workflows;
  std::vector<std::string> defaults;
  for (const auto& file : files) {
    const std::string source = file.string();
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in.good() && !in.eof()) return Error::invalid(source + ": cannot read the file");
    auto parsed = parse_workflow(text.str(), source);
    if (!parsed.ok()) return std::move(parsed).take_error();
    Workflow workflow = std::move(parsed).value();
    for (const auto& other : workflows) {
      if (other.name == workflow.name) {
        return Error::invalid_field(
            "name", source + ": workflow name \"" + workflow.name + "\" is also used by " + other.source);
      }
      if (!channels_overlap(other, workflow)) continue;
      for (const auto& category : workflow.categories) {
        if (std::find(other.categories.begin(), other.categories.end(), category) != other.categories.end()) {
          return Error::invalid(source + ": routing.categories: \"" + category + "\" is already routed to " +
                                    other.source + " (categories not listed anywhere go to the default workflow)",
                                {FieldError{"routing.categories", "\"" + category + "\" is already routed"}});
        }
      }
    }
    if (workflow.is_default) defaults.push_back(workflow.name);
    workflows.push_back(std::move(workflow));
  }
  if (defaults.size() != 1) {
    return Error::invalid(
        directory + ": exactly one workflow must say `default = true`; found " + std::to_string(defaults.size()),
        {FieldError{"default", "exactly one workflow must be the default"}});
  }
  return WorkflowSet(std::move(workflows), defaults.front());
}

}  // namespace redress
