// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: any bytes as what the health checker reads from the network (an ICMP
// packet from the raw socket, an HTTP status line). Must never read past the input; a
// parsed echo reply must round-trip through the probe builder's layout.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "health_wire.h"

using namespace tandem;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (auto r = parse_echo_reply({data, size})) {
		// Whatever parsed as a reply, the probe for it carries the same id, seq and token.
		std::vector<uint8_t> probe = gue_echo_probe(0, r->from, r->id, r->seq, r->token);
		std::vector<uint8_t> reply(probe.begin() + 8, probe.end());
		std::memcpy(reply.data() + 12, &r->from, 4);
		reply[20] = 0;
		auto back = parse_echo_reply(reply);
		if (!back || back->id != r->id || back->seq != r->seq || back->token != r->token ||
		    back->from != r->from)
			abort();
	}
	auto code = http_status_code(std::string_view(reinterpret_cast<const char *>(data), size));
	if (code && (*code < 0 || *code > 999))
		abort();
	return 0;
}
