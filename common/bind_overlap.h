// SPDX-License-Identifier: Apache-2.0
// Which binds overlap an earlier one (same protocol, nested prefixes, a port in common), in
// O(n log n) for a configuration's usual few prefix lengths instead of comparing every
// pair: a file of thousands of equal binds must give one answer per bind, not one per pair.
// Internal to the config loader; pure, so it has its own unit test.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "config.h"

namespace tandem {

// For each bind, in order: the index of an earlier bind it overlaps (Bind::overlaps), or
// nullopt. When several earlier binds overlap it, one of them is named (not always the
// first); a bind is never compared with itself.
std::vector<std::optional<size_t>> earlier_overlaps(std::span<const Bind *const> binds);

}  // namespace tandem
