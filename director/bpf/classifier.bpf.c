// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * tandem-director's XDP classifier. A frame for a bound VIP (destination within a
 * bind prefix, protocol, destination port in the bind's port set), an ICMP error
 * quoting a VIP flow (IPv4 type 3, ICMPv6 type 2; the quoted packet is read
 * reversed), an ICMP echo request to a VIP address, or a later fragment to a VIP
 * address + protocol goes to the AF_XDP socket of the receiving queue. Everything
 * else, including every frame it cannot parse, is XDP_PASS: the worker decides
 * about VIP traffic, the kernel about the rest (ARP, NDP, BGP, SSH, ...).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "classifier_shared.h"

#define ETH_P_8021Q_ 0x8100
#define IPV6_HEADER 40
#define IPV6_MAX_EXT 8
#define PROTO_ICMPV6 58

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, TANDEM_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} tandem_xsks SEC(".maps");

#define LPM_MAP(name, keytype)                                   \
	struct {                                                 \
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);             \
		__uint(max_entries, TANDEM_MAX_BIND_KEYS);       \
		__uint(map_flags, BPF_F_NO_PREALLOC);            \
		__type(key, keytype);                            \
		__type(value, struct tandem_bind_value);         \
	} name SEC(".maps")

LPM_MAP(tandem_v4_a, struct tandem_v4_key);
LPM_MAP(tandem_v4_b, struct tandem_v4_key);
LPM_MAP(tandem_v6_a, struct tandem_v6_key);
LPM_MAP(tandem_v6_b, struct tandem_v6_key);

#define PORT_MAP(name)                                           \
	struct {                                                 \
		__uint(type, BPF_MAP_TYPE_ARRAY);                \
		__uint(max_entries, TANDEM_MAX_PORT_SETS);       \
		__type(key, __u32);                              \
		__type(value, struct tandem_port_bitmap);        \
	} name SEC(".maps")

PORT_MAP(tandem_ports_a);
PORT_MAP(tandem_ports_b);

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tandem_state);
} tandem_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TANDEM_MAX_QUEUES * TANDEM_CLS_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} tandem_counters SEC(".maps");

enum flow_kind { KIND_PORTS, KIND_ANY_PORT, KIND_FRAGMENT };

/* What to look up: the VIP side of the flow. */
struct flow {
	__u8 v6;
	__u8 protocol;
	__u8 kind;
	__u16 port; /* host order, KIND_PORTS only */
	__u8 addr[16];
};

static __always_inline int count_q(__u32 queue, __u32 which, int action)
{
	__u32 q = queue < TANDEM_MAX_QUEUES ? queue : TANDEM_MAX_QUEUES - 1;
	__u32 key = q * TANDEM_CLS_COUNT + which;
	__u64 *c = bpf_map_lookup_elem(&tandem_counters, &key);

	if (c)
		*c += 1; /* per-CPU: no atomics needed */
	return action;
}

static __always_inline void copy4(__u8 *dst, const __u8 *src)
{
	__builtin_memcpy(dst, src, 4);
}

static __always_inline void copy16(__u8 *dst, const __u8 *src)
{
	__builtin_memcpy(dst, src, 16);
}

/*
 * Walks IPv6 extension headers from the one at *off. On success returns the
 * upper-layer protocol with *off at its header and *later set for a fragment with
 * a non-zero offset; -1 when the chain is malformed or too long.
 */
static __always_inline int walk_ipv6(void *data, void *data_end, __u8 next, __u32 *off,
				     int *later)
{
	__u32 o = *off;
	int i;

#pragma unroll
	for (i = 0; i <= IPV6_MAX_EXT; i++) {
		__u8 *h = data + (o & 0xffff);
		__u32 hlen;

		if (next != 0 && next != 43 && next != 60 && next != 51 && next != 44) {
			*off = o;
			return next;
		}
		if ((void *)(h + 8) > data_end) /* every extension header is >= 8 bytes */
			return -1;
		if (next == 44) {
			hlen = 8;
			if (((h[2] << 8 | h[3]) & 0xfff8) != 0)
				*later = 1;
		} else if (next == 51) {
			hlen = ((__u32)h[1] + 2) * 4;
		} else {
			hlen = ((__u32)h[1] + 1) * 8;
		}
		next = h[0];
		o += hlen;
		if (o > 0xffff)
			return -1;
	}
	return -1;
}

static __always_inline int is_port_proto(__u8 p)
{
	return p == IPPROTO_TCP || p == IPPROTO_UDP;
}

/* Quoted IPv4 packet of an ICMP error: VIP -> client; returns 0 when usable. */
static __always_inline int quoted_ipv4(void *data, void *data_end, __u32 off, struct flow *f)
{
	__u8 *q = data + (off & 0xffff);
	__u32 ihl;
	__u8 *l4;

	if ((void *)(q + 20) > data_end || (q[0] >> 4) != 4)
		return -1;
	ihl = (q[0] & 0x0f) * 4;
	if (ihl < 20 || !is_port_proto(q[9]))
		return -1;
	l4 = q + ihl;
	if ((void *)(l4 + 4) > data_end)
		return -1;
	f->protocol = q[9];
	copy4(f->addr, q + 12); /* quoted source = the VIP */
	f->port = l4[0] << 8 | l4[1];
	f->kind = KIND_PORTS;
	return 0;
}

static __always_inline int quoted_ipv6(void *data, void *data_end, __u32 off, struct flow *f)
{
	__u8 *q = data + (off & 0xffff);
	__u32 l4off = (off & 0xffff) + IPV6_HEADER;
	int later = 0, proto;
	__u8 *l4;

	if ((void *)(q + IPV6_HEADER) > data_end || (q[0] >> 4) != 6)
		return -1;
	copy16(f->addr, q + 8);
	proto = walk_ipv6(data, data_end, q[6], &l4off, &later);
	if (proto < 0 || later || !is_port_proto(proto))
		return -1;
	l4 = data + (l4off & 0xffff);
	if ((void *)(l4 + 4) > data_end)
		return -1;
	f->protocol = proto;
	f->port = l4[0] << 8 | l4[1];
	f->kind = KIND_PORTS;
	return 0;
}

/* TCP/UDP ports or ICMP; returns 0 when f describes a flow to look up. */
static __always_inline int parse_l4(void *data, void *data_end, __u32 off, __u8 proto,
				    struct flow *f, __u32 *counter)
{
	__u8 *l4 = data + (off & 0xffff);

	if (is_port_proto(proto)) {
		if ((void *)(l4 + 4) > data_end)
			return -1;
		f->protocol = proto;
		f->port = l4[2] << 8 | l4[3];
		f->kind = KIND_PORTS;
		return 0;
	}
	if (proto != (f->v6 ? PROTO_ICMPV6 : IPPROTO_ICMP))
		return -1;
	if ((void *)(l4 + 8) > data_end)
		return -1;
	*counter = TANDEM_CLS_REDIRECT_ICMP;
	if (l4[0] == (f->v6 ? 128 : 8)) { /* echo request: the address alone */
		f->protocol = proto;
		f->kind = KIND_ANY_PORT;
		return 0;
	}
	if (l4[0] == (f->v6 ? 2 : 3))
		return f->v6 ? quoted_ipv6(data, data_end, off + 8, f)
			     : quoted_ipv4(data, data_end, off + 8, f);
	return -1;
}

static __always_inline int port_bound(void *ports_map, __u32 set, __u16 port)
{
	struct tandem_port_bitmap *bm = bpf_map_lookup_elem(ports_map, &set);

	if (!bm)
		return 0;
	return (bm->words[(port >> 6) & (TANDEM_PORT_WORDS - 1)] >> (port & 63)) & 1;
}

static __always_inline int match(const struct flow *f, __u32 active)
{
	struct tandem_bind_value *v;
	void *ports;

	if (f->v6) {
		struct tandem_v6_key k = { .prefixlen = 8 + 128, .protocol = f->protocol };

		copy16(k.addr, f->addr);
		v = bpf_map_lookup_elem(active ? (void *)&tandem_v6_b : (void *)&tandem_v6_a, &k);
	} else {
		struct tandem_v4_key k = { .prefixlen = 8 + 32, .protocol = f->protocol };

		copy4(k.addr, f->addr);
		v = bpf_map_lookup_elem(active ? (void *)&tandem_v4_b : (void *)&tandem_v4_a, &k);
	}
	if (!v)
		return 0;
	if (f->kind != KIND_PORTS || (v->flags & TANDEM_BIND_F_ANY_PORT))
		return 1;
	ports = active ? (void *)&tandem_ports_b : (void *)&tandem_ports_a;
	return port_bound(ports, v->port_set, f->port);
}

SEC("xdp")
int tandem_classify(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	__u32 counter = TANDEM_CLS_REDIRECT;
	struct flow f = {};
	struct ethhdr *eth = data;
	struct tandem_state *st;
	__u32 zero = 0, off, queue;
	__u16 proto;
	__u8 *ip;

#define count(which, action) count_q(ctx->rx_queue_index, which, action)
	if ((void *)(eth + 1) > data_end)
		return count(TANDEM_CLS_MALFORMED, XDP_PASS);
	proto = bpf_ntohs(eth->h_proto);
	off = sizeof(*eth);
	if (proto == ETH_P_8021Q_) {
		__u8 *tag = data + off;

		if ((void *)(tag + 4) > data_end)
			return count(TANDEM_CLS_MALFORMED, XDP_PASS);
		proto = tag[2] << 8 | tag[3];
		off += 4;
	}
	ip = data + off;

	if (proto == ETH_P_IP) {
		__u32 ihl;

		if ((void *)(ip + 20) > data_end || (ip[0] >> 4) != 4)
			return count(TANDEM_CLS_MALFORMED, XDP_PASS);
		ihl = (ip[0] & 0x0f) * 4;
		if (ihl < 20)
			return count(TANDEM_CLS_MALFORMED, XDP_PASS);
		copy4(f.addr, ip + 16);
		if (((ip[6] << 8 | ip[7]) & 0x1fff) != 0) {
			f.protocol = ip[9];
			f.kind = KIND_FRAGMENT;
			counter = TANDEM_CLS_REDIRECT_FRAG;
		} else if (parse_l4(data, data_end, off + ihl, ip[9], &f, &counter) < 0) {
			return count(TANDEM_CLS_PASS, XDP_PASS);
		}
	} else if (proto == ETH_P_IPV6) {
		__u32 l4off = off + IPV6_HEADER;
		int later = 0, p;

		if ((void *)(ip + IPV6_HEADER) > data_end || (ip[0] >> 4) != 6)
			return count(TANDEM_CLS_MALFORMED, XDP_PASS);
		f.v6 = 1;
		copy16(f.addr, ip + 24);
		p = walk_ipv6(data, data_end, ip[6], &l4off, &later);
		if (p < 0)
			return count(TANDEM_CLS_MALFORMED, XDP_PASS);
		if (later) {
			f.protocol = p;
			f.kind = KIND_FRAGMENT;
			counter = TANDEM_CLS_REDIRECT_FRAG;
		} else if (parse_l4(data, data_end, l4off, p, &f, &counter) < 0) {
			return count(TANDEM_CLS_PASS, XDP_PASS);
		}
	} else {
		return count(TANDEM_CLS_PASS, XDP_PASS);
	}

	st = bpf_map_lookup_elem(&tandem_state, &zero);
	if (!st || !match(&f, st->active))
		return count(TANDEM_CLS_PASS, XDP_PASS);
	if (bpf_xdp_get_buff_len(ctx) > st->max_frame)
		return count(TANDEM_CLS_TOO_BIG, XDP_DROP);
	/*
	 * A VIP frame on a queue without a socket: a queue beyond director.queues, or a
	 * director that died and left this program behind. Dropped, not passed: the host's
	 * own stack holds no state for the flow and could only answer it with a reset.
	 */
	queue = ctx->rx_queue_index;
	if (!bpf_map_lookup_elem(&tandem_xsks, &queue))
		return count(TANDEM_CLS_NO_SOCKET, XDP_DROP);
	count(counter, 0);
#undef count
	return bpf_redirect_map(&tandem_xsks, queue, XDP_DROP);
}

char _license[] SEC("license") = "Dual BSD/GPL";
