// SessionRecords: the PostgreSQL store's SessionStore (failed sign-ins per email, kept in lower
// case, and staff sessions), MailboxStateStore (where each polled mailbox was left) and
// InboundMailStore (each distinct raw message recorded once, whichever node met it), on pooled
// connections. Every decision two nodes could race on is one statement (an upsert with RETURNING),
// so concurrent failures, claims and positions from several nodes each count once.
//
// Thread-safe: the pool lends each call its own connection.
#pragma once

#include "adapters/postgres/connection_pool.h"
#include "ports/inbound_mail_store.h"
#include "ports/mailbox_state.h"
#include "ports/session_store.h"

namespace redress::postgres {

// Inserts an inbound email's record on the connection's open transaction: true when written, false
// when the raw message has a record already (its key is unique: another node may have just taken it).
[[nodiscard]] Result<bool> insert_inbound_receipt(Connection& db, const InboundReceipt& receipt);

class SessionRecords {
 public:
  explicit SessionRecords(ConnectionPool& pool) : pool_(pool) {}

  [[nodiscard]] Result<SignInGate> sign_in_gate(const std::string& email, Time now);
  [[nodiscard]] Result<SignInGate> record_sign_in_failure(const std::string& email, Time now, int max_failures,
                                                          Duration window, Duration lockout);
  [[nodiscard]] Status clear_sign_in_failures(const std::string& email);
  [[nodiscard]] Status create_session(const StaffSession& session);
  [[nodiscard]] Result<StaffSession> find_session(const std::string& token_hash, Time now);
  [[nodiscard]] Status end_session(const std::string& token_hash, Time now);

  [[nodiscard]] Result<std::optional<MailboxPosition>> mailbox_position(const std::string& mailbox);
  [[nodiscard]] Status set_mailbox_position(const std::string& mailbox, const MailboxPosition& position);
  [[nodiscard]] Status set_mailbox_position_fenced(const std::string& mailbox, const MailboxPosition& position,
                                                   const LeaseFence& fence, Time now);

  [[nodiscard]] Result<std::optional<InboundRecord>> find_inbound(const std::string& blob_key);
  [[nodiscard]] Result<Recorded> record_inbound(const InboundReceipt& receipt);
  [[nodiscard]] Result<std::int64_t> count_inbound_from(const std::string& address, Time since);
  [[nodiscard]] Result<std::string> notification_case(std::int64_t notification_id);
  [[nodiscard]] Result<std::vector<InboundRecord>> list_inbound(const std::string& case_reference, int limit);
  [[nodiscard]] Result<std::int64_t> count_open_cases_with_bounces();

 private:
  ConnectionPool& pool_;
};

}  // namespace redress::postgres
