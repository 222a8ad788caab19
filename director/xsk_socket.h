// SPDX-License-Identifier: Apache-2.0
// One AF_XDP socket bound to one queue of the interface, on its own UMEM. Zero-copy is
// asked for first and copy mode taken when the driver cannot (or when the config says
// so); the mode obtained is read back from the kernel (XDP_OPTIONS).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <linux/if_xdp.h>
#include <xdp/xsk.h>

#include "config.h"
#include "result.h"
#include "umem.h"

namespace tandem::director {

struct XskParams {
	std::string ifname;
	uint32_t queue = 0;
	uint32_t ring_size = 2048;
	BindMode bind_mode = BindMode::automatic;
	BusyPoll busy_poll;
};

struct XskStats {
	uint64_t rx_dropped = 0;
	uint64_t rx_invalid_descs = 0;
	uint64_t tx_invalid_descs = 0;
	uint64_t rx_ring_full = 0;
	uint64_t rx_fill_ring_empty_descs = 0;
	uint64_t tx_ring_empty_descs = 0;
};

class XskSocket {
public:
	// The umem must outlive the socket.
	static Result<XskSocket> create(const XskParams &p, Umem &umem);

	XskSocket(XskSocket &&) noexcept = default;
	XskSocket &operator=(XskSocket &&) noexcept = default;
	~XskSocket();

	xsk_socket *handle() const { return s_->xsk; }
	int fd() const;
	xsk_ring_cons &rx() { return s_->rx; }
	xsk_ring_prod &tx() { return s_->tx; }
	bool zero_copy() const { return s_->zero_copy; }
	bool busy_poll() const { return s_->busy_poll; }
	// Kernel statistics (getsockopt XDP_STATISTICS); safe from any thread.
	XskStats stats() const;

private:
	struct State {
		xsk_socket *xsk = nullptr;
		xsk_ring_cons rx{};
		xsk_ring_prod tx{};
		bool zero_copy = false;
		bool busy_poll = false;
	};
	explicit XskSocket(std::unique_ptr<State> s) : s_(std::move(s)) {}
	std::unique_ptr<State> s_;
};

}  // namespace tandem::director
