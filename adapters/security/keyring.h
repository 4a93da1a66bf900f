// Keyring: the server's secret key and what is derived from it.
//
// The key (32 random bytes) lives in `<data dir>/server.key`, created on first use with mode 0600.
// Client links are derived from it: a link's token is HMAC-SHA256(key, nonce), so the database
// holds only the nonce and the token's hash, and the outbox can still put the link in a mail.
// Web hook signing secrets are sealed with it (XSalsa20-Poly1305) before they are stored.
// Immutable after loading; thread-safe.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "engine/result.h"

namespace redress::security {

class Keyring {
 public:
  [[nodiscard]] static Result<Keyring> load_or_create(const std::string& data_dir);
  // A keyring from fixed bytes (tests and benchmarks).
  [[nodiscard]] static Keyring from_bytes(const std::array<unsigned char, 32>& key);

  struct ClientLink {
    std::string nonce;  // stored
    std::string token;  // shown to the client, never stored
    std::string hash;   // stored, for look-ups
  };
  // A fresh link: 128-bit random nonce, 256-bit token.
  [[nodiscard]] ClientLink new_client_link() const;
  // The token of the link made from `nonce`.
  [[nodiscard]] std::string client_token(std::string_view nonce) const;

  [[nodiscard]] std::string seal(std::string_view plaintext) const;
  [[nodiscard]] Result<std::string> unseal(std::string_view sealed) const;

 private:
  std::array<unsigned char, 32> key_{};
};

}  // namespace redress::security
