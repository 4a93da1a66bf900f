#include "engine/clocks.h"

#include <boost/json.hpp>

#include <algorithm>
#include <utility>

#include "engine/hash_chain.h"

namespace redress {

namespace json = boost::json;

namespace {

constexpr std::int64_t kStateVersion = 1;

bool same_intervals(const std::vector<TimeInterval>& a, const std::vector<TimeInterval>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const TimeInterval& x, const TimeInterval& y) { return x.begin == y.begin && x.end == y.end; });
}

// Event data is canonical JSON written by the planner; anything unreadable counts as no data.
json::object parse_data(const std::string& text) {
  boost::system::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec || !value.is_object()) return {};
  return std::move(value.as_object());
}

std::string string_field(const json::object& data, std::string_view key) {
  const json::value* value = data.if_contains(key);
  if (!value || !value->is_string()) return {};
  return std::string(value->as_string());
}

bool pauses_on_waiting(const ClockRule& rule) { return rule.pause == PauseRule::kPausesWhileAwaitingClient; }

// Closes a run's open pause at `at`; a pause that ends before it began (it fell wholly before the
// clock started counting) is dropped.
void close_pause(PledgeRun& run, Time at) {
  if (!run.paused()) return;
  run.pauses.back().end = at;
  if (run.pauses.back().end <= run.pauses.back().begin) run.pauses.pop_back();
}

// Times in the state: RFC 3339 strings; Time::max() ("never", an open pause's end) is null.

// A small reader for restore(): records the first problem and returns neutral values after it.
class Reader {
 public:
  const json::value* field(const json::object& object, std::string_view key) {
    const json::value* value = object.if_contains(key);
    if (!value) fail(std::string("missing \"") + std::string(key) + "\"");
    return value;
  }
  std::string string(const json::object& object, std::string_view key) {
    const json::value* value = field(object, key);
    if (value && !value->is_string()) fail(std::string("\"") + std::string(key) + "\" is not a string");
    return value && value->is_string() ? std::string(value->as_string()) : std::string();
  }
  bool boolean(const json::object& object, std::string_view key) {
    const json::value* value = field(object, key);
    if (value && !value->is_bool()) fail(std::string("\"") + std::string(key) + "\" is not a boolean");
    return value && value->is_bool() && value->as_bool();
  }
  std::int64_t integer(const json::object& object, std::string_view key) {
    const json::value* value = field(object, key);
    if (value && !value->is_int64()) fail(std::string("\"") + std::string(key) + "\" is not an integer");
    return value && value->is_int64() ? value->as_int64() : 0;
  }
  // A time, or Time::max() for null.
  Time time(const json::value* value, std::string_view what) {
    if (!value) return Time{};
    if (value->is_null()) return Time::max();
    std::optional<Time> t;
    if (value->is_string()) t = parse_time(value->as_string());
    if (!t) fail(std::string("\"") + std::string(what) + "\" is not a time");
    return t.value_or(Time{});
  }
  Time time(const json::object& object, std::string_view key) { return time(field(object, key), key); }
  std::optional<Time> optional_time(const json::object& object, std::string_view key) {
    const json::value* value = field(object, key);
    if (!value || value->is_null()) return std::nullopt;
    return time(value, key);
  }
  const json::array& array(const json::object& object, std::string_view key) {
    static const json::array empty;
    const json::value* value = field(object, key);
    if (value && !value->is_array()) fail(std::string("\"") + std::string(key) + "\" is not an array");
    return value && value->is_array() ? value->as_array() : empty;
  }
  void fail(std::string problem) {
    if (problem_.empty()) problem_ = std::move(problem);
  }
  [[nodiscard]] const std::string& problem() const { return problem_; }

 private:
  std::string problem_;
};

}  // namespace

std::string PledgeRun::key() const { return workflow + "/" + clock + "#" + std::to_string(run); }

bool operator==(const PledgeRun& a, const PledgeRun& b) {
  return a.workflow == b.workflow && a.clock == b.clock && a.run == b.run && a.text == b.text &&
         a.client_visible == b.client_visible && a.opened_at == b.opened_at && a.started == b.started &&
         same_intervals(a.pauses, b.pauses) && a.due_at == b.due_at && a.warning_times == b.warning_times &&
         a.met_at == b.met_at && a.cancelled_at == b.cancelled_at && a.cancel_reason == b.cancel_reason;
}

ClockFold::ClockFold(const WorkflowSet& workflows, std::string initial_workflow, std::string category)
    : workflows_(&workflows), workflow_(std::move(initial_workflow)), category_(std::move(category)) {}

const Workflow* ClockFold::current_workflow() const { return workflows_->find(workflow_); }

const ClockRule* ClockFold::rule_of(const PledgeRun& run) const {
  const Workflow* workflow = workflows_->find(run.workflow);
  return workflow ? workflow->find_clock(run.clock) : nullptr;
}

void ClockFold::recompute(PledgeRun& run) const {
  const Workflow* workflow = workflows_->find(run.workflow);
  const ClockRule* rule = workflow ? workflow->find_clock(run.clock) : nullptr;
  if (!rule) return;  // an unknown rule: the run keeps its recorded times
  run.due_at = rule->due_at(workflow->calendar, run.started, run.pauses);
  run.warning_times = rule->warning_times(workflow->calendar, run.started, run.pauses);
}

void ClockFold::start_run(const Workflow& workflow, const ClockRule& rule, Time at, std::vector<std::size_t>& changed) {
  PledgeRun run;
  run.workflow = workflow.name;
  run.clock = rule.name;
  run.run = 1 + static_cast<int>(std::count_if(runs_.begin(), runs_.end(), [&](const PledgeRun& r) {
              return r.workflow == workflow.name && r.clock == rule.name;
            }));
  run.text = rule.text;
  run.client_visible = rule.client_visible;
  run.opened_at = at;
  run.started = workflow.clock_start(rule, at);
  // A run that starts while the case awaits the client is paused from the moment it counts from.
  if (paused_since_ && pauses_on_waiting(rule))
    run.pauses.push_back({std::max(*paused_since_, run.started), Time::max()});
  recompute(run);
  runs_.push_back(std::move(run));
  changed.push_back(runs_.size() - 1);
}

void ClockFold::meet(std::size_t index, Time at, std::vector<std::size_t>& changed) {
  PledgeRun& run = runs_[index];
  run.met_at = at;
  close_pause(run, at);
  recompute(run);
  changed.push_back(index);
}

void ClockFold::cancel(std::size_t index, Time at, const std::string& reason, std::vector<std::size_t>& changed) {
  PledgeRun& run = runs_[index];
  run.cancelled_at = at;
  run.cancel_reason = reason;
  close_pause(run, at);
  recompute(run);
  changed.push_back(index);
}

template <typename Pred>
void ClockFold::start_pending(const Workflow& workflow, Time at, Pred eligible, std::vector<std::size_t>& changed) {
  if (resolved_ || ended_) return;
  for (const ClockRule* rule : workflow.clocks_for(category_)) {
    if (!eligible(*rule)) continue;
    const bool started = rule->start == ClockStart::kReceived || rule->start == ClockStart::kRouted ? received_
                         : rule->start == ClockStart::kAcknowledged                                 ? acknowledged_
                                                                                                    : reopened_;
    if (!started) continue;
    if (rule->stop == ClockStop::kAcknowledged && acknowledged_) continue;  // already met
    const bool running = std::any_of(runs_.begin(), runs_.end(), [&](const PledgeRun& r) {
      return r.is_open() && r.workflow == workflow.name && r.clock == rule->name;
    });
    if (!running) start_run(workflow, *rule, at, changed);
  }
}

void ClockFold::client_update(Time at, std::vector<std::size_t>& changed) {
  const std::size_t count = runs_.size();  // runs started below are not met by this update
  for (std::size_t i = 0; i < count; ++i) {
    if (!runs_[i].is_open()) continue;
    const ClockRule* rule = rule_of(runs_[i]);
    if (!rule || rule->stop != ClockStop::kClientUpdate) continue;
    meet(i, at, changed);
    if (rule->recurrence == Recurrence::kRepeatUntilResolved && !resolved_ && !ended_) {
      if (const Workflow* workflow = workflows_->find(runs_[i].workflow)) start_run(*workflow, *rule, at, changed);
    }
  }
}

std::vector<std::size_t> ClockFold::apply(const Event& event) {
  std::vector<std::size_t> changed;
  if (event.seq != 0) {
    if (event.seq <= applied_seq_) return changed;  // already folded
    applied_seq_ = event.seq;
  }
  const Time at = event.at;
  const std::string& type = event.type;

  auto open_indices = [&] {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < runs_.size(); ++i)
      if (runs_[i].is_open()) out.push_back(i);
    return out;
  };
  auto cancel_open = [&](const std::string& reason) {
    for (std::size_t i : open_indices()) cancel(i, at, reason, changed);
  };

  if (type == "case.received") {
    if (received_) return changed;
    const json::object data = parse_data(event.data);
    if (auto name = string_field(data, "workflow"); !name.empty()) workflow_ = std::move(name);
    if (auto category = string_field(data, "category"); !category.empty()) category_ = std::move(category);
    received_ = true;
    // A complaint logged after it reached us (data.received_at) is counted from its receipt.
    Time received_at = at;
    if (auto text = string_field(data, "received_at"); !text.empty())
      if (auto parsed = parse_time(text); parsed && *parsed < at) received_at = *parsed;
    if (const Workflow* workflow = current_workflow()) {
      start_pending(
          *workflow, received_at,
          [](const ClockRule& r) { return r.start == ClockStart::kReceived || r.start == ClockStart::kRouted; },
          changed);
      // A clock that counts from routing counts from when the regulator routed the complaint.
      if (auto routed = parse_time(string_field(data, "routed_at")))
        for (std::size_t index : changed) {
          PledgeRun& run = runs_[index];
          const ClockRule* rule = rule_of(run);
          if (!rule || rule->start != ClockStart::kRouted) continue;
          run.started = *routed;
          recompute(run);
        }
    }

  } else if (type == "case.acknowledged") {
    if (ended_) return changed;
    for (std::size_t i : open_indices()) {
      const ClockRule* rule = rule_of(runs_[i]);
      if (rule && rule->stop == ClockStop::kAcknowledged) meet(i, at, changed);
    }
    acknowledged_ = true;
    if (const Workflow* workflow = current_workflow())
      start_pending(
          *workflow, at, [](const ClockRule& r) { return r.start == ClockStart::kAcknowledged; }, changed);

  } else if (type == "case.info_requested") {
    if (ended_ || resolved_) return changed;
    // The message asking for information is itself an update; it is sent, then the wait begins.
    if (parse_data(event.data).contains("message_id")) client_update(at, changed);
    if (!paused_since_) {
      paused_since_ = at;
      for (std::size_t i : open_indices()) {
        PledgeRun& run = runs_[i];
        const ClockRule* rule = rule_of(run);
        if (!rule || !pauses_on_waiting(*rule) || run.paused()) continue;
        run.pauses.push_back({std::max(at, run.started), Time::max()});
        recompute(run);
        changed.push_back(i);
      }
    }

  } else if (type == "case.client_replied") {
    if (!paused_since_) return changed;
    paused_since_.reset();
    for (std::size_t i : open_indices()) {
      if (!runs_[i].paused()) continue;
      close_pause(runs_[i], at);
      recompute(runs_[i]);
      changed.push_back(i);
    }

  } else if (type == "message.client") {
    if (event.actor != "client") client_update(at, changed);

  } else if (type == "redress.proposed") {
    client_update(at, changed);

  } else if (type == "case.resolved") {
    resolved_ = true;
    reopened_ = false;
    paused_since_.reset();
    for (std::size_t i : open_indices()) meet(i, at, changed);

  } else if (type == "case.reopened") {
    if (ended_) return changed;
    resolved_ = false;
    reopened_ = true;
    if (const Workflow* workflow = current_workflow())
      start_pending(
          *workflow, at,
          [](const ClockRule& r) {
            return r.start == ClockStart::kReopened || r.recurrence == Recurrence::kRepeatUntilResolved;
          },
          changed);

  } else if (type == "case.withdrawn") {
    cancel_open("the case was withdrawn");
    ended_ = true;
    paused_since_.reset();

  } else if (type == "case.closed") {
    cancel_open("the case was closed");
    ended_ = true;
    paused_since_.reset();

  } else if (type == "case.assessed") {
    if (ended_) return changed;
    const json::object data = parse_data(event.data);
    std::string next_workflow = string_field(data, "workflow");
    std::string next_category = string_field(data, "category");
    if (!next_workflow.empty() && next_workflow != workflow_) {
      cancel_open("re-routed to " + next_workflow);
      workflow_ = std::move(next_workflow);
      if (!next_category.empty()) category_ = std::move(next_category);
      if (const Workflow* workflow = current_workflow())
        start_pending(
            *workflow, at, [](const ClockRule&) { return true; }, changed);
    } else if (!next_category.empty() && next_category != category_) {
      const std::string previous = std::exchange(category_, std::move(next_category));
      for (std::size_t i : open_indices()) {
        const ClockRule* rule = rule_of(runs_[i]);
        if (rule && !rule->applies_to(category_)) cancel(i, at, "re-assessed as " + category_, changed);
      }
      if (const Workflow* workflow = current_workflow())
        start_pending(
            *workflow, at, [&](const ClockRule& r) { return !r.applies_to(previous); }, changed);
    }
  }

  std::sort(changed.begin(), changed.end());
  changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
  return changed;
}

bool ClockFold::may_change(const Event& event) {
  // Every type apply() acts on (tests/engine/clocks_test.cpp folds every type the planner writes,
  // in every state of a long history, to check that the others change nothing).
  static constexpr std::string_view kTypes[] = {
      "case.received", "case.acknowledged", "case.info_requested", "case.client_replied", "case.resolved",
      "case.reopened", "case.withdrawn",    "case.closed",         "case.assessed",       "redress.proposed"};
  if (event.type == "message.client") return event.actor != "client";
  return std::find(std::begin(kTypes), std::end(kTypes), event.type) != std::end(kTypes);
}

namespace {

// Appends `text` as a JSON string. The state is our own UTF-8, so only quotes, backslashes and
// control characters need escapes.
void append_string(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20) {
      static const char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    } else {
      out += c;
    }
  }
  out += '"';
}

void append_time(std::string& out, Time t) {
  if (t == Time::max()) {
    out += "null";
    return;
  }
  out += '"';
  out += format_time(t);
  out += '"';
}

void append_time(std::string& out, const std::optional<Time>& t) {
  if (!t)
    out += "null";
  else
    append_time(out, *t);
}

}  // namespace

// Written directly rather than through a JSON tree: every action that moves a clock writes the
// whole state, and building the tree was most of the cost. Keys in a fixed order; restore() reads
// them by name, so states written by the earlier (key-sorted) form read the same.
std::string ClockFold::serialise() const {
  std::string out;
  out.reserve(256 + runs_.size() * 320);
  out += "{\"version\":";
  out += std::to_string(kStateVersion);
  out += ",\"workflow\":";
  append_string(out, workflow_);
  out += ",\"category\":";
  append_string(out, category_);
  out += ",\"applied_seq\":";
  out += std::to_string(applied_seq_);
  auto flag = [&out](const char* key, bool value) {
    out += ",\"";
    out += key;
    out += "\":";
    out += value ? "true" : "false";
  };
  flag("received", received_);
  flag("acknowledged", acknowledged_);
  flag("reopened", reopened_);
  flag("resolved", resolved_);
  flag("ended", ended_);
  out += ",\"paused_since\":";
  append_time(out, paused_since_);
  out += ",\"runs\":[";
  bool first_run = true;
  for (const auto& run : runs_) {
    if (!first_run) out += ',';
    first_run = false;
    out += "{\"workflow\":";
    append_string(out, run.workflow);
    out += ",\"clock\":";
    append_string(out, run.clock);
    out += ",\"run\":";
    out += std::to_string(run.run);
    out += ",\"text\":";
    append_string(out, run.text);
    out += ",\"client_visible\":";
    out += run.client_visible ? "true" : "false";
    out += ",\"opened_at\":";
    append_time(out, run.opened_at);
    out += ",\"started\":";
    append_time(out, run.started);
    out += ",\"pauses\":[";
    for (std::size_t i = 0; i < run.pauses.size(); ++i) {
      if (i) out += ',';
      out += '[';
      append_time(out, run.pauses[i].begin);
      out += ',';
      append_time(out, run.pauses[i].end);
      out += ']';
    }
    out += "],\"due_at\":";
    append_time(out, run.due_at);
    out += ",\"warning_times\":[";
    for (std::size_t i = 0; i < run.warning_times.size(); ++i) {
      if (i) out += ',';
      append_time(out, run.warning_times[i]);
    }
    out += "],\"met_at\":";
    append_time(out, run.met_at);
    out += ",\"cancelled_at\":";
    append_time(out, run.cancelled_at);
    out += ",\"cancel_reason\":";
    append_string(out, run.cancel_reason);
    out += '}';
  }
  out += "]}";
  return out;
}

Result<ClockFold> ClockFold::restore(const WorkflowSet& workflows, std::string_view state) {
  boost::system::error_code ec;
  json::value value = json::parse(state, ec);
  if (ec || !value.is_object()) return Error::invalid("clock state: not a JSON object");
  const json::object& root = value.as_object();
  Reader r;
  if (r.integer(root, "version") != kStateVersion) r.fail("unsupported version");
  ClockFold fold(workflows, r.string(root, "workflow"), r.string(root, "category"));
  fold.applied_seq_ = r.integer(root, "applied_seq");
  fold.received_ = r.boolean(root, "received");
  fold.acknowledged_ = r.boolean(root, "acknowledged");
  fold.reopened_ = r.boolean(root, "reopened");
  fold.resolved_ = r.boolean(root, "resolved");
  fold.ended_ = r.boolean(root, "ended");
  fold.paused_since_ = r.optional_time(root, "paused_since");
  for (const json::value& item : r.array(root, "runs")) {
    if (!item.is_object()) {
      r.fail("a run is not an object");
      break;
    }
    const json::object& o = item.as_object();
    PledgeRun run;
    run.workflow = r.string(o, "workflow");
    run.clock = r.string(o, "clock");
    run.run = static_cast<int>(r.integer(o, "run"));
    run.text = r.string(o, "text");
    run.client_visible = r.boolean(o, "client_visible");
    run.opened_at = r.time(o, "opened_at");
    run.started = r.time(o, "started");
    for (const json::value& p : r.array(o, "pauses")) {
      if (!p.is_array() || p.as_array().size() != 2) {
        r.fail("a pause is not a [begin, end] pair");
        break;
      }
      run.pauses.push_back({r.time(&p.as_array()[0], "pauses"), r.time(&p.as_array()[1], "pauses")});
    }
    run.due_at = r.time(o, "due_at");
    for (const json::value& w : r.array(o, "warning_times")) run.warning_times.push_back(r.time(&w, "warning_times"));
    run.met_at = r.optional_time(o, "met_at");
    run.cancelled_at = r.optional_time(o, "cancelled_at");
    run.cancel_reason = r.string(o, "cancel_reason");
    fold.runs_.push_back(std::move(run));
  }
  if (!r.problem().empty()) return Error::invalid("clock state: " + r.problem());
  return fold;
}

std::vector<PledgeRun> derive_pledges(const WorkflowSet& workflows, const std::vector<Event>& history) {
  ClockFold fold(workflows, workflows.default_name(), std::string());
  for (const Event& event : history) fold.apply(event);
  return fold.runs();
}

}  // namespace redress
