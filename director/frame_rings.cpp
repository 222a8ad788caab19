// SPDX-License-Identifier: Apache-2.0
#include "frame_rings.h"

#include <algorithm>

namespace tandem::director {

FrameRings::FrameRings(RingSet rings, uint32_t frame_count, uint32_t frame_size)
	: r_(rings), frame_size_(frame_size)
{
	free_.reserve(frame_count);
	for (uint32_t i = frame_count; i > 0; i--)
		free_.push_back(uint64_t{i - 1} * frame_size);
}

uint32_t FrameRings::reap_completions() noexcept
{
	if (in_flight_ == 0)
		return 0;
	uint32_t idx;
	const uint32_t n = xsk_ring_cons__peek(&r_.comp, in_flight_, &idx);
	for (uint32_t i = 0; i < n; i++) {
		// The address sent, inside its frame: the free list keeps frame starts.
		const uint64_t addr = *xsk_ring_cons__comp_addr(&r_.comp, idx + i);
		free_.push_back(addr - addr % frame_size_);
	}
	xsk_ring_cons__release(&r_.comp, n);
	in_flight_ -= n;
	return n;
}

uint32_t FrameRings::refill() noexcept
{
	// In chunks: asking for no more than the free list holds lets libxdp answer from its
	// cached view of the ring, without reading the kernel's consumer index every time.
	const auto have = static_cast<uint32_t>(free_.size());
	if (have < refill_chunk)
		return 0;
	xsk_ring_prod &fq = r_.fill;
	const uint32_t want = std::min(have, xsk_prod_nb_free(&fq, have));
	uint32_t idx;
	if (want == 0 || xsk_ring_prod__reserve(&fq, want, &idx) != want)
		return 0;
	for (uint32_t i = 0; i < want; i++) {
		*xsk_ring_prod__fill_addr(&fq, idx + i) = free_.back();
		free_.pop_back();
	}
	xsk_ring_prod__submit(&fq, want);
	return want;
}

uint32_t FrameRings::flush_tx() noexcept
{
	if (backlog_len_ == 0)
		return 0;
	// reserve() is all or nothing: ask for what the ring has room for, not the whole backlog.
	const uint32_t fit = std::min(backlog_len_, xsk_prod_nb_free(&r_.tx, backlog_len_));
	uint32_t idx;
	if (fit == 0 || xsk_ring_prod__reserve(&r_.tx, fit, &idx) != fit)
		return 0;
	for (uint32_t i = 0; i < fit; i++) {
		xdp_desc *d = xsk_ring_prod__tx_desc(&r_.tx, idx + i);
		d->addr = backlog_[backlog_head_ + i].addr;
		d->len = backlog_[backlog_head_ + i].len;
		d->options = 0;
	}
	xsk_ring_prod__submit(&r_.tx, fit);
	in_flight_ += fit;
	backlog_len_ -= fit;
	backlog_head_ = backlog_len_ == 0 ? 0 : backlog_head_ + fit;
	return fit;
}

}  // namespace tandem::director
