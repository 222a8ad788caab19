// SPDX-License-Identifier: Apache-2.0
// forward_frame, the workers' one function: matching, routing and every refusal.
#include <doctest/doctest.h>

#include "forwarder.h"
#include "test_support.h"

using namespace tandem;
using namespace tandem::test;

static const char *yaml = R"(services:
  - name: web
    binds:
      - {address: 10.2.3.0/24, protocol: tcp, ports: [80, "1000-2000"]}
      - {address: "2001:db8::/32", protocol: tcp, ports: [443]}
      - {address: "2001:db8::/32", protocol: udp, ports: [53]}
    hash_key: 000102030405060708090a0b0c0d0e0f
    seed: 0f0e0d0c0b0a09080706050403020100
    hops_per_row: 3
    backends: [{address: 192.0.2.1}, {address: 192.0.2.2}, {address: 192.0.2.3}, {address: 192.0.2.4}]
  - name: dns
    binds:
      - {address: 10.1.2.3, protocol: udp, ports: [53]}
    hash_key: 000102030405060708090a0b0c0d0e0f
    seed: 00112233445566778899aabbccddeeff
    hash_fields: [src_addr, src_port]
    backends: [{address: 192.0.2.5}, {address: 192.0.2.6}]
)";

struct Harness {
	Config cfg = config_from(yaml);
	ServiceSet set = ServiceSet::compile(cfg.services);
	MacAddress mac{2, 0, 0, 0, 0, 9};
	bool resolved = true;
	EncapFields fields{.src_mac = {2, 0, 0, 0, 0, 1}, .source_ip = ip("203.0.113.9").v4_raw()};
	std::vector<uint8_t> buf;

	ForwardResult run(const std::vector<uint8_t> &f, uint32_t headroom = 256, uint32_t max = 0)
	{
		buf.assign(headroom + f.size(), 0);
		std::copy(f.begin(), f.end(), buf.begin() + headroom);
		return forward_frame(set, fields, buf.data(), static_cast<uint32_t>(buf.size()), headroom,
				     static_cast<uint32_t>(f.size()), max,
				     [&](uint32_t) { return resolved ? &mac : nullptr; });
	}
	GuePacket decode(const ForwardResult &r)
	{
		auto g = decode_gue_ipv4({buf.data() + r.offset + 14, r.length - 14});
		REQUIRE_MESSAGE(g.ok(), g.error().message);
		return *g;
	}
};

TEST_CASE("TCP to a VIP in a prefix and a port range is encapsulated with k hops")
{
	Harness h;
	auto r = h.run(frame("tcp-v4-range"));
	REQUIRE(r.verdict == Verdict::ok);
	CHECK(r.service == 0);
	CHECK(r.length == 14 + 20 + 8 + 8 + 4 * 2 + 40);
	auto g = h.decode(r);
	CHECK(g.hop_count == 2);
	CHECK(g.inner_protocol == 4);
	CHECK(g.outer_src == h.fields.source_ip);
	CHECK(g.udp_dest_port == 19523);
	CHECK(g.ttl == 64);
	CHECK(std::equal(h.mac.begin(), h.mac.end(), h.buf.begin() + r.offset));
}

TEST_CASE("an ICMP error lands on the same hops as the flow it quotes")
{
	Harness h;
	// icmp-frag-needed quotes 10.2.3.4:80 -> 198.51.100.7:40000; the flow is the reverse.
	auto err = h.run(frame("icmp-frag-needed"));
	REQUIRE(err.verdict == Verdict::ok);
	auto ge = h.decode(err);
	auto flow = h.run(tcp_frame_v4("198.51.100.7", 40000, "10.2.3.4", 80));
	REQUIRE(flow.verdict == Verdict::ok);
	auto gf = h.decode(flow);
	CHECK(ge.outer_dst == gf.outer_dst);
	CHECK(std::equal(ge.hops.begin(), ge.hops.begin() + ge.hop_count, gf.hops.begin()));
	CHECK(ge.udp_source_port == gf.udp_source_port);

	auto v6 = h.run(frame("icmpv6-too-big"));
	REQUIRE(v6.verdict == Verdict::ok);
	CHECK(h.decode(v6).inner_protocol == 41);
}

TEST_CASE("echo to a VIP, IPv6 and VLAN-tagged frames")
{
	Harness h;
	CHECK(h.run(frame("icmp-echo")).verdict == Verdict::no_service);  // 10.9.9.9 is no VIP
	auto echo = frame("icmp-echo");
	// Destination 10.9.9.9 -> 10.2.3.9, inside web's 10.2.3.0/24: an echo request matches
	// on the address alone.
	echo[14 + 17] = 2;
	echo[14 + 18] = 3;
	auto r = h.run(echo);
	CHECK(r.verdict == Verdict::ok);
	CHECK(h.run(frame("tcp-v6-hbh")).verdict == Verdict::ok);
	auto vlan = h.run(frame("udp-v4-vlan"));
	REQUIRE(vlan.verdict == Verdict::ok);
	CHECK(vlan.service == 1);
	CHECK(vlan.length == 14 + 40 + 12 + 8 + 20);  // the tag is gone from the outer frame
}

TEST_CASE("fragments: routed on addresses, refused where ports are hash fields")
{
	Harness h;
	CHECK(h.run(frame("v6-later-fragment")).verdict == Verdict::ok);  // web hashes src_addr
	auto later = frame("v4-later-fragment");  // TCP to 10.2.3.4: service web
	CHECK(h.run(later).verdict == Verdict::ok);
	auto dns = frame("v4-later-fragment");
	dns[14 + 9] = 17;     // UDP
	dns[14 + 17] = 1;     // 10.1.2.3
	dns[14 + 18] = 2;
	dns[14 + 19] = 3;
	CHECK(h.run(dns).verdict == Verdict::fragment_needs_ports);
	CHECK(h.run(frame("v4-first-fragment")).verdict == Verdict::ok);
}

TEST_CASE("refusals: no service, no headroom, too big, unresolved neighbour, no backend")
{
	Harness h;
	CHECK(h.run(tcp_frame_v4("198.51.100.7", 1, "10.2.3.4", 81)).verdict == Verdict::no_service);
	CHECK(h.run(frame("tcp-v4-range"), 10).verdict == Verdict::no_headroom);
	// 1460 bytes of IP plus 58 of encapsulation (three hops) is 1518 > 1514.
	CHECK(h.run(tcp_frame_v4("198.51.100.7", 1, "10.2.3.4", 80, 0x10, 1420), 256, 1514).verdict ==
	      Verdict::too_big);
	CHECK(h.run(tcp_frame_v4("198.51.100.7", 1, "10.2.3.4", 80, 0x10, 1400), 256, 1514).verdict ==
	      Verdict::ok);
	h.resolved = false;
	CHECK(h.run(frame("tcp-v4-range")).verdict == Verdict::no_neighbour);

	auto empty = config_from("services:\n  - name: e\n    binds: [{address: 10.2.3.4, protocol: tcp, ports: [80]}]\n"
				 "    hash_key: 000102030405060708090a0b0c0d0e0f\n    seed: 000102030405060708090a0b0c0d0e0f\n");
	h.set = ServiceSet::compile(empty.services);
	h.resolved = true;
	CHECK(h.run(frame("tcp-v4-range")).verdict == Verdict::no_service);
	CHECK(h.run(tcp_frame_v4("198.51.100.7", 1, "10.2.3.4", 80)).verdict == Verdict::no_backend);
}

TEST_CASE("the decoder refuses malformed GUE")
{
	Harness h;
	auto r = h.run(frame("tcp-v4-range"));
	REQUIRE(r.verdict == Verdict::ok);
	std::vector<uint8_t> pkt(h.buf.begin() + r.offset + 14, h.buf.begin() + r.offset + r.length);
	REQUIRE(decode_gue_ipv4(pkt).ok());
	auto broken = [&](size_t at, uint8_t v) {
		auto p = pkt;
		p[at] = v;
		return decode_gue_ipv4(p).ok() ? std::string() : decode_gue_ipv4(p).error().message;
	};
	CHECK(broken(28, 0x05) == "GUE packet: hlen 5 does not match hop count 2");
	CHECK(broken(29, 17) == "GUE packet: inner protocol 17 is neither 4 (IPv4) nor 41 (IPv6)");
	CHECK(broken(35, 1) == "GUE packet: hlen 3 does not match hop count 1");
	CHECK(broken(34, 3) == "GUE packet: next hop index is past the hop count");
	CHECK(broken(10, 0) == "GUE packet: outer IPv4 header checksum is wrong");
	CHECK(decode_gue_ipv4({pkt.data(), 30}).error().message ==
	      "GUE packet: outer IPv4 total length 84 but 30 bytes present");
}
