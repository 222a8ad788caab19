// SPDX-License-Identifier: Apache-2.0
#include "service_set.h"

namespace tandem {

ServiceSet ServiceSet::compile(const std::vector<ServiceConfig> &services)
{
	ServiceSet set;
	for (size_t i = 0; i < services.size(); i++) {
		const ServiceConfig &sc = services[i];
		CompiledService cs;
		cs.name = sc.name;
		cs.hash_key = sc.hash_key;
		cs.hash_fields = sc.hash_fields;
		cs.alt_hash_fields = sc.alt_hash_fields;
		cs.table = ForwardingTable::build(sc.seed, sc.table_backends(), sc.hops_per_row);
		for (const Backend &b : cs.table.backends())
			cs.hop_address.push_back(b.address.is_v4() ? b.address.v4_raw() : 0);
		set.services_.push_back(std::move(cs));
		for (const Bind &b : sc.binds)
			set.binds_.push_back(CompiledBind{b.prefix, static_cast<uint8_t>(b.protocol),
							  b.ports, static_cast<uint16_t>(i)});
	}
	std::vector<bool> indexed;
	set.index_ = BindIndex::build(
		set.binds_, [&set](const ParsedPacket &p) { return set.match_by_scan(p); }, indexed);
	for (size_t b = 0; b < set.binds_.size(); b++)
		if (!indexed[b])
			set.unindexed_.push_back(set.binds_[b]);
	return set;
}

int ServiceSet::match(const ParsedPacket &pkt) const noexcept
{
	const int s = index_.lookup(pkt);
	return s != BindIndex::absent ? s : scan(unindexed_, pkt);
}

int ServiceSet::scan(const std::vector<CompiledBind> &binds, const ParsedPacket &pkt) noexcept
{
	const IpAddress dst = pkt.dst_address();
	for (const CompiledBind &b : binds) {
		if (!b.prefix.contains(dst))
			continue;
		if (pkt.kind == PacketKind::icmp_echo)
			return b.service;
		if (b.protocol != pkt.protocol)
			continue;
		if (pkt.kind == PacketKind::later_fragment)
			return b.service;
		for (const PortRange &r : b.ports)
			if (r.contains(pkt.dst_port))
				return b.service;
	}
	return -1;
}

Route ServiceSet::route(const ParsedPacket &pkt) const noexcept
{
	int s = match(pkt);
	if (s < 0) {
		Route r;
		r.verdict = Verdict::no_service;
		return r;
	}
	return route_in(static_cast<uint16_t>(s), pkt);
}

Route ServiceSet::route_in(uint16_t service, const ParsedPacket &pkt) const noexcept
{
	Route r;
	r.service = service;
	const CompiledService &svc = services_[service];
	if (svc.table.width() == 0) {
		r.verdict = Verdict::no_backend;
		return r;
	}
	if (pkt.kind == PacketKind::later_fragment && svc.uses_ports()) {
		r.verdict = Verdict::fragment_needs_ports;
		return r;
	}
	auto add_row = [&](const HashFields &fields) {
		uint64_t h = flow_hash(svc.hash_key, fields, pkt);
		if (r.hop_count == 0)
			r.hash = h;
		for (uint16_t b : svc.table.row(static_cast<uint32_t>(h & table_row_mask))) {
			r.backend[r.hop_count] = b;
			r.hop[r.hop_count] = svc.hop_address[b];
			if (r.hop[r.hop_count] == 0)
				r.verdict = Verdict::ipv6_hop;
			r.hop_count++;
		}
	};
	add_row(svc.hash_fields);
	if (svc.alt_hash_fields)
		add_row(*svc.alt_hash_fields);
	r.udp_source_port = gue_source_port(r.hash, pkt.hint);
	return r;
}

}  // namespace tandem
