// Text helpers for the fuzz targets' properties: independent re-implementations of what the
// code under test promises (strict UTF-8, U+FFFD replacement, whitespace collapsing, RFC 2047
// and quoted-printable decoding), so a target compares against a second opinion, not itself.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace redress::fuzz {

// The length of the valid UTF-8 sequence at the start of `s` (no overlong forms, surrogates or
// code points past U+10FFFF), or 0.
inline std::size_t utf8_length(std::string_view s) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(0);
  std::size_t n = c < 0x80                   ? 1
                  : (c >= 0xC2 && c <= 0xDF) ? 2
                  : (c >= 0xE0 && c <= 0xEF) ? 3
                  : (c >= 0xF0 && c <= 0xF4) ? 4
                                             : 0;
  if (n == 0 || n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((b(k) & 0xC0) != 0x80) return 0;
  if (c == 0xE0 && b(1) < 0xA0) return 0;
  if (c == 0xED && b(1) >= 0xA0) return 0;
  if (c == 0xF0 && b(1) < 0x90) return 0;
  if (c == 0xF4 && b(1) >= 0x90) return 0;
  return n;
}

inline bool strict_utf8(std::string_view s) {
  while (!s.empty()) {
    std::size_t n = utf8_length(s);
    if (n == 0) return false;
    s.remove_prefix(n);
  }
  return true;
}

// Each byte that does not start a valid sequence becomes U+FFFD.
inline std::string replace_invalid_utf8(std::string_view s) {
  std::string out;
  while (!s.empty()) {
    std::size_t n = utf8_length(s);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      s.remove_prefix(1);
    } else {
      out += s.substr(0, n);
      s.remove_prefix(n);
    }
  }
  return out;
}

// Runs of spaces and tabs become one space; leading and trailing ones go.
inline std::string collapse_whitespace(std::string_view s) {
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] == ' ' || s[i] == '\t') {
      while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
      if (!out.empty() && i < s.size()) out += ' ';
      continue;
    }
    out += s[i++];
  }
  return out;
}

inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;  // lower case is not what an encoder should write
}

inline bool phrase_safe(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!*+-/").find(c) != std::string_view::npos;
}

// One RFC 2047 encoded-word in UTF-8 ("=?UTF-8?Q?...?=" or B); nullopt when malformed.
inline std::optional<std::string> decode_encoded_word(std::string_view word) {
  if (word.size() < 12 || word.substr(0, 8) != "=?UTF-8?" || word.substr(word.size() - 2) != "?=" || word[9] != '?')
    return std::nullopt;
  char encoding = word[8];
  std::string_view payload = word.substr(10, word.size() - 12);
  std::string out;
  if (encoding == 'Q') {
    for (std::size_t i = 0; i < payload.size(); ++i) {
      char c = payload[i];
      if (c == '_')
        out += ' ';
      else if (c == '=') {
        if (i + 2 >= payload.size()) return std::nullopt;
        int hi = hex_value(payload[i + 1]), lo = hex_value(payload[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
      } else if (phrase_safe(c)) {
        out += c;
      } else {
        return std::nullopt;  // RFC 2047 5 (3): only these may stand for themselves in a phrase
      }
    }
    return out;
  }
  if (encoding != 'B' || payload.size() % 4 != 0) return std::nullopt;
  static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < payload.size(); ++i) {
    if (payload[i] == '=') {
      if (i + 2 < payload.size()) return std::nullopt;
      break;
    }
    auto v = kAlphabet.find(payload[i]);
    if (v == std::string_view::npos) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

// Quoted-printable (RFC 2045 6.7) back to bytes; nullopt when malformed.
inline std::optional<std::string> decode_quoted_printable(std::string_view qp) {
  std::string out;
  for (std::size_t i = 0; i < qp.size(); ++i) {
    char c = qp[i];
    if (c != '=') {
      out += c;
      continue;
    }
    if (qp.substr(i + 1, 2) == "\r\n") {
      i += 2;
      continue;
    }
    if (i + 2 >= qp.size()) return std::nullopt;
    int hi = hex_value(qp[i + 1]), lo = hex_value(qp[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// Splits at every `separator`; always at least one part.
inline std::vector<std::string_view> split(std::string_view s, std::string_view separator) {
  std::vector<std::string_view> parts;
  while (true) {
    auto at = s.find(separator);
    if (at == std::string_view::npos) break;
    parts.push_back(s.substr(0, at));
    s.remove_prefix(at + separator.size());
  }
  parts.push_back(s);
  return parts;
}

}  // namespace redress::fuzz
