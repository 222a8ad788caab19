// SPDX-License-Identifier: Apache-2.0
// Resolving a generic netlink family (id and version) through nlctrl.
#pragma once

#include <cstdint>
#include <string>

#include "netlink.h"

namespace tandem::proxy {

struct GenlFamily {
	int id = 0;
	uint32_t version = 0;
};

// Ok with the family, or an Error; `missing` says the family is not
// registered in the kernel (module not loaded).
Result<GenlFamily> resolve_genl_family(Netlink &nl, const std::string &name,
				       bool &missing);

// A new generic netlink request for family/cmd with the given version;
// flags such as NLM_F_DUMP.
Result<NlMsgPtr> genl_request(const GenlFamily &family, uint8_t cmd, int flags = 0);

}  // namespace tandem::proxy
