// SPDX-License-Identifier: Apache-2.0
// build_too_big_reply: the ICMP errors the director answers too-big frames with, and the
// frames it must not answer. (The byte-exact comparison with scapy is in the netns suite.)
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "bytes.h"
#include "icmp_too_big.h"

using namespace tandem;

namespace {

constexpr uint32_t headroom = 256;
const uint8_t client_mac[6] = {2, 0, 0, 0, 0, 1};
const uint8_t director_mac[6] = {2, 0, 0, 0, 0, 2};

uint16_t sum16(const uint8_t *p, size_t n, uint32_t s = 0)
{
	for (; n >= 2; p += 2, n -= 2)
		s += load_be16(p);
	if (n)
		s += uint32_t{p[0]} << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return static_cast<uint16_t>(s);
}

// headroom, then Ethernet (optionally VLAN 100) and an IP packet of ip_len bytes carrying
// TCP 10.0.0.1:40000 -> 192.0.2.10:80 (or [fd00::1] -> [2001:db8::10]).
std::vector<uint8_t> frame(bool v6, uint32_t ip_len, bool df = true, bool vlan = false,
			   uint8_t proto = 6, uint8_t first_src = 10)
{
	std::vector<uint8_t> b(headroom, 0xee);
	b.insert(b.end(), director_mac, director_mac + 6);
	b.insert(b.end(), client_mac, client_mac + 6);
	if (vlan) {
		b.push_back(0x81), b.push_back(0x00), b.push_back(0x00), b.push_back(100);
	}
	b.push_back(v6 ? 0x86 : 0x08), b.push_back(v6 ? 0xdd : 0x00);
	size_t ip = b.size();
	b.resize(ip + ip_len);
	for (uint32_t i = 0; i < ip_len; i++)
		b[ip + i] = static_cast<uint8_t>(i * 7);
	uint8_t *p = b.data() + ip;
	size_t l4;
	if (!v6) {
		p[0] = 0x45, p[1] = 0;
		store_be16(p + 2, static_cast<uint16_t>(ip_len));
		store_be16(p + 4, 0x1234);
		store_be16(p + 6, df ? 0x4000 : 0);
		p[8] = 64, p[9] = proto;
		const uint8_t s[4] = {first_src, 0, 0, 1}, d[4] = {192, 0, 2, 10};
		std::memcpy(p + 12, s, 4), std::memcpy(p + 16, d, 4);
		store_be16(p + 10, 0);
		store_be16(p + 10, static_cast<uint16_t>(~sum16(p, 20)));
		l4 = 20;
	} else {
		store_be32(p, 0x60000000);
		store_be16(p + 4, static_cast<uint16_t>(ip_len - 40));
		p[6] = proto, p[7] = 64;
		uint8_t s[16] = {0xfd, 0}, d[16] = {0x20, 0x01, 0x0d, 0xb8};
		s[15] = 1, d[15] = 0x10;
		if (first_src != 10)
			s[0] = first_src;
		std::memcpy(p + 8, s, 16), std::memcpy(p + 24, d, 16);
		l4 = 40;
	}
	if (proto == 6) {
		store_be16(p + l4, 40000), store_be16(p + l4 + 2, 80);
	} else if (proto == 1 || proto == 58) {  // an ICMP error quoting a VIP flow
		p[l4] = proto == 1 ? 3 : 1;
		p[l4 + 1] = 1;
	}
	return b;
}

TooBigReply build(std::vector<uint8_t> &b, uint32_t mtu)
{
	return build_too_big_reply(b.data(), static_cast<uint32_t>(b.size()), headroom,
				   static_cast<uint32_t>(b.size() - headroom), mtu);
}

}  // namespace

TEST_CASE("IPv4 with DF: fragmentation needed from the VIP, quoting 548 bytes")
{
	auto b = frame(false, 1500);
	const std::vector<uint8_t> orig(b.begin() + headroom + 14, b.end());
	auto r = build(b, 1460);
	REQUIRE(r.answer == TooBigAnswer::reply);
	CHECK(r.length == 14 + 576);
	CHECK(r.offset == headroom - 28);
	const uint8_t *e = b.data() + r.offset;
	CHECK(std::memcmp(e, client_mac, 6) == 0);
	CHECK(std::memcmp(e + 6, director_mac, 6) == 0);
	CHECK(load_be16(e + 12) == 0x0800);
	const uint8_t *ip = e + 14;
	CHECK(ip[0] == 0x45);
	CHECK(load_be16(ip + 2) == 576);
	CHECK(ip[8] == 64);
	CHECK(ip[9] == 1);
	CHECK(sum16(ip, 20) == 0xffff);
	CHECK(std::memcmp(ip + 12, orig.data() + 16, 4) == 0);  // from the VIP
	CHECK(std::memcmp(ip + 16, orig.data() + 12, 4) == 0);  // to the client
	const uint8_t *icmp = ip + 20;
	CHECK(icmp[0] == 3);
	CHECK(icmp[1] == 4);
	CHECK(load_be16(icmp + 4) == 0);
	CHECK(load_be16(icmp + 6) == 1460);
	CHECK(sum16(icmp, 8 + 548) == 0xffff);
	CHECK(std::memcmp(icmp + 8, orig.data(), 548) == 0);
}

TEST_CASE("a short packet is quoted whole; a VLAN tag is kept")
{
	auto b = frame(false, 100, true, true);
	auto r = build(b, 1000);
	REQUIRE(r.answer == TooBigAnswer::reply);
	CHECK(r.length == 18 + 20 + 8 + 100);
	const uint8_t *e = b.data() + r.offset;
	CHECK(load_be16(e + 12) == 0x8100);
	CHECK(load_be16(e + 14) == 100);
	CHECK(load_be16(e + 16) == 0x0800);
	CHECK(sum16(e + 18 + 20, 108) == 0xffff);
}

TEST_CASE("the announced IPv4 MTU is at least 68")
{
	auto b = frame(false, 200);
	auto r = build(b, 10);
	REQUIRE(r.answer == TooBigAnswer::reply);
	CHECK(load_be16(b.data() + r.offset + 14 + 20 + 6) == 68);
}

TEST_CASE("IPv6: packet too big, MTU at least 1280, the reply at most 1280 bytes")
{
	auto b = frame(true, 1500);
	const std::vector<uint8_t> orig(b.begin() + headroom + 14, b.end());
	auto r = build(b, 1200);
	REQUIRE(r.answer == TooBigAnswer::reply);
	CHECK(r.length == 14 + 1280);
	const uint8_t *ip = b.data() + r.offset + 14;
	CHECK(load_be16(b.data() + r.offset + 12) == 0x86dd);
	CHECK(load_be32(ip) == 0x60000000);
	CHECK(load_be16(ip + 4) == 1240);
	CHECK(ip[6] == 58);
	CHECK(std::memcmp(ip + 8, orig.data() + 24, 16) == 0);
	CHECK(std::memcmp(ip + 24, orig.data() + 8, 16) == 0);
	const uint8_t *icmp = ip + 40;
	CHECK(icmp[0] == 2);
	CHECK(icmp[1] == 0);
	CHECK(load_be32(icmp + 4) == 1280);
	uint32_t pseudo = sum16(ip + 8, 32) + 1240 + 58;
	CHECK(sum16(icmp, 1240, pseudo) == 0xffff);
	CHECK(std::memcmp(icmp + 8, orig.data(), 1232) == 0);

	auto b2 = frame(true, 1500);
	auto r2 = build(b2, 1460);
	CHECK(load_be32(b2.data() + r2.offset + 14 + 40 + 4) == 1460);
}

TEST_CASE("frames never answered leave the buffer untouched")
{
	struct Case {
		const char *name;
		std::vector<uint8_t> f;
		TooBigAnswer want;
	};
	Case cases[] = {
		{"IPv4 without DF", frame(false, 1500, false), TooBigAnswer::no_df},
		{"an ICMP error", frame(false, 1500, true, false, 1), TooBigAnswer::not_answerable},
		{"an ICMPv6 error", frame(true, 1500, true, false, 58), TooBigAnswer::not_answerable},
		{"from 0.0.0.0/8", frame(false, 1500, true, false, 6, 0), TooBigAnswer::not_answerable},
		{"from 127/8", frame(false, 1500, true, false, 6, 127), TooBigAnswer::not_answerable},
		{"from multicast", frame(false, 1500, true, false, 6, 224), TooBigAnswer::not_answerable},
		{"from IPv6 multicast", frame(true, 1500, true, false, 6, 0xff), TooBigAnswer::not_answerable},
	};
	for (Case &c : cases) {
		CAPTURE(c.name);
		const std::vector<uint8_t> before = c.f;
		CHECK(classify_too_big(c.f.data() + headroom, static_cast<uint32_t>(c.f.size() - headroom)) == c.want);
		auto r = build(c.f, 1460);
		CHECK(r.answer == c.want);
		CHECK(c.f == before);
	}
}

TEST_CASE("no headroom, a truncated frame or bounds outside the buffer: no reply")
{
	auto b = frame(false, 1500);
	auto r = build_too_big_reply(b.data() + headroom - 10, static_cast<uint32_t>(b.size() - headroom + 10),
				     10, static_cast<uint32_t>(b.size() - headroom), 1460);
	CHECK(r.answer == TooBigAnswer::not_answerable);
	CHECK(build_too_big_reply(b.data(), 100, headroom, 1514, 1460).answer == TooBigAnswer::not_answerable);
	CHECK(build_too_big_reply(b.data(), static_cast<uint32_t>(b.size()), headroom, 30, 1460).answer ==
	      TooBigAnswer::not_answerable);
}
