#include <algorithm>
#include <cctype>
#include <cstdio>
#include <string>
#include <vector>

#include "adapters/mail/mime.h"
#include "tests/fuzz/targets.h"
#include "tests/fuzz/text.h"

namespace redress::fuzz {

namespace {

// Input: fields separated by NUL bytes, missing ones empty:
//   subject, from name, to name, text body, html body, extra header value, first-word room (one byte), reference
enum Field { kSubject, kFromName, kToName, kText, kHtml, kExtra, kRoom, kReference, kFieldCount };

constexpr std::size_t kMaxWord = 75;

std::string decode_words(std::string_view value, std::size_t first_max);

// RFC 5322 atext: what a display name may hold unquoted (with spaces between atoms).
bool atoms_only(std::string_view s) {
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == ' ' ||
          std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos))
      return false;
  return true;
}

// A phrase as encode_display_name writes it decodes to `expected`: a quoted-string, encoded-words,
// or atoms (never specials unquoted, which could split the mailbox).
void check_phrase(std::string_view phrase, const std::string& expected) {
  if (!phrase.empty() && phrase.front() == '"') {
    FUZZ_CHECK(phrase.size() >= 2 && phrase.back() == '"');
    std::string unquoted;
    for (std::size_t i = 1; i + 1 < phrase.size(); ++i) {
      if (phrase[i] == '\\')
        ++i;
      else
        FUZZ_CHECK(phrase[i] != '"');
      unquoted += phrase[i];
    }
    FUZZ_CHECK(unquoted == expected);
  } else if (phrase.rfind("=?", 0) == 0) {
    FUZZ_CHECK(decode_words(phrase, kMaxWord) == expected);
  } else {
    FUZZ_CHECK(atoms_only(phrase));
    FUZZ_CHECK(phrase == expected);
  }
}

bool has_line_break(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

// The text an RFC 2047-aware reader sees in an unstructured value written by encode_header_word:
// the value itself, or the concatenated decoded words. Checks every word on the way.
std::string decode_words(std::string_view value, std::size_t first_max) {
  if (value.find("=?") == std::string_view::npos) return std::string(value);
  std::string out;
  bool first = true;
  for (auto word : split(value, " ")) {
    FUZZ_CHECK(word.size() <= (first ? first_max : kMaxWord));
    auto decoded = decode_encoded_word(word);
    FUZZ_CHECK(decoded.has_value());
    // No word splits a UTF-8 sequence.
    FUZZ_CHECK(strict_utf8(*decoded));
    out += *decoded;
    first = false;
  }
  return out;
}

void check_header_word(std::string_view text, std::size_t first_word_max) {
  std::string encoded = mail::encode_header_word(text, first_word_max);
  for (char c : encoded) FUZZ_CHECK(c >= 0x20 && c < 0x7F);
  if (encoded == text) return;  // plain ASCII passes as it is
  std::size_t first_max = std::min(std::max<std::size_t>(first_word_max, 24), kMaxWord);
  FUZZ_CHECK(decode_words(encoded, first_max) == replace_invalid_utf8(text));
}

void check_display_name(std::string_view name) {
  std::string phrase = mail::encode_display_name(name);
  for (char c : phrase) FUZZ_CHECK(c >= 0x20 && c < 0x7F);
  check_phrase(phrase, collapse_whitespace(replace_invalid_utf8(name)));
}

// Text as quoted_printable() should carry it: valid UTF-8, CRLF line ends, a final line end.
std::string expected_body(std::string_view text) {
  std::string source = replace_invalid_utf8(text);
  std::string out;
  for (std::size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
      out += "\r\n";
    } else if (source[i] == '\n') {
      out += "\r\n";
    } else {
      out += source[i];
    }
  }
  if (!out.empty() && (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0)) out += "\r\n";
  return out;
}

void check_quoted_printable(std::string_view part, std::string_view text) {
  // Lines of at most 76 characters, none ending in white space, none starting with "From ".
  auto lines = split(part, "\r\n");
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    auto line = lines[i];
    FUZZ_CHECK(line.size() <= 76);
    FUZZ_CHECK(line.empty() || (line.back() != ' ' && line.back() != '\t'));
    FUZZ_CHECK(line.substr(0, 5) != "From ");
    for (char c : line) FUZZ_CHECK(c == ' ' || c == '\t' || (c > 0x20 && c < 0x7F));
  }
  FUZZ_CHECK(lines.back().empty());  // ends with CRLF (or is empty)
  auto decoded = decode_quoted_printable(part);
  FUZZ_CHECK(decoded.has_value());
  FUZZ_CHECK(*decoded == expected_body(text));
}

// The header named `name` (first occurrence), unfolded.
std::optional<std::string> header(std::string_view headers, std::string_view name) {
  std::string key = "\r\n" + std::string(name) + ": ";
  std::string all = "\r\n" + std::string(headers);
  auto at = all.find(key);
  if (at == std::string::npos) return std::nullopt;
  std::string value;
  std::size_t i = at + key.size();
  while (i < all.size()) {
    auto end = all.find("\r\n", i);
    value += all.substr(i, end - i);
    i = end + 2;
    if (i >= all.size() || all[i] != ' ') break;  // a folded line goes on with a space
  }
  return value;
}

void check_compose(const std::vector<std::string>& f) {
  mail::MailContent content;
  content.from = {f[kFromName], "complaints@redress.example"};
  content.reply_to = mail::MailAddress{f[kToName], "team@redress.example"};
  content.to = {f[kToName], "jo@example.org"};
  content.subject = mail::subject_with_reference("CMP-2026-000042", f[kSubject]);
  content.text = f[kText];
  content.html = f[kHtml];
  mail::thread_into_case(content, 42, "CMP-2026-000042", "redress.example");
  content.headers = {{"X-Redress-Case", f[kExtra]}, {"Auto-Submitted", "auto-generated"}};
  content.date = Time{} + std::chrono::seconds(1772442000);

  auto mail = mail::compose(content);
  bool injected = has_line_break(content.from.name) || has_line_break(content.to.name) ||
                  has_line_break(content.subject) || has_line_break(f[kExtra]);
  if (injected) {
    FUZZ_CHECK(!mail && mail.error().code == ErrorCode::kInvalid);
    return;
  }
  FUZZ_CHECK(mail.ok());
  const std::string& data = mail->data;

  // Every line ends in CRLF: no bare CR or LF anywhere, no line over 998 characters.
  for (std::size_t i = 0; i < data.size(); ++i) {
    if (data[i] == '\r') FUZZ_CHECK(i + 1 < data.size() && data[i + 1] == '\n');
    if (data[i] == '\n') FUZZ_CHECK(i > 0 && data[i - 1] == '\r');
  }
  FUZZ_CHECK(data.size() >= 2 && data.substr(data.size() - 2) == "\r\n");
  auto end = data.find("\r\n\r\n");
  FUZZ_CHECK(end != std::string::npos);
  std::string_view headers = std::string_view(data).substr(0, end + 2);
  std::string_view body = std::string_view(data).substr(end + 4);
  for (auto line : split(data, "\r\n")) FUZZ_CHECK(line.size() <= 998);

  // Header lines: printable ASCII, folded at 78; a continuation starts with a space, and only
  // the fixed headers above, in order, exist (nothing injected).
  std::vector<std::string> names;
  for (auto line : split(headers.substr(0, headers.size() - 2), "\r\n")) {
    if (line.size() > 78)
      std::fprintf(stderr, "header line of %zu: %.*s\n", line.size(), static_cast<int>(line.size()), line.data());
    FUZZ_CHECK(line.size() <= 78);
    for (char c : line) FUZZ_CHECK(c >= 0x20 && c < 0x7F);
    if (line.front() == ' ') continue;
    auto colon = line.find(": ");
    FUZZ_CHECK(colon != std::string_view::npos);
    names.emplace_back(line.substr(0, colon));
  }
  std::vector<std::string> expected_names{"Date",         "From",           "Reply-To",      "To",
                                          "Subject",      "Message-ID",     "In-Reply-To",   "References",
                                          "MIME-Version", "X-Redress-Case", "Auto-Submitted"};
  expected_names.push_back("Content-Type");
  if (content.html.empty()) expected_names.push_back("Content-Transfer-Encoding");
  FUZZ_CHECK(names == expected_names);

  // What a reader decodes is what was given.
  auto subject = header(headers, "Subject");
  FUZZ_CHECK(subject && decode_words(*subject, kMaxWord) == collapse_whitespace(replace_invalid_utf8(content.subject)));
  auto extra = header(headers, "X-Redress-Case");
  FUZZ_CHECK(extra && decode_words(*extra, kMaxWord) == collapse_whitespace(replace_invalid_utf8(f[kExtra])));
  auto from = header(headers, "From");
  FUZZ_CHECK(from.has_value());
  std::string from_name = collapse_whitespace(replace_invalid_utf8(content.from.name));
  if (from_name.empty()) {
    FUZZ_CHECK(*from == "complaints@redress.example");
  } else {
    std::string suffix = " <complaints@redress.example>";
    FUZZ_CHECK(from->size() > suffix.size() && from->substr(from->size() - suffix.size()) == suffix);
    check_phrase(from->substr(0, from->size() - suffix.size()), from_name);
  }

  // The body: one quoted-printable part, or two between boundaries that occur nowhere else.
  if (content.html.empty()) {
    check_quoted_printable(body, content.text);
    return;
  }
  auto type = header(headers, "Content-Type");
  FUZZ_CHECK(type.has_value());
  auto quote = type->find("boundary=\"");
  FUZZ_CHECK(quote != std::string::npos);
  std::string boundary = type->substr(quote + 10, type->size() - quote - 11);
  auto parts = split(body, "--" + boundary);
  FUZZ_CHECK(parts.size() == 4);
  FUZZ_CHECK(parts[0].empty() && parts[3] == "--\r\n");
  std::string text_part_head =
      "\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n";
  std::string html_part_head =
      "\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n";
  FUZZ_CHECK(parts[1].substr(0, text_part_head.size()) == text_part_head);
  FUZZ_CHECK(parts[2].substr(0, html_part_head.size()) == html_part_head);
  // The CRLF before a delimiter belongs to the delimiter.
  auto text_part = parts[1].substr(text_part_head.size());
  auto html_part = parts[2].substr(html_part_head.size());
  FUZZ_CHECK(text_part.size() >= 2 && html_part.size() >= 2);
  check_quoted_printable(text_part.substr(0, text_part.size() - 2), content.text);
  check_quoted_printable(html_part.substr(0, html_part.size() - 2), content.html);
}

}  // namespace

int mime(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> f;
  for (auto part : split(input, std::string_view("\0", 1))) f.emplace_back(part);
  f.resize(std::max<std::size_t>(f.size(), kFieldCount));
  std::size_t room = f[kRoom].empty() ? 75 : static_cast<unsigned char>(f[kRoom][0]);

  check_header_word(f[kSubject], room);
  check_header_word(f[kFromName], 75);
  check_display_name(f[kFromName]);
  check_display_name(f[kToName]);

  std::string reference = f[kReference].empty() ? "CMP-2026-000042" : f[kReference];
  std::string tagged = mail::subject_with_reference(reference, f[kSubject]);
  std::string tag = "[" + reference + "]";
  FUZZ_CHECK(tagged.find(tag) != std::string::npos);
  if (f[kSubject].find(tag) == std::string::npos)
    FUZZ_CHECK(tagged == (f[kSubject].empty() ? tag : tag + " " + f[kSubject]));
  else
    FUZZ_CHECK(tagged == f[kSubject]);

  check_compose(f);
  return 0;
}

}  // namespace redress::fuzz
