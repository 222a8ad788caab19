// SPDX-License-Identifier: Apache-2.0
// What happened to a frame on its way through the core: one code per outcome, so every
// drop is counted under a reason an operator can read.
#pragma once

#include <cstdint>
#include <string_view>

namespace tandem {

enum class Verdict : uint8_t {
	ok = 0,  // forwarded (or, for a single stage, "this stage succeeded")
	// parsing
	truncated_ethernet,
	not_ip,
	truncated_ip,
	bad_ip_version,
	bad_ip_header_length,
	bad_ip_total_length,
	bad_ipv6_extension,
	unsupported_protocol,
	truncated_l4,
	unsupported_icmp,
	bad_icmp_quote,
	// routing
	no_service,
	no_backend,
	fragment_needs_ports,
	ipv6_hop,
	no_neighbour,
	// encapsulation
	no_headroom,
	too_big,
	count_,
};

inline constexpr size_t verdict_count = static_cast<size_t>(Verdict::count_);

constexpr std::string_view to_string(Verdict v)
{
	constexpr std::string_view names[] = {
		"ok",
		"truncated_ethernet",
		"not_ip",
		"truncated_ip",
		"bad_ip_version",
		"bad_ip_header_length",
		"bad_ip_total_length",
		"bad_ipv6_extension",
		"unsupported_protocol",
		"truncated_l4",
		"unsupported_icmp",
		"bad_icmp_quote",
		"no_service",
		"no_backend",
		"fragment_needs_ports",
		"ipv6_hop",
		"no_neighbour",
		"no_headroom",
		"too_big",
	};
	static_assert(sizeof(names) / sizeof(names[0]) == verdict_count);
	auto i = static_cast<size_t>(v);
	return i < verdict_count ? names[i] : "unknown";
}

}  // namespace tandem
