// SPDX-License-Identifier: Apache-2.0
#include "hex.h"

namespace tandem {

int hex_digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

std::optional<std::vector<uint8_t>> parse_hex(std::string_view hex)
{
	if (hex.size() % 2 != 0)
		return std::nullopt;
	std::vector<uint8_t> out;
	out.reserve(hex.size() / 2);
	for (size_t i = 0; i < hex.size(); i += 2) {
		int hi = hex_digit_value(hex[i]), lo = hex_digit_value(hex[i + 1]);
		if (hi < 0 || lo < 0)
			return std::nullopt;
		out.push_back(static_cast<uint8_t>(hi << 4 | lo));
	}
	return out;
}

std::string format_hex(const uint8_t *bytes, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	std::string out;
	out.reserve(2 * len);
	for (size_t i = 0; i < len; i++) {
		out += digits[bytes[i] >> 4];
		out += digits[bytes[i] & 15];
	}
	return out;
}

}  // namespace tandem
