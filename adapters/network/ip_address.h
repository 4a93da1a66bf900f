// IP addresses and address ranges: parsing them ("10.0.0.1", "fd00::/8"), reading a socket's
// address, and where an address leads (public, loopback, private...). IPv4-mapped, -compatible and
// NAT64 IPv6 forms are classified by the IPv4 address they carry, and an IPv4 range matches them.
// Shared by the web hook sender's address guard (adapters/webhooks) and the HTTP server's trusted
// proxies (web/). Plain values, safe to share between threads; the functions are pure.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace redress::network {

// Where an address leads. Everything but kPublic is refused by default.
enum class AddressClass {
  kPublic,
  kLoopback,     // 127.0.0.0/8, ::1
  kPrivate,      // 10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10 (site-local)
  kLinkLocal,    // 169.254/16 (cloud metadata), fe80::/10
  kUnspecified,  // 0.0.0.0/8 ("this network": 0.0.0.0 reaches the local host), ::
  kMulticast,    // 224/4, ff00::/8
  kSharedCgnat,  // 100.64/10: the carrier's side of a NAT
  kReserved,     // 240/4 and the broadcast address, 192.0.0/24, 198.18/15, the documentation ranges
};
[[nodiscard]] std::string_view to_string(AddressClass kind);

// An IP address in 16 bytes: IPv4 is kept as the IPv4-mapped IPv6 address ::ffff:a.b.c.d, so one
// comparison serves both families.
struct IpAddress {
  std::array<std::uint8_t, 16> bytes{};
  bool v4 = false;  // true when the address was given as IPv4 (or is IPv4-mapped)

  [[nodiscard]] std::string to_string() const;  // "10.0.0.1", "fe80::1"
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};
// A numeric address ("192.168.1.10", "::ffff:10.0.0.1", "[fe80::1]"); nullopt for anything else.
[[nodiscard]] std::optional<IpAddress> parse_ip(std::string_view text);
// The address of an AF_INET or AF_INET6 socket address; nullopt for other families.
[[nodiscard]] std::optional<IpAddress> ip_of(const sockaddr* address);
[[nodiscard]] AddressClass classify(const IpAddress& address);

// An address range, "10.0.0.0/8" or "fd00::/8" (a bare address is a /32 or /128). IPv4 ranges
// also match the IPv4-mapped forms of their addresses.
struct Cidr {
  IpAddress base;  // with the bits past the prefix cleared
  int prefix = 0;  // counted over the 128-bit form: an IPv4 /8 is stored as 96 + 8

  [[nodiscard]] bool contains(const IpAddress& address) const;
  [[nodiscard]] std::string to_string() const;
};
[[nodiscard]] std::optional<Cidr> parse_cidr(std::string_view text);

}  // namespace redress::network
