// SPDX-License-Identifier: Apache-2.0
// GLB's flow hash: SipHash-2-4 over the enabled fields, and the GUE source port rule.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "packet.h"
#include "siphash.h"

namespace tandem {

struct HashFields {
	bool src_addr = true;  // GLB's default: the client address alone
	bool dst_addr = false;
	bool src_port = false;
	bool dst_port = false;

	bool uses_ports() const { return src_port || dst_port; }
	bool empty() const { return !(src_addr || dst_addr || src_port || dst_port); }
	// "src_addr", "dst_addr", "src_port", "dst_port"; false for anything else.
	bool enable(std::string_view field);
	std::string to_string() const;  // "src_addr, src_port"
	bool operator==(const HashFields &) const = default;
};

inline constexpr uint32_t table_row_mask = 0xffff;

// Hashes, in order: source address, destination address, source port, destination port.
uint64_t flow_hash(const SipKey &key, const HashFields &fields, const ParsedPacket &pkt) noexcept;

inline uint16_t gue_source_port(uint64_t flow_hash, uint16_t hint) noexcept
{
	return static_cast<uint16_t>(0x8000 | ((flow_hash ^ hint) & 0x7fff));
}

}  // namespace tandem
