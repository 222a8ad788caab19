// SPDX-License-Identifier: Apache-2.0
#include "table_report.h"

#include <algorithm>

namespace tandem {

TableReport report_table(const ForwardingTable &table)
{
	TableReport rep;
	rep.width = table.width();
	const auto &backends = table.backends();
	const size_t n = backends.size();
	for (const Backend &b : backends)
		rep.backends.push_back(BackendShare{b});

	std::vector<uint32_t> pairs(n * n, 0);  // [first][second] row counts
	for (uint32_t r = 0; r < table_rows; r++) {
		auto row = table.row(r);
		for (uint16_t b : row)
			rep.backends[b].any_hop_rows++;
		if (row.empty())
			continue;
		rep.backends[row[0]].first_hop_rows++;
		if (row.size() > 1)
			pairs[size_t{row[0]} * n + row[1]]++;
	}

	uint32_t max_first = 0, eligible = 0;
	for (size_t i = 0; i < n; i++) {
		BackendShare &s = rep.backends[i];
		uint32_t lo = UINT32_MAX, hi = 0;
		for (size_t j = 0; j < n; j++) {
			uint32_t c = pairs[i * n + j];
			if (c == 0)
				continue;
			s.second_hops++;
			lo = std::min(lo, c);
			hi = std::max(hi, c);
		}
		s.second_hop_min_rows = s.second_hops ? lo : 0;
		s.second_hop_max_rows = hi;
		max_first = std::max(max_first, s.first_hop_rows);
		if (s.backend.in_table() && !s.backend.is_bad())
			eligible++;
	}
	if (eligible > 0)
		rep.balance = max_first / (double(table_rows) / eligible);
	return rep;
}

}  // namespace tandem
