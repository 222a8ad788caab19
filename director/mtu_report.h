// SPDX-License-Identifier: Apache-2.0
// What each service can carry: the longest inner IP packet that still fits the
// interface's MTU once encapsulated for the service's hop count (its row, plus the
// alternative lookup's row). Logged at start and on every reload, with a warning and the
// fix when it is below 1500, and exported as tandem_director_service_max_inner_packet_bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config.h"

namespace tandem::director {

inline constexpr uint32_t full_size_packet = 1500;

struct ServiceMtu {
	std::string name;
	unsigned hops = 0;        // hops a packet of the service carries
	uint32_t overhead = 0;    // bytes the encapsulation adds (Ethernet excluded)
	uint32_t max_inner = 0;   // interface MTU - overhead
};

std::vector<ServiceMtu> service_mtus(const Config &config, uint32_t interface_mtu);

// Logs one line per service (info, or warning below full_size_packet).
void log_service_mtus(const std::vector<ServiceMtu> &mtus, const std::string &ifname,
		      uint32_t interface_mtu);

}  // namespace tandem::director
