// SPDX-License-Identifier: Apache-2.0
// Next hops for the proxies, from the kernel's tables over rtnetlink (libnl-route-3).
// For each proxy: ask the kernel's FIB which gateway and interface it would use
// (RTM_GETROUTE, as `ip route get`), then take that gateway's MAC from the neighbour
// cache. The neighbour cache is kept current by a cache manager on its own notification
// socket; routes are not cached at all: a socket on the IPv4 route group only marks the
// table dirty, since every refresh asks the FIB afresh (a host with a full routing table
// then costs no memory, and its churn costs one lookup per proxy at most every 100 ms).
// Any route, of any table or interface, may change a proxy's next hop (policy routing, a
// more specific route through another interface), so none is filtered out. The request
// socket is separate (netlink intro.rst).
// Overruns: when a notification socket's buffer is full the kernel drops events and the
// next read fails with ENOBUFS (libnl: -NLE_NOMEM). The neighbour cache is then read
// again from the kernel (nl_cache_refill) and the table marked dirty; each overrun is
// counted and logged.
// Neighbour states: an entry not resolved is solicited (RTM_NEWNEIGH with NTF_USE: the
// kernel sends the ARP request) and the data path counts its packets as no_neighbour.
// REACHABLE, DELAY and PROBE entries are used. A STALE entry is used too, as the kernel
// itself uses one, but solicited at every refresh: the director's AF_XDP traffic never
// confirms a neighbour to the kernel, so without that it would stay STALE forever and a
// MAC that changed without a gratuitous ARP would never be found. NTF_USE moves it to
// DELAY, then PROBE (unicast ARP); a wrong MAC fails the probe, the entry goes FAILED and
// the proxy is no_neighbour until the broadcast request finds the new MAC. A silent MAC
// change is therefore followed within the kernel's reachable time (base_reachable_time_ms
// x 0.5..1.5) + delay_first_probe_time + ucast_solicit x retrans_time_ms; one announced by
// a gratuitous ARP, or lost in an overrun, within milliseconds of the event or the resync.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "gue.h"
#include "interface_watch.h"
#include "result.h"
#include "snapshot.h"

struct nl_sock;
struct nl_cache_mngr;
struct nl_cache;

namespace tandem::director {

// Counted by the resolver, published as metrics by the daemon.
struct NextHopCounters {
	uint64_t neighbour_overruns = 0;  // neighbour notifications lost, cache read again
	uint64_t route_overruns = 0;      // route notifications lost, table marked dirty
	uint64_t solicited_unresolved = 0;  // NTF_USE for an entry with no usable MAC
	uint64_t solicited_stale = 0;       // NTF_USE for a STALE entry, to re-verify it
};

class NextHopResolver {
public:
	// buffer_bytes: the receive buffer of each notification socket.
	static Result<std::unique_ptr<NextHopResolver>> create(const std::string &ifname, int ifindex,
								int buffer_bytes);
	~NextHopResolver();

	int fd() const;      // both notification sockets (an epoll set), for poll()
	void on_readable();  // processes notifications; marks the table dirty on changes
	const NextHopCounters &counters() const { return counters_; }
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
	void read_neighbours();
	void read_routes();
	void overrun(const char *what, nl_sock *sk);
	void resync_neighbours();

	std::string ifname_;
	int ifindex_ = 0;
	nl_sock *req_ = nullptr;
	nl_sock *neigh_sk_ = nullptr;  // the cache manager's notification socket (ours to free)
	nl_cache_mngr *mngr_ = nullptr;
	nl_cache *neigh_ = nullptr;
	nl_sock *route_sk_ = nullptr;  // route notifications: only mark dirty
	int epoll_fd_ = -1;
	NextHopCounters counters_;
	std::chrono::steady_clock::time_point last_overrun_log_{};
	uint64_t overruns_unlogged_ = 0;
	bool dirty_ = true;
	unsigned last_unresolved_ = 0;
	std::set<uint32_t> misrouted_;  // proxies routed through another interface, warned once
};

}  // namespace tandem::director
