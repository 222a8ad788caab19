// SPDX-License-Identifier: Apache-2.0
// xdpgen: an AF_XDP traffic generator for the end-to-end benchmark. Offers 64-byte IPv4
// TCP SYN frames to a VIP from many clients on one queue of an interface, in copy or
// zero-copy mode, at a fixed rate or as fast as it can, for a bounded time and count.
//   xdpgen --iface g0 --dst-mac MAC [--queue 0] [--rate PPS] [--seconds S] [--count N]
//          [--flows F] [--vip 192.0.2.10] [--port 80]
// Prints: "sent N frames in T s: R pps (offered rate X)".
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <linux/if_xdp.h>
#include <xdp/xsk.h>

namespace {

constexpr uint32_t frame_size = 2048;
constexpr uint32_t ring_entries = 2048;
constexpr uint32_t frames = 2 * ring_entries;
constexpr uint32_t batch = 64;

bool parse_mac(const std::string &s, uint8_t out[6])
{
	unsigned v[6];
	if (std::sscanf(s.c_str(), "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return false;
	for (int i = 0; i < 6; i++)
		out[i] = static_cast<uint8_t>(v[i]);
	return true;
}

uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += uint32_t(p[i]) << 8 | p[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return static_cast<uint16_t>(~s);
}

void write_frame(uint8_t *f, const uint8_t dst[6], const uint8_t src[6], uint32_t client,
		 uint32_t vip, uint16_t port)
{
	std::memset(f, 0, 64);
	std::memcpy(f, dst, 6);
	std::memcpy(f + 6, src, 6);
	f[12] = 0x08;
	uint8_t *ip = f + 14;
	ip[0] = 0x45;
	ip[3] = 46;  // 64-byte frame without FCS: 14 + 20 + 20 + 6 bytes of padding
	ip[6] = 0x40;
	ip[8] = 64;
	ip[9] = 6;
	uint32_t s = htonl(0x0b000000u | (client & 0xffffff));  // 11.x.y.z: many clients
	std::memcpy(ip + 12, &s, 4);
	std::memcpy(ip + 16, &vip, 4);
	uint16_t c = csum(ip, 20);
	ip[10] = static_cast<uint8_t>(c >> 8);
	ip[11] = static_cast<uint8_t>(c);
	uint8_t *tcp = ip + 20;
	const uint32_t sport = 1024 + (client & 0x7fff);
	tcp[0] = static_cast<uint8_t>(sport >> 8);
	tcp[1] = static_cast<uint8_t>(sport);
	tcp[2] = static_cast<uint8_t>(port >> 8);
	tcp[3] = static_cast<uint8_t>(port);
	tcp[12] = 0x50;
	tcp[13] = 0x02;
}

}  // namespace

int main(int argc, char **argv)
{
	CLI::App app{"xdpgen: AF_XDP 64-byte frame generator (benchmarks only)"};
	std::string iface, dst_mac_s, vip_s = "192.0.2.10";
	uint32_t queue = 0, flows = 4096;
	uint16_t port = 80;
	double rate = 0, seconds = 5;
	uint64_t count = 0;
	bool zerocopy = false;
	app.add_option("--iface", iface)->required();
	app.add_option("--dst-mac", dst_mac_s)->required();
	app.add_option("--queue", queue);
	app.add_option("--rate", rate, "frames per second; 0 = as fast as possible");
	app.add_option("--seconds", seconds);
	app.add_option("--count", count, "stop after this many frames (0 = no limit)");
	app.add_option("--flows", flows);
	app.add_option("--vip", vip_s);
	app.add_option("--port", port);
	app.add_flag("--zerocopy", zerocopy);
	CLI11_PARSE(app, argc, argv);

	uint8_t dst[6], src[6] = {2, 0, 0, 0, 0, 0x11};
	uint32_t vip;
	if (!parse_mac(dst_mac_s, dst) || inet_pton(AF_INET, vip_s.c_str(), &vip) != 1) {
		std::fprintf(stderr, "xdpgen: bad --dst-mac or --vip\n");
		return 2;
	}
	void *area = mmap(nullptr, size_t{frames} * frame_size, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED) {
		std::perror("xdpgen: mmap");
		return 1;
	}
	auto *mem = static_cast<uint8_t *>(area);
	for (uint32_t i = 0; i < frames; i++)
		write_frame(mem + size_t{i} * frame_size, dst, src, i % flows * 2654435761u >> 8, vip, port);

	xsk_ring_prod fill;
	xsk_ring_cons comp;
	xsk_umem *umem = nullptr;
	xsk_umem_config ucfg{.fill_size = ring_entries, .comp_size = ring_entries,
			     .frame_size = frame_size, .frame_headroom = 0, .flags = 0};
	int err = xsk_umem__create(&umem, area, size_t{frames} * frame_size, &fill, &comp, &ucfg);
	if (err) {
		std::fprintf(stderr, "xdpgen: xsk_umem__create: %s\n", std::strerror(-err));
		return 1;
	}
	xsk_ring_prod tx;
	xsk_socket *xsk = nullptr;
	xsk_socket_config scfg{};
	scfg.rx_size = 0;
	scfg.tx_size = ring_entries;
	scfg.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;
	scfg.bind_flags = static_cast<uint16_t>(zerocopy ? XDP_ZEROCOPY : XDP_COPY);
	err = xsk_socket__create(&xsk, iface.c_str(), queue, umem, nullptr, &tx, &scfg);
	if (err) {
		std::fprintf(stderr, "xdpgen: xsk_socket__create on %s queue %u: %s\n", iface.c_str(),
			     queue, std::strerror(-err));
		return 1;
	}
	const int fd = xsk_socket__fd(xsk);

	std::vector<uint64_t> free_frames;
	for (uint32_t i = 0; i < frames; i++)
		free_frames.push_back(uint64_t{i} * frame_size);
	using clock = std::chrono::steady_clock;
	const auto start = clock::now();
	const auto end = start + std::chrono::duration<double>(seconds);
	uint64_t sent = 0, completed = 0, outstanding = 0;
	while (true) {
		auto now = clock::now();
		if (now >= end || (count && sent >= count))
			break;
		uint32_t want = batch;
		if (rate > 0) {
			double elapsed = std::chrono::duration<double>(now - start).count();
			double due = elapsed * rate - static_cast<double>(sent);
			if (due < 1) {
				// Copy mode sends only inside sendto(), 32 frames a call: kick what
				// is still queued rather than sleep on it, or the rate falls short.
				if (outstanding)
					sendto(fd, nullptr, 0, MSG_DONTWAIT, nullptr, 0);
				else
					std::this_thread::sleep_for(std::chrono::microseconds(20));
				goto complete;
			}
			want = static_cast<uint32_t>(std::min<double>(due, batch));
		}
		if (count && sent + want > count)
			want = static_cast<uint32_t>(count - sent);
		if (want > free_frames.size())
			want = static_cast<uint32_t>(free_frames.size());
		if (want > 0) {
			uint32_t idx;
			uint32_t got = xsk_ring_prod__reserve(&tx, want, &idx);
			for (uint32_t i = 0; i < got; i++) {
				xdp_desc *d = xsk_ring_prod__tx_desc(&tx, idx + i);
				d->addr = free_frames.back();
				d->len = 60;
				d->options = 0;
				free_frames.pop_back();
			}
			xsk_ring_prod__submit(&tx, got);
			sent += got;
			outstanding += got;
		}
		sendto(fd, nullptr, 0, MSG_DONTWAIT, nullptr, 0);
	complete:
		uint32_t cidx;
		uint32_t n = xsk_ring_cons__peek(&comp, ring_entries, &cidx);
		for (uint32_t i = 0; i < n; i++)
			free_frames.push_back(*xsk_ring_cons__comp_addr(&comp, cidx + i));
		xsk_ring_cons__release(&comp, n);
		completed += n;
		outstanding -= n;
	}
	// Drain: let the kernel finish what was queued (bounded).
	for (int i = 0; i < 1000 && outstanding; i++) {
		sendto(fd, nullptr, 0, MSG_DONTWAIT, nullptr, 0);
		uint32_t cidx;
		uint32_t n = xsk_ring_cons__peek(&comp, ring_entries, &cidx);
		xsk_ring_cons__release(&comp, n);
		completed += n;
		outstanding -= n;
		std::this_thread::sleep_for(std::chrono::microseconds(100));
	}
	double t = std::chrono::duration<double>(clock::now() - start).count();
	// Submitted frames; the script counts what left the interface from its statistics.
	std::printf("sent %llu frames in %.3f s: %.0f pps (offered rate %s)\n",
		    static_cast<unsigned long long>(sent), t, static_cast<double>(sent) / t,
		    rate > 0 ? std::to_string(static_cast<long long>(rate)).c_str() : "max");
	xsk_socket__delete(xsk);
	xsk_umem__delete(umem);
	munmap(area, size_t{frames} * frame_size);
	return 0;
}
