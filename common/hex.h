// SPDX-License-Identifier: Apache-2.0
// Hex digits to bytes, for keys, MAC addresses and frames given on a command line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tandem {

// 0..15 for [0-9a-fA-F], else -1.
int hex_digit_value(char c);

// An even number of hex digits and nothing else; nullopt otherwise.
std::optional<std::vector<uint8_t>> parse_hex(std::string_view hex);

// Lower-case hex, two digits a byte.
std::string format_hex(const uint8_t *bytes, size_t len);

}  // namespace tandem
