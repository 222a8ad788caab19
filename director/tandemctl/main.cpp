// SPDX-License-Identifier: Apache-2.0
// tandemctl: the operator's tool for Tandem configurations and forwarding tables.
#include <iostream>

#include "commands.h"

namespace tandemctl {

std::optional<tandem::Config> load_or_report(const std::string &path)
{
	auto cfg = tandem::load_config_file(path);
	if (!cfg.ok()) {
		std::cerr << cfg.error().message << "\n";
		return std::nullopt;
	}
	return std::move(cfg).value();
}

const tandem::ServiceConfig *find_or_report(const tandem::Config &cfg, const std::string &name)
{
	if (const auto *s = cfg.find_service(name))
		return s;
	std::cerr << cfg.path << ": no service named \"" << name << "\"; services:";
	for (const auto &s : cfg.services)
		std::cerr << " " << s.name;
	std::cerr << "\n";
	return nullptr;
}

}  // namespace tandemctl

int main(int argc, char **argv)
{
	CLI::App app{"tandemctl: check, inspect and compare Tandem forwarding configurations"};
	app.set_version_flag("--version", std::string("tandemctl ") + TANDEM_VERSION);
	app.require_subcommand(1);
	int exit_code = tandemctl::exit_ok;
	tandemctl::add_check_command(app, exit_code);
	tandemctl::add_table_command(app, exit_code);
	tandemctl::add_lookup_command(app, exit_code);
	tandemctl::add_diff_command(app, exit_code);
	tandemctl::add_encap_command(app, exit_code);
	tandemctl::add_glb_command(app, exit_code);
	tandemctl::add_stats_command(app, exit_code);
	try {
		app.parse(argc, argv);
	} catch (const CLI::ParseError &e) {
		int rc = app.exit(e);
		return rc == 0 ? 0 : tandemctl::exit_error;
	}
	return exit_code;
}
