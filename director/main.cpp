// SPDX-License-Identifier: Apache-2.0
// tandem-director: the GLB-compatible director's data path (AF_XDP) and control loop.
//   tandem-director -c /etc/tandem/director.yaml [--foreground] [--log-level L]
//   tandem-director --reload [--force]   ask the running daemon to reload; exit with the result
//   tandem-director --check -c FILE      validate a file as a reload would, then exit
#include <signal.h>

#include <cstdio>
#include <exception>
#include <string>

#include <CLI/CLI.hpp>

#include "config.h"
#include "control.h"
#include "daemon.h"
#include "log.h"

using namespace tandem;
using namespace tandem::director;

int main(int argc, char **argv)
{
	CLI::App app{"tandem-director: GLB-compatible stateless L4 load balancer (AF_XDP data path)"};
	std::string config_path = "/etc/tandem/director.yaml";
	std::string level_text = "info";
	std::string control_socket = default_control_socket;
	bool foreground = false, do_reload = false, force = false, check = false;
	app.add_option("-c,--config", config_path, "Configuration file")->capture_default_str();
	app.add_flag("--foreground", foreground,
		     "Stay in the foreground (the daemon never forks; accepted for scripts)");
	app.add_option("--log-level", level_text, "err, warning, notice, info or debug")
		->capture_default_str();
	app.add_option("--control-socket", control_socket, "Control socket path")
		->capture_default_str();
	int netlink_buffer = 1 << 20;
	app.add_option("--netlink-buffer", netlink_buffer,
		       "Receive buffer of the rtnetlink notification sockets, in bytes (an overrun "
		       "loses events and costs a re-read from the kernel)")
		->capture_default_str();
	app.add_flag("--reload", do_reload,
		     "Ask the running daemon to reload its configuration and wait for the result");
	app.add_flag("--force", force, "With --reload: accept a change that breaks connections");
	app.add_flag("--check", check, "Validate the configuration file and exit");
	app.add_flag_callback("--version", [] {
		std::printf("tandem-director %s\n", TANDEM_VERSION);
		throw CLI::Success();
	});
	CLI11_PARSE(app, argc, argv);
	(void)foreground;

	if (do_reload)
		return control_client(control_socket, force ? "reload force" : "reload");

	std::optional<Level> level = parse_level(level_text);
	if (!level) {
		std::fprintf(stderr, "--log-level %s: use err, warning, notice, info or debug\n",
			     level_text.c_str());
		return 2;
	}
	set_log_level(*level);
	route_library_logs();

	Result<Config> config = load_config_file(config_path);
	if (!config) {
		log(Level::err, message_id::fatal, config.error().message,
		    {{"TANDEM_CONFIG", config_path}});
		return 1;
	}
	if (check) {
		std::printf("%s: ok, %zu services\n", config_path.c_str(), config->services.size());
		return 0;
	}

	// Blocked before any thread starts, so every thread inherits the mask and only the
	// control loop's signalfd sees these.
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, nullptr);

	int code;
	try {
		Result<std::unique_ptr<Daemon>> d =
			Daemon::start(std::move(*config), DaemonOptions{.config_path = config_path,
					     .control_socket = control_socket,
					     .netlink_buffer = netlink_buffer});
		if (!d) {
			log(Level::err, message_id::fatal, "cannot start: " + d.error().message,
			    {{"TANDEM_CONFIG", config_path}});
			return 1;
		}
		code = (*d)->run();
	} catch (const std::exception &e) {
		log(Level::err, message_id::fatal, std::string("fatal: ") + e.what());
		return 1;
	}
	return code;
}
