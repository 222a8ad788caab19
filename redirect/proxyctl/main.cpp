// SPDX-License-Identifier: Apache-2.0
// tandem-proxyctl: sets a proxy host up for Tandem (and GLB) GUE traffic
// and talks to the tandem_redirect module over generic netlink.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <string>

#include "kmod_loader.h"
#include "proxy_config.h"
#include "proxy_setup.h"
#include "proxy_state.h"
#include "redirect_client.h"
#include "tandem_redirect_nl.h"

#ifndef TANDEM_VERSION
#define TANDEM_VERSION "unknown"
#endif

using namespace tandem;
using namespace tandem::proxy;

namespace {

int fail(const Error &e)
{
	std::fprintf(stderr, "tandem-proxyctl: %s\n", e.message.c_str());
	return 1;
}

int fail(const std::string &msg)
{
	return fail(make_error(msg));
}

std::string join_ports(const std::vector<uint16_t> &ports)
{
	std::string s;
	for (uint16_t p : ports)
		s += (s.empty() ? "" : ",") + std::to_string(p);
	return s;
}

int cmd_status(const SetupOptions &opt)
{
	int rc = 0;
	if (!ModuleLoader::is_loaded("tandem_redirect")) {
		std::printf("module:     not loaded\n");
		rc = 3;
	} else {
		auto client = RedirectClient::connect();
		if (!client)
			return fail(client.error());
		auto cfg = client->get_config();
		if (!cfg)
			return fail(cfg.error());
		std::printf("module:     tandem_redirect %s (netlink version %d)\n",
			    cfg->module_version.c_str(), TANDEM_REDIRECT_GENL_VERSION);
		std::printf("redirect:   %s\n", cfg->enabled ? "enabled" : "disabled");
		std::printf("gue ports:  %s\n", join_ports(cfg->ports).c_str());
		std::printf("sources:    %s\n",
			    cfg->sources.empty() ? "any" : join_prefixes(cfg->sources).c_str());
		std::printf("conntrack:  %s\n", cfg->conntrack_local
			    ? "flows conntrack knows are taken locally" : "not consulted");
	}
	bool exists = false;
	auto st = load_state(opt.state_file, exists);
	if (!st)
		return fail(st.error());
	if (!exists) {
		std::printf("state:      not up (%s does not exist)\n", opt.state_file.c_str());
		return rc ? rc : 3;
	}
	std::printf("state:      up (%s)\n", opt.state_file.c_str());
	for (const auto &a : st->actions) {
		std::string line;
		for (const auto &w : a)
			line += (line.empty() ? "" : " ") + w;
		std::printf("  %s\n", line.c_str());
	}
	return rc;
}

void print_counters(const std::vector<Counter> &counters, bool json, const char *indent)
{
	if (json) {
		std::printf("{");
		for (size_t i = 0; i < counters.size(); i++)
			std::printf("%s\"%s\": %llu", i ? ", " : "", counters[i].name.c_str(),
				    static_cast<unsigned long long>(counters[i].value));
		std::printf("}");
		return;
	}
	for (const auto &c : counters)
		std::printf("%s%-20s %llu\n", indent, c.name.c_str(),
			    static_cast<unsigned long long>(c.value));
}

int cmd_stats_per_cpu(RedirectClient &client, bool json)
{
	auto cpus = client.counters_per_cpu();
	if (!cpus)
		return fail(cpus.error());
	if (json)
		std::printf("{");
	for (size_t i = 0; i < cpus->size(); i++) {
		const auto &c = (*cpus)[i];
		if (json) {
			std::printf("%s\"%u\": ", i ? ", " : "", c.cpu);
			print_counters(c.counters, true, "");
		} else {
			std::printf("cpu %u:\n", c.cpu);
			print_counters(c.counters, false, "  ");
		}
	}
	if (json)
		std::printf("}\n");
	return 0;
}

int cmd_stats(bool json, bool reset, bool per_cpu)
{
	auto client = RedirectClient::connect();
	if (!client)
		return fail(client.error());
	if (per_cpu)
		return cmd_stats_per_cpu(*client, json);
	auto counters = client->counters();
	if (!counters)
		return fail(counters.error());
	print_counters(*counters, json, "");
	if (json)
		std::printf("\n");
	if (reset) {
		auto r = client->reset_counters();
		if (!r)
			return fail(r.error());
	}
	return 0;
}

int cmd_set(std::optional<bool> enabled, std::optional<uint16_t> port,
	    const std::optional<std::vector<std::string>> &source_args = std::nullopt,
	    std::optional<bool> conntrack_local = std::nullopt)
{
	std::optional<std::vector<IpPrefix>> sources;
	if (source_args) {
		sources.emplace();
		for (const auto &s : *source_args) {
			if (s == "any")
				continue;
			auto p = IpPrefix::parse(s);
			if (!p || !p->address.is_v4())
				return fail("set sources: '" + s + "' is not an IPv4 prefix "
					    "(a.b.c.d/len, or 'any')");
			sources->push_back(*p);
		}
	}
	auto client = RedirectClient::connect();
	if (!client)
		return fail(client.error());
	std::optional<std::vector<uint16_t>> ports;
	if (port)
		ports = std::vector<uint16_t>{*port};
	auto r = client->set_config(enabled, ports, sources, conntrack_local);
	if (!r)
		return fail(r.error());
	if (port)
		std::printf("tandem_redirect: GUE port %u (the fou receive port is not changed: "
			    "edit gue_port in proxy.yaml and run down/up for that)\n", *port);
	if (enabled)
		std::printf("tandem_redirect: second chance %s\n", *enabled ? "enabled" : "disabled");
	if (conntrack_local)
		std::printf("tandem_redirect: conntrack-local %s\n", *conntrack_local ? "on" : "off");
	if (sources)
		std::printf("tandem_redirect: sources %s\n",
			    sources->empty() ? "any" : join_prefixes(*sources).c_str());
	return 0;
}

}  // namespace

int main(int argc, char **argv)
{
	CLI::App app{"tandem-proxyctl: set up a Tandem proxy host and control the "
		     "tandem_redirect module (in the current network namespace)"};
	app.set_version_flag("--version", std::string(TANDEM_VERSION));
	app.require_subcommand(1);

	std::string config_file = "/etc/tandem/proxy.yaml";
	SetupOptions opt;
	app.add_option("-c,--config", config_file, "proxy configuration (YAML)")->capture_default_str();
	app.add_option("--state", opt.state_file, "where up records its changes for down")->capture_default_str();
	app.add_option("--module", opt.module_path,
		       "load tandem_redirect from this .ko file (development builds)");
	bool quiet = false;
	app.add_flag("-q,--quiet", quiet, "print only errors");

	auto *up = app.add_subcommand("up", "load the module, configure it, add the GUE port, "
				      "tunnel devices, sysctls and VIPs (idempotent)");
	auto *down = app.add_subcommand("down", "undo what up did");
	auto *status = app.add_subcommand("status", "module, configuration and what up did "
					  "(exit 3 when not up)");
	auto *stats = app.add_subcommand("stats", "the module's counters");
	bool json = false, reset = false, per_cpu = false;
	stats->add_flag("--json", json, "one JSON object");
	stats->add_flag("--per-cpu", per_cpu,
			"each CPU's raw counters (since the module was loaded)");
	stats->add_flag("--reset", reset, "start counting from zero after printing");
	auto *set = app.add_subcommand("set", "change one setting of the running module");
	auto *set_port = set->add_subcommand("port", "watch GUE port N (replaces the list)");
	uint16_t port = 0;
	set_port->add_option("N", port, "UDP port")->required()->check(CLI::Range(1, 65535));
	auto *set_sources = set->add_subcommand(
		"sources", "accept GUE only from, and forward only to, these IPv4 prefixes "
		"('any': no limit; replaces the list)");
	std::vector<std::string> source_args;
	set_sources->add_option("PREFIX", source_args, "a.b.c.d/len or any")->required();
	auto *set_ct = set->add_subcommand(
		"conntrack-local", "on: take a packet locally when this namespace's conntrack "
		"knows its flow (services behind DNAT in another namespace); off: do not");
	std::string ct_arg;
	set_ct->add_option("on|off", ct_arg)->required()->check(CLI::IsMember({"on", "off"}));
	set->require_subcommand(1);
	auto *enable = app.add_subcommand("enable", "turn the second chance on");
	auto *disable = app.add_subcommand("disable", "turn the second chance off (the GUE "
					   "port keeps decapsulating)");

	CLI11_PARSE(app, argc, argv);
	opt.verbose = !quiet;

	try {
		if (up->parsed()) {
			auto cfg = load_proxy_config(config_file);
			if (!cfg)
				return fail(cfg.error());
			auto r = proxy_up(*cfg, opt);
			return r ? 0 : fail(r.error());
		}
		if (down->parsed()) {
			auto r = proxy_down(opt);
			return r ? 0 : fail(r.error());
		}
		if (status->parsed())
			return cmd_status(opt);
		if (stats->parsed())
			return cmd_stats(json, reset, per_cpu);
		if (set_port->parsed())
			return cmd_set(std::nullopt, port);
		if (set_ct->parsed())
			return cmd_set(std::nullopt, std::nullopt, std::nullopt, ct_arg == "on");
		if (set_sources->parsed())
			return cmd_set(std::nullopt, std::nullopt, source_args);
		if (enable->parsed())
			return cmd_set(true, std::nullopt);
		if (disable->parsed())
			return cmd_set(false, std::nullopt);
	} catch (const std::exception &e) {
		return fail(std::string("unexpected error: ") + e.what());
	}
	return 2;
}
