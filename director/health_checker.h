// SPDX-License-Identifier: Apache-2.0
// The director's health checker: one thread that runs every service's health_check
// against each of its backends (health_probe.h), applies rise/fall, and tells the control
// thread through an eventfd when a backend's verdict changed. The control thread then
// rebuilds the tables with that backend unhealthy (it moves behind the healthy ones in its
// rows, as a state change does) and publishes them like a reload.
//
// A backend starts healthy: a director that (re)starts agrees with its peers at once, and
// needs `fall` failed checks in a row to call a backend down, `rise` good ones to call it
// up again. The config's `healthy: false` is the operator's override and always wins.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "config.h"
#include "health_probe.h"
#include "result.h"

namespace tandem::director {

struct HealthTarget {
	std::string service;
	uint32_t address = 0;  // network order
	HealthCheck check;     // port resolved
	bool operator==(const HealthTarget &o) const
	{
		return service == o.service && address == o.address && check == o.check;
	}
};

// The targets a config asks for: every check of every service, against each of its
// backends. A backend is down when any of its targets is.
std::vector<HealthTarget> health_targets(const Config &config);

struct HealthReport {
	HealthTarget target;
	bool healthy = true;
	std::string last_failure;  // empty until a check failed
	uint64_t checks_ok = 0;
	uint64_t checks_failed = 0;
};

// (service, backend address in network order) pairs the checker calls down.
using DownSet = std::set<std::pair<std::string, uint32_t>>;

// The backends of `targets` that `reports` call down: what a config about to be
// applied would start with, keeping the verdicts of unchanged checks.
DownSet down_set(const std::vector<HealthReport> &reports, const std::vector<HealthTarget> &targets);

class HealthChecker {
public:
	static Result<std::unique_ptr<HealthChecker>> start();
	~HealthChecker();

	// Control thread. Checks of unchanged targets keep their state; new ones start healthy.
	void set_targets(std::vector<HealthTarget> targets);
	// Readable when a verdict changed; read it with take_changed().
	int fd() const { return changed_fd_; }
	bool take_changed();
	std::vector<HealthReport> reports() const;

private:
	struct Entry {
		HealthReport report;
		unsigned successes = 0;  // in a row
		unsigned failures = 0;
		Clock::time_point next_due{};
		std::unique_ptr<Probe> probe;
	};

	HealthChecker() = default;
	void run();
	void adopt_targets(Clock::time_point now);
	void launch_due(Clock::time_point now);
	int poll_once(Clock::time_point now);
	void read_echo_replies();
	void collect_results(Clock::time_point now);
	void record(size_t index, bool ok, const std::string &reason);
	bool need_icmp_socket() const;

	mutable std::mutex mu_;  // guards next_targets_, targets_changed_, reports_
	std::vector<HealthTarget> next_targets_;
	bool targets_changed_ = false;
	std::vector<HealthReport> reports_;

	std::vector<Entry> entries_;  // checker thread only
	int icmp_fd_ = -1;
	std::string icmp_error_;
	uint16_t echo_id_ = 0;
	uint16_t echo_seq_ = 0;
	int wake_fd_ = -1;     // eventfd: targets changed, or stop
	int changed_fd_ = -1;  // eventfd: a verdict changed
	bool stop_ = false;    // under mu_
	std::thread thread_;
};

}  // namespace tandem::director
