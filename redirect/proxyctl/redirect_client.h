// SPDX-License-Identifier: Apache-2.0
// Client of the tandem_redirect generic netlink family
// (redirect/include/tandem_redirect_nl.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "genl_family.h"
#include "ip_address.h"
#include "netlink.h"

namespace tandem::proxy {

struct RedirectConfig {
	bool enabled = false;
	std::vector<uint16_t> ports;
	std::vector<IpPrefix> sources;  // empty: GUE from and to any address
	bool conntrack_local = false;
	std::string module_version;
};

struct Counter {
	std::string name;
	uint64_t value = 0;
};

// One CPU's raw counters (monotonic since the module was loaded).
struct CpuCounters {
	uint32_t cpu = 0;
	std::vector<Counter> counters;
};

// "10.0.0.0/24,192.0.2.1/32" (empty for none) and back; parse returns
// nullopt on anything that is not such a list of IPv4 prefixes.
std::string join_prefixes(const std::vector<IpPrefix> &prefixes);
std::optional<std::vector<IpPrefix>> parse_prefixes(const std::string &csv);

// Name of counter attribute `id` as tandem-proxyctl prints it.
const char *counter_name(int id);

class RedirectClient {
public:
	// Fails with a message that says what to do when the module is not
	// loaded or speaks another version of the interface.
	static Result<RedirectClient> connect();

	Result<RedirectConfig> get_config();
	// Only what is given changes; sources: IPv4 prefixes (empty: any).
	Result<void> set_config(std::optional<bool> enabled,
				const std::optional<std::vector<uint16_t>> &ports,
				const std::optional<std::vector<IpPrefix>> &sources = std::nullopt,
				std::optional<bool> conntrack_local = std::nullopt);
	Result<std::vector<Counter>> counters();
	Result<std::vector<CpuCounters>> counters_per_cpu();
	Result<void> reset_counters();

private:
	RedirectClient(Netlink nl, GenlFamily family)
		: nl_(std::move(nl)), family_(family) {}
	Result<void> simple(uint8_t cmd, const char *what);

	Netlink nl_;
	GenlFamily family_;
};

}  // namespace tandem::proxy
