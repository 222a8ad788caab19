// SPDX-License-Identifier: Apache-2.0
#include "flow_hash.h"

#include <cstring>

#include "bytes.h"

namespace tandem {

bool HashFields::enable(std::string_view field)
{
	if (field == "src_addr")
		src_addr = true;
	else if (field == "dst_addr")
		dst_addr = true;
	else if (field == "src_port")
		src_port = true;
	else if (field == "dst_port")
		dst_port = true;
	else
		return false;
	return true;
}

std::string HashFields::to_string() const
{
	std::string s;
	auto add = [&](bool on, const char *name) {
		if (!on)
			return;
		if (!s.empty())
			s += ", ";
		s += name;
	};
	add(src_addr, "src_addr");
	add(dst_addr, "dst_addr");
	add(src_port, "src_port");
	add(dst_port, "dst_port");
	return s;
}

uint64_t flow_hash(const SipKey &key, const HashFields &fields, const ParsedPacket &pkt) noexcept
{
	uint8_t buf[16 + 16 + 2 + 2];
	size_t n = 0, a = pkt.address_size();
	if (fields.src_addr) {
		std::memcpy(buf + n, pkt.src.data(), a);
		n += a;
	}
	if (fields.dst_addr) {
		std::memcpy(buf + n, pkt.dst.data(), a);
		n += a;
	}
	if (fields.src_port) {
		store_be16(buf + n, pkt.src_port);
		n += 2;
	}
	if (fields.dst_port) {
		store_be16(buf + n, pkt.dst_port);
		n += 2;
	}
	return siphash24(key, buf, n);
}

}  // namespace tandem
