// SPDX-License-Identifier: Apache-2.0
// `tandem-director --reload` and friends: one request to the control socket, the whole
// answer printed.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "control.h"

namespace tandem::director {
namespace {

bool write_all(int fd, const std::string &s)
{
	size_t off = 0;
	while (off < s.size()) {
		ssize_t n = send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		off += static_cast<size_t>(n);
	}
	return true;
}

}  // namespace

int control_client(const std::string &path, const std::string &request)
{
	sockaddr_un sa;
	if (!make_control_address(path, sa)) {
		std::fprintf(stderr, "control socket path too long: %s\n", path.c_str());
		return 2;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, reinterpret_cast<sockaddr *>(&sa), sizeof(sa)) != 0) {
		std::fprintf(stderr, "cannot reach tandem-director at %s: %s (is it running?)\n",
			     path.c_str(), std::strerror(errno));
		if (fd >= 0)
			close(fd);
		return 2;
	}
	if (!write_all(fd, request + "\n")) {
		std::fprintf(stderr, "sending to tandem-director at %s: %s\n", path.c_str(),
			     std::strerror(errno));
		close(fd);
		return 2;
	}
	// The answer runs until the daemon closes the connection, however many lines it has;
	// a reload may take a while, so the wait is long, but it is bounded, and so is the size.
	constexpr int answer_wait_ms = 120000;
	constexpr size_t answer_cap = 4 << 20;
	const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(answer_wait_ms);
	std::string answer;
	bool timed_out = false, cut = false;
	char buf[4096];
	for (;;) {
		const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
			deadline - std::chrono::steady_clock::now());
		pollfd p{fd, POLLIN, 0};
		int r = left.count() > 0 ? poll(&p, 1, static_cast<int>(left.count())) : 0;
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			timed_out = true;
			break;
		}
		ssize_t n = r > 0 ? read(fd, buf, sizeof(buf)) : -1;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		answer.append(buf, static_cast<size_t>(n));
		if (answer.size() >= answer_cap) {
			cut = true;
			break;
		}
	}
	close(fd);
	while (!answer.empty() && answer.back() == '\n')
		answer.pop_back();
	if (answer.empty()) {
		if (timed_out)
			std::fprintf(stderr, "tandem-director at %s did not answer within %d s\n",
				     path.c_str(), answer_wait_ms / 1000);
		else
			std::fprintf(stderr,
				     "tandem-director closed the control socket without an answer\n");
		return 2;
	}
	const bool ok = answer.rfind("ok", 0) == 0;
	std::fprintf(ok ? stdout : stderr, "%s\n", answer.c_str());
	if (timed_out || cut)
		std::fprintf(stderr, "(the answer is incomplete: %s)\n",
			     timed_out ? "no end within 120 s" : "cut at 4 MiB");
	return ok && !timed_out && !cut ? 0 : 1;
}

}  // namespace tandem::director
