// SPDX-License-Identifier: Apache-2.0
// How many receive queues an interface delivers frames on: its channels as ethtool -l
// shows them (ETHTOOL_GCHANNELS: combined + rx-only), or, for a driver without that
// operation, the rx-N entries sysfs lists. The director serves director.queues of them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace tandem::director {

std::optional<uint32_t> rx_queue_count(const std::string &ifname);

}  // namespace tandem::director
