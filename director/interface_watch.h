// SPDX-License-Identifier: Apache-2.0
// The director's interface as the kernel has it (rtnetlink, libnl-route-3): read once at
// start (query_interface), then followed by InterfaceWatch on a notification socket of
// its own (link and IPv4 address groups). A notification about our ifindex, or an
// overrun (events lost: the socket's receive buffer was full), makes it read the link and
// its addresses again from the kernel, so a lost event and a received one take the same
// path; what differs from the last reading is returned for the daemon to apply. The
// ifindex is the identity: a rename is only news, a deletion is the end.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "gue.h"
#include "result.h"

struct nl_sock;

namespace tandem::director {

struct InterfaceInfo {
	int ifindex = 0;
	std::string name;
	MacAddress mac{};
	uint32_t mtu = 1500;
	std::optional<uint32_t> first_ipv4;  // network order
	bool up = false;  // IFF_UP and IFF_RUNNING: administratively up and with a carrier

	bool operator==(const InterfaceInfo &) const = default;
};

// By name at start; by ifindex afterwards. A missing interface is an Error with
// sys_errno ENODEV.
Result<InterfaceInfo> query_interface(const std::string &ifname);
Result<InterfaceInfo> query_interface(int ifindex);

// Sets a netlink socket's receive buffer: SO_RCVBUF through libnl, and SO_RCVBUFFORCE
// when net.core.rmem_max held it lower (the daemon runs with CAP_NET_ADMIN).
void set_receive_buffer(nl_sock *sk, int bytes);

// What one InterfaceWatch::on_readable() found, compared with the reading before it.
struct InterfaceChange {
	bool seen = false;     // a notification about our interface (or an overrun) came
	bool deleted = false;  // gone (or moved to another network namespace)
	bool overrun = false;  // notifications were lost; the interface was read again
	bool renamed = false, mtu = false, mac = false, address = false;
	bool went_down = false, came_up = false;
	InterfaceInfo before;

	bool needs_rebuild() const { return mtu || mac || address; }
};

class InterfaceWatch {
public:
	// Subscribes before it reads, so nothing between the reading and the first event is
	// missed; `start` is what the daemon read at start and built its tables with.
	static Result<std::unique_ptr<InterfaceWatch>> create(const InterfaceInfo &start,
							      int buffer_bytes);
	~InterfaceWatch();

	int fd() const;  // for poll()
	InterfaceChange on_readable();
	const InterfaceInfo &current() const { return cur_; }
	uint64_t overruns() const { return overruns_; }

	// Notification callback; public only for the C trampoline.
	void note(int type, int ifindex);

private:
	InterfaceWatch() = default;

	nl_sock *sk_ = nullptr;
	InterfaceInfo cur_;
	uint64_t overruns_ = 0;
	bool ours_ = false;     // set by note() while reading
	bool dellink_ = false;  // an RTM_DELLINK for our ifindex
};

}  // namespace tandem::director
