#include "adapters/mail/mime.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdio>

namespace redress::mail {

namespace {

constexpr std::size_t kMaxEncodedWord = 75;                // RFC 2047 section 2
constexpr std::size_t kEncodedLine = 76;                   // a line holding encoded-words (RFC 2047 section 2)
constexpr std::size_t kFoldAt = 78;                        // RFC 5322 2.1.1: SHOULD
constexpr std::size_t kMaxLine = 998;                      // RFC 5322 2.1.1: MUST
constexpr std::size_t kQpLine = 76;                        // RFC 2045 6.7 (5)
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
constexpr char kHex[] = "0123456789ABCDEF";
constexpr char kLowerHex[] = "0123456789abcdef";

// The length of the valid UTF-8 sequence at the start of `s`, or 0 when it is not one (overlong
// forms, surrogates and code points past U+10FFFF are invalid).
std::size_t utf8_sequence(std::string_view s) {
  auto byte = [&s](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char b0 = byte(0);
  if (b0 < 0x80) return 1;
  std::size_t length = 0;
  std::uint32_t code = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    length = 2;
    code = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    length = 3;
    code = b0 & 0x0F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    length = 4;
    code = b0 & 0x07;
  } else
    return 0;
  if (s.size() < length) return 0;
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return 0;
    code = (code << 6) | (byte(i) & 0x3F);
  }
  if (length == 3 && (code < 0x800 || (code >= 0xD800 && code <= 0xDFFF))) return 0;
  if (length == 4 && (code < 0x10000 || code > 0x10FFFF)) return 0;
  return length;
}

// The characters of `text`, each one whole UTF-8 sequence; invalid bytes become U+FFFD.
std::vector<std::string_view> utf8_characters(std::string_view text) {
  std::vector<std::string_view> out;
  out.reserve(text.size());
  while (!text.empty()) {
    std::size_t n = utf8_sequence(text);
    if (n == 0) {
      out.push_back(kReplacement);
      text.remove_prefix(1);
    } else {
      out.push_back(text.substr(0, n));
      text.remove_prefix(n);
    }
  }
  return out;
}

std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (auto c : utf8_characters(text)) out += c;
  return out;
}

bool has_line_break(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

// Runs of spaces and tabs become one space; leading and trailing ones go.
std::string collapse_whitespace(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

constexpr std::size_t kMaxPlainRun = kFoldAt - 12;

// Text that may go into a header as it is: printable ASCII and spaces, no "=?" that a reader could
// take for an encoded-word, and no run without spaces too long to fold. The first run shares its
// line with the header name, so it may have to be shorter (`first_run_max`).
bool plain_header_text(std::string_view s, std::size_t first_run_max = kMaxPlainRun) {
  std::size_t run = 0;
  std::size_t limit = std::min(first_run_max, kMaxPlainRun);
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == ' ') {
      run = 0;
      limit = kMaxPlainRun;
      continue;
    }
    if (c < 0x21 || c > 0x7E) return false;
    if (c == '=' && i + 1 < s.size() && s[i + 1] == '?') return false;
    if (++run > limit) return false;
  }
  return true;
}

// RFC 2047 5 (3): the characters a Q-encoded word may carry as they are in any context.
bool q_literal(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '!' || c == '*' ||
         c == '+' || c == '-' || c == '/';
}

std::size_t q_length(std::string_view bytes) {
  std::size_t n = 0;
  for (char c : bytes) n += (q_literal(static_cast<unsigned char>(c)) || c == ' ') ? 1 : 3;
  return n;
}

void q_append(std::string& out, std::string_view bytes) {
  for (char ch : bytes) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (q_literal(c))
      out += ch;
    else if (c == ' ')
      out += '_';
    else {
      out += '=';
      out += kHex[c >> 4];
      out += kHex[c & 0x0F];
    }
  }
}

std::size_t b_length(std::size_t bytes) { return 4 * ((bytes + 2) / 3); }

void b_append(std::string& out, std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::size_t i = 0;
  auto at = [&bytes](std::size_t k) { return static_cast<unsigned char>(bytes[k]); };
  for (; i + 3 <= bytes.size(); i += 3) {
    std::uint32_t v = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (bytes.size() - i == 1) {
    std::uint32_t v = at(i) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (bytes.size() - i == 2) {
    std::uint32_t v = (at(i) << 16) | (at(i + 1) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
}

// Whether a header's value has quoted-strings (structured: mailboxes, parameters) or not
// (unstructured: Subject, where '"' is just a character).
enum class Quotes { kStructured, kUnstructured };

// A header line "Name: value", folded at the spaces of `value` that lie outside quoted strings so
// that lines stay within `limit` where a token allows. Empty when a line would exceed 998.
std::string fold_header(std::string_view name, std::string_view value, std::size_t limit,
                        Quotes quotes = Quotes::kStructured) {
  std::vector<std::string_view> tokens;
  bool quoted = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (quoted && c == '\\') {
      ++i;
    } else if (c == '"' && quotes == Quotes::kStructured) {
      quoted = !quoted;
    } else if (c == ' ' && !quoted) {
      tokens.push_back(value.substr(start, i - start));
      start = i + 1;
    }
  }
  tokens.push_back(value.substr(start));

  std::string out(name);
  out += ':';
  std::size_t line = out.size();
  bool first = true;
  for (auto token : tokens) {
    if (first || line + 1 + token.size() <= limit) {
      out += ' ';
      line += 1 + token.size();
    } else {
      if (line > kMaxLine) return {};
      out += "\r\n ";
      line = 1 + token.size();
    }
    out += token;
    first = false;
  }
  if (line > kMaxLine) return {};
  out += "\r\n";
  return out;
}

// The room for the first encoded-word on the line "Name: ".
std::size_t first_word_room(std::string_view name) {
  return name.size() + 2 < kEncodedLine ? kEncodedLine - name.size() - 2 : 0;
}

// An unstructured header (Subject, extra headers): plain text as it is, or encoded-words.
std::string unstructured_header(std::string_view name, std::string_view text) {
  std::string value = collapse_whitespace(valid_utf8(text));
  // The first word stays on the line "Name: word", which must fit in 78 characters.
  std::size_t first_room = name.size() + 2 < kFoldAt ? kFoldAt - name.size() - 2 : 0;
  if (plain_header_text(value, first_room)) return fold_header(name, value, kFoldAt, Quotes::kUnstructured);
  return fold_header(name, encode_header_word(value, first_word_room(name)), kEncodedLine, Quotes::kUnstructured);
}

bool atext(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(static_cast<char>(c)) != std::string_view::npos;
}

// The encoded-words of encode_header_word, always (even for text that could stay as it is).
std::string encoded_words(std::string_view text, std::size_t first_word_max);

// "Name <address>", or the bare address when there is no name.
std::string mailbox(const MailAddress& who, std::string_view header_name) {
  std::string name = collapse_whitespace(valid_utf8(who.name));
  if (name.empty()) return who.address;
  std::string phrase = encode_display_name(name);
  if (phrase.rfind("=?", 0) == 0) phrase = encoded_words(name, first_word_room(header_name));
  return phrase + " <" + who.address + ">";
}

std::string mailbox_header(std::string_view name, const MailAddress& who) {
  std::string value = mailbox(who, name);
  bool encoded = value.find("=?") != std::string::npos;
  return fold_header(name, value, encoded ? kEncodedLine : kFoldAt);
}

bool valid_address(std::string_view address) {
  auto at = address.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == address.size() ||
      address.find('@', at + 1) != std::string_view::npos)
    return false;
  if (address.size() > 254) return false;
  for (char ch : address) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c < 0x21 || c > 0x7E) return false;
    if (std::string_view("<>()[],;:\"\\").find(ch) != std::string_view::npos) return false;
  }
  return true;
}

bool valid_message_id(std::string_view id) {
  if (id.size() < 5 || id.size() > 250 || id.front() != '<' || id.back() != '>') return false;
  std::string_view inner = id.substr(1, id.size() - 2);
  auto at = inner.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == inner.size() ||
      inner.find('@', at + 1) != std::string_view::npos)
    return false;
  for (char ch : inner) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c < 0x21 || c > 0x7E || ch == '<' || ch == '>' || ch == '"' || ch == '\\' || ch == '(' || ch == ')' ||
        ch == ',' || ch == ';' || ch == ':' || ch == '[' || ch == ']')
      return false;
  }
  return true;
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// The headers compose() writes itself (and those it never writes: a notification has one recipient).
bool reserved_header(std::string_view name) {
  static constexpr std::array<std::string_view, 17> kReserved = {"Date",
                                                                 "From",
                                                                 "Sender",
                                                                 "Reply-To",
                                                                 "To",
                                                                 "Cc",
                                                                 "Bcc",
                                                                 "Subject",
                                                                 "Message-ID",
                                                                 "In-Reply-To",
                                                                 "References",
                                                                 "MIME-Version",
                                                                 "Content-Type",
                                                                 "Content-Transfer-Encoding",
                                                                 "Content-Disposition",
                                                                 "Return-Path",
                                                                 "Received"};
  for (auto r : kReserved)
    if (equals_ignore_case(r, name)) return true;
  return false;
}

bool valid_header_name(std::string_view name) {
  if (name.empty() || name.size() > 76) return false;
  for (char ch : name) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c < 0x21 || c > 0x7E || ch == ':') return false;
  }
  return true;
}

// Quoted-printable (RFC 2045 6.7) of UTF-8 text with CRLF line ends; ends with CRLF. "From " at the
// start of a written line (a soft break starts one too) is encoded, so an mbox along the way cannot
// alter it.
std::string quoted_printable(std::string_view text) {
  std::string source = valid_utf8(text);
  std::string out;
  out.reserve(source.size() + source.size() / 8 + 16);
  std::string_view rest = source;
  while (true) {
    std::size_t end = rest.find_first_of("\r\n");
    std::string_view line = rest.substr(0, end);
    std::size_t column = 0;
    for (std::size_t i = 0; i < line.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(line[i]);
      bool last = i + 1 == line.size();
      bool literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last);
      std::size_t width = literal ? 1 : 3;
      // Room for the soft break's "=" unless this is the line's last unit.
      std::size_t room = last ? kQpLine : kQpLine - 1;
      if (column + width > room) {
        out += "=\r\n";
        column = 0;
      }
      // At the start of every written line, after a soft break too.
      if (column == 0 && literal && line.substr(i, 5) == "From ") {
        literal = false;
        width = 3;
      }
      if (literal) {
        out += static_cast<char>(c);
      } else {
        out += '=';
        out += kHex[c >> 4];
        out += kHex[c & 0x0F];
      }
      column += width;
    }
    if (end == std::string_view::npos) {
      if (!line.empty()) out += "\r\n";
      break;
    }
    out += "\r\n";
    std::size_t skip = (rest[end] == '\r' && end + 1 < rest.size() && rest[end + 1] == '\n') ? 2 : 1;
    rest.remove_prefix(end + skip);
    if (rest.empty()) break;
  }
  return out;
}

std::string hex_sha256(std::string_view data) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  std::string out;
  for (unsigned char b : digest) {
    out += kLowerHex[b >> 4];
    out += kLowerHex[b & 0x0F];
  }
  return out;
}

constexpr std::string_view kTextPartHeaders =
    "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n";
constexpr std::string_view kHtmlPartHeaders =
    "Content-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n";

// Base64 (RFC 2045 6.8) in lines of 76 characters, each ending in CRLF.
std::string base64_lines(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve(bytes.size() * 4 / 3 + bytes.size() / 57 * 2 + 8);
  std::size_t column = 0;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[n & 63] : '=';
    column += 4;
    if (column == 76) {
      out += "\r\n";
      column = 0;
    }
  }
  if (column > 0) out += "\r\n";
  return out;
}

// A media type as sent in Content-Type: "type/subtype" of RFC 2045 token characters, lower case;
// anything else is application/octet-stream.
std::string media_type(std::string_view type) {
  auto token_char = [](unsigned char c) {
    return c > 0x20 && c < 0x7f &&
           std::string_view("()<>@,;:\\\"/[]?=").find(static_cast<char>(c)) == std::string_view::npos;
  };
  auto slash = type.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == type.size() || type.size() > 100)
    return "application/octet-stream";
  std::string out;
  for (std::size_t i = 0; i < type.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(type[i]);
    if (i != slash && !token_char(c)) return "application/octet-stream";
    out += static_cast<char>(std::tolower(c));
  }
  return out;
}

}  // namespace

std::string encode_header_word(std::string_view text, std::size_t first_word_max) {
  if (plain_header_text(text, first_word_max) && text.find("  ") == std::string_view::npos) return std::string(text);
  return encoded_words(text, first_word_max);
}

namespace {

std::string encoded_words(std::string_view text, std::size_t first_word_max) {
  auto characters = utf8_characters(text);
  std::string all;
  for (auto c : characters) all += c;

  constexpr std::string_view kQ = "=?UTF-8?Q?";
  constexpr std::string_view kB = "=?UTF-8?B?";
  constexpr std::size_t kOverhead = 12;  // "=?UTF-8?Q?" and "?="
  // Q reads better for mostly-ASCII text; B is chosen once Q would be more than 25% longer.
  bool use_q = (kOverhead + q_length(all)) * 4 <= (kOverhead + b_length(all.size())) * 5;
  first_word_max = std::min(std::max<std::size_t>(first_word_max, kOverhead + 12), kMaxEncodedWord);

  std::string out;
  std::string word_bytes;
  std::size_t limit = first_word_max;
  auto encoded_size = [&](std::string_view bytes) {
    return kOverhead + (use_q ? q_length(bytes) : b_length(bytes.size()));
  };
  auto flush = [&]() {
    if (word_bytes.empty()) return;
    if (!out.empty()) out += ' ';
    out += use_q ? kQ : kB;
    if (use_q)
      q_append(out, word_bytes);
    else
      b_append(out, word_bytes);
    out += "?=";
    word_bytes.clear();
    limit = kMaxEncodedWord;
  };
  for (auto c : characters) {
    std::string candidate = word_bytes;
    candidate += c;
    if (!word_bytes.empty() && encoded_size(candidate) > limit) flush();
    word_bytes += c;
  }
  flush();
  return out;
}

}  // namespace

std::string encode_display_name(std::string_view name) {
  std::string text = collapse_whitespace(valid_utf8(name));
  bool ascii = true, atoms = !text.empty();
  for (char ch : text) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c > 0x7E)
      ascii = false;
    else if (c != ' ' && !atext(c))
      atoms = false;
  }
  if (!ascii || text.find("=?") != std::string::npos) return encode_header_word(text);
  if (atoms) return text.size() > 60 ? encode_header_word(text) : text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  quoted += '"';
  // Specials never go unquoted (a comma would split the mailbox). A quoted-string cannot be folded
  // where it has no space, so a long one (escapes counted) becomes encoded-words instead.
  if (quoted.size() > 62) return encoded_words(text, kMaxEncodedWord);
  return quoted;
}

std::string rfc5322_date(Time t) {
  using namespace std::chrono;
  auto seconds = floor<std::chrono::seconds>(t);
  auto day = floor<days>(seconds);
  year_month_day ymd{day};
  weekday wd{day};
  hh_mm_ss<std::chrono::seconds> hms{seconds - day};
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%s, %02u %s %04d %02d:%02d:%02d +0000", kDays[wd.c_encoding()],
                static_cast<unsigned>(ymd.day()), kMonths[static_cast<unsigned>(ymd.month()) - 1],
                static_cast<int>(ymd.year()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
  return buffer;
}

std::string attachment_disposition(std::string_view filename) {
  std::string name = valid_utf8(filename);
  if (name.empty()) name = "attachment";
  // A short printable ASCII name goes as a quoted-string; any other only as RFC 2231 sections (a
  // fallback `filename` beside them is the same parameter twice to strict parsers).
  bool plain = name.size() <= 60;
  for (unsigned char c : name) plain = plain && c >= 0x20 && c < 0x7f;
  if (plain) {
    std::string quoted;
    for (char c : name) {
      if (c == '"' || c == '\\') quoted += '\\';
      quoted += c;
    }
    return "Content-Disposition: attachment;\r\n filename=\"" + quoted + "\"\r\n";
  }
  // The UTF-8 bytes percent-encoded where not attribute-chars, split into numbered sections at
  // character boundaries so that no line passes 78 characters.
  constexpr std::size_t kSection = 54;
  std::vector<std::string> sections{""};
  for (std::string_view character : utf8_characters(name)) {
    std::string encoded;
    for (unsigned char c : character) {
      bool literal = c < 0x80 && (std::isalnum(c) || std::string_view("!#$&+-.^_`|~").find(static_cast<char>(c)) !=
                                                         std::string_view::npos);
      if (literal) {
        encoded += static_cast<char>(c);
      } else {
        encoded += '%';
        encoded += kHex[c >> 4];
        encoded += kHex[c & 0x0F];
      }
    }
    if (sections.back().size() + encoded.size() > kSection) sections.emplace_back();
    sections.back() += encoded;
  }
  std::string out = "Content-Disposition: attachment";
  for (std::size_t i = 0; i < sections.size(); ++i)
    out += ";\r\n filename*" + std::to_string(i) + "*=" + (i == 0 ? "UTF-8''" : "") + sections[i];
  return out + "\r\n";
}

Result<OutgoingMail> compose(const MailContent& content) {
  // Refuse before anything is written: a line break in a header input could inject headers.
  auto check_text = [](std::string_view field, std::string_view value) -> Status {
    if (has_line_break(value)) return Error::invalid_field(std::string(field), "must not contain a line break");
    return Status::success();
  };
  auto check_mailbox = [&](std::string_view field, const MailAddress& who) -> Status {
    if (auto s = check_text(std::string(field) + ".name", who.name); !s) return s;
    if (!valid_address(who.address))
      return Error::invalid_field(std::string(field) + ".address",
                                  "must be a bare ASCII address like name@example.org");
    return Status::success();
  };
  auto check_id = [](std::string_view field, std::string_view id) -> Status {
    if (!valid_message_id(id))
      return Error::invalid_field(std::string(field), "must be a message id like <left@right>");
    return Status::success();
  };
  if (auto s = check_mailbox("from", content.from); !s) return s.error();
  if (content.reply_to)
    if (auto s = check_mailbox("reply_to", *content.reply_to); !s) return s.error();
  if (auto s = check_mailbox("to", content.to); !s) return s.error();
  if (auto s = check_text("subject", content.subject); !s) return s.error();
  if (auto s = check_id("message_id", content.message_id); !s) return s.error();
  if (!content.in_reply_to.empty())
    if (auto s = check_id("in_reply_to", content.in_reply_to); !s) return s.error();
  for (const auto& id : content.references)
    if (auto s = check_id("references", id); !s) return s.error();
  for (const auto& [name, value] : content.headers) {
    if (!valid_header_name(name) || reserved_header(name))
      return Error::invalid_field("headers", "\"" + valid_utf8(name) + "\" is not a header name compose() accepts");
    if (auto s = check_text("headers." + name, value); !s) return s.error();
  }

  std::string data;
  data.reserve(1024 + content.text.size() * 11 / 10 + content.html.size() * 11 / 10);
  auto add = [&data](const std::string& line) {
    if (line.empty()) return false;
    data += line;
    return true;
  };
  bool ok = add("Date: " + rfc5322_date(content.date) + "\r\n");
  ok = ok && add(mailbox_header("From", content.from));
  if (content.reply_to) ok = ok && add(mailbox_header("Reply-To", *content.reply_to));
  ok = ok && add(mailbox_header("To", content.to));
  ok = ok && add(unstructured_header("Subject", content.subject));
  data += "Message-ID: " + content.message_id + "\r\n";
  if (!content.in_reply_to.empty()) data += "In-Reply-To: " + content.in_reply_to + "\r\n";
  if (!content.references.empty()) {
    std::string ids;
    for (const auto& id : content.references) ids += (ids.empty() ? "" : " ") + id;
    ok = ok && add(fold_header("References", ids, kFoldAt));
  }
  data += "MIME-Version: 1.0\r\n";
  for (const auto& [name, value] : content.headers) ok = ok && add(unstructured_header(name, value));
  if (!ok) return Error::invalid("a header would be longer than 998 characters");

  // With files: a multipart/mixed whose first part is the body as it would be alone.
  const std::string mixed = "=_m" + hex_sha256(content.message_id).substr(0, 32);
  if (!content.attachments.empty()) {
    data += fold_header("Content-Type", "multipart/mixed; boundary=\"" + mixed + "\"", kFoldAt);
    data += "\r\n";
    data += "--" + mixed + "\r\n";
  }
  if (content.html.empty()) {
    data += kTextPartHeaders;
    data += "\r\n";
    data += quoted_printable(content.text);
  } else {
    // "=_" never occurs in quoted-printable text, so the boundary cannot collide with a part.
    std::string boundary = "=_" + hex_sha256(content.message_id).substr(0, 32);
    data += fold_header("Content-Type", "multipart/alternative; boundary=\"" + boundary + "\"", kFoldAt);
    data += "\r\n";
    data += "--" + boundary + "\r\n";
    data += kTextPartHeaders;
    data += "\r\n";
    // The CRLF before a delimiter belongs to the delimiter: one more keeps each part's last line end.
    data += quoted_printable(content.text);
    data += "\r\n--" + boundary + "\r\n";
    data += kHtmlPartHeaders;
    data += "\r\n";
    data += quoted_printable(content.html);
    data += "\r\n--" + boundary + "--\r\n";
  }
  for (const auto& file : content.attachments) {
    // "=_" never occurs in base64 or quoted-printable, so the boundary cannot collide with a part.
    data += "\r\n--" + mixed + "\r\n";
    data += "Content-Type: " + media_type(file.content_type) + "\r\n";
    data += attachment_disposition(file.filename);
    data += "Content-Transfer-Encoding: base64\r\n\r\n";
    data += base64_lines(file.bytes);
  }
  if (!content.attachments.empty()) data += "\r\n--" + mixed + "--\r\n";

  OutgoingMail mail;
  mail.message_id = content.message_id;
  mail.envelope_from = content.from.address;
  mail.recipients.push_back(content.to.address);
  mail.data = std::move(data);
  return mail;
}

std::string thread_root_id(std::string_view reference, std::string_view domain) {
  return "<" + std::string(reference) + "@" + std::string(domain) + ">";
}

std::string notification_message_id(std::int64_t notification_id, std::string_view reference, std::string_view domain) {
  return "<n-" + std::to_string(notification_id) + "." + std::string(reference) + "@" + std::string(domain) + ">";
}

std::string subject_with_reference(std::string_view reference, std::string_view subject) {
  std::string tag = "[" + std::string(reference) + "]";
  if (subject.find(tag) != std::string_view::npos) return std::string(subject);
  if (subject.empty()) return tag;
  return tag + " " + std::string(subject);
}

void thread_into_case(MailContent& content, std::int64_t notification_id, std::string_view reference,
                      std::string_view domain) {
  content.message_id = notification_message_id(notification_id, reference, domain);
  content.in_reply_to = thread_root_id(reference, domain);
  content.references = {content.in_reply_to};
  content.subject = subject_with_reference(reference, content.subject);
}

}  // namespace redress::mail
