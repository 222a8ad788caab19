// SPDX-License-Identifier: Apache-2.0
// The frame parser: every frame gets a defined verdict, flows come out from the client's
// side, ICMP errors come out reversed.
#include <doctest/doctest.h>

#include "packet.h"
#include "test_support.h"

using namespace tandem;
using namespace tandem::test;

static ParsedPacket parse(const std::vector<uint8_t> &f)
{
	return parse_frame(f.data(), f.size());
}

TEST_CASE("TCP over IPv4: addresses, ports, hint, lengths")
{
	auto p = parse(frame("syn-v4"));
	REQUIRE(p.verdict == Verdict::ok);
	CHECK(p.kind == PacketKind::transport);
	CHECK(p.family == Family::v4);
	CHECK(p.protocol == ip_proto_tcp);
	CHECK(p.src_address() == ip("10.11.12.13"));
	CHECK(p.dst_address() == ip("1.1.1.1"));
	CHECK(p.src_port == 45678);
	CHECK(p.dst_port == 80);
	CHECK(p.hint == 45678);
	CHECK(p.l3_offset == 14);
	CHECK(p.l3_length == 40);
}

TEST_CASE("IPv4 options are skipped by IHL")
{
	auto p = parse(frame("tcp-v4-options"));
	REQUIRE(p.verdict == Verdict::ok);
	CHECK(p.src_port == 40002);
	CHECK(p.dst_port == 80);
}

TEST_CASE("one 802.1Q tag is skipped")
{
	auto p = parse(frame("udp-v4-vlan"));
	REQUIRE(p.verdict == Verdict::ok);
	CHECK(p.l3_offset == 18);
	CHECK(p.protocol == ip_proto_udp);
	CHECK(p.dst_port == 53);
}

TEST_CASE("IPv6 with extension headers")
{
	auto p = parse(frame("tcp-v6-hbh"));
	REQUIRE(p.verdict == Verdict::ok);
	CHECK(p.family == Family::v6);
	CHECK(p.src_address() == ip("2001:db8:1::7"));
	CHECK(p.dst_port == 443);

	p = parse(frame("v6-routing-destopt-udp"));
	REQUIRE(p.verdict == Verdict::ok);
	CHECK(p.protocol == ip_proto_udp);
	CHECK(p.src_port == 5353);

	CHECK(parse(frame("v6-ext-chain-9")).verdict == Verdict::bad_ipv6_extension);
}

TEST_CASE("ICMP errors carry the quoted flow, reversed")
{
	auto p = parse(frame("icmp-frag-needed"));  // quotes 10.2.3.4:80 -> 198.51.100.7:40000
	REQUIRE(p.verdict == Verdict::ok);
	CHECK(p.kind == PacketKind::icmp_error);
	CHECK(p.protocol == ip_proto_tcp);
	CHECK(p.src_address() == ip("198.51.100.7"));
	CHECK(p.dst_address() == ip("10.2.3.4"));
	CHECK(p.src_port == 40000);
	CHECK(p.dst_port == 80);
	CHECK(p.hint == 40000);

	p = parse(frame("icmpv6-too-big"));
	REQUIRE(p.verdict == Verdict::ok);
	CHECK(p.kind == PacketKind::icmp_error);
	CHECK(p.src_address() == ip("2001:db8:1::7"));
	CHECK(p.dst_address() == ip("2001:db8::1"));
	CHECK(p.src_port == 40001);
	CHECK(p.dst_port == 443);

	CHECK(parse(frame("icmp-quoting-icmp")).verdict == Verdict::bad_icmp_quote);
}

TEST_CASE("echo requests: no ports, hint from IP ID or flow label")
{
	auto p = parse(frame("icmp-echo"));
	REQUIRE(p.verdict == Verdict::ok);
	CHECK(p.kind == PacketKind::icmp_echo);
	CHECK(p.hint == 4242);
	CHECK(p.src_port == 0);

	p = parse(frame("icmpv6-echo"));
	REQUIRE(p.verdict == Verdict::ok);
	CHECK(p.kind == PacketKind::icmp_echo);
	CHECK(p.hint == 0x2345);  // the low 16 bits of flow label 0x12345
}

TEST_CASE("fragments: the first has ports, later ones are marked and carry none")
{
	auto p = parse(frame("v4-first-fragment"));
	REQUIRE(p.verdict == Verdict::ok);
	CHECK(p.kind == PacketKind::transport);
	CHECK(p.dst_port == 53);

	p = parse(frame("v4-later-fragment"));
	REQUIRE(p.verdict == Verdict::ok);
	CHECK(p.kind == PacketKind::later_fragment);
	CHECK(p.protocol == ip_proto_tcp);
	CHECK(p.src_port == 0);
	CHECK(p.dst_port == 0);

	p = parse(frame("v6-fragment"));
	REQUIRE(p.verdict == Verdict::ok);
	CHECK(p.kind == PacketKind::transport);

	p = parse(frame("v6-later-fragment"));
	REQUIRE(p.verdict == Verdict::ok);
	CHECK(p.kind == PacketKind::later_fragment);
	CHECK(p.protocol == ip_proto_udp);
	CHECK(p.hint == 0xabcd);
}

TEST_CASE("what the director does not carry gets its own verdict")
{
	CHECK(parse(frame("arp")).verdict == Verdict::not_ip);
	CHECK(parse(frame("ndp-ns")).verdict == Verdict::unsupported_icmp);
	CHECK(parse(frame("gre-v4")).verdict == Verdict::unsupported_protocol);
}

TEST_CASE("bad headers and lengths")
{
	auto f = frame("syn-v4");
	SUBCASE("IHL below 5") {
		f[14] = 0x44;
		CHECK(parse(f).verdict == Verdict::bad_ip_header_length);
	}
	SUBCASE("IHL past the frame") {
		f[14] = 0x4f;
		f.resize(14 + 40);
		CHECK(parse(f).verdict == Verdict::bad_ip_header_length);
	}
	SUBCASE("total length past the frame") {
		f[16] = 0x01;
		CHECK(parse(f).verdict == Verdict::bad_ip_total_length);
	}
	SUBCASE("total length below the header") {
		f[16] = 0;
		f[17] = 10;
		CHECK(parse(f).verdict == Verdict::bad_ip_total_length);
	}
	SUBCASE("version 5 under an IPv4 ethertype") {
		f[14] = 0x55;
		CHECK(parse(f).verdict == Verdict::bad_ip_version);
	}
	SUBCASE("Ethernet padding is not part of the packet") {
		f.resize(f.size() + 6, 0);
		auto p = parse(f);
		CHECK(p.verdict == Verdict::ok);
		CHECK(p.l3_length == 40);
	}
	SUBCASE("an IPv6 jumbogram (payload length 0)") {
		auto g = frame("udp-v6");
		g[18] = g[19] = 0;
		CHECK(parse(g).verdict == Verdict::bad_ip_total_length);
	}
}

TEST_CASE("every truncation of every test frame gets a defined verdict")
{
	for (const char *name : {"syn-v4", "tcp-v4-options", "udp-v4-vlan", "tcp-v6-hbh",
				 "icmp-frag-needed", "icmpv6-too-big", "icmp-echo", "icmpv6-echo",
				 "v6-fragment", "v6-routing-destopt-udp", "v4-first-fragment"}) {
		auto f = frame(name);
		CHECK(parse(f).verdict == Verdict::ok);
		for (size_t n = 0; n < f.size(); n++) {
			// A copy of exactly n bytes, so ASan sees any read past the end.
			std::vector<uint8_t> cut(f.begin(), f.begin() + static_cast<long>(n));
			auto p = parse_frame(cut.data(), cut.size());
			CHECK(static_cast<size_t>(p.verdict) < verdict_count);
			if (n < 14)
				CHECK(p.verdict == Verdict::truncated_ethernet);
		}
	}
}
