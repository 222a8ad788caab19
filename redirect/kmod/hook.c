// SPDX-License-Identifier: GPL-2.0-only
/*
 * The netfilter hook: parse GLB-style GUE packets and make the second-chance
 * decision. A packet whose inner TCP flow this host knows (or can know: a
 * SYN, a request sock, a valid SYN cookie) is accepted and decapsulated by
 * the fou/GUE socket; any other inner TCP packet goes on to the next proxy in
 * the hop list, as long as one is left.
 *
 * Every GUE packet leaves tandem_one() through one place, which bumps
 * exactly one named per-CPU counter and returns the verdict that goes with
 * it. GUE only comes from the configured sources and only goes to hops
 * inside them; it is never tracked by conntrack (a second hook in raw
 * PRE_ROUTING marks it untracked).
 *
 * Offloads: a GRO aggregate built by fou's GUE GRO (SKB_GSO_UDP_TUNNEL*)
 * is one inner TCP flow behind one GUE header, so it gets one decision; any
 * other GSO skb (SKB_GSO_UDP_L4 from a UDP_SEGMENT sender, fraglist GRO)
 * holds many datagrams and is segmented so that each gets its own.
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
#include <linux/netfilter_ipv6.h>
#include <linux/skbuff.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/checksum.h>
#include <net/dst.h>
#include <net/inet6_hashtables.h>
#include <net/inet_hashtables.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_core.h>
#include <net/netfilter/nf_conntrack_tuple.h>
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

/* Is @addr inside one of the configured prefixes (any, when none are)? */
static bool tandem_source_allowed(const struct tandem_cfg *cfg, __be32 addr)
{
	unsigned int i;

	if (!cfg->n_sources)
		return true;
	for (i = 0; i < cfg->n_sources; i++)
		if ((addr & cfg->sources[i].mask) == cfg->sources[i].addr)
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

/*
 * The device and VRF a socket may be bound to are those of the packet as it
 * arrived (dif, sdif as TCP's own lookups take them): a socket bound to the
 * receiving device, or to the VRF holding it and the tunnel, matches.
 */
struct tandem_lookup {
	struct net *net;
	int dif;
	int sdif;
	bool conntrack_local;
};

/*
 * Does this namespace's conntrack know the inner TCP flow (original
 * direction, default zone)? For services in another namespace behind DNAT:
 * no socket here, but the entry DNAT made is. nf_conntrack is looked up
 * with symbol_get(), so the module does not load it on hosts that do not
 * use this: without nf_conntrack there is no entry to find.
 */
static bool tandem_conntrack_knows(const struct tandem_lookup *lk, u8 l3num,
				   const void *saddr, const void *daddr,
				   const struct tcphdr *th)
{
	static const struct nf_conntrack_zone zone = {
		.id = NF_CT_DEFAULT_ZONE_ID,
		.dir = NF_CT_DEFAULT_ZONE_DIR,
	};
	struct nf_conntrack_tuple_hash *(*find)(struct net *,
						const struct nf_conntrack_zone *,
						const struct nf_conntrack_tuple *);
	struct nf_conntrack_tuple_hash *h;
	struct nf_conntrack_tuple t = {};

	if (!lk->conntrack_local)
		return false;
	find = symbol_get(nf_conntrack_find_get);
	if (!find)
		return false;
	t.src.l3num = l3num;
	if (l3num == NFPROTO_IPV4) {
		memcpy(&t.src.u3.ip, saddr, 4);
		memcpy(&t.dst.u3.ip, daddr, 4);
	} else {
		memcpy(&t.src.u3.in6, saddr, 16);
		memcpy(&t.dst.u3.in6, daddr, 16);
	}
	t.src.u.tcp.port = th->source;
	t.dst.u.tcp.port = th->dest;
	t.dst.protonum = IPPROTO_TCP;
	t.dst.dir = IP_CT_DIR_ORIGINAL;
	h = find(lk->net, &zone, &t);
	symbol_put(nf_conntrack_find_get);
	if (!h)
		return false;
	/* not nf_ct_put(): that would make nf_conntrack a dependency */
	nf_conntrack_put(&nf_ct_tuplehash_to_ctrack(h)->ct_general);
	return true;
}

static bool tandem_syncookie_v4(const struct tandem_lookup *lk,
				const struct iphdr *iph,
				const struct tcphdr *th)
{
	struct net *net = lk->net;
	struct sock *lsk;

	if (!READ_ONCE(net->ipv4.sysctl_tcp_syncookies))
		return false;
	/* RCU (held by the hook): a listener is returned without a ref. */
	lsk = __inet_lookup_listener(net, tandem_tcp_hashinfo(net), NULL, 0,
				     iph->saddr, th->source, iph->daddr,
				     ntohs(th->dest), lk->dif, lk->sdif);
	if (!lsk || tcp_synq_no_recent_overflow(lsk))
		return false;
	return tandem_cookie_v4_check(iph, th) > 0;
}

static bool tandem_syncookie_v6(const struct tandem_lookup *lk,
				const struct ipv6hdr *ip6h,
				const struct tcphdr *th)
{
#if IS_ENABLED(CONFIG_IPV6)
	struct net *net = lk->net;
	struct sock *lsk;

	if (!READ_ONCE(net->ipv4.sysctl_tcp_syncookies))
		return false;
	lsk = inet6_lookup_listener(net, tandem_tcp_hashinfo(net), NULL, 0,
				    &ip6h->saddr, th->source, &ip6h->daddr,
				    ntohs(th->dest), lk->dif, lk->sdif);
	if (!lsk || tcp_synq_no_recent_overflow(lsk))
		return false;
	return tandem_cookie_v6_check(ip6h, th) > 0;
#else
	return false;
#endif
}

/*
 * Is there a socket for this flow: established, TIME_WAIT or a request sock
 * (TCP_NEW_SYN_RECV)? All three live in the established hash.
 */
static bool tandem_sock_v4(const struct tandem_lookup *lk, __be32 saddr,
			   __be16 sport, __be32 daddr, __be16 dport)
{
	struct sock *sk;

	sk = __inet_lookup_established(lk->net, tandem_tcp_hashinfo(lk->net),
				       saddr, sport, daddr, ntohs(dport),
				       lk->dif, lk->sdif);
	if (!sk)
		return false;
	sock_gen_put(sk);
	return true;
}

static bool tandem_sock_v6(const struct tandem_lookup *lk,
			   const struct in6_addr *saddr, __be16 sport,
			   const struct in6_addr *daddr, __be16 dport)
{
#if IS_ENABLED(CONFIG_IPV6)
	struct sock *sk;

	sk = __inet6_lookup_established(lk->net, tandem_tcp_hashinfo(lk->net),
					saddr, sport, daddr, ntohs(dport),
					lk->dif, lk->sdif);
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
static enum tandem_redirect_ctr tandem_icmp_v4(const struct tandem_lookup *lk,
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
	if (tandem_sock_v4(lk, qiph->daddr, dport, qiph->saddr, sport))
		return TANDEM_REDIRECT_CTR_ACCEPT_ICMP_FLOW;
	return TANDEM_REDIRECT_CTR_FORWARDED;
}

static enum tandem_redirect_ctr tandem_icmp_v6(const struct tandem_lookup *lk,
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

	if (tandem_sock_v6(lk, &qip6h->daddr, dport, &qip6h->saddr, sport))
		return TANDEM_REDIRECT_CTR_ACCEPT_ICMP_FLOW;
	return TANDEM_REDIRECT_CTR_FORWARDED;
}

/* FORWARDED here means "not ours": hand it on if a hop is left. */
static enum tandem_redirect_ctr tandem_decide_v4(const struct tandem_lookup *lk,
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
		return tandem_icmp_v4(lk, skb, off);
	if (iph->protocol != IPPROTO_TCP)
		return TANDEM_REDIRECT_CTR_ACCEPT_NON_TCP;

	th = skb_header_pointer(skb, off, sizeof(_th), &_th);
	if (!th)
		return TANDEM_REDIRECT_CTR_DROP_SHORT;
	if (th->syn && !th->ack)
		return TANDEM_REDIRECT_CTR_ACCEPT_SYN;
	if (tandem_sock_v4(lk, iph->saddr, th->source, iph->daddr, th->dest))
		return TANDEM_REDIRECT_CTR_ACCEPT_SOCKET;
	if (th->ack && !th->syn && !th->rst &&
	    tandem_syncookie_v4(lk, iph, th))
		return TANDEM_REDIRECT_CTR_ACCEPT_SYNCOOKIE;
	if (tandem_conntrack_knows(lk, NFPROTO_IPV4, &iph->saddr, &iph->daddr, th))
		return TANDEM_REDIRECT_CTR_ACCEPT_CONNTRACK;
	return TANDEM_REDIRECT_CTR_FORWARDED;
}

static enum tandem_redirect_ctr tandem_decide_v6(const struct tandem_lookup *lk,
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
		return tandem_icmp_v6(lk, skb, l4off);
	if (nexthdr != IPPROTO_TCP)
		return TANDEM_REDIRECT_CTR_ACCEPT_NON_TCP;

	th = skb_header_pointer(skb, l4off, sizeof(_th), &_th);
	if (!th)
		return TANDEM_REDIRECT_CTR_DROP_SHORT;
	if (th->syn && !th->ack)
		return TANDEM_REDIRECT_CTR_ACCEPT_SYN;
	if (tandem_sock_v6(lk, &ip6h->saddr, th->source, &ip6h->daddr,
			   th->dest))
		return TANDEM_REDIRECT_CTR_ACCEPT_SOCKET;
	if (th->ack && !th->syn && !th->rst &&
	    tandem_syncookie_v6(lk, ip6h, th))
		return TANDEM_REDIRECT_CTR_ACCEPT_SYNCOOKIE;
	if (tandem_conntrack_knows(lk, NFPROTO_IPV6, &ip6h->saddr, &ip6h->daddr, th))
		return TANDEM_REDIRECT_CTR_ACCEPT_CONNTRACK;
	return TANDEM_REDIRECT_CTR_FORWARDED;
}

/*
 * The outer headers for the next hop: source = our address (the old outer
 * destination), destination = @next, next_hop + 1. The UDP checksum is
 * updated for exactly these changes, so a datagram that arrived with a bad
 * checksum leaves with a bad one (udp_rcv has not verified it yet).
 */
static int tandem_rewrite(struct sk_buff *skb, const struct tandem_pkt *p,
			  __be32 next)
{
	struct tandem_gue_priv *priv;
	__be16 old_word, new_word;
	__be32 self, peer;
	struct udphdr *uh;
	struct iphdr *iph;

	/* A local sender's pending checksum: finish it before we change it. */
	if (!skb_is_gso(skb) && skb->ip_summed == CHECKSUM_PARTIAL &&
	    skb_checksum_help(skb))
		return -ENOMEM;
	if (skb_ensure_writable(skb, p->priv_off + sizeof(*priv)))
		return -ENOMEM;
	iph = ip_hdr(skb);	/* the headers may have moved */
	uh = (struct udphdr *)(skb->data + p->udp_off);
	priv = (struct tandem_gue_priv *)(skb->data + p->priv_off);

	self = iph->daddr;
	peer = iph->saddr;
	memcpy(&old_word, &priv->next_hop, sizeof(old_word));
	priv->next_hop++;
	memcpy(&new_word, &priv->next_hop, sizeof(new_word));
	iph->saddr = self;
	iph->daddr = next;
	ip_send_check(iph);

	if (!uh->check)
		return 0;	/* no UDP checksum: none to keep */
	if (skb_is_gso(skb)) {
		/*
		 * A fou GRO aggregate: its checksums were verified when it was
		 * built, and the check field holds the pseudo-header sum that
		 * GSO completes per segment on the way out.
		 */
		uh->check = ~csum_tcpudp_magic(self, next, skb->len - p->udp_off,
					       IPPROTO_UDP, 0);
		return 0;
	}
	csum_replace4(&uh->check, peer, self);
	csum_replace4(&uh->check, self, next);
	csum_replace2(&uh->check, old_word, new_word);
	if (!uh->check)
		uh->check = CSUM_MANGLED_0;
	/* What the receive side knew about the sum is stale now. */
	skb->ip_summed = CHECKSUM_NONE;
	return 0;
}

/*
 * Hand the packet to hops[next_hop]. Routed like a locally generated
 * packet of this host (ip_route_me_harder: the skb's mark, policy rules,
 * the VRF of the device it came in on). Sets *ctr; returns the verdict.
 */
static unsigned int tandem_forward(struct net *net, struct sk_buff *skb,
				   const struct tandem_cfg *cfg,
				   const struct tandem_pkt *p,
				   enum tandem_redirect_ctr *ctr)
{
	unsigned int hop_off = p->priv_off + sizeof(struct tandem_gue_priv) +
			       p->next_hop * 4;
	__be32 _next, next;
	const __be32 *nextp;
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
	if (!tandem_source_allowed(cfg, next)) {
		*ctr = TANDEM_REDIRECT_CTR_DROP_HOP_DENIED;
		return NF_DROP;
	}

	*ctr = TANDEM_REDIRECT_CTR_DROP_FORWARD_ERROR;
	if (tandem_rewrite(skb, p, next))
		return NF_DROP;
	memset(IPCB(skb), 0, sizeof(*IPCB(skb)));
	/* Needs the input route still attached: its device names the VRF. */
	if (ip_route_me_harder(net, NULL, skb, RTN_LOCAL))
		return NF_DROP;

	skb_orphan(skb);
	nf_reset_ct(skb);
	/* GUE is stateless: keep conntrack off the way out too. */
	nf_ct_set(skb, NULL, IP_CT_UNTRACKED);
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
	case TANDEM_REDIRECT_CTR_DROP_SOURCE:
	case TANDEM_REDIRECT_CTR_DROP_HOP_DENIED:
		return NF_DROP;
	default:
		return NF_ACCEPT;
	}
}

/* One GUE datagram (skb->data at its outer IPv4 header): decide, count. */
static unsigned int tandem_one(struct tandem_net *tn,
			       const struct tandem_cfg *cfg,
			       struct sk_buff *skb, struct net *net)
{
	const struct iphdr *iph = ip_hdr(skb);
	struct tandem_lookup lk = {
		.net = net,
		.dif = inet_iif(skb),
		.sdif = inet_sdif(skb),
		.conntrack_local = cfg->conntrack_local,
	};
	enum tandem_redirect_ctr ctr;
	unsigned int verdict;
	struct tandem_pkt p;

	this_cpu_inc(tn->stats->ctr[TANDEM_REDIRECT_CTR_GUE_RX]);
	if (!tandem_source_allowed(cfg, iph->saddr)) {
		ctr = TANDEM_REDIRECT_CTR_DROP_SOURCE;
		goto out;
	}
	ctr = tandem_parse_gue(skb, skb_network_offset(skb) + iph->ihl * 4, &p);
	if (ctr == TANDEM_REDIRECT_CTR_GUE_RX)
		ctr = p.proto == TANDEM_GUE_PROTO_IPV4 ?
		      tandem_decide_v4(&lk, skb, p.inner_off) :
		      tandem_decide_v6(&lk, skb, p.inner_off);
	if (ctr == TANDEM_REDIRECT_CTR_FORWARDED) {
		verdict = tandem_forward(net, skb, cfg, &p, &ctr);
		this_cpu_inc(tn->stats->ctr[ctr]);
		return verdict;
	}
out:
	this_cpu_inc(tn->stats->ctr[ctr]);
	return tandem_verdict(ctr);
}

/*
 * Many datagrams in one skb: segment it (as udp_rcv would for a socket that
 * does not take GSO) and decide for each. Accepted segments go on to local
 * delivery; the original is consumed.
 */
static unsigned int tandem_segmented(struct tandem_net *tn,
				     const struct tandem_cfg *cfg,
				     struct sk_buff *skb,
				     const struct nf_hook_state *state)
{
	struct sk_buff *segs, *seg, *next;

	/* Looped-back GSO was CHECKSUM_NONE turned UNNECESSARY: see udp_rcv_segment. */
	if (skb->pkt_type == PACKET_LOOPBACK)
		skb->ip_summed = CHECKSUM_PARTIAL;
	if (skb_mac_header_was_set(skb))
		__skb_push(skb, -skb_mac_offset(skb));
	segs = __skb_gso_segment(skb, NETIF_F_SG, false);
	if (IS_ERR_OR_NULL(segs)) {
		__skb_pull(skb, skb_network_offset(skb));
		this_cpu_inc(tn->stats->ctr[TANDEM_REDIRECT_CTR_GUE_RX]);
		this_cpu_inc(tn->stats->ctr[TANDEM_REDIRECT_CTR_DROP_FORWARD_ERROR]);
		return NF_DROP;
	}
	consume_skb(skb);
	skb_list_walk_safe(segs, seg, next) {
		skb_mark_not_on_list(seg);
		__skb_pull(seg, skb_network_offset(seg));
		switch (tandem_one(tn, cfg, seg, state->net)) {
		case NF_ACCEPT:
			state->okfn(state->net, state->sk, seg);
			break;
		case NF_DROP:
			kfree_skb(seg);
			break;
		default:	/* stolen: forwarded */
			break;
		}
	}
	return NF_STOLEN;
}

static const struct udphdr *tandem_gue_udp(const struct tandem_cfg *cfg,
					   struct sk_buff *skb,
					   struct udphdr *buf)
{
	const struct iphdr *iph = ip_hdr(skb);
	const struct udphdr *uh;

	if (iph->protocol != IPPROTO_UDP)
		return NULL;
	uh = skb_header_pointer(skb, skb_network_offset(skb) + iph->ihl * 4,
				sizeof(*buf), buf);
	if (!uh || !tandem_port_watched(cfg, uh->dest))
		return NULL;
	return uh;
}

static unsigned int tandem_hook(void *priv, struct sk_buff *skb,
				const struct nf_hook_state *state)
{
	struct tandem_net *tn = tandem_pernet(state->net);
	const struct tandem_cfg *cfg;
	struct udphdr _uh;

	cfg = rcu_dereference(tn->cfg);
	if (!tandem_gue_udp(cfg, skb, &_uh)) {
		this_cpu_inc(tn->stats->ctr[TANDEM_REDIRECT_CTR_PASS_OTHER]);
		return NF_ACCEPT;
	}
	if (skb_is_gso(skb) &&
	    !(skb_shinfo(skb)->gso_type &
	      (SKB_GSO_UDP_TUNNEL | SKB_GSO_UDP_TUNNEL_CSUM)))
		return tandem_segmented(tn, cfg, skb, state);
	return tandem_one(tn, cfg, skb, state->net);
}

/*
 * raw PRE_ROUTING (before conntrack): GUE to our ports is untracked. Each
 * datagram stands alone, the director's source ports are spread per flow,
 * and forwarded copies leave from our address: entries for it would only
 * fill the table (and be evicted under a flood) and let NAT or "ct state"
 * rules meddle with packets that are not connections.
 */
static unsigned int tandem_notrack(void *priv, struct sk_buff *skb,
				   const struct nf_hook_state *state)
{
	struct tandem_net *tn = tandem_pernet(state->net);
	struct udphdr _uh;

	if (!skb_nfct(skb) &&
	    tandem_gue_udp(rcu_dereference(tn->cfg), skb, &_uh))
		nf_ct_set(skb, NULL, IP_CT_UNTRACKED);
	return NF_ACCEPT;
}

static const struct nf_hook_ops tandem_nf_ops[] = {
	{
		.hook		= tandem_notrack,
		.pf		= NFPROTO_IPV4,
		.hooknum	= NF_INET_PRE_ROUTING,
		.priority	= NF_IP_PRI_RAW,
	},
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
