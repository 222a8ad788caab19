// SPDX-License-Identifier: Apache-2.0
// tandemctl encap: one Ethernet frame through exactly the function the workers run.
#include <iostream>
#include <vector>

#include "commands.h"
#include "forwarder.h"
#include "hex.h"

namespace tandemctl {

struct EncapArgs {
	std::string file, service, source_ip, frame;
	bool udp_checksum = false;
};

static int encap(const EncapArgs &a)
{
	auto cfg = load_or_report(a.file);
	if (!cfg)
		return exit_error;
	const auto *svc = find_or_report(*cfg, a.service);
	if (!svc)
		return exit_error;
	auto source = tandem::IpAddress::parse(a.source_ip);
	if (!source || !source->is_v4()) {
		std::cerr << "--source-ip: \"" << a.source_ip << "\" is not an IPv4 address\n";
		return exit_error;
	}
	std::string frame_hex = a.frame;
	std::erase_if(frame_hex, [](char c) { return c == ' ' || c == ':' || c == '\n'; });
	auto frame = tandem::parse_hex(frame_hex);
	if (!frame || frame->size() > 65535) {
		std::cerr << "--frame: not a hex string of at most 65535 bytes\n";
		return exit_error;
	}

	auto set = tandem::ServiceSet::compile({*svc});
	tandem::EncapFields fields;
	fields.source_ip = source->v4_raw();
	fields.udp_checksum = a.udp_checksum;
	if (cfg->director)
		fields.gue_port = cfg->director->gue_port;
	constexpr uint32_t headroom = 256;
	std::vector<uint8_t> buf(headroom);
	buf.insert(buf.end(), frame->begin(), frame->end());
	static const tandem::MacAddress any_mac{};
	auto res = tandem::forward_frame(set, fields, buf.data(), static_cast<uint32_t>(buf.size()),
					 headroom, static_cast<uint32_t>(frame->size()), 0,
					 [](uint32_t) { return &any_mac; });
	if (res.verdict != tandem::Verdict::ok) {
		std::cout << "not forwarded: " << tandem::to_string(res.verdict) << "\n";
		return exit_negative;
	}
	const uint32_t ip = res.offset + tandem::ethernet_header_size;
	std::cout << tandem::format_hex(buf.data() + ip, res.offset + res.length - ip) << "\n";
	return exit_ok;
}

void add_encap_command(CLI::App &app, int &exit_code)
{
	auto *cmd = app.add_subcommand("encap", "Encapsulate one Ethernet frame as a worker would; print the outer IPv4 packet as hex");
	auto a = std::make_shared<EncapArgs>();
	cmd->add_option("FILE", a->file, "configuration file")->required();
	cmd->add_option("SERVICE", a->service, "service whose binds and table to use")->required();
	cmd->add_option("--source-ip", a->source_ip, "outer IPv4 source address")->required();
	cmd->add_option("--frame", a->frame, "the received Ethernet frame, hex")->required();
	cmd->add_flag("--udp-checksum", a->udp_checksum, "compute the outer UDP checksum");
	cmd->callback([a, &exit_code] { exit_code = encap(*a); });
}

}  // namespace tandemctl
