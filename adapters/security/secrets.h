// Secrets: bearer tokens, client links and sign-in passwords.
//
// Tokens are 256 bits from the operating system's CSPRNG (libsodium), shown once and stored only
// as their SHA-256 hash: a token has full entropy, so a fast hash is enough to make a stolen
// database useless for signing in. Passwords, which have little entropy, are stored as argon2id
// hashes. All functions are thread-safe (libsodium is initialised once).
#pragma once

#include <string>
#include <string_view>

#include "engine/result.h"

namespace redress::security {

// "<prefix>" followed by 43 base64url characters (32 random bytes).
[[nodiscard]] std::string new_token(std::string_view prefix);
// Hex SHA-256 of the token, the form in which it is stored and looked up.
[[nodiscard]] std::string token_hash(std::string_view token);
// Constant-time comparison for secrets of equal length.
[[nodiscard]] bool secrets_equal(std::string_view a, std::string_view b);

// argon2id, with libsodium's interactive limits. kInvalid for a password shorter than 10 characters.
[[nodiscard]] Result<std::string> hash_password(std::string_view password);
[[nodiscard]] bool verify_password(std::string_view password, const std::string& stored_hash);

}  // namespace redress::security
