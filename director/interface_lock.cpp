// SPDX-License-Identifier: Apache-2.0
#include "interface_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace tandem::director {
namespace {

std::string errno_text(int e) { return std::strerror(e); }

// The network namespace's inode: ifindexes are only unique within one namespace.
std::string netns_id()
{
	struct stat st;
	if (stat("/proc/self/ns/net", &st) != 0)
		return "0";
	return std::to_string(st.st_ino);
}

std::string read_owner(int fd)
{
	char buf[32] = {};
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return "";
	std::string s(buf, static_cast<size_t>(n));
	return s.substr(0, s.find('\n'));
}

}  // namespace

Result<InterfaceLock> InterfaceLock::acquire(const std::string &ifname, int ifindex,
					     const std::string &dir)
{
	if (mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST)
		return make_error("creating " + dir + " (for the interface lock): " + errno_text(errno),
				  errno);
	std::string path = dir + "/xdp-" + netns_id() + "-" + std::to_string(ifindex) + ".lock";
	int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		return make_error("opening the interface lock " + path + ": " + errno_text(errno), errno);
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		const int err = errno;
		const std::string owner = read_owner(fd);
		close(fd);
		if (err == EWOULDBLOCK)
			return make_error("interface " + ifname + " is already served by tandem-director" +
						  (owner.empty() ? "" : " pid " + owner) + " (lock " + path +
						  "); two directors cannot share an interface's XDP hook: "
						  "stop that one first, or give this one another interface",
					  EBUSY);
		return make_error("locking " + path + ": " + errno_text(err), err);
	}
	const std::string pid = std::to_string(getpid()) + "\n";
	if (ftruncate(fd, 0) != 0 ||
	    pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
		const int err = errno;
		close(fd);
		return make_error("writing the interface lock " + path + ": " + errno_text(err), err);
	}
	return InterfaceLock(fd, std::move(path));
}

InterfaceLock::InterfaceLock(InterfaceLock &&o) noexcept
	: fd_(std::exchange(o.fd_, -1)), path_(std::move(o.path_))
{
}

InterfaceLock::~InterfaceLock()
{
	if (fd_ >= 0)
		close(fd_);
}

}  // namespace tandem::director
