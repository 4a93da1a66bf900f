// Tags and case links (issue 27): staff's labels on cases, and the words a case row keeps them in.
//
// A tag is 1 to 40 characters of lowercase ASCII letters, digits, '-' and '_', starting with a
// letter or a digit ("vip", "billing-error", "q3_review"). Input is lowercased first, so "VIP" is
// the tag "vip"; anything else (spaces, accents, punctuation) is refused, so that a tag reads the
// same in a URL, a CSV column and a report. A case carries at most kMaxTagsPerCase tags and
// kMaxLinksPerCase links. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "engine/result.h"

namespace redress {

inline constexpr std::size_t kMaxTagLength = 40;
inline constexpr std::size_t kMaxTagsPerCase = 30;
inline constexpr std::size_t kMaxLinksPerCase = 50;
// How many tags one request may add or remove at once.
inline constexpr std::size_t kMaxTagsPerRequest = 20;

// The tag `text` names (lowercased), or why it is not one, as a sentence ("must be ...").
[[nodiscard]] Result<std::string> normalize_tag(std::string_view text);

// The stored form of a sorted list of words (tags, references): joined by single spaces.
[[nodiscard]] std::string join_words(const std::vector<std::string>& words);
// The words of a stored list, in order; "" is none.
[[nodiscard]] std::vector<std::string> split_words(std::string_view text);

// Inserts `word` into the sorted `words` (true) unless it is there already (false).
bool insert_sorted(std::vector<std::string>& words, const std::string& word);
// Removes `word` from the sorted `words` (true) unless it is not there (false).
bool erase_sorted(std::vector<std::string>& words, const std::string& word);
[[nodiscard]] bool contains_sorted(const std::vector<std::string>& words, const std::string& word);

}  // namespace redress
