// SPDX-License-Identifier: Apache-2.0
// BPF fixture test of the XDP classifier: each fixture (expected decision, name, frame
// as hex; one per line) runs through bpf_prog_test_run_opts against the maps the real
// Classifier writes for a configuration. The decision is read from the program's own
// counters. An AF_XDP socket on lo, queue 0 (the queue test runs see), sits in the
// XSKMAP, so VIP frames are redirected (a test run returns XDP_REDIRECT and sends
// nothing); run it in a network namespace of its own.
//   classifier_fixtures CONFIG FIXTURES
#include <cstdio>
#include <fstream>
#include <iterator>
#include <iostream>
#include <string>
#include <vector>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "classifier.h"
#include "config.h"
#include "service_set.h"
#include "umem.h"
#include "xsk_socket.h"

using namespace tandem;
using namespace tandem::director;

static const char *names[] = {"pass", "redirect", "redirect_icmp", "redirect_fragment",
			      "pass_malformed", "drop_too_big", "drop_no_socket"};
static_assert(std::size(names) == TANDEM_CLS_COUNT);

// The action the program returns with each decision.
static unsigned action_of(const std::string &decision)
{
	if (decision.starts_with("drop"))
		return XDP_DROP;
	if (decision.starts_with("redirect"))
		return XDP_REDIRECT;
	return XDP_PASS;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		std::fprintf(stderr, "usage: classifier_fixtures CONFIG FIXTURES\n");
		return 2;
	}
	Result<Config> cfg = load_config_file(argv[1]);
	if (!cfg) {
		std::fprintf(stderr, "%s\n", cfg.error().message.c_str());
		return 2;
	}
	const uint32_t frame_size = cfg->director ? cfg->director->frame_size : 4096;
	Result<Classifier> cls = Classifier::load_only(frame_size - 256);
	if (!cls) {
		std::printf("SKIP: %s\n", cls.error().message.c_str());
		return 77;
	}
	Result<Umem> umem = Umem::create(UmemParams{.frame_size = frame_size, .ring_size = 64});
	if (!umem) {
		std::fprintf(stderr, "%s\n", umem.error().message.c_str());
		return 1;
	}
	Result<XskSocket> xsk = XskSocket::create(
		XskParams{.ifname = "lo", .queue = 0, .ring_size = 64, .bind_mode = BindMode::copy, .busy_poll = {}},
		*umem);
	if (!xsk) {
		std::printf("SKIP: an AF_XDP socket on lo: %s\n", xsk.error().message.c_str());
		return 77;
	}
	if (auto r = cls->add_socket(xsk->handle()); !r) {
		std::fprintf(stderr, "%s\n", r.error().message.c_str());
		return 1;
	}
	ServiceSet set = ServiceSet::compile(cfg->services);
	if (auto r = cls->write_binds(set.binds()); !r) {
		std::fprintf(stderr, "%s\n", r.error().message.c_str());
		return 1;
	}
	std::ifstream in(argv[2]);
	std::string line;
	int fail = 0, n = 0;
	while (std::getline(in, line)) {
		auto t1 = line.find('\t'), t2 = line.find('\t', t1 + 1);
		if (t1 == std::string::npos || t2 == std::string::npos)
			continue;
		std::string expected = line.substr(0, t1), name = line.substr(t1 + 1, t2 - t1 - 1);
		std::string hex = line.substr(t2 + 1);
		std::vector<uint8_t> pkt;
		for (size_t i = 0; i + 1 < hex.size(); i += 2)
			pkt.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
		auto before = cls->counters(1)[0];
		std::vector<uint8_t> out(pkt.size() + 512);
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt.data(), .data_out = out.data(),
			    .data_size_in = static_cast<uint32_t>(pkt.size()),
			    .data_size_out = static_cast<uint32_t>(out.size()), .repeat = 1);
		int err = bpf_prog_test_run_opts(cls->prog_fd(), &opts);
		auto after = cls->counters(1)[0];
		std::string got = "none";
		for (unsigned c = 0; c < TANDEM_CLS_COUNT; c++)
			if (after[c] != before[c])
				got = names[c];
		if (err != 0)
			got = "test_run error " + std::to_string(err);
		if (err == 0 && opts.retval != action_of(expected))
			got += " (action " + std::to_string(opts.retval) + ")";
		bool ok = got == expected;
		std::printf("%s: %-56s expected %s, got %s\n", ok ? "PASS" : "FAIL", name.c_str(),
			    expected.c_str(), got.c_str());
		fail |= !ok;
		n++;
	}
	if (n == 0) {
		std::printf("FAIL: no fixtures in %s\n", argv[2]);
		return 1;
	}
	return fail;
}
