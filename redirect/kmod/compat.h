/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The only place tandem_redirect looks at LINUX_VERSION_CODE: kernel APIs
 * the module uses that changed between the kernels it builds for.
 */
#ifndef _TANDEM_COMPAT_H
#define _TANDEM_COMPAT_H

#include <linux/version.h>
#include <net/inet_hashtables.h>
#include <net/net_namespace.h>
#include <net/tcp.h>

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

#endif /* _TANDEM_COMPAT_H */
