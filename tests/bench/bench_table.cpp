// SPDX-License-Identifier: Apache-2.0
// Forwarding-table build time on one thread: 65536 rows for N backends (the reload cost).
//   meson setup build-release --buildtype=release && ninja -C build-release
//   build-release/tests/bench/bench-table
#include <benchmark/benchmark.h>

#include <random>

#include "forwarding_table.h"

using namespace tandem;

static std::vector<Backend> backends(size_t n, bool v6)
{
	std::mt19937 rng(42);
	std::vector<Backend> out(n);
	for (auto &b : out) {
		b.address.family = v6 ? Family::v6 : Family::v4;
		for (size_t i = 0; i < b.address.size(); i++)
			b.address.bytes[i] = static_cast<uint8_t>(rng());
	}
	return out;
}

static void table_build(benchmark::State &state, bool v6)
{
	const auto list = backends(static_cast<size_t>(state.range(0)), v6);
	const unsigned k = static_cast<unsigned>(state.range(1));
	const SipKey seed{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	for (auto _ : state) {
		auto t = ForwardingTable::build(seed, list, k);
		benchmark::DoNotOptimize(t.row(12345).data());
	}
	state.counters["backends"] = static_cast<double>(state.range(0));
	state.counters["ns/score"] = benchmark::Counter(
		double(table_rows) * state.range(0) * state.iterations(),
		benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

static void BM_TableBuildIPv4(benchmark::State &state) { table_build(state, false); }
static void BM_TableBuildIPv6(benchmark::State &state) { table_build(state, true); }

BENCHMARK(BM_TableBuildIPv4)->Args({100, 2})->Args({1000, 2})->Args({1000, 4})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TableBuildIPv6)->Args({100, 2})->Args({1000, 2})->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
