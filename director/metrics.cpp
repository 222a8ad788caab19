// SPDX-License-Identifier: Apache-2.0
#include "metrics.h"

#include <exception>

#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/metric_family.h>

#include "bpf/classifier_shared.h"
#include "ip_address.h"

namespace tandem::director {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily family(const char *name, const char *help, MetricType type)
{
	MetricFamily f;
	f.name = name;
	f.help = help;
	f.type = type;
	return f;
}

void add(MetricFamily &f, std::vector<ClientMetric::Label> labels, double value)
{
	ClientMetric m;
	m.label = std::move(labels);
	if (f.type == MetricType::Counter)
		m.counter.value = value;
	else
		m.gauge.value = value;
	f.metric.push_back(std::move(m));
}

const char *classifier_action(unsigned c)
{
	switch (c) {
	case TANDEM_CLS_PASS: return "pass";
	case TANDEM_CLS_REDIRECT: return "redirect";
	case TANDEM_CLS_REDIRECT_ICMP: return "redirect_icmp";
	case TANDEM_CLS_REDIRECT_FRAG: return "redirect_fragment";
	case TANDEM_CLS_MALFORMED: return "pass_malformed";
	case TANDEM_CLS_TOO_BIG: return "drop_too_big";
	case TANDEM_CLS_NO_SOCKET: return "drop_no_socket";
	}
	return "unknown";
}

}  // namespace

const char *to_string(KickError e)
{
	switch (e) {
	case KickError::eagain: return "EAGAIN";
	case KickError::ebusy: return "EBUSY";
	case KickError::enobufs: return "ENOBUFS";
	case KickError::enetdown: return "ENETDOWN";
	case KickError::other:
	case KickError::count_: break;
	}
	return "other";
}

const char *to_string(WorkerSleep s)
{
	switch (s) {
	case WorkerSleep::idle: return "idle";
	case WorkerSleep::tx_wait: return "tx_wait";
	case WorkerSleep::link_down: return "link_down";
	case WorkerSleep::count_: break;
	}
	return "unknown";
}

uint32_t MetricSlots::service(const std::string &name)
{
	std::lock_guard lock(mu_);
	auto it = services_.find(name);
	if (it != services_.end())
		return it->second;
	uint32_t slot = static_cast<uint32_t>(service_names_.size());
	if (slot >= max_service_slots - 1)
		return max_service_slots - 1;  // overflow: shared, unlabelled slot
	services_.emplace(name, slot);
	service_names_.push_back(name);
	return slot;
}

uint32_t MetricSlots::backend(const std::string &service, const std::string &address)
{
	std::lock_guard lock(mu_);
	auto key = std::make_pair(service, address);
	auto it = backends_.find(key);
	if (it != backends_.end())
		return it->second;
	uint32_t slot = static_cast<uint32_t>(backend_names_.size());
	if (slot >= max_backend_slots - 1)
		return max_backend_slots - 1;
	backends_.emplace(key, slot);
	backend_names_.push_back(key);
	return slot;
}

std::vector<std::string> MetricSlots::service_names() const
{
	std::lock_guard lock(mu_);
	return service_names_;
}

std::vector<std::pair<std::string, std::string>> MetricSlots::backend_names() const
{
	std::lock_guard lock(mu_);
	return backend_names_;
}

struct Metrics::Collector : prometheus::Collectable {
	std::vector<QueueView> queues;
	ClassifierCounters classifier;
	HealthReports health;
	const MetricSlots *slots = nullptr;
	mutable std::mutex mu;
	DaemonStatus status;

	std::vector<MetricFamily> Collect() const override;
};

std::vector<MetricFamily> Metrics::Collector::Collect() const
{
	using T = MetricType;
	auto rx = family("tandem_director_rx_packets_total", "Frames the worker took from the AF_XDP RX ring", T::Counter);
	auto rxb = family("tandem_director_rx_bytes_total", "Bytes of those frames", T::Counter);
	auto matched = family("tandem_director_matched_packets_total", "Frames that matched a bound service", T::Counter);
	auto enc = family("tandem_director_encapsulated_packets_total", "Frames encapsulated and queued for TX", T::Counter);
	auto encb = family("tandem_director_encapsulated_bytes_total", "Bytes of the encapsulated frames", T::Counter);
	auto tx = family("tandem_director_tx_packets_total", "Frames the kernel completed on the TX ring", T::Counter);
	auto dropped = family("tandem_director_dropped_packets_total", "Frames dropped by the worker or the classifier, by reason", T::Counter);
	auto passed = family("tandem_director_passed_packets_total", "Frames the classifier left to the kernel (XDP_PASS)", T::Counter);
	auto xdp = family("tandem_director_xdp_packets_total", "Classifier decisions, by action", T::Counter);
	auto ring_full = family("tandem_director_ring_full_events_total", "Frames that met a full ring", T::Counter);
	auto fill_empty = family("tandem_director_fill_ring_empty_total", "Times the kernel found the fill ring empty (rx_fill_ring_empty_descs)", T::Counter);
	auto xsk_drop = family("tandem_director_xsk_rx_dropped_total", "Frames the kernel dropped on the socket (rx_dropped)", T::Counter);
	auto invalid = family("tandem_director_xsk_invalid_descriptors_total", "Invalid descriptors, by ring", T::Counter);
	auto kicks = family("tandem_director_tx_kicks_total", "sendto() calls that woke the TX path", T::Counter);
	auto kick_errors = family("tandem_director_tx_kick_errors_total", "TX kicks (sendto) that failed, by errno", T::Counter);
	auto fill_wakeups = family("tandem_director_fill_wakeups_total", "Wakeups the fill ring asked for (need_wakeup)", T::Counter);
	auto sleeps = family("tandem_director_worker_sleeps_total", "Times the worker slept instead of spinning, by reason", T::Counter);
	auto batches = family("tandem_director_rx_batches_total", "RX batches the worker processed", T::Counter);
	auto mode = family("tandem_director_mode_info", "XDP attach mode, AF_XDP bind mode and UMEM pages in use (value 1)", T::Gauge);
	auto svc = family("tandem_director_service_packets_total", "Frames forwarded, per service", T::Counter);
	auto be = family("tandem_director_backend_first_hop_packets_total", "Frames sent with this backend as first hop", T::Counter);
	auto gen = family("tandem_director_config_generation", "Generation of the configuration in force (1 = at start)", T::Gauge);
	auto last = family("tandem_director_last_reload_success", "1 when the last reload succeeded (or none happened), else 0", T::Gauge);
	auto last_time = family("tandem_director_last_reload_timestamp_seconds", "When the last reload was attempted", T::Gauge);
	auto reloads = family("tandem_director_reloads_total", "Reload attempts, by result", T::Counter);
	auto unresolved = family("tandem_director_unresolved_neighbours", "Proxies whose next-hop MAC is not known", T::Gauge);
	auto healthy = family("tandem_director_backend_healthy", "The health check's verdict on a backend: 1 healthy, 0 down", T::Gauge);
	auto icmp = family("tandem_director_icmp_too_big_total", "Frames too big once encapsulated, by what was done: ICMP sent, suppressed by the rate limit, dropped (IPv4 without DF), not answerable", T::Counter);
	auto max_inner = family("tandem_director_service_max_inner_packet_bytes", "Longest inner IP packet a service carries: the interface MTU minus its encapsulation", T::Gauge);
	auto checks = family("tandem_director_health_checks_total", "Health checks run, by result", T::Counter);
	auto control = family("tandem_director_control_connections_total", "Control socket connections, by how they ended: served, timed_out (no whole request line, or the answer not read, in time), too_long, refused (too many clients at once), closed (by the client first)", T::Counter);

	auto overruns = family("tandem_director_netlink_overruns_total", "Netlink notifications lost because the socket's receive buffer overran, by socket; each time the state was read again from the kernel", T::Counter);
	auto solicits = family("tandem_director_neighbour_solicitations_total", "Neighbour resolutions asked of the kernel (NTF_USE), by the entry's state: unresolved, or stale (re-verified: the director's own traffic never confirms a neighbour)", T::Counter);
	auto link_up = family("tandem_director_link_up", "1 when the interface is up and has a carrier, else 0", T::Gauge);
	auto link_down = family("tandem_director_link_down_total", "Times the interface went down (or lost its carrier)", T::Counter);
	auto iface_changes = family("tandem_director_interface_changes_total", "Changes of the interface applied while running, by what changed", T::Counter);

	DaemonStatus st;
	{
		std::lock_guard lock(mu);
		st = status;
	}
	std::vector<std::array<uint64_t, TANDEM_CLS_COUNT>> cls =
		classifier ? classifier() : decltype(classifier())();
	// The classifier's view of a queue: what it did with each frame.
	auto add_classifier = [&](const ClientMetric::Label &queue,
				  const std::array<uint64_t, TANDEM_CLS_COUNT> &k) {
		for (unsigned a = 0; a < TANDEM_CLS_COUNT; a++)
			add(xdp, {queue, {"action", classifier_action(a)}}, k[a]);
		add(passed, {queue}, k[TANDEM_CLS_PASS] + k[TANDEM_CLS_MALFORMED]);
		add(dropped, {queue, {"reason", "frame_too_big"}}, k[TANDEM_CLS_TOO_BIG]);
		add(dropped, {queue, {"reason", "no_socket"}}, k[TANDEM_CLS_NO_SOCKET]);
	};
	std::vector<double> service_totals(max_service_slots, 0), backend_totals(max_backend_slots, 0);
	for (const QueueView &q : queues) {
		const QueueCounters &c = *q.counters;
		std::vector<ClientMetric::Label> l = {{"queue", std::to_string(q.queue)}};
		add(rx, l, c.rx_packets.get());
		add(rxb, l, c.rx_bytes.get());
		add(matched, l, c.matched.get());
		add(enc, l, c.encap_packets.get());
		add(encb, l, c.encap_bytes.get());
		add(tx, l, c.tx_packets.get());
		add(kicks, l, c.tx_kicks.get());
		for (size_t e = 0; e < kick_error_count; e++)
			add(kick_errors, {l[0], {"errno", to_string(static_cast<KickError>(e))}}, c.kick_errors[e].get());
		add(fill_wakeups, l, c.fill_wakeups.get());
		for (size_t w = 0; w < worker_sleep_count; w++)
			add(sleeps, {l[0], {"reason", to_string(static_cast<WorkerSleep>(w))}}, c.sleeps[w].get());
		add(batches, l, c.batches.get());
		for (size_t v = 1; v < verdict_count; v++)
			add(dropped, {l[0], {"reason", std::string(to_string(static_cast<Verdict>(v)))}},
			    c.dropped[v].get());
		add(icmp, {l[0], {"result", "sent"}}, c.icmp_too_big_sent.get());
		add(icmp, {l[0], {"result", "rate_limited"}}, c.icmp_too_big_rate_limited.get());
		add(icmp, {l[0], {"result", "no_df"}}, c.icmp_too_big_no_df.get());
		add(icmp, {l[0], {"result", "not_answerable"}}, c.icmp_too_big_unanswerable.get());
		std::array<uint64_t, 6> xs = q.xsk_stats ? q.xsk_stats() : std::array<uint64_t, 6>{};
		add(xsk_drop, l, xs[0]);
		add(invalid, {l[0], {"ring", "rx"}}, xs[1]);
		add(invalid, {l[0], {"ring", "tx"}}, xs[2]);
		add(ring_full, {l[0], {"ring", "rx"}}, xs[3]);
		add(ring_full, {l[0], {"ring", "tx"}}, c.tx_ring_full.get());
		add(fill_empty, {l[0], {"source", "kernel"}}, xs[4]);
		if (q.queue < cls.size())
			add_classifier(l[0], cls[q.queue]);
		add(mode, {l[0], {"xdp_mode", st.xdp_mode}, {"attach", st.attach_mode},
			   {"bind_mode", q.zero_copy ? "zerocopy" : "copy"},
			   {"busy_poll", q.busy_poll ? "on" : "off"}, {"umem_pages", q.umem_pages}},
		    1);
		for (uint32_t s = 0; s < max_service_slots; s++)
			service_totals[s] += static_cast<double>(c.service_packets[s].get());
		for (uint32_t b = 0; b < max_backend_slots; b++)
			backend_totals[b] += static_cast<double>(c.backend_packets[b].get());
	}
	// Queues the NIC has and no worker serves: only the classifier sees their frames.
	for (size_t q = queues.size(); q < cls.size(); q++)
		add_classifier({"queue", std::to_string(q)}, cls[q]);
	std::vector<std::string> names = slots->service_names();
	for (size_t s = 0; s < names.size(); s++)
		add(svc, {{"service", names[s]}}, service_totals[s]);
	auto bnames = slots->backend_names();
	for (size_t b = 0; b < bnames.size(); b++)
		add(be, {{"service", bnames[b].first}, {"backend", bnames[b].second}}, backend_totals[b]);
	add(gen, {}, static_cast<double>(st.generation));
	add(last, {}, st.last_reload_ok ? 1 : 0);
	add(last_time, {}, st.last_reload_time);
	add(reloads, {{"result", "ok"}}, static_cast<double>(st.reloads_ok));
	add(reloads, {{"result", "failed"}}, static_cast<double>(st.reloads_failed));
	add(reloads, {{"result", "unchanged"}}, static_cast<double>(st.reloads_unchanged));
	add(unresolved, {}, static_cast<double>(st.unresolved_neighbours));
	for (size_t r = 0; r < control_result_count; r++)
		add(control, {{"result", to_string(static_cast<ControlResult>(r))}},
		    static_cast<double>(st.control_connections[r]));
	add(overruns, {{"socket", "neighbour"}}, static_cast<double>(st.netlink_overruns_neighbour));
	add(overruns, {{"socket", "route"}}, static_cast<double>(st.netlink_overruns_route));
	add(overruns, {{"socket", "link"}}, static_cast<double>(st.netlink_overruns_link));
	add(solicits, {{"state", "unresolved"}}, static_cast<double>(st.solicited_unresolved));
	add(solicits, {{"state", "stale"}}, static_cast<double>(st.solicited_stale));
	add(link_up, {}, st.link_up ? 1 : 0);
	add(link_down, {}, static_cast<double>(st.link_down_events));
	add(iface_changes, {{"change", "mtu"}}, static_cast<double>(st.interface_mtu_changes));
	add(iface_changes, {{"change", "mac"}}, static_cast<double>(st.interface_mac_changes));
	add(iface_changes, {{"change", "address"}}, static_cast<double>(st.interface_address_changes));
	add(iface_changes, {{"change", "name"}}, static_cast<double>(st.interface_renames));
	for (const auto &[name, bytes] : st.max_inner_packet)
		add(max_inner, {{"service", name}}, bytes);
	for (const HealthReport &r : health ? health() : std::vector<HealthReport>{}) {
		std::vector<ClientMetric::Label> l = {
			{"service", r.target.service},
			{"backend", IpAddress::from_v4(r.target.address).to_string()}};
		add(healthy, l, r.healthy ? 1 : 0);
		add(checks, {l[0], l[1], {"result", "ok"}}, static_cast<double>(r.checks_ok));
		add(checks, {l[0], l[1], {"result", "failed"}}, static_cast<double>(r.checks_failed));
	}

	return {rx, rxb, matched, enc, encb, tx, dropped, passed, xdp, ring_full, fill_empty,
		xsk_drop, invalid, kicks, kick_errors, fill_wakeups, sleeps, batches, mode, svc, be,
		gen, last, last_time, reloads, unresolved, healthy, checks, icmp, max_inner, control,
		overruns, solicits, link_up, link_down, iface_changes};
}

Result<std::unique_ptr<Metrics>> Metrics::listen(const std::string &address)
{
	std::unique_ptr<Metrics> m(new Metrics());
	m->collector_ = std::make_shared<Collector>();
	try {
		m->exposer_ = std::make_unique<prometheus::Exposer>(std::vector<std::string>{
			"listening_ports", address,
			"num_threads", std::to_string(exposer_threads),
			"request_timeout_ms", std::to_string(request_timeout_ms)});
	} catch (const std::exception &e) {
		return make_error("serving metrics on " + address + " (director.metrics): " +
				  e.what() + " (is the address in use? `ss -ltnp` shows by whom)");
	}
	return m;
}

void Metrics::serve(std::vector<QueueView> queues, ClassifierCounters classifier,
		    const MetricSlots &slots, HealthReports health)
{
	// Set before the collector is registered: no scrape reads them before this.
	collector_->queues = std::move(queues);
	collector_->classifier = std::move(classifier);
	collector_->slots = &slots;
	collector_->health = std::move(health);
	exposer_->RegisterCollectable(collector_);
}

Metrics::~Metrics() = default;

void Metrics::set_status(const DaemonStatus &s)
{
	std::lock_guard lock(collector_->mu);
	collector_->status = s;
}

DaemonStatus Metrics::status() const
{
	std::lock_guard lock(collector_->mu);
	return collector_->status;
}

}  // namespace tandem::director
