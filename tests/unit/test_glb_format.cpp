// SPDX-License-Identifier: Apache-2.0
// GLB's JSON tables in, GLB's binary table out: semantics kept, layout byte for byte.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "bytes.h"
#include "glb_format.h"
#include "test_support.h"

using namespace tandem;
using namespace tandem::test;

static std::string read_text(const std::string &name)
{
	std::ifstream in(std::string(TEST_DATA_DIR) + "/" + name);
	std::stringstream ss;
	ss << in.rdbuf();
	return ss.str();
}

static uint32_t le32(const std::vector<uint8_t> &b, size_t off)
{
	return b[off] | b[off + 1] << 8 | b[off + 2] << 16 | uint32_t{b[off + 3]} << 24;
}

static uint16_t le16(const std::vector<uint8_t> &b, size_t off)
{
	return static_cast<uint16_t>(b[off] | b[off + 1] << 8);
}

TEST_CASE("import keeps GLB's meaning")
{
	auto yaml = glb_import(read_text("glb-table.json"), read_text("glb-config.json"));
	REQUIRE_MESSAGE(yaml.ok(), yaml.error().message);
	auto cfg = parse_config(*yaml, "imported.yaml");
	REQUIRE_MESSAGE(cfg.ok(), cfg.error().message);
	REQUIRE(cfg->services.size() == 2);
	const auto &s = cfg->services[0];
	CHECK(s.name == "table0");
	CHECK(s.hops_per_row == 2);
	CHECK(s.hash_fields == HashFields{true, false, true, false});
	CHECK(s.alt_hash_fields == HashFields{true, false, false, false});
	REQUIRE(s.binds.size() == 3);
	CHECK(s.binds[2].prefix.to_string() == "fdb4:98ce:52d4::/48");
	CHECK(s.binds[2].ports == std::vector<PortRange>{{1000, 2000}});
	REQUIRE(s.backends.size() == 5);
	CHECK(s.backends[1].backend.state == BackendState::draining);
	CHECK_FALSE(s.backends[2].backend.healthy);  // no "healthy": down, as in GLB
	CHECK(s.backends[3].backend.state == BackendState::inactive);
	CHECK(s.backends[4].backend.state == BackendState::filling);
	CHECK(format_key(s.seed) == "34567890123456783456789012345678");
}

TEST_CASE("import refuses what GLB's own tool refuses, saying where")
{
	CHECK(glb_import("{").error().message == "GLB forwarding table: file: is not valid JSON");
	CHECK(glb_import(R"({"tables": [{"hash_key": "00", "seed": "x"}]})").error().message ==
	      "GLB forwarding table: tables[0].hash_key: must be 32 hex digits");
	auto bad_state = glb_import(R"({"tables": [{"hash_key": "12345678901234561234567890123456",
		"seed": "12345678901234561234567890123456", "binds": [],
		"backends": [{"ip": "1.2.3.4", "state": "up"}]}]})");
	CHECK(bad_state.error().message ==
	      "GLB forwarding table: tables[0].backends[0].state: \"up\" is not a GLB backend state");
	auto bad_port = glb_import(R"({"tables": [{"hash_key": "12345678901234561234567890123456",
		"seed": "12345678901234561234567890123456",
		"binds": [{"ip": "1.1.1.1", "proto": "tcp", "port": 70000}], "backends": []}]})");
	CHECK(bad_port.error().message.find("tables[0].binds[0]: port range 70000-70000") != std::string::npos);
}

TEST_CASE("import: glb-healthcheck's source table becomes health checks that decide")
{
	const std::string head = R"({"tables": [{"hash_key": "12345678901234561234567890123456",
		"seed": "34567890123456783456789012345678",
		"binds": [{"ip": "10.10.10.10", "proto": "tcp", "port": 80}], "backends": [)";
	auto yaml = glb_import(head + R"(
		{"ip": "192.168.50.10", "state": "active", "healthchecks": {"http": 80, "gue": 19523}},
		{"ip": "192.168.50.11", "state": "draining", "healthy": false,
		 "healthchecks": {"gue": 19523, "http": 80}}]}]})");
	REQUIRE_MESSAGE(yaml.ok(), yaml.error().message);
	auto cfg = parse_config(*yaml, "imported.yaml");
	REQUIRE_MESSAGE(cfg.ok(), cfg.error().message);
	const ServiceConfig &s = cfg->services[0];
	REQUIRE(s.health_checks.size() == 2);
	CHECK(s.health_checks[0].kind == HealthCheckKind::http);
	CHECK(s.health_checks[0].port == 80);
	CHECK(s.health_checks[0].path == "/");
	CHECK(s.health_checks[1].kind == HealthCheckKind::gue);
	CHECK(s.health_checks[1].port == 19523);
	CHECK(s.backends[0].backend.healthy);  // no "healthy": the checks decide
	CHECK_FALSE(s.backends[1].backend.healthy);  // an explicit false stays

	auto uri = glb_import(head + R"({"ip": "1.2.3.4", "state": "active",
		"healthchecks": {"http": 8080, "http_uri": "/status"}}]}]})");
	REQUIRE(uri.ok());
	CHECK(uri->find("health_check: [{type: http, port: 8080, path: \"/status\"}]") != std::string::npos);

	auto fou = glb_import(head + R"({"ip": "1.2.3.4", "state": "active", "healthchecks": {"fou": 19523}}]}]})");
	CHECK(fou.error().message == "GLB forwarding table: tables[0].backends[0].healthchecks.fou: GLB's legacy FOU (GRE) check is not supported; use \"gue\"");
	auto differ = glb_import(head + R"({"ip": "1.2.3.4", "state": "active", "healthchecks": {"gue": 19523}},
		{"ip": "1.2.3.5", "state": "active", "healthchecks": {"gue": 6080}}]}]})");
	CHECK(differ.error().message.find("tables[0].backends[1].healthchecks: differs from the first backend's") != std::string::npos);
	auto mixed = glb_import(head + R"({"ip": "1.2.3.4", "state": "active", "healthchecks": {"gue": 19523}},
		{"ip": "1.2.3.5", "state": "active", "healthy": true}]}]})");
	CHECK(mixed.error().message.find("tables[0].backends: some backends have \"healthchecks\" and some do not") != std::string::npos);
	auto bad = glb_import(head + R"({"ip": "1.2.3.4", "state": "active", "healthchecks": {"tcp": 22}}]}]})");
	CHECK(bad.error().message.find("healthchecks.tcp: is not a glb-healthcheck check") != std::string::npos);
}

// Reads the binary back field by field, against GLB's struct layout.
TEST_CASE("export writes GLB's format 2 layout and GLB's rows")
{
	auto yaml = glb_import(read_text("glb-table.json"));
	REQUIRE(yaml.ok());
	auto cfg = parse_config(*yaml, "imported.yaml");
	REQUIRE(cfg.ok());
	auto bin = glb_export(*cfg);
	REQUIRE_MESSAGE(bin.ok(), bin.error().message);
	const auto &b = *bin;
	const size_t table_size = 4 + 256 * 24 + 4 + 256 * 28 + 16 + 65536 * 8;
	REQUIRE(b.size() == 24 + 2 * table_size);
	CHECK(std::string(b.begin(), b.begin() + 4) == "GLBD");
	CHECK(le32(b, 4) == 2);
	CHECK(le32(b, 8) == 2);
	CHECK(le32(b, 12) == 65536);
	CHECK(le32(b, 16) == 256);
	CHECK(le32(b, 20) == 256);

	for (size_t t = 0; t < 2; t++) {
		const ServiceConfig &svc = cfg->services[t];
		size_t off = 24 + t * table_size;
		CHECK(le32(b, off) == svc.backends.size());
		for (size_t i = 0; i < 256; i++) {
			size_t e = off + 4 + i * 24;
			if (i >= svc.backends.size()) {
				CHECK(std::all_of(b.begin() + e, b.begin() + e + 24, [](uint8_t x) { return x == 0; }));
				continue;
			}
			const Backend &be = svc.backends[i].backend;
			CHECK(le32(b, e) == 1);
			CHECK(std::equal(b.begin() + e + 4, b.begin() + e + 8, be.address.bytes.begin()));
			uint16_t state = be.state == BackendState::filling  ? 0
					 : be.state == BackendState::active ? 1
									    : 2;
			CHECK(le16(b, e + 20) == state);
			CHECK(le16(b, e + 22) == (be.healthy ? 1 : 0));
		}
		size_t binds = off + 4 + 256 * 24;
		size_t nbinds = 0;
		for (const auto &bd : svc.binds)
			nbinds += bd.ports.size();
		CHECK(le32(b, binds) == nbinds);
		size_t e = binds + 4;
		for (const auto &bd : svc.binds) {
			CHECK(le32(b, e) == (bd.prefix.address.is_v4() ? 1u : 2u));
			CHECK(std::equal(b.begin() + e + 4, b.begin() + e + 20, bd.prefix.address.bytes.begin()));
			CHECK(le16(b, e + 20) == bd.prefix.length);
			CHECK(le16(b, e + 22) == bd.ports[0].first);
			CHECK(le16(b, e + 24) == bd.ports[0].last);
			CHECK(b[e + 26] == static_cast<uint8_t>(bd.protocol));
			CHECK(b[e + 27] == 0);
			e += 28;
		}
		size_t key = binds + 4 + 256 * 28;
		CHECK(std::equal(b.begin() + key, b.begin() + key + 16, svc.hash_key.begin()));

		// Rows: GLB's order and swap, computed here from the scores.
		auto backends = svc.table_backends();
		size_t rows = key + 16, swaps = 0;
		for (uint32_t r = 0; r < table_rows; r++) {
			uint64_t rs = row_seed(svc.seed, r);
			std::vector<std::pair<uint64_t, uint32_t>> scored;
			for (uint32_t i = 0; i < backends.size(); i++)
				if (backends[i].state != BackendState::inactive)
					scored.emplace_back(backend_score(svc.seed, rs, backends[i].address), i);
			std::sort(scored.begin(), scored.end());
			uint32_t p = scored[0].second, s = scored[1].second;
			bool bad = backends[p].state == BackendState::draining || !backends[p].healthy;
			if (bad && backends[s].state == BackendState::active) {
				std::swap(p, s);
				swaps++;
			}
			REQUIRE(le32(b, rows + r * 8) == p);
			REQUIRE(le32(b, rows + r * 8 + 4) == s);
		}
		if (t == 0)
			CHECK(swaps > 0);  // the draining and the down backend were swapped behind
	}
}

TEST_CASE("export refuses what GLB's format cannot hold")
{
	auto base = std::string("services:\n  - name: s\n    binds: [{address: 1.1.1.1, protocol: tcp, ports: [80]}]\n"
				"    hash_key: 12345678901234561234567890123456\n    seed: 12345678901234561234567890123456\n");
	auto k3 = config_from(base + "    hops_per_row: 3\n    backends: [{address: 1.2.3.4}, {address: 2.3.4.5}]\n");
	CHECK(glb_export(k3).error().message.find("set hops_per_row: 2") != std::string::npos);
	auto one = config_from(base + "    backends: [{address: 1.2.3.4}, {address: 2.3.4.5, state: inactive}]\n");
	CHECK(glb_export(one).error().message.find("at least two backends that are not inactive") != std::string::npos);
}

// GLB's build-config (src/glb-director/cli/main.c) splits the bind's "ip" at '/', writes
// inet_pton() of the address as given and the prefix length as given: host bits stay.
TEST_CASE("export writes a bind with host bits as GLB's build-config does")
{
	auto yaml = glb_import(R"({"tables": [{"hash_key": "12345678901234561234567890123456",
		"seed": "34567890123456783456789012345678",
		"binds": [{"ip": "10.97.19.202/28", "proto": "tcp", "port": 80},
			  {"ip": "fdb4:98ce:52d4::1:2/48", "proto": "udp", "port_start": 1000, "port_end": 2000}],
		"backends": [{"ip": "1.2.3.4", "state": "active", "healthy": true},
			     {"ip": "2.3.4.5", "state": "active", "healthy": true}]}]})");
	REQUIRE_MESSAGE(yaml.ok(), yaml.error().message);
	auto cfg = parse_config(*yaml, "imported.yaml");
	REQUIRE_MESSAGE(cfg.ok(), cfg.error().message);
	auto bin = glb_export(*cfg);
	REQUIRE_MESSAGE(bin.ok(), bin.error().message);
	size_t bind = 24 + 4 + 256 * 24 + 4;
	CHECK(to_hex(bin->data() + bind, 28) ==
	      "01000000" "0a6113ca" "000000000000000000000000" "1c00" "5000" "5000" "06" "00");
	CHECK(to_hex(bin->data() + bind + 28, 28) ==
	      "02000000" "fdb498ce52d4000000000000" "00010002" "3000" "e803" "d007" "11" "00");
}
