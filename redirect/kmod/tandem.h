/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internal declarations shared by main.c, hook.c and nl.c.
 */
#ifndef _TANDEM_H
#define _TANDEM_H

#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/types.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "tandem_redirect_nl.h"

/* Immutable once published; replaced as a whole under tandem_net.lock. */
struct tandem_prefix {
	__be32 addr;
	__be32 mask;
};

struct tandem_cfg {
	struct rcu_head rcu;
	unsigned int n_ports;
	__be16 ports[TANDEM_REDIRECT_MAX_PORTS];
	bool conntrack_local;		/* a conntrack entry makes it ours */
	unsigned int n_sources;		/* 0: any address */
	struct tandem_prefix sources[TANDEM_REDIRECT_MAX_SOURCES];
};

struct tandem_stats {
	u64 ctr[__TANDEM_REDIRECT_CTR_MAX];
};

/* Per network namespace state, reached through net_generic(). */
struct tandem_net {
	struct mutex lock;		/* serialises config changes */
	struct tandem_cfg __rcu *cfg;
	bool enabled;			/* hooks registered in this netns */
	struct tandem_stats __percpu *stats;
	u64 base[__TANDEM_REDIRECT_CTR_MAX];	/* subtracted on read (reset) */
};

extern unsigned int tandem_net_id;
extern struct genl_family tandem_genl_family;

static inline struct tandem_net *tandem_pernet(const struct net *net)
{
	return net_generic(net, tandem_net_id);
}

/* hook.c */
int tandem_hooks_register(struct net *net);
void tandem_hooks_unregister(struct net *net);

/* main.c */
int tandem_set_enabled(struct net *net, bool enabled);
void tandem_read_counters(struct tandem_net *tn,
			  u64 out[__TANDEM_REDIRECT_CTR_MAX]);

#endif /* _TANDEM_H */
