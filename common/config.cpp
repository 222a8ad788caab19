// SPDX-License-Identifier: Apache-2.0
// The configuration model's own logic; the YAML walk is in config_load.cpp.
#include "config.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "hex.h"

namespace tandem {

std::string_view to_string(Protocol p)
{
	return p == Protocol::tcp ? "tcp" : "udp";
}

bool Bind::covers_port(uint16_t port) const
{
	for (const PortRange &r : ports)
		if (r.contains(port))
			return true;
	return false;
}

bool Bind::overlaps(const Bind &other) const
{
	if (protocol != other.protocol || !prefix.overlaps(other.prefix))
		return false;
	for (const PortRange &a : ports)
		for (const PortRange &b : other.ports)
			if (a.overlaps(b))
				return true;
	return false;
}

bool valid_service_name(std::string_view s)
{
	if (s.empty() || s.size() > 63 || !std::isalnum(static_cast<unsigned char>(s[0])))
		return false;
	for (char c : s)
		if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-')
			return false;
	return true;
}

std::vector<Backend> ServiceConfig::table_backends() const
{
	std::vector<Backend> out;
	out.reserve(backends.size());
	for (const BackendConfig &b : backends)
		out.push_back(b.backend);
	return out;
}

bool DirectorConfig::operator==(const DirectorConfig &o) const
{
	return interface == o.interface && queues == o.queues && cores == o.cores &&
	       source_ip == o.source_ip && gateway_mac == o.gateway_mac && gue_port == o.gue_port &&
	       udp_checksum == o.udp_checksum && metrics_address == o.metrics_address &&
	       bind_mode == o.bind_mode && xdp_mode == o.xdp_mode && busy_poll == o.busy_poll &&
	       frame_size == o.frame_size && ring_size == o.ring_size && icmp_too_big == o.icmp_too_big;
}

bool ServiceConfig::operator==(const ServiceConfig &o) const
{
	return name == o.name && binds == o.binds && hash_key == o.hash_key && seed == o.seed &&
	       hash_fields == o.hash_fields && alt_hash_fields == o.alt_hash_fields &&
	       hops_per_row == o.hops_per_row && backends == o.backends &&
	       health_checks == o.health_checks;
}

bool Config::operator==(const Config &o) const
{
	return director == o.director && services == o.services;
}

const ServiceConfig *Config::find_service(std::string_view name) const
{
	for (const ServiceConfig &s : services)
		if (s.name == name)
			return &s;
	return nullptr;
}

std::optional<SipKey> parse_key(std::string_view hex)
{
	auto bytes = parse_hex(hex);
	if (!bytes || bytes->size() != 16)
		return std::nullopt;
	SipKey key;
	std::copy(bytes->begin(), bytes->end(), key.begin());
	return key;
}

std::string format_key(const SipKey &key)
{
	return format_hex(key.data(), key.size());
}

std::optional<MacAddress> parse_mac(std::string_view text)
{
	MacAddress mac{};
	if (text.size() != 17)
		return std::nullopt;
	for (size_t i = 0; i < 6; i++) {
		int hi = hex_digit_value(text[3 * i]), lo = hex_digit_value(text[3 * i + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && text[3 * i + 2] != ':'))
			return std::nullopt;
		mac[i] = static_cast<uint8_t>(hi << 4 | lo);
	}
	return mac;
}

std::string format_mac(const MacAddress &mac)
{
	char buf[18];
	std::snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
		      mac[3], mac[4], mac[5]);
	return buf;
}

}  // namespace tandem
