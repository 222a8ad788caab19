// SPDX-License-Identifier: Apache-2.0
// The snapshot reclamation (director/snapshot.h) under a writer swapping snapshots as fast
// as it can while readers use them as the workers do: a batch per pointer load, a
// quiescent point between batches, offline around a sleep. Every reader checks the
// content of the snapshot it holds; a snapshot freed too early shows as wrong content,
// as a use after free under AddressSanitizer, or as a race under ThreadSanitizer (tests/run
// builds this test with -fsanitize=thread as well). TANDEM_QSBR_SWAPS sets the swaps
// (default 100,000).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "snapshot.h"

using namespace tandem::director;

namespace {

std::unique_ptr<Snapshot> snapshot_of(uint64_t generation)
{
	auto s = std::make_unique<Snapshot>();
	s->generation = generation;
	// Heap content of its own, freed with the snapshot.
	s->service_slot.assign(16, static_cast<uint32_t>(generation * 2654435761u));
	s->backend_slot = {static_cast<uint32_t>(generation), static_cast<uint32_t>(~generation)};
	return s;
}

bool content_ok(const Snapshot &s)
{
	if (s.backend_slot.size() != 2 || s.backend_slot[0] != static_cast<uint32_t>(s.generation) ||
	    s.backend_slot[1] != static_cast<uint32_t>(~s.generation) || s.service_slot.size() != 16)
		return false;
	for (uint32_t v : s.service_slot)
		if (v != static_cast<uint32_t>(s.generation * 2654435761u))
			return false;
	return true;
}

}  // namespace

TEST_CASE("qsbr: readers never see a freed or changed snapshot while a writer swaps")
{
	const char *env = std::getenv("TANDEM_QSBR_SWAPS");
	const uint64_t swaps = env ? std::strtoull(env, nullptr, 10) : 100000;
	constexpr unsigned readers = 3;
	SnapshotHolder holder(readers);
	holder.publish(snapshot_of(1));
	std::atomic<bool> done{false};
	std::atomic<uint64_t> bad{0}, backwards{0}, batches{0};

	std::vector<std::thread> threads;
	for (unsigned r = 0; r < readers; r++) {
		threads.emplace_back([&, r] {
			Qsbr &q = holder.qsbr();
			q.online(r);
			uint64_t last = 0, n = 0;
			while (!done.load(std::memory_order_relaxed)) {
				q.quiescent(r);
				const Snapshot *s = holder.current();
				// A batch: read the snapshot several times, as a worker does per frame.
				for (int i = 0; i < 8; i++)
					if (!content_ok(*s))
						bad.fetch_add(1, std::memory_order_relaxed);
				if (s->generation < last)
					backwards.fetch_add(1, std::memory_order_relaxed);
				last = s->generation;
				// Now and then idle: offline, a short sleep, online again.
				if (++n % (64 + 32 * r) == 0) {
					q.offline(r);
					std::this_thread::yield();
					q.online(r);
				}
			}
			q.offline(r);
			batches.fetch_add(n, std::memory_order_relaxed);
		});
	}
	for (uint64_t g = 2; g < swaps + 2; g++)
		holder.publish(snapshot_of(g));
	done.store(true);
	for (std::thread &t : threads)
		t.join();
	MESSAGE(swaps, " swaps, ", batches.load(), " reader batches");
	CHECK(bad.load() == 0);
	CHECK(backwards.load() == 0);
	CHECK(holder.current()->generation == swaps + 1);
}

TEST_CASE("qsbr: a reader that stops holds up no writer; what it may use is kept until it moves")
{
	using namespace std::chrono_literals;
	SnapshotHolder holder(2, 100ms);
	holder.publish(snapshot_of(1));
	std::atomic<bool> holding{false}, release{false};
	std::atomic<bool> held_ok{false};
	// Reader 1 takes the pointer and stops, online, before its next quiescent point.
	std::thread stuck([&] {
		Qsbr &q = holder.qsbr();
		q.online(1);
		const Snapshot *s = holder.current();
		holding.store(true);
		while (!release.load())
			std::this_thread::sleep_for(1ms);
		held_ok.store(content_ok(*s) && s->generation == 1);  // freed early: ASan says so
		q.quiescent(1);
		q.offline(1);
	});
	while (!holding.load())
		std::this_thread::yield();

	const auto t0 = std::chrono::steady_clock::now();
	std::optional<unsigned> holder_index = holder.publish(snapshot_of(2));
	const auto waited = std::chrono::steady_clock::now() - t0;
	CHECK(holder_index == std::optional<unsigned>(1));
	CHECK(waited >= 100ms);
	CHECK(waited < 1000ms);
	CHECK(holder.current()->generation == 2);
	CHECK(holder.reclaim() == 1);  // generation 1 retired, not freed
	CHECK(holder.publish(snapshot_of(3)) == std::optional<unsigned>(1));
	CHECK(holder.reclaim() == 2);

	release.store(true);
	stuck.join();
	CHECK(held_ok.load());
	CHECK(holder.reclaim() == 0);  // the reader moved: both freed
	CHECK(holder.publish(snapshot_of(4)) == std::nullopt);
}
