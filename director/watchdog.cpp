// SPDX-License-Identifier: Apache-2.0
#include "watchdog.h"

#include <pthread.h>

#include <algorithm>

#include <systemd/sd-daemon.h>

#include "log.h"

namespace tandem::director {

std::unique_ptr<Watchdog> Watchdog::start(std::vector<WatchedWorker> workers,
					  std::chrono::milliseconds period, Notify notify)
{
	std::unique_ptr<Watchdog> w(new Watchdog());
	uint64_t usec = 0;
	w->enabled_ = sd_watchdog_enabled(0, &usec) > 0 || notify;
	if (period.count() > 0)
		w->period_ = period;
	else if (usec != 0)
		w->period_ = std::clamp(std::chrono::milliseconds(usec / 2000),
					std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
	w->notify_ = notify ? std::move(notify) : [](const char *m) { sd_notify(0, m); };
	w->workers_ = std::move(workers);
	for (const WatchedWorker &k : w->workers_)
		w->last_beat_.push_back(k.heartbeat->load(std::memory_order_relaxed));
	w->missed_.assign(w->workers_.size(), 0);
	w->thread_ = std::thread([p = w.get()] { p->run(); });
	pthread_setname_np(w->thread_.native_handle(), "tandem-watchdog");
	return w;
}

Watchdog::~Watchdog()
{
	{
		std::lock_guard lock(mu_);
		stop_ = true;
	}
	wake_.notify_all();
	if (thread_.joinable())
		thread_.join();
}

bool Watchdog::look()
{
	bool all = true;
	for (size_t i = 0; i < workers_.size(); i++) {
		const uint64_t beat = workers_[i].heartbeat->load(std::memory_order_relaxed);
		const std::string queue = std::to_string(workers_[i].queue);
		if (beat != last_beat_[i]) {
			if (missed_[i] >= 2)
				log(Level::notice, message_id::worker_stall,
				    "the worker of queue " + queue + " (thread tandem-q" + queue +
					    ") moves again",
				    {{"TANDEM_QUEUE", queue}});
			last_beat_[i] = beat;
			missed_[i] = 0;
			continue;
		}
		all = false;
		if (++missed_[i] == 2)
			log(Level::err, message_id::worker_stall,
			    "the worker of queue " + queue + " (thread tandem-q" + queue +
				    ") has not moved for " +
				    std::to_string(2 * period_.count()) + " ms; " +
				    (enabled_ ? "WATCHDOG=1 withheld, so systemd restarts the director "
						"after WatchdogSec"
					      : "no service watchdog is set to restart the director"),
			    {{"TANDEM_QUEUE", queue}});
	}
	return all;
}

void Watchdog::run()
{
	std::unique_lock lock(mu_);
	while (!wake_.wait_for(lock, period_, [this] { return stop_; })) {
		if (look() && enabled_) {
			notify_("WATCHDOG=1");
			pings_.fetch_add(1, std::memory_order_relaxed);
		}
	}
}

}  // namespace tandem::director
