// SPDX-License-Identifier: GPL-2.0-only
/*
 * tandem_redirect: the proxy side of Tandem's second chance.
 *
 * Module init/exit and the per network namespace state. Each namespace has
 * its own GUE ports, its own per-CPU counters and its own netfilter hook,
 * registered only while the namespace has the module enabled.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "tandem.h"

#ifndef TANDEM_REDIRECT_VERSION
#define TANDEM_REDIRECT_VERSION "0.0.0"
#endif

unsigned int tandem_net_id __read_mostly;

/* Called with tn->lock held. */
int tandem_set_enabled(struct net *net, bool enabled)
{
	struct tandem_net *tn = tandem_pernet(net);
	int err;

	lockdep_assert_held(&tn->lock);
	if (tn->enabled == enabled)
		return 0;
	if (enabled) {
		err = tandem_hooks_register(net);
		if (err)
			return err;
	} else {
		tandem_hooks_unregister(net);
	}
	tn->enabled = enabled;
	return 0;
}

void tandem_read_counters(struct tandem_net *tn,
			  u64 out[__TANDEM_REDIRECT_CTR_MAX])
{
	unsigned int cpu, i;

	memset(out, 0, sizeof(u64) * __TANDEM_REDIRECT_CTR_MAX);
	for_each_possible_cpu(cpu) {
		const struct tandem_stats *st = per_cpu_ptr(tn->stats, cpu);

		for (i = 0; i < __TANDEM_REDIRECT_CTR_MAX; i++)
			out[i] += READ_ONCE(st->ctr[i]);
	}
}

static int __net_init tandem_net_init(struct net *net)
{
	struct tandem_net *tn = tandem_pernet(net);
	struct tandem_cfg *cfg;

	mutex_init(&tn->lock);
	tn->enabled = false;
	tn->stats = alloc_percpu(struct tandem_stats);
	if (!tn->stats)
		return -ENOMEM;
	cfg = kzalloc(sizeof(*cfg), GFP_KERNEL);
	if (!cfg)
		goto free_stats;
	cfg->n_ports = 1;
	cfg->ports[0] = htons(TANDEM_REDIRECT_DEFAULT_PORT);
	RCU_INIT_POINTER(tn->cfg, cfg);
	return 0;

free_stats:
	free_percpu(tn->stats);
	return -ENOMEM;
}

static void __net_exit tandem_net_exit(struct net *net)
{
	struct tandem_net *tn = tandem_pernet(net);

	mutex_lock(&tn->lock);
	/* Unregistering waits for hooks in flight (synchronize_net). */
	tandem_set_enabled(net, false);
	kfree(rcu_dereference_protected(tn->cfg, lockdep_is_held(&tn->lock)));
	RCU_INIT_POINTER(tn->cfg, NULL);
	mutex_unlock(&tn->lock);
	free_percpu(tn->stats);
}

static struct pernet_operations tandem_net_ops = {
	.init = tandem_net_init,
	.exit = tandem_net_exit,
	.id = &tandem_net_id,
	.size = sizeof(struct tandem_net),
};

static int __init tandem_init(void)
{
	int err;

	err = register_pernet_subsys(&tandem_net_ops);
	if (err)
		return err;
	err = genl_register_family(&tandem_genl_family);
	if (err)
		goto unregister_pernet;
	pr_info("version %s loaded\n", TANDEM_REDIRECT_VERSION);
	return 0;

unregister_pernet:
	unregister_pernet_subsys(&tandem_net_ops);
	return err;
}

static void __exit tandem_exit(void)
{
	genl_unregister_family(&tandem_genl_family);
	unregister_pernet_subsys(&tandem_net_ops);
	/* Configs replaced with kfree_rcu() must be gone before the code. */
	rcu_barrier();
}

module_init(tandem_init);
module_exit(tandem_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The Tandem authors");
MODULE_DESCRIPTION("Tandem second-chance GUE redirect (GLB compatible)");
MODULE_VERSION(TANDEM_REDIRECT_VERSION);
MODULE_ALIAS_GENL_FAMILY(TANDEM_REDIRECT_GENL_NAME);
