// SPDX-License-Identifier: Apache-2.0
// Writes GLB's binary forwarding table exactly as glb-director-cli build-config does:
// packed little-endian structs, unused backend and bind slots zeroed, and each row's
// primary and secondary taken from the rendezvous order with GLB's one swap.
#include <cstring>

#include "bytes.h"
#include "glb_format.h"

namespace tandem {
namespace {

constexpr uint32_t glb_family_ipv4 = 1;
constexpr uint32_t glb_family_ipv6 = 2;
constexpr uint16_t glb_state_filling = 0;
constexpr uint16_t glb_state_active = 1;
constexpr uint16_t glb_state_draining_or_inactive = 2;
constexpr size_t backend_entry_size = 24;
constexpr size_t bind_entry_size = 28;

class Writer {
public:
	void u8(uint8_t v) { out_.push_back(v); }
	void u16(uint16_t v)
	{
		u8(static_cast<uint8_t>(v));
		u8(static_cast<uint8_t>(v >> 8));
	}
	void u32(uint32_t v)
	{
		u16(static_cast<uint16_t>(v));
		u16(static_cast<uint16_t>(v >> 16));
	}
	void bytes(const uint8_t *p, size_t n) { out_.insert(out_.end(), p, p + n); }
	void zeros(size_t n) { out_.insert(out_.end(), n, 0); }
	std::vector<uint8_t> take() { return std::move(out_); }
	void reserve(size_t n) { out_.reserve(n); }

private:
	std::vector<uint8_t> out_;
};

void address(Writer &w, const IpAddress &a)
{
	w.u32(a.is_v4() ? glb_family_ipv4 : glb_family_ipv6);
	w.bytes(a.bytes.data(), 16);  // IPv4 in the first 4 bytes, the rest zero
}

uint16_t glb_state(BackendState s)
{
	switch (s) {
	case BackendState::filling:
		return glb_state_filling;
	case BackendState::active:
		return glb_state_active;
	default:
		return glb_state_draining_or_inactive;
	}
}

Error export_error(const ServiceConfig &s, const std::string &what)
{
	return make_error("service \"" + s.name + "\" (line " + std::to_string(s.mark.line) +
			  "): cannot be written in GLB's format: " + what);
}

}  // namespace

Result<std::vector<uint8_t>> glb_export(const Config &config)
{
	Writer w;
	w.reserve(24 + config.services.size() *
			       (4 + 256 * backend_entry_size + 4 + 256 * bind_entry_size + 16 +
				size_t{table_rows} * 8));
	w.bytes(reinterpret_cast<const uint8_t *>("GLBD"), 4);
	w.u32(glb_format_version);
	w.u32(static_cast<uint32_t>(config.services.size()));
	w.u32(table_rows);
	w.u32(glb_max_backends);
	w.u32(glb_max_binds);

	for (const ServiceConfig &s : config.services) {
		size_t ranges = 0, available = 0;
		for (const Bind &b : s.binds)
			ranges += b.ports.size();
		for (const BackendConfig &b : s.backends)
			available += b.backend.in_table();
		if (s.hops_per_row != 2)
			return export_error(s, "GLB's rows hold exactly two hops; set hops_per_row: 2");
		if (s.backends.size() > glb_max_backends)
			return export_error(s, "more than 256 backends");
		if (ranges > glb_max_binds)
			return export_error(s, "more than 256 binds (each port range is one GLB bind)");
		if (available < 2)
			return export_error(s, "GLB needs at least two backends that are not inactive");

		w.u32(static_cast<uint32_t>(s.backends.size()));
		for (const BackendConfig &b : s.backends) {
			address(w, b.backend.address);
			w.u16(glb_state(b.backend.state));
			w.u16(b.backend.healthy ? 1 : 0);
		}
		w.zeros((glb_max_backends - s.backends.size()) * backend_entry_size);

		w.u32(static_cast<uint32_t>(ranges));
		for (const Bind &b : s.binds)
			for (const PortRange &r : b.ports) {
				address(w, b.address_as_written());  // host bits as written, as GLB does
				w.u16(b.prefix.length);
				w.u16(r.first);
				w.u16(r.last);
				w.u8(static_cast<uint8_t>(b.protocol));
				w.u8(0);
			}
		w.zeros((glb_max_binds - ranges) * bind_entry_size);
		w.bytes(s.hash_key.data(), s.hash_key.size());

		auto table = ForwardingTable::build(s.seed, s.table_backends(), 2,
						    ForwardingTable::Order::score_only);
		const auto &backends = table.backends();
		for (uint32_t r = 0; r < table_rows; r++) {
			auto row = table.row(r);
			const Backend &primary = backends[row[0]], &secondary = backends[row[1]];
			// GLB swaps when the primary is draining/inactive or down and the secondary's
			// *state* is active; it does not look at the secondary's health.
			bool primary_bad = glb_state(primary.state) == glb_state_draining_or_inactive ||
					   !primary.healthy;
			bool swap = primary_bad && glb_state(secondary.state) == glb_state_active;
			w.u32(swap ? row[1] : row[0]);
			w.u32(swap ? row[0] : row[1]);
		}
	}
	return w.take();
}

}  // namespace tandem
