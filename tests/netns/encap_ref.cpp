// SPDX-License-Identifier: Apache-2.0
// Reference encoder for the netns tests: runs tandem::forward_frame() (the function the
// director's workers run) on frames given as hex, one per line on stdin, and prints
// "<verdict> <hex of the frame to send>" per line.
//   encap_ref CONFIG SRC_MAC GATEWAY_MAC SOURCE_IPV4
#include <arpa/inet.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "config.h"
#include "forwarder.h"
#include "service_set.h"

using namespace tandem;

static std::vector<uint8_t> unhex(const std::string &s)
{
	std::vector<uint8_t> out;
	for (size_t i = 0; i + 1 < s.size(); i += 2)
		out.push_back(static_cast<uint8_t>(std::stoi(s.substr(i, 2), nullptr, 16)));
	return out;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		std::fprintf(stderr, "usage: encap_ref CONFIG SRC_MAC GATEWAY_MAC SOURCE_IPV4\n");
		return 2;
	}
	Result<Config> cfg = load_config_file(argv[1]);
	if (!cfg) {
		std::fprintf(stderr, "%s\n", cfg.error().message.c_str());
		return 1;
	}
	ServiceSet set = ServiceSet::compile(cfg->services);
	EncapFields f;
	auto src = parse_mac(argv[2]);
	auto gw = parse_mac(argv[3]);
	if (!src || !gw || inet_pton(AF_INET, argv[4], &f.source_ip) != 1) {
		std::fprintf(stderr, "bad MAC or address\n");
		return 2;
	}
	f.src_mac = *src;
	if (cfg->director) {
		f.gue_port = cfg->director->gue_port;
		f.udp_checksum = cfg->director->udp_checksum;
	}
	std::string line;
	std::vector<uint8_t> buf;
	while (std::getline(std::cin, line)) {
		std::vector<uint8_t> frame = unhex(line);
		const uint32_t headroom = 256;
		buf.assign(headroom + frame.size(), 0);
		std::copy(frame.begin(), frame.end(), buf.begin() + headroom);
		ForwardResult r = forward_frame(set, f, buf.data(), static_cast<uint32_t>(buf.size()),
						headroom, static_cast<uint32_t>(frame.size()), 0,
						[&](uint32_t) { return &*gw; });
		std::string out(to_string(r.verdict));
		out += ' ';
		static const char hex[] = "0123456789abcdef";
		if (r.verdict == Verdict::ok)
			for (uint32_t i = 0; i < r.length; i++) {
				out += hex[buf[r.offset + i] >> 4];
				out += hex[buf[r.offset + i] & 15];
			}
		std::cout << out << '\n';
	}
	return 0;
}
