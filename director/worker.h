// SPDX-License-Identifier: Apache-2.0
// One worker: one queue, one UMEM, one AF_XDP socket, one thread pinned to one core.
// Its loop: recycle completions into the fill ring, take an RX batch, run
// tandem::forward_frame() on each frame in place, send the batch, report a quiescent
// state. No allocation, no lock, no virtual call, and no system call per packet.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "icmp_responder.h"
#include "metrics.h"
#include "result.h"
#include "snapshot.h"
#include "umem.h"
#include "xsk_socket.h"

namespace tandem::director {

inline constexpr uint32_t batch_size = 64;

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

	XskSocket &socket() { return socket_; }
	const QueueCounters &counters() const { return *counters_; }
	uint32_t queue() const { return p_.queue; }

private:
	Worker(const WorkerParams &p, SnapshotHolder &s, Umem umem, XskSocket socket);
	void run() noexcept;
	void fill(uint32_t want) noexcept;
	void complete() noexcept;
	void kick() noexcept;

	WorkerParams p_;
	SnapshotHolder &snapshots_;
	// Declared before the socket so the socket is destroyed first (umem delete is
	// -EBUSY while a socket uses it).
	Umem umem_;
	XskSocket socket_;
	std::unique_ptr<QueueCounters> counters_;
	IcmpResponder icmp_;
	std::vector<uint64_t> free_;  // frames in no ring; capacity = every frame, never grows
	uint32_t outstanding_tx_ = 0;
	std::atomic<bool> stop_{false};
	std::thread thread_;
};

}  // namespace tandem::director
