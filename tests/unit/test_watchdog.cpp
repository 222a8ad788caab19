// SPDX-License-Identifier: Apache-2.0
// The watchdog (director/watchdog.h) on heartbeats a test drives: WATCHDOG=1 goes out
// once a period while every worker beats, stops when one stops beating, and comes back
// when it beats again.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include <doctest/doctest.h>

#include "watchdog.h"

using namespace tandem::director;
using namespace std::chrono_literals;

TEST_CASE("watchdog: pings while every worker beats, none while one is stuck")
{
	std::atomic<uint64_t> a{0}, b{0};
	std::atomic<bool> b_beats{true}, done{false};
	std::atomic<uint64_t> sent{0};
	// Two workers beating every 2 ms, as an idle one does every 100 ms.
	std::thread beater([&] {
		while (!done.load()) {
			a.fetch_add(1);
			if (b_beats.load())
				b.fetch_add(1);
			std::this_thread::sleep_for(2ms);
		}
	});
	auto wd = Watchdog::start({{0, &a}, {1, &b}}, 50ms, [&](const char *m) {
		if (std::string(m) == "WATCHDOG=1")
			sent.fetch_add(1);
	});
	std::this_thread::sleep_for(500ms);
	const uint64_t beating = sent.load();
	CHECK(beating >= 5);  // 10 periods; a loaded machine may lose some

	b_beats.store(false);
	std::this_thread::sleep_for(120ms);  // the period in flight may still count
	const uint64_t at_stall = sent.load();
	std::this_thread::sleep_for(500ms);
	CHECK(sent.load() == at_stall);

	b_beats.store(true);
	std::this_thread::sleep_for(500ms);
	CHECK(sent.load() >= at_stall + 5);
	done.store(true);
	beater.join();
	wd.reset();
	CHECK(wd == nullptr);
}
