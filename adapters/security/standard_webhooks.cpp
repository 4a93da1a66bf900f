#include "adapters/security/standard_webhooks.h"

#include <sodium.h>

#include <charconv>
#include <vector>

#include "adapters/security/secrets.h"

namespace redress::security {

namespace {

std::string base64(const unsigned char* bytes, std::size_t size) {
  std::vector<char> out(sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_ORIGINAL));
  sodium_bin2base64(out.data(), out.size(), bytes, size, sodium_base64_VARIANT_ORIGINAL);
  return std::string(out.data());
}

bool secret_key(std::string_view secret, std::vector<unsigned char>& key) {
  if (secret.substr(0, 6) == "whsec_") secret.remove_prefix(6);
  key.resize(secret.size());
  std::size_t length = 0;
  if (secret.empty() || sodium_base642bin(key.data(), key.size(), secret.data(), secret.size(), nullptr, &length,
                                          nullptr, sodium_base64_VARIANT_ORIGINAL) != 0)
    return false;
  key.resize(length);
  return length > 0;
}

std::string signature(const std::vector<unsigned char>& key, std::string_view id, std::string_view timestamp,
                      std::string_view body) {
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, key.data(), key.size());
  auto update = [&state](std::string_view part) {
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(part.data()), part.size());
  };
  update(id);
  update(".");
  update(timestamp);
  update(".");
  update(body);
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_final(&state, mac);
  return base64(mac, sizeof mac);
}

}  // namespace

std::string new_webhook_secret() {
  (void)new_token("");  // initialises libsodium
  unsigned char bytes[24];
  randombytes_buf(bytes, sizeof bytes);
  return "whsec_" + base64(bytes, sizeof bytes);
}

Result<std::string> sign_webhook(std::string_view secret, std::string_view id, std::int64_t timestamp,
                                 std::string_view body) {
  std::vector<unsigned char> key;
  if (!secret_key(secret, key)) return Error::invalid_field("secret", "must be whsec_ followed by base64");
  return "v1," + signature(key, id, std::to_string(timestamp), body);
}

std::string_view to_string(WebhookCheck check) {
  switch (check) {
    case WebhookCheck::kValid: return "valid";
    case WebhookCheck::kMissingHeaders: return "webhook-id, webhook-timestamp and webhook-signature are required";
    case WebhookCheck::kBadTimestamp: return "webhook-timestamp must be whole seconds since the epoch";
    case WebhookCheck::kStale: return "webhook-timestamp is outside the allowed tolerance";
    case WebhookCheck::kBadSignature: return "no signature in webhook-signature matches";
  }
  return "invalid";
}

WebhookCheck verify_webhook(std::string_view secret, std::string_view id, std::string_view timestamp,
                            std::string_view signatures, std::string_view body, std::int64_t now_seconds,
                            std::int64_t tolerance_seconds) {
  if (id.empty() || timestamp.empty() || signatures.empty()) return WebhookCheck::kMissingHeaders;
  std::int64_t sent = 0;
  auto [end, ec] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), sent);
  if (ec != std::errc() || end != timestamp.data() + timestamp.size()) return WebhookCheck::kBadTimestamp;
  if (sent < now_seconds - tolerance_seconds || sent > now_seconds + tolerance_seconds) return WebhookCheck::kStale;
  std::vector<unsigned char> key;
  if (!secret_key(secret, key)) return WebhookCheck::kBadSignature;
  std::string expected = signature(key, id, timestamp, body);
  while (!signatures.empty()) {
    auto space = signatures.find(' ');
    std::string_view one = signatures.substr(0, space);
    signatures = space == std::string_view::npos ? std::string_view() : signatures.substr(space + 1);
    if (one.substr(0, 3) != "v1,") continue;
    if (secrets_equal(one.substr(3), expected)) return WebhookCheck::kValid;
  }
  return WebhookCheck::kBadSignature;
}

}  // namespace redress::security
