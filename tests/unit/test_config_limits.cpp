// SPDX-License-Identifier: Apache-2.0
// The loader's limits: a file over the size limit is refused before YAML sees it, the
// error list stops at max_config_errors with "... and N more errors", and duplicates and
// overlaps cost one error per repeated item, not one per pair (a file of repeated
// backends used to take gigabytes inside the running daemon). Only parse_config and
// load_config_file are used, so these cases build against the loader of any version.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "config.h"

using namespace tandem;

namespace {

constexpr size_t limit = 16 * 1024 * 1024;  // max_config_bytes
constexpr size_t cap = 20;                   // max_config_errors

std::vector<std::string> lines_of(const std::string &s)
{
	std::vector<std::string> out;
	size_t start = 0;
	while (start <= s.size()) {
		size_t nl = s.find('\n', start);
		if (nl == std::string::npos)
			nl = s.size();
		out.push_back(s.substr(start, nl - start));
		start = nl + 1;
	}
	return out;
}

std::string service(const std::string &name, const std::string &vip)
{
	return "  - name: " + name + "\n"
	       "    binds:\n"
	       "      - {address: " + vip + ", protocol: tcp, ports: [80]}\n"
	       "    hash_key: 000102030405060708090a0b0c0d0e0f\n"
	       "    seed: 0f0e0d0c0b0a09080706050403020100\n";
}

// A temporary file removed at the end of the test case.
struct TempFile {
	std::string path;
	explicit TempFile(const std::string &text)
	{
		char name[] = "/tmp/tandem-config-limits.XXXXXX";
		int fd = mkstemp(name);
		REQUIRE(fd >= 0);
		close(fd);
		path = name;
		std::ofstream(path, std::ios::binary) << text;
	}
	~TempFile() { std::remove(path.c_str()); }
};

// A valid configuration of exactly `size` bytes: one service, then comment lines.
std::string padded_config(size_t size)
{
	std::string s = "services:\n" + service("web", "192.0.2.10");
	const std::string comment = "# " + std::string(77, 'x') + "\n";
	while (s.size() + comment.size() <= size)
		s += comment;
	s += "#" + std::string(size - s.size() - 2, 'y') + "\n";
	REQUIRE(s.size() == size);
	return s;
}

}  // namespace

TEST_CASE("a file over the size limit is refused, unparsed, with its size and the limit")
{
	TempFile at_limit(padded_config(limit));
	auto ok = load_config_file(at_limit.path);
	CHECK_MESSAGE(ok.ok(), (ok.ok() ? "" : ok.error().message));

	TempFile over(padded_config(limit + 1));
	auto big = load_config_file(over.path);
	REQUIRE_FALSE(big.ok());
	CHECK(big.error().message == over.path + ": 16777217 bytes, larger than the limit of " +
					     "16777216 bytes; check that this is the right file");

	// Not a regular file: read up to one byte past the limit, then refused.
	auto dev = load_config_file("/dev/zero");
	REQUIRE_FALSE(dev.ok());
	CHECK(dev.error().message == "/dev/zero: more than 16777216 bytes, larger than the limit " +
					     std::string("of 16777216 bytes; check that this is the right file"));
}

TEST_CASE("past max_config_errors problems the list ends with \"... and N more errors\"")
{
	std::string yaml = "services:\n";
	for (int i = 0; i < 50; i++)
		yaml += service("s" + std::to_string(i), "192.0.2." + std::to_string(i)) + "    bogus: 1\n";
	auto c = parse_config(yaml, "d.yaml");
	REQUIRE_FALSE(c.ok());
	std::vector<std::string> lines = lines_of(c.error().message);
	REQUIRE(lines.size() == cap + 1);
	CHECK(lines[0] == "d.yaml:7:5: services[0].bogus: unknown key; allowed here: name, binds, "
			  "hash_key, seed, hash_fields, alt_hash_fields, hops_per_row, backends, health_check");
	CHECK(lines[cap - 1].find("d.yaml:") == 0);
	CHECK(lines[cap] == "d.yaml: ... and 30 more errors");

	// At the cap exactly nothing is dropped, so there is no summary line.
	std::string twenty = "services:\n";
	for (size_t i = 0; i < cap; i++)
		twenty += service("s" + std::to_string(i), "192.0.2." + std::to_string(i)) + "    bogus: 1\n";
	auto t = parse_config(twenty, "d.yaml");
	REQUIRE_FALSE(t.ok());
	CHECK(lines_of(t.error().message).size() == cap);
	CHECK(t.error().message.find("more error") == std::string::npos);
}

TEST_CASE("200,000 duplicate backends: one error each, capped, not one per pair")
{
	// Four services of 50,000 copies of one backend: 4 x 49,999 duplicates. Comparing
	// every pair made 5e9 error lines; now it is one lookup and one count per backend.
	std::string yaml = "services:\n";
	for (int s = 0; s < 4; s++) {
		yaml += service("s" + std::to_string(s), "192.0.2." + std::to_string(s)) + "    backends:\n";
		for (int b = 0; b < 50000; b++)
			yaml += "      - {address: 10.0.1.1}\n";
	}
	auto c = parse_config(yaml, "d.yaml");
	REQUIRE_FALSE(c.ok());
	std::vector<std::string> lines = lines_of(c.error().message);
	REQUIRE(lines.size() == cap + 1);
	CHECK(lines[0] == "d.yaml:9:19: services[0].backends[1].address: 10.0.1.1 is already a "
			  "backend of this service (line 8); list each backend once");
	// The third copy names the first one (line 8), as the second does.
	CHECK(lines[1] == "d.yaml:10:19: services[0].backends[2].address: 10.0.1.1 is already a "
			  "backend of this service (line 8); list each backend once");
	CHECK(lines[cap] == "d.yaml: ... and " + std::to_string(4 * 49999 - cap) + " more errors");
}

TEST_CASE("20,000 equal binds: one overlap error per bind after the first, capped")
{
	std::string yaml = "services:\n";
	for (int s = 0; s < 20; s++) {
		yaml += "  - name: s" + std::to_string(s) + "\n    binds:\n";
		for (int b = 0; b < 1000; b++)
			yaml += "      - {address: 192.0.2.0/24, protocol: tcp, ports: [\"1-65535\"]}\n";
		yaml += "    hash_key: 000102030405060708090a0b0c0d0e0f\n"
			"    seed: 0f0e0d0c0b0a09080706050403020100\n";
	}
	auto c = parse_config(yaml, "d.yaml");
	REQUIRE_FALSE(c.ok());
	std::vector<std::string> lines = lines_of(c.error().message);
	REQUIRE(lines.size() == cap + 1);
	CHECK(lines[0] == "d.yaml:5:9: services.s0.binds: 192.0.2.0/24 tcp overlaps the bind at "
			  "line 4 of service \"s0\"; a packet must match one bind only: change the "
			  "address, protocol or ports");
	CHECK(lines[cap] == "d.yaml: ... and " + std::to_string(20000 - 1 - cap) + " more errors");
}

TEST_CASE("a service name used three times: each repeat names the first definition")
{
	std::string yaml = "services:\n" + service("web", "192.0.2.1") + service("web", "192.0.2.2") +
			   service("web", "192.0.2.3");
	auto c = parse_config(yaml, "d.yaml");
	REQUIRE_FALSE(c.ok());
	std::vector<std::string> lines = lines_of(c.error().message);
	REQUIRE(lines.size() == 2);
	CHECK(lines[0] == "d.yaml:7:11: services[1].name: service \"web\" is already defined at "
			  "line 2; names must be unique");
	CHECK(lines[1] == "d.yaml:12:11: services[2].name: service \"web\" is already defined at "
			  "line 2; names must be unique");
}
