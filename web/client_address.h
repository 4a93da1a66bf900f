// The client's address: who is behind a request, for per-address limits and logs.
//
// It is the TCP peer, unless the peer is a trusted proxy (config `trusted_proxies`): then it is the
// right-most address of X-Forwarded-For that is not itself a trusted proxy. Only addresses a trusted
// proxy appended are believed: whatever a client writes into the header sits left of them. Pure
// functions; safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/network/ip_address.h"
#include "engine/result.h"

namespace redress::web {

// "10.0.0.0/8, 192.168.1.7" (comma-separated ranges or addresses; empty: none). kInvalid naming
// the part that is not a range.
[[nodiscard]] Result<std::vector<network::Cidr>> parse_trusted_proxies(std::string_view text);

// The client behind a request from `peer` that carried `forwarded_for` (the X-Forwarded-For
// values, comma-joined; empty when absent), as text ("203.0.113.9").
[[nodiscard]] std::string client_address(const network::IpAddress& peer, std::string_view forwarded_for,
                                         const std::vector<network::Cidr>& trusted_proxies);

}  // namespace redress::web
