#include "web/client_address.h"

namespace redress::web {

namespace {

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool trusted(const network::IpAddress& address, const std::vector<network::Cidr>& proxies) {
  for (const auto& range : proxies)
    if (range.contains(address)) return true;
  return false;
}

}  // namespace

Result<std::vector<network::Cidr>> parse_trusted_proxies(std::string_view text) {
  std::vector<network::Cidr> ranges;
  while (!text.empty()) {
    auto comma = text.find(',');
    std::string_view part = trimmed(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    if (part.empty()) continue;
    auto range = network::parse_cidr(part);
    if (!range)
      return Error::invalid("trusted_proxies: \"" + std::string(part) +
                            "\" is not an address or a range like 10.0.0.0/8");
    ranges.push_back(*range);
  }
  return ranges;
}

std::string client_address(const network::IpAddress& peer, std::string_view forwarded_for,
                           const std::vector<network::Cidr>& trusted_proxies) {
  if (!trusted(peer, trusted_proxies)) return peer.to_string();
  // Right to left: each trusted proxy appended the address it received the request from.
  network::IpAddress client = peer;
  while (!forwarded_for.empty()) {
    auto comma = forwarded_for.rfind(',');
    std::string_view part = trimmed(comma == std::string_view::npos ? forwarded_for : forwarded_for.substr(comma + 1));
    forwarded_for = comma == std::string_view::npos ? std::string_view{} : forwarded_for.substr(0, comma);
    auto address = network::parse_ip(part);
    if (!address) break;  // garbage from beyond the proxies: the last good hop is the client
    client = *address;
    if (!trusted(client, trusted_proxies)) break;
  }
  return client.to_string();
}

}  // namespace redress::web
