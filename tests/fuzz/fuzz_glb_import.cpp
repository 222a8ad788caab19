// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: any bytes as GLB's forwarding_table.json, and after a NUL byte as its
// director config.json, through glb import. Must return YAML or an error, never crash; the
// YAML must load or be refused with its own file name, and what loads must hold exactly
// the tables, binds and backends of the JSON (no string may add YAML of its own).
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "config.h"
#include "glb_format.h"

using namespace tandem;

static size_t array_size(const nlohmann::json &o, const char *key)
{
	auto it = o.find(key);
	return it != o.end() && it->is_array() ? it->size() : SIZE_MAX;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 8192)
		return 0;  // long inputs only slow the search down
	std::string_view all(reinterpret_cast<const char *>(data), size);
	auto nul = all.find('\0');
	std::string_view table = all.substr(0, nul);
	std::optional<std::string_view> director;
	if (nul != std::string_view::npos)
		director = all.substr(nul + 1);

	auto yaml = glb_import(table, director);
	if (!yaml.ok()) {
		if (yaml.error().message.rfind("GLB forwarding table: ", 0) != 0)
			abort();
		return 0;
	}
	auto cfg = parse_config(*yaml, "imported.yaml");
	if (!cfg.ok()) {
		if (cfg.error().message.rfind("imported.yaml", 0) != 0)
			abort();
		return 0;
	}
	// It imported, so it is an object with a "tables" list of objects.
	auto root = nlohmann::json::parse(table, nullptr, false);
	const auto &tables = root["tables"];
	if (cfg->services.size() != tables.size())
		abort();
	for (size_t t = 0; t < tables.size(); t++) {
		const ServiceConfig &s = cfg->services[t];
		if (s.binds.size() != array_size(tables[t], "binds") ||
		    s.backends.size() != array_size(tables[t], "backends"))
			abort();
	}
	return 0;
}
