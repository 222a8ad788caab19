// SPDX-License-Identifier: Apache-2.0
// One worker: one queue, one UMEM, one AF_XDP socket, one thread pinned to one core.
// Its loop: reap completions and refill the fill ring (FrameRings), take an RX batch,
// run tandem::forward_frame() on each frame in place, send the batch, report a quiescent
// state. A batch that does not fit in the TX ring waits for room (back-pressure: no new
// RX meanwhile) instead of being dropped. No allocation, no lock, no virtual call, and
// no system call per packet; a worker with nothing it can do sleeps in poll().
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "frame_rings.h"
#include "icmp_responder.h"
#include "metrics.h"
#include "result.h"
#include "snapshot.h"
#include "umem.h"
#include "xsk_socket.h"

namespace tandem::director {

struct WorkerParams {
	unsigned index = 0;  // QSBR reader index
	uint32_t queue = 0;
	int core = -1;  // -1: not pinned
	std::string ifname;
	uint32_t frame_size = 4096;
	uint32_t ring_size = 2048;
	BindMode bind_mode = BindMode::automatic;
	BusyPoll busy_poll;
	uint32_t icmp_rate = 1000;  // too-big ICMP errors a second, and the burst (director.icmp_*)
	uint32_t icmp_burst = 50;
};

class Worker {
public:
	static Result<std::unique_ptr<Worker>> create(const WorkerParams &p, SnapshotHolder &snapshots);
	~Worker();  // stops and joins

	Result<void> start();
	void request_stop() { stop_.store(true, std::memory_order_relaxed); }
	void join();
	// Whether its thread has left its loop (after request_stop), so join() returns.
	bool stopped() const { return stopped_.load(std::memory_order_acquire); }
	// Advances at every turn of the loop, at least every 100 ms while the worker is
	// alive (idle, it wakes from poll() that often): what the watchdog looks at.
	const std::atomic<uint64_t> &heartbeat() const { return heartbeat_; }
#ifdef TANDEM_FAULT_INJECTION
	// Test builds only: the worker stops where it is, online, holding its snapshot,
	// and never comes back (not even for request_stop).
	void hang() { hang_.store(true, std::memory_order_relaxed); }
#endif

	XskSocket &socket() { return socket_; }
	const QueueCounters &counters() const { return *counters_; }
	uint32_t queue() const { return p_.queue; }
	UmemPages umem_pages() const { return umem_.pages(); }

private:
	Worker(const WorkerParams &p, SnapshotHolder &s, Umem umem, XskSocket socket);
	void run() noexcept;
	// Ring mechanics with their system calls.
	void reap() noexcept;
	void refill() noexcept;
	void send() noexcept;
	bool kick() noexcept;
	int sendto_kick() noexcept;
	void wait_for_work() noexcept;
	void wait_for_tx() noexcept;
	void sleep(WorkerSleep why, int timeout_ms) noexcept;
	// The data path proper: forward one RX batch into the TX backlog, count it.
	void forward_batch(const Snapshot *snap, uint32_t n, uint32_t idx) noexcept;

	WorkerParams p_;
	SnapshotHolder &snapshots_;
	// Declared before the socket so the socket is destroyed first (umem delete is
	// -EBUSY while a socket uses it).
	Umem umem_;
	XskSocket socket_;
	std::unique_ptr<QueueCounters> counters_;
	FrameRings rings_;
	IcmpResponder icmp_;
	bool link_down_ = false;  // the last kick said ENETDOWN
	std::atomic<bool> stop_{false};
	std::atomic<bool> stopped_{false};
	std::atomic<uint64_t> heartbeat_{0};
#ifdef TANDEM_FAULT_INJECTION
	std::atomic<bool> hang_{false};
#endif
	std::thread thread_;
};

}  // namespace tandem::director
