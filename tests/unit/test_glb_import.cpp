// SPDX-License-Identifier: Apache-2.0
// glb import on tables written the way GLB's documentation writes them, and on tables
// no one should write: names kept, binds with host bits kept as written, and every
// malformed input an error with its JSON path (never an abort, never YAML of its own).
#include <doctest/doctest.h>

#include <algorithm>

#include "glb_format.h"
#include "service_set.h"
#include "test_support.h"

using namespace tandem;
using namespace tandem::test;

static const std::string keys = R"("hash_key": "12345678901234561234567890123456",
	"seed": "34567890123456783456789012345678")";

static std::string table(const std::string &fields)
{
	return "{" + keys + ", " + fields + "}";
}

static const std::string two_backends = R"("backends": [{"ip": "1.2.3.4", "state": "active", "healthy": true},
	{"ip": "2.3.4.5", "state": "active", "healthy": true}])";

static std::string tables(const std::vector<std::string> &t)
{
	std::string j = R"({"tables": [)";
	for (size_t i = 0; i < t.size(); i++)
		j += (i ? ", " : "") + t[i];
	return j + "]}";
}

static Config imported(const std::string &json)
{
	auto yaml = glb_import(json);
	if (!yaml.ok())
		throw std::runtime_error(yaml.error().message);
	return config_from(*yaml);
}

static std::string import_error(const std::string &json, std::optional<std::string> cfg = std::nullopt)
{
	auto yaml = cfg ? glb_import(json, *cfg) : glb_import(json);
	return yaml.ok() ? "" : yaml.error().message;
}

TEST_CASE("import keeps GLB's table names; tables without one keep their number")
{
	auto bind = R"("binds": [{"ip": "10.0.0.1", "proto": "tcp", "port": 80}], )";
	auto bind2 = R"("binds": [{"ip": "10.0.0.2", "proto": "tcp", "port": 80}], )";
	auto bind3 = R"("binds": [{"ip": "10.0.0.3", "proto": "tcp", "port": 80}], )";
	Config cfg = imported(tables({table(R"("name": "api", )" + std::string(bind) + two_backends),
				      table(bind2 + two_backends),
				      table(R"("name": "git", )" + std::string(bind3) + two_backends)}));
	REQUIRE(cfg.services.size() == 3);
	CHECK(cfg.services[0].name == "api");
	CHECK(cfg.services[1].name == "table1");
	CHECK(cfg.services[2].name == "git");
}

TEST_CASE("import refuses a GLB name Tandem cannot use, naming the table and the fix")
{
	auto bind = R"("binds": [{"ip": "10.0.0.1", "proto": "tcp", "port": 80}], )";
	CHECK(import_error(tables({table(R"("name": "my api", )" + std::string(bind) + two_backends)})) ==
	      "GLB forwarding table: tables[0].name: \"my api\" is not a Tandem service name (1-63 letters, "
	      "digits, '_', '.', '-', starting with a letter or digit); rename the table in the JSON, "
	      "or remove \"name\" to import it as table0");
	CHECK(import_error(tables({table(R"("name": 7, )" + std::string(bind) + two_backends)})) ==
	      "GLB forwarding table: tables[0].name: must be a string");
	auto bind2 = R"("binds": [{"ip": "10.0.0.2", "proto": "tcp", "port": 80}], )";
	CHECK(import_error(tables({table(R"("name": "api", )" + std::string(bind) + two_backends),
				   table(R"("name": "api", )" + std::string(bind2) + two_backends)})) ==
	      "GLB forwarding table: tables[1].name: \"api\" is also the name of tables[0]; "
	      "give each table its own name");
	// An unnamed table's number may not collide with a name either.
	CHECK(import_error(tables({table(bind + two_backends),
				   table(R"("name": "table0", )" + std::string(bind2) + two_backends)})) ==
	      "GLB forwarding table: tables[1].name: \"table0\" is also the name of tables[0]; "
	      "give each table its own name");
	CHECK(import_error(tables({table(R"("name": "table1", )" + std::string(bind) + two_backends),
				   table(bind2 + two_backends)})) ==
	      "GLB forwarding table: tables[1]: would be imported as \"table1\", the name of tables[0]; "
	      "give it a \"name\" of its own");
}

TEST_CASE("import keeps a bind with host bits as written and matches it as its network")
{
	Config cfg = imported(tables({table(R"("binds": [{"ip": "10.97.19.202/28", "proto": "tcp", "port": 80}], )" +
					    two_backends)}));
	const Bind &b = cfg.services[0].binds[0];
	CHECK(b.prefix.to_string() == "10.97.19.192/28");

	ServiceSet set = ServiceSet::compile(cfg.services);
	REQUIRE(set.binds().size() == 1);
	CHECK(set.binds()[0].prefix.to_string() == "10.97.19.192/28");
	for (const char *dst : {"10.97.19.192", "10.97.19.202", "10.97.19.207"}) {
		auto frame = tcp_frame_v4("198.51.100.1", 40000, dst, 80);
		CHECK(set.route(parse_frame(frame.data(), frame.size())).verdict == Verdict::ok);
	}
	auto outside = tcp_frame_v4("198.51.100.1", 40000, "10.97.19.208", 80);
	CHECK(set.route(parse_frame(outside.data(), outside.size())).verdict != Verdict::ok);
}

TEST_CASE("import never aborts: a missing key or a wrong type is an error with its JSON path")
{
	auto e = [](const std::string &fields) { return import_error(tables({table(fields)})); };
	CHECK(e(two_backends) == "GLB forwarding table: tables[0].binds: must be a list");
	CHECK(e(R"("binds": [{"ip": "10.0.0.1", "port": 80}], )" + two_backends) ==
	      "GLB forwarding table: tables[0].binds[0].proto: must be \"tcp\" or \"udp\"");
	CHECK(e(R"("binds": [{"proto": "tcp", "port": 80}], )" + two_backends) ==
	      "GLB forwarding table: tables[0].binds[0].ip: must be a string");
	CHECK(e(R"("binds": [{"ip": "10.0.0.1", "proto": "tcp", "port_start": 80}], )" + two_backends) ==
	      "GLB forwarding table: tables[0].binds[0]: needs \"port\", or \"port_start\" and \"port_end\"");
	CHECK(e(R"("binds": [], "backends": [{"state": "active"}])") ==
	      "GLB forwarding table: tables[0].backends[0].ip: must be a string");
	CHECK(e(R"("binds": [], "backends": [{"ip": "1.2.3.4"}])") ==
	      "GLB forwarding table: tables[0].backends[0].state: must be a string");
	CHECK(e(R"("binds": [])") == "GLB forwarding table: tables[0].backends: must be a list");
	CHECK(e(R"("binds": [], "backends": [{"ip": "1.2.3.4", "state": "active",
		"healthchecks": {"http": 80, "http_uri": 5}}])") ==
	      "GLB forwarding table: tables[0].backends[0].healthchecks.http_uri: must be a path starting with / and without spaces");
	CHECK(e(R"("binds": [], "backends": [{"ip": "1.2.3.4", "state": "active",
		"healthchecks": {"http": 1e9}}])") ==
	      "GLB forwarding table: tables[0].backends[0].healthchecks.http: must be a port, 1..65535");
	CHECK(import_error(R"({"tables": [{"binds": []}]})") ==
	      "GLB forwarding table: tables[0].hash_key: must be 32 hex digits");
	CHECK(import_error(R"({"tables": {}})") ==
	      "GLB forwarding table: file: must be an object with a \"tables\" list");
	CHECK(import_error(R"([])") == "GLB forwarding table: file: must be an object with a \"tables\" list");
	CHECK(import_error(tables({}), R"({"hash_fields": {"src_addr": 1}})") ==
	      "GLB forwarding table: config.json hash_fields.src_addr: must be true or false");
	CHECK(import_error(tables({}), R"({"hash_fields": []})") ==
	      "GLB forwarding table: config.json hash_fields: must be an object of booleans");
	CHECK(import_error(tables({}), R"([1])") == "GLB forwarding table: config.json: is not a JSON object");
}

TEST_CASE("import checks addresses itself, and strings reach YAML escaped")
{
	auto e = [](const std::string &fields) { return import_error(tables({table(fields)})); };
	// Before: this ip closed its flow map and added a bind of its own to the YAML.
	// (the old import printed two binds for it, 10.0.0.1 443 and 0.0.0.0/0 80, and they loaded).
	std::string crafted = R"(10.0.0.1\", protocol: tcp, ports: [443]}\n      - {address: \"0.0.0.0/0)";
	CHECK(e(R"("binds": [{"ip": ")" + crafted + R"(", "proto": "tcp", "port": 80}], )" + two_backends) ==
	      "GLB forwarding table: tables[0].binds[0].ip: \"10.0.0.1\\\", protocol: tcp, ports: [443]}\\n"
	      "      - {address: \\\"0.0.0.0/0\" is not an address or prefix");
	CHECK(e(R"("binds": [{"ip": "10.0.0.1/33", "proto": "tcp", "port": 80}], )" + two_backends) ==
	      "GLB forwarding table: tables[0].binds[0].ip: \"10.0.0.1/33\" is not an address or prefix");
	CHECK(e(R"("binds": [], "backends": [{"ip": "1.2.3.4\n- x", "state": "active"}])") ==
	      "GLB forwarding table: tables[0].backends[0].ip: \"1.2.3.4\\n- x\" is not an IP address");
	CHECK(e(R"("binds": [], "backends": [{"ip": "1.2.3.4", "state": "active",
		"healthchecks": {"http": 80, "http_uri": "/a\n- b"}}])") ==
	      "GLB forwarding table: tables[0].backends[0].healthchecks.http_uri: must be a path starting with / and without spaces");
	// A path with YAML's special characters comes through as written.
	auto yaml = glb_import(tables({table(R"("binds": [{"ip": "10.0.0.1", "proto": "tcp", "port": 80}],
		"backends": [{"ip": "1.2.3.4", "state": "active",
		"healthchecks": {"http": 80, "http_uri": "/a\"b:#c,{d}[e]'f&g*h"}}])")}));
	REQUIRE_MESSAGE(yaml.ok(), yaml.error().message);
	Config cfg = config_from(*yaml);
	REQUIRE(cfg.services[0].health_checks.size() == 1);
	CHECK(cfg.services[0].health_checks[0].path == "/a\"b:#c,{d}[e]'f&g*h");
}
