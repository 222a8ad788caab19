// SPDX-License-Identifier: Apache-2.0
// tandemctl lookup: where a flow goes — hash, row, hops in order, GUE source port.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <iostream>

#include "commands.h"
#include "service_set.h"

namespace tandemctl {

struct LookupArgs {
	std::string file, service, src, dst, proto = "tcp";
	uint16_t sport = 0, dport = 0;
	bool json = false;
};

static int lookup(const LookupArgs &a)
{
	auto cfg = load_or_report(a.file);
	if (!cfg)
		return exit_error;
	const auto *svc = find_or_report(*cfg, a.service);
	if (!svc)
		return exit_error;
	auto src = tandem::IpAddress::parse(a.src);
	if (!src) {
		std::cerr << "--src: \"" << a.src << "\" is not an IPv4 or IPv6 address\n";
		return exit_error;
	}
	tandem::IpAddress dst;
	if (!a.dst.empty()) {
		auto d = tandem::IpAddress::parse(a.dst);
		if (!d || d->family != src->family) {
			std::cerr << "--dst: \"" << a.dst << "\" is not an address of the same family as --src\n";
			return exit_error;
		}
		dst = *d;
	} else {
		// The service's first bind of the client's family stands in for the VIP.
		bool found = false;
		for (const auto &b : svc->binds)
			if (!found && b.prefix.address.family == src->family) {
				dst = b.prefix.address;
				found = true;
			}
		if (!found)
			dst.family = src->family;
	}

	tandem::ParsedPacket pkt;
	pkt.family = src->family;
	pkt.protocol = a.proto == "udp" ? tandem::ip_proto_udp : tandem::ip_proto_tcp;
	std::memcpy(pkt.src.data(), src->bytes.data(), 16);
	std::memcpy(pkt.dst.data(), dst.bytes.data(), 16);
	pkt.src_port = a.sport;
	pkt.dst_port = a.dport;
	pkt.hint = a.sport;

	auto set = tandem::ServiceSet::compile({*svc});
	auto route = set.route_in(0, pkt);
	const auto &svc_c = set.services()[0];
	if (route.verdict == tandem::Verdict::no_backend) {
		std::cerr << "service \"" << svc->name << "\" has no backend in its table\n";
		return exit_negative;
	}
	std::vector<std::string> hops;
	for (unsigned i = 0; i < route.hop_count; i++)
		hops.push_back(svc_c.table.backends()[route.backend[i]].address.to_string());
	char hash[17];
	std::snprintf(hash, sizeof(hash), "%016llx", static_cast<unsigned long long>(route.hash));
	uint32_t row = static_cast<uint32_t>(route.hash & tandem::table_row_mask);

	if (a.json) {
		nlohmann::json j = {{"hash", hash}, {"row", row}, {"hops", hops},
				    {"udp_sport", route.udp_source_port}};
		std::cout << j.dump() << "\n";
		return exit_ok;
	}
	std::cout << "service    " << svc->name << "\n"
		  << "flow       " << a.proto << " " << src->to_string() << ":" << a.sport << " -> "
		  << dst.to_string() << ":" << a.dport << "\n"
		  << "hash       " << hash << " (fields: " << svc->hash_fields.to_string() << ")\n"
		  << "row        " << row << "\n"
		  << "hops      ";
	for (const auto &h : hops)
		std::cout << " " << h;
	std::cout << "\nudp_sport  " << route.udp_source_port << "\n";
	return exit_ok;
}

void add_lookup_command(CLI::App &app, int &exit_code)
{
	auto *cmd = app.add_subcommand("lookup", "Show where a flow goes: hash, row, hops in order, UDP source port");
	auto a = std::make_shared<LookupArgs>();
	cmd->add_option("FILE", a->file, "configuration file")->required();
	cmd->add_option("SERVICE", a->service, "service name")->required();
	cmd->add_option("--src", a->src, "client address")->required();
	cmd->add_option("--sport", a->sport, "client port");
	cmd->add_option("--dst", a->dst, "VIP (default: the service's first bind of that family)");
	cmd->add_option("--dport", a->dport, "VIP port");
	cmd->add_option("--proto", a->proto, "tcp or udp")->check(CLI::IsMember({"tcp", "udp"}));
	cmd->add_flag("--json", a->json, "print {hash, row, hops, udp_sport} as JSON");
	cmd->callback([a, &exit_code] { exit_code = lookup(*a); });
}

}  // namespace tandemctl
