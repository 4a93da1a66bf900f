#include "adapters/webhooks/address_guard.h"

namespace redress {

std::optional<std::string> AddressGuard::refusal(const IpAddress& address) const {
  AddressClass kind = classify(address);
  if (kind == AddressClass::kPublic || private_networks_ == PrivateNetworks::kAllow) return std::nullopt;
  for (const auto& range : allowed_)
    if (range.contains(address)) return std::nullopt;
  std::string article = kind == AddressClass::kUnspecified ? "an " : "a ";
  return address.to_string() + " is " + article + std::string(to_string(kind)) +
         " address (web hooks to private networks are refused unless allowed)";
}

}  // namespace redress
