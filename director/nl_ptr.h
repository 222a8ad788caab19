// SPDX-License-Identifier: Apache-2.0
// Owning pointers for the libnl objects the director holds for a while: each freed or
// put back the way libnl says.
#pragma once

#include <memory>

#include <netlink/cache.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/neighbour.h>
#include <netlink/socket.h>

namespace tandem::director {

struct NlDeleter {
	void operator()(nl_sock *s) const { nl_socket_free(s); }
	void operator()(nl_cache *c) const { nl_cache_free(c); }
	void operator()(nl_addr *a) const { nl_addr_put(a); }
	void operator()(nl_msg *m) const { nlmsg_free(m); }
	void operator()(rtnl_link *l) const { rtnl_link_put(l); }
	void operator()(rtnl_neigh *n) const { rtnl_neigh_put(n); }
};
template <typename T> using NlPtr = std::unique_ptr<T, NlDeleter>;

}  // namespace tandem::director
