// SPDX-License-Identifier: Apache-2.0
// The director's answer to a VIP packet that fits the wire it came from but not the wire
// towards the proxies once encapsulated: ICMP fragmentation needed (IPv4 with DF, RFC 1191)
// or ICMPv6 packet too big (RFC 8201), built in place in the frame that brought the packet.
// The new Ethernet, IP and ICMP headers are written into the headroom just in front of the
// received IP header, which with the bytes after it becomes the quote; nothing is copied
// but the headers. Pure: no allocation, bounded, every read checked against the frame.
#pragma once

#include <cstdint>

namespace tandem {

enum class TooBigAnswer : uint8_t {
	reply,           // an ICMP error may be (or was) built
	no_df,           // IPv4 without DF: Tandem does not fragment; the frame is dropped
	not_answerable,  // an ICMP error itself, a bad source address, or a frame not parsed
};

// The largest ICMP error, as RFC 1812 4.3.2.3 (IPv4: 576 bytes of IP) and RFC 4443 2.4
// (IPv6: the minimum MTU, 1280) allow; the quote is the original packet cut to fit.
inline constexpr uint32_t icmp4_max_reply = 576;
inline constexpr uint32_t icmp6_max_reply = 1280;
inline constexpr uint32_t ipv6_min_mtu = 1280;
inline constexpr uint32_t ipv4_min_mtu = 68;
inline constexpr uint8_t icmp_reply_ttl = 64;

// What answering would do, without writing anything: cheap, for deciding before the rate
// limiter spends a token.
TooBigAnswer classify_too_big(const uint8_t *frame, uint32_t len) noexcept;

struct TooBigReply {
	TooBigAnswer answer = TooBigAnswer::not_answerable;
	uint32_t offset = 0;  // where the reply frame starts in the buffer (answer == reply)
	uint32_t length = 0;
};

// buf[0, capacity) holds the received frame at [frame_offset, frame_offset + frame_len).
// `mtu` is the largest inner IP packet the path carries (egress MTU minus the packet's
// encapsulation overhead); IPv4 announces max(68, mtu), IPv6 max(1280, mtu). The reply
// goes back to the frame's source MAC from its destination MAC (VLAN tag kept), from the
// address the packet was sent to (the VIP) to its source. On anything but `reply` the
// buffer is untouched.
TooBigReply build_too_big_reply(uint8_t *buf, uint32_t capacity, uint32_t frame_offset,
				uint32_t frame_len, uint32_t mtu) noexcept;

}  // namespace tandem
