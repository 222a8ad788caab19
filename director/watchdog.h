// SPDX-License-Identifier: Apache-2.0
// The systemd watchdog, fed only while the data path moves. A thread of its own looks
// at every worker's heartbeat once a period (half of WatchdogSec, at most a second) and
// sends WATCHDOG=1 when every one has advanced since its last look: a worker idle in
// poll() wakes every 100 ms, so only one that hangs (or whose core is taken from it for
// the whole period) stops it. A worker without a beat for two periods is logged, by
// queue, once per stall; systemd then restarts the director after WatchdogSec. On its
// own thread so that a long reload on the control thread does not starve it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace tandem::director {

struct WatchedWorker {
	uint32_t queue = 0;
	const std::atomic<uint64_t> *heartbeat = nullptr;
};

class Watchdog {
public:
	// What it sends to systemd ("WATCHDOG=1"); sd_notify by default, a test's own.
	using Notify = std::function<void(const char *)>;

	// period 0: half of WATCHDOG_USEC when the service manager set one, capped at 1 s;
	// 1 s when it did not (stalls are still logged then, and nothing is sent).
	static std::unique_ptr<Watchdog> start(std::vector<WatchedWorker> workers,
					       std::chrono::milliseconds period = {},
					       Notify notify = {});
	~Watchdog();  // stops and joins

	uint64_t pings() const { return pings_.load(std::memory_order_relaxed); }

private:
	Watchdog() = default;
	void run();
	bool look();  // one period's look: whether every worker beat

	std::vector<WatchedWorker> workers_;
	std::vector<uint64_t> last_beat_;
	std::vector<unsigned> missed_;  // consecutive looks without a beat, per worker
	std::chrono::milliseconds period_{1000};
	bool enabled_ = false;  // the service manager asked for WATCHDOG=1
	Notify notify_;
	std::atomic<uint64_t> pings_{0};
	std::mutex mu_;
	std::condition_variable wake_;
	bool stop_ = false;
	std::thread thread_;
};

}  // namespace tandem::director
