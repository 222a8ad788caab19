// SPDX-License-Identifier: Apache-2.0
// tandemctl's subcommands. Each adds itself to the app and sets the exit code it ends with:
// 0 success, 1 a negative answer (invalid config, unsafe change, frame not forwarded),
// 2 a usage or input error.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

#include "config.h"

namespace tandemctl {

inline constexpr int exit_ok = 0;
inline constexpr int exit_negative = 1;
inline constexpr int exit_error = 2;

void add_check_command(CLI::App &app, int &exit_code);
void add_table_command(CLI::App &app, int &exit_code);
void add_lookup_command(CLI::App &app, int &exit_code);
void add_diff_command(CLI::App &app, int &exit_code);
void add_encap_command(CLI::App &app, int &exit_code);
void add_glb_command(CLI::App &app, int &exit_code);
void add_stats_command(CLI::App &app, int &exit_code);

// Loads a config and prints its problems to stderr; nullopt when it does not load.
std::optional<tandem::Config> load_or_report(const std::string &path);

// The service named `name`, or prints the names there are and returns nullptr.
const tandem::ServiceConfig *find_or_report(const tandem::Config &cfg, const std::string &name);

}  // namespace tandemctl
