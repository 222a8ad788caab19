// SPDX-License-Identifier: Apache-2.0
// /etc/tandem/proxy.yaml: what a proxy host needs to receive Tandem (and
// GLB) GUE traffic. See packaging/proxy.yaml for the documented example.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ip_address.h"
#include "result.h"

namespace tandem::proxy {

// options.mss: how SYN-ACKs from the VIPs are clamped (see mss_clamp.h).
enum class MssMode : uint8_t {
	automatic,  // from the uplink MTU minus the director's overhead for mss_hops hops
	fixed,      // mss_value for IPv4 VIPs, 20 less for IPv6 ones
	off,
};

struct ProxyConfig {
	std::string file;             // where it came from, for messages
	uint16_t gue_port = 19523;    // GLB's port
	std::vector<IpAddress> vips;  // IPv4 and IPv6
	// Who may send GUE (directors and proxies) and the only hops packets are
	// forwarded to: IPv4 prefixes. Unset (no `sources:`): the prefixes of the
	// host's own IPv4 addresses, decided at `up` (see packaging/proxy.yaml).
	std::optional<std::vector<IpPrefix>> sources;
	bool enabled = true;          // second chance on (module hook)
	std::string vip_device = "lo";
	std::string ipv4_tunnel = "tandem4";  // ipip, external (collect_md) mode
	std::string ipv6_tunnel = "tandem6";  // sit, only when sit0 is absent
	bool arp_sysctls = true;      // arp_ignore=1 / arp_announce=2 (all)
	MssMode mss = MssMode::automatic;
	uint16_t mss_value = 0;       // MssMode::fixed
	unsigned mss_hops = 2;        // MssMode::automatic: the directors' hops per packet
	bool conntrack_local = false; // take flows conntrack knows (DNAT to other netns)

	bool has_v6() const;
};

// Parses YAML text; errors read "FILE:LINE:COLUMN: FIELD: message".
Result<ProxyConfig> parse_proxy_config(const std::string &text, const std::string &file);
Result<ProxyConfig> load_proxy_config(const std::string &file);

}  // namespace tandem::proxy
