#include "engine/sealing.h"

#include <openssl/rand.h>
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <utility>

#include "engine/hash_chain.h"

namespace redress {

namespace json = boost::json;

namespace {

constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kSaltHex = 2 * kSaltBytes;
constexpr std::size_t kDigestHex = 64;
// A present field's seal is its salt and the first kCheckHex hex digits of its commitment: enough
// to name a field whose value was changed (the chain hash catches any change regardless), at a
// third of the bytes salt and whole digest took. Seals written before keep the whole digest.
constexpr std::size_t kCheckHex = 8;

// Whether a stored seal is a present field's (salt and check, or salt and whole digest).
bool present_seal(std::size_t size) { return size == kSaltHex + kCheckHex || size == kSaltHex + kDigestHex; }

std::atomic<HashRule> g_new_event_rule{HashRule::kSealed};

// Top-level keys whose string values are personal in any event: what a client or staff member
// wrote in their own words, and what names or reaches the client.
bool personal_key(std::string_view key) {
  static constexpr std::string_view kKeys[] = {
      "subject", "description", "remedy_requested", "note",    "body",       "reason",        "comment",
      "final_response", "summary_resolution", "text", "received_reason", "address", "diagnostic", "before",
      "after",   "holding_reply", "original"};
  return std::find(std::begin(kKeys), std::end(kKeys), key) != std::end(kKeys);
}

// Keys of the nested objects that hold personal data, by the key of the object.
bool personal_nested(std::string_view object_key, std::string_view key) {
  if (object_key == "client") return key == "name" || key == "email" || key == "phone";
  if (object_key == "mail")
    return key == "from" || key == "from_name" || key == "subject" || key == "message_id" || key == "original";
  if (object_key == "attachments") return key == "filename";  // of each element
  if (object_key == "offers") return key == "text";           // of each element
  return false;
}

// RFC 6901: "~" is "~0" and "/" is "~1" in a reference token.
void append_token(std::string& pointer, std::string_view token) {
  pointer += '/';
  for (char c : token) {
    if (c == '~')
      pointer += "~0";
    else if (c == '/')
      pointer += "~1";
    else
      pointer += c;
  }
}

template <typename Value>
bool is_sealable(Value& value) {
  return value.is_string() && !value.get_string().empty();
}

// Calls visit(pointer, value) for each personal string field of `data`, in no particular order.
template <typename Object, typename Visit>
void walk_personal(std::string_view type, Object& data, Visit&& visit) {
  const bool message_event = type.starts_with("message.");
  for (auto& member : data) {
    const std::string_view key = member.key();
    auto& value = member.value();
    std::string pointer;
    append_token(pointer, key);
    // "from" of message.accepted and message.rejected is the sender's address; elsewhere a status.
    if (personal_key(key) || (message_event && key == "from")) {
      if (is_sealable(value)) visit(std::move(pointer), value);
      continue;
    }
    if (value.is_object()) {
      for (auto& inner : value.get_object())
        if (personal_nested(key, inner.key()) && is_sealable(inner.value())) {
          std::string path = pointer;
          append_token(path, inner.key());
          visit(std::move(path), inner.value());
        }
    } else if (value.is_array() && (key == "attachments" || key == "offers")) {
      std::size_t index = 0;
      for (auto& element : value.get_array()) {
        if (element.is_object())
          for (auto& inner : element.get_object())
            if (personal_nested(key, inner.key()) && is_sealable(inner.value())) {
              std::string path = pointer + "/" + std::to_string(index);
              append_token(path, inner.key());
              visit(std::move(path), inner.value());
            }
        ++index;
      }
    }
  }
}

std::string hex(const unsigned char* bytes, std::size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * size, '0');
  for (std::size_t i = 0; i < size; ++i) {
    out[2 * i] = kHex[bytes[i] >> 4];
    out[2 * i + 1] = kHex[bytes[i] & 15];
  }
  return out;
}

std::optional<std::string> unhex(std::string_view text) {
  if (text.size() % 2 != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out(text.size() / 2, '\0');
  for (std::size_t i = 0; i < out.size(); ++i) {
    int high = nibble(text[2 * i]), low = nibble(text[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    out[i] = static_cast<char>(high * 16 + low);
  }
  return out;
}

std::string commitment(std::string_view salt_bytes, std::string_view value) {
  std::string input;
  input.reserve(salt_bytes.size() + value.size());
  input.append(salt_bytes);
  input.append(value);
  return sha256_hex(input);
}

// Rule 2's encoding: the envelope and the list of sealed fields in place of the data.
std::string sealed_hash(std::string_view previous_hash, std::string_view case_reference, const Event& event,
                        std::string_view envelope, std::string_view sealed_list) {
  std::string encoding;
  encoding.reserve(160 + envelope.size() + sealed_list.size());
  encoding += "redress-event-v2;";
  append_hash_field(encoding, previous_hash);
  append_hash_field(encoding, case_reference);
  append_hash_field(encoding, std::to_string(event.seq));
  append_hash_field(encoding, event.type);
  append_hash_field(encoding, std::to_string(to_micros(event.at)));
  append_hash_field(encoding, event.actor);
  append_hash_field(encoding, envelope);
  append_hash_field(encoding, sealed_list);
  return sha256_hex(encoding);
}

// Salts from a per-thread pool filled 4 KiB at a time: one call into OpenSSL's generator per 256
// salts rather than one per event.
const unsigned char* fresh_salt() {
  struct Pool {
    unsigned char bytes[4096];
    std::size_t used = sizeof bytes;
  };
  thread_local Pool pool;
  if (pool.used + kSaltBytes > sizeof pool.bytes) {
    if (RAND_bytes(pool.bytes, static_cast<int>(sizeof pool.bytes)) != 1)
      throw std::logic_error("OpenSSL's random generator failed");  // a broken installation, not input
    pool.used = 0;
  }
  const unsigned char* salt = pool.bytes + pool.used;
  pool.used += kSaltBytes;
  return salt;
}

// Writes an event's data as canonical JSON twice in one pass: `plain` as it is, `envelope` with
// each personal field's value replaced by its commitment (the same bytes canonical_json would give
// of the data so changed), and collects the seals. Personal fields as walk_personal names them.
class SealingWriter {
 public:
  SealingWriter(std::string_view type, std::string& plain, std::string& envelope)
      : message_event_(type.starts_with("message.")), plain_(plain), envelope_(envelope) {}

  void top(const json::object& data) {
    // Each member: its key, value, and how to make its pointer (only a sealed field needs it).
    write_object(data, [this](std::string_view key, const json::value& value, const auto& pointer) {
      if (personal_key(key) || (message_event_ && key == "from")) return seal_or_copy(value, pointer);
      if (value.is_object() && (key == "client" || key == "mail"))
        return write_object(value.get_object(), [this, key, &pointer](std::string_view inner, const json::value& v,
                                                                      const auto&) {
          if (!personal_nested(key, inner)) return copy(v);
          seal_or_copy(v, [&] {
            std::string path = pointer();
            append_token(path, inner);
            return path;
          });
        });
      if (value.is_array() && (key == "attachments" || key == "offers")) {
        plain_ += '[';
        envelope_ += '[';
        std::size_t index = 0;
        for (const auto& element : value.get_array()) {
          if (index > 0) {
            plain_ += ',';
            envelope_ += ',';
          }
          const std::size_t position = index++;
          if (!element.is_object()) {
            copy(element);
            continue;
          }
          write_object(element.get_object(), [this, key, &pointer, position](std::string_view inner,
                                                                             const json::value& v, const auto&) {
            if (!personal_nested(key, inner)) return copy(v);
            seal_or_copy(v, [&] {
              std::string path = pointer() + "/" + std::to_string(position);
              append_token(path, inner);
              return path;
            });
          });
        }
        plain_ += ']';
        envelope_ += ']';
        return;
      }
      copy(value);
    });
  }

  // The seals ({"<pointer>": "<salt><digest>"}) and the sealed list (["<pointer>", ...]), canonical.
  void finish(std::string& seals, std::string& sealed_list) {
    std::sort(seals_.begin(), seals_.end());
    seals = "{";
    sealed_list = "[";
    for (std::size_t i = 0; i < seals_.size(); ++i) {
      if (i > 0) {
        seals += ',';
        sealed_list += ',';
      }
      append_json_string(seals_[i].first, seals);
      seals += ':';
      append_json_string(seals_[i].second, seals);
      append_json_string(seals_[i].first, sealed_list);
    }
    seals += '}';
    sealed_list += ']';
  }

 private:
  // Writes `object` with its keys in byte order (as canonical_json sorts them); `member(key, value,
  // pointer)` writes each value, `pointer()` making the member's top-level JSON pointer on demand.
  template <typename Member>
  void write_object(const json::object& object, Member&& member) {
    const json::key_value_pair* small[16];
    std::vector<const json::key_value_pair*> large;
    const json::key_value_pair** members = small;
    if (object.size() > std::size(small)) {
      large.resize(object.size());
      members = large.data();
    }
    std::size_t n = 0;
    for (const auto& m : object) members[n++] = &m;
    std::sort(members, members + n, [](const auto* a, const auto* b) { return a->key() < b->key(); });
    plain_ += '{';
    envelope_ += '{';
    for (std::size_t i = 0; i < n; ++i) {
      if (i > 0) {
        plain_ += ',';
        envelope_ += ',';
      }
      const std::size_t key_at = plain_.size();
      append_json_string(members[i]->key(), plain_);
      plain_ += ':';
      envelope_.append(plain_, key_at, std::string::npos);
      const std::string_view key = members[i]->key();
      member(key, members[i]->value(), [key] {
        std::string path;
        append_token(path, key);
        return path;
      });
    }
    plain_ += '}';
    envelope_ += '}';
  }

  void copy(const json::value& value) {
    const std::size_t at = plain_.size();
    append_canonical_json(value, plain_);
    envelope_.append(plain_, at, std::string::npos);
  }

  template <typename Pointer>
  void seal_or_copy(const json::value& value, const Pointer& pointer) {
    if (!is_sealable(value)) return copy(value);
    const std::string_view text = value.get_string();
    const unsigned char* salt = fresh_salt();
    std::string digest = commitment(std::string_view(reinterpret_cast<const char*>(salt), kSaltBytes), text);
    append_json_string(text, plain_);
    append_json_string(digest, envelope_);
    seals_.emplace_back(pointer(), hex(salt, kSaltBytes) + digest.substr(0, kCheckHex));
  }

  const bool message_event_;
  std::string& plain_;
  std::string& envelope_;
  std::vector<std::pair<std::string, std::string>> seals_;
};

// Seals `data` onto `event` with fresh salts; returns the envelope and the sealed list.
std::pair<std::string, std::string> seal_into(Event& event, const json::object& data) {
  event.hash_rule = HashRule::kSealed;
  std::string plain, envelope, sealed_list;
  plain.reserve(256);
  envelope.reserve(256);
  SealingWriter writer(event.type, plain, envelope);
  writer.top(data);
  writer.finish(event.seals, sealed_list);
  event.data = std::move(plain);
  return {std::move(envelope), std::move(sealed_list)};
}

struct Envelope {
  std::string envelope;
  std::string sealed_list;
  std::string problem;  // set when the seals do not fit the data
};

Envelope envelope_of(const Event& event) {
  Envelope out;
  boost::system::error_code ec;
  json::value data = json::parse(event.data, ec);
  if (ec || !data.is_object()) {
    out.problem = "the event's data is not a JSON object";
    return out;
  }
  // Stored as written: canonical bytes (the envelope is made from the parsed data, so without this
  // a change that parses alike would pass unseen).
  if (canonical_json(data) != event.data) {
    out.problem = "the event's data is not as it was written (not in canonical form)";
    return out;
  }
  json::value seals = json::parse(event.seals.empty() ? std::string_view("{}") : std::string_view(event.seals), ec);
  if (ec || !seals.is_object()) {
    out.problem = "the event's seals are not a JSON object";
    return out;
  }
  std::vector<std::string> paths;
  for (const auto& entry : seals.get_object()) paths.emplace_back(entry.key());
  std::sort(paths.begin(), paths.end());
  json::array sealed;
  for (const auto& path : paths) {
    const json::value& entry = seals.get_object().at(path);
    json::value* value = data.find_pointer(path, ec);
    if (!entry.is_string() || value == nullptr || !value->is_string()) {
      out.problem = "the sealed field " + path + " is missing";
      return out;
    }
    std::string_view stored = entry.get_string();
    std::string digest;
    if (present_seal(stored.size())) {
      auto salt = unhex(stored.substr(0, kSaltHex));
      if (salt) digest = commitment(*salt, value->get_string());
      if (!salt || !digest.starts_with(stored.substr(kSaltHex))) {
        out.problem = "the field " + path + " does not match its sealed commitment";
        return out;
      }
    } else if (stored.size() == kDigestHex) {
      // Withdrawn: its value must say so, so that nothing can stand in for the erased value.
      if (value->get_string() != kErasedValue && value->get_string() != kRedactedValue) {
        out.problem = "the withdrawn field " + path + " holds a value";
        return out;
      }
      digest = std::string(stored);
    } else {
      out.problem = "the seal of " + path + " is malformed";
      return out;
    }
    *value = json::string(std::move(digest));
    sealed.push_back(json::string(path));
  }
  out.envelope = canonical_json(data);
  out.sealed_list = canonical_json(sealed);
  return out;
}

}  // namespace

std::vector<std::string> personal_paths(std::string_view type, const json::object& data) {
  std::vector<std::string> paths;
  walk_personal(type, data, [&paths](std::string pointer, const json::value&) { paths.push_back(std::move(pointer)); });
  std::sort(paths.begin(), paths.end());
  return paths;
}

HashRule new_event_rule() { return g_new_event_rule.load(std::memory_order_relaxed); }
void set_new_event_rule_for_benchmark(HashRule rule) { g_new_event_rule.store(rule, std::memory_order_relaxed); }

void seal_event(Event& event, const json::object& data) { (void)seal_into(event, data); }

std::string seal_and_chain(Event& event, const json::object& data, std::string_view previous_hash,
                           std::string_view case_reference) {
  auto [envelope, sealed_list] = seal_into(event, data);
  event.hash = sealed_hash(previous_hash, case_reference, event, envelope, sealed_list);
  return event.hash;
}

std::string sealed_chain_hash(std::string_view previous_hash, std::string_view case_reference, const Event& event) {
  Envelope e = envelope_of(event);
  if (!e.problem.empty()) return {};
  return sealed_hash(previous_hash, case_reference, event, e.envelope, e.sealed_list);
}

std::optional<std::string> link_problem(std::string_view previous_hash, std::string_view case_reference,
                                        const Event& event) {
  if (event.hash_rule == HashRule::kWhole) {
    if (chain_hash(previous_hash, case_reference, event) == event.hash) return std::nullopt;
    return "the hash does not match the event's content or the previous link";
  }
  Envelope e = envelope_of(event);
  if (!e.problem.empty()) return e.problem;
  if (sealed_hash(previous_hash, case_reference, event, e.envelope, e.sealed_list) == event.hash) return std::nullopt;
  return "the hash does not match the event's content or the previous link";
}

void reseal_whole_event(Event& event) {
  boost::system::error_code ec;
  json::value data = json::parse(event.data, ec);
  json::object object = (!ec && data.is_object()) ? std::move(data.get_object()) : json::object{};
  (void)seal_into(event, object);
}

Status withdraw_field(Event& event, std::string_view path, std::string_view marker) {
  if (event.hash_rule != HashRule::kSealed) return Error::invalid("the event is not sealed");
  boost::system::error_code ec;
  json::value seals = json::parse(event.seals, ec);
  if (ec || !seals.is_object()) return Error::internal("the event's seals are not a JSON object");
  json::value* entry = seals.get_object().if_contains(path);
  if (entry == nullptr || !entry->is_string())
    return Error::not_found("event " + std::to_string(event.seq) + " has no personal field " + std::string(path));
  std::string_view stored = entry->get_string();
  if (stored.size() == kDigestHex) return Status::success();  // withdrawn already
  if (!present_seal(stored.size())) return Error::internal("the seal of " + std::string(path) + " is malformed");
  json::value data = json::parse(event.data, ec);
  if (ec || !data.is_object()) return Error::internal("the event's data is not a JSON object");
  json::value* value = data.find_pointer(path, ec);
  if (value == nullptr || !value->is_string()) return Error::internal("the sealed field " + std::string(path) + " is missing");
  auto salt = unhex(stored.substr(0, kSaltHex));
  if (!salt) return Error::internal("the seal of " + std::string(path) + " is malformed");
  // What stays in the envelope once the value and its salt are gone: the whole commitment.
  std::string digest = commitment(*salt, value->get_string());
  *value = json::string(marker);
  *entry = json::string(std::move(digest));
  event.data = canonical_json(data);
  event.seals = canonical_json(seals);
  return Status::success();
}

int withdraw_all_fields(Event& event, std::string_view marker) {
  if (event.hash_rule != HashRule::kSealed) return 0;
  boost::system::error_code ec;
  json::value seals = json::parse(event.seals, ec);
  if (ec || !seals.is_object()) return 0;
  json::value data = json::parse(event.data, ec);
  if (ec || !data.is_object()) return 0;
  int withdrawn = 0;
  for (auto& entry : seals.get_object()) {
    if (!entry.value().is_string() || !present_seal(entry.value().get_string().size())) continue;
    json::value* value = data.find_pointer(entry.key(), ec);
    if (value == nullptr || !value->is_string()) continue;  // verification reports it
    auto salt = unhex(entry.value().get_string().subview(0, kSaltHex));
    if (!salt) continue;  // verification reports it
    std::string digest = commitment(*salt, value->get_string());
    *value = json::string(marker);
    entry.value() = json::string(std::move(digest));
    ++withdrawn;
  }
  if (withdrawn == 0) return 0;
  event.data = canonical_json(data);
  event.seals = canonical_json(seals);
  return withdrawn;
}

std::vector<SealedField> sealed_fields(const Event& event) {
  std::vector<SealedField> fields;
  if (event.hash_rule != HashRule::kSealed) return fields;
  boost::system::error_code ec;
  json::value seals = json::parse(event.seals, ec);
  if (ec || !seals.is_object()) return fields;
  for (const auto& entry : seals.get_object())
    fields.push_back(
        SealedField{std::string(entry.key()), entry.value().is_string() && entry.value().get_string().size() == kDigestHex});
  std::sort(fields.begin(), fields.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  return fields;
}

}  // namespace redress
