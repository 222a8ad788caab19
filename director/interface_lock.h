// SPDX-License-Identifier: Apache-2.0
// Which tandem-director owns an interface's XDP hook: an flock(2) on
// /run/tandem/xdp-NETNS-IFINDEX.lock, holding the owner's pid. The kernel drops the lock
// when its holder dies however it dies, so whoever takes it knows that a tandem program
// still on the interface was left by a dead instance and is its to replace; a start that
// finds it held refuses, naming the live owner, before anything is attached.
#pragma once

#include <string>

#include "result.h"

namespace tandem::director {

inline constexpr const char *interface_lock_dir = "/run/tandem";

class InterfaceLock {
public:
	static Result<InterfaceLock> acquire(const std::string &ifname, int ifindex,
					     const std::string &dir = interface_lock_dir);
	InterfaceLock(InterfaceLock &&o) noexcept;
	InterfaceLock &operator=(InterfaceLock &&) = delete;
	~InterfaceLock();  // closing the file releases the lock; the file stays (harmless)

	const std::string &path() const { return path_; }

private:
	InterfaceLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
	int fd_ = -1;
	std::string path_;
};

}  // namespace tandem::director
