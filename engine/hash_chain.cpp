#include "engine/hash_chain.h"

#include "engine/sealing.h"

#include <openssl/evp.h>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace redress {

namespace {

// A JSON string literal, escaped exactly as boost::json::serialize escapes one (the stored data
// of older events must re-encode to the same bytes): `"` and `\` with a backslash, the control
// characters as \b \f \n \r \t or \u00XX (lower-case hex), every other byte as it is.
void write_json_string(std::string_view text, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t run = 0;  // start of the bytes not yet copied
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text.data() + run, i - run);
    run = i + 1;
    out += '\\';
    switch (c) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '\b': out += 'b'; break;
      case '\f': out += 'f'; break;
      case '\n': out += 'n'; break;
      case '\r': out += 'r'; break;
      case '\t': out += 't'; break;
      default:
        out += "u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
  }
  out.append(text.data() + run, text.size() - run);
  out += '"';
}

void write_canonical(const boost::json::value& value, std::string& out) {
  switch (value.kind()) {
    case boost::json::kind::object: {
      const auto& object = value.get_object();
      // Most objects are small: sort pointers on the stack.
      const boost::json::key_value_pair* small[16];
      std::vector<const boost::json::key_value_pair*> large;
      const boost::json::key_value_pair** members = small;
      if (object.size() > std::size(small)) {
        large.resize(object.size());
        members = large.data();
      }
      std::size_t n = 0;
      for (const auto& member : object) members[n++] = &member;
      std::sort(members, members + n, [](const auto* a, const auto* b) { return a->key() < b->key(); });
      out += '{';
      for (std::size_t i = 0; i < n; ++i) {
        if (i > 0) out += ',';
        write_json_string(members[i]->key(), out);
        out += ':';
        write_canonical(members[i]->value(), out);
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
    case boost::json::kind::string: write_json_string(value.get_string(), out); return;
    case boost::json::kind::bool_: out += value.get_bool() ? "true" : "false"; return;
    case boost::json::kind::null: out += "null"; return;
    case boost::json::kind::int64: out += std::to_string(value.get_int64()); return;
    case boost::json::kind::uint64: out += std::to_string(value.get_uint64()); return;
    default:  // doubles: boost's own shortest form
      out += boost::json::serialize(value);
  }
}

}  // namespace

void append_hash_field(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
  out += ';';
}

std::string canonical_json(const boost::json::value& value) {
  std::string out;
  write_canonical(value, out);
  return out;
}

void append_canonical_json(const boost::json::value& value, std::string& out) { write_canonical(value, out); }
void append_json_string(std::string_view text, std::string& out) { write_json_string(text, out); }

std::string sha256_hex(std::string_view bytes) {
  // OpenSSL's SHA-256 uses the CPU's SHA extensions where it has them (about five times
  // libsodium's portable code on this project's machines). One fetched algorithm for the process;
  // one context per thread, reused.
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  struct Context {
    EVP_MD_CTX* context = EVP_MD_CTX_new();
    Context() = default;
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;
    ~Context() { EVP_MD_CTX_free(context); }
  };
  thread_local Context local;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (kSha256 == nullptr || local.context == nullptr || EVP_DigestInit_ex(local.context, kSha256, nullptr) != 1 ||
      EVP_DigestUpdate(local.context, bytes.data(), bytes.size()) != 1 ||
      EVP_DigestFinal_ex(local.context, digest, &length) != 1 || length != 32)
    throw std::logic_error("OpenSSL's SHA-256 is unavailable");  // a broken installation, not input
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(2 * length, '0');
  for (std::size_t i = 0; i < length; ++i) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 15];
  }
  return hex;
}

std::string chain_hash(std::string_view previous_hash, std::string_view case_reference, const Event& event) {
  if (event.hash_rule == HashRule::kSealed) return sealed_chain_hash(previous_hash, case_reference, event);
  std::string encoding;
  encoding.reserve(128 + event.data.size());
  encoding += "redress-event-v1;";
  append_hash_field(encoding, previous_hash);
  append_hash_field(encoding, case_reference);
  append_hash_field(encoding, std::to_string(event.seq));
  append_hash_field(encoding, event.type);
  append_hash_field(encoding, std::to_string(to_micros(event.at)));
  append_hash_field(encoding, event.actor);
  append_hash_field(encoding, event.data);
  return sha256_hex(encoding);
}

}  // namespace redress
