// SPDX-License-Identifier: GPL-2.0-only
/*
 * The tandem_redirect generic netlink family: policies, operations and their
 * handlers. The interface itself (names, commands, attributes, version) is
 * defined once in tandem_redirect_nl.h, shared with tandem-proxyctl.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include <net/sock.h>

#include "tandem.h"

#ifndef TANDEM_REDIRECT_VERSION
#define TANDEM_REDIRECT_VERSION "0.0.0"
#endif

static const struct nla_policy tandem_port_policy[TANDEM_REDIRECT_PORT_A_MAX + 1] = {
	[TANDEM_REDIRECT_PORT_A_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
};

static const struct nla_policy tandem_pfx_policy[TANDEM_REDIRECT_PFX_A_MAX + 1] = {
	[TANDEM_REDIRECT_PFX_A_ADDR4] = { .type = NLA_BE32 },
	[TANDEM_REDIRECT_PFX_A_LEN] = NLA_POLICY_MAX(NLA_U8, 32),
};

static const struct nla_policy tandem_src_policy[TANDEM_REDIRECT_SRC_A_MAX + 1] = {
	[TANDEM_REDIRECT_SRC_A_PREFIX] = NLA_POLICY_NESTED(tandem_pfx_policy),
};

static const struct nla_policy tandem_set_policy[TANDEM_REDIRECT_A_MAX + 1] = {
	[TANDEM_REDIRECT_A_ENABLED] = NLA_POLICY_MAX(NLA_U8, 1),
	[TANDEM_REDIRECT_A_PORTS] = NLA_POLICY_NESTED(tandem_port_policy),
	[TANDEM_REDIRECT_A_SOURCES] = NLA_POLICY_NESTED(tandem_src_policy),
	[TANDEM_REDIRECT_A_CONNTRACK_LOCAL] = NLA_POLICY_MAX(NLA_U8, 1),
};

/* Parses A_PORTS into @cfg; 0 or -EINVAL with an extack message. */
static int tandem_parse_ports(struct tandem_cfg *cfg, const struct nlattr *ports,
			      struct netlink_ext_ack *extack)
{
	struct nlattr *a;
	unsigned int i;
	int rem;

	cfg->n_ports = 0;
	nla_for_each_nested(a, ports, rem) {
		__be16 port;

		if (nla_type(a) != TANDEM_REDIRECT_PORT_A_PORT) {
			NL_SET_ERR_MSG_ATTR(extack, a, "unexpected attribute in port list");
			return -EINVAL;
		}
		if (cfg->n_ports == TANDEM_REDIRECT_MAX_PORTS) {
			NL_SET_ERR_MSG_ATTR(extack, a, "too many GUE ports (at most 8)");
			return -EINVAL;
		}
		port = htons(nla_get_u16(a));
		for (i = 0; i < cfg->n_ports; i++) {
			if (cfg->ports[i] == port) {
				NL_SET_ERR_MSG_ATTR(extack, a, "GUE port listed twice");
				return -EINVAL;
			}
		}
		cfg->ports[cfg->n_ports++] = port;
	}
	if (!cfg->n_ports) {
		NL_SET_ERR_MSG_ATTR(extack, ports, "port list is empty: give at least one GUE port");
		return -EINVAL;
	}
	return 0;
}

/* Parses A_SOURCES into @cfg (an empty nest: any source). */
static int tandem_parse_sources(struct tandem_cfg *cfg,
				const struct nlattr *sources,
				struct netlink_ext_ack *extack)
{
	struct nlattr *tb[TANDEM_REDIRECT_PFX_A_MAX + 1];
	struct nlattr *a;
	int rem, err;

	cfg->n_sources = 0;
	nla_for_each_nested(a, sources, rem) {
		struct tandem_prefix *pfx;
		u8 len;

		if (nla_type(a) != TANDEM_REDIRECT_SRC_A_PREFIX) {
			NL_SET_ERR_MSG_ATTR(extack, a, "unexpected attribute in source list");
			return -EINVAL;
		}
		if (cfg->n_sources == TANDEM_REDIRECT_MAX_SOURCES) {
			NL_SET_ERR_MSG_ATTR(extack, a, "too many source prefixes (at most 64)");
			return -EINVAL;
		}
		err = nla_parse_nested(tb, TANDEM_REDIRECT_PFX_A_MAX, a,
				       tandem_pfx_policy, extack);
		if (err)
			return err;
		if (!tb[TANDEM_REDIRECT_PFX_A_ADDR4] || !tb[TANDEM_REDIRECT_PFX_A_LEN]) {
			NL_SET_ERR_MSG_ATTR(extack, a, "a source prefix needs ADDR4 and LEN");
			return -EINVAL;
		}
		len = nla_get_u8(tb[TANDEM_REDIRECT_PFX_A_LEN]);
		pfx = &cfg->sources[cfg->n_sources];
		pfx->mask = len ? htonl(~0U << (32 - len)) : 0;
		pfx->addr = nla_get_be32(tb[TANDEM_REDIRECT_PFX_A_ADDR4]);
		if (pfx->addr & ~pfx->mask) {
			NL_SET_ERR_MSG_ATTR(extack, a, "source prefix has host bits set");
			return -EINVAL;
		}
		cfg->n_sources++;
	}
	return 0;
}

static int tandem_nl_set_config(struct sk_buff *skb, struct genl_info *info)
{
	struct tandem_net *tn = tandem_pernet(genl_info_net(info));
	struct nlattr **attrs = info->attrs;
	struct tandem_cfg *cfg, *old;
	int err;

	if (!attrs[TANDEM_REDIRECT_A_PORTS] && !attrs[TANDEM_REDIRECT_A_ENABLED] &&
	    !attrs[TANDEM_REDIRECT_A_SOURCES] &&
	    !attrs[TANDEM_REDIRECT_A_CONNTRACK_LOCAL]) {
		NL_SET_ERR_MSG(info->extack,
			       "nothing to set: give ENABLED, PORTS, SOURCES and/or CONNTRACK_LOCAL");
		return -EINVAL;
	}
	cfg = kzalloc(sizeof(*cfg), GFP_KERNEL);
	if (!cfg)
		return -ENOMEM;

	mutex_lock(&tn->lock);
	/* What the message does not name stays as it is. */
	old = rcu_dereference_protected(tn->cfg, lockdep_is_held(&tn->lock));
	memcpy(cfg, old, sizeof(*cfg));
	err = 0;
	if (attrs[TANDEM_REDIRECT_A_PORTS])
		err = tandem_parse_ports(cfg, attrs[TANDEM_REDIRECT_A_PORTS],
					 info->extack);
	if (!err && attrs[TANDEM_REDIRECT_A_SOURCES])
		err = tandem_parse_sources(cfg, attrs[TANDEM_REDIRECT_A_SOURCES],
					   info->extack);
	if (err)
		goto unlock;
	if (attrs[TANDEM_REDIRECT_A_CONNTRACK_LOCAL])
		cfg->conntrack_local =
			nla_get_u8(attrs[TANDEM_REDIRECT_A_CONNTRACK_LOCAL]);
	if (attrs[TANDEM_REDIRECT_A_ENABLED]) {
		err = tandem_set_enabled(genl_info_net(info),
					 nla_get_u8(attrs[TANDEM_REDIRECT_A_ENABLED]));
		if (err) {
			NL_SET_ERR_MSG(info->extack, "cannot register the netfilter hook");
			goto unlock;
		}
	}
	rcu_assign_pointer(tn->cfg, cfg);
	kfree_rcu(old, rcu);
	cfg = NULL;
unlock:
	mutex_unlock(&tn->lock);
	kfree(cfg);
	return err;
}

static int tandem_fill_config(struct sk_buff *msg, struct tandem_net *tn)
{
	const struct tandem_cfg *cfg;
	struct nlattr *nest;
	unsigned int i;

	cfg = rcu_dereference_protected(tn->cfg, lockdep_is_held(&tn->lock));
	if (nla_put_u8(msg, TANDEM_REDIRECT_A_ENABLED, tn->enabled) ||
	    nla_put_u8(msg, TANDEM_REDIRECT_A_CONNTRACK_LOCAL,
		       cfg->conntrack_local) ||
	    nla_put_string(msg, TANDEM_REDIRECT_A_MODULE_VERSION,
			   TANDEM_REDIRECT_VERSION))
		return -EMSGSIZE;
	nest = nla_nest_start(msg, TANDEM_REDIRECT_A_PORTS);
	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < cfg->n_ports; i++) {
		if (nla_put_u16(msg, TANDEM_REDIRECT_PORT_A_PORT,
				ntohs(cfg->ports[i]))) {
			nla_nest_cancel(msg, nest);
			return -EMSGSIZE;
		}
	}
	nla_nest_end(msg, nest);

	nest = nla_nest_start(msg, TANDEM_REDIRECT_A_SOURCES);
	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < cfg->n_sources; i++) {
		struct nlattr *pfx = nla_nest_start(msg, TANDEM_REDIRECT_SRC_A_PREFIX);

		if (!pfx ||
		    nla_put_be32(msg, TANDEM_REDIRECT_PFX_A_ADDR4, cfg->sources[i].addr) ||
		    nla_put_u8(msg, TANDEM_REDIRECT_PFX_A_LEN,
			       hweight32(cfg->sources[i].mask))) {
			nla_nest_cancel(msg, nest);
			return -EMSGSIZE;
		}
		nla_nest_end(msg, pfx);
	}
	nla_nest_end(msg, nest);
	return 0;
}

/* Puts a COUNTERS nest of @val[i] - @base[i] (@base may be NULL). */
static int tandem_put_counters(struct sk_buff *msg, const u64 *val,
			       const u64 *base)
{
	struct nlattr *nest;
	unsigned int i;

	nest = nla_nest_start(msg, TANDEM_REDIRECT_A_COUNTERS);
	if (!nest)
		return -EMSGSIZE;
	for (i = TANDEM_REDIRECT_CTR_PASS_OTHER; i <= TANDEM_REDIRECT_CTR_MAX; i++) {
		if (nla_put_u64_64bit(msg, i, val[i] - (base ? base[i] : 0),
				      TANDEM_REDIRECT_CTR_PAD)) {
			nla_nest_cancel(msg, nest);
			return -EMSGSIZE;
		}
	}
	nla_nest_end(msg, nest);
	return 0;
}

static int tandem_fill_counters(struct sk_buff *msg, struct tandem_net *tn)
{
	u64 now[__TANDEM_REDIRECT_CTR_MAX];

	tandem_read_counters(tn, now);
	return tandem_put_counters(msg, now, tn->base);
}

/* Builds and sends the reply to a GET command. */
static int tandem_nl_reply(struct genl_info *info,
			   int (*fill)(struct sk_buff *msg,
				       struct tandem_net *tn))
{
	struct tandem_net *tn = tandem_pernet(genl_info_net(info));
	struct sk_buff *msg;
	void *hdr;
	int err;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &tandem_genl_family, 0,
				info->genlhdr->cmd);
	if (!hdr) {
		err = -EMSGSIZE;
		goto free_msg;
	}
	mutex_lock(&tn->lock);
	err = fill(msg, tn);
	mutex_unlock(&tn->lock);
	if (err)
		goto free_msg;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

free_msg:
	nlmsg_free(msg);
	return err;
}

static int tandem_nl_get_config(struct sk_buff *skb, struct genl_info *info)
{
	return tandem_nl_reply(info, tandem_fill_config);
}

static int tandem_nl_get_counters(struct sk_buff *skb, struct genl_info *info)
{
	return tandem_nl_reply(info, tandem_fill_counters);
}

/*
 * One message per possible CPU with that CPU's raw counters (monotonic
 * since the module was loaded; resets do not apply). Resumes at
 * cb->args[0].
 */
static int tandem_nl_dump_counters(struct sk_buff *skb,
				   struct netlink_callback *cb)
{
	struct tandem_net *tn = tandem_pernet(sock_net(skb->sk));
	u64 val[__TANDEM_REDIRECT_CTR_MAX];
	unsigned int cpu, i;
	void *hdr;

	for (cpu = cb->args[0]; cpu < nr_cpu_ids; cpu++) {
		const struct tandem_stats *st;

		if (!cpu_possible(cpu))
			continue;
		st = per_cpu_ptr(tn->stats, cpu);
		for (i = 0; i < __TANDEM_REDIRECT_CTR_MAX; i++)
			val[i] = READ_ONCE(st->ctr[i]);
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &tandem_genl_family,
				  NLM_F_MULTI, TANDEM_REDIRECT_CMD_GET_COUNTERS);
		if (!hdr)
			break;
		if (nla_put_u32(skb, TANDEM_REDIRECT_A_CPU, cpu) ||
		    tandem_put_counters(skb, val, NULL)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
	}
	cb->args[0] = cpu;
	return skb->len;
}

/*
 * Reset remembers the current sums as a base; the per-CPU counters
 * themselves stay monotonic and nobody races with the packet path.
 */
static int tandem_nl_reset_counters(struct sk_buff *skb, struct genl_info *info)
{
	struct tandem_net *tn = tandem_pernet(genl_info_net(info));

	mutex_lock(&tn->lock);
	tandem_read_counters(tn, tn->base);
	mutex_unlock(&tn->lock);
	return 0;
}

/*
 * Reads take no attributes (the core rejects any); writes need
 * CAP_NET_ADMIN in the user namespace owning the network namespace.
 */
static const struct genl_ops tandem_genl_ops[] = {
	{
		.cmd = TANDEM_REDIRECT_CMD_GET_CONFIG,
		.doit = tandem_nl_get_config,
	},
	{
		.cmd = TANDEM_REDIRECT_CMD_SET_CONFIG,
		.doit = tandem_nl_set_config,
		.policy = tandem_set_policy,
		.maxattr = TANDEM_REDIRECT_A_MAX,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = TANDEM_REDIRECT_CMD_GET_COUNTERS,
		.doit = tandem_nl_get_counters,
		.dumpit = tandem_nl_dump_counters,
	},
	{
		.cmd = TANDEM_REDIRECT_CMD_RESET_COUNTERS,
		.doit = tandem_nl_reset_counters,
		.flags = GENL_UNS_ADMIN_PERM,
	},
};

struct genl_family tandem_genl_family __ro_after_init = {
	.name = TANDEM_REDIRECT_GENL_NAME,
	.version = TANDEM_REDIRECT_GENL_VERSION,
	.netnsok = true,
	.module = THIS_MODULE,
	.ops = tandem_genl_ops,
	.n_ops = ARRAY_SIZE(tandem_genl_ops),
};
