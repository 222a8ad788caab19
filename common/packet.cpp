// SPDX-License-Identifier: Apache-2.0
#include "packet.h"

#include <cstring>

#include "bytes.h"

namespace tandem {
namespace {

constexpr uint16_t ethertype_ipv4 = 0x0800;
constexpr uint16_t ethertype_ipv6 = 0x86dd;
constexpr uint16_t ethertype_vlan = 0x8100;
constexpr size_t ethernet_header = 14;
constexpr size_t vlan_tag = 4;
constexpr size_t ipv4_min_header = 20;
constexpr size_t ipv6_header = 40;
constexpr size_t icmp_header = 8;  // type, code, checksum, 4 bytes (unused / MTU)
constexpr uint8_t icmp_dest_unreachable = 3;
constexpr uint8_t icmp_echo_request = 8;
constexpr uint8_t icmpv6_packet_too_big = 2;
constexpr uint8_t icmpv6_echo_request = 128;
constexpr int ipv6_max_extension_headers = 8;

// A bounded view of the bytes of one IP packet.
struct Bytes {
	const uint8_t *p;
	size_t len;
	bool has(size_t off, size_t n) const { return off <= len && n <= len - off; }
};

struct Ipv6Walk {
	Verdict verdict = Verdict::ok;
	uint8_t protocol = 0;
	size_t l4_offset = 0;
	bool later_fragment = false;
	uint32_t fragment_id = 0;
};

// Walks the IPv6 extension headers a router or host commonly sends.
Ipv6Walk walk_ipv6(Bytes pkt)
{
	Ipv6Walk w;
	uint8_t next = pkt.p[6];
	size_t off = ipv6_header;
	for (int i = 0; i <= ipv6_max_extension_headers; i++) {
		size_t hlen;
		switch (next) {
		case 0:   // hop-by-hop options
		case 43:  // routing
		case 60:  // destination options
			if (!pkt.has(off, 2))
				return {Verdict::bad_ipv6_extension};
			hlen = (size_t{pkt.p[off + 1]} + 1) * 8;
			break;
		case 51:  // authentication header
			if (!pkt.has(off, 2))
				return {Verdict::bad_ipv6_extension};
			hlen = (size_t{pkt.p[off + 1]} + 2) * 4;
			break;
		case 44:  // fragment
			if (!pkt.has(off, 8))
				return {Verdict::bad_ipv6_extension};
			hlen = 8;
			if ((load_be16(pkt.p + off + 2) & 0xfff8) != 0) {
				w.later_fragment = true;
				w.fragment_id = load_be32(pkt.p + off + 4);
			}
			break;
		default:
			w.protocol = next;
			w.l4_offset = off;
			return w;
		}
		if (!pkt.has(off, hlen))
			return {Verdict::bad_ipv6_extension};
		next = pkt.p[off];
		off += hlen;
	}
	return {Verdict::bad_ipv6_extension};
}

void copy_ports(ParsedPacket &out, const uint8_t *l4, bool reversed)
{
	uint16_t a = load_be16(l4), b = load_be16(l4 + 2);
	out.src_port = reversed ? b : a;
	out.dst_port = reversed ? a : b;
	out.hint = out.src_port;
}

void copy_addresses(ParsedPacket &out, const uint8_t *src, const uint8_t *dst, size_t n)
{
	std::memcpy(out.src.data(), src, n);
	std::memcpy(out.dst.data(), dst, n);
}

bool is_port_protocol(uint8_t proto)
{
	return proto == ip_proto_tcp || proto == ip_proto_udp;
}

// The packet an ICMP error quotes is one the VIP sent to the client: reverse it.
void parse_quoted_ipv4(ParsedPacket &out, Bytes q)
{
	if (!q.has(0, ipv4_min_header) || (q.p[0] >> 4) != 4) {
		out.verdict = Verdict::bad_icmp_quote;
		return;
	}
	size_t ihl = static_cast<size_t>(q.p[0] & 0x0f) * 4;
	uint8_t proto = q.p[9];
	if (ihl < ipv4_min_header || !q.has(ihl, 4) || !is_port_protocol(proto)) {
		out.verdict = Verdict::bad_icmp_quote;
		return;
	}
	copy_addresses(out, q.p + 16, q.p + 12, 4);
	out.protocol = proto;
	copy_ports(out, q.p + ihl, true);
}

void parse_quoted_ipv6(ParsedPacket &out, Bytes q)
{
	if (!q.has(0, ipv6_header) || (q.p[0] >> 4) != 6) {
		out.verdict = Verdict::bad_icmp_quote;
		return;
	}
	Ipv6Walk w = walk_ipv6(q);
	if (w.verdict != Verdict::ok || !is_port_protocol(w.protocol) || w.later_fragment ||
	    !q.has(w.l4_offset, 4)) {
		out.verdict = Verdict::bad_icmp_quote;
		return;
	}
	copy_addresses(out, q.p + 24, q.p + 8, 16);
	out.protocol = w.protocol;
	copy_ports(out, q.p + w.l4_offset, true);
}

void parse_l4(ParsedPacket &out, Bytes pkt, size_t l4, uint8_t proto, uint16_t echo_hint)
{
	bool v4 = out.family == Family::v4;
	if (is_port_protocol(proto)) {
		if (!pkt.has(l4, 4)) {
			out.verdict = Verdict::truncated_l4;
			return;
		}
		out.protocol = proto;
		copy_ports(out, pkt.p + l4, false);
		return;
	}
	if (proto != (v4 ? ip_proto_icmp : ip_proto_icmpv6)) {
		out.verdict = Verdict::unsupported_protocol;
		return;
	}
	if (!pkt.has(l4, icmp_header)) {
		out.verdict = Verdict::truncated_l4;
		return;
	}
	uint8_t type = pkt.p[l4];
	if (type == (v4 ? icmp_dest_unreachable : icmpv6_packet_too_big)) {
		out.kind = PacketKind::icmp_error;
		Bytes quote{pkt.p + l4 + icmp_header, pkt.len - l4 - icmp_header};
		if (v4)
			parse_quoted_ipv4(out, quote);
		else
			parse_quoted_ipv6(out, quote);
		return;
	}
	if (type == (v4 ? icmp_echo_request : icmpv6_echo_request)) {
		out.kind = PacketKind::icmp_echo;
		out.protocol = proto;
		out.hint = echo_hint;
		return;
	}
	out.verdict = Verdict::unsupported_icmp;
}

void parse_ipv4(ParsedPacket &out, const uint8_t *ip, size_t avail)
{
	if (avail < ipv4_min_header) {
		out.verdict = Verdict::truncated_ip;
		return;
	}
	if ((ip[0] >> 4) != 4) {
		out.verdict = Verdict::bad_ip_version;
		return;
	}
	size_t ihl = static_cast<size_t>(ip[0] & 0x0f) * 4;
	size_t total = load_be16(ip + 2);
	if (ihl < ipv4_min_header || ihl > avail) {
		out.verdict = Verdict::bad_ip_header_length;
		return;
	}
	if (total < ihl || total > avail) {
		out.verdict = Verdict::bad_ip_total_length;
		return;
	}
	out.family = Family::v4;
	out.l3_length = static_cast<uint16_t>(total);
	copy_addresses(out, ip + 12, ip + 16, 4);
	uint16_t id = load_be16(ip + 4);
	uint8_t proto = ip[9];
	if ((load_be16(ip + 6) & 0x1fff) != 0) {
		out.kind = PacketKind::later_fragment;
		out.protocol = proto;
		out.hint = id;
		return;
	}
	parse_l4(out, Bytes{ip, total}, ihl, proto, id);
}

void parse_ipv6(ParsedPacket &out, const uint8_t *ip, size_t avail)
{
	if (avail < ipv6_header) {
		out.verdict = Verdict::truncated_ip;
		return;
	}
	if ((ip[0] >> 4) != 6) {
		out.verdict = Verdict::bad_ip_version;
		return;
	}
	size_t payload = load_be16(ip + 4);
	if (payload == 0 || ipv6_header + payload > avail) {
		out.verdict = Verdict::bad_ip_total_length;  // jumbograms included
		return;
	}
	out.family = Family::v6;
	out.l3_length = static_cast<uint16_t>(ipv6_header + payload);
	copy_addresses(out, ip + 8, ip + 24, 16);
	Bytes pkt{ip, out.l3_length};
	Ipv6Walk w = walk_ipv6(pkt);
	if (w.verdict != Verdict::ok) {
		out.verdict = w.verdict;
		return;
	}
	if (w.later_fragment) {
		out.kind = PacketKind::later_fragment;
		out.protocol = w.protocol;
		out.hint = static_cast<uint16_t>(w.fragment_id);
		return;
	}
	uint16_t flow_label_low = load_be16(ip + 2);
	parse_l4(out, pkt, w.l4_offset, w.protocol, flow_label_low);
}

}  // namespace

ParsedPacket parse_frame(const uint8_t *frame, size_t len) noexcept
{
	ParsedPacket out;
	if (len < ethernet_header) {
		out.verdict = Verdict::truncated_ethernet;
		return out;
	}
	size_t off = ethernet_header;
	uint16_t type = load_be16(frame + 12);
	if (type == ethertype_vlan) {
		if (len < ethernet_header + vlan_tag) {
			out.verdict = Verdict::truncated_ethernet;
			return out;
		}
		type = load_be16(frame + 16);
		off += vlan_tag;
	}
	out.l3_offset = static_cast<uint16_t>(off);
	// An IP packet longer than 64 KiB cannot be described by its own header.
	size_t avail = len - off > 0xffff ? 0xffff : len - off;
	if (type == ethertype_ipv4)
		parse_ipv4(out, frame + off, avail);
	else if (type == ethertype_ipv6)
		parse_ipv6(out, frame + off, avail);
	else
		out.verdict = Verdict::not_ip;
	return out;
}

}  // namespace tandem
