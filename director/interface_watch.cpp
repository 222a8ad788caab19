// SPDX-License-Identifier: Apache-2.0
#include "interface_watch.h"

#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include <netlink/cache.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>

#include "log.h"
#include "nl_ptr.h"

namespace tandem::director {
namespace {

// At most this many datagrams per on_readable(): a storm of notifications about other
// interfaces cannot hold the control loop; what is left keeps the socket readable.
constexpr int max_reads = 256;

// One reading: `ifindex` (0: by name) or `ifname`.
Result<InterfaceInfo> query(int ifindex, const std::string &ifname)
{
	const std::string what = ifindex != 0 ? "interface index " + std::to_string(ifindex)
					      : "interface " + ifname + " (director.interface)";
	NlPtr<nl_sock> sk(nl_socket_alloc());
	if (!sk || nl_connect(sk.get(), NETLINK_ROUTE) < 0)
		return make_error("rtnetlink socket: " + std::string(std::strerror(errno)), errno);
	rtnl_link *raw = nullptr;
	int err = rtnl_link_get_kernel(sk.get(), ifindex, ifindex != 0 ? nullptr : ifname.c_str(),
				       &raw);
	if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV)
		return make_error(what + ": no such interface (ip link show says which exist)",
				  ENODEV);
	if (err < 0)
		return make_error(what + ": " + nl_geterror(err));
	NlPtr<rtnl_link> link(raw);
	InterfaceInfo info;
	info.ifindex = rtnl_link_get_ifindex(link.get());
	if (const char *n = rtnl_link_get_name(link.get()))
		info.name = n;
	info.mtu = rtnl_link_get_mtu(link.get());
	const unsigned flags = rtnl_link_get_flags(link.get());
	info.up = (flags & IFF_UP) != 0 && (flags & IFF_RUNNING) != 0;
	nl_addr *ll = rtnl_link_get_addr(link.get());
	if (ll == nullptr || nl_addr_get_len(ll) != 6)
		return make_error(what + " has no Ethernet address");
	std::memcpy(info.mac.data(), nl_addr_get_binary_addr(ll), 6);

	nl_cache *addrs_raw = nullptr;
	if (rtnl_addr_alloc_cache(sk.get(), &addrs_raw) == 0) {
		NlPtr<nl_cache> addrs(addrs_raw);
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

int on_message(nl_msg *msg, void *arg)
{
	nlmsghdr *nlh = nlmsg_hdr(msg);
	auto *w = static_cast<InterfaceWatch *>(arg);
	if ((nlh->nlmsg_type == RTM_NEWLINK || nlh->nlmsg_type == RTM_DELLINK) &&
	    nlmsg_valid_hdr(nlh, sizeof(ifinfomsg)))
		w->note(nlh->nlmsg_type, static_cast<ifinfomsg *>(nlmsg_data(nlh))->ifi_index);
	else if ((nlh->nlmsg_type == RTM_NEWADDR || nlh->nlmsg_type == RTM_DELADDR) &&
		 nlmsg_valid_hdr(nlh, sizeof(ifaddrmsg)))
		w->note(nlh->nlmsg_type,
			static_cast<int>(static_cast<ifaddrmsg *>(nlmsg_data(nlh))->ifa_index));
	return NL_OK;
}

}  // namespace

Result<InterfaceInfo> query_interface(const std::string &ifname) { return query(0, ifname); }

Result<InterfaceInfo> query_interface(int ifindex) { return query(ifindex, {}); }

void set_receive_buffer(nl_sock *sk, int bytes)
{
	nl_socket_set_buffer_size(sk, bytes, 0);
	int got = 0;
	socklen_t len = sizeof(got);
	const int fd = nl_socket_get_fd(sk);
	// The kernel doubles what it is given (for its bookkeeping) and caps it at rmem_max.
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) == 0 && got / 2 < bytes)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes));
}

Result<std::unique_ptr<InterfaceWatch>> InterfaceWatch::create(const InterfaceInfo &start,
							       int buffer_bytes)
{
	std::unique_ptr<InterfaceWatch> w(new InterfaceWatch());
	w->cur_ = start;
	w->sk_ = nl_socket_alloc();
	if (w->sk_ == nullptr)
		return make_error("rtnetlink link notifications: out of memory", ENOMEM);
	nl_socket_disable_seq_check(w->sk_);  // notifications carry no sequence of ours
	nl_socket_modify_cb(w->sk_, NL_CB_VALID, NL_CB_CUSTOM, on_message, w.get());
	int err = nl_connect(w->sk_, NETLINK_ROUTE);
	if (err >= 0)
		err = nl_socket_add_memberships(w->sk_, RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, 0);
	if (err >= 0)
		err = nl_socket_set_nonblocking(w->sk_);
	if (err < 0)
		return make_error(std::string("rtnetlink link notifications: ") + nl_geterror(err));
	set_receive_buffer(w->sk_, buffer_bytes);
	// Anything that changed between the daemon's reading and the subscription is found
	// by the first on_readable(): it reads again when told of an event, and this one
	// makes sure there is something to compare with.
	Result<InterfaceInfo> now = query_interface(start.ifindex);
	if (!now)
		return now.error();
	if (!(*now == start))
		w->ours_ = true;
	return w;
}

InterfaceWatch::~InterfaceWatch()
{
	if (sk_ != nullptr)
		nl_socket_free(sk_);
}

int InterfaceWatch::fd() const { return nl_socket_get_fd(sk_); }

void InterfaceWatch::note(int, int ifindex)
{
	if (ifindex == cur_.ifindex)
		ours_ = true;
}

InterfaceChange InterfaceWatch::on_readable()
{
	InterfaceChange c;
	for (int i = 0; i < max_reads; i++) {
		int err = nl_recvmsgs_default(sk_);
		if (err == -NLE_AGAIN)
			break;
		if (err == -NLE_NOMEM) {  // ENOBUFS from recvmsg: the kernel dropped notifications
			c.overrun = true;
			continue;
		}
		if (err < 0) {
			log(Level::warning, message_id::interface,
			    std::string("reading link notifications: ") + nl_geterror(err));
			break;
		}
	}
	if (!ours_ && !c.overrun)
		return c;
	ours_ = false;
	c.seen = true;
	c.before = cur_;
	if (c.overrun)
		overruns_++;
	Result<InterfaceInfo> now = query_interface(cur_.ifindex);
	if (!now) {
		if (now.error().sys_errno == ENODEV)
			c.deleted = true;
		else  // the next event reads again
			log(Level::warning, message_id::interface,
			    "reading " + cur_.name + " again: " + now.error().message);
		return c;
	}
	c.renamed = now->name != cur_.name;
	c.mtu = now->mtu != cur_.mtu;
	c.mac = now->mac != cur_.mac;
	c.address = now->first_ipv4 != cur_.first_ipv4;
	c.went_down = cur_.up && !now->up;
	c.came_up = !cur_.up && now->up;
	cur_ = *now;
	return c;
}

}  // namespace tandem::director
