// SPDX-License-Identifier: Apache-2.0
// What a configuration change does to open connections: per service, the rows whose first
// hop changes, the rows that lose every hop they had (no second chance can save those),
// the rows left without a hop that is active and healthy, and whether the change is safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config.h"

namespace tandem {

struct ServiceDiff {
	std::string name;
	bool added = false;
	bool removed = false;
	uint32_t first_hop_changed = 0;  // rows
	uint32_t rows_lost = 0;          // rows whose new hops share none with the old ones
	int example_lost_row = -1;
	// Rows that had an active, healthy hop and have none after (e.g. both hops of a k = 2
	// row draining): their new connections land on a leaving proxy, so it never drains.
	uint32_t rows_without_active = 0;
	int example_without_active = -1;
	std::vector<std::string> unsafe;  // each a reason the change breaks connections
	std::vector<std::string> notes;   // what changes without breaking any
};

struct ConfigDiff {
	std::vector<ServiceDiff> services;
	bool safe() const;
};

ConfigDiff diff_configs(const Config &before, const Config &after);

}  // namespace tandem
