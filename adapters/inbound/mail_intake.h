// MailIntake: the one pipeline every inbound email goes through, however it arrived
// (POST /v1/inbound/email, `redress mailgate`, an IMAP mailbox the server polls).
//
// take_message() stores the raw bytes first, then parses, classifies and threads the message and
// acts on the case it belongs to (or opens one). Taking the same message twice (same Message-ID
// and bytes: an MTA retry, a second poller) is answered kDuplicate and changes nothing.
// Implementations are thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "engine/result.h"

namespace redress::inbound {

enum class Disposition {
  kOpenedCase,  // a new case was opened from it
  kThreaded,    // added to its case as a client message
  kHeld,        // threaded to a case but from another address: held for staff to accept or reject
  kBounce,      // a delivery report: the failing recipient was marked on its case
  kIgnored,     // auto-reply, bulk, list or loop mail: kept, never answered, opens nothing
  kDuplicate,   // already taken
};
[[nodiscard]] std::string_view to_string(Disposition disposition);

struct IntakeOutcome {
  Disposition disposition = Disposition::kIgnored;
  std::string reference;  // the case it opened or reached; empty when none
  std::string detail;     // a sentence for logs and the mailgate's output
  std::string blob_key;   // the stored raw message
};

class MailIntake {
 public:
  virtual ~MailIntake() = default;
  // `mailbox` names the configured mailbox whose routing defaults apply ("" for the default).
  // Errors: kInvalid when the bytes are not a message (the MTA should not retry: exit 65),
  // kUnavailable when storage cannot take it now (retry later: exit 75).
  [[nodiscard]] virtual Result<IntakeOutcome> take_message(std::string_view raw, const std::string& mailbox) = 0;
};

}  // namespace redress::inbound
