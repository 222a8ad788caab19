// SPDX-License-Identifier: Apache-2.0
// Next hops for the proxies, from the kernel's tables over rtnetlink (libnl-route-3).
// For each proxy: ask the kernel's FIB which gateway and interface it would use
// (RTM_GETROUTE, as `ip route get`), then take that gateway's MAC from the neighbour
// cache. The caches of routes and neighbours are kept current by a cache manager on its
// own notification socket; the request socket is separate (netlink intro.rst). An entry
// that is not resolved is solicited (RTM_NEWNEIGH with NTF_USE: the kernel sends the ARP
// request) and the data path counts its packets as no_neighbour: never a wrong MAC.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "gue.h"
#include "result.h"
#include "snapshot.h"

struct nl_sock;
struct nl_cache_mngr;
struct nl_cache;

namespace tandem::director {

struct InterfaceInfo {
	int ifindex = 0;
	MacAddress mac{};
	uint32_t mtu = 1500;
	std::optional<uint32_t> first_ipv4;  // network order
};

Result<InterfaceInfo> query_interface(const std::string &ifname);

class NextHopResolver {
public:
	static Result<std::unique_ptr<NextHopResolver>> create(const std::string &ifname, int ifindex);
	~NextHopResolver();

	int fd() const;     // the notification socket, for poll()
	void on_readable();  // processes notifications; marks the table dirty on changes
	bool dirty() const { return dirty_; }
	// Resolves every address of the table now and stores the MACs; solicits the ones
	// that are not resolved. Returns how many are unresolved.
	unsigned refresh(const NeighbourTable &table);

	// Cache-manager callback; public only for the C trampoline.
	void mark_dirty() { dirty_ = true; }

private:
	NextHopResolver() = default;
	std::optional<uint32_t> gateway_for(uint32_t dst, int &oif);  // network order
	void solicit(uint32_t gateway);

	std::string ifname_;
	int ifindex_ = 0;
	nl_sock *req_ = nullptr;
	nl_cache_mngr *mngr_ = nullptr;
	nl_cache *neigh_ = nullptr;
	nl_cache *route_ = nullptr;
	bool dirty_ = true;
	unsigned last_unresolved_ = 0;
	std::set<uint32_t> misrouted_;  // proxies routed through another interface, warned once
};

}  // namespace tandem::director
