// SPDX-License-Identifier: Apache-2.0
#include "nexthop.h"

#include <arpa/inet.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include <netlink/cache.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/neighbour.h>
#include <netlink/socket.h>

#include "log.h"
#include "nl_ptr.h"

namespace tandem::director {
namespace {

std::string ipv4_text(uint32_t a)
{
	char buf[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &a, buf, sizeof(buf));
	return buf;
}

void changed(nl_cache *, nl_object *, int, void *arg)
{
	static_cast<NextHopResolver *>(arg)->mark_dirty();
}

// Any IPv4 route added or removed may change a proxy's next hop; the kernel's cached
// clones (RTM_F_CLONED, exceptions such as a learnt PMTU) do not.
int route_event(nl_msg *msg, void *arg)
{
	nlmsghdr *nlh = nlmsg_hdr(msg);
	if ((nlh->nlmsg_type == RTM_NEWROUTE || nlh->nlmsg_type == RTM_DELROUTE) &&
	    nlmsg_valid_hdr(nlh, sizeof(rtmsg))) {
		auto *rtm = static_cast<rtmsg *>(nlmsg_data(nlh));
		if (rtm->rtm_family == AF_INET && (rtm->rtm_flags & RTM_F_CLONED) == 0)
			static_cast<NextHopResolver *>(arg)->mark_dirty();
	}
	return NL_OK;
}

// At most this many datagrams per socket and on_readable(): a flood cannot hold the
// control loop; what is left keeps the socket readable for the next round.
constexpr int max_reads = 256;

int receive_buffer(nl_sock *sk)
{
	int v = 0;
	socklen_t len = sizeof(v);
	getsockopt(nl_socket_get_fd(sk), SOL_SOCKET, SO_RCVBUF, &v, &len);
	return v;
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

Result<std::unique_ptr<NextHopResolver>> NextHopResolver::create(const std::string &ifname,
								 int ifindex, int buffer_bytes)
{
	std::unique_ptr<NextHopResolver> r(new NextHopResolver());
	r->ifname_ = ifname;
	r->ifindex_ = ifindex;
	r->req_ = nl_socket_alloc();
	if (r->req_ == nullptr || nl_connect(r->req_, NETLINK_ROUTE) < 0)
		return make_error("rtnetlink request socket: " + std::string(std::strerror(errno)), errno);
	nl_socket_disable_auto_ack(r->req_);  // solicit() asks for its ACK explicitly

	// Neighbours: a cache manager on a socket of ours, so its buffer can be sized.
	r->neigh_sk_ = nl_socket_alloc();
	if (r->neigh_sk_ == nullptr)
		return make_error("rtnetlink notification socket: out of memory", ENOMEM);
	int err = nl_cache_mngr_alloc(r->neigh_sk_, NETLINK_ROUTE, NL_AUTO_PROVIDE, &r->mngr_);
	if (err < 0)
		return make_error(std::string("rtnetlink notification socket: ") + nl_geterror(err));
	set_receive_buffer(r->neigh_sk_, buffer_bytes);
	err = nl_cache_mngr_add(r->mngr_, "route/neigh", changed, r.get(), &r->neigh_);
	if (err < 0)
		return make_error(std::string("watching neighbours: ") + nl_geterror(err));

	// Routes: only that one changed.
	r->route_sk_ = nl_socket_alloc();
	if (r->route_sk_ == nullptr)
		return make_error("rtnetlink route notifications: out of memory", ENOMEM);
	nl_socket_disable_seq_check(r->route_sk_);
	nl_socket_modify_cb(r->route_sk_, NL_CB_VALID, NL_CB_CUSTOM, route_event, r.get());
	err = nl_connect(r->route_sk_, NETLINK_ROUTE);
	if (err >= 0)
		err = nl_socket_add_memberships(r->route_sk_, RTNLGRP_IPV4_ROUTE, 0);
	if (err >= 0)
		err = nl_socket_set_nonblocking(r->route_sk_);
	if (err < 0)
		return make_error(std::string("watching routes: ") + nl_geterror(err));
	set_receive_buffer(r->route_sk_, buffer_bytes);

	// One descriptor for the daemon's poll(): readable when either socket is.
	r->epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
	if (r->epoll_fd_ < 0)
		return make_error("epoll_create1: " + std::string(std::strerror(errno)), errno);
	for (nl_sock *sk : {r->neigh_sk_, r->route_sk_}) {
		epoll_event ev{};
		ev.events = EPOLLIN;
		if (epoll_ctl(r->epoll_fd_, EPOLL_CTL_ADD, nl_socket_get_fd(sk), &ev) < 0)
			return make_error("epoll_ctl: " + std::string(std::strerror(errno)), errno);
	}
	return r;
}

NextHopResolver::~NextHopResolver()
{
	if (epoll_fd_ >= 0)
		close(epoll_fd_);
	if (mngr_ != nullptr)
		nl_cache_mngr_free(mngr_);  // frees the caches it manages, not our socket
	for (nl_sock *sk : {neigh_sk_, route_sk_, req_})
		if (sk != nullptr)
			nl_socket_free(sk);
}

int NextHopResolver::fd() const { return epoll_fd_; }

void NextHopResolver::on_readable()
{
	read_neighbours();
	read_routes();
}

void NextHopResolver::read_neighbours()
{
	int err = nl_cache_mngr_data_ready(mngr_);
	if (err == -NLE_NOMEM) {  // ENOBUFS: events were lost
		counters_.neighbour_overruns++;
		overrun("neighbour", neigh_sk_);
		resync_neighbours();
	} else if (err < 0) {
		log(Level::warning, message_id::neighbour,
		    std::string("reading neighbour notifications: ") + nl_geterror(err));
	}
}

void NextHopResolver::read_routes()
{
	for (int i = 0; i < max_reads; i++) {
		int err = nl_recvmsgs_default(route_sk_);
		if (err == -NLE_AGAIN)
			return;
		if (err == -NLE_NOMEM) {  // nothing is cached: a lost event only means dirty
			counters_.route_overruns++;
			overrun("route", route_sk_);
			dirty_ = true;
		} else if (err < 0) {
			log(Level::warning, message_id::neighbour,
			    std::string("reading route notifications: ") + nl_geterror(err));
			return;
		}
	}
}

// One line per overrun, at most one a second: a flood is counted whole but does not flood
// the journal (the next line says how many went unlogged).
void NextHopResolver::overrun(const char *what, nl_sock *sk)
{
	const auto now = std::chrono::steady_clock::now();
	if (now - last_overrun_log_ < std::chrono::seconds(1)) {
		overruns_unlogged_++;
		return;
	}
	last_overrun_log_ = now;
	std::string more;
	if (overruns_unlogged_ != 0)
		more = " (and " + std::to_string(overruns_unlogged_) + " overruns since the last line)";
	overruns_unlogged_ = 0;
	const std::string what_s = what;
	log(Level::warning, message_id::neighbour,
	    what_s + " notifications lost: the netlink socket's receive buffer (" +
		    std::to_string(receive_buffer(sk)) + " bytes) overran; " +
		    (what_s == "neighbour" ? "the neighbour table is read again from the kernel"
					   : "every next hop is looked up again") +
		    more,
	    {{"TANDEM_NETLINK_SOCKET", what_s},
	     {"TANDEM_OVERRUNS", std::to_string(counters_.neighbour_overruns +
						counters_.route_overruns)}});
}

// Reads the whole neighbour table into the cache again, on a socket of its own (the
// request socket may hold a late answer; the manager's carries notifications). The
// notifications that follow the overrun are newer than the lost ones and each carries a
// whole entry, so applying them after the dump ends with the kernel's state.
void NextHopResolver::resync_neighbours()
{
	dirty_ = true;
	NlPtr<nl_sock> sk(nl_socket_alloc());
	int err = sk ? nl_connect(sk.get(), NETLINK_ROUTE) : -NLE_NOMEM;
	if (err >= 0)
		err = nl_cache_refill(sk.get(), neigh_);
	if (err < 0)
		log(Level::err, message_id::neighbour,
		    std::string("reading the neighbour table again after an overrun: ") +
			    nl_geterror(err) + "; next hops may be out of date until the next overrun "
					       "or event");
}

std::optional<uint32_t> NextHopResolver::gateway_for(uint32_t dst, int &oif)
{
	NlPtr<nl_msg> msg(nlmsg_alloc_simple(RTM_GETROUTE, 0));
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
	const bool ok = nl_send_auto(req_, msg.get()) >= 0 && nl_recvmsgs_default(req_) >= 0;
	nl_socket_modify_cb(req_, NL_CB_VALID, NL_CB_DEFAULT, nullptr, nullptr);  // reply dies here
	if (!ok || !reply.found)
		return std::nullopt;
	oif = reply.oif;
	return reply.gateway != 0 ? reply.gateway : dst;
}

void NextHopResolver::solicit(uint32_t gateway)
{
	NlPtr<nl_msg> msg(
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
			NlPtr<nl_addr> a(nl_addr_build(AF_INET, &*gw, 4));
			NlPtr<rtnl_neigh> n(
				a ? rtnl_neigh_get(neigh_, ifindex_, a.get()) : nullptr);
			const int usable = NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE |
					   NUD_PERMANENT | NUD_NOARP;
			const int state = n ? rtnl_neigh_get_state(n.get()) : 0;
			if ((state & usable) != 0) {
				nl_addr *ll = rtnl_neigh_get_lladdr(n.get());
				if (ll != nullptr && nl_addr_get_len(ll) == 6) {
					MacAddress m;
					std::memcpy(m.data(), nl_addr_get_binary_addr(ll), 6);
					mac = m;
				}
			}
			if (!mac) {
				solicit(*gw);
				counters_.solicited_unresolved++;
			} else if ((state & NUD_STALE) != 0) {
				solicit(*gw);  // re-verified by the kernel: see nexthop.h
				counters_.solicited_stale++;
			}
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
