// The address guard: which peer addresses an outgoing web hook may connect to (the SSRF guard).
//
// A subscription's URL is chosen by whoever may create subscriptions, so without a guard the
// server would POST to its own loopback services, the cloud metadata endpoint (169.254.169.254)
// or hosts on the private network behind it. The guard classifies every IP address the sender is
// about to use (adapters/network/ip_address.h) and refuses the non-public ones, unless the operator
// allowed all private networks (tests, on-premise receivers) or listed the ranges that may be
// reached. Immutable once built and safe to share between threads.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "adapters/network/ip_address.h"

namespace redress::webhooks {

enum class PrivateNetworks {
  kRefuse,  // only public addresses (and the allowed ranges) may be reached: the default
  kAllow,   // every address may be reached: tests and receivers on the operator's own network
};

class AddressGuard {
 public:
  explicit AddressGuard(PrivateNetworks private_networks = PrivateNetworks::kRefuse,
                        std::vector<network::Cidr> allowed = {})
      : private_networks_(private_networks), allowed_(std::move(allowed)) {}

  // nullopt when the sender may connect to `address`; otherwise why not, naming the address:
  // "127.0.0.1 is a loopback address".
  [[nodiscard]] std::optional<std::string> refusal(const network::IpAddress& address) const;
  [[nodiscard]] bool allows_private_networks() const { return private_networks_ == PrivateNetworks::kAllow; }

 private:
  PrivateNetworks private_networks_;
  std::vector<network::Cidr> allowed_;
};

}  // namespace redress::webhooks
