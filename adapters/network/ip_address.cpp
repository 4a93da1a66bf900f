#include "adapters/network/ip_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace redress::network {

namespace {

IpAddress from_v4(const std::uint8_t* four) {
  IpAddress a;
  a.bytes[10] = 0xff;
  a.bytes[11] = 0xff;
  std::memcpy(a.bytes.data() + 12, four, 4);
  a.v4 = true;
  return a;
}

bool starts_with(const IpAddress& a, std::initializer_list<std::uint8_t> prefix) {
  std::size_t i = 0;
  for (auto byte : prefix)
    if (a.bytes[i++] != byte) return false;
  return true;
}

bool zero_bytes(const IpAddress& a, std::size_t from, std::size_t to) {
  for (std::size_t i = from; i < to; ++i)
    if (a.bytes[i] != 0) return false;
  return true;
}

// The IPv4 address an IPv6 address carries and routes to: IPv4-mapped (::ffff:a.b.c.d),
// IPv4-compatible (::a.b.c.d, deprecated but still routed by some stacks), NAT64 (64:ff9b::a.b.c.d)
// and 6to4 (2002:aabb:ccdd::/48). nullopt for a plain IPv6 address.
std::optional<IpAddress> embedded_v4(const IpAddress& a) {
  if (a.v4) return a;
  if (zero_bytes(a, 0, 10) && a.bytes[10] == 0xff && a.bytes[11] == 0xff) return from_v4(a.bytes.data() + 12);
  // ::a.b.c.d, but not :: or ::1 (those are IPv6's own unspecified and loopback).
  if (zero_bytes(a, 0, 12) && !zero_bytes(a, 12, 15)) return from_v4(a.bytes.data() + 12);
  if (starts_with(a, {0x00, 0x64, 0xff, 0x9b}) && zero_bytes(a, 4, 12)) return from_v4(a.bytes.data() + 12);
  if (starts_with(a, {0x20, 0x02})) return from_v4(a.bytes.data() + 2);
  return std::nullopt;
}

AddressClass classify_v4(const std::uint8_t* b) {
  const std::uint8_t a0 = b[0], a1 = b[1], a2 = b[2];
  if (a0 == 127) return AddressClass::kLoopback;
  if (a0 == 0) return AddressClass::kUnspecified;
  if (a0 == 10 || (a0 == 172 && (a1 & 0xf0) == 16) || (a0 == 192 && a1 == 168)) return AddressClass::kPrivate;
  if (a0 == 169 && a1 == 254) return AddressClass::kLinkLocal;
  if (a0 == 100 && (a1 & 0xc0) == 64) return AddressClass::kSharedCgnat;
  if ((a0 & 0xf0) == 224) return AddressClass::kMulticast;
  if ((a0 & 0xf0) == 240) return AddressClass::kReserved;  // 240/4 and 255.255.255.255
  if (a0 == 192 && a1 == 0 && (a2 == 0 || a2 == 2)) return AddressClass::kReserved;
  if (a0 == 198 && (a1 & 0xfe) == 18) return AddressClass::kReserved;
  if (a0 == 198 && a1 == 51 && a2 == 100) return AddressClass::kReserved;
  if (a0 == 203 && a1 == 0 && a2 == 113) return AddressClass::kReserved;
  return AddressClass::kPublic;
}

bool prefix_matches(const IpAddress& a, const IpAddress& base, int prefix) {
  int full = prefix / 8;
  for (int i = 0; i < full; ++i)
    if (a.bytes[static_cast<std::size_t>(i)] != base.bytes[static_cast<std::size_t>(i)]) return false;
  int rest = prefix % 8;
  if (rest == 0) return true;
  auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (a.bytes[static_cast<std::size_t>(full)] & mask) == (base.bytes[static_cast<std::size_t>(full)] & mask);
}

}  // namespace

std::string_view to_string(AddressClass kind) {
  switch (kind) {
    case AddressClass::kPublic: return "public";
    case AddressClass::kLoopback: return "loopback";
    case AddressClass::kPrivate: return "private";
    case AddressClass::kLinkLocal: return "link-local";
    case AddressClass::kUnspecified: return "unspecified";
    case AddressClass::kMulticast: return "multicast";
    case AddressClass::kSharedCgnat: return "shared (CGNAT)";
    case AddressClass::kReserved: return "reserved";
  }
  return "unknown";
}

std::string IpAddress::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (v4)
    ::inet_ntop(AF_INET, bytes.data() + 12, text, sizeof text);
  else
    ::inet_ntop(AF_INET6, bytes.data(), text, sizeof text);
  return text;
}

std::optional<IpAddress> parse_ip(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  std::string copy(text);
  std::uint8_t four[4];
  if (::inet_pton(AF_INET, copy.c_str(), four) == 1) return from_v4(four);
  IpAddress a;
  if (::inet_pton(AF_INET6, copy.c_str(), a.bytes.data()) != 1) return std::nullopt;
  a.v4 = zero_bytes(a, 0, 10) && a.bytes[10] == 0xff && a.bytes[11] == 0xff;
  return a;
}

std::optional<IpAddress> ip_of(const sockaddr* address) {
  if (address == nullptr) return std::nullopt;
  if (address->sa_family == AF_INET) {
    sockaddr_in in{};
    std::memcpy(&in, address, sizeof in);
    std::uint8_t four[4];
    std::memcpy(four, &in.sin_addr, 4);
    return from_v4(four);
  }
  if (address->sa_family == AF_INET6) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, address, sizeof in6);
    IpAddress a;
    std::memcpy(a.bytes.data(), &in6.sin6_addr, 16);
    a.v4 = zero_bytes(a, 0, 10) && a.bytes[10] == 0xff && a.bytes[11] == 0xff;
    return a;
  }
  return std::nullopt;
}

AddressClass classify(const IpAddress& address) {
  if (auto v4 = embedded_v4(address)) return classify_v4(v4->bytes.data() + 12);
  const IpAddress& a = address;
  if (zero_bytes(a, 0, 16)) return AddressClass::kUnspecified;
  if (zero_bytes(a, 0, 15) && a.bytes[15] == 1) return AddressClass::kLoopback;
  if ((a.bytes[0] & 0xfe) == 0xfc) return AddressClass::kPrivate;                        // fc00::/7
  if (a.bytes[0] == 0xfe && (a.bytes[1] & 0xc0) == 0xc0) return AddressClass::kPrivate;  // fec0::/10
  if (a.bytes[0] == 0xfe && (a.bytes[1] & 0xc0) == 0x80) return AddressClass::kLinkLocal;
  if (a.bytes[0] == 0xff) return AddressClass::kMulticast;
  if (starts_with(a, {0x20, 0x01, 0x0d, 0xb8})) return AddressClass::kReserved;             // documentation
  if (starts_with(a, {0x01, 0x00}) && zero_bytes(a, 2, 8)) return AddressClass::kReserved;  // 100::/64, discard
  return AddressClass::kPublic;
}

bool Cidr::contains(const IpAddress& address) const {
  if (prefix_matches(address, base, prefix)) return true;
  // An IPv4 range also covers the IPv4 address an IPv6 form carries.
  if (base.v4 && !address.v4)
    if (auto v4 = embedded_v4(address)) return prefix_matches(*v4, base, prefix);
  return false;
}

std::string Cidr::to_string() const { return base.to_string() + "/" + std::to_string(base.v4 ? prefix - 96 : prefix); }

std::optional<Cidr> parse_cidr(std::string_view text) {
  auto slash = text.find('/');
  auto address = parse_ip(text.substr(0, slash));
  if (!address) return std::nullopt;
  const int max = address->v4 && text.substr(0, slash).find(':') == std::string_view::npos ? 32 : 128;
  int length = max;
  if (slash != std::string_view::npos) {
    auto digits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || length < 0 || length > max)
      return std::nullopt;
  }
  Cidr cidr;
  cidr.prefix = max == 32 ? 96 + length : length;
  cidr.base = *address;
  for (int bit = cidr.prefix; bit < 128; ++bit)
    cidr.base.bytes[static_cast<std::size_t>(bit / 8)] &= static_cast<std::uint8_t>(~(0x80 >> (bit % 8)));
  return cidr;
}

}  // namespace redress::network
