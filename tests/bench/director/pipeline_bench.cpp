// SPDX-License-Identifier: Apache-2.0
// The worker pipeline on batches in memory: tandem::forward_frame() (parse, flow hash,
// row lookup, GUE encapsulation in place) on batches of 64 frames, as a worker runs it.
// Each frame is first copied into its UMEM-like buffer (as the NIC or the kernel would
// have written it), so the figure includes touching the frame's bytes.
//   BM_Forward*: hot cache, one service, 64 clients, 1 or 100 backends.
//   BM_ForwardCachePressure: 100 services of 10 backends each (1000 in all; 100 tables of
//     65536 rows, 25 MiB), 1 M distinct clients in random order, hash fields src_addr +
//     src_port with alt_hash_fields [src_addr] (two lookups, 4 hops).
//   BM_Floor: what no forwarder can skip for the same 1 M clients: copy the frame, one
//     SipHash-2-4 over the hashed fields, one row load. tests/bench/director/pipeline_ratio
//     prints every case as a ratio to it, measured in the same run on the same core.
//   tandem-bench-pipeline --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <arpa/inet.h>

#include <array>
#include <cstring>
#include <vector>

#include "config.h"
#include "forwarder.h"
#include "service_set.h"
#include "siphash.h"

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

void set_rate_counters(benchmark::State &state)
{
	state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * batch);
	state.counters["ns/packet"] = benchmark::Counter(
		static_cast<double>(state.iterations()) * batch,
		benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
	state.counters["Mpps"] = benchmark::Counter(static_cast<double>(state.iterations()) * batch / 1e6,
						    benchmark::Counter::kIsRate);
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
	uint64_t ok = 0;
	for (auto _ : state) {
		for (uint32_t i = 0; i < batch; i++) {
			uint8_t *buf = umem.data() + size_t{i} * frame_size;
			std::memcpy(buf + headroom, frames[i].data(), frames[i].size());
			ForwardResult r = forward_frame(set, f, buf, frame_size, headroom,
							static_cast<uint32_t>(frames[i].size()), 0,
							[&](uint32_t) { return &gw; });
			ok += r.verdict == Verdict::ok;
		}
		benchmark::DoNotOptimize(umem.data());
		benchmark::ClobberMemory();
	}
	if (ok != uint64_t(state.iterations()) * batch)
		state.SkipWithError("a frame was not forwarded");
	set_rate_counters(state);
}

void BM_ForwardIPv4Tcp(benchmark::State &s) { bm_forward(s, false); }
void BM_ForwardIPv6Tcp(benchmark::State &s) { bm_forward(s, true); }

// The cache-pressure fleet: 100 services (VIP 198.18.0.i tcp/80), 10 backends each.
constexpr unsigned fleet_services = 100;
constexpr uint32_t fleet_clients = 1u << 20;

const ServiceSet &fleet()
{
	static const ServiceSet set = [] {
		std::vector<ServiceConfig> services;
		for (unsigned i = 0; i < fleet_services; i++) {
			ServiceConfig s;
			s.name = "svc" + std::to_string(i);
			Bind b;
			b.prefix = IpPrefix{IpAddress::from_v4(htonl(0xc6120000u + i)), 32};
			b.protocol = Protocol::tcp;
			b.ports = {PortRange{80, 80}};
			s.binds.push_back(b);
			s.hash_key = *parse_key("4a9b2e0c5d8f1a3b6c7d8e9f0a1b2c3d");
			s.hash_key[0] = static_cast<uint8_t>(i);
			s.seed = *parse_key("9f8e7d6c5b4a39281706f5e4d3c2b1a0");
			s.seed[0] = static_cast<uint8_t>(i);
			s.hash_fields = HashFields{.src_addr = true, .src_port = true};
			s.alt_hash_fields = HashFields{.src_addr = true};
			for (unsigned k = 0; k < 10; k++) {
				BackendConfig bc;
				bc.backend.address = IpAddress::from_v4(htonl(0x0a010000u + (i << 8) + 1 + k));
				s.backends.push_back(bc);
			}
			services.push_back(s);
		}
		return ServiceSet::compile(services);
	}();
	return set;
}

// Client i: source 100.64.0.0 + i, port from i, to service perm(i): in random order.
struct FleetClient {
	uint32_t src;  // network order
	uint16_t sport;
	uint16_t service;
};

const std::vector<FleetClient> &fleet_clients_list()
{
	static const std::vector<FleetClient> list = [] {
		std::vector<FleetClient> v(fleet_clients);
		uint64_t x = 0x243f6a8885a308d3ull;
		for (uint32_t i = 0; i < fleet_clients; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;  // xorshift: a fixed random order
			const uint32_t c = static_cast<uint32_t>(x) & (fleet_clients - 1);
			v[i] = {htonl(0x64400000u + c), static_cast<uint16_t>(1024 + c % 60000),
				static_cast<uint16_t>((x >> 32) % fleet_services)};
		}
		return v;
	}();
	return list;
}

// The template frame with client c written in, as the NIC would have delivered it.
inline void write_fleet_frame(uint8_t *buf, const std::vector<uint8_t> &tmpl, const FleetClient &c)
{
	std::memcpy(buf, tmpl.data(), 64);
	std::memcpy(buf + 14 + 12, &c.src, 4);
	const uint32_t vip = htonl(0xc6120000u + c.service);
	std::memcpy(buf + 14 + 16, &vip, 4);
	buf[14 + 20] = static_cast<uint8_t>(c.sport >> 8);
	buf[14 + 21] = static_cast<uint8_t>(c.sport);
}

void BM_ForwardCachePressure(benchmark::State &state)
{
	const ServiceSet &set = fleet();
	const std::vector<FleetClient> &clients = fleet_clients_list();
	const std::vector<uint8_t> tmpl = make_frame(false, 0);
	EncapFields f;
	f.source_ip = htonl(0x0a000002u);
	const MacAddress gw = {2, 0, 0, 0, 0, 9};
	std::vector<uint8_t> umem(size_t{batch} * frame_size);
	uint64_t ok = 0;
	uint32_t next = 0;
	for (auto _ : state) {
		for (uint32_t i = 0; i < batch; i++, next = (next + 1) & (fleet_clients - 1)) {
			uint8_t *buf = umem.data() + size_t{i} * frame_size;
			write_fleet_frame(buf + headroom, tmpl, clients[next]);
			ForwardResult r = forward_frame(set, f, buf, frame_size, headroom, 64, 0,
							[&](uint32_t) { return &gw; });
			ok += r.verdict == Verdict::ok;
		}
		benchmark::DoNotOptimize(umem.data());
		benchmark::ClobberMemory();
	}
	if (ok != uint64_t(state.iterations()) * batch)
		state.SkipWithError("a frame was not forwarded");
	set_rate_counters(state);
}

void BM_Floor(benchmark::State &state)
{
	const ServiceSet &set = fleet();
	const std::vector<FleetClient> &clients = fleet_clients_list();
	const std::vector<uint8_t> tmpl = make_frame(false, 0);
	std::vector<uint8_t> umem(size_t{batch} * frame_size);
	uint64_t sum = 0;
	uint32_t next = 0;
	for (auto _ : state) {
		for (uint32_t i = 0; i < batch; i++, next = (next + 1) & (fleet_clients - 1)) {
			uint8_t *buf = umem.data() + size_t{i} * frame_size + headroom;
			const FleetClient &c = clients[next];
			write_fleet_frame(buf, tmpl, c);
			const CompiledService &svc = set.services()[c.service];
			uint8_t fields[6];
			std::memcpy(fields, buf + 14 + 12, 4);
			std::memcpy(fields + 4, buf + 14 + 20, 2);
			const uint64_t h = siphash24(svc.hash_key, fields, sizeof(fields));
			sum += svc.table.row(static_cast<uint32_t>(h & table_row_mask))[0];
		}
		benchmark::DoNotOptimize(sum);
		benchmark::DoNotOptimize(umem.data());
		benchmark::ClobberMemory();
	}
	set_rate_counters(state);
}

}  // namespace

BENCHMARK(BM_ForwardIPv4Tcp)->Arg(1)->Arg(100);
BENCHMARK(BM_ForwardIPv6Tcp)->Arg(1)->Arg(100);
BENCHMARK(BM_ForwardCachePressure);
BENCHMARK(BM_Floor);
BENCHMARK_MAIN();
