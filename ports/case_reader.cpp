#include "ports/case_reader.h"

namespace redress {

CaseViewStamp stamp_of(const CaseView& view) {
  return CaseViewStamp{view.snapshot.record.version, view.owner ? view.owner->name : std::string(),
                       view.client_link_nonce.value_or(std::string()), view.privacy.state};
}

}  // namespace redress
