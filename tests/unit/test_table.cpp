// SPDX-License-Identifier: Apache-2.0
// The forwarding table: GLB's table wherever at most one backend is not active and healthy,
// and the rendezvous properties that make changes safe, over random configurations.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>

#include "forwarding_table.h"
#include "test_support.h"

using namespace tandem;
using namespace tandem::test;

namespace {

SipKey random_key(std::mt19937 &rng)
{
	SipKey k;
	for (auto &b : k)
		b = static_cast<uint8_t>(rng());
	return k;
}

std::vector<Backend> random_backends(std::mt19937 &rng, size_t n, bool v6 = false)
{
	std::vector<Backend> out;
	while (out.size() < n) {
		IpAddress a;
		a.family = v6 ? Family::v6 : Family::v4;
		for (size_t i = 0; i < a.size(); i++)
			a.bytes[i] = static_cast<uint8_t>(rng());
		if (std::none_of(out.begin(), out.end(), [&](const Backend &b) { return b.address == a; }))
			out.push_back(Backend{a});
	}
	return out;
}

std::vector<IpAddress> row_addresses(const ForwardingTable &t, uint32_t r)
{
	std::vector<IpAddress> out;
	for (uint16_t b : t.row(r))
		out.push_back(t.backends()[b].address);
	return out;
}

// GLB's build-config, written from its description: sort every backend that is not
// inactive by score, take two, and swap them when the primary is draining or down and the
// secondary's state is active.
std::pair<uint16_t, uint16_t> glb_row(const SipKey &seed, const std::vector<Backend> &backends,
				      uint32_t row)
{
	uint64_t rs = row_seed(seed, row);
	std::vector<std::pair<uint64_t, uint16_t>> scored;
	for (size_t i = 0; i < backends.size(); i++)
		if (backends[i].state != BackendState::inactive)
			scored.emplace_back(backend_score(seed, rs, backends[i].address), i);
	std::sort(scored.begin(), scored.end());
	const Backend &p = backends[scored[0].second], &s = backends[scored[1].second];
	bool primary_bad = p.state == BackendState::draining || !p.healthy;
	if (primary_bad && s.state == BackendState::active)
		return {scored[1].second, scored[0].second};
	return {scored[0].second, scored[1].second};
}

}  // namespace

TEST_CASE("with at most one backend not active and healthy, the table is GLB's")
{
	std::mt19937 rng(20261122);
	for (int round = 0; round < 12; round++) {
		SipKey seed = random_key(rng);
		auto backends = random_backends(rng, 2 + rng() % 12, round % 4 == 3);
		if (round % 3 != 0) {
			Backend &odd = backends[rng() % backends.size()];
			switch (round % 4) {
			case 0: odd.state = BackendState::draining; break;
			case 1: odd.healthy = false; break;
			case 2: odd.state = BackendState::filling; break;
			default: odd.state = BackendState::inactive; break;
			}
		}
		size_t in_table = std::count_if(backends.begin(), backends.end(),
						[](const Backend &b) { return b.in_table(); });
		if (in_table < 2)
			continue;
		auto t = ForwardingTable::build(seed, backends, 2);
		REQUIRE(t.width() == 2);
		size_t mismatches = 0;
		for (uint32_t r = 0; r < table_rows; r++) {
			auto [p, s] = glb_row(seed, backends, r);
			auto row = t.row(r);
			mismatches += row[0] != p || row[1] != s;
		}
		CHECK_MESSAGE(mismatches == 0, "round " << round);
	}
}

TEST_CASE("rows are the head of the rendezvous order, for k = 1..8")
{
	std::mt19937 rng(7);
	SipKey seed = random_key(rng);
	auto backends = random_backends(rng, 9);
	for (unsigned k = 1; k <= max_hops_per_row; k++) {
		auto t = ForwardingTable::build(seed, backends, k);
		for (uint32_t r = 0; r < table_rows; r += 997) {
			auto order = rendezvous_order(seed, backends, r);
			auto row = t.row(r);
			REQUIRE(row.size() == k);
			CHECK(std::equal(row.begin(), row.end(), order.begin()));
		}
	}
}

TEST_CASE("first hops are balanced")
{
	std::mt19937 rng(99);
	for (size_t n : {3, 10, 50}) {
		auto t = ForwardingTable::build(random_key(rng), random_backends(rng, n), 2);
		std::vector<uint32_t> first(n);
		for (uint32_t r = 0; r < table_rows; r++)
			first[t.row(r)[0]]++;
		double mean = double(table_rows) / n;
		double worst = *std::max_element(first.begin(), first.end()) / mean;
		CHECK_MESSAGE(worst < 1.10, n << " backends: max/mean " << worst);
	}
}

TEST_CASE("adding a backend: a first hop changes only to the new one, the old stays in the row")
{
	std::mt19937 rng(1234);
	for (int round = 0; round < 6; round++) {
		SipKey seed = random_key(rng);
		unsigned k = 2 + round % 3;
		auto before = random_backends(rng, 4 + rng() % 16);
		auto after = before;
		after.push_back(random_backends(rng, 1)[0]);
		const IpAddress added = after.back().address;
		auto ta = ForwardingTable::build(seed, before, k);
		auto tb = ForwardingTable::build(seed, after, k);
		size_t changed = 0;
		for (uint32_t r = 0; r < table_rows; r++) {
			auto a = row_addresses(ta, r), b = row_addresses(tb, r);
			if (a[0] == b[0])
				continue;
			changed++;
			REQUIRE(b[0] == added);
			REQUIRE(std::find(b.begin(), b.end(), a[0]) != b.end());
		}
		// About 1/(n+1) of the rows move to the newcomer.
		double share = double(changed) / table_rows, expect = 1.0 / after.size();
		CHECK(share > expect * 0.9);
		CHECK(share < expect * 1.1);
	}
}

TEST_CASE("removing a backend touches only the rows that held it")
{
	std::mt19937 rng(4321);
	for (int round = 0; round < 6; round++) {
		SipKey seed = random_key(rng);
		unsigned k = 1 + round % 4;
		auto before = random_backends(rng, 5 + rng() % 12);
		auto after = before;
		size_t gone = rng() % after.size();
		const IpAddress removed = after[gone].address;
		if (round % 2)
			after.erase(after.begin() + static_cast<long>(gone));
		else
			after[gone].state = BackendState::inactive;
		auto ta = ForwardingTable::build(seed, before, k);
		auto tb = ForwardingTable::build(seed, after, k);
		for (uint32_t r = 0; r < table_rows; r++) {
			auto a = row_addresses(ta, r), b = row_addresses(tb, r);
			bool held = std::find(a.begin(), a.end(), removed) != a.end();
			REQUIRE(std::find(b.begin(), b.end(), removed) == b.end());
			if (!held)
				REQUIRE(a == b);
		}
	}
}

TEST_CASE("draining moves a backend behind, never out")
{
	std::mt19937 rng(555);
	for (unsigned k : {2u, 3u, 4u}) {
		SipKey seed = random_key(rng);
		auto before = random_backends(rng, 8);
		auto after = before;
		after[3].state = BackendState::draining;
		after[5].healthy = false;
		auto ta = ForwardingTable::build(seed, before, k);
		auto tb = ForwardingTable::build(seed, after, k);
		for (uint32_t r = 0; r < table_rows; r++) {
			auto a = ta.row(r), b = tb.row(r);
			// The same members, each bad one behind every good one, the rest in order.
			std::vector<uint16_t> sa(a.begin(), a.end()), sb(b.begin(), b.end());
			std::sort(sa.begin(), sa.end());
			std::sort(sb.begin(), sb.end());
			REQUIRE(sa == sb);
			bool seen_bad = false;
			for (uint16_t x : b) {
				if (after[x].is_bad())
					seen_bad = true;
				else
					REQUIRE_FALSE(seen_bad);
			}
			std::vector<uint16_t> good_a, good_b;
			for (uint16_t x : a)
				if (!after[x].is_bad())
					good_a.push_back(x);
			for (uint16_t x : b)
				if (!after[x].is_bad())
					good_b.push_back(x);
			REQUIRE(good_a == good_b);
		}
	}
}

TEST_CASE("k >= 3: a row whose first two proxies are down still starts with a healthy one")
{
	std::mt19937 rng(31337);
	SipKey seed = random_key(rng);
	auto backends = random_backends(rng, 6);
	backends[0].state = BackendState::draining;
	backends[1].healthy = false;
	auto t = ForwardingTable::build(seed, backends, 3);
	for (uint32_t r = 0; r < table_rows; r++)
		REQUIRE_FALSE(backends[t.row(r)[0]].is_bad());
}

TEST_CASE("narrow tables: fewer backends than k, one backend, none")
{
	std::mt19937 rng(2);
	SipKey seed = random_key(rng);
	auto backends = random_backends(rng, 3);
	CHECK(ForwardingTable::build(seed, backends, 5).width() == 3);
	backends[1].state = BackendState::inactive;
	CHECK(ForwardingTable::build(seed, backends, 5).width() == 2);
	auto one = ForwardingTable::build(seed, {backends[0]}, 2);
	CHECK(one.width() == 1);
	CHECK(one.row(65535)[0] == 0);
	CHECK(ForwardingTable::build(seed, {}, 2).width() == 0);
}
