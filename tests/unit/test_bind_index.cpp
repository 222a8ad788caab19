// SPDX-License-Identifier: Apache-2.0
// ServiceSet::match through the bind index against the scan of every bind, for every
// kind of packet over addresses, protocols and ports around the configured binds:
// exact binds sharing an address across services, prefixes before and after them, and
// port ranges too wide to index.
#include <doctest/doctest.h>

#include "service_set.h"
#include "test_support.h"

using namespace tandem;
using namespace tandem::test;

static const char *yaml = R"(services:
  - name: prefix-first
    binds:
      - {address: 10.0.0.0/24, protocol: tcp, ports: [80]}
    hash_key: 000102030405060708090a0b0c0d0e0f
    seed: 0f0e0d0c0b0a09080706050403020100
    backends: [{address: 192.0.2.1}]
  - name: exact-a
    binds:
      - {address: 10.0.0.5, protocol: tcp, ports: [443, "8000-8003"]}
      - {address: 10.0.1.1, protocol: udp, ports: [53]}
      - {address: "2001:db8::1", protocol: tcp, ports: [80, 443]}
    hash_key: 000102030405060708090a0b0c0d0e0f
    seed: 0f0e0d0c0b0a09080706050403020100
    backends: [{address: 192.0.2.2}]
  - name: exact-b
    binds:
      - {address: 10.0.1.1, protocol: tcp, ports: [80]}
      - {address: 10.0.1.1, protocol: udp, ports: ["2000-65535"]}
      - {address: "2001:db8::1", protocol: udp, ports: [53]}
    hash_key: 000102030405060708090a0b0c0d0e0f
    seed: 0f0e0d0c0b0a09080706050403020100
    backends: [{address: 192.0.2.3}]
  - name: prefix-last
    binds:
      - {address: 10.0.2.0/23, protocol: tcp, ports: ["1-65535"]}
      - {address: "2001:db8:1::/48", protocol: udp, ports: [53]}
    hash_key: 000102030405060708090a0b0c0d0e0f
    seed: 0f0e0d0c0b0a09080706050403020100
    backends: [{address: 192.0.2.4}]
)";

TEST_CASE("bind index: the same service as a scan of every bind, for every packet kind")
{
	Config cfg = config_from(yaml);
	ServiceSet set = ServiceSet::compile(cfg.services);
	const char *addresses[] = {"10.0.0.5", "10.0.0.6", "10.0.1.1", "10.0.2.7", "10.0.3.255",
				   "10.0.4.1", "2001:db8::1", "2001:db8::2", "2001:db8:1::9"};
	const uint16_t ports[] = {0, 1, 53, 80, 443, 1999, 2000, 8000, 8003, 8004, 65535};
	const PacketKind kinds[] = {PacketKind::transport, PacketKind::icmp_error,
				    PacketKind::icmp_echo, PacketKind::later_fragment};
	int matched = 0, total = 0;
	for (const char *a : addresses)
		for (uint8_t proto : {uint8_t{6}, uint8_t{17}})
			for (uint16_t port : ports)
				for (PacketKind kind : kinds) {
					const IpAddress dst = ip(a);
					ParsedPacket p;
					p.family = dst.family;
					p.dst = dst.bytes;
					p.kind = kind;
					p.protocol = kind == PacketKind::icmp_echo ? (dst.is_v4() ? 1 : 58) : proto;
					p.dst_port = kind == PacketKind::transport || kind == PacketKind::icmp_error ? port : 0;
					CAPTURE(a);
					CAPTURE(int{proto});
					CAPTURE(port);
					CAPTURE(static_cast<int>(kind));
					const int want = set.match_by_scan(p);
					CHECK(set.match(p) == want);
					matched += want >= 0;
					total++;
				}
	// The cases cover matches and misses of every service.
	MESSAGE(matched, " of ", total, " packets matched");
	CHECK(matched > total / 4);
	CHECK(matched < total);
}
