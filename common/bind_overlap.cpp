// SPDX-License-Identifier: Apache-2.0
// Two binds overlap when one prefix holds the other and a port range meets one of the
// other's. Prefixes nest or are disjoint, so the earlier binds a new one can meet sit at
// one of its ancestors (or its own prefix), or below it. Per (protocol, prefix) two port
// covers are kept: `exact`, the ports of the binds at that prefix, and `below`, the ports
// of every bind at that prefix or inside it. A new bind at P asks `exact` of each ancestor
// of P (only at the lengths some bind uses) and `below` of P; then it adds its ports to
// `exact` at P and to `below` at P and its ancestors. Each step is a map lookup, so n binds
// with L distinct prefix lengths cost O(n L log n).
#include "bind_overlap.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <utility>

namespace tandem {
namespace {

// The ports covered so far and, for each covered port, one bind that covers it. `merged_`
// is the union as disjoint, non-touching intervals, so an add walks only intervals it
// then swallows; `owned_` splits the union into pieces that each name their first owner.
class PortCover {
public:
	std::optional<size_t> owner_of_any(const PortRange &r) const
	{
		auto it = owned_.upper_bound(r.last);
		if (it == owned_.begin())
			return std::nullopt;
		--it;  // the last piece starting at or before r.last; earlier ones end before it
		if (it->second.last < r.first)
			return std::nullopt;
		return it->second.owner;
	}

	void add(const PortRange &r, size_t owner)
	{
		const uint32_t lo = r.first, hi = r.last;
		auto it = merged_.upper_bound(lo);
		if (it != merged_.begin() && std::prev(it)->second + 1 >= lo)
			--it;  // an interval that holds lo or ends just before it
		uint32_t cursor = lo;  // the first port of [lo, hi] not yet known to be covered
		uint32_t new_lo = lo, new_hi = hi;
		while (it != merged_.end() && it->first <= hi + 1) {
			if (it->first > cursor)
				owned_.emplace(cursor, Piece{it->first - 1, owner});
			cursor = std::max(cursor, it->second + 1);
			new_lo = std::min(new_lo, it->first);
			new_hi = std::max(new_hi, it->second);
			it = merged_.erase(it);
		}
		if (cursor <= hi)
			owned_.emplace(cursor, Piece{hi, owner});
		merged_.emplace(new_lo, new_hi);
	}

private:
	struct Piece {
		uint32_t last;
		size_t owner;
	};
	std::map<uint32_t, uint32_t> merged_;  // first -> last
	std::map<uint32_t, Piece> owned_;      // first -> piece
};

IpPrefix truncated(const IpPrefix &p, uint8_t length)
{
	IpPrefix out = p;
	out.length = length;
	for (size_t bit = length; bit < out.address.size() * 8; bit++)
		out.address.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
	return out;
}

using NodeKey = std::pair<Protocol, IpPrefix>;

}  // namespace

std::vector<std::optional<size_t>> earlier_overlaps(std::span<const Bind *const> binds)
{
	std::set<uint8_t> lengths[2];  // used prefix lengths, [0] IPv4, [1] IPv6
	for (const Bind *b : binds)
		lengths[b->prefix.address.is_v4() ? 0 : 1].insert(b->prefix.length);

	std::map<NodeKey, PortCover> exact, below;
	std::vector<std::optional<size_t>> out(binds.size());
	for (size_t i = 0; i < binds.size(); i++) {
		const Bind &b = *binds[i];
		const std::set<uint8_t> &lens = lengths[b.prefix.address.is_v4() ? 0 : 1];
		auto note = [&](const std::map<NodeKey, PortCover> &m, const NodeKey &k,
				const PortRange &r) {
			auto it = m.find(k);
			if (it == m.end())
				return;
			if (auto o = it->second.owner_of_any(r); o && (!out[i] || *o < *out[i]))
				out[i] = o;
		};
		for (const PortRange &r : b.ports) {
			for (uint8_t len : lens) {
				if (len > b.prefix.length)
					break;
				note(exact, {b.protocol, truncated(b.prefix, len)}, r);
			}
			note(below, {b.protocol, b.prefix}, r);
		}
		for (const PortRange &r : b.ports) {
			exact[{b.protocol, b.prefix}].add(r, i);
			for (uint8_t len : lens) {
				if (len > b.prefix.length)
					break;
				below[{b.protocol, truncated(b.prefix, len)}].add(r, i);
			}
		}
	}
	return out;
}

}  // namespace tandem
