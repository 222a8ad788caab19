// SPDX-License-Identifier: Apache-2.0
#include "icmp_too_big.h"

#include <cstring>

#include "bytes.h"
#include "packet.h"

namespace tandem {
namespace {

constexpr uint32_t ipv4_header = 20;
constexpr uint32_t ipv6_header = 40;
constexpr uint32_t icmp_header = 8;
constexpr uint8_t icmp_dest_unreachable = 3;
constexpr uint8_t icmp_frag_needed = 4;
constexpr uint8_t icmpv6_packet_too_big = 2;
constexpr uint8_t tos_internet_control = 0xc0;  // IP precedence 6, as routers send errors
constexpr uint16_t ip_flag_df = 0x4000;

uint32_t ones_sum(const uint8_t *p, size_t len, uint32_t sum = 0) noexcept
{
	for (; len >= 2; p += 2, len -= 2)
		sum += load_be16(p);
	if (len)
		sum += uint32_t{p[0]} << 8;
	return sum;
}

uint16_t fold(uint32_t sum) noexcept
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return static_cast<uint16_t>(~sum);
}

// RFC 1122 3.2.2 / RFC 4443 2.4 (e): no error to a source that is not one unicast host.
bool unicast_v4(const uint8_t *a)
{
	return a[0] != 0 && a[0] != 127 && a[0] < 224;
}

bool unicast_v6(const uint8_t *a)
{
	static constexpr uint8_t zero[16] = {};
	if (a[0] == 0xff)
		return false;
	if (std::memcmp(a, zero, 15) == 0 && (a[15] == 0 || a[15] == 1))
		return false;  // :: and ::1
	return true;
}

struct Classified {
	TooBigAnswer answer = TooBigAnswer::not_answerable;
	ParsedPacket pkt;
};

Classified classify(const uint8_t *frame, uint32_t len) noexcept
{
	Classified c;
	c.pkt = parse_frame(frame, len);
	const ParsedPacket &p = c.pkt;
	if (p.verdict != Verdict::ok || p.kind == PacketKind::icmp_error)
		return c;
	const uint8_t *ip = frame + p.l3_offset;
	if (p.family == Family::v4) {
		if (!unicast_v4(ip + 12) || !unicast_v4(ip + 16))
			return c;
		if ((load_be16(ip + 6) & ip_flag_df) == 0) {
			c.answer = TooBigAnswer::no_df;
			return c;
		}
	} else if (!unicast_v6(ip + 8) || !unicast_v6(ip + 24)) {
		return c;
	}
	c.answer = TooBigAnswer::reply;
	return c;
}

}  // namespace

TooBigAnswer classify_too_big(const uint8_t *frame, uint32_t len) noexcept
{
	return classify(frame, len).answer;
}

TooBigReply build_too_big_reply(uint8_t *buf, uint32_t capacity, uint32_t frame_offset,
				uint32_t frame_len, uint32_t mtu) noexcept
{
	TooBigReply out;
	if (frame_offset > capacity || frame_len > capacity - frame_offset)
		return out;
	uint8_t *frame = buf + frame_offset;
	const Classified c = classify(frame, frame_len);
	out.answer = c.answer;
	if (c.answer != TooBigAnswer::reply)
		return out;
	const bool v4 = c.pkt.family == Family::v4;
	const uint32_t l2 = c.pkt.l3_offset;  // 14, or 18 with a VLAN tag
	const uint32_t ip_header = v4 ? ipv4_header : ipv6_header;
	const uint32_t max_reply = v4 ? icmp4_max_reply : icmp6_max_reply;
	const uint32_t quote_max = max_reply - ip_header - icmp_header;
	const uint32_t quote = c.pkt.l3_length < quote_max ? c.pkt.l3_length : quote_max;
	const uint32_t in_ip = frame_offset + l2;  // the received IP header: the quote starts here
	const uint32_t head = l2 + ip_header + icmp_header;
	if (in_ip < head) {
		out.answer = TooBigAnswer::not_answerable;  // no headroom: cannot happen in a UMEM frame
		return out;
	}

	// Read what the new headers overwrite (the old Ethernet header, the addresses) first.
	uint8_t l2_header[18];
	std::memcpy(l2_header, frame, l2);
	uint8_t src[16], dst[16];
	const uint8_t *old_ip = buf + in_ip;
	const size_t alen = v4 ? 4 : 16;
	std::memcpy(src, old_ip + (v4 ? 12 : 8), alen);
	std::memcpy(dst, old_ip + (v4 ? 16 : 24), alen);

	uint8_t *eth = buf + in_ip - head;
	uint8_t *ip = eth + l2;
	uint8_t *icmp = ip + ip_header;
	std::memcpy(eth, l2_header + 6, 6);      // to the frame's source MAC
	std::memcpy(eth + 6, l2_header, 6);      // from the MAC it was sent to
	std::memcpy(eth + 12, l2_header + 12, l2 - 12);  // VLAN tag and EtherType as received

	const uint32_t icmp_len = icmp_header + quote;
	if (v4) {
		const uint32_t announced = mtu < ipv4_min_mtu ? ipv4_min_mtu : (mtu > 0xffff ? 0xffff : mtu);
		ip[0] = 0x45;
		ip[1] = tos_internet_control;
		store_be16(ip + 2, static_cast<uint16_t>(ipv4_header + icmp_len));
		store_be32(ip + 4, 0);  // ID 0, no flags, offset 0
		ip[8] = icmp_reply_ttl;
		ip[9] = ip_proto_icmp;
		store_be16(ip + 10, 0);
		std::memcpy(ip + 12, dst, 4);  // from the VIP
		std::memcpy(ip + 16, src, 4);  // to the client
		store_be16(ip + 10, fold(ones_sum(ip, ipv4_header)));
		icmp[0] = icmp_dest_unreachable;
		icmp[1] = icmp_frag_needed;
		store_be16(icmp + 2, 0);
		store_be16(icmp + 4, 0);
		store_be16(icmp + 6, static_cast<uint16_t>(announced));
		store_be16(icmp + 2, fold(ones_sum(icmp, icmp_len)));
	} else {
		const uint32_t announced = mtu < ipv6_min_mtu ? ipv6_min_mtu : mtu;
		store_be32(ip, 0x60000000);  // version 6, traffic class 0, flow label 0
		store_be16(ip + 4, static_cast<uint16_t>(icmp_len));
		ip[6] = ip_proto_icmpv6;
		ip[7] = icmp_reply_ttl;
		std::memcpy(ip + 8, dst, 16);
		std::memcpy(ip + 24, src, 16);
		icmp[0] = icmpv6_packet_too_big;
		icmp[1] = 0;
		store_be16(icmp + 2, 0);
		store_be32(icmp + 4, announced);
		// Pseudo-header: addresses, upper-layer length, next header.
		uint32_t sum = ones_sum(ip + 8, 32);
		sum += icmp_len;
		sum += ip_proto_icmpv6;
		store_be16(icmp + 2, fold(ones_sum(icmp, icmp_len, sum)));
	}
	out.offset = in_ip - head;
	out.length = head + quote;
	return out;
}

}  // namespace tandem
