// SPDX-License-Identifier: Apache-2.0
#include "nexthop.h"

#include <arpa/inet.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include <cerrno>
#include <cstring>
#include <set>

#include <netlink/cache.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/neighbour.h>
#include <netlink/socket.h>

#include "log.h"

namespace tandem::director {
namespace {

std::string ipv4_text(uint32_t a)
{
	char buf[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &a, buf, sizeof(buf));
	return buf;
}

struct SockDeleter {
	void operator()(nl_sock *s) const { nl_socket_free(s); }
};
struct CacheDeleter {
	void operator()(nl_cache *c) const { nl_cache_free(c); }
};
struct LinkDeleter {
	void operator()(rtnl_link *l) const { rtnl_link_put(l); }
};
struct AddrDeleter {
	void operator()(nl_addr *a) const { nl_addr_put(a); }
};
struct MsgDeleter {
	void operator()(nl_msg *m) const { nlmsg_free(m); }
};
struct NeighDeleter {
	void operator()(rtnl_neigh *n) const { rtnl_neigh_put(n); }
};

void changed(nl_cache *, nl_object *, int, void *arg)
{
	static_cast<NextHopResolver *>(arg)->mark_dirty();
}

struct RouteReply {
	bool found = false;
	uint32_t gateway = 0;
	int oif = 0;
};

int route_reply(nl_msg *msg, void *arg)
{
	auto *out = static_cast<RouteReply *>(arg);
	nlmsghdr *nlh = nlmsg_hdr(msg);
	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return NL_SKIP;
	nlattr *tb[RTA_MAX + 1];
	if (nlmsg_parse(nlh, sizeof(rtmsg), tb, RTA_MAX, nullptr) < 0)
		return NL_SKIP;
	auto *rtm = static_cast<rtmsg *>(nlmsg_data(nlh));
	if (rtm->rtm_type != RTN_UNICAST)
		return NL_SKIP;  // local, unreachable, blackhole...: no next hop
	out->found = true;
	if (tb[RTA_GATEWAY] != nullptr)
		out->gateway = nla_get_u32(tb[RTA_GATEWAY]);
	if (tb[RTA_OIF] != nullptr)
		out->oif = static_cast<int>(nla_get_u32(tb[RTA_OIF]));
	return NL_OK;
}

}  // namespace

Result<InterfaceInfo> query_interface(const std::string &ifname)
{
	std::unique_ptr<nl_sock, SockDeleter> sk(nl_socket_alloc());
	if (!sk || nl_connect(sk.get(), NETLINK_ROUTE) < 0)
		return make_error("rtnetlink socket: " + std::string(std::strerror(errno)), errno);
	rtnl_link *raw = nullptr;
	int err = rtnl_link_get_kernel(sk.get(), 0, ifname.c_str(), &raw);
	if (err < 0)
		return make_error("interface " + ifname + " (director.interface): " + nl_geterror(err) +
				  " (ip link show says which interfaces exist)");
	std::unique_ptr<rtnl_link, LinkDeleter> link(raw);
	InterfaceInfo info;
	info.ifindex = rtnl_link_get_ifindex(link.get());
	info.mtu = rtnl_link_get_mtu(link.get());
	nl_addr *ll = rtnl_link_get_addr(link.get());
	if (ll == nullptr || nl_addr_get_len(ll) != 6)
		return make_error("interface " + ifname + " has no Ethernet address");
	std::memcpy(info.mac.data(), nl_addr_get_binary_addr(ll), 6);

	nl_cache *addrs_raw = nullptr;
	if (rtnl_addr_alloc_cache(sk.get(), &addrs_raw) == 0) {
		std::unique_ptr<nl_cache, CacheDeleter> addrs(addrs_raw);
		for (nl_object *o = nl_cache_get_first(addrs.get()); o; o = nl_cache_get_next(o)) {
			auto *a = reinterpret_cast<rtnl_addr *>(o);
			if (rtnl_addr_get_ifindex(a) != info.ifindex || rtnl_addr_get_family(a) != AF_INET)
				continue;
			nl_addr *local = rtnl_addr_get_local(a);
			if (local == nullptr || nl_addr_get_len(local) != 4)
				continue;
			uint32_t v;
			std::memcpy(&v, nl_addr_get_binary_addr(local), 4);
			info.first_ipv4 = v;
			break;
		}
	}
	return info;
}

Result<std::unique_ptr<NextHopResolver>> NextHopResolver::create(const std::string &ifname,
								 int ifindex)
{
	std::unique_ptr<NextHopResolver> r(new NextHopResolver());
	r->ifname_ = ifname;
	r->ifindex_ = ifindex;
	r->req_ = nl_socket_alloc();
	if (r->req_ == nullptr || nl_connect(r->req_, NETLINK_ROUTE) < 0)
		return make_error("rtnetlink request socket: " + std::string(std::strerror(errno)), errno);
	nl_socket_disable_auto_ack(r->req_);  // solicit() asks for its ACK explicitly
	int err = nl_cache_mngr_alloc(nullptr, NETLINK_ROUTE, NL_AUTO_PROVIDE, &r->mngr_);
	if (err < 0)
		return make_error(std::string("rtnetlink notification socket: ") + nl_geterror(err));
	err = nl_cache_mngr_add(r->mngr_, "route/neigh", changed, r.get(), &r->neigh_);
	if (err >= 0)
		err = nl_cache_mngr_add(r->mngr_, "route/route", changed, r.get(), &r->route_);
	if (err < 0)
		return make_error(std::string("watching routes and neighbours: ") + nl_geterror(err));
	return r;
}

NextHopResolver::~NextHopResolver()
{
	if (mngr_ != nullptr)
		nl_cache_mngr_free(mngr_);  // frees the caches it manages
	if (req_ != nullptr)
		nl_socket_free(req_);
}

int NextHopResolver::fd() const { return nl_cache_mngr_get_fd(mngr_); }

void NextHopResolver::on_readable() { nl_cache_mngr_data_ready(mngr_); }

std::optional<uint32_t> NextHopResolver::gateway_for(uint32_t dst, int &oif)
{
	std::unique_ptr<nl_msg, MsgDeleter> msg(nlmsg_alloc_simple(RTM_GETROUTE, 0));
	rtmsg rtm{};
	rtm.rtm_family = AF_INET;
	rtm.rtm_dst_len = 32;
	if (!msg || nlmsg_append(msg.get(), &rtm, sizeof(rtm), NLMSG_ALIGNTO) < 0 ||
	    nla_put_u32(msg.get(), RTA_DST, dst) < 0)
		return std::nullopt;
	RouteReply reply;
	nl_socket_modify_cb(req_, NL_CB_VALID, NL_CB_CUSTOM, route_reply, &reply);
	// Auto-ACK is off on this socket: the kernel answers with the route alone, so no
	// stale ACK is left behind for the next request.
	if (nl_send_auto(req_, msg.get()) < 0 || nl_recvmsgs_default(req_) < 0)
		return std::nullopt;
	nl_socket_modify_cb(req_, NL_CB_VALID, NL_CB_DEFAULT, nullptr, nullptr);
	if (!reply.found)
		return std::nullopt;
	oif = reply.oif;
	return reply.gateway != 0 ? reply.gateway : dst;
}

void NextHopResolver::solicit(uint32_t gateway)
{
	std::unique_ptr<nl_msg, MsgDeleter> msg(
		nlmsg_alloc_simple(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE | NLM_F_ACK));
	ndmsg ndm{};
	ndm.ndm_family = AF_INET;
	ndm.ndm_ifindex = ifindex_;
	ndm.ndm_state = NUD_NONE;
	ndm.ndm_flags = NTF_USE;  // the kernel starts resolution (neigh_event_send)
	if (!msg || nlmsg_append(msg.get(), &ndm, sizeof(ndm), NLMSG_ALIGNTO) < 0 ||
	    nla_put(msg.get(), NDA_DST, 4, &gateway) < 0)
		return;
	nl_socket_modify_cb(req_, NL_CB_VALID, NL_CB_DEFAULT, nullptr, nullptr);
	if (nl_send_auto(req_, msg.get()) >= 0) {
		int err = nl_wait_for_ack(req_);
		if (err < 0)
			log(Level::debug, message_id::neighbour,
			    "soliciting " + ipv4_text(gateway) + ": " + nl_geterror(err));
	}
}

unsigned NextHopResolver::refresh(const NeighbourTable &table)
{
	dirty_ = false;
	unsigned unresolved = 0;
	std::set<uint32_t> misrouted;
	for (uint32_t proxy : table.addresses()) {
		int oif = 0;
		std::optional<uint32_t> gw = gateway_for(proxy, oif);
		std::optional<MacAddress> mac;
		if (gw && oif == ifindex_) {
			std::unique_ptr<nl_addr, AddrDeleter> a(nl_addr_build(AF_INET, &*gw, 4));
			std::unique_ptr<rtnl_neigh, NeighDeleter> n(
				a ? rtnl_neigh_get(neigh_, ifindex_, a.get()) : nullptr);
			const int usable = NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE |
					   NUD_PERMANENT | NUD_NOARP;
			if (n && (rtnl_neigh_get_state(n.get()) & usable) != 0) {
				nl_addr *ll = rtnl_neigh_get_lladdr(n.get());
				if (ll != nullptr && nl_addr_get_len(ll) == 6) {
					MacAddress m;
					std::memcpy(m.data(), nl_addr_get_binary_addr(ll), 6);
					mac = m;
				}
			}
			if (!mac)
				solicit(*gw);
		} else if (gw) {
			misrouted.insert(proxy);
			if (!misrouted_.count(proxy))  // once, not at every refresh
				log(Level::warning, message_id::neighbour,
				    "proxy " + ipv4_text(proxy) + " is routed through another interface than " +
					    ifname_ + "; its packets are dropped as no_neighbour",
				    {{"TANDEM_PROXY", ipv4_text(proxy)}});
		}
		table.set(proxy, mac);
		if (!mac)
			unresolved++;
	}
	if (unresolved != last_unresolved_)
		log(unresolved ? Level::notice : Level::info, message_id::neighbour,
		    std::to_string(unresolved) + " of " + std::to_string(table.addresses().size()) +
			    " proxies without a next-hop MAC",
		    {{"TANDEM_UNRESOLVED", std::to_string(unresolved)}});
	last_unresolved_ = unresolved;
	misrouted_ = std::move(misrouted);
	return unresolved;
}

}  // namespace tandem::director
