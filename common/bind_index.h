// SPDX-License-Identifier: Apache-2.0
// The exact binds of a ServiceSet in one hash table: (VIP address, protocol, port) -> the
// service, in one probe instead of a scan of every bind. Built from the binds with a
// single address and at most max_indexed_ports ports; each key's value is what the scan
// of all binds in configuration order answers for it, so the index never disagrees with
// the scan. A packet whose key is absent matches none of the indexed binds, and only the
// other binds (prefixes, wide port ranges) are left to scan.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <vector>

#include "packet.h"

namespace tandem {

struct CompiledBind;

class BindIndex {
public:
	static constexpr uint32_t max_indexed_ports = 1024;
	static constexpr int absent = -2;

	BindIndex() = default;
	// `scan` is the reference match over all binds; `indexed[i]` is set for the binds the
	// index covers.
	static BindIndex build(const std::vector<CompiledBind> &binds,
			       const std::function<int(const ParsedPacket &)> &scan,
			       std::vector<bool> &indexed);

	// The service (or -1: none) when the packet's key is indexed, else `absent`.
	int lookup(const ParsedPacket &pkt) const noexcept;
	bool empty() const { return entries_ == 0; }

private:
	struct Key {
		std::array<uint8_t, 16> address{};
		uint8_t family = 0;
		uint8_t protocol = 0;
		uint8_t kind = 0;  // 0: TCP/UDP and ICMP errors (port); 1: echo; 2: later fragment
		uint8_t pad = 0;
		uint16_t port = 0;
		uint16_t used = 0;  // 1 in an occupied slot
		bool operator==(const Key &) const = default;
	};
	struct Slot {
		Key key;
		int32_t service = -1;
	};
	static Key key_of(const ParsedPacket &pkt) noexcept;
	static uint64_t hash(const Key &k) noexcept;
	void insert(const Key &k, int service);

	std::vector<Slot> slots_;
	uint64_t mask_ = 0;
	uint32_t entries_ = 0;
};

}  // namespace tandem
