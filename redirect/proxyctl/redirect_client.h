// SPDX-License-Identifier: Apache-2.0
// Client of the tandem_redirect generic netlink family
// (redirect/include/tandem_redirect_nl.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "genl_family.h"
#include "netlink.h"

namespace tandem::proxy {

struct RedirectConfig {
	bool enabled = false;
	std::vector<uint16_t> ports;
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

// Name of counter attribute `id` as tandem-proxyctl prints it.
const char *counter_name(int id);

class RedirectClient {
public:
	// Fails with a message that says what to do when the module is not
	// loaded or speaks another version of the interface.
	static Result<RedirectClient> connect();

	Result<RedirectConfig> get_config();
	Result<void> set_config(std::optional<bool> enabled,
				const std::optional<std::vector<uint16_t>> &ports);
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
