// SPDX-License-Identifier: Apache-2.0
#include "control.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

namespace tandem::director {
namespace {

bool make_address(const std::string &path, sockaddr_un &sa)
{
	std::memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (path.size() >= sizeof(sa.sun_path))
		return false;
	std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
	return true;
}

std::string read_line(int fd, int timeout_ms)
{
	std::string out;
	char buf[512];
	while (out.find('\n') == std::string::npos && out.size() < 65536) {
		pollfd p{fd, POLLIN, 0};
		if (poll(&p, 1, timeout_ms) <= 0)
			break;
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		out.append(buf, static_cast<size_t>(n));
	}
	return out;
}

void write_all(int fd, const std::string &s)
{
	size_t off = 0;
	while (off < s.size()) {
		ssize_t n = send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
		if (n <= 0)
			return;
		off += static_cast<size_t>(n);
	}
}

}  // namespace

Result<ControlServer> ControlServer::listen(const std::string &path)
{
	sockaddr_un sa;
	if (!make_address(path, sa))
		return make_error("control socket path too long: " + path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return make_error("control socket: " + std::string(std::strerror(errno)), errno);
	unlink(path.c_str());
	mode_t old = umask(077);
	int rc = bind(fd, reinterpret_cast<sockaddr *>(&sa), sizeof(sa));
	umask(old);
	if (rc != 0 || ::listen(fd, 8) != 0) {
		int e = errno;
		close(fd);
		return make_error("control socket " + path + ": " + std::strerror(e) +
					  " (does its directory exist? the unit sets RuntimeDirectory=tandem)",
				  e);
	}
	return ControlServer(fd, path);
}

ControlServer::ControlServer(ControlServer &&o) noexcept
	: fd_(std::exchange(o.fd_, -1)), path_(std::move(o.path_))
{
}

ControlServer::~ControlServer()
{
	if (fd_ >= 0) {
		close(fd_);
		unlink(path_.c_str());
	}
}

void ControlServer::serve_one(const std::function<std::string(const std::string &)> &handler)
{
	int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
	if (c < 0)
		return;
	std::string req = read_line(c, 2000);
	while (!req.empty() && (req.back() == '\n' || req.back() == '\r'))
		req.pop_back();
	write_all(c, handler(req) + "\n");
	close(c);
}

int control_client(const std::string &path, const std::string &request)
{
	sockaddr_un sa;
	if (!make_address(path, sa)) {
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
	write_all(fd, request + "\n");
	std::string answer = read_line(fd, 120000);
	close(fd);
	while (!answer.empty() && answer.back() == '\n')
		answer.pop_back();
	if (answer.empty()) {
		std::fprintf(stderr, "tandem-director closed the control socket without an answer\n");
		return 2;
	}
	bool ok = answer.rfind("ok", 0) == 0;
	std::fprintf(ok ? stdout : stderr, "%s\n", answer.c_str());
	return ok ? 0 : 1;
}

}  // namespace tandem::director
