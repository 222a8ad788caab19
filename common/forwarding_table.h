// SPDX-License-Identifier: Apache-2.0
// The rendezvous-hashed forwarding table: 65536 rows, each the first k backends of that
// row's order, with draining or unhealthy ones moved behind the rest (DESIGN.md).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "ip_address.h"
#include "siphash.h"

namespace tandem {

enum class BackendState : uint8_t { active, filling, draining, inactive };

std::string_view to_string(BackendState s);

struct Backend {
	IpAddress address;
	BackendState state = BackendState::active;
	bool healthy = true;

	bool in_table() const { return state != BackendState::inactive; }
	// Kept in its rows for the second chance, but behind every member that is not.
	bool is_bad() const { return state == BackendState::draining || !healthy; }
	bool operator==(const Backend &) const = default;
};

inline constexpr uint32_t table_rows = 65536;
inline constexpr unsigned max_hops_per_row = 8;

class ForwardingTable {
public:
	ForwardingTable() = default;

	enum class Order : uint8_t {
		bad_behind,  // Tandem's table: draining or unhealthy members behind the others
		score_only,  // the plain rendezvous order (GLB's export applies its own swap)
	};

	// hops_per_row must be in [1, max_hops_per_row] and backends fewer than 65536
	// (the config validates both). Rows are as wide as min(k, backends in the table).
	static ForwardingTable build(const SipKey &seed, std::vector<Backend> backends,
				     unsigned hops_per_row, Order order = Order::bad_behind);

	unsigned width() const { return width_; }
	std::span<const uint16_t> row(uint32_t r) const
	{
		return {cells_.data() + size_t{r} * width_, width_};
	}
	const std::vector<Backend> &backends() const { return backends_; }

private:
	std::vector<Backend> backends_;
	std::vector<uint16_t> cells_;  // table_rows * width_ backend indices
	unsigned width_ = 0;
};

// The score order of every backend in the table for one row, GLB's sort, without the
// bad-member partition. For tools and tests; the builder uses a partial selection.
std::vector<uint16_t> rendezvous_order(const SipKey &seed, std::span<const Backend> backends,
				       uint32_t row);

// SipHash-2-4(seed, row as 4 bytes big-endian): the first 8 bytes every score hashes.
uint64_t row_seed(const SipKey &seed, uint32_t row) noexcept;

// The backend's score for a row, its 8 output bytes read as a big-endian number.
uint64_t backend_score(const SipKey &seed, uint64_t row_seed, const IpAddress &address) noexcept;

}  // namespace tandem
