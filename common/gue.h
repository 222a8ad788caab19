// SPDX-License-Identifier: Apache-2.0
// GLB's GUE encapsulation: outer Ethernet + IPv4 + UDP + GUE header + hop list, written in
// place in front of the inner IP packet; and a validating decoder for the same format.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "result.h"

namespace tandem {

inline constexpr uint16_t default_gue_port = 19523;
inline constexpr size_t ethernet_header_size = 14;
inline constexpr size_t outer_ipv4_size = 20;
inline constexpr size_t udp_header_size = 8;
inline constexpr size_t gue_header_size = 4;
inline constexpr size_t gue_private_size = 4;  // type, next hop index, hop count
// GUE's hlen has 5 bits: 1 word of private data plus at most 30 further hops.
inline constexpr size_t max_gue_hops = 31;

using MacAddress = std::array<uint8_t, 6>;

// Bytes the encapsulation puts in front of the inner IP packet, Ethernet excluded.
constexpr size_t gue_overhead(size_t hops)
{
	return outer_ipv4_size + udp_header_size + gue_header_size + gue_private_size +
	       4 * (hops - 1);
}

struct EncapFields {
	MacAddress src_mac{};
	MacAddress dst_mac{};
	uint32_t source_ip = 0;  // network order, as in the packet
	uint16_t gue_port = default_gue_port;
	bool udp_checksum = false;
};

// Writes the outer headers so that they end exactly at `inner`. `hops` (network order,
// 1..max_gue_hops entries) go as: hops[0] the outer destination, the rest in the list.
// The caller guarantees ethernet_header_size + gue_overhead(hops.size()) bytes before
// `inner`. Returns the start of the new frame.
uint8_t *write_gue_encap(uint8_t *inner, uint16_t inner_length, bool inner_is_ipv6,
			 std::span<const uint32_t> hops, uint16_t udp_source_port,
			 const EncapFields &fields) noexcept;

uint16_t ipv4_header_checksum(const uint8_t *header, size_t len) noexcept;

// A decoded outer IPv4 + UDP + GUE packet (starting at the IPv4 header).
struct GuePacket {
	uint32_t outer_src = 0;  // network order
	uint32_t outer_dst = 0;
	uint8_t ttl = 0;
	uint16_t udp_source_port = 0;
	uint16_t udp_dest_port = 0;
	uint16_t udp_checksum = 0;
	uint8_t inner_protocol = 0;  // 4 or 41
	uint8_t next_hop = 0;
	uint8_t hop_count = 0;
	std::array<uint32_t, max_gue_hops> hops{};  // hop_count entries, network order
	std::span<const uint8_t> inner;              // the inner IP packet
};

// Checks everything a proxy relies on: IPv4 header and checksum, UDP length and (when not
// zero) checksum, GUE version, hlen = 1 + hop count, private type 0, inner protocol, and
// that the inner IP packet's own length matches what is left.
Result<GuePacket> decode_gue_ipv4(std::span<const uint8_t> packet);

}  // namespace tandem
