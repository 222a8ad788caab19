// SPDX-License-Identifier: Apache-2.0
// The ring mechanics of one worker, without system calls: where each UMEM frame is.
// Every frame is in exactly one place at any time:
//   free list -> fill ring -> (kernel) -> RX ring -> the worker's batch
//     -> dropped: free list
//     -> forwarded: TX backlog -> TX ring -> (kernel) -> completion ring -> free list
// The TX backlog holds the frames of one batch that did not fit in the TX ring: they
// wait there (the worker takes no new RX batch meanwhile) instead of being dropped, so a
// full TX ring pushes back on RX and overload shows up as RX-ring overflow in the kernel.
// The worker adds the system calls (kicks, wakeups, sleeps); tests drive this class on
// rings in plain memory with a fake kernel.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include <xdp/xsk.h>

namespace tandem::director {

inline constexpr uint32_t batch_size = 64;

struct RingSet {
	xsk_ring_prod &fill;
	xsk_ring_cons &comp;
	xsk_ring_cons &rx;
	xsk_ring_prod &tx;
};

class FrameRings {
public:
	// Frames are frame_count consecutive frame_size blocks from address 0; all start free.
	FrameRings(RingSet rings, uint32_t frame_count, uint32_t frame_size);

	// Completion ring -> free list. Returns the frames reaped.
	uint32_t reap_completions() noexcept;
	// Free list -> fill ring, up to the ring's free space, once the free list holds
	// refill_chunk frames or more. Returns the frames given.
	static constexpr uint32_t refill_chunk = batch_size / 2;
	uint32_t refill() noexcept;

	// The next RX batch: up to `max` descriptors from `idx` on.
	uint32_t peek_rx(uint32_t max, uint32_t &idx) noexcept { return xsk_ring_cons__peek(&r_.rx, max, &idx); }
	const xdp_desc *rx_desc(uint32_t idx) const noexcept { return xsk_ring_cons__rx_desc(&r_.rx, idx); }
	void release_rx(uint32_t n) noexcept { xsk_ring_cons__release(&r_.rx, n); }

	// A frame of the batch that is not sent: back to the free list (by any address in it).
	void recycle(uint64_t addr) noexcept { free_.push_back(addr - addr % frame_size_); }
	// A frame to send: into the backlog. The backlog holds one batch at most: the worker
	// takes an RX batch only when the backlog is empty.
	void stage_tx(uint64_t addr, uint32_t len) noexcept
	{
		backlog_[backlog_head_ + backlog_len_++] = {addr, len};
	}
	// Backlog -> TX ring, in order, as many as fit. Returns the frames moved.
	uint32_t flush_tx() noexcept;

	uint32_t backlog() const noexcept { return backlog_len_; }
	// Descriptors in the TX ring the kernel has not consumed yet.
	uint32_t tx_unconsumed() noexcept { return r_.tx.size - xsk_prod_nb_free(&r_.tx, r_.tx.size); }
	// Frames submitted to TX and not yet reaped from the completion ring.
	uint32_t tx_in_flight() const noexcept { return in_flight_; }
	uint32_t free_frames() const noexcept { return static_cast<uint32_t>(free_.size()); }
	uint32_t frame_size() const noexcept { return frame_size_; }

	// The frames in no ring: the free list and the backlog (for the accounting tests).
	template <class F>
	void for_each_held(F &&f) const
	{
		for (uint64_t a : free_)
			f(a);
		for (uint32_t i = 0; i < backlog_len_; i++)
			f(backlog_[backlog_head_ + i].addr - backlog_[backlog_head_ + i].addr % frame_size_);
	}

private:
	struct TxFrame {
		uint64_t addr;
		uint32_t len;
	};
	RingSet r_;
	uint32_t frame_size_;
	std::vector<uint64_t> free_;  // capacity = every frame, reserved once, never grows
	std::array<TxFrame, batch_size> backlog_{};
	uint32_t backlog_head_ = 0;  // the first frame still waiting
	uint32_t backlog_len_ = 0;
	uint32_t in_flight_ = 0;
};

}  // namespace tandem::director
