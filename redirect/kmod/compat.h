/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The only place tandem_redirect looks at LINUX_VERSION_CODE: kernel APIs
 * the module uses that changed between the kernels it builds for (Debian
 * 12's 6.1 and Debian 13's 6.12; see the README for how to add a kernel).
 */
#ifndef _TANDEM_COMPAT_H
#define _TANDEM_COMPAT_H

#include <linux/netfilter_ipv6.h>
#include <linux/version.h>
#include <net/inet_hashtables.h>
#include <net/net_namespace.h>
#include <net/tcp.h>
#if KERNEL_VERSION(6, 5, 0) <= LINUX_VERSION_CODE
/* 6.5 moved __skb_gso_segment() and friends from netdevice.h to gso.h. */
#include <net/gso.h>
#endif

/*
 * 6.1 gave each network namespace its own TCP established hash table
 * (net.ipv4.tcp_child_ehash_entries); before it every namespace shared
 * tcp_hashinfo.
 */
static inline struct inet_hashinfo *tandem_tcp_hashinfo(const struct net *net)
{
#if KERNEL_VERSION(6, 1, 0) <= LINUX_VERSION_CODE
	return net->ipv4.tcp_death_row.hashinfo;
#else
	return &tcp_hashinfo;
#endif
}

/*
 * 6.8 ("tcp: Don't pass cookie to __cookie_v[46]_check()") made the SYN
 * cookie checks read the cookie from th->ack_seq themselves. Both return
 * the MSS the cookie encodes, or 0 when it is not valid.
 */
static inline int tandem_cookie_v4_check(const struct iphdr *iph,
					 const struct tcphdr *th)
{
#if KERNEL_VERSION(6, 8, 0) <= LINUX_VERSION_CODE
	return __cookie_v4_check(iph, th);
#else
	return __cookie_v4_check(iph, th, ntohl(th->ack_seq) - 1);
#endif
}

/* Through netfilter's IPv6 ops, as nf_synproxy does (IPv6 may be a module). */
static inline int tandem_cookie_v6_check(const struct ipv6hdr *ip6h,
					 const struct tcphdr *th)
{
#if KERNEL_VERSION(6, 8, 0) <= LINUX_VERSION_CODE
	return nf_cookie_v6_check(ip6h, th);
#else
	return nf_cookie_v6_check(ip6h, th, ntohl(th->ack_seq) - 1);
#endif
}

#endif /* _TANDEM_COMPAT_H */
