// SPDX-License-Identifier: Apache-2.0
// tandemctl diff OLD NEW: what a change does to open connections, and whether it is safe.
#include <iostream>

#include "commands.h"
#include "table_diff.h"

namespace tandemctl {

static int diff(const std::string &old_path, const std::string &new_path)
{
	auto before = load_or_report(old_path);
	auto after = load_or_report(new_path);
	if (!before || !after)
		return exit_error;
	auto d = tandem::diff_configs(*before, *after);
	std::vector<std::string> reasons;
	for (const auto &s : d.services) {
		std::cout << "service " << s.name << ":";
		if (s.added)
			std::cout << " added\n";
		else if (s.removed)
			std::cout << " removed\n";
		else
			std::cout << " " << s.first_hop_changed << " rows change first hop, " << s.rows_lost
				  << " rows lose every hop\n";
		for (const auto &n : s.notes)
			std::cout << "  note: " << n << "\n";
		for (const auto &u : s.unsafe) {
			std::cout << "  UNSAFE: " << u << "\n";
			reasons.push_back(s.name + ": " + u);
		}
	}
	if (reasons.empty()) {
		std::cout << "verdict: safe\n";
		return exit_ok;
	}
	std::cout << "verdict: unsafe: " << reasons.front();
	if (reasons.size() > 1)
		std::cout << " (and " << reasons.size() - 1 << " more above)";
	std::cout << "\n";
	return exit_negative;
}

void add_diff_command(CLI::App &app, int &exit_code)
{
	auto *cmd = app.add_subcommand("diff", "Compare two configurations; exit 0 if the change is safe, 1 if it breaks connections");
	auto paths = std::make_shared<std::pair<std::string, std::string>>();
	cmd->add_option("OLD", paths->first, "the configuration in force")->required();
	cmd->add_option("NEW", paths->second, "the configuration to apply")->required();
	cmd->callback([paths, &exit_code] { exit_code = diff(paths->first, paths->second); });
}

}  // namespace tandemctl
