// InboundMailStore: the record of every inbound email — one row per distinct raw message (its
// BlobStore key), what the mail intake did with it, and the look-ups threading needs.
//
// A message is claimed before it is processed and finished after: claim_inbound() answers kNew for
// the first arrival, kDuplicate for every later one (an MTA's retry, a second poller), and kNew
// again only when an earlier claim lapsed unfinished (a node died mid-way), so a message is
// processed to the end at least once and recorded once. The claim is one statement, so nodes
// sharing the database cannot both take it.
//
// Implementations (adapters/sqlite, later PostgreSQL) are thread-safe: any thread may call.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/result.h"
#include "engine/time.h"

namespace redress {

struct InboundArrival {
  std::string blob_key;  // the raw message's BlobStore key (the record's identity)
  std::string message_id;
  std::string mailbox;  // the configured mailbox it came through; "" for the default
  std::string from_address;
  std::string subject;
};

struct InboundClaim {
  enum class Kind { kNew, kDuplicate };
  Kind kind = Kind::kNew;
  std::int64_t id = 0;
  std::string disposition;  // kDuplicate: what was done the first time ("pending" while unfinished)
  std::string case_reference;
};

struct InboundRecord {
  std::int64_t id = 0;
  std::string blob_key;
  std::string message_id;
  std::string mailbox;
  std::string from_address;
  std::string subject;
  Time received_at{};
  std::string disposition;  // "pending", or adapters/inbound's Disposition name
  std::string case_reference;
  std::string detail;
  std::string bounced_address;  // for a bounce: the recipient that failed
};

class InboundMailStore {
 public:
  virtual ~InboundMailStore() = default;

  // Claims `arrival` for processing until now + lease (see above).
  [[nodiscard]] virtual Result<InboundClaim> claim_inbound(const InboundArrival& arrival, Time now,
                                                           Duration lease) = 0;
  // Records what was done with a claimed message; it is not claimed again.
  [[nodiscard]] virtual Status finish_inbound(std::int64_t id, const std::string& disposition,
                                              const std::string& case_reference, const std::string& detail,
                                              const std::string& bounced_address) = 0;
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
