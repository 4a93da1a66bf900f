// MailboxStateStore: where each polled IMAP mailbox was left — its UIDVALIDITY and the last UID
// taken — so that a poller (adapters/inbound/imap_poller.h), in this process or another, goes on
// from there and takes each message once.
//
// Implementations (adapters/sqlite) are thread-safe, and several processes on one database share
// the positions. Writers are kept to one per mailbox by the poller's lease (CaseStore).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "engine/result.h"
#include "engine/store.h"  // LeaseFence

namespace redress {

struct MailboxPosition {
  std::int64_t uidvalidity = 0;  // the mailbox's UIDVALIDITY when last_uid was taken
  std::int64_t last_uid = 0;     // every message with a UID up to this one was taken
};

class MailboxStateStore {
 public:
  virtual ~MailboxStateStore() = default;
  // nullopt for a mailbox never polled.
  [[nodiscard]] virtual Result<std::optional<MailboxPosition>> mailbox_position(const std::string& mailbox) = 0;
  [[nodiscard]] virtual Status set_mailbox_position(const std::string& mailbox, const MailboxPosition& position) = 0;
  // The same, written only while `fence` (the poller's lease on the mailbox) is current at `now`:
  // kConflict, with nothing written, once another poller took the lease over, so that a poller that
  // stalled past its lease never writes the position back under its successor's.
  [[nodiscard]] virtual Status set_mailbox_position_fenced(const std::string& mailbox, const MailboxPosition& position,
                                                           const LeaseFence& fence, Time now) = 0;
};

}  // namespace redress
