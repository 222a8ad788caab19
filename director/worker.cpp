// SPDX-License-Identifier: Apache-2.0
#include "worker.h"

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

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
	  counters_(std::make_unique<QueueCounters>()),
	  rings_(RingSet{umem_.fill(), umem_.comp(), socket_.rx(), socket_.tx()}, umem_.frame_count(),
		 umem_.frame_size()),
	  icmp_(p.icmp_rate, p.icmp_burst)
{
	rings_.refill();
}

Worker::~Worker()
{
	request_stop();
	join();
}

Result<void> Worker::start()
{
	thread_ = std::thread([this] { run(); });
	// "tandem-q3": the queue's worker, as top -H and the tests see it.
	const std::string name = "tandem-q" + std::to_string(p_.queue);
	pthread_setname_np(thread_.native_handle(), name.substr(0, 15).c_str());
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

void Worker::reap() noexcept
{
	counters_->tx_packets.add(rings_.reap_completions());
}

// Free frames into the fill ring; when the kernel asks for a wakeup to see them
// (need_wakeup, zero-copy drivers), give it one, as recvfrom() does.
void Worker::refill() noexcept
{
	rings_.refill();
	if (xsk_ring_prod__needs_wakeup(&umem_.fill())) {
		counters_->fill_wakeups.inc();
		recvfrom(socket_.fd(), nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
	}
}

// The backlog into the TX ring, and the kernel told. When the ring was full, the kick
// (copy mode) or the driver (zero-copy) makes room; one more try takes what fits then.
void Worker::send() noexcept
{
	rings_.flush_tx();
	kick();
	if (rings_.backlog() != 0) {
		reap();
		rings_.flush_tx();
		kick();
	}
}

// One sendto(): 0, or the errno, counted.
int Worker::sendto_kick() noexcept
{
	counters_->tx_kicks.inc();
	if (sendto(socket_.fd(), nullptr, 0, MSG_DONTWAIT, nullptr, 0) >= 0)
		return 0;
	const int err = errno;
	KickError e = KickError::other;
	switch (err) {
	case EAGAIN: e = KickError::eagain; break;
	case EBUSY: e = KickError::ebusy; break;
	case ENOBUFS: e = KickError::enobufs; break;
	case ENETDOWN: e = KickError::enetdown; break;
	}
	counters_->kick_errors[static_cast<size_t>(e)].inc();
	return err;
}

// Tells the kernel about TX descriptors. Returns whether the kernel took any.
// Zero-copy: the driver's NAPI loop sends; wake it when it asks (or always when busy
// polling, where the application drives NAPI). Copy mode sends only inside sendto(), at
// most 32 frames a call, answering EAGAIN while more are queued (EBUSY: the device
// dropped one): kick while the kernel keeps taking descriptors, reaping completions in
// between (a full completion ring stops it), until the ring is empty or the kernel
// takes nothing; bounded by the calls an empty ring of this size needs.
bool Worker::kick() noexcept
{
	xsk_ring_prod &tx = socket_.tx();
	if (socket_.zero_copy()) {
		if (socket_.busy_poll() || xsk_ring_prod__needs_wakeup(&tx))
			link_down_ = sendto_kick() == ENETDOWN;
		return true;
	}
	const uint32_t before = rings_.tx_unconsumed();
	uint32_t left = before;
	for (uint32_t i = 0; left != 0 && i <= p_.ring_size / 32 + 1; i++) {
		const int err = sendto_kick();
		link_down_ = err == ENETDOWN;
		if (link_down_)
			break;
		reap();
		const uint32_t now = rings_.tx_unconsumed();
		if (now == left)
			break;
		left = now;
	}
	return left != before;
}

// Going to sleep holding no snapshot pointer: offline, so a reload never waits on us.
// Idle: until a frame arrives. Waiting for TX room: zero-copy until the TX ring is half
// empty (POLLOUT), copy mode (where nothing but our own kicks would make room) and a
// link that is down: for the timeout alone.
void Worker::sleep(WorkerSleep why, int timeout_ms) noexcept
{
	counters_->sleeps[static_cast<size_t>(why)].inc();
	short events = 0;
	if (why == WorkerSleep::idle)
		events = POLLIN;
	else if (why == WorkerSleep::tx_wait && socket_.zero_copy())
		events = POLLOUT;
	Qsbr &qsbr = snapshots_.qsbr();
	qsbr.offline(p_.index);
	pollfd pfd{socket_.fd(), events, 0};
	poll(&pfd, 1, timeout_ms);
	qsbr.online(p_.index);
}

// The kernel holds TX frames it has not sent: a short wait, or a long one when the
// last kick said the link is down.
void Worker::wait_for_tx() noexcept
{
	if (link_down_)
		sleep(WorkerSleep::link_down, 100);
	else
		sleep(WorkerSleep::tx_wait, 1);
}

// Nothing on RX. Copy mode with descriptors the kernel has not taken: kick; when that
// makes no progress (the device is busy, the link is down) sleep briefly rather than
// spin. Otherwise idle: busy polling drives NAPI with recvfrom(); else sleep until a
// frame arrives (poll() on the socket also sends what copy mode still holds).
void Worker::wait_for_work() noexcept
{
	if (!socket_.zero_copy() && rings_.tx_unconsumed() != 0) {
		if (kick())
			return;
		wait_for_tx();
		return;
	}
	if (socket_.busy_poll()) {
		recvfrom(socket_.fd(), nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
		return;
	}
	sleep(WorkerSleep::idle, 100);
}

void Worker::forward_batch(const Snapshot *snap, uint32_t n, uint32_t idx) noexcept
{
	QueueCounters &c = *counters_;
	const uint32_t frame_size = umem_.frame_size();
	uint8_t *const area = umem_.area();
	MacAddress mac{};
	auto mac_for = [&](uint32_t hop) -> const MacAddress * {
		if (snap->gateway_mac)
			return &*snap->gateway_mac;
		return snap->neighbours.lookup(hop, mac) ? &mac : nullptr;
	};
	// Counted per batch, stored once at its end.
	uint64_t rx_bytes = 0, encap_bytes = 0;
	uint32_t matched = 0, encapsulated = 0;
	for (uint32_t i = 0; i < n; i++) {
		const xdp_desc *d = rings_.rx_desc(idx + i);
		if (i + 1 < n)  // the next frame's headers, while this one is parsed
			__builtin_prefetch(area + xsk_umem__extract_addr(rings_.rx_desc(idx + i + 1)->addr));
		const uint64_t addr = xsk_umem__extract_addr(d->addr);
		const uint64_t base = addr - addr % frame_size;
		rx_bytes += d->len;
		ForwardResult r;
		if (snap == nullptr) {
			r.verdict = Verdict::no_service;
		} else {
			r = forward_frame(snap->services, snap->encap, area + base, frame_size,
					  static_cast<uint32_t>(addr - base), d->len, snap->max_frame, mac_for);
			matched += r.service >= 0;
		}
		if (r.verdict != Verdict::ok) {
			c.dropped[static_cast<size_t>(r.verdict)].inc();
			// Too big once encapsulated: the ICMP error goes out like a forwarded frame.
			if (r.verdict == Verdict::too_big &&
			    icmp_.answer(area + base, frame_size, static_cast<uint32_t>(addr - base), d->len,
					 r, c)) {
				rings_.stage_tx(base + r.offset, r.length);
				continue;
			}
			rings_.recycle(base);
			continue;
		}
		const auto s = static_cast<size_t>(r.service);
		c.service_packets[snap->service_slot[s]].inc();
		c.backend_packets[snap->backend_slot[snap->backend_slot_base[s] +
						     static_cast<size_t>(r.first_backend)]]
			.inc();
		encapsulated++;
		encap_bytes += r.length;
		rings_.stage_tx(base + r.offset, r.length);
	}
	c.batches.inc();
	c.rx_packets.add(n);
	c.rx_bytes.add(rx_bytes);
	c.matched.add(matched);
	c.encap_packets.add(encapsulated);
	c.encap_bytes.add(encap_bytes);
}

void Worker::run() noexcept
{
	Qsbr &qsbr = snapshots_.qsbr();
	qsbr.online(p_.index);
	while (!stop_.load(std::memory_order_relaxed)) {
		heartbeat_.store(heartbeat_.load(std::memory_order_relaxed) + 1,
				 std::memory_order_relaxed);
#ifdef TANDEM_FAULT_INJECTION
		while (hang_.load(std::memory_order_relaxed))
			std::this_thread::sleep_for(std::chrono::milliseconds(10));
#endif
		// No snapshot pointer is held here: a quiescent point.
		qsbr.quiescent(p_.index);
		reap();
		refill();
		if (rings_.backlog() != 0) {
			// Back-pressure: the last batch goes out before a new one comes in.
			send();
			if (rings_.backlog() != 0)
				wait_for_tx();
			continue;
		}
		uint32_t idx = 0;
		const uint32_t n = rings_.peek_rx(batch_size, idx);
		if (n == 0) {
			wait_for_work();
			continue;
		}
		forward_batch(snapshots_.current(), n, idx);
		rings_.release_rx(n);
		send();
		if (rings_.backlog() != 0)
			counters_->tx_ring_full.inc();
	}
	qsbr.offline(p_.index);
	stopped_.store(true, std::memory_order_release);
}

}  // namespace tandem::director
