// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: any bytes through the worker's whole path (parse, match, hash, look up,
// encapsulate in place). Must never read or write outside the buffer, and every outcome
// must be a known Verdict; a forwarded frame must decode as valid GUE; the bind index must
// agree with a scan of every bind.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "config.h"
#include "forwarder.h"

using namespace tandem;

static const ServiceSet &services()
{
	static const ServiceSet set = [] {
		auto cfg = parse_config(R"(
services:
  - name: v4
    binds:
      - {address: 10.0.0.0/8, protocol: tcp, ports: [80, "1000-2000"]}
      - {address: 10.1.2.3, protocol: udp, ports: [53]}
    hash_key: 000102030405060708090a0b0c0d0e0f
    seed: 0f0e0d0c0b0a09080706050403020100
    hash_fields: [src_addr, src_port]
    alt_hash_fields: [src_addr]
    hops_per_row: 3
    backends:
      - {address: 192.0.2.1}
      - {address: 192.0.2.2, state: draining}
      - {address: 192.0.2.3, healthy: false}
      - {address: 192.0.2.4}
  - name: v6
    binds:
      - {address: "2001:db8::/32", protocol: udp, ports: ["1-65535"]}
      - {address: "2001:db8::/32", protocol: tcp, ports: [443]}
    hash_key: 000102030405060708090a0b0c0d0e0f
    seed: 00112233445566778899aabbccddeeff
    backends:
      - {address: 192.0.2.5}
      - {address: 192.0.2.6}
  - name: exact
    binds:
      - {address: 172.16.0.1, protocol: tcp, ports: [80, 443, "8000-8010"]}
      - {address: 172.16.0.1, protocol: udp, ports: ["1-65535"]}
      - {address: "2001:db9::5", protocol: tcp, ports: [80]}
    hash_key: 000102030405060708090a0b0c0d0e0f
    seed: 00112233445566778899aabbccddeeff
    backends:
      - {address: 192.0.2.7}
)",
					"fuzz.yaml");
		if (!cfg.ok())
			abort();
		return ServiceSet::compile(cfg->services);
	}();
	return set;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	constexpr uint32_t headroom = 256;
	std::vector<uint8_t> buf(headroom + size);
	std::memcpy(buf.data() + headroom, data, size);
	static const MacAddress mac{2, 0, 0, 0, 0, 1};
	EncapFields fields;
	fields.udp_checksum = size % 2 == 0;
	auto res = forward_frame(services(), fields, buf.data(), static_cast<uint32_t>(buf.size()),
				 headroom, static_cast<uint32_t>(size), 9000,
				 [](uint32_t) { return &mac; });
	if (static_cast<size_t>(res.verdict) >= verdict_count)
		abort();
	if (res.verdict == Verdict::ok) {
		if (res.offset + res.length > buf.size())
			abort();
		auto g = decode_gue_ipv4({buf.data() + res.offset + ethernet_header_size,
					  res.length - ethernet_header_size});
		if (!g.ok())
			abort();
	}
	// The bind index answers as the scan of every bind does.
	const ParsedPacket pkt = parse_frame(data, size);
	if (pkt.verdict == Verdict::ok && services().match(pkt) != services().match_by_scan(pkt))
		abort();
	// The decoder must also survive the raw input.
	(void)decode_gue_ipv4({data, size});
	return 0;
}
