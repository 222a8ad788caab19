// SPDX-License-Identifier: Apache-2.0
#include "forwarding_table.h"

#include <algorithm>
#include <array>

#include "bytes.h"

namespace tandem {

std::string_view to_string(BackendState s)
{
	switch (s) {
	case BackendState::active:
		return "active";
	case BackendState::filling:
		return "filling";
	case BackendState::draining:
		return "draining";
	case BackendState::inactive:
		return "inactive";
	}
	return "unknown";
}

uint64_t row_seed(const SipKey &seed, uint32_t row) noexcept
{
	uint8_t be[4];
	store_be32(be, row);
	return siphash24(seed, be, sizeof(be));
}

// Every score of a row starts with the same 8-byte block, the row seed: absorb it once.
static uint64_t score_after_prefix(const SipState &prefixed, const IpAddress &address) noexcept
{
	auto bytes = address.view();
	return __builtin_bswap64(prefixed.finish(bytes.data(), bytes.size(), 8 + bytes.size()));
}

uint64_t backend_score(const SipKey &seed, uint64_t row_seed_value, const IpAddress &address) noexcept
{
	SipState st(seed);
	st.absorb_block(row_seed_value);
	return score_after_prefix(st, address);
}

std::vector<uint16_t> rendezvous_order(const SipKey &seed, std::span<const Backend> backends,
				       uint32_t row)
{
	uint64_t rs = row_seed(seed, row);
	std::vector<std::pair<uint64_t, uint16_t>> scored;
	for (size_t i = 0; i < backends.size(); i++)
		if (backends[i].in_table())
			scored.emplace_back(backend_score(seed, rs, backends[i].address),
					    static_cast<uint16_t>(i));
	std::sort(scored.begin(), scored.end());
	std::vector<uint16_t> order;
	for (auto &[score, index] : scored)
		order.push_back(index);
	return order;
}

ForwardingTable ForwardingTable::build(const SipKey &seed, std::vector<Backend> backends,
				       unsigned hops_per_row, Order order)
{
	ForwardingTable t;
	t.backends_ = std::move(backends);

	std::vector<uint16_t> candidates;
	for (size_t i = 0; i < t.backends_.size(); i++)
		if (t.backends_[i].in_table())
			candidates.push_back(static_cast<uint16_t>(i));
	const unsigned k = std::min<unsigned>(std::min(hops_per_row, max_hops_per_row),
					      static_cast<unsigned>(candidates.size()));
	t.width_ = k;
	if (k == 0)
		return t;
	t.cells_.resize(size_t{table_rows} * k);

	const SipState base(seed);
	std::array<uint64_t, max_hops_per_row> best_score;
	std::array<uint16_t, max_hops_per_row> best;
	for (uint32_t r = 0; r < table_rows; r++) {
		SipState st = base;
		st.absorb_block(row_seed(seed, r));

		// Partial selection: keep the k lowest scores in order, by insertion.
		unsigned n = 0;
		for (uint16_t b : candidates) {
			uint64_t s = score_after_prefix(st, t.backends_[b].address);
			if (n == k && s >= best_score[k - 1])
				continue;
			unsigned pos = n < k ? n++ : k - 1;
			while (pos > 0 && best_score[pos - 1] > s) {
				best_score[pos] = best_score[pos - 1];
				best[pos] = best[pos - 1];
				pos--;
			}
			best_score[pos] = s;
			best[pos] = b;
		}

		uint16_t *out = t.cells_.data() + size_t{r} * k;
		if (order == Order::score_only) {
			std::copy(best.begin(), best.begin() + k, out);
			continue;
		}
		// One stable partition: bad members go behind the others, keeping their order.
		unsigned w = 0;
		for (unsigned i = 0; i < k; i++)
			if (!t.backends_[best[i]].is_bad())
				out[w++] = best[i];
		for (unsigned i = 0; i < k; i++)
			if (t.backends_[best[i]].is_bad())
				out[w++] = best[i];
	}
	return t;
}

}  // namespace tandem
