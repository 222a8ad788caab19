// SPDX-License-Identifier: Apache-2.0
// The YAML loader: the example loads as written; every mistake is refused with
// file:line:column, the field and what is allowed.
#include <doctest/doctest.h>

#include "config.h"
#include "test_support.h"

using namespace tandem;
using namespace tandem::test;

static const std::string good = R"(director:
  interface: eth0
  queues: 2
  cores: [0, 1]
  source_ip: 192.0.2.1
  gateway_mac: 52:54:00:12:34:56
  udp_checksum: true
  metrics: "[::1]:9470"
services:
  - name: web
    binds:
      - {address: 192.0.2.10, protocol: tcp, ports: [80, "8000-8080"]}
      - {address: "2001:db8::/64", protocol: udp, ports: 53}
    hash_key: 000102030405060708090a0b0c0d0e0f
    seed: 0f0e0d0c0b0a09080706050403020100
    hash_fields: [src_addr, src_port]
    alt_hash_fields: [src_addr]
    hops_per_row: 3
    backends:
      - {address: 10.0.0.1}
      - {address: 10.0.0.2, state: draining, healthy: false}
    health_check: {type: none}
)";

// The one error line a config produces, or "" if it loads.
static std::string error_of(const std::string &yaml)
{
	auto c = parse_config(yaml, "d.yaml");
	return c.ok() ? "" : c.error().message;
}

static std::string with(const std::string &from, const std::string &to)
{
	std::string s = good;
	auto at = s.find(from);
	REQUIRE(at != std::string::npos);
	s.replace(at, from.size(), to);
	return s;
}

TEST_CASE("a full configuration loads with every value")
{
	auto c = parse_config(good, "d.yaml");
	REQUIRE_MESSAGE(c.ok(), c.error().message);
	REQUIRE(c->director);
	const DirectorConfig &d = *c->director;
	CHECK(d.interface == "eth0");
	CHECK(d.queues == 2);
	CHECK(d.cores == std::vector<unsigned>{0, 1});
	CHECK(d.source_ip == ip("192.0.2.1"));
	CHECK(format_mac(*d.gateway_mac) == "52:54:00:12:34:56");
	CHECK(d.udp_checksum);
	CHECK(d.metrics_address == "[::1]:9470");
	REQUIRE(c->services.size() == 1);
	const ServiceConfig &s = c->services[0];
	CHECK(s.name == "web");
	REQUIRE(s.binds.size() == 2);
	CHECK(s.binds[0].ports == std::vector<PortRange>{{80, 80}, {8000, 8080}});
	CHECK(s.binds[1].prefix.to_string() == "2001:db8::/64");
	CHECK(s.binds[1].protocol == Protocol::udp);
	CHECK(s.binds[0].mark.line == 12);
	CHECK(format_key(s.hash_key) == "000102030405060708090a0b0c0d0e0f");
	CHECK(s.hash_fields == HashFields{true, false, true, false});
	CHECK(s.alt_hash_fields == HashFields{true, false, false, false});
	CHECK(s.hops_per_row == 3);
	CHECK(s.backends[1].backend.state == BackendState::draining);
	CHECK_FALSE(s.backends[1].backend.healthy);
	CHECK(s.health_checks.empty());  // type: none
}

TEST_CASE("health checks: every kind parses, with or without a director section")
{
	std::string services_only = good.substr(good.find("services:"));
	services_only.replace(services_only.find("{type: none}"), 12,
			      "{type: http, port: 80, path: /health, interval_ms: 500, timeout_ms: 200}");
	auto c = parse_config(services_only, "d.yaml");
	REQUIRE_MESSAGE(c.ok(), c.error().message);
	REQUIRE(c->services[0].health_checks.size() == 1);
	const HealthCheck &hc = c->services[0].health_checks[0];
	CHECK(hc.kind == HealthCheckKind::http);
	CHECK(hc.port == 80);
	CHECK(hc.path == "/health");
	CHECK(hc.interval == std::chrono::milliseconds(500));
	auto tcp = parse_config(with("{type: none}", "{type: tcp, port: 8080, rise: 1, fall: 5}"), "d.yaml");
	REQUIRE_MESSAGE(tcp.ok(), tcp.error().message);
	CHECK(tcp->director);
	REQUIRE(tcp->services[0].health_checks.size() == 1);
	CHECK(tcp->services[0].health_checks[0].kind == HealthCheckKind::tcp);
	CHECK(tcp->services[0].health_checks[0].rise == 1);
	CHECK(tcp->services[0].health_checks[0].fall == 5);
	auto gue = parse_config(with("{type: none}", "{type: gue}"), "d.yaml");
	REQUIRE_MESSAGE(gue.ok(), gue.error().message);
	CHECK(gue->services[0].health_checks.at(0).port == 0);  // the director's gue_port
	// A list: GLB's {"http": 80, "gue": 19523}.
	auto both = parse_config(with("{type: none}", "[{type: gue}, {type: http, port: 80, path: /status}]"), "d.yaml");
	REQUIRE_MESSAGE(both.ok(), both.error().message);
	REQUIRE(both->services[0].health_checks.size() == 2);
	CHECK(both->services[0].health_checks[0].kind == HealthCheckKind::gue);
	CHECK(both->services[0].health_checks[1].path == "/status");
	CHECK(error_of(with("{type: none}", "[{type: gue}, {type: tcp}]")).find("services[0].health_check[1].port: is required") != std::string::npos);
	CHECK(error_of(with("{type: none}", "[{type: gue}, {type: gue}]")).find("health_check[1]: the same check is listed twice") != std::string::npos);
	CHECK(error_of(with("{type: none}", "{type: tcp, port: 80, interval_ms: 100, timeout_ms: 100}")).find("timeout_ms: must be shorter than interval_ms") != std::string::npos);
	CHECK(error_of(with("{type: none}", "{type: icmp}")).find("health_check.type") != std::string::npos);
	CHECK(error_of(with("{type: none}", "{type: tcp}")).find("health_check.port: is required for a tcp or http check") != std::string::npos);
	CHECK(error_of(with("{type: none}", "{type: tcp, port: 80, path: /x}")).find("only an http check has a path") != std::string::npos);
}

TEST_CASE("the shipped example loads")
{
	auto c = load_config_file(std::string(TEST_DATA_DIR) + "/../../packaging/director.yaml");
	CHECK_MESSAGE(c.ok(), (c.ok() ? "" : c.error().message));
}

TEST_CASE("defaults: no director section, GLB's hash fields, two hops, healthy active")
{
	auto c = parse_config("services:\n  - name: a\n    binds: [{address: 10.0.0.1, protocol: tcp, ports: [80]}]\n"
			      "    hash_key: 000102030405060708090a0b0c0d0e0f\n    seed: 000102030405060708090a0b0c0d0e0f\n"
			      "    backends: [{address: 10.1.0.1}]\n",
			      "d.yaml");
	REQUIRE_MESSAGE(c.ok(), c.error().message);
	CHECK_FALSE(c->director);
	const auto &s = c->services[0];
	CHECK(s.hash_fields == HashFields{});
	CHECK_FALSE(s.alt_hash_fields);
	CHECK(s.hops_per_row == 2);
	CHECK(s.backends[0].backend == Backend{ip("10.1.0.1"), BackendState::active, true});
}

TEST_CASE("mistakes are refused with position, field and what is allowed")
{
	CHECK(error_of(with("    hops_per_row: 3", "    hops_per_row: 3\n    hop_per_row: 2")) ==
	      "d.yaml:19:5: services[0].hop_per_row: unknown key; allowed here: name, binds, hash_key, seed, hash_fields, alt_hash_fields, hops_per_row, backends, health_check");
	CHECK(error_of(with("{address: 10.0.0.2, state: draining, healthy: false}", "{address: 10.0.0.1}")) ==
	      "d.yaml:21:19: services[0].backends[1].address: 10.0.0.1 is already a backend of this service (line 20); list each backend once");
	CHECK(error_of(with("0f0e0d0c0b0a09080706050403020100", "0f0e0d0c0b0a0908070605040302010g")) ==
	      "d.yaml:15:11: services[0].seed: must be exactly 32 hex digits (16 bytes), for example from `openssl rand -hex 16`");
	CHECK(error_of(with("[80, \"8000-8080\"]", "[80, 70000]")) ==
	      "d.yaml:12:58: services[0].binds[0].ports[1]: \"70000\" is not a port or range; allowed: 1..65535, or \"first-last\" with first <= last");
	CHECK(error_of(with("\"8000-8080\"", "\"9000-8000\"")).find("is not a port or range") != std::string::npos);
	CHECK(error_of(with("state: draining", "state: drained")) ==
	      "d.yaml:21:36: services[0].backends[1].state: \"drained\" is not allowed; allowed: active, filling, draining, inactive");
	CHECK(error_of(with("hops_per_row: 3", "hops_per_row: 9")) ==
	      "d.yaml:18:19: services[0].hops_per_row: 9 is out of range; allowed: 1..8");
	CHECK(error_of(with("alt_hash_fields: [src_addr]", "alt_hash_fields: [src_port, src_addr]")) ==
	      "d.yaml:17:22: services[0].alt_hash_fields: is the same as hash_fields; remove it, or name the fields being migrated from");
	CHECK(error_of(with("cores: [0, 1]", "cores: [0]")) ==
	      "d.yaml:4:10: director.cores: lists 1 cores for 2 queues; give one core per queue, or leave it out");
	CHECK(error_of(with("udp_checksum: true", "udp_checksum: yes please")) ==
	      "d.yaml:7:17: director.udp_checksum: \"yes please\" is not a boolean; allowed: true, false");
	CHECK(error_of(with("address: 192.0.2.10,", "address: 192.0.2.10/33,")).find("is not an address or prefix") != std::string::npos);
	CHECK(error_of(with("{address: 10.0.0.1}", "{address: \"2001:db8::1\"}")).find("is IPv6; the director's GUE encapsulation carries IPv4 hops only") != std::string::npos);
	CHECK(error_of(with("  interface: eth0\n", "")) == "d.yaml:2:3: director.interface: is required");
	CHECK(error_of(with("  queues: 2\n", "  queues: 2\n  queues: 3\n")).find("d.yaml:4:3: director.queues: given twice") == 0);
	CHECK(error_of(with("metrics: \"[::1]:9470\"", "metrics: ::1:9470")).find("director.metrics") != std::string::npos);
	CHECK(error_of("services: [ {name: a, ").find("d.yaml:1:") == 0);
	CHECK(error_of("director: {interface: eth0}\n").find("d.yaml:1:1: services: is required") == 0);
}

// GLB's build-config accepts a bind with host bits (10.97.19.202/28) and so does Tandem:
// it matches the network it names, and glb export writes it back as written.
TEST_CASE("a bind with host bits loads as the network it names")
{
	Config cfg = config_from(with("address: 192.0.2.10,", "address: 192.0.2.10/24,"));
	const Bind &b = cfg.services[0].binds[0];
	CHECK(b.prefix.to_string() == "192.0.2.0/24");
	CHECK(b.prefix.contains(ip("192.0.2.200")));
	CHECK_FALSE(b.prefix.contains(ip("192.0.3.1")));
	CHECK(cfg.services[0].binds[1].prefix.to_string() == "2001:db8::/64");
	// Overlaps are judged on the network too.
	std::string two = with("address: 192.0.2.10,", "address: 192.0.2.10/24,") + R"(  - name: other
    binds:
      - {address: 192.0.2.77, protocol: tcp, ports: [80]}
    hash_key: 000102030405060708090a0b0c0d0e0f
    seed: 0f0e0d0c0b0a09080706050403020100
)";
	CHECK(error_of(two).find("192.0.2.77 tcp overlaps the bind at line 12") != std::string::npos);
}

TEST_CASE("every problem is reported, not only the first")
{
	std::string e = error_of(with("hops_per_row: 3", "hops_per_row: 0\n    seed2: x"));
	CHECK(e.find("hops_per_row: 0 is out of range") != std::string::npos);
	CHECK(e.find("seed2: unknown key") != std::string::npos);
}

TEST_CASE("binds of two services may not overlap")
{
	std::string two = good + R"(  - name: other
    binds:
      - {address: 192.0.2.0/24, protocol: tcp, ports: ["8080-8090"]}
    hash_key: 000102030405060708090a0b0c0d0e0f
    seed: 0f0e0d0c0b0a09080706050403020100
)";
	CHECK(error_of(two) ==
	      "d.yaml:25:9: services.other.binds: 192.0.2.0/24 tcp overlaps the bind at line 12 of service \"web\"; a packet must match one bind only: change the address, protocol or ports");
	std::string fine = two;
	fine.replace(fine.find("8080-8090"), 9, "9000-9001");
	CHECK(error_of(fine) == "");
	std::string dup_name = fine;
	dup_name.replace(dup_name.find("name: other"), 11, "name: web");
	CHECK(error_of(dup_name).find("service \"web\" is already defined at line 10") != std::string::npos);
}

TEST_CASE("keys, MACs and prefixes parse strictly")
{
	CHECK_FALSE(parse_key("00"));
	CHECK(parse_key("000102030405060708090A0B0C0D0E0F"));
	CHECK_FALSE(parse_mac("52:54:00:12:34"));
	CHECK_FALSE(parse_mac("52-54-00-12-34-56"));
	CHECK_FALSE(IpPrefix::parse("10.0.0.1/33"));
	CHECK_FALSE(IpPrefix::parse("10.0.0.1/"));
	CHECK_FALSE(IpPrefix::parse("10.0.0.0/8x"));
	CHECK(IpPrefix::parse("10.0.0.0/8")->contains(ip("10.255.0.1")));
	CHECK_FALSE(IpPrefix::parse("10.0.0.0/8")->contains(ip("11.0.0.1")));
	CHECK(IpPrefix::parse("10.0.0.0/8")->overlaps(*IpPrefix::parse("10.1.0.0/16")));
	CHECK_FALSE(IpPrefix::parse("10.0.0.0/8")->overlaps(*IpPrefix::parse("2001:db8::/32")));
}

TEST_CASE("equal configurations: comments, layout and positions do not count, values do")
{
	auto a = parse_config(good, "d.yaml");
	REQUIRE(a.ok());
	// Same values, other file, other lines and columns, a comment, flow style turned block.
	std::string moved = "# the same configuration, laid out differently\n\n" +
			    with("      - {address: 10.0.0.1}\n", "      -   address: 10.0.0.1   # first\n");
	auto b = parse_config(moved, "other.yaml");
	REQUIRE_MESSAGE(b.ok(), b.error().message);
	CHECK(a->services[0].backends[0].mark.line != b->services[0].backends[0].mark.line);
	CHECK(*a == *b);
	// Each kind of value: a backend's state, a key, a health check, a director field, a
	// bind's ports, the order of backends.
	for (const auto &[from, to] : std::vector<std::pair<std::string, std::string>>{
		     {"state: draining", "state: filling"},
		     {"hash_key: 000102030405060708090a0b0c0d0e0f", "hash_key: 000102030405060708090a0b0c0d0e00"},
		     {"health_check: {type: none}", "health_check: {type: tcp, port: 80}"},
		     {"udp_checksum: true", "udp_checksum: false"},
		     {"ports: 53", "ports: 54"},
		     {"      - {address: 10.0.0.1}\n      - {address: 10.0.0.2, state: draining, healthy: false}\n",
		      "      - {address: 10.0.0.2, state: draining, healthy: false}\n      - {address: 10.0.0.1}\n"}}) {
		auto c = parse_config(with(from, to), "d.yaml");
		REQUIRE_MESSAGE(c.ok(), c.error().message);
		CHECK_MESSAGE(!(*a == *c), (from + " -> " + to));
	}
}
