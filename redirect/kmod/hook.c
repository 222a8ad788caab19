// SPDX-License-Identifier: GPL-2.0-only
/*
 * The netfilter hook: parse GLB-style GUE packets and make the second-chance
 * decision. A packet whose inner TCP flow this host knows (or can know: a
 * SYN, a request sock, a valid SYN cookie) is accepted and decapsulated by
 * the fou/GUE socket; any other inner TCP packet goes on to the next proxy in
 * the hop list, as long as one is left.
 *
 * Every GUE packet leaves tandem_hook() through one place, which bumps
 * exactly one named per-CPU counter and returns the verdict that goes with
 * it.
 *
 * This file is over 400 lines on purpose: it is the whole per-packet path
 * (GUE parse, the IPv4 and IPv6 decisions with their ICMP quotes, the
 * forward), kept in one translation unit so the small static helpers
 * inline into the hook; the control plane lives in nl.c and main.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/skbuff.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/checksum.h>
#include <net/inet6_hashtables.h>
#include <net/inet_hashtables.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/route.h>
#include <net/tcp.h>

#include "compat.h"
#include "tandem.h"

#define TANDEM_GUE_PROTO_IPV4	4	/* IPPROTO_IPIP */
#define TANDEM_GUE_PROTO_IPV6	41	/* IPPROTO_IPV6 */

/* Byte 0 of the GUE header: version (2 bits), C (1 bit), hlen (5 bits). */
#define TANDEM_GUE_VERSION(b)	((b) >> 6)
#define TANDEM_GUE_CONTROL	0x20
#define TANDEM_GUE_HLEN(b)	((b) & 0x1f)

struct tandem_guehdr {
	u8 vch;
	u8 proto;
	__be16 flags;
};

/* GLB's private data, right after the GUE header; the hops follow it. */
struct tandem_gue_priv {
	__be16 type;
	u8 next_hop;
	u8 hop_count;
};

/* Offsets from skb->data, which sits at the outer IPv4 header. */
struct tandem_pkt {
	unsigned int udp_off;
	unsigned int priv_off;
	unsigned int inner_off;
	u8 proto;
	u8 next_hop;
	u8 hop_count;
};

static bool tandem_port_watched(const struct tandem_cfg *cfg, __be16 port)
{
	unsigned int i;

	for (i = 0; i < cfg->n_ports; i++)
		if (cfg->ports[i] == port)
			return true;
	return false;
}

/* Validates the GUE header and hop list; fills @p. */
static enum tandem_redirect_ctr tandem_parse_gue(struct sk_buff *skb,
						 unsigned int udp_off,
						 struct tandem_pkt *p)
{
	unsigned int gue_off = udp_off + sizeof(struct udphdr);
	const struct tandem_gue_priv *priv;
	const struct tandem_guehdr *gh;
	struct tandem_gue_priv _priv;
	struct tandem_guehdr _gh;
	unsigned int hlen;

	gh = skb_header_pointer(skb, gue_off, sizeof(_gh), &_gh);
	if (!gh)
		return TANDEM_REDIRECT_CTR_DROP_SHORT;
	if (TANDEM_GUE_VERSION(gh->vch) != 0 ||
	    (gh->vch & TANDEM_GUE_CONTROL) || gh->flags)
		return TANDEM_REDIRECT_CTR_DROP_BAD_HEADER;
	hlen = TANDEM_GUE_HLEN(gh->vch);
	if (hlen == 0)
		return TANDEM_REDIRECT_CTR_DROP_BAD_HLEN;
	if (gh->proto != TANDEM_GUE_PROTO_IPV4 &&
	    gh->proto != TANDEM_GUE_PROTO_IPV6)
		return TANDEM_REDIRECT_CTR_DROP_BAD_PROTO;

	p->priv_off = gue_off + sizeof(_gh);
	priv = skb_header_pointer(skb, p->priv_off, sizeof(_priv), &_priv);
	if (!priv)
		return TANDEM_REDIRECT_CTR_DROP_SHORT;
	if (priv->type)
		return TANDEM_REDIRECT_CTR_DROP_BAD_HEADER;
	if (hlen != 1U + priv->hop_count)
		return TANDEM_REDIRECT_CTR_DROP_BAD_HLEN;

	p->udp_off = udp_off;
	p->inner_off = p->priv_off + hlen * 4;
	if (skb->len < p->inner_off)
		return TANDEM_REDIRECT_CTR_DROP_SHORT;
	p->proto = gh->proto;
	p->next_hop = priv->next_hop;
	p->hop_count = priv->hop_count;
	return TANDEM_REDIRECT_CTR_GUE_RX;
}

static bool tandem_syncookie_v4(struct net *net, const struct iphdr *iph,
				const struct tcphdr *th)
{
	struct sock *lsk;

	if (!READ_ONCE(net->ipv4.sysctl_tcp_syncookies))
		return false;
	/* RCU (held by the hook): a listener is returned without a ref. */
	lsk = __inet_lookup_listener(net, tandem_tcp_hashinfo(net), NULL, 0,
				     iph->saddr, th->source, iph->daddr,
				     ntohs(th->dest), 0, 0);
	if (!lsk || tcp_synq_no_recent_overflow(lsk))
		return false;
	return __cookie_v4_check(iph, th, ntohl(th->ack_seq) - 1) > 0;
}

static bool tandem_syncookie_v6(struct net *net, const struct ipv6hdr *ip6h,
				const struct tcphdr *th)
{
#if IS_ENABLED(CONFIG_IPV6)
	struct sock *lsk;

	if (!READ_ONCE(net->ipv4.sysctl_tcp_syncookies))
		return false;
	lsk = inet6_lookup_listener(net, tandem_tcp_hashinfo(net), NULL, 0,
				    &ip6h->saddr, th->source, &ip6h->daddr,
				    ntohs(th->dest), 0, 0);
	if (!lsk || tcp_synq_no_recent_overflow(lsk))
		return false;
	return __cookie_v6_check(ip6h, th, ntohl(th->ack_seq) - 1) > 0;
#else
	return false;
#endif
}

/*
 * Is there a socket for this flow: established, TIME_WAIT or a request sock
 * (TCP_NEW_SYN_RECV)? All three live in the established hash.
 */
static bool tandem_sock_v4(struct net *net, __be32 saddr, __be16 sport,
			   __be32 daddr, __be16 dport)
{
	struct sock *sk;

	sk = __inet_lookup_established(net, tandem_tcp_hashinfo(net), saddr,
				       sport, daddr, ntohs(dport), 0, 0);
	if (!sk)
		return false;
	sock_gen_put(sk);
	return true;
}

static bool tandem_sock_v6(struct net *net, const struct in6_addr *saddr,
			   __be16 sport, const struct in6_addr *daddr,
			   __be16 dport)
{
#if IS_ENABLED(CONFIG_IPV6)
	struct sock *sk;

	sk = __inet6_lookup_established(net, tandem_tcp_hashinfo(net), saddr,
					sport, daddr, ntohs(dport), 0, 0);
	if (!sk)
		return false;
	sock_gen_put(sk);
	return true;
#else
	return false;
#endif
}

/* Ports of the TCP header quoted at @off, or false when it is short. */
static bool tandem_quoted_ports(struct sk_buff *skb, unsigned int off,
				__be16 *sport, __be16 *dport)
{
	__be16 _ports[2];
	const __be16 *ports;

	ports = skb_header_pointer(skb, off, sizeof(_ports), _ports);
	if (!ports)
		return false;
	*sport = ports[0];
	*dport = ports[1];
	return true;
}

/* Inner IPv4 ICMP: frag-needed errors follow the quoted TCP flow. */
static enum tandem_redirect_ctr tandem_icmp_v4(struct net *net,
					       struct sk_buff *skb,
					       unsigned int off)
{
	const struct icmphdr *icmph;
	const struct iphdr *qiph;
	struct icmphdr _icmph;
	struct iphdr _qiph;
	__be16 sport, dport;

	icmph = skb_header_pointer(skb, off, sizeof(_icmph), &_icmph);
	if (!icmph)
		return TANDEM_REDIRECT_CTR_DROP_SHORT;
	if (icmph->type != ICMP_DEST_UNREACH || icmph->code != ICMP_FRAG_NEEDED)
		return TANDEM_REDIRECT_CTR_ACCEPT_NON_TCP;

	off += sizeof(_icmph);
	qiph = skb_header_pointer(skb, off, sizeof(_qiph), &_qiph);
	if (!qiph || qiph->version != 4 || qiph->ihl < 5 ||
	    qiph->protocol != IPPROTO_TCP ||
	    !tandem_quoted_ports(skb, off + qiph->ihl * 4, &sport, &dport))
		return TANDEM_REDIRECT_CTR_ACCEPT_NON_TCP;

	/* The quoted packet went from us to the client: swap both ends. */
	if (tandem_sock_v4(net, qiph->daddr, dport, qiph->saddr, sport))
		return TANDEM_REDIRECT_CTR_ACCEPT_ICMP_FLOW;
	return TANDEM_REDIRECT_CTR_FORWARDED;
}

static enum tandem_redirect_ctr tandem_icmp_v6(struct net *net,
					       struct sk_buff *skb,
					       unsigned int off)
{
	const struct ipv6hdr *qip6h;
	const struct icmp6hdr *icmph;
	struct icmp6hdr _icmph;
	struct ipv6hdr _qip6h;
	__be16 sport, dport;
	__be16 frag_off;
	u8 nexthdr;
	int l4off;

	icmph = skb_header_pointer(skb, off, sizeof(_icmph), &_icmph);
	if (!icmph)
		return TANDEM_REDIRECT_CTR_DROP_SHORT;
	if (icmph->icmp6_type != ICMPV6_PKT_TOOBIG)
		return TANDEM_REDIRECT_CTR_ACCEPT_NON_TCP;

	off += sizeof(_icmph);
	qip6h = skb_header_pointer(skb, off, sizeof(_qip6h), &_qip6h);
	if (!qip6h || qip6h->version != 6)
		return TANDEM_REDIRECT_CTR_ACCEPT_NON_TCP;
	nexthdr = qip6h->nexthdr;
	l4off = ipv6_skip_exthdr(skb, off + sizeof(_qip6h), &nexthdr,
				 &frag_off);
	if (l4off < 0 || nexthdr != IPPROTO_TCP ||
	    !tandem_quoted_ports(skb, l4off, &sport, &dport))
		return TANDEM_REDIRECT_CTR_ACCEPT_NON_TCP;

	if (tandem_sock_v6(net, &qip6h->daddr, dport, &qip6h->saddr, sport))
		return TANDEM_REDIRECT_CTR_ACCEPT_ICMP_FLOW;
	return TANDEM_REDIRECT_CTR_FORWARDED;
}

/* FORWARDED here means "not ours": hand it on if a hop is left. */
static enum tandem_redirect_ctr tandem_decide_v4(struct net *net,
						 struct sk_buff *skb,
						 unsigned int off)
{
	const struct tcphdr *th;
	const struct iphdr *iph;
	struct tcphdr _th;
	struct iphdr _iph;

	iph = skb_header_pointer(skb, off, sizeof(_iph), &_iph);
	if (!iph)
		return TANDEM_REDIRECT_CTR_DROP_SHORT;
	if (iph->version != 4 || iph->ihl < 5)
		return TANDEM_REDIRECT_CTR_DROP_BAD_PROTO;
	if (ntohs(iph->frag_off) & IP_OFFSET)
		return TANDEM_REDIRECT_CTR_ACCEPT_FRAGMENT;
	off += iph->ihl * 4;

	if (iph->protocol == IPPROTO_ICMP)
		return tandem_icmp_v4(net, skb, off);
	if (iph->protocol != IPPROTO_TCP)
		return TANDEM_REDIRECT_CTR_ACCEPT_NON_TCP;

	th = skb_header_pointer(skb, off, sizeof(_th), &_th);
	if (!th)
		return TANDEM_REDIRECT_CTR_DROP_SHORT;
	if (th->syn && !th->ack)
		return TANDEM_REDIRECT_CTR_ACCEPT_SYN;
	if (tandem_sock_v4(net, iph->saddr, th->source, iph->daddr, th->dest))
		return TANDEM_REDIRECT_CTR_ACCEPT_SOCKET;
	if (th->ack && !th->syn && !th->rst &&
	    tandem_syncookie_v4(net, iph, th))
		return TANDEM_REDIRECT_CTR_ACCEPT_SYNCOOKIE;
	return TANDEM_REDIRECT_CTR_FORWARDED;
}

static enum tandem_redirect_ctr tandem_decide_v6(struct net *net,
						 struct sk_buff *skb,
						 unsigned int off)
{
	const struct ipv6hdr *ip6h;
	const struct tcphdr *th;
	struct ipv6hdr _ip6h;
	struct tcphdr _th;
	__be16 frag_off;
	u8 nexthdr;
	int l4off;

	ip6h = skb_header_pointer(skb, off, sizeof(_ip6h), &_ip6h);
	if (!ip6h)
		return TANDEM_REDIRECT_CTR_DROP_SHORT;
	if (ip6h->version != 6)
		return TANDEM_REDIRECT_CTR_DROP_BAD_PROTO;
	nexthdr = ip6h->nexthdr;
	l4off = ipv6_skip_exthdr(skb, off + sizeof(_ip6h), &nexthdr, &frag_off);
	if (l4off < 0)
		return TANDEM_REDIRECT_CTR_DROP_SHORT;
	if (ntohs(frag_off) & ~0x7)
		return TANDEM_REDIRECT_CTR_ACCEPT_FRAGMENT;

	if (nexthdr == IPPROTO_ICMPV6)
		return tandem_icmp_v6(net, skb, l4off);
	if (nexthdr != IPPROTO_TCP)
		return TANDEM_REDIRECT_CTR_ACCEPT_NON_TCP;

	th = skb_header_pointer(skb, l4off, sizeof(_th), &_th);
	if (!th)
		return TANDEM_REDIRECT_CTR_DROP_SHORT;
	if (th->syn && !th->ack)
		return TANDEM_REDIRECT_CTR_ACCEPT_SYN;
	if (tandem_sock_v6(net, &ip6h->saddr, th->source, &ip6h->daddr,
			   th->dest))
		return TANDEM_REDIRECT_CTR_ACCEPT_SOCKET;
	if (th->ack && !th->syn && !th->rst &&
	    tandem_syncookie_v6(net, ip6h, th))
		return TANDEM_REDIRECT_CTR_ACCEPT_SYNCOOKIE;
	return TANDEM_REDIRECT_CTR_FORWARDED;
}

/* Outer UDP checksum after the addresses and next hop index changed. */
static int tandem_fix_udp_csum(struct sk_buff *skb, const struct tandem_pkt *p,
			       __be32 saddr, __be32 daddr)
{
	struct udphdr *uh = (struct udphdr *)(skb->data + p->udp_off);
	unsigned int ulen = ntohs(uh->len);
	__wsum csum;

	if (skb_is_gso(skb)) {
		/* A GRO aggregate keeps only the pseudo-header sum. */
		if (uh->check)
			uh->check = ~csum_tcpudp_magic(saddr, daddr,
						       skb->len - p->udp_off,
						       IPPROTO_UDP, 0);
		return 0;
	}
	/* Whatever the receive side knew about the sum is stale now. */
	skb->ip_summed = CHECKSUM_NONE;
	if (!uh->check)
		return 0;
	if (ulen < sizeof(*uh) || ulen > skb->len - p->udp_off)
		return -EINVAL;
	uh->check = 0;
	csum = skb_checksum(skb, p->udp_off, ulen, 0);
	uh->check = csum_tcpudp_magic(saddr, daddr, ulen, IPPROTO_UDP, csum);
	if (!uh->check)
		uh->check = CSUM_MANGLED_0;
	return 0;
}

/*
 * Hand the packet to hops[next_hop]: outer src = our address (the old outer
 * dst), outer dst = that hop, next_hop + 1. Sets *ctr; returns the verdict.
 */
static unsigned int tandem_forward(struct net *net, struct sk_buff *skb,
				   const struct tandem_pkt *p,
				   enum tandem_redirect_ctr *ctr)
{
	unsigned int hop_off = p->priv_off + sizeof(struct tandem_gue_priv) +
			       p->next_hop * 4;
	struct tandem_gue_priv *priv;
	__be32 _next, self, next;
	const __be32 *nextp;
	struct iphdr *iph;
	struct rtable *rt;
	int err;

	if (p->next_hop >= p->hop_count) {
		*ctr = TANDEM_REDIRECT_CTR_ACCEPT_LAST_HOP;
		return NF_ACCEPT;
	}
	nextp = skb_header_pointer(skb, hop_off, sizeof(_next), &_next);
	if (!nextp) {
		*ctr = TANDEM_REDIRECT_CTR_DROP_SHORT;
		return NF_DROP;
	}
	next = *nextp;
	switch (inet_addr_type(net, next)) {
	case RTN_LOCAL:
		*ctr = TANDEM_REDIRECT_CTR_ACCEPT_NEXT_LOCAL;
		return NF_ACCEPT;
	case RTN_UNICAST:
		break;
	default:
		/* Never hand GUE to broadcast, multicast or 0.0.0.0. */
		*ctr = TANDEM_REDIRECT_CTR_DROP_FORWARD_ERROR;
		return NF_DROP;
	}

	*ctr = TANDEM_REDIRECT_CTR_DROP_FORWARD_ERROR;
	if (skb_ensure_writable(skb, p->priv_off + sizeof(*priv)))
		return NF_DROP;
	iph = ip_hdr(skb);	/* the headers may have moved */
	self = iph->daddr;
	rt = ip_route_output(net, next, self, RT_TOS(iph->tos), 0);
	if (IS_ERR(rt))
		return NF_DROP;

	priv = (struct tandem_gue_priv *)(skb->data + p->priv_off);
	priv->next_hop++;
	iph->saddr = self;
	iph->daddr = next;
	if (tandem_fix_udp_csum(skb, p, self, next)) {
		ip_rt_put(rt);
		return NF_DROP;
	}
	ip_send_check(iph);

	skb_orphan(skb);
	nf_reset_ct(skb);
	skb_dst_drop(skb);
	skb_dst_set(skb, &rt->dst);
	memset(IPCB(skb), 0, sizeof(*IPCB(skb)));
	skb->pkt_type = PACKET_HOST;
	skb_clear_tstamp(skb);

	err = ip_local_out(net, NULL, skb);
	*ctr = net_xmit_eval(err) ? TANDEM_REDIRECT_CTR_DROP_FORWARD_ERROR :
				    TANDEM_REDIRECT_CTR_FORWARDED;
	return NF_STOLEN;
}

static unsigned int tandem_verdict(enum tandem_redirect_ctr ctr)
{
	switch (ctr) {
	case TANDEM_REDIRECT_CTR_DROP_FORWARD_ERROR:
	case TANDEM_REDIRECT_CTR_DROP_SHORT:
	case TANDEM_REDIRECT_CTR_DROP_BAD_HEADER:
	case TANDEM_REDIRECT_CTR_DROP_BAD_HLEN:
	case TANDEM_REDIRECT_CTR_DROP_BAD_PROTO:
		return NF_DROP;
	default:
		return NF_ACCEPT;
	}
}

static unsigned int tandem_hook(void *priv, struct sk_buff *skb,
				const struct nf_hook_state *state)
{
	struct tandem_net *tn = tandem_pernet(state->net);
	const struct tandem_cfg *cfg;
	enum tandem_redirect_ctr ctr;
	const struct udphdr *uh;
	const struct iphdr *iph;
	unsigned int verdict;
	struct udphdr _uh;
	struct tandem_pkt p;

	iph = ip_hdr(skb);
	cfg = rcu_dereference(tn->cfg);
	uh = iph->protocol == IPPROTO_UDP ?
	     skb_header_pointer(skb, skb_network_offset(skb) + iph->ihl * 4,
				sizeof(_uh), &_uh) : NULL;
	if (!uh || !tandem_port_watched(cfg, uh->dest)) {
		this_cpu_inc(tn->stats->ctr[TANDEM_REDIRECT_CTR_PASS_OTHER]);
		return NF_ACCEPT;
	}
	this_cpu_inc(tn->stats->ctr[TANDEM_REDIRECT_CTR_GUE_RX]);

	ctr = tandem_parse_gue(skb, skb_network_offset(skb) + iph->ihl * 4, &p);
	if (ctr == TANDEM_REDIRECT_CTR_GUE_RX)
		ctr = p.proto == TANDEM_GUE_PROTO_IPV4 ?
		      tandem_decide_v4(state->net, skb, p.inner_off) :
		      tandem_decide_v6(state->net, skb, p.inner_off);

	if (ctr == TANDEM_REDIRECT_CTR_FORWARDED)
		verdict = tandem_forward(state->net, skb, &p, &ctr);
	else
		verdict = tandem_verdict(ctr);
	this_cpu_inc(tn->stats->ctr[ctr]);
	return verdict;
}

static const struct nf_hook_ops tandem_nf_ops[] = {
	{
		.hook		= tandem_hook,
		.pf		= NFPROTO_IPV4,
		.hooknum	= NF_INET_LOCAL_IN,
		/* After the filter table: a firewall rule still wins. */
		.priority	= NF_IP_PRI_FILTER + 1,
	},
};

int tandem_hooks_register(struct net *net)
{
	return nf_register_net_hooks(net, tandem_nf_ops,
				     ARRAY_SIZE(tandem_nf_ops));
}

void tandem_hooks_unregister(struct net *net)
{
	nf_unregister_net_hooks(net, tandem_nf_ops, ARRAY_SIZE(tandem_nf_ops));
}
