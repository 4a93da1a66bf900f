// InboundSettings: how inbound email is taken — the configured mailboxes (their addresses, IMAP
// accounts and routing defaults), the Message-ID domain that recognises Redress's own mail, and
// the limits. Plain values, set once at start-up (app/config.cpp reads them from [[mailboxes]]).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "adapters/inbound/parsed_message.h"

namespace redress::inbound {

// One configured mailbox: where its mail comes from and where its new complaints go.
struct MailboxSettings {
  std::string name;     // "complaints"; what `--mailbox` and the IMAP poller name
  std::string address;  // its own address, the base of per-case reply addresses (complaints+REF@...)
  // IMAP polling (adapters/inbound/imap_poller.h); empty url: the mailbox is fed by an MTA instead.
  std::string url;
  std::string user;
  std::string password;
  std::string bearer;  // OAuth2 access token, instead of a password
  bool verify_tls = true;  // false only for a test server with a self-signed certificate
  std::chrono::seconds poll_interval{60};
  // Routing of the complaints it opens.
  std::string workflow;  // empty: routed by category
  std::string category = "other";
  std::string touchpoint;
};

struct InboundSettings {
  std::string domain;  // the domain of the Message-IDs Redress makes (mail.domain)
  std::vector<MailboxSettings> mailboxes;
  int max_messages_per_sender_per_hour = 30;  // over it: a mail storm, kept but not acted on
  ParseLimits limits;
  // Files kept on the case from a message (the rest stay in the raw email, one click away, and the
  // message says so): the same limits as files sent through the API (attachment_max_*).
  int max_files = 10;
  std::int64_t max_file_bytes = 10 << 20;
  std::int64_t max_total_bytes = 25 << 20;

  [[nodiscard]] const MailboxSettings* mailbox(const std::string& name) const;
};

}  // namespace redress::inbound
