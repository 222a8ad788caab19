// SPDX-License-Identifier: Apache-2.0
#include "table_diff.h"

#include <algorithm>
#include <span>

namespace tandem {
namespace {

bool covered(const Bind &old_bind, const PortRange &range, const std::vector<Bind> &binds)
{
	for (const Bind &b : binds) {
		if (b.protocol != old_bind.protocol || b.prefix.length > old_bind.prefix.length ||
		    !b.prefix.contains(old_bind.prefix.address))
			continue;
		for (const PortRange &r : b.ports)
			if (r.first <= range.first && range.last <= r.last)
				return true;
	}
	return false;
}

const BackendConfig *find_backend(const ServiceConfig &s, const IpAddress &a)
{
	for (const BackendConfig &b : s.backends)
		if (b.backend.address == a)
			return &b;
	return nullptr;
}

void compare_settings(const ServiceConfig &a, const ServiceConfig &b, ServiceDiff &d)
{
	for (const Bind &bind : a.binds)
		for (const PortRange &r : bind.ports)
			if (!covered(bind, r, b.binds))
				d.unsafe.push_back("bind " + bind.prefix.to_string() + " " +
						   std::string(to_string(bind.protocol)) + " " +
						   std::to_string(r.first) +
						   (r.first == r.last ? "" : "-" + std::to_string(r.last)) +
						   " is no longer served: its connections break");
	if (a.hash_key != b.hash_key)
		d.unsafe.push_back("hash_key changed: every flow moves to another row");
	if (a.seed != b.seed)
		d.notes.push_back("seed changed: the whole table is reshuffled");
	if (a.hash_fields != b.hash_fields) {
		if (b.alt_hash_fields && *b.alt_hash_fields == a.hash_fields)
			d.notes.push_back("hash_fields migrate from [" + a.hash_fields.to_string() +
					  "] to [" + b.hash_fields.to_string() +
					  "]; alt_hash_fields keeps old flows reachable");
		else
			d.unsafe.push_back("hash_fields changed from [" + a.hash_fields.to_string() +
					   "] to [" + b.hash_fields.to_string() +
					   "] without alt_hash_fields: [" + a.hash_fields.to_string() +
					   "] to keep old flows reachable");
	}
	if (a.alt_hash_fields && !b.alt_hash_fields)
		d.notes.push_back("alt_hash_fields removed: flows still hashed the old way lose their second lookup");
	if (a.hops_per_row != b.hops_per_row)
		d.notes.push_back("hops_per_row " + std::to_string(a.hops_per_row) + " -> " +
				  std::to_string(b.hops_per_row));

	for (const BackendConfig &old_b : a.backends) {
		const Backend &o = old_b.backend;
		const BackendConfig *nb = find_backend(b, o.address);
		bool leaves = nb == nullptr || !nb->backend.in_table();
		bool was_serving = o.state == BackendState::active || o.state == BackendState::filling;
		if (leaves && was_serving)
			d.unsafe.push_back("backend " + o.address.to_string() + " leaves the table while " +
					   std::string(to_string(o.state)) +
					   ": set it to draining first, and remove it once its connections end");
		else if (nb && nb->backend.state != o.state)
			d.notes.push_back("backend " + o.address.to_string() + ": " +
					  std::string(to_string(o.state)) + " -> " +
					  std::string(to_string(nb->backend.state)));
		else if (nb == nullptr)
			d.notes.push_back("backend " + o.address.to_string() + " removed (was " +
					  std::string(to_string(o.state)) + ")");
	}
	for (const BackendConfig &nb : b.backends)
		if (!find_backend(a, nb.backend.address))
			d.notes.push_back("backend " + nb.backend.address.to_string() + " added as " +
					  std::string(to_string(nb.backend.state)));
}

// A hop that takes the row's new connections: active or filling, and healthy (the table
// puts it ahead of draining and unhealthy ones).
bool has_active_hop(const std::vector<Backend> &backends, std::span<const uint16_t> row)
{
	return std::any_of(row.begin(), row.end(), [&](uint16_t i) { return !backends[i].is_bad(); });
}

void compare_rows(const ServiceConfig &a, const ServiceConfig &b, ServiceDiff &d)
{
	auto ta = ForwardingTable::build(a.seed, a.table_backends(), a.hops_per_row);
	auto tb = ForwardingTable::build(b.seed, b.table_backends(), b.hops_per_row);
	const auto &ba = ta.backends(), &bb = tb.backends();
	for (uint32_t r = 0; r < table_rows; r++) {
		auto ra = ta.row(r), rb = tb.row(r);
		if (ra.empty())
			continue;
		if (rb.empty() || ba[ra[0]].address != bb[rb[0]].address)
			d.first_hop_changed++;
		bool shared = false;
		for (uint16_t x : ra)
			for (uint16_t y : rb)
				shared = shared || ba[x].address == bb[y].address;
		if (!shared) {
			if (d.rows_lost == 0)
				d.example_lost_row = static_cast<int>(r);
			d.rows_lost++;
		} else if (has_active_hop(ba, ra) && !has_active_hop(bb, rb)) {
			if (d.rows_without_active == 0)
				d.example_without_active = static_cast<int>(r);
			d.rows_without_active++;
		}
	}
	if (d.rows_lost > 0)
		d.unsafe.push_back(std::to_string(d.rows_lost) +
				   " rows lose every hop they had (for example row " +
				   std::to_string(d.example_lost_row) +
				   "): too many of a row's proxies leave at once; change fewer backends per step");
	// GLB allows one proxy that is not active at a time with two hops for this reason.
	if (d.rows_without_active > 0)
		d.unsafe.push_back(std::to_string(d.rows_without_active) +
				   " rows are left with no hop that is active (or filling) and healthy (for example row " +
				   std::to_string(d.example_without_active) +
				   "): new connections there land on a proxy that is leaving, so its drain "
				   "never ends; drain one at a time, or use hops_per_row 3");
}

}  // namespace

bool ConfigDiff::safe() const
{
	return std::all_of(services.begin(), services.end(),
			   [](const ServiceDiff &s) { return s.unsafe.empty(); });
}

ConfigDiff diff_configs(const Config &before, const Config &after)
{
	ConfigDiff diff;
	for (const ServiceConfig &a : before.services) {
		ServiceDiff d;
		d.name = a.name;
		const ServiceConfig *b = after.find_service(a.name);
		if (b == nullptr) {
			d.removed = true;
			d.unsafe.push_back("service removed: its clients' connections break");
		} else {
			compare_settings(a, *b, d);
			compare_rows(a, *b, d);
		}
		diff.services.push_back(std::move(d));
	}
	for (const ServiceConfig &b : after.services)
		if (!before.find_service(b.name)) {
			ServiceDiff d;
			d.name = b.name;
			d.added = true;
			d.notes.push_back("service added");
			diff.services.push_back(std::move(d));
		}
	return diff;
}

}  // namespace tandem
