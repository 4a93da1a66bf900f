#include "adapters/webhooks/address_guard.h"

namespace redress::webhooks {

std::optional<std::string> AddressGuard::refusal(const network::IpAddress& address) const {
  network::AddressClass kind = classify(address);
  if (kind == network::AddressClass::kPublic || private_networks_ == PrivateNetworks::kAllow) return std::nullopt;
  for (const auto& range : allowed_)
    if (range.contains(address)) return std::nullopt;
  std::string article = kind == network::AddressClass::kUnspecified ? "an " : "a ";
  return address.to_string() + " is " + article + std::string(to_string(kind)) +
         " address (web hooks to private networks are refused unless allowed)";
}

}  // namespace redress::webhooks
