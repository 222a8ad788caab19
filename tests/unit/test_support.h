// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the unit tests: the reference vectors, hex, and frame building.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "config.h"
#include "hex.h"
#include "ip_address.h"

namespace tandem::test {

inline nlohmann::json glb_vectors()
{
	std::ifstream in(std::string(TEST_DATA_DIR) + "/glb-compat.json");
	return nlohmann::json::parse(in);
}

inline std::vector<uint8_t> from_hex(const std::string &hex)
{
	auto bytes = parse_hex(hex);
	if (!bytes)
		throw std::runtime_error("bad hex in test data: " + hex);
	return *bytes;
}

inline std::string to_hex(const uint8_t *p, size_t n)
{
	return format_hex(p, n);
}

inline std::string u64_hex(uint64_t v)
{
	char buf[17];
	std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
	return buf;
}

inline IpAddress ip(const std::string &s)
{
	return *IpAddress::parse(s);
}

inline SipKey key(const std::string &hex)
{
	return *parse_key(hex);
}

// A services-only config from YAML text; fails the test on a load error.
inline Config config_from(const std::string &yaml)
{
	auto c = parse_config(yaml, "test.yaml");
	if (!c.ok())
		throw std::runtime_error(c.error().message);
	return std::move(c).value();
}

// Frames: Ethernet + IPv4/IPv6 + TCP/UDP, enough for the parser and the encapsulator.
std::vector<uint8_t> tcp_frame_v4(const std::string &src, uint16_t sport, const std::string &dst,
				  uint16_t dport, uint8_t flags = 0x02, size_t payload = 0);
std::vector<uint8_t> udp_frame_v6(const std::string &src, uint16_t sport, const std::string &dst,
				  uint16_t dport, size_t payload = 8);

}  // namespace tandem::test

namespace tandem::test {

// A frame from tests/data/frames (made with scapy; see tests/data/README.md).
inline std::vector<uint8_t> frame(const std::string &name)
{
	std::ifstream in(std::string(TEST_DATA_DIR) + "/frames/" + name, std::ios::binary);
	if (!in)
		throw std::runtime_error("missing test frame " + name);
	return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

}  // namespace tandem::test
