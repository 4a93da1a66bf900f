#include "engine/tags.h"

#include <algorithm>

namespace redress {

Result<std::string> normalize_tag(std::string_view text) {
  if (text.empty()) return Error::invalid("must not be empty");
  if (text.size() > kMaxTagLength)
    return Error::invalid("must be at most " + std::to_string(kMaxTagLength) + " characters");
  std::string tag;
  tag.reserve(text.size());
  for (char c : text) {
    char lower = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    const bool word = (lower >= 'a' && lower <= 'z') || (lower >= '0' && lower <= '9');
    if (!word && !(lower == '-' || lower == '_'))
      return Error::invalid("may hold only letters a-z, digits, '-' and '_' (\"" + std::string(text) +
                            "\" does not)");
    if (tag.empty() && !word) return Error::invalid("must start with a letter or a digit");
    tag += lower;
  }
  return tag;
}

std::string join_words(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  while (!text.empty()) {
    auto space = text.find(' ');
    if (space != 0) words.emplace_back(text.substr(0, space));
    if (space == std::string_view::npos) break;
    text.remove_prefix(space + 1);
  }
  return words;
}

bool insert_sorted(std::vector<std::string>& words, const std::string& word) {
  auto at = std::lower_bound(words.begin(), words.end(), word);
  if (at != words.end() && *at == word) return false;
  words.insert(at, word);
  return true;
}

bool erase_sorted(std::vector<std::string>& words, const std::string& word) {
  auto at = std::lower_bound(words.begin(), words.end(), word);
  if (at == words.end() || *at != word) return false;
  words.erase(at);
  return true;
}

bool contains_sorted(const std::vector<std::string>& words, const std::string& word) {
  return std::binary_search(words.begin(), words.end(), word);
}

}  // namespace redress
