// SPDX-License-Identifier: Apache-2.0
#include "worker.h"

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "forwarder.h"
#include "log.h"

namespace tandem::director {
namespace {

// Every RX frame starts XDP_PACKET_HEADROOM (256) bytes into its UMEM frame (the umem's
// frame_headroom is 0). The longest encapsulation is Ethernet + gue_overhead of every
// hop a route can carry; it must fit in front of the inner IP header.
constexpr uint32_t xdp_packet_headroom = 256;
static_assert(ethernet_header_size + gue_overhead(max_route_hops) <= xdp_packet_headroom);

}  // namespace

Result<std::unique_ptr<Worker>> Worker::create(const WorkerParams &p, SnapshotHolder &snapshots)
{
	Result<Umem> umem = Umem::create(UmemParams{.frame_size = p.frame_size, .ring_size = p.ring_size});
	if (!umem)
		return Error{"queue " + std::to_string(p.queue) + ": " + umem.error().message,
			     umem.error().sys_errno};
	Result<XskSocket> sock = XskSocket::create(
		XskParams{.ifname = p.ifname, .queue = p.queue, .ring_size = p.ring_size,
			  .bind_mode = p.bind_mode, .busy_poll = p.busy_poll},
		*umem);
	if (!sock)
		return sock.error();
	std::unique_ptr<Worker> w(new Worker(p, snapshots, std::move(*umem), std::move(*sock)));
	return w;
}

Worker::Worker(const WorkerParams &p, SnapshotHolder &s, Umem umem, XskSocket socket)
	: p_(p), snapshots_(s), umem_(std::move(umem)), socket_(std::move(socket)),
	  counters_(std::make_unique<QueueCounters>()), icmp_(p.icmp_rate, p.icmp_burst)
{
	free_.reserve(umem_.frame_count());
	for (uint32_t i = umem_.frame_count(); i > 0; i--)
		free_.push_back(uint64_t{i - 1} * umem_.frame_size());
	fill(umem_.fill_size());
}

Worker::~Worker()
{
	request_stop();
	join();
}

Result<void> Worker::start()
{
	thread_ = std::thread([this] { run(); });
	if (p_.core >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(p_.core, &set);
		int err = pthread_setaffinity_np(thread_.native_handle(), sizeof(set), &set);
		if (err != 0)
			return make_error("pinning the worker of queue " + std::to_string(p_.queue) +
						  " to core " + std::to_string(p_.core) + ": " +
						  std::strerror(err) + " (director.cores)",
					  err);
	}
	return {};
}

void Worker::join()
{
	if (thread_.joinable())
		thread_.join();
}

void Worker::fill(uint32_t want) noexcept
{
	xsk_ring_prod &fq = umem_.fill();
	uint32_t n = std::min<uint32_t>(want, xsk_prod_nb_free(&fq, want));
	if (n > free_.size()) {
		counters_->fill_ring_short.inc();
		n = static_cast<uint32_t>(free_.size());
	}
	if (n == 0)
		return;
	uint32_t idx;
	n = xsk_ring_prod__reserve(&fq, n, &idx);
	for (uint32_t i = 0; i < n; i++) {
		*xsk_ring_prod__fill_addr(&fq, idx + i) = free_.back();
		free_.pop_back();
	}
	xsk_ring_prod__submit(&fq, n);
}

void Worker::complete() noexcept
{
	if (outstanding_tx_ == 0)
		return;
	xsk_ring_cons &cq = umem_.comp();
	uint32_t idx;
	uint32_t n = xsk_ring_cons__peek(&cq, umem_.frame_count(), &idx);
	if (n == 0)
		return;
	for (uint32_t i = 0; i < n; i++)
		free_.push_back(*xsk_ring_cons__comp_addr(&cq, idx + i));
	xsk_ring_cons__release(&cq, n);
	outstanding_tx_ -= n;
	counters_->tx_packets.add(n);
}

void Worker::kick() noexcept
{
	xsk_ring_prod &tx = socket_.tx();
	if (socket_.zero_copy()) {
		// The driver's NAPI loop sends; wake it only when it asks.
		if (xsk_ring_prod__needs_wakeup(&tx)) {
			counters_->tx_kicks.inc();
			sendto(socket_.fd(), nullptr, 0, MSG_DONTWAIT, nullptr, 0);
		}
		return;
	}
	// Copy mode transmits only inside sendto(), at most the kernel's TX batch (32 frames)
	// per call: kick until the kernel has taken every descriptor submitted, so the TX
	// ring never backs up. Bounded per batch; EAGAIN, EBUSY, ENOBUFS and ENETDOWN mean
	// "try again next batch".
	for (int i = 0; i < 8 && xsk_prod_nb_free(&tx, p_.ring_size) < p_.ring_size; i++) {
		counters_->tx_kicks.inc();
		if (sendto(socket_.fd(), nullptr, 0, MSG_DONTWAIT, nullptr, 0) < 0)
			break;
	}
}

void Worker::run() noexcept
{
	Qsbr &qsbr = snapshots_.qsbr();
	qsbr.online(p_.index);
	xsk_ring_cons &rx = socket_.rx();
	xsk_ring_prod &tx = socket_.tx();
	QueueCounters &c = *counters_;
	std::array<uint64_t, batch_size> tx_addr;
	std::array<uint32_t, batch_size> tx_len;
	const uint32_t frame_size = umem_.frame_size();
	uint8_t *const area = umem_.area();

	while (!stop_.load(std::memory_order_relaxed)) {
		// No snapshot pointer is held here: a quiescent point.
		qsbr.quiescent(p_.index);
		complete();
		fill(umem_.fill_size());

		uint32_t idx_rx;
		const uint32_t n = xsk_ring_cons__peek(&rx, batch_size, &idx_rx);
		if (n == 0) {
			if (outstanding_tx_ != 0) {
				kick();
				continue;
			}
			// Idle: let the writer proceed without us, then sleep until a frame comes.
			qsbr.offline(p_.index);
			if (socket_.busy_poll()) {
				recvfrom(socket_.fd(), nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
			} else {
				pollfd pfd{socket_.fd(), POLLIN, 0};
				poll(&pfd, 1, 100);
			}
			qsbr.online(p_.index);
			continue;
		}

		const Snapshot *snap = snapshots_.current();
		uint32_t ntx = 0;
		MacAddress mac{};
		auto mac_for = [&](uint32_t hop) -> const MacAddress * {
			if (snap->gateway_mac)
				return &*snap->gateway_mac;
			return snap->neighbours.lookup(hop, mac) ? &mac : nullptr;
		};
		for (uint32_t i = 0; i < n; i++) {
			const xdp_desc *d = xsk_ring_cons__rx_desc(&rx, idx_rx + i);
			const uint64_t addr = xsk_umem__extract_addr(d->addr);
			const uint64_t base = addr - addr % frame_size;
			c.rx_packets.inc();
			c.rx_bytes.add(d->len);
			ForwardResult r;
			if (snap == nullptr) {
				r.verdict = Verdict::no_service;
			} else {
				r = forward_frame(snap->services, snap->encap, area + base, frame_size,
						  static_cast<uint32_t>(addr - base), d->len,
						  snap->max_frame, mac_for);
				if (r.service >= 0)
					c.matched.inc();
			}
			if (r.verdict != Verdict::ok) {
				c.dropped[static_cast<size_t>(r.verdict)].inc();
				// Too big once encapsulated: the ICMP error goes out like a forwarded frame.
				if (r.verdict == Verdict::too_big &&
				    icmp_.answer(area + base, frame_size, static_cast<uint32_t>(addr - base),
						 d->len, r, c)) {
					tx_addr[ntx] = base + r.offset;
					tx_len[ntx] = r.length;
					ntx++;
					continue;
				}
				free_.push_back(base);
				continue;
			}
			const auto s = static_cast<size_t>(r.service);
			c.service_packets[snap->service_slot[s]].inc();
			c.backend_packets[snap->backend_slot[snap->backend_slot_base[s] +
							     static_cast<size_t>(r.first_backend)]]
				.inc();
			c.encap_packets.inc();
			c.encap_bytes.add(r.length);
			tx_addr[ntx] = base + r.offset;
			tx_len[ntx] = r.length;
			ntx++;
		}
		xsk_ring_cons__release(&rx, n);

		uint32_t idx_tx = 0;
		uint32_t got = ntx == 0 ? 0 : xsk_ring_prod__reserve(&tx, ntx, &idx_tx);
		for (uint32_t i = 0; i < got; i++) {
			xdp_desc *d = xsk_ring_prod__tx_desc(&tx, idx_tx + i);
			d->addr = tx_addr[i];
			d->len = tx_len[i];
			d->options = 0;
		}
		// TX ring full: the frames that did not fit go back to the free list (and so to
		// the fill ring), counted; none is lost to the UMEM.
		for (uint32_t i = got; i < ntx; i++) {
			free_.push_back(tx_addr[i] - tx_addr[i] % frame_size);
			c.tx_ring_full.inc();
		}
		if (got != 0) {
			xsk_ring_prod__submit(&tx, got);
			outstanding_tx_ += got;
			kick();
		}
	}
	qsbr.offline(p_.index);
}

}  // namespace tandem::director
