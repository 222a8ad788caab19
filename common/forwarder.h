// SPDX-License-Identifier: Apache-2.0
// The one function that turns a received frame into the GUE frame to send: parse, match,
// hash, look up, encapsulate in place. The director's workers and `tandemctl encap` both
// run exactly this. No allocation, no lock, no virtual call, no system call.
#pragma once

#include <cstdint>

#include "gue.h"
#include "packet.h"
#include "service_set.h"
#include "verdict.h"

namespace tandem {

struct ForwardResult {
	Verdict verdict = Verdict::ok;
	uint32_t offset = 0;  // where the frame to send starts in the buffer
	uint32_t length = 0;
	int service = -1;         // when matched
	int first_backend = -1;   // when routed
	uint32_t fits = 0;        // too_big: the longest inner IP packet max_frame carries
};

// buf[0, capacity) holds the received frame at [frame_offset, frame_offset + frame_len);
// the bytes before it are headroom. `mac_for(first_hop)` returns the destination MAC for
// the first hop (network-order IPv4) or nullptr while it is unresolved. A result longer
// than max_frame (when not 0) is refused as too_big.
template <class MacFor>
ForwardResult forward_frame(const ServiceSet &services, const EncapFields &fields, uint8_t *buf,
			    uint32_t capacity, uint32_t frame_offset, uint32_t frame_len,
			    uint32_t max_frame, MacFor &&mac_for) noexcept
{
	ForwardResult res;
	if (frame_offset > capacity || frame_len > capacity - frame_offset) {
		res.verdict = Verdict::truncated_ethernet;
		return res;
	}
	const ParsedPacket pkt = parse_frame(buf + frame_offset, frame_len);
	if (pkt.verdict != Verdict::ok) {
		res.verdict = pkt.verdict;
		return res;
	}
	const Route route = services.route(pkt);
	if (route.verdict != Verdict::no_service)
		res.service = route.service;
	if (route.verdict != Verdict::ok) {
		res.verdict = route.verdict;
		return res;
	}
	res.first_backend = route.backend[0];

	const uint32_t inner = frame_offset + pkt.l3_offset;
	const uint32_t outer = static_cast<uint32_t>(ethernet_header_size +
						     gue_overhead(route.hop_count));
	if (inner < outer) {
		res.verdict = Verdict::no_headroom;
		return res;
	}
	const uint32_t length = outer + pkt.l3_length;
	if (max_frame != 0 && length > max_frame) {
		res.verdict = Verdict::too_big;
		res.fits = max_frame > outer ? max_frame - outer : 0;
		return res;
	}
	const MacAddress *mac = mac_for(route.hop[0]);
	if (mac == nullptr) {
		res.verdict = Verdict::no_neighbour;
		return res;
	}
	EncapFields f = fields;
	f.dst_mac = *mac;
	uint8_t *start = write_gue_encap(buf + inner, pkt.l3_length, pkt.family == Family::v6,
					 std::span<const uint32_t>(route.hop.data(), route.hop_count),
					 route.udp_source_port, f);
	res.offset = static_cast<uint32_t>(start - buf);
	res.length = length;
	return res;
}

}  // namespace tandem
