// SPDX-License-Identifier: Apache-2.0
// Whether our XDP program is still on the interface: someone may remove it
// (`xdp-loader unload IFACE --all`, `ip link set dev IFACE xdp off`) and the daemon,
// whose sockets then receive nothing, must notice. Asked through libxdp, which knows the
// dispatcher (our program is one of its components) and a program attached alone.
#pragma once

#include <cstdint>

#include "result.h"

namespace tandem::director {

// True when the program with `prog_id` runs on `ifindex`, alone or in the dispatcher;
// false when it does not; an Error when the kernel could not be asked.
Result<bool> xdp_program_present(int ifindex, uint32_t prog_id);

}  // namespace tandem::director
