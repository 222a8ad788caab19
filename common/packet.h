// SPDX-License-Identifier: Apache-2.0
// Parses a received Ethernet frame into the flow it belongs to. Pure and bounded: every read
// is checked against the frame, and every frame gets a Verdict.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "ip_address.h"
#include "verdict.h"

namespace tandem {

inline constexpr uint8_t ip_proto_icmp = 1;
inline constexpr uint8_t ip_proto_tcp = 6;
inline constexpr uint8_t ip_proto_udp = 17;
inline constexpr uint8_t ip_proto_ipv6 = 41;
inline constexpr uint8_t ip_proto_icmpv6 = 58;
inline constexpr uint8_t ip_proto_ipip = 4;

enum class PacketKind : uint8_t {
	transport,       // TCP or UDP with ports (including a first fragment)
	icmp_error,      // IPv4 type 3 / ICMPv6 type 2: the quoted flow, reversed
	icmp_echo,       // echo request to the VIP: no ports, hint = IP ID / flow label
	later_fragment,  // a fragment after the first: no ports are in it
};

// The flow a frame belongs to, seen from the client: src is the client, dst the VIP.
// ICMP errors are already reversed, so they carry the flow of the packet they quote.
struct ParsedPacket {
	Verdict verdict = Verdict::ok;
	PacketKind kind = PacketKind::transport;
	Family family = Family::v4;
	uint8_t protocol = 0;    // TCP/UDP; the quoted one for ICMP errors; ICMP(v6) for echo
	uint16_t l3_offset = 0;  // where the IP header starts in the frame
	uint16_t l3_length = 0;  // IP total length (Ethernet padding excluded)
	std::array<uint8_t, 16> src{};
	std::array<uint8_t, 16> dst{};
	uint16_t src_port = 0;  // host order; 0 when the packet has no ports
	uint16_t dst_port = 0;
	uint16_t hint = 0;  // GLB's "flow hash hint", mixed into the GUE source port

	size_t address_size() const { return family == Family::v4 ? 4 : 16; }
	IpAddress src_address() const { return IpAddress::from_bytes(family, src.data()); }
	IpAddress dst_address() const { return IpAddress::from_bytes(family, dst.data()); }
};

ParsedPacket parse_frame(const uint8_t *frame, size_t len) noexcept;

}  // namespace tandem
