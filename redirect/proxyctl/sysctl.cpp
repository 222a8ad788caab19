// SPDX-License-Identifier: Apache-2.0
#include "sysctl.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace tandem::proxy {

namespace {
std::string path_of(const std::string &key) { return "/proc/sys/" + key; }
}  // namespace

Result<std::string> sysctl_read(const std::string &key)
{
	std::ifstream in(path_of(key));
	if (!in)
		return make_error("cannot read sysctl " + path_of(key) + ": " +
				  std::strerror(errno), errno);
	std::stringstream ss;
	ss << in.rdbuf();
	std::string v = ss.str();
	while (!v.empty() && (v.back() == '\n' || v.back() == ' '))
		v.pop_back();
	return v;
}

Result<void> sysctl_write(const std::string &key, const std::string &value)
{
	std::ofstream out(path_of(key));
	if (out)
		out << value << '\n';
	out.flush();
	if (!out)
		return make_error("cannot write " + value + " to sysctl " + path_of(key) + ": " +
				  std::strerror(errno) + " (needs root and a writable /proc/sys)",
				  errno);
	return {};
}

}  // namespace tandem::proxy
