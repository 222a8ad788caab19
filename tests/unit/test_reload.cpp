// SPDX-License-Identifier: Apache-2.0
// The reload hook refuses what tandemctl diff calls unsafe, with the same reasons.
#include <doctest/doctest.h>

#include "reload.h"

using namespace tandem;

static Config with_states(const std::string &one, const std::string &two)
{
	auto c = parse_config("services:\n  - name: web\n    binds: [{address: 192.0.2.1, protocol: tcp, ports: [80]}]\n"
			   "    hash_key: 000102030405060708090a0b0c0d0e0f\n"
			   "    seed: 0f0e0d0c0b0a09080706050403020100\n    backends:\n"
			   "      - {address: 10.0.0.1, state: " + one + "}\n"
			   "      - {address: 10.0.0.2, state: " + two + "}\n"
			   "      - {address: 10.0.0.3}\n      - {address: 10.0.0.4}\n", "reload.yaml");
	REQUIRE(c.ok());
	return std::move(c).value();
}

TEST_CASE("reload refuses draining two proxies at once with two hops per row, unless forced")
{
	Config running = with_states("active", "active");
	Config both = with_states("draining", "draining");
	auto r = director::check_transition(running, both, false);
	REQUIRE_FALSE(r.ok());
	CHECK(r.error().message.find("service web: ") != std::string::npos);
	CHECK(r.error().message.find("rows are left with no hop that is active (or filling) and healthy") !=
	      std::string::npos);
	CHECK(r.error().message.find("drain one at a time, or use hops_per_row 3") != std::string::npos);
	CHECK(director::check_transition(running, both, true).ok());
	CHECK(director::check_transition(running, with_states("draining", "active"), false).ok());
}
