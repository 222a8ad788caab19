// SPDX-License-Identifier: Apache-2.0
// What the director's health checks put on the wire and parse back:
//   GLB's gue check: a GUE packet (GLB's private data, hop count 0) whose inner IPv4 packet
//   is an ICMP echo request from the director to the proxy; the proxy decapsulates it and
//   its kernel answers the echo directly, as a plain ICMP echo reply.
//   The http check: the status line of the answer.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace tandem {

// The UDP payload of a gue check carrying `token` in the echo's data.
std::vector<uint8_t> gue_echo_probe(uint32_t source, uint32_t target, uint16_t id, uint16_t seq,
				    uint64_t token);  // addresses in network order

struct EchoReply {
	uint32_t from = 0;  // network order
	uint16_t id = 0;
	uint16_t seq = 0;
	uint64_t token = 0;
};

// What a raw IPPROTO_ICMP socket returns (IPv4 header + ICMP); nullopt unless it is an echo
// reply long enough to carry a token.
std::optional<EchoReply> parse_echo_reply(std::span<const uint8_t> packet);

// "HTTP/1.1 200 OK" -> 200; nullopt if the line is not an HTTP/1.x status line.
std::optional<int> http_status_code(std::string_view status_line);

}  // namespace tandem
