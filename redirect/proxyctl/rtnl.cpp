// SPDX-License-Identifier: Apache-2.0
// <net/if.h> must come before the <linux/if.h> the netlink headers pull in.
#include <net/if.h>

#include "rtnl.h"

#include <linux/if_link.h>
#include <linux/if_tunnel.h>
#include <linux/rtnetlink.h>
#include <netlink/route/rtnl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace tandem::proxy {

namespace {

constexpr unsigned short kArphrdEther = 1;  // ARPHRD_ETHER (<linux/if_arp.h>)
constexpr const char *kOom = "cannot build a netlink message: out of memory";

NlMsgPtr link_msg(int type, int flags, int ifindex, unsigned up_flags, unsigned change)
{
	NlMsgPtr msg(nlmsg_alloc_simple(type, flags));
	if (!msg)
		return msg;
	ifinfomsg ifi{};
	ifi.ifi_family = AF_UNSPEC;
	ifi.ifi_index = ifindex;
	ifi.ifi_flags = up_flags;
	ifi.ifi_change = change;
	if (nlmsg_append(msg.get(), &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0)
		msg.reset();
	return msg;
}

Result<RtnlAddrPtr> make_addr(int ifindex, const IpAddress &address, uint8_t prefix)
{
	RtnlAddrPtr addr(rtnl_addr_alloc());
	NlAddrPtr local(nl_addr_build(address.is_v4() ? AF_INET : AF_INET6,
				      address.bytes.data(), address.size()));
	if (!addr || !local)
		return make_error(kOom);
	nl_addr_set_prefixlen(local.get(), prefix);
	rtnl_addr_set_ifindex(addr.get(), ifindex);
	if (rtnl_addr_set_local(addr.get(), local.get()) < 0)
		return make_error(kOom);
	rtnl_addr_set_prefixlen(addr.get(), prefix);
	return addr;
}

}  // namespace

Result<Rtnl> Rtnl::open()
{
	auto nl = Netlink::open(NETLINK_ROUTE);
	if (!nl)
		return nl.error();
	return Rtnl(std::move(*nl));
}

Result<std::optional<LinkInfo>> Rtnl::link(const std::string &name)
{
	if (name.size() >= IFNAMSIZ)
		return make_error("interface name '" + name + "' is longer than " +
				  std::to_string(IFNAMSIZ - 1) + " characters");
	NlMsgPtr msg = link_msg(RTM_GETLINK, 0, 0, 0, 0);
	if (!msg || nla_put_string(msg.get(), IFLA_IFNAME, name.c_str()) < 0)
		return make_error(kOom);
	std::optional<LinkInfo> info;
	NlFailure failure;
	bool ok = nl_.request(msg.get(), failure, [&](nl_msg *reply) {
		nlmsghdr *hdr = nlmsg_hdr(reply);
		if (hdr->nlmsg_type != RTM_NEWLINK)
			return;
		auto *ifi = static_cast<ifinfomsg *>(nlmsg_data(hdr));
		LinkInfo li;
		li.ifindex = ifi->ifi_index;
		li.up = (ifi->ifi_flags & IFF_UP) != 0;
		nlattr *tb[IFLA_MAX + 1] = {};
		if (nlmsg_parse(hdr, sizeof(*ifi), tb, IFLA_MAX, nullptr) == 0 && tb[IFLA_LINKINFO]) {
			nlattr *li_tb[IFLA_INFO_MAX + 1] = {};
			if (nla_parse_nested(li_tb, IFLA_INFO_MAX, tb[IFLA_LINKINFO], nullptr) == 0) {
				if (li_tb[IFLA_INFO_KIND])
					li.kind = nla_get_string(li_tb[IFLA_INFO_KIND]);
				nlattr *data[IFLA_IPTUN_MAX + 1] = {};
				if (li_tb[IFLA_INFO_DATA] &&
				    nla_parse_nested(data, IFLA_IPTUN_MAX, li_tb[IFLA_INFO_DATA],
						     nullptr) == 0)
					li.collect_md = data[IFLA_IPTUN_COLLECT_METADATA] != nullptr;
			}
		}
		info = li;
	});
	if (!ok) {
		if (failure.error == ENODEV)
			return std::optional<LinkInfo>();
		return make_error("reading interface " + name + ": " + failure.describe(),
				  failure.error);
	}
	return info;
}

Result<void> Rtnl::create_tunnel(const std::string &name, const char *kind, bool external)
{
	NlMsgPtr msg = link_msg(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0, 0, 0);
	if (!msg || nla_put_string(msg.get(), IFLA_IFNAME, name.c_str()) < 0)
		return make_error(kOom);
	nlattr *linkinfo = nla_nest_start(msg.get(), IFLA_LINKINFO);
	if (!linkinfo || nla_put_string(msg.get(), IFLA_INFO_KIND, kind) < 0)
		return make_error(kOom);
	nlattr *data = nla_nest_start(msg.get(), IFLA_INFO_DATA);
	if (!data)
		return make_error(kOom);
	if (external && nla_put_flag(msg.get(), IFLA_IPTUN_COLLECT_METADATA) < 0)
		return make_error(kOom);
	if (!external && (nla_put_u32(msg.get(), IFLA_IPTUN_LOCAL, 0) < 0 ||
			  nla_put_u32(msg.get(), IFLA_IPTUN_REMOTE, 0) < 0))
		return make_error(kOom);
	nla_nest_end(msg.get(), data);
	nla_nest_end(msg.get(), linkinfo);
	NlFailure failure;
	if (!nl_.request(msg.get(), failure))
		return make_error(std::string("creating ") + kind + " device " + name + ": " +
				  failure.describe(), failure.error);
	return {};
}

Result<void> Rtnl::create_ipip_external(const std::string &name)
{
	return create_tunnel(name, "ipip", true);
}

Result<void> Rtnl::create_sit_any(const std::string &name)
{
	return create_tunnel(name, "sit", false);
}

Result<void> Rtnl::set_up(const std::string &name, int ifindex, bool up)
{
	NlMsgPtr msg = link_msg(RTM_NEWLINK, 0, ifindex, up ? IFF_UP : 0, IFF_UP);
	if (!msg)
		return make_error(kOom);
	NlFailure failure;
	if (!nl_.request(msg.get(), failure))
		return make_error("setting " + name + (up ? " up: " : " down: ") +
				  failure.describe(), failure.error);
	return {};
}

Result<void> Rtnl::delete_link(const std::string &name, int ifindex)
{
	NlMsgPtr msg = link_msg(RTM_DELLINK, 0, ifindex, 0, 0);
	if (!msg)
		return make_error(kOom);
	NlFailure failure;
	if (!nl_.request(msg.get(), failure) && failure.error != ENODEV)
		return make_error("deleting " + name + ": " + failure.describe(), failure.error);
	return {};
}

Result<bool> Rtnl::add_address(const std::string &dev, int ifindex,
			       const IpAddress &address, uint8_t prefix)
{
	auto addr = make_addr(ifindex, address, prefix);
	if (!addr)
		return addr.error();
	nl_msg *raw = nullptr;
	if (rtnl_addr_build_add_request(addr->get(), NLM_F_CREATE | NLM_F_EXCL, &raw) < 0)
		return make_error(kOom);
	NlMsgPtr msg(raw);
	NlFailure failure;
	if (nl_.request(msg.get(), failure))
		return true;
	if (failure.error == EEXIST)
		return false;
	return make_error("adding " + address.to_string() + "/" + std::to_string(prefix) +
			  " to " + dev + ": " + failure.describe(), failure.error);
}

Result<void> Rtnl::del_address(const std::string &dev, int ifindex,
			       const IpAddress &address, uint8_t prefix)
{
	auto addr = make_addr(ifindex, address, prefix);
	if (!addr)
		return addr.error();
	nl_msg *raw = nullptr;
	if (rtnl_addr_build_delete_request(addr->get(), 0, &raw) < 0)
		return make_error(kOom);
	NlMsgPtr msg(raw);
	NlFailure failure;
	if (!nl_.request(msg.get(), failure) && failure.error != EADDRNOTAVAIL &&
	    failure.error != ENODEV)
		return make_error("removing " + address.to_string() + "/" +
				  std::to_string(prefix) + " from " + dev + ": " +
				  failure.describe(), failure.error);
	return {};
}

Result<std::optional<Uplink>> Rtnl::uplink()
{
	NlMsgPtr msg(nlmsg_alloc_simple(RTM_GETROUTE, NLM_F_DUMP));
	rtmsg rtm{};
	rtm.rtm_family = AF_INET;
	if (!msg || nlmsg_append(msg.get(), &rtm, sizeof(rtm), NLMSG_ALIGNTO) < 0)
		return make_error(kOom);
	int oif = 0;
	uint32_t route_mtu = 0;
	NlFailure failure;
	bool ok = nl_.request(msg.get(), failure, [&](nl_msg *reply) {
		nlmsghdr *hdr = nlmsg_hdr(reply);
		if (hdr->nlmsg_type != RTM_NEWROUTE || oif != 0)
			return;
		auto *r = static_cast<rtmsg *>(nlmsg_data(hdr));
		nlattr *tb[RTA_MAX + 1] = {};
		if (r->rtm_family != AF_INET || r->rtm_dst_len != 0 || r->rtm_type != RTN_UNICAST ||
		    nlmsg_parse(hdr, sizeof(*r), tb, RTA_MAX, nullptr) != 0 || !tb[RTA_OIF])
			return;
		const uint32_t table = tb[RTA_TABLE] ? nla_get_u32(tb[RTA_TABLE]) : r->rtm_table;
		if (table != RT_TABLE_MAIN)
			return;
		oif = static_cast<int>(nla_get_u32(tb[RTA_OIF]));
		nlattr *mx[RTAX_MAX + 1] = {};
		if (tb[RTA_METRICS] && nla_parse_nested(mx, RTAX_MAX, tb[RTA_METRICS], nullptr) == 0 &&
		    mx[RTAX_MTU])
			route_mtu = nla_get_u32(mx[RTAX_MTU]);
	});
	if (!ok)
		return make_error("reading the IPv4 routes: " + failure.describe(), failure.error);
	if (oif == 0)
		return smallest_ethernet();
	NlMsgPtr lmsg = link_msg(RTM_GETLINK, 0, oif, 0, 0);
	if (!lmsg)
		return make_error(kOom);
	Uplink up;
	ok = nl_.request(lmsg.get(), failure, [&](nl_msg *reply) {
		nlmsghdr *hdr = nlmsg_hdr(reply);
		if (hdr->nlmsg_type != RTM_NEWLINK)
			return;
		nlattr *tb[IFLA_MAX + 1] = {};
		if (nlmsg_parse(hdr, sizeof(ifinfomsg), tb, IFLA_MAX, nullptr) != 0)
			return;
		if (tb[IFLA_IFNAME])
			up.name = nla_get_string(tb[IFLA_IFNAME]);
		if (tb[IFLA_MTU])
			up.mtu = nla_get_u32(tb[IFLA_MTU]);
	});
	if (!ok)
		return make_error("reading the default route's device (ifindex " +
				  std::to_string(oif) + "): " + failure.describe(), failure.error);
	if (route_mtu != 0)
		up.mtu = route_mtu;
	return std::optional<Uplink>(up);
}

Result<std::optional<Uplink>> Rtnl::smallest_ethernet()
{
	NlMsgPtr msg = link_msg(RTM_GETLINK, NLM_F_DUMP, 0, 0, 0);
	if (!msg)
		return make_error(kOom);
	std::optional<Uplink> best;
	NlFailure failure;
	bool ok = nl_.request(msg.get(), failure, [&](nl_msg *reply) {
		nlmsghdr *hdr = nlmsg_hdr(reply);
		if (hdr->nlmsg_type != RTM_NEWLINK)
			return;
		auto *ifi = static_cast<ifinfomsg *>(nlmsg_data(hdr));
		nlattr *tb[IFLA_MAX + 1] = {};
		if (ifi->ifi_type != kArphrdEther || !(ifi->ifi_flags & IFF_UP) ||
		    nlmsg_parse(hdr, sizeof(*ifi), tb, IFLA_MAX, nullptr) != 0 || !tb[IFLA_MTU] ||
		    !tb[IFLA_IFNAME])
			return;
		const uint32_t mtu = nla_get_u32(tb[IFLA_MTU]);
		if (!best || mtu < best->mtu)
			best = Uplink{nla_get_string(tb[IFLA_IFNAME]), mtu};
	});
	if (!ok)
		return make_error("reading the interfaces: " + failure.describe(), failure.error);
	return best;
}

Result<std::vector<IpPrefix>> Rtnl::ipv4_networks(int skip_ifindex)
{
	NlMsgPtr msg(nlmsg_alloc_simple(RTM_GETADDR, NLM_F_DUMP));
	ifaddrmsg ifa{};
	ifa.ifa_family = AF_INET;
	if (!msg || nlmsg_append(msg.get(), &ifa, sizeof(ifa), NLMSG_ALIGNTO) < 0)
		return make_error(kOom);
	std::vector<IpPrefix> out;
	NlFailure failure;
	bool ok = nl_.request(msg.get(), failure, [&](nl_msg *reply) {
		nlmsghdr *hdr = nlmsg_hdr(reply);
		if (hdr->nlmsg_type != RTM_NEWADDR)
			return;
		auto *a = static_cast<ifaddrmsg *>(nlmsg_data(hdr));
		nlattr *tb[IFA_MAX + 1] = {};
		if (a->ifa_family != AF_INET || a->ifa_scope == RT_SCOPE_HOST ||
		    static_cast<int>(a->ifa_index) == skip_ifindex ||
		    nlmsg_parse(hdr, sizeof(*a), tb, IFA_MAX, nullptr) < 0)
			return;
		nlattr *local = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
		if (!local || nla_len(local) != 4 || a->ifa_prefixlen > 32)
			return;
		uint32_t raw;
		std::memcpy(&raw, nla_data(local), 4);
		const uint32_t mask = a->ifa_prefixlen ? htonl(~0U << (32 - a->ifa_prefixlen)) : 0;
		IpPrefix p{IpAddress::from_v4(raw & mask), a->ifa_prefixlen};
		if (std::find(out.begin(), out.end(), p) == out.end())
			out.push_back(p);
	});
	if (!ok)
		return make_error("listing the IPv4 addresses: " + failure.describe(), failure.error);
	return out;
}

}  // namespace tandem::proxy
