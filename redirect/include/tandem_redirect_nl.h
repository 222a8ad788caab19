/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * Generic netlink interface of the tandem_redirect module.
 *
 * This is the one definition of the family, shared by the kernel module
 * (redirect/kmod) and tandem-proxyctl. Bump TANDEM_REDIRECT_GENL_VERSION
 * whenever a command or attribute changes meaning; the helper refuses to
 * talk to a module with another version.
 *
 * Attribute widths are fixed: ports are u16 in host byte order, flags u8,
 * counters u64 (with TANDEM_REDIRECT_A_PAD for alignment).
 */
#ifndef _TANDEM_REDIRECT_NL_H
#define _TANDEM_REDIRECT_NL_H

#define TANDEM_REDIRECT_GENL_NAME	"tandem_redirect"
#define TANDEM_REDIRECT_GENL_VERSION	2

/* GLB's GUE port; the default a new network namespace starts with. */
#define TANDEM_REDIRECT_DEFAULT_PORT	19523
/* Upper bound on the number of GUE ports one namespace can watch. */
#define TANDEM_REDIRECT_MAX_PORTS	8
/* Upper bound on the number of source prefixes (directors and proxies). */
#define TANDEM_REDIRECT_MAX_SOURCES	64

enum tandem_redirect_cmd {
	TANDEM_REDIRECT_CMD_UNSPEC,
	TANDEM_REDIRECT_CMD_GET_CONFIG,	/* reply: ENABLED, PORTS, MODULE_VERSION */
	/* request: ENABLED, PORTS and/or SOURCES (any subset, at least one) */
	TANDEM_REDIRECT_CMD_SET_CONFIG,
	/* reply: COUNTERS; dump: CPU + raw COUNTERS per possible CPU */
	TANDEM_REDIRECT_CMD_GET_COUNTERS,
	TANDEM_REDIRECT_CMD_RESET_COUNTERS,

	__TANDEM_REDIRECT_CMD_MAX,
	TANDEM_REDIRECT_CMD_MAX = __TANDEM_REDIRECT_CMD_MAX - 1
};

enum tandem_redirect_attr {
	TANDEM_REDIRECT_A_UNSPEC,
	TANDEM_REDIRECT_A_PAD,
	TANDEM_REDIRECT_A_ENABLED,		/* u8: 0 or 1 */
	TANDEM_REDIRECT_A_PORTS,		/* nest of TANDEM_REDIRECT_PORT_A_* */
	TANDEM_REDIRECT_A_COUNTERS,		/* nest of TANDEM_REDIRECT_CTR_* */
	TANDEM_REDIRECT_A_MODULE_VERSION,	/* string */
	TANDEM_REDIRECT_A_CPU,			/* u32, in GET_COUNTERS dumps */
	/*
	 * nest of TANDEM_REDIRECT_SRC_A_PREFIX: who may send GUE to the
	 * ports, and the only hops packets are forwarded to. No prefix (the
	 * default) or 0.0.0.0/0 means any address.
	 */
	TANDEM_REDIRECT_A_SOURCES,
	/*
	 * u8 0/1 (default 0): take a packet locally when conntrack in this
	 * namespace knows its flow (a server in another namespace behind DNAT).
	 */
	TANDEM_REDIRECT_A_CONNTRACK_LOCAL,

	__TANDEM_REDIRECT_A_MAX,
	TANDEM_REDIRECT_A_MAX = __TANDEM_REDIRECT_A_MAX - 1
};

/* Inside TANDEM_REDIRECT_A_PORTS: one PORT attribute per GUE port. */
enum tandem_redirect_port_attr {
	TANDEM_REDIRECT_PORT_A_UNSPEC,
	TANDEM_REDIRECT_PORT_A_PORT,		/* u16, host byte order, 1..65535 */

	__TANDEM_REDIRECT_PORT_A_MAX,
	TANDEM_REDIRECT_PORT_A_MAX = __TANDEM_REDIRECT_PORT_A_MAX - 1
};

/* Inside TANDEM_REDIRECT_A_SOURCES: one nested PREFIX per prefix. */
enum tandem_redirect_src_attr {
	TANDEM_REDIRECT_SRC_A_UNSPEC,
	TANDEM_REDIRECT_SRC_A_PREFIX,		/* nest of TANDEM_REDIRECT_PFX_A_* */

	__TANDEM_REDIRECT_SRC_A_MAX,
	TANDEM_REDIRECT_SRC_A_MAX = __TANDEM_REDIRECT_SRC_A_MAX - 1
};

enum tandem_redirect_pfx_attr {
	TANDEM_REDIRECT_PFX_A_UNSPEC,
	TANDEM_REDIRECT_PFX_A_ADDR4,		/* be32, host bits must be 0 */
	TANDEM_REDIRECT_PFX_A_LEN,		/* u8, 0..32 */

	__TANDEM_REDIRECT_PFX_A_MAX,
	TANDEM_REDIRECT_PFX_A_MAX = __TANDEM_REDIRECT_PFX_A_MAX - 1
};

/*
 * Inside TANDEM_REDIRECT_A_COUNTERS: one u64 per counter. Every GUE packet
 * the hook sees bumps GUE_RX and then exactly one ACCEPT_, FORWARDED or DROP_
 * counter; every other packet bumps PASS_OTHER.
 * The names are part of the interface: tandem-proxyctl prints them.
 */
enum tandem_redirect_ctr {
	TANDEM_REDIRECT_CTR_UNSPEC,
	TANDEM_REDIRECT_CTR_PAD,
	TANDEM_REDIRECT_CTR_PASS_OTHER,		/* not UDP to a GUE port: untouched */
	TANDEM_REDIRECT_CTR_GUE_RX,		/* GUE packets looked at */
	TANDEM_REDIRECT_CTR_ACCEPT_SYN,		/* inner TCP SYN */
	TANDEM_REDIRECT_CTR_ACCEPT_SOCKET,	/* local established/TW/request sock */
	TANDEM_REDIRECT_CTR_ACCEPT_SYNCOOKIE,	/* ACK completing a valid cookie */
	TANDEM_REDIRECT_CTR_ACCEPT_ICMP_FLOW,	/* ICMP error quoting a local flow */
	TANDEM_REDIRECT_CTR_ACCEPT_NON_TCP,	/* other ICMP, UDP, other protocols */
	TANDEM_REDIRECT_CTR_ACCEPT_FRAGMENT,	/* inner non-first fragment */
	TANDEM_REDIRECT_CTR_ACCEPT_LAST_HOP,	/* no hop left: last resort */
	TANDEM_REDIRECT_CTR_ACCEPT_NEXT_LOCAL,	/* next hop is this host */
	TANDEM_REDIRECT_CTR_FORWARDED,		/* sent on to the next hop */
	TANDEM_REDIRECT_CTR_DROP_FORWARD_ERROR,	/* no route / no memory on forward */
	TANDEM_REDIRECT_CTR_DROP_SHORT,		/* truncated GUE or inner packet */
	TANDEM_REDIRECT_CTR_DROP_BAD_HEADER,	/* version, C bit, flags, type */
	TANDEM_REDIRECT_CTR_DROP_BAD_HLEN,	/* hlen != 1 + hop_count */
	TANDEM_REDIRECT_CTR_DROP_BAD_PROTO,	/* inner protocol not 4 or 41 */
	TANDEM_REDIRECT_CTR_DROP_SOURCE,	/* outer source not in SOURCES */
	TANDEM_REDIRECT_CTR_DROP_HOP_DENIED,	/* next hop not in SOURCES */
	TANDEM_REDIRECT_CTR_ACCEPT_CONNTRACK,	/* CONNTRACK_LOCAL: conntrack knows it */

	__TANDEM_REDIRECT_CTR_MAX,
	TANDEM_REDIRECT_CTR_MAX = __TANDEM_REDIRECT_CTR_MAX - 1
};

#endif /* _TANDEM_REDIRECT_NL_H */
