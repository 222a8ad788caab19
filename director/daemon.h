// SPDX-License-Identifier: Apache-2.0
// The daemon: owns the classifier, the workers, the next-hop resolver, the metrics and
// the control socket; runs the control loop (signals, reload requests, neighbour
// notifications) on the main thread, which is also the only snapshot writer.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "classifier.h"
#include "config.h"
#include "control.h"
#include "health_checker.h"
#include "interface_lock.h"
#include "interface_watch.h"
#include "metrics.h"
#include "nexthop.h"
#include "reload.h"
#include "result.h"
#include "snapshot.h"
#include "watchdog.h"
#include "worker.h"

namespace tandem::director {

struct DaemonOptions {
	std::string config_path;
	std::string control_socket = default_control_socket;
	// Receive buffer of each rtnetlink notification socket (neighbours, routes, the
	// interface). Tests make it tiny to force overruns.
	int netlink_buffer = 1 << 20;
};

class Daemon {
public:
	// Needs SIGHUP, SIGTERM and SIGINT blocked in the calling thread already (so every
	// thread started here inherits the mask).
	static Result<std::unique_ptr<Daemon>> start(Config config, const DaemonOptions &opts);
	~Daemon();

	// Runs until SIGTERM or SIGINT; returns the exit code.
	int run();

private:
	Daemon() = default;
	Result<void> init(Config config);
	// A reload: load and check the file, build its tables, then publish them. Only the
	// building may fail or throw (std::bad_alloc included), and it touches nothing the
	// data path uses, so a failure leaves the generation in force as it was.
	struct PreparedReload {
		bool unchanged = false;  // the file holds the configuration in force
		std::unique_ptr<Snapshot> snapshot;
		std::vector<HealthTarget> targets;
		DownSet down;
	};
	std::string reload(bool force);
	void reload_succeeded(bool applied, const std::string &message, uint64_t generation,
			      const std::string &forwarding);
	Result<PreparedReload> prepare_reload(const Snapshot &cur, bool force);
	std::string control_request(const std::string &req);
	void apply_health();
	std::string install_rebuilt(std::unique_ptr<Snapshot> snap);
	SnapshotContext snapshot_context(const DownSet *down);
	void refresh_neighbours();
	// The interface changed (interface_watch.h): applies it; an exit code when the daemon
	// cannot go on with this interface.
	std::optional<int> follow_interface();
	void rebuild_for_interface(const InterfaceChange &c);
	// Whether our XDP program is still attached; at most once a second unless `now`.
	std::optional<int> check_xdp(bool now);
	void publish_status();
	void report_mtus(const Config &config);
	uint32_t check_nic_queues(const DirectorConfig &dc);
	// Publishes and logs a worker that held up reclamation past the grace limit.
	void publish(std::unique_ptr<Snapshot> snap);
	// Stops the workers, waiting a bounded time; false when one did not stop (it is
	// left running, and its memory with it, until the process exits).
	bool stop_workers();

	DaemonOptions opts_;
	InterfaceInfo iface_;
	DirectorConfig dcfg_;
	DaemonStatus status_;
	// Destroyed in reverse: control socket, metrics (reads worker counters), workers
	// (threads joined, sockets then umems freed), classifier (detached), resolver.
	std::unique_ptr<SnapshotHolder> snapshots_;
	MetricSlots slots_;
	std::unique_ptr<NextHopResolver> nexthop_;
	std::optional<InterfaceLock> lock_;  // released after the classifier is detached
	std::optional<Classifier> classifier_;
	std::vector<std::unique_ptr<Worker>> workers_;
	std::unique_ptr<Watchdog> watchdog_;  // reads the workers' heartbeats
	std::unique_ptr<Metrics> metrics_;
	std::optional<ControlServer> control_;
	int signal_fd_ = -1;
	std::chrono::steady_clock::time_point last_refresh_{};
	std::unique_ptr<InterfaceWatch> watch_;
	std::chrono::steady_clock::time_point last_xdp_check_{};
	std::chrono::steady_clock::time_point link_down_since_{};
	DownSet down_;  // what the published tables were built with
	std::unique_ptr<HealthChecker> health_;  // stopped first: it only reports
#ifdef TANDEM_FAULT_INJECTION
	bool fail_next_reload_ = false;
#endif
};

}  // namespace tandem::director
