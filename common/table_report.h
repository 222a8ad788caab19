// SPDX-License-Identifier: Apache-2.0
// What a forwarding table does to each backend: rows it is first in, rows it is in at all,
// how its rows' second hops spread, and the balance of first hops.
#pragma once

#include <cstdint>
#include <vector>

#include "forwarding_table.h"

namespace tandem {

struct BackendShare {
	Backend backend;
	uint32_t first_hop_rows = 0;
	uint32_t any_hop_rows = 0;
	// Over the rows where this backend is first: how many distinct second hops, and the
	// fewest and most rows any one of them gets.
	uint32_t second_hops = 0;
	uint32_t second_hop_min_rows = 0;
	uint32_t second_hop_max_rows = 0;
};

struct TableReport {
	unsigned width = 0;
	std::vector<BackendShare> backends;
	// Most first-hop rows of one backend over the mean of the backends that can be first
	// (in the table and not draining or unhealthy). 1.0 is perfect; 0 when none can be.
	double balance = 0;
};

TableReport report_table(const ForwardingTable &table);

}  // namespace tandem
