#include "web/pages/case_filter.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <vector>

#include "engine/tags.h"
#include "engine/time.h"
#include "web/pages/html.h"
#include "web/pages/page_support.h"

namespace redress::web {

namespace case_filter_detail {

// Dates are read in the default standard's zone: "from" its midnight, "to" the next midnight.
std::optional<Time> local_midnight(const WorkflowSet& workflows, const std::string& date, int days_after) {
  auto day = parse_date(date);
  if (!day || date.size() != 10) return std::nullopt;
  const auto next = std::chrono::sys_days(*day) + std::chrono::days(days_after);
  const Workflow* workflow = workflows.find(workflows.default_name());
  return parse_local_input(workflow, format_date(std::chrono::year_month_day(next)) + "T00:00");
}

// A saved filter is at most this long: it is a link, not a document.
constexpr std::size_t kMaxViewFilterBytes = 2000;

}  // namespace case_filter_detail

Result<CaseListFilter> read_case_list_filter(const WorkflowSet& workflows, const FilterLookup& value,
                                             const std::string& staff_id) {
  using case_filter_detail::local_midnight;
  CaseListFilter out;
  std::vector<FieldError> errors;
  auto get = [&](const std::string& name) {
    std::string text = value(name).value_or("");
    while (!text.empty() && text.front() == ' ') text.erase(text.begin());
    while (!text.empty() && text.back() == ' ') text.pop_back();
    if (text.size() > 200) {
      errors.push_back(FieldError{name, "must be at most 200 characters"});
      text.clear();
    }
    if (!text.empty()) out.given[name] = text;
    return text;
  };
  out.q = get("q");
  if (std::string status = get("status"); !status.empty()) {
    out.filter.status = parse_CaseStatus(status);
    if (!out.filter.status) errors.push_back(FieldError{"status", "\"" + status + "\" is not a case status"});
  }
  if (std::string owner = get("owner"); !owner.empty()) out.filter.owner_id = owner == "me" ? staff_id : owner;
  out.filter.team = get("team");
  out.filter.workflow = get("workflow");
  if (std::string level = get("level"); !level.empty()) {
    if (level.size() > 2 || level.find_first_not_of("0123456789") != std::string::npos)
      errors.push_back(FieldError{"level", "must be an escalation level, 0 to 20"});
    else
      out.filter.escalation_level = std::stoi(level);
  }
  if (std::string overdue = get("overdue"); !overdue.empty()) {
    if (overdue != "true" && overdue != "on")
      errors.push_back(FieldError{"overdue", "must be true or left out"});
    else {
      out.filter.overdue = true;
      out.given["overdue"] = "true";
    }
  }
  if (std::string tags = get("tag"); !tags.empty()) {
    std::string rest = tags;
    for (char& c : rest)
      if (c == ',') c = ' ';
    for (const auto& word : split_words(rest)) {
      auto tag = normalize_tag(word);
      if (!tag) {
        errors.push_back(FieldError{"tag", "\"" + word + "\" is not a tag: it " + tag.error().detail});
        break;
      }
      insert_sorted(out.filter.tags, *tag);
    }
    out.given["tag"] = join_words(out.filter.tags);
    std::replace(out.given["tag"].begin(), out.given["tag"].end(), ' ', ',');
    if (out.filter.tags.empty()) out.given.erase("tag");
  }
  if (std::string from = get("from"); !from.empty()) {
    out.filter.received_from = local_midnight(workflows, from, 0);
    if (!out.filter.received_from) errors.push_back(FieldError{"from", "must be a date like 2026-03-01"});
  }
  if (std::string to = get("to"); !to.empty()) {
    out.filter.received_to = local_midnight(workflows, to, 1);
    if (!out.filter.received_to) errors.push_back(FieldError{"to", "must be a date like 2026-03-31"});
  }
  if (!errors.empty()) {
    std::string detail = errors.front().field + ": " + errors.front().message;
    return Error::invalid(std::move(detail), std::move(errors));
  }
  return out;
}

std::string canonical_filter_query(const CaseListFilter& filter) {
  std::string query;
  for (const char* name : kCaseFilterParameters)
    if (auto it = filter.given.find(name); it != filter.given.end())
      query += (query.empty() ? "" : "&") + std::string(name) + "=" + form_encode(it->second);
  return query;
}

std::map<std::string, std::string> parse_filter_query(std::string_view text) {
  std::map<std::string, std::string> out;
  while (!text.empty()) {
    auto amp = text.find('&');
    std::string_view pair = text.substr(0, amp);
    auto eq = pair.find('=');
    auto name = form_decode(pair.substr(0, eq));
    auto value = eq == std::string_view::npos ? std::optional<std::string>("") : form_decode(pair.substr(eq + 1));
    if (name && value && !out.contains(*name)) out[*name] = *value;
    if (amp == std::string_view::npos) break;
    text.remove_prefix(amp + 1);
  }
  return out;
}

Result<std::string> checked_view_filter(const WorkflowSet& workflows, std::string_view query,
                                        const std::string& staff_id, const std::string& field) {
  auto refuse = [&](const std::string& why) { return Error::invalid_field(field, why); };
  if (query.size() > case_filter_detail::kMaxViewFilterBytes)
    return refuse("must be at most " + std::to_string(case_filter_detail::kMaxViewFilterBytes) + " characters");
  // Stricter than a page's address, which also carries a cursor or a notice: a saved filter holds
  // the list's parameters only, each once, so what is saved is exactly what the list will apply.
  const std::set<std::string_view> known(std::begin(kCaseFilterParameters), std::end(kCaseFilterParameters));
  // Split and decoded as a form is (percent escapes, UTF-8, the text rules).
  auto form = Form::parse_text(query);
  if (!form) return refuse("is not a valid query string: " + form.error().detail);
  std::map<std::string, std::string> params;
  for (const auto& [name, value] : form->fields()) {
    if (!known.contains(name)) {
      std::string names;
      for (const char* n : kCaseFilterParameters) names += (names.empty() ? "" : ", ") + std::string(n);
      return refuse("\"" + name + "\" is not a filter of the case list (" + names + ")");
    }
    if (!params.emplace(name, value).second) return refuse("\"" + name + "\" is given twice");
  }
  FilterLookup lookup = [&params](const std::string& name) -> std::optional<std::string> {
    auto it = params.find(name);
    if (it == params.end()) return std::nullopt;
    return it->second;
  };
  auto filter = read_case_list_filter(workflows, lookup, staff_id);
  if (!filter) {
    std::string why;
    for (const auto& f : filter.error().fields) why += (why.empty() ? "" : "; ") + f.field + ": " + f.message;
    return refuse(why.empty() ? filter.error().detail : why);
  }
  return canonical_filter_query(*filter);
}

}  // namespace redress::web
