// SPDX-License-Identifier: Apache-2.0
// Reload policy and snapshot building, off the data path: what may change without a
// restart, the hook that refuses connection-breaking changes, and building a Snapshot
// (ServiceSet::compile: one 65536-row table per service) from a validated Config and the
// health checks' verdicts.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "config.h"
#include "health_checker.h"
#include "metrics.h"
#include "result.h"
#include "snapshot.h"

namespace tandem::director {

// Fields of `director:` applied by a reload; every other field needs a restart.
//   live: source_ip, gateway_mac, gue_port, udp_checksum
//   restart: interface, queues, cores, metrics_address, bind_mode, xdp_mode, busy_poll,
//            frame_size, ring_size, icmp_too_big
Result<void> check_director_change(const Config &running, const Config &next);

// Refuses a change that would break established connections (for example an active
// backend removed without draining first, a changed hash_key, a removed service) unless
// `force`. The rules are common/table_diff.h's, the same `tandemctl diff` applies.
Result<void> check_transition(const Config &running, const Config &next, bool force);

struct SnapshotContext {
	MacAddress interface_mac{};
	std::optional<uint32_t> interface_ipv4;  // network order
	uint32_t max_frame = 0;
	MetricSlots *slots = nullptr;
	const DownSet *down = nullptr;  // backends the health checks call down
};

Result<std::unique_ptr<Snapshot>> build_snapshot(Config config, uint64_t generation,
						 const SnapshotContext &ctx);

}  // namespace tandem::director
