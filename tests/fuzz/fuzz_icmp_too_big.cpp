// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: any bytes as a too-big frame the director answers. build_too_big_reply
// must never read or write outside the buffer, must leave it untouched unless it replies,
// and a reply must be one well-formed ICMP error within the RFC's size.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "bytes.h"
#include "icmp_too_big.h"

using namespace tandem;

static uint16_t sum16(const uint8_t *p, size_t n, uint32_t s = 0)
{
	for (; n >= 2; p += 2, n -= 2)
		s += load_be16(p);
	if (n)
		s += uint32_t{p[0]} << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return static_cast<uint16_t>(s);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	// The first two bytes pick the headroom (0..255) and the announced MTU.
	const uint32_t headroom = data[0];
	const uint32_t mtu = uint32_t{data[1]} * 40;
	data += 2;
	size -= 2;
	std::vector<uint8_t> buf(headroom + size);
	std::memcpy(buf.data() + headroom, data, size);
	const std::vector<uint8_t> before = buf;
	const TooBigAnswer cls = classify_too_big(buf.data() + headroom, static_cast<uint32_t>(size));
	const TooBigReply r = build_too_big_reply(buf.data(), static_cast<uint32_t>(buf.size()), headroom,
						  static_cast<uint32_t>(size), mtu);
	if (r.answer != TooBigAnswer::reply) {
		if (buf != before)
			abort();
		return 0;
	}
	if (cls != TooBigAnswer::reply || r.offset > buf.size() || r.length > buf.size() - r.offset)
		abort();
	const uint8_t *e = buf.data() + r.offset;
	const size_t l2 = load_be16(e + 12) == 0x8100 ? 18 : 14;
	const uint8_t *ip = e + l2;
	if ((ip[0] >> 4) == 4) {
		if (r.length > l2 + icmp4_max_reply || sum16(ip, 20) != 0xffff ||
		    sum16(ip + 20, r.length - l2 - 20) != 0xffff || load_be16(ip + 2) != r.length - l2)
			abort();
	} else {
		const uint32_t plen = r.length - static_cast<uint32_t>(l2) - 40;
		if (r.length > l2 + icmp6_max_reply || load_be16(ip + 4) != plen ||
		    sum16(ip + 40, plen, sum16(ip + 8, 32) + plen + 58) != 0xffff)
			abort();
	}
	return 0;
}
