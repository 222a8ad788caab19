// SPDX-License-Identifier: Apache-2.0
#include "reload.h"

#include <string>
#include <vector>

#include "table_diff.h"

namespace tandem::director {
namespace {

std::string where(const Config &c, const SourceMark &m)
{
	return c.path + ":" + std::to_string(m.line) + ":" + std::to_string(m.column) + ": ";
}

// A backend a health check calls down is unhealthy in the table; `healthy: false` in the
// config stays unhealthy whatever the check says.
std::vector<ServiceConfig> with_health(std::vector<ServiceConfig> services, const DownSet *down)
{
	if (!down || down->empty())
		return services;
	for (ServiceConfig &svc : services)
		for (BackendConfig &b : svc.backends)
			if (b.backend.address.is_v4() && down->count({svc.name, b.backend.address.v4_raw()}))
				b.backend.healthy = false;
	return services;
}

}  // namespace

Result<void> check_director_change(const Config &running, const Config &next)
{
	const DirectorConfig empty;
	const DirectorConfig &a = running.director ? *running.director : empty;
	const DirectorConfig &b = next.director ? *next.director : empty;
	std::vector<const char *> changed;
	if (a.interface != b.interface)
		changed.push_back("interface");
	if (a.queues != b.queues)
		changed.push_back("queues");
	if (a.cores != b.cores)
		changed.push_back("cores");
	if (a.metrics_address != b.metrics_address)
		changed.push_back("metrics_address");
	if (a.bind_mode != b.bind_mode)
		changed.push_back("bind_mode");
	if (a.xdp_mode != b.xdp_mode)
		changed.push_back("xdp_mode");
	if (!(a.busy_poll == b.busy_poll))
		changed.push_back("busy_poll");
	if (a.frame_size != b.frame_size)
		changed.push_back("frame_size");
	if (a.ring_size != b.ring_size)
		changed.push_back("ring_size");
	if (!(a.icmp_too_big == b.icmp_too_big))
		changed.push_back("icmp_too_big");
	if (changed.empty())
		return {};
	std::string msg = where(next, b.mark) + "director.";
	for (size_t i = 0; i < changed.size(); i++)
		msg += (i ? ", director." : "") + std::string(changed[i]);
	msg += changed.size() == 1 ? " changed" : " changed";
	msg += ": that needs a restart (systemctl restart tandem-director); the running "
	       "configuration stays in force";
	return make_error(msg);
}

Result<void> check_transition(const Config &running, const Config &next, bool force)
{
	const ConfigDiff diff = diff_configs(running, next);  // common/table_diff.h
	if (diff.safe() || force)
		return {};
	std::string msg = next.path + ": this change breaks established connections:";
	for (const ServiceDiff &s : diff.services)
		for (const std::string &why : s.unsafe)
			msg += "\n  service " + s.name + ": " + why;
	msg += "\n(tandemctl diff OLD NEW shows the whole change; tandem-director --reload --force "
	       "applies it anyway)";
	return make_error(msg);
}

Result<std::unique_ptr<Snapshot>> build_snapshot(Config config, uint64_t generation,
						 const SnapshotContext &ctx)
{
	auto s = std::make_unique<Snapshot>();
	s->generation = generation;
	const DirectorConfig d = config.director ? *config.director : DirectorConfig{};
	s->encap.src_mac = ctx.interface_mac;
	s->encap.gue_port = d.gue_port;
	s->encap.udp_checksum = d.udp_checksum;
	if (d.source_ip) {
		if (!d.source_ip->is_v4())
			return make_error(where(config, d.mark) +
					  "director.source_ip must be an IPv4 address (the GUE outer "
					  "header is IPv4)");
		s->encap.source_ip = d.source_ip->v4_raw();
	} else if (ctx.interface_ipv4) {
		s->encap.source_ip = *ctx.interface_ipv4;
	} else {
		return make_error(where(config, d.mark) + "director.source_ip is not set and " +
				  d.interface + " has no IPv4 address to use instead");
	}
	s->gateway_mac = d.gateway_mac;
	s->max_frame = ctx.max_frame;
	s->services = ServiceSet::compile(with_health(config.services, ctx.down));

	std::vector<uint32_t> hops;
	for (const CompiledService &svc : s->services.services()) {
		s->service_slot.push_back(ctx.slots->service(svc.name));
		s->backend_slot_base.push_back(static_cast<uint32_t>(s->backend_slot.size()));
		for (const Backend &b : svc.table.backends())
			s->backend_slot.push_back(ctx.slots->backend(svc.name, b.address.to_string()));
		for (uint32_t a : svc.hop_address)
			if (a != 0)
				hops.push_back(a);
	}
	s->neighbours = NeighbourTable(hops);
	s->config = std::move(config);
	return s;
}

}  // namespace tandem::director
