// SPDX-License-Identifier: Apache-2.0
// tandemctl stats: reads tandem-director's metrics endpoint (Prometheus text format, over
// plain HTTP on loopback) and prints the same figures as tables.
//   tandemctl stats [--address 127.0.0.1:9470] [--all]
// Dependencies: CLI11 and the C library only (no HTTP library).
#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace tandemctl {
namespace {

struct Sample {
	std::string name;
	std::map<std::string, std::string> labels;
	double value = 0;
};

// GET /metrics from host:port ("[v6]:port" too); empty on failure, with `error` set.
std::string http_get(const std::string &address, std::string &error)
{
	auto colon = address.rfind(':');
	if (colon == std::string::npos) {
		error = "address " + address + " is not host:port";
		return {};
	}
	std::string host = address.substr(0, colon), port = address.substr(colon + 1);
	if (host.size() > 2 && host.front() == '[' && host.back() == ']')
		host = host.substr(1, host.size() - 2);
	addrinfo hints{};
	hints.ai_socktype = SOCK_STREAM;
	addrinfo *res = nullptr;
	if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
		error = address + ": " + gai_strerror(rc);
		return {};
	}
	std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(res, freeaddrinfo);
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
		error = "cannot reach tandem-director's metrics at " + address + ": " +
			std::strerror(errno) + " (is it running? is director.metrics set?)";
		if (fd >= 0)
			close(fd);
		return {};
	}
	std::string req = "GET /metrics HTTP/1.0\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
	if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
		error = "sending the request: " + std::string(std::strerror(errno));
		close(fd);
		return {};
	}
	std::string out;
	char buf[16384];
	for (;;) {
		pollfd p{fd, POLLIN, 0};
		if (poll(&p, 1, 5000) <= 0) {
			error = "timed out reading " + address;
			break;
		}
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		out.append(buf, static_cast<size_t>(n));
	}
	close(fd);
	auto body = out.find("\r\n\r\n");
	if (out.rfind("HTTP/1.", 0) != 0 || body == std::string::npos ||
	    out.find(" 200 ") > out.find("\r\n")) {
		if (error.empty())
			error = "unexpected answer from " + address + ": " + out.substr(0, out.find('\r'));
		return {};
	}
	return out.substr(body + 4);
}

std::vector<Sample> parse(const std::string &text)
{
	std::vector<Sample> out;
	std::istringstream in(text);
	std::string line;
	while (std::getline(in, line)) {
		if (line.empty() || line[0] == '#')
			continue;
		Sample s;
		size_t i = line.find_first_of("{ ");
		if (i == std::string::npos)
			continue;
		s.name = line.substr(0, i);
		if (line[i] == '{') {
			size_t end = line.find('}', i);
			if (end == std::string::npos)
				continue;
			std::string body = line.substr(i + 1, end - i - 1);
			size_t p = 0;
			while (p < body.size()) {
				size_t eq = body.find('=', p);
				if (eq == std::string::npos || eq + 1 >= body.size() || body[eq + 1] != '"')
					break;
				size_t q = body.find('"', eq + 2);
				if (q == std::string::npos)
					break;
				s.labels[body.substr(p, eq - p)] = body.substr(eq + 2, q - eq - 2);
				p = q + 1;
				if (p < body.size() && body[p] == ',')
					p++;
			}
			i = end + 1;
		}
		try {
			s.value = std::stod(line.substr(i));
		} catch (const std::exception &) {
			continue;
		}
		out.push_back(std::move(s));
	}
	return out;
}

double sum(const std::vector<Sample> &v, const std::string &name,
	   const std::map<std::string, std::string> &match = {})
{
	double t = 0;
	for (const Sample &s : v) {
		if (s.name != name)
			continue;
		bool ok = true;
		for (const auto &[k, val] : match) {
			auto it = s.labels.find(k);
			ok &= it != s.labels.end() && it->second == val;
		}
		if (ok)
			t += s.value;
	}
	return t;
}

std::string num(double v)
{
	char b[32];
	std::snprintf(b, sizeof(b), "%.0f", v);
	return b;
}

int run_stats(const std::string &address, bool all)
{
	std::string error;
	std::string body = http_get(address, error);
	if (body.empty()) {
		std::cerr << "tandemctl stats: " << error << "\n";
		return 2;
	}
	std::vector<Sample> v = parse(body);
	const std::string p = "tandem_director_";
	std::printf("configuration generation %s, last reload %s (ok %s, failed %s), "
		    "unresolved neighbours %s\n",
		    num(sum(v, p + "config_generation")).c_str(),
		    sum(v, p + "last_reload_success") > 0 ? "succeeded" : "FAILED",
		    num(sum(v, p + "reloads_total", {{"result", "ok"}})).c_str(),
		    num(sum(v, p + "reloads_total", {{"result", "failed"}})).c_str(),
		    num(sum(v, p + "unresolved_neighbours")).c_str());
	std::vector<std::string> queues;
	for (const Sample &s : v)
		if (s.name == p + "mode_info") {
			queues.push_back(s.labels.at("queue"));
			std::printf("queue %s: XDP %s (%s), AF_XDP %s, busy poll %s\n",
				    s.labels.at("queue").c_str(), s.labels.at("xdp_mode").c_str(),
				    s.labels.at("attach").c_str(), s.labels.at("bind_mode").c_str(),
				    s.labels.at("busy_poll").c_str());
		}
	std::printf("\n%-6s %12s %12s %12s %14s %12s %12s %12s %10s\n", "queue", "rx", "matched",
		    "encap", "encap_bytes", "tx", "passed", "dropped", "ring_full");
	for (const std::string &q : queues) {
		std::map<std::string, std::string> m = {{"queue", q}};
		std::printf("%-6s %12s %12s %12s %14s %12s %12s %12s %10s\n", q.c_str(),
			    num(sum(v, p + "rx_packets_total", m)).c_str(),
			    num(sum(v, p + "matched_packets_total", m)).c_str(),
			    num(sum(v, p + "encapsulated_packets_total", m)).c_str(),
			    num(sum(v, p + "encapsulated_bytes_total", m)).c_str(),
			    num(sum(v, p + "tx_packets_total", m)).c_str(),
			    num(sum(v, p + "passed_packets_total", m)).c_str(),
			    num(sum(v, p + "dropped_packets_total", m)).c_str(),
			    num(sum(v, p + "ring_full_events_total", m)).c_str());
	}
	std::map<std::string, double> reasons;
	for (const Sample &s : v)
		if (s.name == p + "dropped_packets_total")
			reasons[s.labels.at("reason")] += s.value;
	bool header = false;
	for (const auto &[r, n] : reasons)
		if (n > 0 || all) {
			if (!header)
				std::printf("\ndropped by reason:\n");
			header = true;
			std::printf("  %-24s %12s\n", r.c_str(), num(n).c_str());
		}
	std::printf("\n%-24s %-40s %14s\n", "service", "backend", "first-hop packets");
	for (const Sample &s : v)
		if (s.name == p + "service_packets_total") {
			const std::string &svc = s.labels.at("service");
			std::printf("%-24s %-40s %14s\n", svc.c_str(), "(all)", num(s.value).c_str());
			for (const Sample &b : v)
				if (b.name == p + "backend_first_hop_packets_total" &&
				    b.labels.at("service") == svc && (b.value > 0 || all))
					std::printf("%-24s %-40s %14s\n", "", b.labels.at("backend").c_str(),
						    num(b.value).c_str());
		}
	header = false;
	for (const Sample &s : v)
		if (s.name == p + "backend_healthy") {
			if (!header)
				std::printf("\n%-24s %-40s %-8s %12s %12s\n", "service", "health-checked backend",
					    "verdict", "checks ok", "failed");
			header = true;
			std::map<std::string, std::string> m = {{"service", s.labels.at("service")},
								{"backend", s.labels.at("backend")}};
			m["result"] = "ok";
			const double ok = sum(v, p + "health_checks_total", m);
			m["result"] = "failed";
			std::printf("%-24s %-40s %-8s %12s %12s\n", s.labels.at("service").c_str(),
				    s.labels.at("backend").c_str(), s.value > 0 ? "healthy" : "down",
				    num(ok).c_str(), num(sum(v, p + "health_checks_total", m)).c_str());
		}
	return 0;
}

}  // namespace

void add_stats_command(CLI::App &app, int &exit_code)
{
	auto *cmd = app.add_subcommand("stats", "Print tandem-director's counters from its metrics endpoint");
	auto address = std::make_shared<std::string>("127.0.0.1:9470");
	auto all = std::make_shared<bool>(false);
	cmd->add_option("-a,--address", *address, "director.metrics of the running director")
		->capture_default_str();
	cmd->add_flag("--all", *all, "Also print zero counters");
	cmd->callback([address, all, &exit_code] { exit_code = run_stats(*address, *all); });
}

}  // namespace tandemctl
