// SPDX-License-Identifier: Apache-2.0
#include "siphash.h"

#include "bytes.h"

namespace tandem {

static inline uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static inline void sip_round(uint64_t &v0, uint64_t &v1, uint64_t &v2, uint64_t &v3)
{
	v0 += v1;
	v1 = rotl(v1, 13);
	v1 ^= v0;
	v0 = rotl(v0, 32);
	v2 += v3;
	v3 = rotl(v3, 16);
	v3 ^= v2;
	v0 += v3;
	v3 = rotl(v3, 21);
	v3 ^= v0;
	v2 += v1;
	v1 = rotl(v1, 17);
	v1 ^= v2;
	v2 = rotl(v2, 32);
}

SipState::SipState(const SipKey &key) noexcept
{
	uint64_t k0 = load_le64(key.data()), k1 = load_le64(key.data() + 8);
	v0_ = 0x736f6d6570736575ULL ^ k0;
	v1_ = 0x646f72616e646f6dULL ^ k1;
	v2_ = 0x6c7967656e657261ULL ^ k0;
	v3_ = 0x7465646279746573ULL ^ k1;
}

void SipState::absorb_block(uint64_t m) noexcept
{
	v3_ ^= m;
	sip_round(v0_, v1_, v2_, v3_);
	sip_round(v0_, v1_, v2_, v3_);
	v0_ ^= m;
}

uint64_t SipState::finish(const uint8_t *tail, size_t tail_len, size_t total_len) const noexcept
{
	uint64_t v0 = v0_, v1 = v1_, v2 = v2_, v3 = v3_;
	auto compress = [&](uint64_t m) {
		v3 ^= m;
		sip_round(v0, v1, v2, v3);
		sip_round(v0, v1, v2, v3);
		v0 ^= m;
	};
	while (tail_len >= 8) {
		compress(load_le64(tail));
		tail += 8;
		tail_len -= 8;
	}
	uint64_t last = uint64_t{static_cast<uint8_t>(total_len)} << 56;
	for (size_t i = 0; i < tail_len; i++)
		last |= uint64_t{tail[i]} << (8 * i);
	compress(last);
	v2 ^= 0xff;
	for (int i = 0; i < 4; i++)
		sip_round(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t siphash24(const SipKey &key, const uint8_t *data, size_t len) noexcept
{
	return SipState(key).finish(data, len, len);
}

}  // namespace tandem
