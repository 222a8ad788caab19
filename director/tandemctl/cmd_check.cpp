// SPDX-License-Identifier: Apache-2.0
// tandemctl check FILE: validate a configuration.
#include <iostream>

#include "commands.h"
#include "config_notes.h"

namespace tandemctl {

void add_check_command(CLI::App &app, int &exit_code)
{
	auto *cmd = app.add_subcommand("check", "Validate a configuration file; exit 0 if valid, 1 if not");
	auto file = std::make_shared<std::string>();
	cmd->add_option("FILE", *file, "director.yaml or any file with a services: section")->required();
	cmd->callback([file, &exit_code] {
		auto cfg = load_or_report(*file);
		if (!cfg) {
			exit_code = exit_negative;
			return;
		}
		for (const std::string &note : tandem::config_notes(*cfg))
			std::cout << note << "\n";
		size_t backends = 0, binds = 0;
		for (const auto &s : cfg->services) {
			backends += s.backends.size();
			binds += s.binds.size();
		}
		std::cout << *file << ": OK: " << cfg->services.size() << " services, " << binds
			  << " binds, " << backends << " backends"
			  << (cfg->director ? ", director section for " + cfg->director->interface : "")
			  << "\n";
	});
}

}  // namespace tandemctl
