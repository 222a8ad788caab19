// SPDX-License-Identifier: Apache-2.0
#include "ip_address.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace tandem {

std::optional<IpAddress> IpAddress::parse(std::string_view text)
{
	char buf[INET6_ADDRSTRLEN + 1];
	if (text.empty() || text.size() >= sizeof(buf))
		return std::nullopt;
	std::memcpy(buf, text.data(), text.size());
	buf[text.size()] = '\0';

	IpAddress a;
	if (text.find(':') == std::string_view::npos) {
		a.family = Family::v4;
		if (inet_pton(AF_INET, buf, a.bytes.data()) != 1)
			return std::nullopt;
	} else {
		a.family = Family::v6;
		if (inet_pton(AF_INET6, buf, a.bytes.data()) != 1)
			return std::nullopt;
	}
	return a;
}

IpAddress IpAddress::from_v4(uint32_t network_order_bytes)
{
	IpAddress a;
	std::memcpy(a.bytes.data(), &network_order_bytes, 4);
	return a;
}

IpAddress IpAddress::from_bytes(Family family, const uint8_t *raw)
{
	IpAddress a;
	a.family = family;
	std::memcpy(a.bytes.data(), raw, family == Family::v4 ? 4 : 16);
	return a;
}

uint32_t IpAddress::v4_raw() const
{
	uint32_t v;
	std::memcpy(&v, bytes.data(), 4);
	return v;
}

std::string IpAddress::to_string() const
{
	char buf[INET6_ADDRSTRLEN];
	inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes.data(), buf, sizeof(buf));
	return buf;
}

static bool prefix_match(const IpAddress &a, const IpAddress &b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;
	if (std::memcmp(a.bytes.data(), b.bytes.data(), full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
	return (a.bytes[full] & mask) == (b.bytes[full] & mask);
}

std::optional<WrittenPrefix> WrittenPrefix::parse(std::string_view text)
{
	auto slash = text.find('/');
	auto addr = IpAddress::parse(text.substr(0, slash));
	if (!addr)
		return std::nullopt;
	unsigned max = addr->size() * 8, len = max;
	if (slash != std::string_view::npos) {
		auto digits = text.substr(slash + 1);
		auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), len);
		if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || len > max)
			return std::nullopt;
	}
	IpAddress masked{};
	masked.family = addr->family;
	for (unsigned bit = 0; bit < len; bit++)
		masked.bytes[bit / 8] |= addr->bytes[bit / 8] & (0x80 >> (bit % 8));
	return WrittenPrefix{IpPrefix{masked, static_cast<uint8_t>(len)}, *addr};
}

std::optional<IpPrefix> IpPrefix::parse(std::string_view text)
{
	auto p = WrittenPrefix::parse(text);
	if (!p || p->has_host_bits())
		return std::nullopt;
	return p->prefix;
}

bool IpPrefix::contains(const IpAddress &a) const
{
	return a.family == address.family && prefix_match(a, address, length);
}

bool IpPrefix::overlaps(const IpPrefix &other) const
{
	if (other.address.family != address.family)
		return false;
	return prefix_match(address, other.address, std::min(length, other.length));
}

std::string IpPrefix::to_string() const
{
	if (is_single_address())
		return address.to_string();
	return address.to_string() + "/" + std::to_string(length);
}

}  // namespace tandem
