// SPDX-License-Identifier: Apache-2.0
// The worker pipeline on batches in memory: tandem::forward_frame() (parse, flow hash,
// row lookup, GUE encapsulation in place) on batches of 64 frames from 64 clients, as a
// worker runs it. Each frame is first copied into its UMEM-like buffer (as the NIC or the
// kernel would have written it), so the figure includes touching the frame's bytes.
//   tandem-bench-pipeline --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <arpa/inet.h>

#include <array>
#include <cstring>
#include <vector>

#include "config.h"
#include "forwarder.h"
#include "service_set.h"

using namespace tandem;

namespace {

constexpr uint32_t headroom = 256;
constexpr uint32_t frame_size = 2048;
constexpr uint32_t batch = 64;

std::vector<uint8_t> make_frame(bool v6, uint32_t client)
{
	std::vector<uint8_t> f(64, 0);  // 64-byte frames (v6: 86, see below)
	uint8_t eth[14] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00};
	if (!v6) {
		std::memcpy(f.data(), eth, 14);
		uint8_t *ip = f.data() + 14;
		ip[0] = 0x45;
		ip[2] = 0;
		ip[3] = 40;
		ip[8] = 64;
		ip[9] = 6;
		uint32_t src = htonl(0xc6336400u + client);  // 198.51.100.x
		uint32_t dst = htonl(0xc000020au);           // 192.0.2.10
		std::memcpy(ip + 12, &src, 4);
		std::memcpy(ip + 16, &dst, 4);
		uint8_t *tcp = ip + 20;
		tcp[0] = static_cast<uint8_t>(client >> 8);
		tcp[1] = static_cast<uint8_t>(client);
		tcp[2] = 0;
		tcp[3] = 80;
		tcp[12] = 0x50;
		tcp[13] = 0x02;
		return f;
	}
	f.assign(14 + 40 + 20, 0);
	eth[12] = 0x86;
	eth[13] = 0xdd;
	std::memcpy(f.data(), eth, 14);
	uint8_t *ip = f.data() + 14;
	ip[0] = 0x60;
	ip[5] = 20;
	ip[6] = 6;
	ip[7] = 64;
	const uint8_t src[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0,
				 static_cast<uint8_t>(client >> 24), static_cast<uint8_t>(client >> 16),
				 static_cast<uint8_t>(client >> 8), static_cast<uint8_t>(client)};
	const uint8_t dst[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};
	std::memcpy(ip + 8, src, 16);
	std::memcpy(ip + 24, dst, 16);
	uint8_t *tcp = ip + 40;
	tcp[2] = 0;
	tcp[3] = 80;
	tcp[12] = 0x50;
	return f;
}

ServiceSet make_services(unsigned backends)
{
	ServiceConfig s;
	s.name = "web";
	for (const char *p : {"192.0.2.10", "2001:db8::10"}) {
		Bind b;
		b.prefix = *IpPrefix::parse(p);
		b.protocol = Protocol::tcp;
		b.ports = {PortRange{80, 80}};
		s.binds.push_back(b);
	}
	s.hash_key = *parse_key("4a9b2e0c5d8f1a3b6c7d8e9f0a1b2c3d");
	s.seed = *parse_key("9f8e7d6c5b4a39281706f5e4d3c2b1a0");
	for (unsigned i = 0; i < backends; i++) {
		BackendConfig bc;
		bc.backend.address = IpAddress::from_v4(htonl(0x0a000100u + 1 + i));  // 10.0.1.x
		s.backends.push_back(bc);
	}
	return ServiceSet::compile({s});
}

void bm_forward(benchmark::State &state, bool v6)
{
	const ServiceSet set = make_services(static_cast<unsigned>(state.range(0)));
	EncapFields f;
	f.source_ip = htonl(0x0a000002u);
	const MacAddress gw = {2, 0, 0, 0, 0, 9};
	std::vector<std::vector<uint8_t>> frames;
	for (uint32_t i = 0; i < batch; i++)
		frames.push_back(make_frame(v6, i * 2654435761u));
	std::vector<uint8_t> umem(size_t{batch} * frame_size);
	uint64_t ok = 0, bytes = 0;
	for (auto _ : state) {
		for (uint32_t i = 0; i < batch; i++) {
			uint8_t *buf = umem.data() + size_t{i} * frame_size;
			std::memcpy(buf + headroom, frames[i].data(), frames[i].size());
			ForwardResult r = forward_frame(set, f, buf, frame_size, headroom,
							static_cast<uint32_t>(frames[i].size()), 0,
							[&](uint32_t) { return &gw; });
			ok += r.verdict == Verdict::ok;
			bytes += r.length;
		}
		benchmark::DoNotOptimize(umem.data());
		benchmark::ClobberMemory();
	}
	if (ok != uint64_t(state.iterations()) * batch)
		state.SkipWithError("a frame was not forwarded");
	state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * batch);
	state.counters["ns/packet"] = benchmark::Counter(
		static_cast<double>(state.iterations()) * batch,
		benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
	state.counters["Mpps"] = benchmark::Counter(static_cast<double>(state.iterations()) * batch / 1e6,
						    benchmark::Counter::kIsRate);
}

void BM_ForwardIPv4Tcp(benchmark::State &s) { bm_forward(s, false); }
void BM_ForwardIPv6Tcp(benchmark::State &s) { bm_forward(s, true); }

}  // namespace

BENCHMARK(BM_ForwardIPv4Tcp)->Arg(1)->Arg(100);
BENCHMARK(BM_ForwardIPv6Tcp)->Arg(1)->Arg(100);
BENCHMARK_MAIN();
