// CaseSearch: finding cases by what someone remembers of them - part of a reference, words of the
// subject, the client's name or email - among the cases a CaseFilter admits.
//
// A search finds exactly the cases whose reference, subject, client name or client email contain
// the text (case-insensitively for ASCII), newest first, in pages like CaseReader::list_cases; how
// it gets there is the backend's (SQLite: a trigram index in a file of its own, with the cases not
// yet indexed always among the candidates, so a case is found the moment it is committed).
//
// Thread-safe: any thread may search.
#pragma once

#include <string>

#include "engine/result.h"
#include "ports/case_reader.h"

namespace redress {

class CaseSearch {
 public:
  virtual ~CaseSearch() = default;
  // The cases matching `text` (not empty) among those `filter` admits, newest first, at most
  // `limit`; `cursor` is the page's next_cursor, as for list_cases.
  [[nodiscard]] virtual Result<CasePage> search_cases(const std::string& text, const CaseFilter& filter,
                                                      const std::string& cursor, int limit) = 0;
};

}  // namespace redress
