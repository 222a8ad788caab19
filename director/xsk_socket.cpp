// SPDX-License-Identifier: Apache-2.0
#include "xsk_socket.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69
#endif
#ifndef SO_BUSY_POLL_BUDGET
#define SO_BUSY_POLL_BUDGET 70
#endif

namespace tandem::director {

Result<XskSocket> XskSocket::create(const XskParams &p, Umem &umem)
{
	auto s = std::make_unique<State>();
	xsk_socket_config cfg{};
	cfg.rx_size = p.ring_size;
	cfg.tx_size = p.ring_size;
	cfg.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;  // Classifier owns the program
	cfg.xdp_flags = 0;

	const std::string where = p.ifname + " queue " + std::to_string(p.queue);
	int err = -EOPNOTSUPP;
	if (p.bind_mode != BindMode::copy) {
		cfg.bind_flags = XDP_USE_NEED_WAKEUP | XDP_ZEROCOPY;
		err = xsk_socket__create(&s->xsk, p.ifname.c_str(), p.queue, umem.handle(), &s->rx,
					 &s->tx, &cfg);
		if (err != 0 && p.bind_mode == BindMode::zerocopy)
			return make_error("AF_XDP zero-copy bind on " + where + ": " +
						  std::strerror(-err) +
						  " (director.bind_mode: zerocopy; use auto or copy)",
					  -err);
	}
	if (err != 0) {
		cfg.bind_flags = XDP_USE_NEED_WAKEUP | XDP_COPY;
		err = xsk_socket__create(&s->xsk, p.ifname.c_str(), p.queue, umem.handle(), &s->rx,
					 &s->tx, &cfg);
		if (err != 0)
			return make_error("AF_XDP bind on " + where + ": " + std::strerror(-err) +
						  " (does the interface have that many queues? see "
						  "ethtool -l)",
					  -err);
	}

	const int fd = xsk_socket__fd(s->xsk);
	xdp_options opts{};
	socklen_t len = sizeof(opts);
	if (getsockopt(fd, SOL_XDP, XDP_OPTIONS, &opts, &len) == 0)
		s->zero_copy = (opts.flags & XDP_OPTIONS_ZEROCOPY) != 0;

	if (p.busy_poll.enabled) {
		int one = 1;
		int usecs = static_cast<int>(p.busy_poll.usecs);
		int budget = static_cast<int>(p.busy_poll.budget);
		if (setsockopt(fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one, sizeof(one)) != 0 ||
		    setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &usecs, sizeof(usecs)) != 0 ||
		    setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET, &budget, sizeof(budget)) != 0) {
			int e = errno;
			xsk_socket__delete(s->xsk);
			return make_error("busy polling on " + where + ": " + std::strerror(e) +
						  " (needs CAP_NET_ADMIN; or set director.busy_poll.enabled: false)",
					  e);
		}
		s->busy_poll = true;
	}
	return XskSocket(std::move(s));
}

XskSocket::~XskSocket()
{
	if (s_ && s_->xsk != nullptr)
		xsk_socket__delete(s_->xsk);
}

int XskSocket::fd() const { return xsk_socket__fd(s_->xsk); }

XskStats XskSocket::stats() const
{
	xdp_statistics st{};
	socklen_t len = sizeof(st);
	XskStats out;
	if (getsockopt(fd(), SOL_XDP, XDP_STATISTICS, &st, &len) != 0)
		return out;
	out.rx_dropped = st.rx_dropped;
	out.rx_invalid_descs = st.rx_invalid_descs;
	out.tx_invalid_descs = st.tx_invalid_descs;
	out.rx_ring_full = st.rx_ring_full;
	out.rx_fill_ring_empty_descs = st.rx_fill_ring_empty_descs;
	out.tx_ring_empty_descs = st.tx_ring_empty_descs;
	return out;
}

}  // namespace tandem::director
