// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: any text as a configuration through glb export. Must write a table or
// refuse, never crash; what it writes is read back against GLB's layout (the header, each
// table's backends and binds with the address as written, rows that name listed backends
// that are not inactive).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "config.h"
#include "glb_format.h"

using namespace tandem;

static uint32_t le32(const std::vector<uint8_t> &b, size_t off)
{
	return b[off] | b[off + 1] << 8 | b[off + 2] << 16 | uint32_t{b[off + 3]} << 24;
}

static uint16_t le16(const std::vector<uint8_t> &b, size_t off)
{
	return static_cast<uint16_t>(b[off] | b[off + 1] << 8);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	auto cfg = parse_config(std::string_view(reinterpret_cast<const char *>(data), size), "fuzz.yaml");
	if (!cfg.ok() || cfg->services.size() > 2)
		return 0;
	for (const ServiceConfig &s : cfg->services)
		if (s.backends.size() > 8)
			return 0;  // each table is 65536 rows of rendezvous hashing: keep runs short
	auto bin = glb_export(*cfg);
	if (!bin.ok()) {
		if (bin.error().message.find("cannot be written in GLB's format") == std::string::npos)
			abort();
		return 0;
	}
	const std::vector<uint8_t> &b = *bin;
	const size_t table_size = 4 + 256 * 24 + 4 + 256 * 28 + 16 + size_t{table_rows} * 8;
	if (b.size() != 24 + cfg->services.size() * table_size || std::memcmp(b.data(), "GLBD", 4) != 0 ||
	    le32(b, 4) != glb_format_version || le32(b, 8) != cfg->services.size())
		abort();
	for (size_t t = 0; t < cfg->services.size(); t++) {
		const ServiceConfig &s = cfg->services[t];
		size_t off = 24 + t * table_size;
		if (le32(b, off) != s.backends.size())
			abort();
		size_t e = off + 4 + 256 * 24 + 4;
		for (const Bind &bind : s.binds)
			for (size_t r = 0; r < bind.ports.size(); r++, e += 28) {
				const IpAddress &a = bind.address_as_written();
				if (le32(b, e) != (a.is_v4() ? 1u : 2u) ||
				    std::memcmp(b.data() + e + 4, a.bytes.data(), 16) != 0 ||
				    le16(b, e + 20) != bind.prefix.length || le16(b, e + 22) != bind.ports[r].first ||
				    le16(b, e + 24) != bind.ports[r].last)
					abort();
			}
		size_t rows = off + 4 + 256 * 24 + 4 + 256 * 28 + 16;
		for (uint32_t r = 0; r < table_rows; r++)
			for (size_t h = 0; h < 2; h++) {
				uint32_t i = le32(b, rows + r * 8 + h * 4);
				if (i >= s.backends.size() || s.backends[i].backend.state == BackendState::inactive)
					abort();
			}
		if (le32(b, rows) == le32(b, rows + 4))
			abort();  // a row's two hops are two backends
	}
	return 0;
}
