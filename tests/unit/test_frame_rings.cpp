// SPDX-License-Identifier: Apache-2.0
// The worker's ring accounting (director/frame_rings.h) on libxdp's own ring code over
// rings in plain memory, with a fake kernel that fills RX from the fill ring and sends
// TX into the completion ring, each able to stall. After every step every frame is in
// exactly one place: fill, RX, the kernel, TX, completion, the free list or the backlog;
// and a frame forwarded is never dropped, however full the TX ring is.
#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "frame_rings.h"

using namespace tandem::director;

namespace {

constexpr uint32_t frame_size = 2048;
constexpr uint32_t headroom = 256;  // where the kernel puts an RX frame's data

// One ring's memory, as the kernel shares it, and libxdp's view of it.
template <class Entry>
struct MemRing {
	explicit MemRing(uint32_t size) : size(size), entries(size) {}
	uint32_t size;
	std::vector<Entry> entries;
	uint32_t producer = 0, consumer = 0, flags = 0;

	uint32_t used() const { return producer - consumer; }
	Entry &at(uint32_t i) { return entries[i & (size - 1)]; }

	template <class Ring>
	Ring view(bool producer_side)
	{
		Ring r{};
		r.mask = size - 1;
		r.size = size;
		r.producer = &producer;
		r.consumer = &consumer;
		r.ring = entries.data();
		r.flags = &flags;
		r.cached_cons = producer_side ? size : 0;  // as xsk_umem__create and xsk_socket__create
		return r;
	}
};

struct Lab {
	Lab(uint32_t fill_size, uint32_t ring_size, uint32_t frames)
		: fill(fill_size), comp(ring_size), rx(ring_size), tx(ring_size),
		  fill_v(fill.view<xsk_ring_prod>(true)), comp_v(comp.view<xsk_ring_cons>(false)),
		  rx_v(rx.view<xsk_ring_cons>(false)), tx_v(tx.view<xsk_ring_prod>(true)),
		  frames(frames), rings(RingSet{fill_v, comp_v, rx_v, tx_v}, frames, frame_size)
	{
	}
	MemRing<uint64_t> fill, comp;
	MemRing<xdp_desc> rx, tx;
	xsk_ring_prod fill_v;
	xsk_ring_cons comp_v;
	xsk_ring_cons rx_v;
	xsk_ring_prod tx_v;
	uint32_t frames;
	FrameRings rings;
	std::vector<uint64_t> sending;  // consumed from TX, not yet completed
	std::vector<uint64_t> batch;    // taken from RX by the worker, not yet placed
	uint64_t received = 0, dropped = 0, staged = 0, completed = 0;

	// The kernel receives up to n frames: each takes a fill entry and lands on RX, while
	// both have one (a full RX ring leaves the fill entry where it is, as copy mode does).
	void kernel_rx(uint32_t n)
	{
		for (; n > 0 && fill.used() > 0 && rx.used() < rx.size; n--) {
			const uint64_t addr = fill.at(fill.consumer++);
			rx.at(rx.producer++) = xdp_desc{addr + headroom, 64, 0};
			received++;
		}
	}
	// The kernel takes up to n TX descriptors, while the completion ring has room for
	// every frame it holds (it reserves a completion slot before it sends).
	void kernel_tx(uint32_t n)
	{
		for (; n > 0 && tx.used() > 0 && comp.used() + sending.size() < comp.size; n--)
			sending.push_back(tx.at(tx.consumer++).addr);
	}
	void kernel_complete(uint32_t n)
	{
		for (; n > 0 && !sending.empty(); n--) {
			comp.at(comp.producer++) = sending.front();
			sending.erase(sending.begin());
		}
	}

	// One worker iteration as Worker::run does it, without its system calls: the frames
	// of the batch whose number is divisible by `drop_every` get a verdict, the rest are
	// encapsulated 40 bytes in front of where they arrived.
	void worker_step(uint32_t drop_every)
	{
		completed += rings.reap_completions();
		rings.refill();
		if (rings.backlog() != 0) {
			rings.flush_tx();
			return;
		}
		uint32_t idx;
		const uint32_t n = rings.peek_rx(batch_size, idx);
		for (uint32_t i = 0; i < n; i++)
			batch.push_back(rings.rx_desc(idx + i)->addr);
		check();  // mid-batch: the frames are the worker's, off every ring
		for (uint32_t i = 0; i < n; i++) {
			const uint64_t addr = batch[i];
			if (drop_every != 0 && (staged + dropped) % drop_every == 0) {
				rings.recycle(addr);
				dropped++;
			} else {
				rings.stage_tx(addr - 40, 104);
				staged++;
			}
		}
		batch.clear();
		rings.release_rx(n);
		rings.flush_tx();
	}

	// Every frame in exactly one place; the counts add up.
	void check()
	{
		std::map<uint64_t, std::string> where;
		auto put = [&](uint64_t addr, const char *place) {
			const uint64_t base = addr - addr % frame_size;
			REQUIRE_MESSAGE(base / frame_size < frames, "frame ", base, " is not in the UMEM");
			auto [it, fresh] = where.emplace(base, place);
			REQUIRE_MESSAGE(fresh, "frame ", base, " is in ", it->second, " and in ", std::string(place));
		};
		for (uint32_t i = fill.consumer; i != fill.producer; i++)
			put(fill.at(i), "fill");
		for (uint32_t i = rx.consumer; i != rx.producer; i++)
			if (std::find(batch.begin(), batch.end(), rx.at(i).addr) == batch.end())
				put(rx.at(i).addr, "rx");
		for (uint64_t a : batch)
			put(a, "the worker's batch");
		for (uint32_t i = tx.consumer; i != tx.producer; i++)
			put(tx.at(i).addr, "tx");
		for (uint64_t a : sending)
			put(a, "the kernel's TX");
		for (uint32_t i = comp.consumer; i != comp.producer; i++)
			put(comp.at(i), "completion");
		rings.for_each_held([&](uint64_t a) { put(a, "free list or backlog"); });
		REQUIRE(where.size() == frames);
		// Every frame taken from RX was dropped for a verdict or is on its way out.
		REQUIRE(staged == rings.backlog() + tx.used() + sending.size() + comp.used() + completed);
	}
};

}  // namespace

TEST_CASE("frame rings: every frame in one place under every combination of full rings")
{
	// Kernel behaviours per phase: RX arrivals, TX taken, completions; 0 = stalled.
	struct Phase {
		uint32_t rx, tx, complete;
	};
	const Phase phases[] = {
		{64, 64, 64},   // steady
		{64, 0, 64},    // TX stalled (link down): TX ring fills, the backlog holds, RX fills
		{64, 64, 0},    // completions stalled: the completion ring fills, then TX
		{0, 64, 64},    // RX idle: everything drains back to fill
		{200, 8, 8},    // RX far faster than TX: back-pressure
		{0, 0, 0},      // the kernel does nothing
		{64, 64, 64},
	};
	for (uint32_t ring : {64u, 128u}) {
		CAPTURE(ring);
		Lab lab(2 * ring, ring, 4 * ring);
		lab.check();
		uint64_t step = 0;
		for (const Phase &ph : phases) {
			for (int i = 0; i < 40; i++, step++) {
				CAPTURE(step);
				lab.kernel_rx(ph.rx);
				lab.check();
				lab.worker_step(7);
				lab.check();
				lab.kernel_tx(ph.tx);
				lab.check();
				lab.kernel_complete(ph.complete);
				lab.check();
			}
		}
		// Drained at the end: nothing lost, everything forwarded was completed.
		for (int i = 0; i < 40; i++) {
			lab.worker_step(7);
			lab.kernel_tx(ring);
			lab.kernel_complete(ring);
		}
		lab.worker_step(7);
		lab.check();
		CHECK(lab.received == lab.staged + lab.dropped);
		CHECK(lab.completed == lab.staged);
		CHECK(lab.rings.backlog() == 0);
	}
}

TEST_CASE("frame rings: random kernel behaviour, checked at every step")
{
	std::mt19937 rng(20261202);
	for (int run = 0; run < 20; run++) {
		const uint32_t ring = 64u << (run % 3);
		Lab lab(2 * ring, ring, 4 * ring);
		for (int step = 0; step < 400; step++) {
			CAPTURE(run);
			CAPTURE(step);
			lab.kernel_rx(rng() % 150);
			lab.worker_step(1 + rng() % 10);
			lab.kernel_tx(rng() % 3 == 0 ? 0 : rng() % 100);
			lab.kernel_complete(rng() % 4 == 0 ? 0 : rng() % 100);
			lab.check();
		}
	}
}

TEST_CASE("frame rings: a batch that does not fit waits in the backlog, in order")
{
	Lab lab(128, 64, 256);
	lab.rings.refill();
	// Fill TX to 63 used / 1 free: one batch of 63 frames, never sent.
	lab.kernel_rx(63);
	lab.worker_step(0);
	REQUIRE(lab.tx.used() == 63);
	// A batch of 64 with one free TX slot: 1 goes, 63 wait (reserve() alone would refuse all).
	lab.kernel_rx(64);
	lab.worker_step(0);
	CHECK(lab.tx.used() == 64);
	CHECK(lab.rings.backlog() == 63);
	CHECK(lab.dropped == 0);
	// While the backlog waits, no new RX batch is taken.
	const uint32_t consumed = lab.rx.consumer;
	lab.kernel_rx(10);
	lab.worker_step(0);
	CHECK(lab.rx.consumer == consumed);
	CHECK(lab.rx.used() == 10);
	// The kernel sends 20: 20 of the backlog follow, the first of them first.
	const uint32_t first_waiting = lab.tx.producer;
	lab.kernel_tx(20);
	lab.kernel_complete(20);
	lab.worker_step(0);
	CHECK(lab.rings.backlog() == 43);
	CHECK(lab.tx.producer == first_waiting + 20);
	lab.check();
}
