// SPDX-License-Identifier: Apache-2.0
#include "bind_index.h"

#include <bit>
#include <cstring>

#include "service_set.h"

namespace tandem {

BindIndex::Key BindIndex::key_of(const ParsedPacket &pkt) noexcept
{
	Key k;
	k.address = pkt.dst;
	k.family = static_cast<uint8_t>(pkt.family);
	k.used = 1;
	switch (pkt.kind) {
	case PacketKind::transport:
	case PacketKind::icmp_error:
		k.protocol = pkt.protocol;
		k.port = pkt.dst_port;
		break;
	case PacketKind::icmp_echo:
		k.kind = 1;
		break;
	case PacketKind::later_fragment:
		k.kind = 2;
		k.protocol = pkt.protocol;
		break;
	}
	return k;
}

uint64_t BindIndex::hash(const Key &k) noexcept
{
	// Three words through a multiply-xorshift mix: the keys are the operator's own VIPs,
	// not chosen by clients, so no keyed hash is needed.
	uint64_t w[3];
	static_assert(sizeof(Key) == sizeof(w));
	std::memcpy(w, &k, sizeof(w));
	uint64_t h = w[0] * 0x9e3779b97f4a7c15ull;
	h = (h ^ (h >> 29) ^ w[1]) * 0xbf58476d1ce4e5b9ull;
	h = (h ^ (h >> 32) ^ w[2]) * 0x94d049bb133111ebull;
	return h ^ (h >> 31);
}

void BindIndex::insert(const Key &k, int service)
{
	for (uint64_t i = hash(k) & mask_;; i = (i + 1) & mask_) {
		if (slots_[i].key.used == 0) {
			slots_[i] = Slot{k, service};
			entries_++;
			return;
		}
		if (slots_[i].key == k)
			return;  // the same key from another bind: the scan's answer is the same
	}
}

BindIndex BindIndex::build(const std::vector<CompiledBind> &binds,
			   const std::function<int(const ParsedPacket &)> &scan, std::vector<bool> &indexed)
{
	indexed.assign(binds.size(), false);
	std::vector<ParsedPacket> keys;
	for (size_t i = 0; i < binds.size(); i++) {
		const CompiledBind &b = binds[i];
		if (!b.prefix.is_single_address())
			continue;
		uint32_t ports = 0;
		for (const PortRange &r : b.ports)
			ports += uint32_t{r.last} - r.first + 1;
		if (ports > max_indexed_ports)
			continue;
		indexed[i] = true;
		ParsedPacket p;
		p.family = b.prefix.address.family;
		p.dst = b.prefix.address.bytes;
		p.protocol = b.protocol;
		p.kind = PacketKind::transport;
		for (const PortRange &r : b.ports)
			for (uint32_t port = r.first; port <= r.last; port++) {
				p.dst_port = static_cast<uint16_t>(port);
				keys.push_back(p);
			}
		p.dst_port = 0;
		p.kind = PacketKind::later_fragment;
		keys.push_back(p);
		p.kind = PacketKind::icmp_echo;
		p.protocol = p.family == Family::v4 ? 1 : 58;
		keys.push_back(p);
	}
	BindIndex idx;
	if (keys.empty())
		return idx;
	const uint64_t size = std::bit_ceil(keys.size() * 2);
	idx.slots_.resize(size);
	idx.mask_ = size - 1;
	for (const ParsedPacket &p : keys)
		idx.insert(key_of(p), scan(p));
	return idx;
}

int BindIndex::lookup(const ParsedPacket &pkt) const noexcept
{
	if (entries_ == 0)
		return absent;
	const Key k = key_of(pkt);
	for (uint64_t i = hash(k) & mask_;; i = (i + 1) & mask_) {
		const Slot &s = slots_[i];
		if (s.key == k)
			return s.service;
		if (s.key.used == 0)
			return absent;
	}
}

}  // namespace tandem
