// SPDX-License-Identifier: Apache-2.0
#include "snapshot.h"

#include <algorithm>
#include <bit>
#include <thread>

namespace tandem::director {

NeighbourTable::NeighbourTable(const std::vector<uint32_t> &addresses)
{
	for (uint32_t a : addresses)
		if (a != 0 && std::find(addresses_.begin(), addresses_.end(), a) == addresses_.end())
			addresses_.push_back(a);
	if (addresses_.empty())
		return;
	uint32_t size = std::bit_ceil(static_cast<uint32_t>(addresses_.size() * 2 + 1));
	slots_ = std::make_unique<Slot[]>(size);
	mask_ = size - 1;
	for (uint32_t a : addresses_) {
		uint32_t i = hash(a) & mask_;
		while (slots_[i].address != 0)
			i = (i + 1) & mask_;
		slots_[i].address = a;
	}
}

void NeighbourTable::set(uint32_t address, const std::optional<MacAddress> &mac) const noexcept
{
	if (mask_ == 0)
		return;
	for (uint32_t i = hash(address) & mask_;; i = (i + 1) & mask_) {
		const Slot &s = slots_[i];
		if (s.address == 0)
			return;
		if (s.address != address)
			continue;
		uint64_t v = 0;
		if (mac) {
			v = resolved_bit;
			for (int b = 0; b < 6; b++)
				v |= uint64_t{(*mac)[b]} << (8 * (5 - b));
		}
		s.mac.store(v, std::memory_order_relaxed);
		return;
	}
}

Qsbr::Qsbr(unsigned readers) : slots_(std::make_unique<Slot[]>(readers)), readers_(readers) {}

uint64_t Qsbr::start_grace_period()
{
	const uint64_t target = token_.fetch_add(1, std::memory_order_seq_cst) + 1;
	// The pointer published before any slot is read; pairs with online()'s fence.
	std::atomic_thread_fence(std::memory_order_seq_cst);
	return target;
}

bool Qsbr::grace_period_over(uint64_t target, unsigned *holder) const
{
	for (unsigned r = 0; r < readers_; r++) {
		uint64_t t = slots_[r].token.load(std::memory_order_acquire);
		if (t != 0 && t < target) {
			if (holder != nullptr)
				*holder = r;
			return false;
		}
	}
	return true;
}

bool Qsbr::synchronize(uint64_t target, std::chrono::milliseconds limit, unsigned *holder)
{
	const auto deadline = std::chrono::steady_clock::now() + limit;
	while (!grace_period_over(target, holder)) {
		if (std::chrono::steady_clock::now() >= deadline)
			return false;
		std::this_thread::sleep_for(std::chrono::microseconds(20));
	}
	return true;
}

std::optional<unsigned> SnapshotHolder::publish(std::unique_ptr<Snapshot> next)
{
	std::unique_ptr<Snapshot> old(current_.exchange(next.release(), std::memory_order_seq_cst));
	const uint64_t target = qsbr_.start_grace_period();
	unsigned holder = 0;
	const bool over = qsbr_.synchronize(target, grace_limit_, &holder);
	if (old && !over)
		retired_.push_back(Retired{target, std::move(old)});
	reclaim();
	if (!over)
		return holder;
	return std::nullopt;
}

size_t SnapshotHolder::reclaim()
{
	// Grace periods end in the order they began: free from the oldest while they have.
	size_t done = 0;
	while (done < retired_.size() && qsbr_.grace_period_over(retired_[done].grace_period))
		done++;
	retired_.erase(retired_.begin(), retired_.begin() + static_cast<ptrdiff_t>(done));
	return retired_.size();
}

}  // namespace tandem::director
