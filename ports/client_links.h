// ClientLinks: the links that let a client follow their case without an account.
//
// A case has at most one live link. The link is derived from a nonce (the server's keyring turns
// the nonce into the link's token); only the token's hash is stored, so the store can find the
// case a presented link opens but cannot make a link itself. Replacing a case's link revokes the
// old one at once. The first link of a case is written with its creation (Change's
// client_link_nonce and client_link_hash), through the engine.
//
// Implementations (adapters/sqlite, later PostgreSQL) are thread-safe: any thread may call.
#pragma once

#include <string>

#include "engine/result.h"
#include "engine/store.h"

namespace redress {

class ClientLinks {
 public:
  virtual ~ClientLinks() = default;

  // The case a live client link opens; kNotFound when unknown or revoked.
  [[nodiscard]] virtual Result<CaseSnapshot> load_case_by_client_link(const std::string& token_hash) = 0;
  // The nonce of the case's live link, from which the link is derived; kNotFound when it has none.
  [[nodiscard]] virtual Result<std::string> client_link_nonce(const std::string& reference) = 0;
  // Revokes the case's live links and, when `nonce` is not empty, stores a new one.
  [[nodiscard]] virtual Status replace_client_link(const std::string& reference, const std::string& nonce,
                                                   const std::string& token_hash) = 0;
};

}  // namespace redress
