#include "engine/hash_chain.h"

#include <boost/json/serialize.hpp>
#include <sodium.h>

#include <algorithm>
#include <vector>

namespace redress {

namespace {

void write_canonical(const boost::json::value& value, std::string& out) {
  switch (value.kind()) {
    case boost::json::kind::object: {
      const auto& object = value.get_object();
      std::vector<const boost::json::key_value_pair*> members;
      members.reserve(object.size());
      for (const auto& member : object) members.push_back(&member);
      std::sort(members.begin(), members.end(),
                [](const auto* a, const auto* b) { return a->key() < b->key(); });
      out += '{';
      bool first = true;
      for (const auto* member : members) {
        if (!first) out += ',';
        first = false;
        out += boost::json::serialize(boost::json::string(member->key()));
        out += ':';
        write_canonical(member->value(), out);
      }
      out += '}';
      return;
    }
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& element : value.get_array()) {
        if (!first) out += ',';
        first = false;
        write_canonical(element, out);
      }
      out += ']';
      return;
    }
    default:
      out += boost::json::serialize(value);
  }
}

void append_field(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
  out += ';';
}

}  // namespace

std::string canonical_json(const boost::json::value& value) {
  std::string out;
  write_canonical(value, out);
  return out;
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(2 * sizeof digest, '0');
  for (std::size_t i = 0; i < sizeof digest; ++i) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 15];
  }
  return hex;
}

std::string chain_hash(std::string_view previous_hash, std::string_view case_reference, const Event& event) {
  std::string encoding;
  encoding.reserve(128 + event.data.size());
  encoding += "redress-event-v1;";
  append_field(encoding, previous_hash);
  append_field(encoding, case_reference);
  append_field(encoding, std::to_string(event.seq));
  append_field(encoding, event.type);
  append_field(encoding, std::to_string(to_micros(event.at)));
  append_field(encoding, event.actor);
  append_field(encoding, event.data);
  return sha256_hex(encoding);
}

}  // namespace redress
