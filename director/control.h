// SPDX-License-Identifier: Apache-2.0
// The control socket (a unix stream socket, /run/tandem/director.sock by default): a
// client sends one line, "reload", "reload force" or "status", and reads the answer until
// the daemon closes the connection: "ok ..." or "error: ...", which may run over several
// lines (a refused file lists every problem). `tandem-director --reload` is that client;
// systemd's ExecReload runs it, so `systemctl reload` reports a refused file.
//
// The server never blocks the control loop: accepted connections sit in the loop's poll
// set, each with its own buffer and a deadline for the whole request line counted from
// accept (and one for writing the answer), so a slow or silent client costs a slot, not
// the signals, reloads, neighbours and health checks the same thread serves. At most
// max_clients connections are open at once; one more is told so and closed.
#pragma once

#include <poll.h>
#include <sys/types.h>
#include <sys/un.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "control_request.h"
#include "result.h"

namespace tandem::director {

inline constexpr const char *default_control_socket = "/run/tandem/director.sock";

struct ControlLimits {
	std::chrono::milliseconds request_deadline{2000};  // whole request line, from accept
	std::chrono::milliseconds answer_deadline{2000};   // answer written, from when it is ready
	size_t max_clients = 8;
	size_t max_request = 4096;  // bytes in the request line
};

// How each control connection ended (tandem_director_control_connections_total{result}).
enum class ControlResult : uint8_t {
	served,     // the answer was written whole
	timed_out,  // no complete request, or the answer not taken, before its deadline
	too_long,   // the request line was longer than max_request
	refused,    // max_clients were already connected
	closed,     // the client went away before its answer (or sent nothing)
	count_
};
inline constexpr size_t control_result_count = static_cast<size_t>(ControlResult::count_);
const char *to_string(ControlResult r);
using ControlCounters = std::array<uint64_t, control_result_count>;

class ControlServer {
public:
	using Clock = RequestReader::Clock;
	using Handler = std::function<std::string(const std::string &)>;

	// Binds `path`. When something is there already: a socket a live process listens on
	// is refused and left alone (the error names its pid); a socket nobody listens on (a
	// killed daemon's) is removed and replaced; anything else is refused.
	static Result<ControlServer> listen(const std::string &path, ControlLimits limits = {});
	ControlServer(ControlServer &&o) noexcept;
	ControlServer &operator=(ControlServer &&) = delete;
	~ControlServer();

	// Appends what to poll: the listening socket first, then one entry per connection.
	void add_pollfds(std::vector<pollfd> &fds) const;
	// After poll(): `polled` is exactly what add_pollfds appended, with revents. Accepts,
	// reads, answers complete requests with handler(request) (synchronously, in the
	// caller's thread), writes answers and closes connections that are done or late.
	void process(std::span<const pollfd> polled, const Handler &handler);
	// The earliest deadline of an open connection: poll no longer than that.
	std::optional<Clock::time_point> next_deadline() const;

	size_t clients() const;
	const ControlCounters &counters() const { return counters_; }

private:
	struct Connection;
	ControlServer(int fd, std::string path, dev_t dev, ino_t ino, ControlLimits limits);
	void accept_all();
	void read_from(Connection &c);
	void answer(Connection &c, const Handler &handler);
	void write_to(Connection &c);
	void end(Connection &c, ControlResult result);

	int fd_ = -1;
	std::string path_;
	dev_t dev_ = 0;  // the socket file we bound: removed at exit only if it is still ours
	ino_t ino_ = 0;
	ControlLimits limits_;
	std::vector<Connection> conns_;
	ControlCounters counters_{};
};

// Fills `sa` with `path`; false when the path does not fit sun_path.
bool make_control_address(const std::string &path, sockaddr_un &sa);

// control_client.cpp: sends `request`, prints the whole answer (stdout when "ok", else
// stderr); returns the process exit code: 0 "ok", 1 any other answer, 2 no answer.
int control_client(const std::string &path, const std::string &request);

}  // namespace tandem::director
