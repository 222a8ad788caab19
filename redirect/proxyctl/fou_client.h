// SPDX-License-Identifier: Apache-2.0
// The kernel's "fou" generic netlink family: GUE receive ports.
#pragma once

#include <cstdint>
#include <optional>

#include "genl_family.h"
#include "netlink.h"

namespace tandem::proxy {

enum class FouType : uint8_t { none = 0, direct = 1, gue = 2 };

class FouClient {
public:
	static Result<FouClient> connect();

	// The encapsulation type of IPv4 UDP port `port`, or nullopt when the
	// port is not a FOU/GUE port.
	Result<std::optional<FouType>> get(uint16_t port);
	Result<void> add_gue(uint16_t port);
	Result<void> del(uint16_t port);

private:
	FouClient(Netlink nl, GenlFamily family) : nl_(std::move(nl)), family_(family) {}
	Result<NlMsgPtr> port_msg(uint8_t cmd, uint16_t port);

	Netlink nl_;
	GenlFamily family_;
};

}  // namespace tandem::proxy
