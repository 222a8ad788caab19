// SPDX-License-Identifier: Apache-2.0
#include "file_read.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace tandem {

Result<std::string> read_file_limited(const std::string &path, size_t max_bytes,
				      std::string_view what)
{
	auto cannot_read = [&](int e) {
		return make_error(path + ": cannot read " + std::string(what) + " (" +
					  std::string(std::strerror(e)) + "); check the path and its permissions",
				  e);
	};
	auto too_large = [&](const std::string &size) {
		return make_error(path + ": " + size + " bytes, larger than the limit of " +
				  std::to_string(max_bytes) + " bytes; check that this is the right file");
	};
	int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cannot_read(errno);
	struct Closer {
		int fd;
		~Closer() { close(fd); }
	} closer{fd};
	struct stat st;
	if (fstat(fd, &st) != 0)
		return cannot_read(errno);
	const bool regular = S_ISREG(st.st_mode);
	if (regular && static_cast<uint64_t>(st.st_size) > max_bytes)
		return too_large(std::to_string(st.st_size));
	std::string text;
	if (regular)
		text.reserve(static_cast<size_t>(st.st_size));
	char buf[65536];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cannot_read(errno);
		if (n == 0)
			break;
		text.append(buf, static_cast<size_t>(n));
		if (text.size() > max_bytes)
			return too_large("more than " + std::to_string(max_bytes));
	}
	return text;
}

}  // namespace tandem
