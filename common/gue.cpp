// SPDX-License-Identifier: Apache-2.0
#include "gue.h"

#include <cstring>
#include <string>

#include "bytes.h"
#include "packet.h"

namespace tandem {

static uint32_t ones_sum(const uint8_t *p, size_t len, uint32_t sum = 0) noexcept
{
	for (; len >= 2; p += 2, len -= 2)
		sum += load_be16(p);
	if (len)
		sum += uint32_t{p[0]} << 8;
	return sum;
}

static uint16_t fold(uint32_t sum) noexcept
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return static_cast<uint16_t>(~sum);
}

uint16_t ipv4_header_checksum(const uint8_t *header, size_t len) noexcept
{
	return fold(ones_sum(header, len));
}

static uint16_t udp_checksum(const uint8_t *ip, const uint8_t *udp, size_t udp_len) noexcept
{
	uint32_t sum = ones_sum(ip + 12, 8);  // source and destination address
	sum += ip_proto_udp;
	sum += static_cast<uint32_t>(udp_len);
	uint16_t c = fold(ones_sum(udp, udp_len, sum));
	return c == 0 ? 0xffff : c;
}

uint8_t *write_gue_encap(uint8_t *inner, uint16_t inner_length, bool inner_is_ipv6,
			 std::span<const uint32_t> hops, uint16_t udp_source_port,
			 const EncapFields &f) noexcept
{
	const size_t listed = hops.size() - 1;
	const size_t udp_len = udp_header_size + gue_header_size + gue_private_size + 4 * listed +
			       inner_length;
	uint8_t *gue = inner - gue_header_size - gue_private_size - 4 * listed;
	uint8_t *udp = gue - udp_header_size;
	uint8_t *ip = udp - outer_ipv4_size;
	uint8_t *eth = ip - ethernet_header_size;

	std::memcpy(eth, f.dst_mac.data(), 6);
	std::memcpy(eth + 6, f.src_mac.data(), 6);
	store_be16(eth + 12, 0x0800);

	ip[0] = 0x45;
	ip[1] = 0;
	store_be16(ip + 2, static_cast<uint16_t>(outer_ipv4_size + udp_len));
	store_be16(ip + 4, 0);       // identification
	store_be16(ip + 6, 0x4000);  // don't fragment
	ip[8] = 64;
	ip[9] = ip_proto_udp;
	store_be16(ip + 10, 0);
	std::memcpy(ip + 12, &f.source_ip, 4);
	std::memcpy(ip + 16, &hops[0], 4);
	store_be16(ip + 10, ipv4_header_checksum(ip, outer_ipv4_size));

	store_be16(udp, udp_source_port);
	store_be16(udp + 2, f.gue_port);
	store_be16(udp + 4, static_cast<uint16_t>(udp_len));
	store_be16(udp + 6, 0);

	gue[0] = static_cast<uint8_t>(1 + listed);  // version 0, C 0, hlen in words
	gue[1] = inner_is_ipv6 ? ip_proto_ipv6 : ip_proto_ipip;
	gue[2] = 0;
	gue[3] = 0;
	gue[4] = 0;  // private data type (16 bits)
	gue[5] = 0;
	gue[6] = 0;  // next hop index
	gue[7] = static_cast<uint8_t>(listed);
	std::memcpy(gue + 8, hops.data() + 1, 4 * listed);

	if (f.udp_checksum)
		store_be16(udp + 6, udp_checksum(ip, udp, udp_len));
	return eth;
}

static Error gue_error(const std::string &what)
{
	return make_error("GUE packet: " + what);
}

Result<GuePacket> decode_gue_ipv4(std::span<const uint8_t> pkt)
{
	if (pkt.size() < outer_ipv4_size)
		return gue_error("shorter than an IPv4 header");
	const uint8_t *ip = pkt.data();
	if (ip[0] != 0x45)
		return gue_error("outer IPv4 header must be version 4 with IHL 5");
	size_t total = load_be16(ip + 2);
	if (total != pkt.size())
		return gue_error("outer IPv4 total length " + std::to_string(total) + " but " +
				 std::to_string(pkt.size()) + " bytes present");
	if (ipv4_header_checksum(ip, outer_ipv4_size) != 0)
		return gue_error("outer IPv4 header checksum is wrong");
	if (ip[9] != ip_proto_udp)
		return gue_error("outer protocol is not UDP");
	if ((load_be16(ip + 6) & 0x3fff) != 0)
		return gue_error("outer IPv4 packet is a fragment");

	GuePacket g;
	std::memcpy(&g.outer_src, ip + 12, 4);
	std::memcpy(&g.outer_dst, ip + 16, 4);
	g.ttl = ip[8];
	const uint8_t *udp = ip + outer_ipv4_size;
	size_t udp_len = total - outer_ipv4_size;
	if (udp_len < udp_header_size + gue_header_size + gue_private_size)
		return gue_error("too short for UDP, GUE header and private data");
	if (load_be16(udp + 4) != udp_len)
		return gue_error("UDP length does not match the IPv4 length");
	g.udp_source_port = load_be16(udp);
	g.udp_dest_port = load_be16(udp + 2);
	g.udp_checksum = load_be16(udp + 6);
	if (g.udp_checksum != 0 && fold(ones_sum(udp, udp_len, ones_sum(ip + 12, 8) +
						 ip_proto_udp + static_cast<uint32_t>(udp_len))) != 0)
		return gue_error("UDP checksum is wrong");

	const uint8_t *gue = udp + udp_header_size;
	if ((gue[0] >> 6) != 0)
		return gue_error("GUE version is not 0");
	if (gue[0] & 0x20)
		return gue_error("GUE control messages are not supported");
	unsigned hlen = gue[0] & 0x1f;
	g.inner_protocol = gue[1];
	if (g.inner_protocol != ip_proto_ipip && g.inner_protocol != ip_proto_ipv6)
		return gue_error("inner protocol " + std::to_string(g.inner_protocol) +
				 " is neither 4 (IPv4) nor 41 (IPv6)");
	if (load_be16(gue + 2) != 0)
		return gue_error("GUE flags are not 0");
	if (load_be16(gue + 4) != 0)
		return gue_error("private data type is not 0");
	g.next_hop = gue[6];
	g.hop_count = gue[7];
	if (hlen != 1u + g.hop_count)
		return gue_error("hlen " + std::to_string(hlen) + " does not match hop count " +
				 std::to_string(g.hop_count));
	if (g.next_hop > g.hop_count)
		return gue_error("next hop index is past the hop count");
	size_t header = udp_header_size + gue_header_size + 4 * size_t{hlen};
	if (udp_len < header)
		return gue_error("hop list runs past the packet");
	for (unsigned i = 0; i < g.hop_count; i++)
		std::memcpy(&g.hops[i], gue + 8 + 4 * i, 4);
	g.inner = pkt.subspan(outer_ipv4_size + header);

	size_t inner_len = 0;
	if (g.inner_protocol == ip_proto_ipip && g.inner.size() >= 20 && (g.inner[0] >> 4) == 4)
		inner_len = load_be16(g.inner.data() + 2);
	else if (g.inner_protocol == ip_proto_ipv6 && g.inner.size() >= 40 &&
		 (g.inner[0] >> 4) == 6)
		inner_len = 40 + size_t{load_be16(g.inner.data() + 4)};
	else
		return gue_error("inner packet is not the IP version the GUE header names");
	if (inner_len != g.inner.size())
		return gue_error("inner IP length does not match the bytes carried");
	return g;
}

}  // namespace tandem
