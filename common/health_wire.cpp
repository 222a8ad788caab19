// SPDX-License-Identifier: Apache-2.0
#include "health_wire.h"

#include <cstring>

#include "bytes.h"
#include "gue.h"

namespace tandem {
namespace {

constexpr uint8_t icmp_echo_reply = 0;
constexpr uint8_t icmp_echo_request = 8;
constexpr size_t icmp_echo_header = 8;
constexpr size_t token_size = 8;

}  // namespace

std::vector<uint8_t> gue_echo_probe(uint32_t source, uint32_t target, uint16_t id, uint16_t seq,
				    uint64_t token)
{
	const size_t ip_len = outer_ipv4_size + icmp_echo_header + token_size;
	std::vector<uint8_t> p(gue_header_size + gue_private_size + ip_len, 0);
	uint8_t *gue = p.data();
	gue[0] = 1;  // version 0, C 0, hlen 1: the private data word only
	gue[1] = 4;  // inner protocol: IPv4
	// gue[2..3] flags 0; gue[4..5] private type 0; gue[6] next hop 0; gue[7] hop count 0

	uint8_t *ip = gue + gue_header_size + gue_private_size;
	ip[0] = 0x45;
	store_be16(ip + 2, static_cast<uint16_t>(ip_len));
	store_be16(ip + 6, 0x4000);  // DF
	ip[8] = 64;
	ip[9] = 1;  // ICMP
	std::memcpy(ip + 12, &source, 4);
	std::memcpy(ip + 16, &target, 4);
	store_be16(ip + 10, ipv4_header_checksum(ip, outer_ipv4_size));

	uint8_t *icmp = ip + outer_ipv4_size;
	icmp[0] = icmp_echo_request;
	store_be16(icmp + 4, id);
	store_be16(icmp + 6, seq);
	for (size_t i = 0; i < token_size; i++)
		icmp[icmp_echo_header + i] = static_cast<uint8_t>(token >> (8 * (7 - i)));
	store_be16(icmp + 2, ipv4_header_checksum(icmp, icmp_echo_header + token_size));
	return p;
}

std::optional<EchoReply> parse_echo_reply(std::span<const uint8_t> packet)
{
	if (packet.size() < outer_ipv4_size || (packet[0] >> 4) != 4)
		return std::nullopt;
	const size_t ihl = size_t(packet[0] & 0x0f) * 4;
	if (ihl < outer_ipv4_size || packet.size() < ihl + icmp_echo_header + token_size)
		return std::nullopt;
	const uint8_t *icmp = packet.data() + ihl;
	if (icmp[0] != icmp_echo_reply || icmp[1] != 0)
		return std::nullopt;
	EchoReply r;
	std::memcpy(&r.from, packet.data() + 12, 4);
	r.id = load_be16(icmp + 4);
	r.seq = load_be16(icmp + 6);
	for (size_t i = 0; i < token_size; i++)
		r.token = (r.token << 8) | icmp[icmp_echo_header + i];
	return r;
}

std::optional<int> http_status_code(std::string_view line)
{
	if (line.size() < 12 || !line.starts_with("HTTP/1.") || line[8] != ' ')
		return std::nullopt;
	int code = 0;
	for (size_t i = 9; i < 12; i++) {
		if (line[i] < '0' || line[i] > '9')
			return std::nullopt;
		code = code * 10 + (line[i] - '0');
	}
	return code;
}

}  // namespace tandem
