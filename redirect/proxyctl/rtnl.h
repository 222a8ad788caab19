// SPDX-License-Identifier: Apache-2.0
// The rtnetlink operations tandem-proxyctl needs: tunnel devices, link
// state and addresses.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ip_address.h"
#include "netlink.h"

namespace tandem::proxy {

struct LinkInfo {
	int ifindex = 0;
	bool up = false;
	std::string kind;  // "ipip", "sit", ... (empty for plain devices)
	bool collect_md = false;
};

// The device of the IPv4 default route (main table) and the MTU packets take on it.
struct Uplink {
	std::string name;
	uint32_t mtu = 0;  // the route's mtu metric when set, else the device's MTU
};

class Rtnl {
public:
	static Result<Rtnl> open();

	Result<std::optional<LinkInfo>> link(const std::string &name);
	// ipip with IFLA_IPTUN_COLLECT_METADATA ("external"), or a sit tunnel
	// with any local and remote address.
	Result<void> create_ipip_external(const std::string &name);
	Result<void> create_sit_any(const std::string &name);
	Result<void> set_up(const std::string &name, int ifindex, bool up);
	Result<void> delete_link(const std::string &name, int ifindex);

	// Adds ADDRESS/prefix on ifindex; Ok(false) when it is already there.
	Result<bool> add_address(const std::string &dev, int ifindex,
				 const IpAddress &address, uint8_t prefix);
	Result<void> del_address(const std::string &dev, int ifindex,
				 const IpAddress &address, uint8_t prefix);
	// The networks of the IPv4 addresses on every device but skip_ifindex
	// (host-scope addresses left out), e.g. 10.0.0.0/24 for 10.0.0.11/24.
	Result<std::vector<IpPrefix>> ipv4_networks(int skip_ifindex);

	// The IPv4 default route's device; without one, the up Ethernet device with the
	// smallest MTU; nullopt when there is neither (options.mss: auto then assumes 1500).
	Result<std::optional<Uplink>> uplink();

private:
	explicit Rtnl(Netlink nl) : nl_(std::move(nl)) {}
	Result<void> create_tunnel(const std::string &name, const char *kind, bool external);
	Result<std::optional<Uplink>> smallest_ethernet();

	Netlink nl_;
};

}  // namespace tandem::proxy
