// SPDX-License-Identifier: Apache-2.0
// proxy.yaml parsing: defaults, every field, and the error messages
// (FILE:LINE:COLUMN: FIELD: message) an operator sees.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "mss_clamp.h"
#include "proxy_config.h"

using tandem::proxy::parse_proxy_config;

namespace {

std::string error_of(const std::string &yaml)
{
	auto r = parse_proxy_config(yaml, "proxy.yaml");
	REQUIRE_FALSE(r.ok());
	return r.error().message;
}

}  // namespace

TEST_CASE("minimal file takes the defaults")
{
	auto r = parse_proxy_config("gue_port: 19523\nvips: []\n", "proxy.yaml");
	REQUIRE(r.ok());
	CHECK(r->gue_port == 19523);
	CHECK(r->vips.empty());
	CHECK(r->enabled);
	CHECK(r->vip_device == "lo");
	CHECK(r->ipv4_tunnel == "tandem4");
	CHECK(r->ipv6_tunnel == "tandem6");
	CHECK(r->arp_sysctls);
	CHECK_FALSE(r->conntrack_local);
	CHECK_FALSE(r->sources.has_value());
	CHECK_FALSE(r->has_v6());
}

TEST_CASE("every field")
{
	auto r = parse_proxy_config(R"(gue_port: 6080
vips:
  - 192.0.2.10
  - 2001:db8::10
options:
  enabled: false
  vip_device: dummy0
  ipv4_tunnel: gue4
  ipv6_tunnel: gue6
  arp_sysctls: false
  conntrack_local: true
)", "proxy.yaml");
	REQUIRE(r.ok());
	CHECK(r->gue_port == 6080);
	REQUIRE(r->vips.size() == 2);
	CHECK(r->vips[0].to_string() == "192.0.2.10");
	CHECK(r->vips[1].to_string() == "2001:db8::10");
	CHECK(r->has_v6());
	CHECK_FALSE(r->enabled);
	CHECK(r->vip_device == "dummy0");
	CHECK(r->ipv4_tunnel == "gue4");
	CHECK(r->ipv6_tunnel == "gue6");
	CHECK_FALSE(r->arp_sysctls);
	CHECK(r->conntrack_local);
}

TEST_CASE("errors name file, line, column and field")
{
	CHECK(error_of("gue_port: 1\nvips: []\nbogus: 1\n") ==
	      "proxy.yaml:3:1: bogus: unknown key (known: gue_port, vips, sources, options)");
	CHECK(error_of("gue_port: 0\nvips: []\n").rfind("proxy.yaml:1:11: gue_port: expected a UDP port", 0) == 0);
	CHECK(error_of("gue_port: 65536\nvips: []\n").find("gue_port:") != std::string::npos);
	CHECK(error_of("gue_port: 19523x\nvips: []\n").find("got '19523x'") != std::string::npos);
	CHECK(error_of("gue_port: 1\nvips: [10.0.0.1/32]\n").rfind("proxy.yaml:2:8: vips[0]:", 0) == 0);
	CHECK(error_of("gue_port: 1\nvips: [10.0.0.1, 10.0.0.1]\n").find("listed twice") != std::string::npos);
	CHECK(error_of("gue_port: 1\nvips: 10.0.0.1\n").find("vips: expected a list") != std::string::npos);
	CHECK(error_of("gue_port: 1\nvips: []\noptions:\n  enabled: yes\n")
		      .rfind("proxy.yaml:4:12: options.enabled: expected true or false", 0) == 0);
	CHECK(error_of("gue_port: 1\nvips: []\noptions:\n  enabeld: true\n")
		      .rfind("proxy.yaml:4:3: options.enabeld: unknown option", 0) == 0);
	CHECK(error_of("gue_port: 1\nvips: []\noptions:\n  vip_device: a/b\n")
		      .find("not a valid interface name") != std::string::npos);
	CHECK(error_of("gue_port: 1\nvips: []\noptions:\n  ipv4_tunnel: x\n  ipv6_tunnel: x\n")
		      .find("must differ") != std::string::npos);
	CHECK(error_of("gue_port: 1\n").find("vips: missing") != std::string::npos);
	CHECK(error_of("").find("is empty") != std::string::npos);
	CHECK(error_of("- a\n- b\n").find("expected a map") != std::string::npos);
	CHECK(error_of("gue_port: [1\n").rfind("proxy.yaml:", 0) == 0);
}

TEST_CASE("options.mss: auto by default, a number, off, and the hops auto assumes")
{
	using tandem::proxy::MssMode;
	auto d = parse_proxy_config("gue_port: 19523\nvips: []\n", "proxy.yaml");
	REQUIRE(d.ok());
	CHECK(d->mss == MssMode::automatic);
	CHECK(d->mss_hops == 2);
	auto n = parse_proxy_config("vips: []\noptions:\n  mss: 1400\n  mss_hops: 3\n", "proxy.yaml");
	REQUIRE(n.ok());
	CHECK(n->mss == MssMode::fixed);
	CHECK(n->mss_value == 1400);
	CHECK(n->mss_hops == 3);
	auto off = parse_proxy_config("vips: []\noptions:\n  mss: off\n", "proxy.yaml");
	REQUIRE(off.ok());
	CHECK(off->mss == MssMode::off);
	CHECK(error_of("vips: []\noptions:\n  mss: 100\n") ==
	      "proxy.yaml:3:8: options.mss: expected auto, off or an IPv4 MSS 536-9000, got '100'");
	CHECK(error_of("vips: []\noptions:\n  mss_hops: 0\n").find("options.mss_hops: expected") !=
	      std::string::npos);
}

TEST_CASE("MSS values and the nftables rules for them")
{
	using namespace tandem::proxy;
	MssValues a = mss_for_inner_mtu(1500 - 40);
	CHECK(a.v4 == 1420);
	CHECK(a.v6 == 1400);
	MssValues f = mss_for_ipv4_mss(1400);
	CHECK(f.v4 == 1400);
	CHECK(f.v6 == 1380);
	std::vector<tandem::IpAddress> vips = {*tandem::IpAddress::parse("192.0.2.10"),
					       *tandem::IpAddress::parse("2001:db8::10"),
					       *tandem::IpAddress::parse("192.0.2.11")};
	CHECK(mss_ruleset(vips, a) ==
	      "add table inet tandem_mss\n"
	      "add chain inet tandem_mss synack { type filter hook output priority mangle; policy accept; }\n"
	      "add rule inet tandem_mss synack ip saddr { 192.0.2.10, 192.0.2.11 } tcp flags & (syn | ack) == "
	      "syn | ack tcp option maxseg size > 1420 tcp option maxseg size set 1420\n"
	      "add rule inet tandem_mss synack ip6 saddr { 2001:db8::10 } tcp flags & (syn | ack) == "
	      "syn | ack tcp option maxseg size > 1400 tcp option maxseg size set 1400\n");
}

TEST_CASE("sources: unset, a list, and its errors")
{
	auto none = parse_proxy_config("gue_port: 1\nvips: []\n", "proxy.yaml");
	REQUIRE(none.ok());
	CHECK_FALSE(none->sources.has_value());  // decided at up: the host's own networks

	auto r = parse_proxy_config("gue_port: 1\nvips: []\nsources:\n  - 192.0.2.0/24\n"
				    "  - 198.51.100.7\n  - 0.0.0.0/0\n", "proxy.yaml");
	REQUIRE(r.ok());
	REQUIRE(r->sources.has_value());
	REQUIRE(r->sources->size() == 3);
	CHECK((*r->sources)[0].to_string() == "192.0.2.0/24");
	CHECK((*r->sources)[1].to_string() == "198.51.100.7");
	CHECK((*r->sources)[1].length == 32);
	CHECK((*r->sources)[2].length == 0);

	CHECK(error_of("gue_port: 1\nvips: []\nsources: []\n")
		      .rfind("proxy.yaml:3:10: sources: is empty", 0) == 0);
	CHECK(error_of("gue_port: 1\nvips: []\nsources: 10.0.0.0/8\n")
		      .rfind("proxy.yaml:3:10: sources: expected a list of IPv4 prefixes", 0) == 0);
	CHECK(error_of("gue_port: 1\nvips: []\nsources: [10.0.0.1/8]\n")
		      .rfind("proxy.yaml:3:11: sources[0]: '10.0.0.1/8' has host bits set", 0) == 0);
	CHECK(error_of("gue_port: 1\nvips: []\nsources: [10.0.0.0/33]\n")
		      .find("sources[0]: '10.0.0.0/33' has host bits set or a bad length") != std::string::npos);
	CHECK(error_of("gue_port: 1\nvips: []\nsources:\n  - 10.0.0.0/8\n  - director\n")
		      .rfind("proxy.yaml:5:5: sources[1]: 'director' is not an IPv4 address or prefix", 0) == 0);
	CHECK(error_of("gue_port: 1\nvips: []\nsources: [2001:db8::/32]\n")
		      .find("sources[0]: '2001:db8::/32' is IPv6") != std::string::npos);
	CHECK(error_of("gue_port: 1\nvips: []\nsources: [10.0.0.0/8, 10.0.0.0/8]\n")
		      .rfind("proxy.yaml:3:23: sources[1]: '10.0.0.0/8' is listed twice", 0) == 0);
	CHECK(error_of("gue_port: 1\nvips: []\nsources: [[10.0.0.0/8]]\n")
		      .find("sources[0]: expected a single value") != std::string::npos);
	std::string many = "gue_port: 1\nvips: []\nsources:\n";
	for (int i = 0; i < 65; i++)
		many += "  - 10.0." + std::to_string(i) + ".0/24\n";
	CHECK(error_of(many).find("sources: has 65 prefixes; at most 64") != std::string::npos);
}
