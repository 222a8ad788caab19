// SPDX-License-Identifier: Apache-2.0
// The control socket (a unix stream socket, /run/tandem/director.sock by default): a
// client sends one line, "reload" or "reload force", and reads one line back, "ok ..."
// or "error: ...", after the daemon has finished. `tandem-director --reload` is that
// client; systemd's ExecReload runs it, so `systemctl reload` reports a refused file.
#pragma once

#include <functional>
#include <string>

#include "result.h"

namespace tandem::director {

inline constexpr const char *default_control_socket = "/run/tandem/director.sock";

class ControlServer {
public:
	static Result<ControlServer> listen(const std::string &path);
	ControlServer(ControlServer &&o) noexcept;
	ControlServer &operator=(ControlServer &&) = delete;
	~ControlServer();

	int fd() const { return fd_; }
	// Accepts one client, reads its request, answers with handler(request).
	void serve_one(const std::function<std::string(const std::string &)> &handler);

private:
	ControlServer(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
	int fd_ = -1;
	std::string path_;
};

// Sends `request`, prints the answer; returns the process exit code (0 when "ok").
int control_client(const std::string &path, const std::string &request);

}  // namespace tandem::director
