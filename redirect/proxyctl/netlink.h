// SPDX-License-Identifier: Apache-2.0
// RAII owners for libnl handles and one request/response helper that
// reports the kernel's errno and extended-ACK message.
#pragma once

#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include <functional>
#include <memory>
#include <string>

#include "result.h"

namespace tandem::proxy {

struct NlSockFree { void operator()(nl_sock *s) const { nl_socket_free(s); } };
struct NlMsgFree { void operator()(nl_msg *m) const { nlmsg_free(m); } };
struct NlCbPut { void operator()(nl_cb *c) const { nl_cb_put(c); } };
struct NlAddrPut { void operator()(nl_addr *a) const { nl_addr_put(a); } };
struct RtnlAddrPut { void operator()(rtnl_addr *a) const { rtnl_addr_put(a); } };
struct RtnlLinkPut { void operator()(rtnl_link *l) const { rtnl_link_put(l); } };

using NlSockPtr = std::unique_ptr<nl_sock, NlSockFree>;
using NlMsgPtr = std::unique_ptr<nl_msg, NlMsgFree>;
using NlCbPtr = std::unique_ptr<nl_cb, NlCbPut>;
using NlAddrPtr = std::unique_ptr<nl_addr, NlAddrPut>;
using RtnlAddrPtr = std::unique_ptr<rtnl_addr, RtnlAddrPut>;
using RtnlLinkPtr = std::unique_ptr<rtnl_link, RtnlLinkPut>;

// What the kernel answered when a request failed.
struct NlFailure {
	int error = 0;         // positive errno
	std::string extack;    // NLMSGERR_ATTR_MSG, may be empty
	std::string describe() const;  // "strerror (kernel: extack)"
};

// One netlink socket (NETLINK_ROUTE or NETLINK_GENERIC) in the caller's
// network namespace. request() sends one message and waits for its ACK
// or error, handing every reply message to on_reply.
class Netlink {
public:
	static Result<Netlink> open(int protocol);

	using ReplyFn = std::function<void(nl_msg *)>;
	// Ok, or the kernel's errno and message in failure.
	bool request(nl_msg *msg, NlFailure &failure, const ReplyFn &on_reply = {});

	nl_sock *get() const { return sock_.get(); }

private:
	explicit Netlink(NlSockPtr sock) : sock_(std::move(sock)) {}
	NlSockPtr sock_;
};

// A new message, or an Error saying memory ran out.
NlMsgPtr make_msg();

}  // namespace tandem::proxy
