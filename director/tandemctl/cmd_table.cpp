// SPDX-License-Identifier: Apache-2.0
// tandemctl table FILE [--service NAME]: how each service's table uses its backends.
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "table_report.h"

namespace tandemctl {

static void print_report(const tandem::ServiceConfig &svc)
{
	auto table = tandem::ForwardingTable::build(svc.seed, svc.table_backends(), svc.hops_per_row);
	auto rep = tandem::report_table(table);
	std::printf("service %s: %zu backends, %u hops per row, balance %.3f (max/mean first-hop rows)\n",
		    svc.name.c_str(), rep.backends.size(), rep.width, rep.balance);
	std::printf("  %-39s %-9s %-7s %15s %15s  %s\n", "backend", "state", "healthy",
		    "first-hop rows", "any-hop rows", "second hops: distinct, min-max rows");
	for (const auto &b : rep.backends) {
		char first[32];
		std::snprintf(first, sizeof(first), "%u (%.1f%%)", b.first_hop_rows,
			      100.0 * b.first_hop_rows / tandem::table_rows);
		std::printf("  %-39s %-9s %-7s %15s %15u  ", b.backend.address.to_string().c_str(),
			    std::string(tandem::to_string(b.backend.state)).c_str(),
			    b.backend.healthy ? "yes" : "no", first, b.any_hop_rows);
		if (b.second_hops)
			std::printf("%u, %u-%u\n", b.second_hops, b.second_hop_min_rows,
				    b.second_hop_max_rows);
		else
			std::printf("-\n");
	}
}

void add_table_command(CLI::App &app, int &exit_code)
{
	auto *cmd = app.add_subcommand("table", "Per backend: rows as first hop and as any hop, second-hop spread, balance");
	auto file = std::make_shared<std::string>();
	auto service = std::make_shared<std::string>();
	cmd->add_option("FILE", *file, "configuration file")->required();
	cmd->add_option("--service", *service, "only this service");
	cmd->callback([file, service, &exit_code] {
		auto cfg = load_or_report(*file);
		if (!cfg) {
			exit_code = exit_error;
			return;
		}
		if (!service->empty()) {
			const auto *svc = find_or_report(*cfg, *service);
			if (!svc) {
				exit_code = exit_error;
				return;
			}
			print_report(*svc);
			return;
		}
		for (const auto &svc : cfg->services)
			print_report(svc);
	});
}

}  // namespace tandemctl
