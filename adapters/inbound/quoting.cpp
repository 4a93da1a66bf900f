#include "adapters/inbound/quoting.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <vector>

namespace redress::inbound {

namespace {

constexpr std::size_t kMaxAttributionLines = 3;   // Gmail wraps a long attribution at 76 columns
constexpr std::size_t kMaxAttributionBytes = 400;
constexpr std::size_t kOutlookBlockLines = 6;     // From: … then Sent/Date, To, Cc, Subject within these
constexpr std::size_t kMaxMobileSignatureBytes = 100;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  const char* space = " \t\r";
  auto first = s.find_first_not_of(space);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(space) - first + 1);
}

bool blank(std::string_view line) { return trim(line).empty(); }

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

template <std::size_t N>
bool starts_with_any(std::string_view s, const std::array<std::string_view, N>& prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(), [&](std::string_view p) { return starts_with(s, p); });
}

// "> text", also with up to three spaces before the '>'.
bool quote_line(std::string_view line) {
  auto first = line.find_first_not_of(' ');
  return first != std::string_view::npos && first <= 3 && line[first] == '>';
}

// The line lower-cased, trimmed, and without the '*' an HTML <b> becomes in some clients' text.
std::string plain_lower(std::string_view line) {
  std::string out;
  for (char c : trim(line))
    if (c != '*') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The verbs an attribution ends with ("… wrote:").
constexpr std::array<std::string_view, 12> kAttributionVerbs = {
    "wrote:", "wrote :", "schrieb:", "a écrit :", "a écrit:", "escribió:", "schreef:", "ha scritto:", "skrev:",
    "kirjoitti:", "napisał:", "escreveu:"};
// How an attribution opens when it carries the date ("On … wrote:", "Am … schrieb …:").
constexpr std::array<std::string_view, 8> kAttributionOpenings = {"on ", "am ", "le ", "el ", "op ", "il ", "em ",
                                                                  "den "};

struct Attribution {
  std::size_t lines = 0;   // 0: none at this line
  bool dated = false;      // opens with "On …": history follows even without "> " prefixes
};

Attribution attribution_at(const std::vector<std::string_view>& lines, std::size_t i) {
  std::string joined;
  for (std::size_t k = 0; k < kMaxAttributionLines && i + k < lines.size(); ++k) {
    if (blank(lines[i + k]) || quote_line(lines[i + k])) break;
    if (!joined.empty()) joined += ' ';
    joined += plain_lower(lines[i + k]);
    if (joined.size() > kMaxAttributionBytes) break;
    bool dated = starts_with_any(joined, kAttributionOpenings);
    if (k > 0 && !dated) break;  // only a dated attribution is wrapped over lines
    // "schrieb Name:" (German) ends in the name: the verb may be followed by the name.
    bool verb = std::any_of(kAttributionVerbs.begin(), kAttributionVerbs.end(),
                            [&](std::string_view v) { return ends_with(joined, v); }) ||
                (dated && ends_with(joined, ":") && joined.find(" schrieb ") != std::string::npos);
    if (verb) return Attribution{k + 1, dated};
  }
  return {};
}

// "-----Original Message-----" and its translations.
bool original_message_line(std::string_view line) {
  std::string_view t = trim(line);
  if (!starts_with(t, "--")) return false;
  auto first = t.find_first_not_of("- ");
  auto last = t.find_last_not_of("- ");
  if (first == std::string_view::npos) return false;
  std::string words = lower(t.substr(first, last - first + 1));
  constexpr std::array<std::string_view, 7> kWords = {"original message",     "ursprüngliche nachricht",
                                                      "message d'origine",    "mensaje original",
                                                      "oorspronkelijk bericht", "messaggio originale",
                                                      "original meddelelse"};
  return std::find(kWords.begin(), kWords.end(), words) != kWords.end();
}

constexpr std::array<std::string_view, 6> kFromFields = {"from:", "von:", "de:", "de :", "van:", "da:"};
constexpr std::array<std::string_view, 10> kDateFields = {"sent:",    "date:",     "gesendet:", "datum:",
                                                          "envoyé :", "envoyé:",   "enviado:",  "verzonden:",
                                                          "inviato:", "enviada:"};
constexpr std::array<std::string_view, 14> kOtherFields = {
    "to:",      "subject:", "an:",     "betreff:", "à :",        "à:",   "objet :",
    "objet:",   "para:",    "asunto:", "aan:",     "onderwerp:", "cc:",  "oggetto:"};

// Outlook's header block: "From: …" with a date field and a to/subject field in the next lines.
bool outlook_block_at(const std::vector<std::string_view>& lines, std::size_t i) {
  if (!starts_with_any(plain_lower(lines[i]), kFromFields)) return false;
  bool date = false, other = false;
  for (std::size_t k = i + 1; k < lines.size() && k <= i + kOutlookBlockLines; ++k) {
    std::string field = plain_lower(lines[k]);
    date = date || starts_with_any(field, kDateFields);
    other = other || starts_with_any(field, kOtherFields);
  }
  return date && other;
}

// "________________________________", or a line of dashes (an HTML <hr>), above Outlook's block.
bool rule_line(std::string_view line) {
  std::string_view t = trim(line);
  return t.size() >= 4 && (t.find_first_not_of('_') == std::string_view::npos ||
                           t.find_first_not_of('-') == std::string_view::npos);
}

bool signature_separator(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line == "-- " || line == "--";
}

bool mobile_signature(std::string_view line) {
  std::string t = plain_lower(line);
  if (t.empty() || t.size() > kMaxMobileSignatureBytes) return false;
  constexpr std::array<std::string_view, 16> kOpenings = {
      "sent from my ",        "sent from outlook",       "get outlook for ",   "sent from mail for windows",
      "sent from yahoo mail", "sent from samsung",       "sent via the samsung", "sent from proton mail",
      "sent with proton mail", "envoyé de mon ",         "envoyé depuis mon ", "von meinem ",
      "gesendet von meinem ", "enviado desde mi ",       "verstuurd vanaf mijn ", "inviato da "};
  return starts_with_any(t, kOpenings);
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

// Joins the lines with "\n": trailing spaces cut, runs of blank lines made one, none at the ends.
std::string join(const std::vector<std::string_view>& lines) {
  std::string out;
  bool pending_blank = false;
  for (std::string_view line : lines) {
    auto last = line.find_last_not_of(" \t\r");
    if (last == std::string_view::npos) {
      pending_blank = !out.empty();
      continue;
    }
    if (!out.empty()) out += pending_blank ? "\n\n" : "\n";
    pending_blank = false;
    out.append(line.substr(0, last + 1));
  }
  return out;
}

}  // namespace

std::string new_text_of(std::string_view text) {
  std::vector<std::string_view> lines = split_lines(text);
  std::vector<std::string_view> kept;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (quote_line(line)) continue;
    if (original_message_line(line)) break;
    if (outlook_block_at(lines, i)) {
      while (!kept.empty() && (blank(kept.back()) || rule_line(kept.back()))) kept.pop_back();
      break;
    }
    if (Attribution attribution = attribution_at(lines, i); attribution.lines > 0) {
      std::size_t next = i + attribution.lines;
      while (next < lines.size() && blank(lines[next])) ++next;
      if (next < lines.size() && quote_line(lines[next])) {
        i += attribution.lines - 1;  // the quote lines after it are skipped one by one
        continue;
      }
      if (attribution.dated) break;  // unprefixed history below "On … wrote:"
    }
    kept.push_back(line);
  }
  // The signature: from the first separator that follows some text.
  bool text_seen = false;
  for (std::size_t i = 0; i < kept.size(); ++i) {
    if (text_seen && signature_separator(kept[i])) {
      kept.resize(i);
      break;
    }
    text_seen = text_seen || !blank(kept[i]);
  }
  // A mobile signature as the last line.
  while (!kept.empty() && blank(kept.back())) kept.pop_back();
  if (!kept.empty() && mobile_signature(kept.back())) kept.pop_back();
  std::string result = join(kept);
  if (result.empty()) return join(lines);
  return result;
}

}  // namespace redress::inbound
