// SPDX-License-Identifier: Apache-2.0
#include "test_support.h"

#include "bytes.h"
#include "gue.h"

namespace tandem::test {

static void ethernet(std::vector<uint8_t> &f, uint16_t type)
{
	const uint8_t macs[12] = {0x52, 0x54, 0, 0x12, 0x35, 2, 0x08, 0, 0x27, 0x8d, 0xc0, 0x4d};
	f.insert(f.end(), macs, macs + 12);
	f.push_back(static_cast<uint8_t>(type >> 8));
	f.push_back(static_cast<uint8_t>(type));
}

std::vector<uint8_t> tcp_frame_v4(const std::string &src, uint16_t sport, const std::string &dst,
				  uint16_t dport, uint8_t flags, size_t payload)
{
	std::vector<uint8_t> f;
	ethernet(f, 0x0800);
	size_t ip = f.size();
	f.resize(ip + 40 + payload);
	uint8_t *h = f.data() + ip;
	h[0] = 0x45;
	store_be16(h + 2, static_cast<uint16_t>(40 + payload));
	store_be16(h + 4, 1);
	h[8] = 64;
	h[9] = 6;
	std::memcpy(h + 12, IpAddress::parse(src)->bytes.data(), 4);
	std::memcpy(h + 16, IpAddress::parse(dst)->bytes.data(), 4);
	store_be16(h + 10, ipv4_header_checksum(h, 20));
	store_be16(h + 20, sport);
	store_be16(h + 22, dport);
	h[32] = 0x50;
	h[33] = flags;
	store_be16(h + 34, 8192);
	return f;
}

std::vector<uint8_t> udp_frame_v6(const std::string &src, uint16_t sport, const std::string &dst,
				  uint16_t dport, size_t payload)
{
	std::vector<uint8_t> f;
	ethernet(f, 0x86dd);
	size_t ip = f.size();
	f.resize(ip + 48 + payload);
	uint8_t *h = f.data() + ip;
	h[0] = 0x60;
	store_be16(h + 4, static_cast<uint16_t>(8 + payload));
	h[6] = 17;
	h[7] = 64;
	std::memcpy(h + 8, IpAddress::parse(src)->bytes.data(), 16);
	std::memcpy(h + 24, IpAddress::parse(dst)->bytes.data(), 16);
	store_be16(h + 40, sport);
	store_be16(h + 42, dport);
	store_be16(h + 44, static_cast<uint16_t>(8 + payload));
	return f;
}

}  // namespace tandem::test
