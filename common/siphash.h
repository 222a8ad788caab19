// SPDX-License-Identifier: Apache-2.0
// SipHash-2-4 (Aumasson & Bernstein), the hash GLB uses for flows and for its table.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace tandem {

using SipKey = std::array<uint8_t, 16>;

// The 64-bit value whose little-endian bytes are the reference implementation's output.
uint64_t siphash24(const SipKey &key, const uint8_t *data, size_t len) noexcept;

// The same hash, split so that a fixed prefix of whole 8-byte blocks is absorbed once and
// reused: the table builder hashes (row seed || address) for every backend of a row.
class SipState {
public:
	explicit SipState(const SipKey &key) noexcept;
	void absorb_block(uint64_t m) noexcept;  // one 8-byte block, read little-endian
	// Hashes the remaining bytes (any length); total_len counts every byte ever absorbed.
	uint64_t finish(const uint8_t *tail, size_t tail_len, size_t total_len) const noexcept;

private:
	uint64_t v0_, v1_, v2_, v3_;
};

}  // namespace tandem
