// InboundMailStore: the record of every inbound email — one row per distinct raw message (its
// BlobStore key), what the mail intake did with it, and the look-ups threading needs.
//
// A record is written once, when the message has been dealt with: in the same transaction as the
// case change it caused (Change::inbound, engine/store.h), or alone by record_inbound() when it
// caused none (ignored mail). Its key is unique, so a second delivery of the same message — an
// MTA's retry, a second poller, both at once — finds the first record and changes nothing. A node
// that dies mid-way has written nothing, and the next delivery deals with the message afresh.
//
// Implementations (adapters/sqlite, adapters/postgres) are thread-safe: any thread may call.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/model.h"
#include "engine/result.h"
#include "engine/time.h"

namespace redress {

enum class Recorded { kNew, kDuplicate };

// A stored record: the receipt as written, with its row id.
struct InboundRecord : InboundReceipt {
  std::int64_t id = 0;
};

class InboundMailStore {
 public:
  virtual ~InboundMailStore() = default;

  // The record of the raw message `blob_key`; nullopt when it has none yet.
  [[nodiscard]] virtual Result<std::optional<InboundRecord>> find_inbound(const std::string& blob_key) = 0;
  // Records a message that changed no case; kDuplicate (and nothing written) when it has a record.
  [[nodiscard]] virtual Result<Recorded> record_inbound(const InboundReceipt& receipt) = 0;
  // How many messages from `address` arrived since `since` (the mail-storm cap).
  [[nodiscard]] virtual Result<std::int64_t> count_inbound_from(const std::string& address, Time since) = 0;
  // The case reference of a notification Redress made (threading by In-Reply-To); kNotFound when none.
  [[nodiscard]] virtual Result<std::string> notification_case(std::int64_t notification_id) = 0;
  // The records of one case ("" for all), newest first, at most `limit`.
  [[nodiscard]] virtual Result<std::vector<InboundRecord>> list_inbound(const std::string& case_reference,
                                                                        int limit) = 0;
  // The open cases that have a bounced address recorded (the board's count).
  [[nodiscard]] virtual Result<std::int64_t> count_open_cases_with_bounces() = 0;
};

}  // namespace redress
