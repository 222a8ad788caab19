// SPDX-License-Identifier: Apache-2.0
#include "health_checker.h"

#include <linux/icmp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

#include "ip_address.h"
#include "log.h"

namespace tandem::director {
namespace {

constexpr auto max_poll_wait = std::chrono::milliseconds(1000);

void signal_eventfd(int fd)
{
	uint64_t one = 1;
	// The counter only saturates after 2^64 - 2 unread signals: a failed write is
	// impossible in practice and harmless (the reader is already signalled).
	[[maybe_unused]] ssize_t n = write(fd, &one, sizeof(one));
}

bool drain_eventfd(int fd)
{
	uint64_t v = 0;
	return read(fd, &v, sizeof(v)) == sizeof(v) && v > 0;
}

const char *kind_name(HealthCheckKind k)
{
	switch (k) {
	case HealthCheckKind::none: return "none";
	case HealthCheckKind::tcp: return "tcp";
	case HealthCheckKind::http: return "http";
	case HealthCheckKind::gue: return "gue";
	}
	return "unknown";
}

std::string times_in_a_row(unsigned n)
{
	return (n == 1 ? std::string("once") : std::to_string(n) + " times in a row");
}

}  // namespace

std::vector<HealthTarget> health_targets(const Config &config)
{
	const uint16_t gue_port = config.director ? config.director->gue_port : default_gue_port;
	std::vector<HealthTarget> out;
	for (const ServiceConfig &s : config.services) {
		for (HealthCheck check : s.health_checks) {
			if (check.kind == HealthCheckKind::gue && check.port == 0)
				check.port = gue_port;
			for (const BackendConfig &b : s.backends)
				if (b.backend.address.is_v4())
					out.push_back({s.name, b.backend.address.v4_raw(), check});
		}
	}
	return out;
}

DownSet down_set(const std::vector<HealthReport> &reports, const std::vector<HealthTarget> &targets)
{
	DownSet down;
	for (const HealthReport &r : reports)
		if (!r.healthy && std::find(targets.begin(), targets.end(), r.target) != targets.end())
			down.emplace(r.target.service, r.target.address);
	return down;
}

Result<std::unique_ptr<HealthChecker>> HealthChecker::start()
{
	std::unique_ptr<HealthChecker> h(new HealthChecker());
	h->wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	h->changed_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (h->wake_fd_ < 0 || h->changed_fd_ < 0)
		return make_error("eventfd: " + std::string(std::strerror(errno)), errno);
	h->echo_id_ = static_cast<uint16_t>(std::random_device{}());
	h->thread_ = std::thread([p = h.get()] { p->run(); });
	return h;
}

HealthChecker::~HealthChecker()
{
	if (thread_.joinable()) {
		{
			std::lock_guard lock(mu_);
			stop_ = true;
		}
		signal_eventfd(wake_fd_);
		thread_.join();
	}
	entries_.clear();
	for (int fd : {icmp_fd_, wake_fd_, changed_fd_})
		if (fd >= 0)
			close(fd);
}

void HealthChecker::set_targets(std::vector<HealthTarget> targets)
{
	{
		std::lock_guard lock(mu_);
		next_targets_ = std::move(targets);
		targets_changed_ = true;
	}
	signal_eventfd(wake_fd_);
}

bool HealthChecker::take_changed()
{
	return drain_eventfd(changed_fd_);
}

std::vector<HealthReport> HealthChecker::reports() const
{
	std::lock_guard lock(mu_);
	return reports_;
}

bool HealthChecker::need_icmp_socket() const
{
	return std::any_of(entries_.begin(), entries_.end(), [](const Entry &e) {
		return e.report.target.check.kind == HealthCheckKind::gue;
	});
}

void HealthChecker::adopt_targets(Clock::time_point now)
{
	std::vector<HealthTarget> targets;
	{
		std::lock_guard lock(mu_);
		if (!targets_changed_)
			return;
		targets_changed_ = false;
		targets = next_targets_;
	}
	std::vector<Entry> next;
	next.reserve(targets.size());
	for (size_t i = 0; i < targets.size(); i++) {
		auto old = std::find_if(entries_.begin(), entries_.end(), [&](const Entry &e) {
			return e.report.target == targets[i];
		});
		if (old != entries_.end()) {
			next.push_back(std::move(*old));
			entries_.erase(old);
			continue;
		}
		Entry e;
		e.report.target = targets[i];
		// Spread the first checks over one interval rather than sending them all at once.
		e.next_due = now + targets[i].check.interval * i / targets.size();
		next.push_back(std::move(e));
	}
	entries_ = std::move(next);
	{
		std::lock_guard lock(mu_);
		reports_.clear();
		for (const Entry &e : entries_)
			reports_.push_back(e.report);
	}
	if (icmp_fd_ < 0 && need_icmp_socket()) {
		icmp_fd_ = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
		if (icmp_fd_ < 0) {
			icmp_error_ = "cannot open a raw ICMP socket for the replies: " +
				      std::string(std::strerror(errno)) + " (tandem-director needs CAP_NET_RAW)";
			log(Level::err, message_id::health, "gue health checks: " + icmp_error_);
		} else {
			icmp_filter only_echo_replies{~(1u << ICMP_ECHOREPLY)};
			setsockopt(icmp_fd_, SOL_RAW, ICMP_FILTER, &only_echo_replies,
				   sizeof(only_echo_replies));
		}
	}
}

void HealthChecker::launch_due(Clock::time_point now)
{
	static thread_local std::mt19937_64 tokens{std::random_device{}()};
	for (size_t i = 0; i < entries_.size(); i++) {
		Entry &e = entries_[i];
		if (e.probe || now < e.next_due)
			continue;
		const HealthCheck &c = e.report.target.check;
		e.next_due += c.interval;
		if (e.next_due < now)
			e.next_due = now + c.interval;
		if (c.kind == HealthCheckKind::gue && icmp_fd_ < 0) {
			record(i, false, icmp_error_);
			continue;
		}
		e.probe = std::make_unique<Probe>(ProbeTarget{e.report.target.address, c}, now,
						  echo_id_, ++echo_seq_, tokens());
		if (e.probe->done()) {
			record(i, e.probe->healthy(), e.probe->reason());
			e.probe.reset();
		}
	}
}

int HealthChecker::poll_once(Clock::time_point now)
{
	std::vector<pollfd> fds = {{wake_fd_, POLLIN, 0}, {icmp_fd_, POLLIN, 0}};
	std::vector<size_t> owner;  // fds[2 + k] belongs to entries_[owner[k]]
	Clock::time_point wake = now + max_poll_wait;
	for (size_t i = 0; i < entries_.size(); i++) {
		const Entry &e = entries_[i];
		if (e.probe) {
			wake = std::min(wake, e.probe->deadline());
			if (e.probe->fd() >= 0) {
				fds.push_back({e.probe->fd(), e.probe->events(), 0});
				owner.push_back(i);
			}
		} else {
			wake = std::min(wake, e.next_due);
		}
	}
	auto wait = std::chrono::ceil<std::chrono::milliseconds>(wake - now).count();
	int n = poll(fds.data(), fds.size(), static_cast<int>(std::max<decltype(wait)>(wait, 0)));
	if (n <= 0)
		return n;
	if (fds[0].revents & POLLIN)
		drain_eventfd(wake_fd_);
	if (fds[1].revents & POLLIN)
		read_echo_replies();
	for (size_t k = 0; k < owner.size(); k++)
		if (fds[2 + k].revents && entries_[owner[k]].probe)
			entries_[owner[k]].probe->on_ready(fds[2 + k].revents);
	return n;
}

void HealthChecker::read_echo_replies()
{
	uint8_t buf[256];
	for (;;) {
		ssize_t n = recv(icmp_fd_, buf, sizeof(buf), 0);
		if (n <= 0)
			return;
		std::optional<EchoReply> r = parse_echo_reply({buf, static_cast<size_t>(n)});
		if (!r || r->id != echo_id_)
			continue;  // someone else's ping
		for (Entry &e : entries_)
			if (e.probe)
				e.probe->on_echo_reply(*r);
	}
}

void HealthChecker::collect_results(Clock::time_point now)
{
	for (size_t i = 0; i < entries_.size(); i++) {
		Entry &e = entries_[i];
		if (!e.probe)
			continue;
		e.probe->on_deadline(now);
		if (e.probe->done()) {
			record(i, e.probe->healthy(), e.probe->reason());
			e.probe.reset();
		}
	}
}

void HealthChecker::record(size_t index, bool ok, const std::string &reason)
{
	Entry &e = entries_[index];
	HealthReport &r = e.report;
	const HealthCheck &c = r.target.check;
	bool changed = false;
	if (ok) {
		r.checks_ok++;
		e.failures = 0;
		e.successes++;
		changed = !r.healthy && e.successes >= c.rise;
	} else {
		r.checks_failed++;
		r.last_failure = reason;
		e.successes = 0;
		e.failures++;
		changed = r.healthy && e.failures >= c.fall;
	}
	if (changed)
		r.healthy = !r.healthy;
	{
		std::lock_guard lock(mu_);
		if (index < reports_.size())
			reports_[index] = r;
	}
	if (!changed)
		return;
	const std::string backend = IpAddress::from_v4(r.target.address).to_string();
	const std::string what = std::string(kind_name(c.kind)) + " check";
	if (r.healthy)
		log(Level::notice, message_id::health,
		    "service " + r.target.service + ": backend " + backend + " is healthy again (" +
			    what + " passed " + times_in_a_row(c.rise) + ")",
		    {{"TANDEM_SERVICE", r.target.service}, {"TANDEM_BACKEND", backend},
		     {"TANDEM_HEALTHY", "1"}});
	else
		log(Level::warning, message_id::health,
		    "service " + r.target.service + ": backend " + backend + " is unhealthy (" +
			    what + " failed " + times_in_a_row(c.fall) + ": " + reason + ")",
		    {{"TANDEM_SERVICE", r.target.service}, {"TANDEM_BACKEND", backend},
		     {"TANDEM_HEALTHY", "0"}});
	signal_eventfd(changed_fd_);
}

void HealthChecker::run()
{
	for (;;) {
		{
			std::lock_guard lock(mu_);
			if (stop_)
				return;
		}
		Clock::time_point now = Clock::now();
		adopt_targets(now);
		launch_due(now);
		if (poll_once(now) < 0 && errno != EINTR) {
			log(Level::err, message_id::health,
			    "health checker: poll: " + std::string(std::strerror(errno)));
			std::this_thread::sleep_for(std::chrono::milliseconds(100));
		}
		collect_results(Clock::now());
	}
}

}  // namespace tandem::director
