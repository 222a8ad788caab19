/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The one header the XDP classifier (classifier.bpf.c) and its C++ owner
 * (director/classifier.cpp) share: map names, keys, values and counters, in
 * fixed-width kernel types. The C++ side static_asserts every size.
 *
 * Matching: two generations ("sets" a and b) of one LPM trie per family, keyed
 * by (protocol, address), and an array of 65536-bit port bitmaps the trie's
 * value points at. Reload writes the set not in use and then flips
 * tandem_state.active, so the program never sees a half-written table.
 */
#ifndef TANDEM_CLASSIFIER_SHARED_H
#define TANDEM_CLASSIFIER_SHARED_H

#include <linux/types.h>

#define TANDEM_MAX_QUEUES 64        /* XSKMAP entries, indexed by rx_queue_index */
#define TANDEM_MAX_BIND_KEYS 4096   /* LPM entries per family and set */
#define TANDEM_MAX_PORT_SETS 256    /* port bitmaps per set */
#define TANDEM_PORT_WORDS (65536 / 64)

/* Key of tandem_v4_{a,b}: prefixlen counts the bits of protocol + addr. */
struct tandem_v4_key {
	__u32 prefixlen;
	__u8 protocol;
	__u8 addr[4];
	__u8 pad[3]; /* zero */
};

struct tandem_v6_key {
	__u32 prefixlen;
	__u8 protocol;
	__u8 addr[16];
	__u8 pad[3]; /* zero */
};

#define TANDEM_BIND_F_ANY_PORT 1u /* ICMP entries: no port check */

struct tandem_bind_value {
	__u32 port_set; /* index into tandem_ports_{a,b} */
	__u32 flags;
};

struct tandem_port_bitmap {
	__u64 words[TANDEM_PORT_WORDS]; /* bit p of words[p / 64] = port p bound */
};

struct tandem_state {
	__u32 active;    /* 0: set a, 1: set b */
	__u32 max_frame; /* longer VIP frames do not fit a UMEM frame: dropped, counted */
};

/* Per-CPU counters, indexed by rx queue * TANDEM_CLS_COUNT + this enum (queues at or
 * above TANDEM_MAX_QUEUES share the last row). */
enum tandem_cls_counter {
	TANDEM_CLS_PASS = 0,       /* not for us: the kernel's */
	TANDEM_CLS_REDIRECT,       /* a VIP flow, to the XSK of the rx queue */
	TANDEM_CLS_REDIRECT_ICMP,  /* ICMP error quoting a VIP flow, or echo to a VIP */
	TANDEM_CLS_REDIRECT_FRAG,  /* later fragment to a VIP address + protocol */
	TANDEM_CLS_MALFORMED,      /* could not parse: passed to the kernel */
	TANDEM_CLS_TOO_BIG,        /* VIP frame longer than a UMEM frame holds: dropped */
	TANDEM_CLS_NO_SOCKET,      /* VIP frame on a queue no worker serves: dropped */
	TANDEM_CLS_COUNT,
};

#define TANDEM_MAP_XSKS "tandem_xsks"
#define TANDEM_MAP_V4_A "tandem_v4_a"
#define TANDEM_MAP_V4_B "tandem_v4_b"
#define TANDEM_MAP_V6_A "tandem_v6_a"
#define TANDEM_MAP_V6_B "tandem_v6_b"
#define TANDEM_MAP_PORTS_A "tandem_ports_a"
#define TANDEM_MAP_PORTS_B "tandem_ports_b"
#define TANDEM_MAP_STATE "tandem_state"
#define TANDEM_MAP_COUNTERS "tandem_counters"
#define TANDEM_PROG_NAME "tandem_classify"

#endif
