// SPDX-License-Identifier: Apache-2.0
#include "daemon.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <algorithm>
#include <cstring>
#include <exception>
#include <new>
#include <span>
#include <thread>

#include <systemd/sd-daemon.h>

#include "log.h"
#include "mtu_report.h"
#include "nic_queues.h"
#include "reload.h"
#include "xdp_presence.h"

namespace tandem::director {
namespace {

uint64_t monotonic_usec()
{
	timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return uint64_t(ts.tv_sec) * 1000000 + uint64_t(ts.tv_nsec) / 1000;
}

double unix_now()
{
	return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
		.count();
}

std::string first_line(const std::string &s)
{
	return s.substr(0, s.find('\n'));
}

std::string summary(const Snapshot &s)
{
	size_t backends = 0;
	for (const CompiledService &svc : s.services.services())
		backends += svc.table.backends().size();
	return "generation " + std::to_string(s.generation) + ", " +
	       std::to_string(s.services.services().size()) + " services, " +
	       std::to_string(backends) + " backends";
}

// What a worker that would not stop may still touch (its socket, its UMEM, a snapshot):
// never freed, and reachable until the process exits, so the leak checker does not
// count it.
struct Abandoned {
	std::vector<std::unique_ptr<Worker>> workers;
	std::unique_ptr<SnapshotHolder> snapshots;
};
Abandoned &abandoned()
{
	static Abandoned *a = new Abandoned();
	return *a;
}

}  // namespace

Result<std::unique_ptr<Daemon>> Daemon::start(Config config, const DaemonOptions &opts)
{
	std::unique_ptr<Daemon> d(new Daemon());
	d->opts_ = opts;
	if (auto r = d->init(std::move(config)); !r)
		return r.error();
	return d;
}

Result<void> Daemon::init(Config config)
{
	if (!config.director)
		return make_error(config.path + ": no director: section (tandem-director needs "
						"director.interface at least)");
	dcfg_ = *config.director;
	const DirectorConfig &dc = dcfg_;
	Result<InterfaceInfo> iface = query_interface(dc.interface);
	if (!iface)
		return iface.error();
	iface_ = *iface;
	status_.link_up = iface_.up;
	if (auto w = InterfaceWatch::create(iface_, opts_.netlink_buffer); !w)
		return w.error();
	else
		watch_ = std::move(*w);
	if (dc.queues == 0 || dc.queues > TANDEM_MAX_QUEUES)
		return make_error(config.path + ": director.queues must be 1.." +
				  std::to_string(TANDEM_MAX_QUEUES));

	// The sockets first, before XDP is touched: a live daemon on the same control socket,
	// or a metrics port in use, fails the start with nothing attached (a retry under
	// systemd then never flaps the data path of the host).
	Result<ControlServer> ctl = ControlServer::listen(opts_.control_socket);
	if (!ctl)
		return ctl.error();
	control_.emplace(std::move(*ctl));
	if (dc.metrics_address != "off") {
		Result<std::unique_ptr<Metrics>> m = Metrics::listen(dc.metrics_address);
		if (!m)
			return m.error();
		metrics_ = std::move(*m);
	}

	// The interface's XDP hook: ours once the lock is held (a live director holding it
	// fails the start here, with nothing touched).
	Result<InterfaceLock> lock = InterfaceLock::acquire(dc.interface, iface_.ifindex);
	if (!lock)
		return lock.error();
	lock_.emplace(std::move(*lock));
	const uint32_t nic_queues = check_nic_queues(dc);

	const uint32_t rx_room = dc.frame_size - 256;  // XDP_PACKET_HEADROOM, see worker.cpp
	Result<Classifier> cls = Classifier::attach(dc.interface, dc.xdp_mode, rx_room);
	if (!cls)
		return cls.error();
	classifier_.emplace(std::move(*cls));
	status_.xdp_mode = classifier_->native() ? "native" : "generic";
	status_.attach_mode = std::string(to_string(classifier_->attach_kind()));

	snapshots_ = std::make_unique<SnapshotHolder>(dc.queues);
	const unsigned ncpu = std::max(1u, std::thread::hardware_concurrency());
	for (unsigned q = 0; q < dc.queues; q++) {
		WorkerParams wp{.index = q,
				.queue = q,
				.core = static_cast<int>(q < dc.cores.size() ? dc.cores[q] : q % ncpu),
				.ifname = dc.interface,
				.frame_size = dc.frame_size,
				.ring_size = dc.ring_size,
				.bind_mode = dc.bind_mode,
				.busy_poll = dc.busy_poll,
				.icmp_rate = dc.icmp_too_big.rate,
				.icmp_burst = dc.icmp_too_big.burst};
		Result<std::unique_ptr<Worker>> w = Worker::create(wp, *snapshots_);
		if (!w)
			return w.error();
		if (auto r = classifier_->add_socket((*w)->socket().handle()); !r)
			return r.error();
		bool zc = (*w)->socket().zero_copy();
		const std::string pages = to_string((*w)->umem_pages());
		log(Level::info, message_id::xsk_mode,
		    "queue " + std::to_string(q) + ": AF_XDP " + (zc ? "zero-copy" : "copy") +
			    " mode, XDP " + status_.xdp_mode + " (" + status_.attach_mode +
			    "), UMEM on " + pages + " pages",
		    {{"TANDEM_QUEUE", std::to_string(q)},
		     {"TANDEM_BIND_MODE", zc ? "zerocopy" : "copy"},
		     {"TANDEM_UMEM_PAGES", pages},
		     {"TANDEM_XDP_MODE", status_.xdp_mode},
		     {"TANDEM_ATTACH_MODE", status_.attach_mode}});
		workers_.push_back(std::move(*w));
	}

	if (!dc.gateway_mac) {
		auto nh = NextHopResolver::create(dc.interface, iface_.ifindex,
							  opts_.netlink_buffer);
		if (!nh)
			return nh.error();
		nexthop_ = std::move(*nh);
	}
	Result<std::unique_ptr<HealthChecker>> hc = HealthChecker::start();
	if (!hc)
		return hc.error();
	health_ = std::move(*hc);
	health_->set_targets(health_targets(config));
	std::vector<CompiledBind> binds;
	{
		Result<std::unique_ptr<Snapshot>> snap =
			build_snapshot(std::move(config), 1, snapshot_context(&down_));
		if (!snap)
			return snap.error();
		if (nexthop_)
			status_.unresolved_neighbours = nexthop_->refresh((*snap)->neighbours);
		binds = (*snap)->services.binds();
		publish(std::move(*snap));
	}
	if (auto r = classifier_->write_binds(binds); !r)
		return r.error();
	for (auto &w : workers_)
		if (auto r = w->start(); !r)
			return r.error();
	std::vector<WatchedWorker> watched;
	for (auto &w : workers_)
		watched.push_back(WatchedWorker{w->queue(), &w->heartbeat()});
	watchdog_ = Watchdog::start(std::move(watched));

	std::vector<QueueView> views;
	for (auto &w : workers_) {
		Worker *wp = w.get();
		views.push_back(QueueView{
			.queue = wp->queue(),
			.counters = &wp->counters(),
			.xsk_stats =
				[wp] {
					XskStats s = wp->socket().stats();
					return std::array<uint64_t, 6>{s.rx_dropped, s.rx_invalid_descs,
								       s.tx_invalid_descs, s.rx_ring_full,
								       s.rx_fill_ring_empty_descs,
								       s.tx_ring_empty_descs};
				},
			.zero_copy = wp->socket().zero_copy(),
			.busy_poll = wp->socket().busy_poll(),
			.umem_pages = to_string(wp->umem_pages())});
	}
	// Every queue the NIC has: frames on those no worker serves are counted too.
	const uint32_t rows = std::min<uint32_t>(std::max(dc.queues, nic_queues), TANDEM_MAX_QUEUES);
	Classifier *c = &*classifier_;
	auto cls_counters = [c, rows] { return c->counters(rows); };
	if (metrics_) {
		HealthChecker *h = health_.get();
		metrics_->serve(std::move(views), cls_counters, slots_, [h] { return h->reports(); });
	}

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	signal_fd_ = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (signal_fd_ < 0)
		return make_error("signalfd: " + std::string(std::strerror(errno)), errno);

	status_.generation = 1;
	status_.last_reload_ok = true;
	const Snapshot *snap = snapshots_->current();
	report_mtus(snap->config);
	publish_status();
	log(Level::notice, message_id::started,
	    "tandem-director started on " + dc.interface + " with " + std::to_string(dc.queues) +
		    " queues: " + summary(*snap),
	    {{"TANDEM_INTERFACE", dc.interface}, {"TANDEM_GENERATION", "1"}});
	sd_notifyf(0, "READY=1\nSTATUS=Forwarding: %s", summary(*snap).c_str());
	return {};
}

Daemon::~Daemon()
{
	control_.reset();
	metrics_.reset();
	watchdog_.reset();
	stop_workers();
	classifier_.reset();
	if (signal_fd_ >= 0)
		close(signal_fd_);
}

void Daemon::publish(std::unique_ptr<Snapshot> snap)
{
	std::optional<unsigned> holder = snapshots_->publish(std::move(snap));
	if (!holder)
		return;
	const std::string queue = std::to_string(workers_[*holder]->queue());
	log(Level::err, message_id::worker_stall,
	    "the worker of queue " + queue + " (thread tandem-q" + queue + ") passed no quiescent "
	    "point within " + std::to_string(SnapshotHolder::default_grace_limit.count()) +
		    " ms; the new tables are in force, the old ones are kept until it does",
	    {{"TANDEM_QUEUE", queue}});
}

bool Daemon::stop_workers()
{
	for (auto &w : workers_)
		w->request_stop();
	// A worker notices within one turn of its loop (100 ms when idle).
	const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
	bool all = true;
	for (auto &w : workers_) {
		while (!w->stopped() && std::chrono::steady_clock::now() < deadline)
			std::this_thread::sleep_for(std::chrono::milliseconds(5));
		if (w->stopped())
			continue;
		all = false;
		const std::string queue = std::to_string(w->queue());
		log(Level::err, message_id::worker_stall,
		    "the worker of queue " + queue + " (thread tandem-q" + queue + ") did not stop "
		    "within 3 s; exiting without it",
		    {{"TANDEM_QUEUE", queue}});
		abandoned().workers.push_back(std::move(w));
	}
	if (!all)  // a stuck worker may still read the current snapshot
		abandoned().snapshots = std::move(snapshots_);
	workers_.clear();  // joins the ones that stopped
	return all;
}

// The interface's receive queues against director.queues: frames on a queue no worker
// serves are dropped by the classifier (counted as drop_no_socket), so say so at start.
uint32_t Daemon::check_nic_queues(const DirectorConfig &dc)
{
	std::optional<uint32_t> n = rx_queue_count(dc.interface);
	if (!n)
		return dc.queues;
	if (*n > dc.queues)
		log(Level::warning, message_id::xsk_mode,
		    dc.interface + " receives on " + std::to_string(*n) + " queues but director.queues "
		    "is " + std::to_string(dc.queues) + ": VIP frames on queues " +
			    std::to_string(dc.queues) + ".." + std::to_string(*n - 1) +
			    " are dropped, counted as tandem_director_dropped_packets_total{reason="
			    "\"no_socket\"}. Set director.queues to " + std::to_string(*n) +
			    ", or ethtool -L " + dc.interface + " combined " + std::to_string(dc.queues),
		    {{"TANDEM_INTERFACE", dc.interface}, {"TANDEM_NIC_QUEUES", std::to_string(*n)}});
	return *n;
}

// Per service: the longest inner packet it carries, logged and kept for the metric.
void Daemon::report_mtus(const Config &config)
{
	std::vector<ServiceMtu> mtus = service_mtus(config, iface_.mtu);
	log_service_mtus(mtus, dcfg_.interface, iface_.mtu);
	status_.max_inner_packet.clear();
	for (const ServiceMtu &m : mtus)
		status_.max_inner_packet.emplace_back(m.name, m.max_inner);
}

void Daemon::publish_status()
{
	if (metrics_)
		metrics_->set_status(status_);
}

SnapshotContext Daemon::snapshot_context(const DownSet *down)
{
	return SnapshotContext{.interface_mac = iface_.mac,
			       .interface_ipv4 = iface_.first_ipv4,
			       .max_frame = iface_.mtu + 14,
			       .slots = &slots_,
			       .down = down};
}

// A health verdict changed: rebuild the tables of the config in force with the new set of
// unhealthy backends, and publish them as a reload does.
void Daemon::apply_health()
{
	const Snapshot *cur = snapshots_->current();
	DownSet down = down_set(health_->reports(), health_targets(cur->config));
	if (down == down_)
		return;
	Result<std::unique_ptr<Snapshot>> snap =
		build_snapshot(cur->config, cur->generation + 1, snapshot_context(&down));
	if (!snap) {  // the config built before; only resources can fail here
		log(Level::err, message_id::health,
		    "applying a health change: " + snap.error().message + "; the tables in force stay");
		return;
	}
	const std::string done = install_rebuilt(std::move(*snap));
	down_ = std::move(down);
	publish_status();
	log(Level::notice, message_id::health,
	    "tables rebuilt for a health change, " + std::to_string(down_.size()) +
		    " backends down by health check: " + done,
	    {{"TANDEM_GENERATION", std::to_string(status_.generation)}});
}

// The tables of the config in force, built again for a change outside the file (a health
// verdict, the interface): neighbours resolved for them, published, the service manager
// told. Returns their summary.
std::string Daemon::install_rebuilt(std::unique_ptr<Snapshot> snap)
{
	if (nexthop_)
		status_.unresolved_neighbours = nexthop_->refresh(snap->neighbours);
	const std::string done = summary(*snap);
	status_.generation = snap->generation;
	publish(std::move(snap));
	sd_notifyf(0, "STATUS=Forwarding: %s", done.c_str());
	return done;
}

void Daemon::refresh_neighbours()
{
	if (!nexthop_)
		return;
	// The control thread is the only snapshot writer, so the current one stays alive.
	status_.unresolved_neighbours = nexthop_->refresh(snapshots_->current()->neighbours);
	const NextHopCounters &c = nexthop_->counters();
	status_.netlink_overruns_neighbour = c.neighbour_overruns;
	status_.netlink_overruns_route = c.route_overruns;
	status_.solicited_unresolved = c.solicited_unresolved;
	status_.solicited_stale = c.solicited_stale;
	publish_status();
}

std::optional<int> Daemon::follow_interface()
{
	const InterfaceChange c = watch_->on_readable();
	if (!c.seen)
		return std::nullopt;
	const std::string name = c.before.name;
	const std::string index = std::to_string(c.before.ifindex);
	if (c.overrun) {
		status_.netlink_overruns_link = watch_->overruns();
		log(Level::warning, message_id::interface,
		    "link notifications lost (the netlink socket's buffer overran); " + name +
			    " read again from the kernel",
		    {{"TANDEM_NETLINK_SOCKET", "link"}, {"TANDEM_INTERFACE", name}});
	}
	if (c.deleted) {
		log(Level::err, message_id::fatal,
		    "interface " + name + " (ifindex " + index + ") was deleted or left the network "
		    "namespace: exiting, a restart attaches to the interface of that name again",
		    {{"TANDEM_INTERFACE", name}});
		return 1;
	}
	const InterfaceInfo &now = watch_->current();
	if (c.renamed) {
		status_.interface_renames++;
		log(Level::notice, message_id::interface,
		    "interface " + name + " (ifindex " + index + ") renamed " + now.name +
			    "; still served (director.interface names it only at start)",
		    {{"TANDEM_INTERFACE", now.name}});
	}
	if (c.went_down) {
		status_.link_down_events++;
		link_down_since_ = std::chrono::steady_clock::now();
		log(Level::warning, message_id::interface,
		    "link " + now.name + " is down (administratively or no carrier): nothing is "
		    "received or sent until it is up again",
		    {{"TANDEM_INTERFACE", now.name}, {"TANDEM_LINK", "down"}});
	}
	if (c.came_up) {
		const auto down_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
			std::chrono::steady_clock::now() - link_down_since_);
		log(Level::notice, message_id::interface,
		    "link " + now.name + " is up again" +
			    (c.before.up ? std::string() :
					   " after " + std::to_string(down_ms.count()) + " ms") +
			    "; served again",
		    {{"TANDEM_INTERFACE", now.name}, {"TANDEM_LINK", "up"}});
	}
	status_.link_up = now.up;
	if (c.needs_rebuild())
		rebuild_for_interface(c);
	publish_status();
	return check_xdp(true);
}

// MTU, MAC or address changed: the tables in force built again with the new values, and
// published as a health change is.
void Daemon::rebuild_for_interface(const InterfaceChange &c)
{
	const InterfaceInfo &now = watch_->current();
	auto text = [](const InterfaceInfo &i) {
		std::string a = "none";
		if (i.first_ipv4)
			a = IpAddress::from_v4(*i.first_ipv4).to_string();
		return "MTU " + std::to_string(i.mtu) + ", MAC " + format_mac(i.mac) + ", address " + a;
	};
	const std::string change = text(c.before) + " -> " + text(now);
	InterfaceInfo next = iface_;
	next.mtu = now.mtu;
	next.mac = now.mac;
	next.first_ipv4 = now.first_ipv4;
	const InterfaceInfo prev = iface_;
	iface_ = next;
	const Snapshot *cur = snapshots_->current();
	Result<std::unique_ptr<Snapshot>> snap =
		build_snapshot(cur->config, cur->generation + 1, snapshot_context(&down_));
	if (!snap) {
		// Only the source address can fail it (source_ip unset and no IPv4 address left):
		// the last one stays in use, as the proxies accept it, until an address returns.
		iface_ = prev;
		iface_.mtu = now.mtu;  // what failed was not the MTU or the MAC
		iface_.mac = now.mac;
		log(Level::err, message_id::interface,
		    dcfg_.interface + " changed (" + change + ") but the tables cannot follow: " +
			    snap.error().message + "; the tables in force stay",
		    {{"TANDEM_INTERFACE", now.name}});
		return;
	}
	status_.interface_mtu_changes += c.mtu;
	status_.interface_mac_changes += c.mac;
	status_.interface_address_changes += c.address;
	const std::string done = install_rebuilt(std::move(*snap));
	report_mtus(snapshots_->current()->config);
	log(Level::notice, message_id::interface,
	    "tables rebuilt for a change of " + now.name + " (" + change + "): " + done,
	    {{"TANDEM_INTERFACE", now.name},
	     {"TANDEM_GENERATION", std::to_string(status_.generation)}});
}

std::optional<int> Daemon::check_xdp(bool now)
{
	const auto t = std::chrono::steady_clock::now();
	if (!now && t - last_xdp_check_ < std::chrono::seconds(1))
		return std::nullopt;
	last_xdp_check_ = t;
	const std::string name = watch_->current().name;
	Result<bool> present = xdp_program_present(iface_.ifindex, classifier_->prog_id());
	if (!present) {
		log(Level::debug, message_id::interface, present.error().message);
		return std::nullopt;
	}
	if (*present)
		return std::nullopt;
	log(Level::err, message_id::fatal,
	    "the XDP classifier (program id " + std::to_string(classifier_->prog_id()) +
		    ") is no longer attached to " + name +
		    ": removed by someone else (xdp-loader unload, ip link set dev " + name +
		    " xdp off?); exiting, a restart attaches it again",
	    {{"TANDEM_INTERFACE", name}});
	return 1;
}

Result<Daemon::PreparedReload> Daemon::prepare_reload(const Snapshot &cur, bool force)
{
	Result<Config> next = load_config_file(opts_.config_path);
	if (!next)
		return next.error();
#ifdef TANDEM_FAULT_INJECTION
	if (std::exchange(fail_next_reload_, false))
		throw std::bad_alloc();  // as if building the new tables ran out of memory
#endif
	// Compared as parsed, so comments, layout and key order do not count.
	if (*next == cur.config) {
		PreparedReload same;
		same.unchanged = true;
		return same;
	}
	if (auto r = check_director_change(cur.config, *next); !r)
		return r.error();
	if (auto r = check_transition(cur.config, *next, force); !r)
		return make_error(r.error().message + " (tandem-director --reload --force overrides)");
	PreparedReload p;
	p.targets = health_targets(*next);
	p.down = down_set(health_->reports(), p.targets);
	Result<std::unique_ptr<Snapshot>> snap =
		build_snapshot(std::move(*next), cur.generation + 1, snapshot_context(&p.down));
	if (!snap)
		return snap.error();
	if (auto r = Classifier::check_binds((*snap)->services.binds()); !r)
		return r.error();
	p.snapshot = std::move(*snap);
	return p;
}

std::string Daemon::reload(bool force)
{
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=Reloading %s",
		   static_cast<unsigned long long>(monotonic_usec()), opts_.config_path.c_str());
	const Snapshot *cur = snapshots_->current();
	auto fail = [&](const std::string &why) {
		status_.last_reload_ok = false;
		status_.last_reload_time = unix_now();
		status_.reloads_failed++;
		publish_status();
		log(Level::err, message_id::reload_failed,
		    "reload refused, generation " + std::to_string(cur->generation) +
			    " stays in force: " + why,
		    {{"TANDEM_CONFIG", opts_.config_path},
		     {"TANDEM_GENERATION", std::to_string(cur->generation)}});
		sd_notifyf(0, "READY=1\nSTATUS=Reload refused (%s); still forwarding: %s",
			   first_line(why).c_str(), summary(*cur).c_str());
		return "error: " + why;
	};

	// The reload boundary: whatever preparing throws, the memory it took is given back as
	// the exception unwinds, and the daemon answers instead of exiting.
	std::optional<PreparedReload> prepared;
	try {
		Result<PreparedReload> p = prepare_reload(*cur, force);
		if (!p)
			return fail(p.error().message);
		prepared.emplace(std::move(*p));
	} catch (const std::bad_alloc &) {
		return fail(opts_.config_path + ": out of memory while loading it (the unit's "
						"MemoryMax=, or a file far larger than it should be)");
	} catch (const std::exception &e) {
		return fail(opts_.config_path + ": loading it failed: " + e.what());
	}

	const std::string gen_text = std::to_string(cur->generation);
	if (prepared->unchanged) {
		const std::string msg = "configuration unchanged (generation " + gen_text +
					"); nothing to do";
		reload_succeeded(false, opts_.config_path + ": " + msg, cur->generation, summary(*cur));
		return "ok " + msg;
	}

	std::unique_ptr<Snapshot> snap = std::move(prepared->snapshot);
	if (nexthop_)
		status_.unresolved_neighbours = nexthop_->refresh(snap->neighbours);
	std::vector<CompiledBind> binds = snap->services.binds();
	const std::string done = summary(*snap);
	const uint64_t gen = snap->generation;
	// Workers first learn the new services, then the classifier starts sending them;
	// a VIP removed here meets no_service for the frames already queued.
	publish(std::move(snap));
	health_->set_targets(std::move(prepared->targets));
	down_ = std::move(prepared->down);
	if (auto r = classifier_->write_binds(binds); !r)
		log(Level::err, message_id::reload_failed,
		    "writing the classifier's binds: " + r.error().message +
			    "; the previous binds stay in the classifier");
	status_.generation = gen;
	report_mtus(snapshots_->current()->config);
	reload_succeeded(true, "reloaded " + opts_.config_path + ": " + done, gen, done);
	return "ok " + done;
}

// A reload that applied a new generation, or found nothing to change: the status, the
// metrics, the journal and the service manager all told.
void Daemon::reload_succeeded(bool applied, const std::string &message, uint64_t generation,
			      const std::string &forwarding)
{
	status_.last_reload_ok = true;
	status_.last_reload_time = unix_now();
	(applied ? status_.reloads_ok : status_.reloads_unchanged)++;
	publish_status();
	log(Level::notice, message_id::reload_ok, message,
	    {{"TANDEM_CONFIG", opts_.config_path}, {"TANDEM_GENERATION", std::to_string(generation)},
	     {"TANDEM_RELOAD", applied ? "applied" : "unchanged"}});
	sd_notifyf(0, "READY=1\nSTATUS=Forwarding: %s", forwarding.c_str());
}

std::string Daemon::control_request(const std::string &req)
{
	if (req == "reload")
		return reload(false);
	if (req == "reload force")
		return reload(true);
	if (req == "status")
		return "ok " + summary(*snapshots_->current());
#ifdef TANDEM_FAULT_INJECTION
	// Test builds only: "test hang-worker Q" stops queue Q's worker for good.
	if (req.starts_with("test hang-worker ")) {
		const std::string q = req.substr(17);
		for (auto &w : workers_)
			if (std::to_string(w->queue()) == q) {
				w->hang();
				return "ok the worker of queue " + q + " hangs";
			}
		return "error: no worker on queue " + q;
	}
	// "test fail-next-reload": the next reload runs out of memory once its file is read.
	if (req == "test fail-next-reload") {
		fail_next_reload_ = true;
		return "ok the next reload fails with std::bad_alloc";
	}
#endif
	return "error: unknown request '" + req + "' (reload, reload force, status)";
}

int Daemon::run()
{
	std::vector<pollfd> fds;
	for (;;) {
		fds = {{signal_fd_, POLLIN, 0}, {nexthop_ ? nexthop_->fd() : -1, POLLIN, 0},
		       {health_->fd(), POLLIN, 0}, {watch_->fd(), POLLIN, 0}};
		constexpr size_t control_first = 4;
		control_->add_pollfds(fds);
		int timeout_ms = nexthop_ && nexthop_->dirty() ? 100 : 1000;
		// A control connection's deadline may come first; waking for it is not the
		// 1 s idle tick the neighbour refresh below keys on.
		bool control_wakeup = false;
		if (auto d = control_->next_deadline()) {
			const auto left = std::chrono::ceil<std::chrono::milliseconds>(
				*d - std::chrono::steady_clock::now());
			if (left.count() < timeout_ms) {
				timeout_ms = static_cast<int>(std::max<int64_t>(0, left.count()));
				control_wakeup = true;
			}
		}
		int n = poll(fds.data(), fds.size(), timeout_ms);
		if (n < 0 && errno != EINTR) {
			log(Level::err, message_id::fatal, "poll: " + std::string(std::strerror(errno)));
			return 1;
		}
		if (n > 0 && (fds[0].revents & POLLIN)) {
			signalfd_siginfo si;
			while (read(signal_fd_, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					reload(false);
				} else {
					sd_notify(0, "STOPPING=1\nSTATUS=Stopping");
					log(Level::notice, message_id::stopped,
					    std::string("stopping on ") + strsignal(static_cast<int>(si.ssi_signo)));
					watchdog_.reset();
					return stop_workers() ? 0 : 1;
				}
			}
		}
		// Every round, not only when poll saw something: deadlines are checked here.
		if (n >= 0) {
			const ControlCounters before = control_->counters();
			control_->process(std::span<const pollfd>(fds).subspan(control_first),
					  [this](const std::string &req) { return control_request(req); });
			if (control_->counters() != before) {
				status_.control_connections = control_->counters();
				publish_status();
			}
		}
		if (nexthop_ && n > 0 && (fds[1].revents & POLLIN))
			nexthop_->on_readable();
		if (n > 0 && (fds[2].revents & POLLIN) && health_->take_changed())
			apply_health();
		if (n > 0 && (fds[3].revents & POLLIN))
			if (std::optional<int> code = follow_interface())
				return *code;
		if (std::optional<int> code = check_xdp(false))
			return *code;
		// Notifications mark the table dirty; resolve at most every 100 ms (a solicitation
		// itself causes notifications), and every second regardless.
		const auto now = std::chrono::steady_clock::now();
		const bool idle_tick = n == 0 && !control_wakeup;
		if (nexthop_ && (idle_tick || (nexthop_->dirty() &&
					       now - last_refresh_ >= std::chrono::milliseconds(100)))) {
			last_refresh_ = now;
			refresh_neighbours();
		}
	}
}

}  // namespace tandem::director
