// The Standard Webhooks signature scheme (https://www.standardwebhooks.com): HMAC-SHA256 over
// "<webhook-id>.<webhook-timestamp>.<body>", base64, sent as "v1,<signature>" in `webhook-signature`
// (several space-separated signatures are allowed, for key rotation). Secrets are "whsec_<base64>".
// Used to verify intake hooks and to sign outgoing web hooks. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/result.h"

namespace redress::security {

// "whsec_" + base64 of 24 random bytes.
[[nodiscard]] std::string new_webhook_secret();
// "v1,<base64 signature>"; kInvalid when the secret is not "whsec_<base64>".
[[nodiscard]] Result<std::string> sign_webhook(std::string_view secret, std::string_view id, std::int64_t timestamp,
                                               std::string_view body);

enum class WebhookCheck { kValid, kMissingHeaders, kBadTimestamp, kStale, kBadSignature };
[[nodiscard]] std::string_view to_string(WebhookCheck check);
// Verifies a delivery; `now_seconds` is the receiver's wall clock, `tolerance_seconds` the allowed skew.
[[nodiscard]] WebhookCheck verify_webhook(std::string_view secret, std::string_view id, std::string_view timestamp,
                                          std::string_view signatures, std::string_view body, std::int64_t now_seconds,
                                          std::int64_t tolerance_seconds = 300);

}  // namespace redress::security
