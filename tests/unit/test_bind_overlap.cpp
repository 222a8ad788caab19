// SPDX-License-Identifier: Apache-2.0
// earlier_overlaps against the pairwise reference (Bind::overlaps): the same binds are
// reported, each naming an earlier bind it really overlaps; the common shapes by hand,
// then random binds with nested prefixes and ranges.
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "bind_overlap.h"
#include "config.h"

using namespace tandem;

namespace {

Bind bind(const std::string &prefix, Protocol proto, std::vector<PortRange> ports)
{
	return Bind{.prefix = *IpPrefix::parse(prefix), .protocol = proto, .ports = std::move(ports), .mark = {}, .written = {}};
}

std::vector<std::optional<size_t>> run(const std::vector<Bind> &binds)
{
	std::vector<const Bind *> p;
	for (const Bind &b : binds)
		p.push_back(&b);
	return earlier_overlaps(p);
}

// The reference: does bind i overlap any earlier bind?
bool overlaps_earlier(const std::vector<Bind> &binds, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (binds[i].overlaps(binds[j]))
			return true;
	return false;
}

}  // namespace

TEST_CASE("overlaps by hand: nesting both ways, ports, protocols, families")
{
	const Protocol tcp = Protocol::tcp, udp = Protocol::udp;
	std::vector<Bind> b = {
		bind("192.0.2.10", tcp, {{80, 80}, {443, 443}}),     // 0
		bind("192.0.2.0/24", tcp, {{8000, 8080}}),            // 1: holds 0, other ports
		bind("192.0.2.0/24", udp, {{80, 80}}),                // 2: other protocol
		bind("192.0.2.10", tcp, {{443, 443}}),                // 3: equal to part of 0
		bind("192.0.0.0/16", tcp, {{8080, 9000}}),            // 4: holds 1, meets its 8080
		bind("192.0.3.1", tcp, {{1, 65535}}),                 // 5: inside 4 (a later wider one)
		bind("2001:db8::/32", tcp, {{80, 80}}),               // 6: IPv6, no IPv4 meets it
		bind("2001:db8:0:1::1", tcp, {{1, 100}}),             // 7: inside 6
		bind("10.0.0.0/8", tcp, {{80, 80}}),                  // 8: apart
		bind("10.1.0.0/16", tcp, {{81, 90}}),                 // 9: inside 8, ports apart
		bind("10.1.2.0/24", tcp, {{79, 81}}),                 // 10: inside 8 and 9, meets both
	};
	auto got = run(b);
	std::vector<std::optional<size_t>> want = {std::nullopt, std::nullopt, std::nullopt, 0, 1,
						   4, std::nullopt, 6, std::nullopt, std::nullopt, 8};
	CHECK(got == want);
}

TEST_CASE("random binds: the same binds reported as comparing every pair, each naming a real overlap")
{
	std::mt19937 rng(20240610);
	auto pick = [&](unsigned n) { return static_cast<unsigned>(rng() % n); };
	for (int round = 0; round < 200; round++) {
		std::vector<Bind> binds;
		const unsigned n = 1 + pick(60);
		for (unsigned i = 0; i < n; i++) {
			// Few addresses and lengths so that nesting and equality are common.
			std::string prefix;
			if (pick(4) == 0) {
				static const char *six[] = {"2001:db8::/32", "2001:db8::/48", "2001:db8::1",
							    "2001:db8:1::/48", "2001:db8:1::5", "fd00::/8"};
				prefix = six[pick(6)];
			} else {
				unsigned len = std::vector<unsigned>{8, 16, 24, 28, 32}[pick(5)];
				uint32_t a = (10u << 24) | (pick(2) << 16) | (pick(3) << 8) | pick(20);
				a &= len == 32 ? ~0u : ~((1u << (32 - len)) - 1);
				prefix = std::to_string(a >> 24) + "." + std::to_string(a >> 16 & 255) + "." +
					 std::to_string(a >> 8 & 255) + "." + std::to_string(a & 255) + "/" +
					 std::to_string(len);
			}
			std::vector<PortRange> ports;
			for (unsigned k = 0, m = 1 + pick(3); k < m; k++) {
				uint16_t first = static_cast<uint16_t>(1 + pick(200));
				uint16_t last = static_cast<uint16_t>(first + (pick(3) == 0 ? pick(100) : 0));
				ports.push_back({first, last});
			}
			binds.push_back(bind(prefix, pick(3) == 0 ? Protocol::udp : Protocol::tcp, ports));
		}
		auto got = run(binds);
		REQUIRE(got.size() == binds.size());
		for (size_t i = 0; i < binds.size(); i++) {
			INFO("round " << round << ", bind " << i << " " << binds[i].prefix.to_string());
			CHECK(got[i].has_value() == overlaps_earlier(binds, i));
			if (got[i]) {
				CHECK(*got[i] < i);
				CHECK(binds[i].overlaps(binds[*got[i]]));
			}
		}
	}
}
