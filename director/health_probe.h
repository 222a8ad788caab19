// SPDX-License-Identifier: Apache-2.0
// One health check of one backend, as a non-blocking state machine the checker's poll()
// loop drives:
//   tcp   connect() completes;
//   http  connect(), send "GET <path> HTTP/1.0", the status line says 200;
//   gue   a GUE packet (hop count 0, as GLB's checker sends) carrying an ICMP echo request
//         from us to the proxy goes to the proxy's GUE port; the proxy decapsulates it and
//         its kernel answers the echo directly. The reply arrives on the checker's raw ICMP
//         socket (see EchoReply); an ICMP port unreachable for the GUE port fails at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "config.h"
#include "health_wire.h"

namespace tandem::director {

using Clock = std::chrono::steady_clock;

struct ProbeTarget {
	uint32_t address = 0;  // network order
	HealthCheck check;     // check.port already resolved (gue: the director's GUE port if 0)
};

class Probe {
public:
	// Opens the socket and starts the check; it may be finished at once (see done()).
	Probe(const ProbeTarget &target, Clock::time_point now, uint16_t echo_id, uint16_t echo_seq,
	      uint64_t echo_token);
	~Probe();
	Probe(const Probe &) = delete;
	Probe &operator=(const Probe &) = delete;

	int fd() const { return fd_; }   // -1 when there is nothing to wait for on a socket
	short events() const;            // for poll(): POLLOUT while connecting or sending
	void on_ready(short revents);    // progress after poll() said the socket is ready
	void on_echo_reply(const EchoReply &r);
	void on_deadline(Clock::time_point now);

	bool done() const { return done_; }
	bool healthy() const { return healthy_; }
	const std::string &reason() const { return reason_; }  // why it failed
	Clock::time_point deadline() const { return deadline_; }

private:
	enum class Phase { connecting, sending, reading, awaiting_echo };

	void start_stream(const ProbeTarget &t);
	void start_gue(const ProbeTarget &t, uint16_t echo_id, uint16_t echo_seq);
	void finish(bool healthy, std::string reason = {});
	void fail_errno(const char *what, int err);
	void send_request();
	void read_response();

	HealthCheckKind kind_;
	uint32_t address_;
	std::string request_;  // http: what is left to send
	std::string response_;
	Phase phase_ = Phase::connecting;
	int fd_ = -1;
	Clock::time_point deadline_;
	uint16_t echo_id_ = 0, echo_seq_ = 0;
	uint64_t echo_token_ = 0;
	bool done_ = false;
	bool healthy_ = false;
	std::string reason_;
};

}  // namespace tandem::director
