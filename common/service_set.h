// SPDX-License-Identifier: Apache-2.0
// The compiled form of the services: binds to match packets against and one forwarding
// table per service. Immutable once built; the director publishes it as a snapshot.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bind_index.h"
#include "config.h"
#include "flow_hash.h"
#include "forwarding_table.h"
#include "packet.h"
#include "verdict.h"

namespace tandem {

inline constexpr unsigned max_route_hops = 2 * max_hops_per_row;

struct CompiledService {
	std::string name;
	SipKey hash_key{};
	HashFields hash_fields;
	std::optional<HashFields> alt_hash_fields;
	ForwardingTable table;
	std::vector<uint32_t> hop_address;  // per backend: IPv4 in network order, 0 for IPv6

	bool uses_ports() const
	{
		return hash_fields.uses_ports() || (alt_hash_fields && alt_hash_fields->uses_ports());
	}
};

struct CompiledBind {
	IpPrefix prefix;
	uint8_t protocol = 0;
	std::vector<PortRange> ports;
	uint16_t service = 0;
};

// Where one packet goes: the service, its flow hash and the hops in order.
struct Route {
	Verdict verdict = Verdict::ok;
	uint16_t service = 0;
	uint8_t hop_count = 0;
	uint16_t udp_source_port = 0;
	uint64_t hash = 0;
	std::array<uint16_t, max_route_hops> backend{};  // index into the service's backends
	std::array<uint32_t, max_route_hops> hop{};      // IPv4, network order
};

class ServiceSet {
public:
	ServiceSet() = default;
	static ServiceSet compile(const std::vector<ServiceConfig> &services);

	const std::vector<CompiledService> &services() const { return services_; }
	const std::vector<CompiledBind> &binds() const { return binds_; }

	// The service a parsed packet belongs to, or -1. TCP/UDP and ICMP errors match on
	// address, protocol and port; an echo request on the address alone; a later fragment
	// (which carries no ports) on address and protocol. The first matching bind in
	// configuration order wins; binds of different services never overlap. Exact binds
	// are found in one hash probe (BindIndex), the others by a scan.
	int match(const ParsedPacket &pkt) const noexcept;
	// The same answer by scanning every bind: the reference the index is built from.
	int match_by_scan(const ParsedPacket &pkt) const noexcept { return scan(binds_, pkt); }

	Route route(const ParsedPacket &pkt) const noexcept;
	// The hops of a packet already known to belong to `service` (no bind matching).
	Route route_in(uint16_t service, const ParsedPacket &pkt) const noexcept;

private:
	static int scan(const std::vector<CompiledBind> &binds, const ParsedPacket &pkt) noexcept;

	std::vector<CompiledService> services_;
	std::vector<CompiledBind> binds_;
	BindIndex index_;
	std::vector<CompiledBind> unindexed_;  // in configuration order
};

}  // namespace tandem
