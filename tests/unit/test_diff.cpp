// SPDX-License-Identifier: Apache-2.0
// tandemctl diff's judgement: which changes keep every connection, which break some.
#include <doctest/doctest.h>

#include "table_diff.h"
#include "test_support.h"

using namespace tandem;
using namespace tandem::test;

static std::string service(const std::string &backends, const std::string &extra = "",
			   const std::string &ports = "[80]")
{
	return "services:\n  - name: web\n    binds: [{address: 192.0.2.1, protocol: tcp, ports: " + ports +
	       "}]\n    hash_key: 000102030405060708090a0b0c0d0e0f\n"
	       "    seed: 0f0e0d0c0b0a09080706050403020100\n" + extra + "    backends:\n" + backends;
}

static const std::string four = "      - {address: 10.0.0.1}\n      - {address: 10.0.0.2}\n"
				"      - {address: 10.0.0.3}\n      - {address: 10.0.0.4}\n";

static ConfigDiff diff(const std::string &a, const std::string &b)
{
	return diff_configs(config_from(a), config_from(b));
}

static std::string replace(std::string s, const std::string &from, const std::string &to)
{
	s.replace(s.find(from), from.size(), to);
	return s;
}

TEST_CASE("no change is safe and moves nothing")
{
	auto d = diff(service(four), service(four));
	CHECK(d.safe());
	CHECK(d.services[0].first_hop_changed == 0);
}

TEST_CASE("draining a backend is safe; its rows' first hops move")
{
	auto d = diff(service(four), service(replace(four, "10.0.0.2}", "10.0.0.2, state: draining}")));
	CHECK(d.safe());
	CHECK(d.services[0].rows_lost == 0);
	CHECK(d.services[0].first_hop_changed > 12000);
	CHECK(d.services[0].first_hop_changed < 20000);
}

TEST_CASE("adding a backend is safe")
{
	auto d = diff(service(four), service(four + "      - {address: 10.0.0.5, state: filling}\n"));
	CHECK(d.safe());
	CHECK(d.services[0].notes.back() == "backend 10.0.0.5 added as filling");
}

TEST_CASE("removing an active backend without draining is unsafe")
{
	auto d = diff(service(four), service(replace(four, "      - {address: 10.0.0.2}\n", "")));
	CHECK_FALSE(d.safe());
	CHECK(d.services[0].unsafe[0] ==
	      "backend 10.0.0.2 leaves the table while active: set it to draining first, and remove it once its connections end");
}

TEST_CASE("removing a drained backend is safe")
{
	auto draining = replace(four, "10.0.0.2}", "10.0.0.2, state: draining}");
	auto d = diff(service(draining), service(replace(four, "      - {address: 10.0.0.2}\n", "")));
	CHECK(d.safe());
}

TEST_CASE("two proxies leaving a k = 2 row at once lose rows")
{
	auto drained = replace(replace(four, "10.0.0.1}", "10.0.0.1, state: draining}"), "10.0.0.2}",
			       "10.0.0.2, state: draining}");
	auto gone = replace(replace(four, "      - {address: 10.0.0.1}\n", ""), "      - {address: 10.0.0.2}\n", "");
	auto d = diff(service(drained), service(gone));
	CHECK_FALSE(d.safe());
	CHECK(d.services[0].rows_lost > 0);
	CHECK(d.services[0].unsafe[0].find("rows lose every hop they had") != std::string::npos);
	// With three hops per row those rows keep a member.
	auto k3 = "    hops_per_row: 3\n";
	CHECK(diff(service(drained, k3), service(gone, k3)).safe());
}

TEST_CASE("key, hash fields, binds and services")
{
	CHECK_FALSE(diff(service(four), replace(service(four), "000102030405060708090a0b0c0d0e0f",
						 "100102030405060708090a0b0c0d0e0f")).safe());
	CHECK_FALSE(diff(service(four), service(four, "    hash_fields: [src_addr, src_port]\n")).safe());
	CHECK(diff(service(four), service(four, "    hash_fields: [src_addr, src_port]\n    alt_hash_fields: [src_addr]\n")).safe());
	CHECK_FALSE(diff(service(four, "", "[80, 443]"), service(four, "", "[80]")).safe());
	CHECK(diff(service(four, "", "[80]"), service(four, "", "[80, 443]")).safe());
	CHECK(diff(service(four, "", "[80]"), service(four, "", "[\"1-1024\"]")).safe());
	auto removed = diff(service(four), "services: []\n");
	CHECK_FALSE(removed.safe());
	CHECK(removed.services[0].removed);
}

// GLB allows one non-active proxy at a time with two hops: a row whose two hops both drain
// has no proxy left to take its new connections, so the drain never ends.
TEST_CASE("draining two proxies at once with k = 2 leaves rows without an active hop")
{
	auto drained = replace(replace(four, "10.0.0.1}", "10.0.0.1, state: draining}"), "10.0.0.2}",
			       "10.0.0.2, state: draining}");
	auto d = diff(service(four), service(drained));
	CHECK_FALSE(d.safe());
	CHECK(d.services[0].rows_lost == 0);
	CHECK(d.services[0].rows_without_active > 0);
	CHECK(d.services[0].rows_without_active < 65536 / 4);
	REQUIRE(d.services[0].unsafe.size() == 1);
	CHECK(d.services[0].unsafe[0] ==
	      std::to_string(d.services[0].rows_without_active) +
		      " rows are left with no hop that is active (or filling) and healthy (for example row " +
		      std::to_string(d.services[0].example_without_active) +
		      "): new connections there land on a proxy that is leaving, so its drain never "
		      "ends; drain one at a time, or use hops_per_row 3");

	// The same for a proxy going down while another drains.
	auto down = replace(replace(four, "10.0.0.1}", "10.0.0.1, state: draining}"), "10.0.0.2}",
			    "10.0.0.2, healthy: false}");
	CHECK_FALSE(diff(service(four), service(down)).safe());

	// With three hops every row keeps an active one; one at a time with two is safe too.
	auto k3 = "    hops_per_row: 3\n";
	CHECK(diff(service(four, k3), service(drained, k3)).safe());
	auto one = replace(four, "10.0.0.1}", "10.0.0.1, state: draining}");
	CHECK(diff(service(four), service(one)).safe());
	// A filling hop takes its row's new connections as an active one does (it goes ahead
	// of the draining one), so a drain beside a fill is safe.
	auto filling = replace(four, "10.0.0.1}", "10.0.0.1, state: filling}");
	CHECK(diff(service(filling), service(replace(filling, "10.0.0.2}", "10.0.0.2, state: draining}"))).safe());
	// A row that had no active hop before is not this change's doing.
	CHECK(diff(service(drained), service(drained)).safe());
}
