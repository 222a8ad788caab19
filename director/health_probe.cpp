// SPDX-License-Identifier: Apache-2.0
#include "health_probe.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "health_wire.h"
#include "ip_address.h"

namespace tandem::director {
namespace {

constexpr size_t max_http_status_line = 1024;

sockaddr_in socket_address(uint32_t address, uint16_t port)
{
	sockaddr_in sa{};
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = address;
	sa.sin_port = htons(port);
	return sa;
}

std::string address_text(uint32_t address)
{
	return IpAddress::from_v4(address).to_string();
}

}  // namespace

Probe::Probe(const ProbeTarget &target, Clock::time_point now, uint16_t echo_id,
	     uint16_t echo_seq, uint64_t echo_token)
	: kind_(target.check.kind), address_(target.address),
	  deadline_(now + target.check.timeout), echo_token_(echo_token)
{
	if (kind_ == HealthCheckKind::gue)
		start_gue(target, echo_id, echo_seq);
	else
		start_stream(target);
}

Probe::~Probe()
{
	if (fd_ >= 0)
		close(fd_);
}

void Probe::finish(bool healthy, std::string reason)
{
	done_ = true;
	healthy_ = healthy;
	reason_ = std::move(reason);
	if (fd_ >= 0) {
		close(fd_);
		fd_ = -1;
	}
}

void Probe::fail_errno(const char *what, int err)
{
	finish(false, std::string(what) + ": " + std::strerror(err));
}

void Probe::start_stream(const ProbeTarget &t)
{
	fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd_ < 0)
		return fail_errno("socket", errno);
	if (kind_ == HealthCheckKind::http)
		request_ = "GET " + t.check.path + " HTTP/1.0\r\nHost: " + address_text(address_) +
			   "\r\nUser-Agent: tandem-director\r\nConnection: close\r\n\r\n";
	sockaddr_in sa = socket_address(address_, t.check.port);
	if (connect(fd_, reinterpret_cast<sockaddr *>(&sa), sizeof(sa)) == 0)
		return on_ready(POLLOUT);
	if (errno != EINPROGRESS)
		return fail_errno("connect", errno);
	phase_ = Phase::connecting;
}

void Probe::start_gue(const ProbeTarget &t, uint16_t echo_id, uint16_t echo_seq)
{
	echo_id_ = echo_id;
	echo_seq_ = echo_seq;
	fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd_ < 0)
		return fail_errno("socket", errno);
	// Connected, so the kernel picks our source address for the inner packet's sender,
	// and an ICMP port unreachable for the GUE port comes back as ECONNREFUSED.
	sockaddr_in sa = socket_address(address_, t.check.port);
	if (connect(fd_, reinterpret_cast<sockaddr *>(&sa), sizeof(sa)) != 0)
		return fail_errno("connect", errno);
	sockaddr_in local{};
	socklen_t len = sizeof(local);
	if (getsockname(fd_, reinterpret_cast<sockaddr *>(&local), &len) != 0)
		return fail_errno("getsockname", errno);
	std::vector<uint8_t> p =
		gue_echo_probe(local.sin_addr.s_addr, address_, echo_id, echo_seq, echo_token_);
	if (send(fd_, p.data(), p.size(), 0) != static_cast<ssize_t>(p.size()))
		return fail_errno("sending the GUE probe", errno);
	phase_ = Phase::awaiting_echo;
}

short Probe::events() const
{
	switch (phase_) {
	case Phase::connecting:
	case Phase::sending:
		return POLLOUT;
	case Phase::reading:
	case Phase::awaiting_echo:
		return POLLIN;
	}
	return 0;
}

void Probe::on_ready(short revents)
{
	if (done_)
		return;
	switch (phase_) {
	case Phase::connecting: {
		int err = 0;
		socklen_t len = sizeof(err);
		if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
			err = errno;
		if (err != 0)
			return fail_errno("connect", err);
		if (kind_ == HealthCheckKind::tcp)
			return finish(true);
		phase_ = Phase::sending;
		return send_request();
	}
	case Phase::sending:
		return send_request();
	case Phase::reading:
		return read_response();
	case Phase::awaiting_echo: {
		// Only errors arrive here (nothing is sent back to this UDP socket itself).
		uint8_t b;
		if (recv(fd_, &b, 1, 0) < 0 && errno != EAGAIN)
			return fail_errno("GUE port", errno);
		if (revents & POLLERR)
			return finish(false, "GUE port: error on the socket");
		return;
	}
	}
}

void Probe::send_request()
{
	ssize_t n = send(fd_, request_.data(), request_.size(), MSG_NOSIGNAL);
	if (n < 0) {
		if (errno == EAGAIN)
			return;
		return fail_errno("sending the HTTP request", errno);
	}
	request_.erase(0, static_cast<size_t>(n));
	if (request_.empty())
		phase_ = Phase::reading;
}

void Probe::read_response()
{
	char buf[512];
	ssize_t n = recv(fd_, buf, sizeof(buf), 0);
	if (n < 0) {
		if (errno == EAGAIN)
			return;
		return fail_errno("reading the HTTP response", errno);
	}
	response_.append(buf, static_cast<size_t>(n));
	size_t eol = response_.find("\r\n");
	if (eol == std::string::npos) {
		if (n == 0 || response_.size() > max_http_status_line)
			finish(false, "no HTTP status line in the response");
		return;
	}
	std::optional<int> code = http_status_code(std::string_view(response_).substr(0, eol));
	if (!code)
		return finish(false, "not an HTTP response: \"" + response_.substr(0, std::min<size_t>(eol, 40)) + "\"");
	if (*code != 200)
		return finish(false, "HTTP status " + std::to_string(*code) + " (200 is healthy)");
	finish(true);
}

void Probe::on_echo_reply(const EchoReply &r)
{
	if (!done_ && phase_ == Phase::awaiting_echo && r.from == address_ && r.id == echo_id_ &&
	    r.seq == echo_seq_ && r.token == echo_token_)
		finish(true);
}

void Probe::on_deadline(Clock::time_point now)
{
	if (done_ || now < deadline_)
		return;
	switch (phase_) {
	case Phase::connecting:
		return finish(false, "connect: timed out");
	case Phase::sending:
	case Phase::reading:
		return finish(false, "HTTP response: timed out");
	case Phase::awaiting_echo:
		return finish(false, "no echo reply through the GUE tunnel in time");
	}
}

}  // namespace tandem::director
