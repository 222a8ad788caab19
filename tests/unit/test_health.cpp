// SPDX-License-Identifier: Apache-2.0
// The director's health checker against real sockets on loopback: tcp and http checks,
// rise and fall, the verdict a reload keeps; and the GUE probe's bytes.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>

#include <doctest/doctest.h>

#include "bytes.h"
#include "gue.h"
#include "health_checker.h"

using namespace tandem;
using namespace tandem::director;
using namespace std::chrono_literals;

namespace {

const uint32_t loopback = htonl(INADDR_LOOPBACK);

// A TCP socket listening on 127.0.0.1:`port` (0: any free port); returns it, sets `port`.
int listening_socket(uint16_t &port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	REQUIRE(fd >= 0);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sockaddr_in sa{};
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = loopback;
	sa.sin_port = htons(port);
	REQUIRE(bind(fd, reinterpret_cast<sockaddr *>(&sa), sizeof(sa)) == 0);
	REQUIRE(listen(fd, 64) == 0);
	socklen_t len = sizeof(sa);
	REQUIRE(getsockname(fd, reinterpret_cast<sockaddr *>(&sa), &len) == 0);
	port = ntohs(sa.sin_port);
	return fd;
}

// A port nothing listens on (bound, then closed).
uint16_t closed_port()
{
	uint16_t port = 0;
	close(listening_socket(port));
	return port;
}

// A listening TCP socket on 127.0.0.1; with `reply`, answers each connection with it.
class Server {
public:
	explicit Server(std::string reply = {}) : reply_(std::move(reply))
	{
		fd_ = listening_socket(port_);
		thread_ = std::thread([this] { serve(); });
	}
	~Server()
	{
		stop_ = true;
		thread_.join();
		close(fd_);
	}
	uint16_t port() const { return port_; }
	unsigned requests() const { return requests_; }

private:
	void serve()
	{
		while (!stop_) {
			pollfd p{fd_, POLLIN, 0};
			if (poll(&p, 1, 20) != 1)
				continue;
			int c = accept(fd_, nullptr, nullptr);
			if (c < 0)
				continue;
			if (!reply_.empty()) {
				char buf[1024];
				ssize_t n = recv(c, buf, sizeof(buf), 0);
				if (n > 0 && std::string(buf, static_cast<size_t>(n)).starts_with("GET /health HTTP/1.0\r\n"))
					requests_++;
				[[maybe_unused]] ssize_t w = send(c, reply_.data(), reply_.size(), MSG_NOSIGNAL);
			}
			close(c);
		}
	}
	int fd_ = -1;
	uint16_t port_ = 0;
	std::string reply_;
	std::atomic<bool> stop_{false};
	std::atomic<unsigned> requests_{0};
	std::thread thread_;
};

HealthTarget target(const std::string &service, HealthCheckKind kind, uint16_t port,
		    unsigned rise = 2, unsigned fall = 3)
{
	HealthCheck c;
	c.kind = kind;
	c.port = port;
	c.path = "/health";
	c.interval = 100ms;
	c.timeout = 80ms;
	c.rise = rise;
	c.fall = fall;
	return {service, loopback, c};
}

// Waits (bounded) until `pred` holds for the checker's reports.
template <typename Pred>
bool wait_for(HealthChecker &h, Pred pred, std::chrono::milliseconds limit = 5000ms)
{
	auto end = std::chrono::steady_clock::now() + limit;
	while (std::chrono::steady_clock::now() < end) {
		if (pred(h.reports()))
			return true;
		std::this_thread::sleep_for(10ms);
	}
	return false;
}

bool readable(int fd)
{
	pollfd p{fd, POLLIN, 0};
	return poll(&p, 1, 0) == 1;
}

}  // namespace

TEST_CASE("tcp and http checks: healthy servers stay up, failing ones go down after fall")
{
	Server tcp_up;
	Server http_ok("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
	Server http_bad("HTTP/1.1 503 Service Unavailable\r\n\r\n");
	Server not_http("SSH-2.0-OpenSSH\r\n");
	auto h = HealthChecker::start();
	REQUIRE(h.ok());
	HealthChecker &hc = **h;
	hc.set_targets({target("a", HealthCheckKind::tcp, tcp_up.port()),
			target("b", HealthCheckKind::tcp, closed_port()),
			target("c", HealthCheckKind::http, http_ok.port()),
			target("d", HealthCheckKind::http, http_bad.port()),
			target("e", HealthCheckKind::http, not_http.port())});
	// Everything starts healthy; b, d and e need 3 failures in a row.
	REQUIRE(wait_for(hc, [](const std::vector<HealthReport> &r) {
		return r.size() == 5 && !r[1].healthy && !r[3].healthy && !r[4].healthy;
	}));
	CHECK(readable(hc.fd()));
	CHECK(hc.take_changed());
	CHECK_FALSE(readable(hc.fd()));
	std::vector<HealthReport> r = hc.reports();
	CHECK(r[0].healthy);
	CHECK(r[0].checks_ok >= 1);
	CHECK(r[1].checks_failed >= 3);
	CHECK(r[1].last_failure == "connect: Connection refused");
	CHECK(r[2].healthy);
	CHECK(r[2].checks_ok >= 1);
	CHECK(http_ok.requests() >= 1);
	CHECK(r[3].last_failure == "HTTP status 503 (200 is healthy)");
	CHECK(r[4].last_failure.starts_with("not an HTTP response"));

	DownSet down = down_set(r, {r[0].target, r[1].target, r[3].target});
	CHECK(down == DownSet{{"b", loopback}, {"d", loopback}});  // e is not asked for
}

TEST_CASE("a timed-out check fails; a backend comes back after rise good checks")
{
	// A listener that never accepts still completes the handshake (the backlog does) and
	// takes the request, but never answers: the http check times out.
	uint16_t silent_port = 0;
	int silent = listening_socket(silent_port);
	auto h = HealthChecker::start();
	REQUIRE(h.ok());
	HealthChecker &hc = **h;
	uint16_t port = closed_port();
	hc.set_targets({target("s", HealthCheckKind::http, silent_port, 2, 2),
			target("t", HealthCheckKind::tcp, port, 3, 2)});
	REQUIRE(wait_for(hc, [](const std::vector<HealthReport> &r) {
		return r.size() == 2 && !r[0].healthy && !r[1].healthy;
	}));
	std::vector<HealthReport> r = hc.reports();
	CHECK(r[0].last_failure == "HTTP response: timed out");
	hc.take_changed();

	// Start listening on t's port: three good checks in a row bring it back.
	int fd = listening_socket(port);
	REQUIRE(wait_for(hc, [](const std::vector<HealthReport> &r) { return r[1].healthy; }));
	CHECK(hc.take_changed());
	r = hc.reports();
	CHECK(r[1].checks_ok >= 3);
	CHECK_FALSE(r[0].healthy);
	close(fd);
	close(silent);
}

TEST_CASE("new targets keep the verdicts of unchanged checks; changed checks start healthy")
{
	auto h = HealthChecker::start();
	REQUIRE(h.ok());
	HealthChecker &hc = **h;
	HealthTarget down_target = target("x", HealthCheckKind::tcp, closed_port(), 2, 1);
	hc.set_targets({down_target});
	REQUIRE(wait_for(hc, [](const std::vector<HealthReport> &r) { return r.size() == 1 && !r[0].healthy; }));

	HealthTarget other = down_target;
	other.service = "y";
	hc.set_targets({other, down_target});
	REQUIRE(wait_for(hc, [](const std::vector<HealthReport> &r) { return r.size() == 2; }));
	std::vector<HealthReport> r = hc.reports();
	CHECK(r[0].target.service == "y");
	CHECK(r[1].target.service == "x");
	CHECK_FALSE(r[1].healthy);  // kept
	CHECK(r[1].checks_failed >= 1);

	HealthTarget retimed = down_target;
	retimed.check.interval = 200ms;
	CHECK(down_set(r, {retimed}).empty());  // a changed check is a new target
	CHECK(down_set(r, {down_target}) == DownSet{{"x", loopback}});
}

TEST_CASE("health_targets: every check against every backend; gue defaults to the GUE port")
{
	Config c;
	c.director = DirectorConfig{};
	c.director->gue_port = 6080;
	ServiceConfig web;
	web.name = "web";
	HealthCheck gue, http;
	gue.kind = HealthCheckKind::gue;
	http.kind = HealthCheckKind::http;
	http.port = 80;
	web.health_checks = {gue, http};
	for (const char *a : {"10.0.0.1", "10.0.0.2"})
		web.backends.push_back({Backend{*IpAddress::parse(a)}, {}});
	ServiceConfig quiet;
	quiet.name = "quiet";
	quiet.backends.push_back({Backend{*IpAddress::parse("10.0.0.3")}, {}});
	c.services = {web, quiet};
	std::vector<HealthTarget> t = health_targets(c);
	REQUIRE(t.size() == 4);
	CHECK(t[0].service == "web");
	CHECK(t[0].address == IpAddress::parse("10.0.0.1")->v4_raw());
	CHECK(t[0].check.kind == HealthCheckKind::gue);
	CHECK(t[0].check.port == 6080);
	CHECK(t[1].address == IpAddress::parse("10.0.0.2")->v4_raw());
	CHECK(t[2].check.kind == HealthCheckKind::http);
	CHECK(t[2].check.port == 80);

	// Either check failing takes the backend down.
	std::vector<HealthReport> r(t.size());
	for (size_t i = 0; i < t.size(); i++)
		r[i].target = t[i];
	r[3].healthy = false;  // http on 10.0.0.2
	CHECK(down_set(r, t) == DownSet{{"web", IpAddress::parse("10.0.0.2")->v4_raw()}});
}

TEST_CASE("gue probe: GLB's header with no hops, an ICMP echo a proxy's kernel answers")
{
	const uint32_t src = IpAddress::parse("192.0.2.1")->v4_raw();
	const uint32_t dst = IpAddress::parse("198.51.100.7")->v4_raw();
	std::vector<uint8_t> p = gue_echo_probe(src, dst, 0x1234, 7, 0x0102030405060708ull);
	REQUIRE(p.size() == 8 + 20 + 8 + 8);
	// GUE: version 0, hlen 1, proto 4; GLB private data: type 0, next hop 0, hop count 0.
	CHECK(std::vector<uint8_t>(p.begin(), p.begin() + 8) == std::vector<uint8_t>{1, 4, 0, 0, 0, 0, 0, 0});
	const uint8_t *ip = p.data() + 8;
	CHECK(ip[0] == 0x45);
	CHECK(load_be16(ip + 2) == 36);
	CHECK(ip[9] == 1);
	CHECK(ipv4_header_checksum(ip, 20) == 0);  // a valid checksum sums to zero
	CHECK(std::memcmp(ip + 12, &src, 4) == 0);
	CHECK(std::memcmp(ip + 16, &dst, 4) == 0);
	const uint8_t *icmp = ip + 20;
	CHECK(icmp[0] == 8);
	CHECK(ipv4_header_checksum(icmp, 16) == 0);

	// The proxy's answer: addresses swapped, type 0.
	std::vector<uint8_t> reply(p.begin() + 8, p.end());
	std::memcpy(reply.data() + 12, &dst, 4);
	std::memcpy(reply.data() + 16, &src, 4);
	reply[20] = 0;
	auto r = parse_echo_reply(reply);
	REQUIRE(r);
	CHECK(r->from == dst);
	CHECK(r->id == 0x1234);
	CHECK(r->seq == 7);
	CHECK(r->token == 0x0102030405060708ull);
	reply[20] = 8;
	CHECK_FALSE(parse_echo_reply(reply));  // a request is not a reply
	CHECK_FALSE(parse_echo_reply(std::span<const uint8_t>(reply).first(30)));  // truncated
}
