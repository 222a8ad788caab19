// SPDX-License-Identifier: Apache-2.0
// GLB Director's own formats: its forwarding_table.json (imported as `services:` YAML) and
// the binary table its `glb-director-cli build-config` writes (format version 2, "GLBD").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config.h"
#include "result.h"

namespace tandem {

inline constexpr uint32_t glb_format_version = 2;
inline constexpr uint32_t glb_max_backends = 256;
inline constexpr uint32_t glb_max_binds = 256;

// GLB's JSON tables as `services:` YAML with GLB's meaning kept: a backend without
// `healthy` is down, both draining and inactive keep their names, and each GLB bind (one
// port range) stays one bind. GLB keeps the hash fields in the director's config.json;
// pass its text to carry `hash_fields` and `alt_hash_fields` over.
Result<std::string> glb_import(std::string_view forwarding_table_json,
			       std::optional<std::string_view> director_config_json = std::nullopt);

// The bytes GLB's build-config writes for the same tables. Each service must have
// hops_per_row 2, at most 256 backends and 256 binds (one per port range), and at least
// two backends that are not inactive (GLB's builder reads a second one unchecked).
Result<std::vector<uint8_t>> glb_export(const Config &config);

}  // namespace tandem
