// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: any text through the YAML config loader. Must return a config or an
// error, never crash or hang; an accepted config must compile into tables.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config.h"
#include "service_set.h"

using namespace tandem;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;  // long inputs only slow the search down; nothing new is reached
	std::string_view text(reinterpret_cast<const char *>(data), size);
	auto cfg = parse_config(text, "fuzz.yaml");
	if (cfg.ok()) {
		size_t backends = 0;
		for (const auto &s : cfg->services)
			backends += s.backends.size();
		if (backends <= 16 && cfg->services.size() <= 4)
			(void)ServiceSet::compile(cfg->services);
	} else if (cfg.error().message.rfind("fuzz.yaml:", 0) != 0) {
		abort();  // every message names the file
	}
	return 0;
}
