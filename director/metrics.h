// SPDX-License-Identifier: Apache-2.0
// Prometheus metrics. Every worker owns one cache-line-aligned QueueCounters; it is the
// only writer and adds with a relaxed load and store (no read-modify-write), and the
// scrape reads relaxed through a custom prometheus::Collectable, so the data path never
// touches a prometheus object. Service and backend counters are indexed by slots that
// stay with a (service, backend) name across reloads, so every exported counter is
// monotonic however often the table changes.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bpf/classifier_shared.h"
#include "control.h"
#include "health_checker.h"
#include "result.h"
#include "verdict.h"

namespace prometheus {
class Exposer;
}

namespace tandem::director {

class Counter {
public:
	void add(uint64_t n) noexcept
	{
		v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
	}
	void inc() noexcept { add(1); }
	uint64_t get() const noexcept { return v_.load(std::memory_order_relaxed); }

private:
	std::atomic<uint64_t> v_{0};
};

inline constexpr uint32_t max_service_slots = 1024;
inline constexpr uint32_t max_backend_slots = 16384;

// How a TX kick (sendto) failed: EAGAIN (the kernel sent a batch and has more, or the
// device was busy), EBUSY (the device dropped a frame), ENOBUFS, ENETDOWN (link down).
enum class KickError : uint8_t { eagain, ebusy, enobufs, enetdown, other, count_ };
inline constexpr size_t kick_error_count = static_cast<size_t>(KickError::count_);
const char *to_string(KickError e);

// Why a worker slept: nothing to do, TX waiting on the kernel, or the link is down.
enum class WorkerSleep : uint8_t { idle, tx_wait, link_down, count_ };
inline constexpr size_t worker_sleep_count = static_cast<size_t>(WorkerSleep::count_);
const char *to_string(WorkerSleep s);

struct alignas(64) QueueCounters {
	Counter rx_packets;
	Counter rx_bytes;
	Counter matched;  // a bound service matched (forwarded or not)
	Counter encap_packets;
	Counter encap_bytes;
	Counter tx_packets;  // completed by the kernel
	// Batches that met a full TX ring: their frames waited in the backlog (none dropped).
	Counter tx_ring_full;
	Counter fill_wakeups;     // the fill ring asked for a wakeup (need_wakeup) and got one
	Counter tx_kicks;
	Counter batches;
	std::array<Counter, kick_error_count> kick_errors{};
	std::array<Counter, worker_sleep_count> sleeps{};
	// Frames too big once encapsulated (dropped[too_big]), by what the worker did about it.
	Counter icmp_too_big_sent;
	Counter icmp_too_big_rate_limited;
	Counter icmp_too_big_no_df;        // IPv4 without DF: dropped, never fragmented
	Counter icmp_too_big_unanswerable;  // an ICMP error, or a source no error may go to
	std::array<Counter, verdict_count> dropped{};  // [ok] unused
	alignas(64) std::array<Counter, max_service_slots> service_packets{};
	std::array<Counter, max_backend_slots> backend_packets{};
};

// Names for slots. Control thread allocates, scrape thread reads; a mutex, never on
// the data path.
class MetricSlots {
public:
	uint32_t service(const std::string &name);
	uint32_t backend(const std::string &service, const std::string &address);
	std::vector<std::string> service_names() const;
	std::vector<std::pair<std::string, std::string>> backend_names() const;

private:
	mutable std::mutex mu_;
	std::map<std::string, uint32_t> services_;
	std::map<std::pair<std::string, std::string>, uint32_t> backends_;
	std::vector<std::string> service_names_;
	std::vector<std::pair<std::string, std::string>> backend_names_;
};

// What the scrape needs from the rest of the daemon, each read at scrape time.
struct QueueView {
	uint32_t queue = 0;
	const QueueCounters *counters = nullptr;
	std::function<std::array<uint64_t, 6>()> xsk_stats;  // see XskStats, in field order
	bool zero_copy = false;
	bool busy_poll = false;
	std::string umem_pages;  // "hugetlb", "thp" or "4k"
};

struct DaemonStatus {
	uint64_t generation = 0;
	bool last_reload_ok = true;
	double last_reload_time = 0;  // unix seconds
	uint64_t reloads_ok = 0;
	uint64_t reloads_failed = 0;
	uint64_t reloads_unchanged = 0;  // the file held the configuration in force: nothing done
	std::string xdp_mode;     // "native" / "generic"
	std::string attach_mode;  // "dispatcher" / "legacy" / "direct"
	uint64_t unresolved_neighbours = 0;
	// Per service of the generation in force: the longest inner IP packet it carries.
	std::vector<std::pair<std::string, uint32_t>> max_inner_packet;
	ControlCounters control_connections{};  // how control connections ended, by result
	// Netlink notifications lost (the socket's buffer overran) and state read again, by
	// socket: neighbour, route, link.
	uint64_t netlink_overruns_neighbour = 0;
	uint64_t netlink_overruns_route = 0;
	uint64_t netlink_overruns_link = 0;
	// Neighbour solicitations (NTF_USE): for an unresolved entry, and to re-verify a STALE one.
	uint64_t solicited_unresolved = 0;
	uint64_t solicited_stale = 0;
	// The interface: up (IFF_UP and a carrier), times it went down, changes applied.
	bool link_up = true;
	uint64_t link_down_events = 0;
	uint64_t interface_mtu_changes = 0;
	uint64_t interface_mac_changes = 0;
	uint64_t interface_address_changes = 0;
	uint64_t interface_renames = 0;
};

class Metrics {
public:
	// Per rx queue, TANDEM_CLS_COUNT counters (classifier_shared.h); rows beyond the
	// workers' queues are queues the NIC has and no worker serves.
	using ClassifierCounters =
		std::function<std::vector<std::array<uint64_t, TANDEM_CLS_COUNT>>()>;
	using HealthReports = std::function<std::vector<HealthReport>()>;

	// Binds the HTTP exposer on "host:port" (the config's metrics_address), before the
	// daemon touches XDP, so a port in use fails the start with nothing attached. It
	// serves with exposer_threads threads, so one idle or slow client cannot hold up a
	// scrape (each such client holds a thread for request_timeout_ms at most); /metrics
	// answers 404 until serve().
	static Result<std::unique_ptr<Metrics>> listen(const std::string &address);
	// From now on /metrics answers with these (the workers and classifier now exist).
	void serve(std::vector<QueueView> queues, ClassifierCounters classifier,
		   const MetricSlots &slots, HealthReports health);
	~Metrics();

	static constexpr int exposer_threads = 4;
	static constexpr int request_timeout_ms = 10000;

	void set_status(const DaemonStatus &s);
	DaemonStatus status() const;

private:
	Metrics() = default;
	struct Collector;
	std::shared_ptr<Collector> collector_;
	std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace tandem::director
