// SPDX-License-Identifier: Apache-2.0
// What the workers read: an immutable Snapshot of the compiled services, published with
// one atomic pointer swap and freed only after every worker has passed a quiescent point
// (QSBR, as DPDK's rte_rcu_qsbr). The only fields that change inside a published snapshot
// are the neighbour MACs, which are single atomic words written by the control thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "config.h"
#include "gue.h"
#include "service_set.h"

namespace tandem::director {

// Proxy IPv4 address -> MAC, for the data path. Keys are fixed when built; values are
// packed (bit 63 = resolved, bits 0..47 = the MAC) so a reader never sees half a MAC.
class NeighbourTable {
public:
	NeighbourTable() = default;
	explicit NeighbourTable(const std::vector<uint32_t> &addresses);  // network order

	// Lock-free, allocation-free; nullopt while unresolved or unknown.
	bool lookup(uint32_t address, MacAddress &out) const noexcept
	{
		if (mask_ == 0)
			return false;
		for (uint32_t i = hash(address) & mask_;; i = (i + 1) & mask_) {
			const Slot &s = slots_[i];
			if (s.address == address) {
				uint64_t v = s.mac.load(std::memory_order_relaxed);
				if ((v & resolved_bit) == 0)
					return false;
				for (int b = 0; b < 6; b++)
					out[b] = static_cast<uint8_t>(v >> (8 * (5 - b)));
				return true;
			}
			if (s.address == 0)
				return false;
		}
	}
	void set(uint32_t address, const std::optional<MacAddress> &mac) const noexcept;
	const std::vector<uint32_t> &addresses() const { return addresses_; }

private:
	static constexpr uint64_t resolved_bit = uint64_t{1} << 63;
	static uint32_t hash(uint32_t a) { return (a * 0x9e3779b1u) >> 7; }
	struct Slot {
		uint32_t address = 0;
		mutable std::atomic<uint64_t> mac{0};
	};
	std::unique_ptr<Slot[]> slots_;
	uint32_t mask_ = 0;
	std::vector<uint32_t> addresses_;
};

struct Snapshot {
	uint64_t generation = 0;
	Config config;  // what it was built from: the next reload compares against it
	ServiceSet services;
	EncapFields encap;  // src_mac, source_ip, gue_port, udp_checksum; dst_mac per packet
	std::optional<MacAddress> gateway_mac;
	NeighbourTable neighbours;
	uint32_t max_frame = 0;  // longest frame the interface sends
	// Metric slots (see metrics.h): per service, and per (service, backend index).
	std::vector<uint32_t> service_slot;
	std::vector<uint32_t> backend_slot_base;
	std::vector<uint32_t> backend_slot;
};

// Quiescent-state-based reclamation for a fixed set of readers (the workers), as DPDK's
// rte_rcu_qsbr. A reader's slot holds the writer's token it last saw, or 0 while offline.
// Writer (synchronize): publish the new pointer, bump the token, then wait until every
// reader is offline or has stored a token at least as new. Reader: load the pointer at
// the start of a batch (acquire), work, then quiescent(): store the token (release, so
// the batch's reads come before it). An idle reader goes offline before it sleeps and
// online when it wakes, so the writer never waits on a sleeper. Going online is a store
// (the slot) followed by a load (the pointer), racing the writer's store (the pointer)
// followed by a load (the slot): without a full fence on both sides both loads may see
// the old values (store buffering), and the writer would free a snapshot the reader is
// about to use.
class Qsbr {
public:
	explicit Qsbr(unsigned readers);

	void quiescent(unsigned r) noexcept
	{
		slots_[r].token.store(token_.load(std::memory_order_acquire),
				      std::memory_order_release);
	}
	void offline(unsigned r) noexcept { slots_[r].token.store(0, std::memory_order_release); }
	void online(unsigned r) noexcept
	{
		slots_[r].token.store(token_.load(std::memory_order_acquire),
				      std::memory_order_relaxed);
		// The slot store before any later pointer load; pairs with synchronize()'s fence.
		std::atomic_thread_fence(std::memory_order_seq_cst);
	}
	// Writer side. A grace period starts (after the new pointer is published) and ends
	// once every reader has passed a quiescent point or gone offline since.
	uint64_t start_grace_period();
	// Whether grace period `target` has ended; if not, `holder` says which reader holds
	// it up.
	bool grace_period_over(uint64_t target, unsigned *holder = nullptr) const;
	// Waits for it, up to `limit`: false (and the holder) when a reader does not move.
	bool synchronize(uint64_t target, std::chrono::milliseconds limit, unsigned *holder);

private:
	struct alignas(64) Slot {
		std::atomic<uint64_t> token{0};  // 0 = offline
	};
	std::atomic<uint64_t> token_{1};
	std::unique_ptr<Slot[]> slots_;
	unsigned readers_;
};

// Reclamation is bounded: a worker that passes no quiescent point within grace_limit
// (it hangs, or its core is starved) cannot hold up a reload or a health change. The
// old snapshot is then retired, not freed: kept until that worker moves on, freed by a
// later publish() or reclaim().
class SnapshotHolder {
public:
	static constexpr std::chrono::milliseconds default_grace_limit{1000};

	explicit SnapshotHolder(unsigned readers,
				std::chrono::milliseconds grace_limit = default_grace_limit)
		: qsbr_(readers), grace_limit_(grace_limit)
	{
	}
	~SnapshotHolder() { delete current_.load(); }

	const Snapshot *current(std::memory_order o = std::memory_order_acquire) const noexcept
	{
		return current_.load(o);
	}
	Qsbr &qsbr() { return qsbr_; }
	// Swaps, waits up to grace_limit for the grace period and frees the old snapshot.
	// Returns the reader that held it up past the limit (its snapshot is retired), or
	// nothing. Control thread only.
	std::optional<unsigned> publish(std::unique_ptr<Snapshot> next);
	// Frees the retired snapshots whose grace period has ended; returns how many remain.
	size_t reclaim();

private:
	struct Retired {
		uint64_t grace_period;
		std::unique_ptr<Snapshot> snapshot;
	};
	std::atomic<Snapshot *> current_{nullptr};
	Qsbr qsbr_;
	std::chrono::milliseconds grace_limit_;
	std::vector<Retired> retired_;
};

}  // namespace tandem::director
