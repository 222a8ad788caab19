// SPDX-License-Identifier: Apache-2.0
// IPv4/IPv6 addresses and prefixes as raw network-order bytes.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace tandem {

enum class Family : uint8_t { v4 = 4, v6 = 6 };

struct IpAddress {
	Family family = Family::v4;
	std::array<uint8_t, 16> bytes{};  // IPv4 uses bytes[0..3], the rest stays zero

	static std::optional<IpAddress> parse(std::string_view text);
	static IpAddress from_v4(uint32_t network_order_bytes);
	static IpAddress from_bytes(Family family, const uint8_t *raw);

	bool is_v4() const { return family == Family::v4; }
	size_t size() const { return is_v4() ? 4 : 16; }
	std::span<const uint8_t> view() const { return {bytes.data(), size()}; }
	// The address as it sits in a packet, read as a native integer (IPv4 only).
	uint32_t v4_raw() const;
	std::string to_string() const;

	auto operator<=>(const IpAddress &) const = default;
};

struct IpPrefix {
	IpAddress address;  // host bits are zero
	uint8_t length = 0;

	// "192.0.2.1", "192.0.2.0/24", "2001:db8::/32"; host bits set is an error (nullopt):
	// where a prefix is only ever matched, they are almost always a typo.
	static std::optional<IpPrefix> parse(std::string_view text);
	bool contains(const IpAddress &a) const;
	bool overlaps(const IpPrefix &other) const;
	bool is_single_address() const { return length == address.size() * 8; }
	std::string to_string() const;

	auto operator<=>(const IpPrefix &) const = default;
};

// A prefix as an operator wrote it, host bits and all, the way GLB's build-config takes a
// bind: "10.97.19.202/28" names the network 10.97.19.192/28 and is written back as given.
struct WrittenPrefix {
	IpPrefix prefix;    // host bits cleared: what matching uses
	IpAddress written;  // the address as given

	// "192.0.2.1", "192.0.2.7/24", "2001:db8::1/32"; host bits allowed.
	static std::optional<WrittenPrefix> parse(std::string_view text);
	bool has_host_bits() const { return written != prefix.address; }
};

}  // namespace tandem
