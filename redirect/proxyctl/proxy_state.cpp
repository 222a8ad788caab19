// SPDX-License-Identifier: Apache-2.0
#include "proxy_state.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace tandem::proxy {

bool ProxyState::has(const std::vector<std::string> &action) const
{
	return std::find(actions.begin(), actions.end(), action) != actions.end();
}

const std::vector<std::string> *ProxyState::find(const std::string &kind,
						 const std::string &key) const
{
	for (const auto &a : actions)
		if (a.size() >= 2 && a[0] == kind && a[1] == key)
			return &a;
	return nullptr;
}

void ProxyState::add(std::vector<std::string> action)
{
	if (!has(action))
		actions.push_back(std::move(action));
}

Result<ProxyState> load_state(const std::string &path, bool &exists)
{
	ProxyState st;
	std::ifstream in(path);
	exists = static_cast<bool>(in);
	if (!in) {
		if (errno == ENOENT)
			return st;
		return make_error(path + ": cannot read: " + std::strerror(errno), errno);
	}
	std::string line;
	while (std::getline(in, line)) {
		std::istringstream words(line);
		std::vector<std::string> action;
		for (std::string w; words >> w;)
			action.push_back(w);
		if (!action.empty())
			st.actions.push_back(std::move(action));
	}
	return st;
}

Result<void> save_state(const std::string &path, const ProxyState &state)
{
	auto slash = path.rfind('/');
	if (slash != std::string::npos && slash > 0)
		mkdir(path.substr(0, slash).c_str(), 0755);  // EEXIST is fine
	const std::string tmp = path + ".new";
	{
		std::ofstream out(tmp, std::ios::trunc);
		for (const auto &a : state.actions) {
			for (size_t i = 0; i < a.size(); i++)
				out << (i ? " " : "") << a[i];
			out << '\n';
		}
		out.flush();
		if (!out)
			return make_error(tmp + ": cannot write: " + std::strerror(errno) +
					  " (pass --state FILE on a writable file system)", errno);
	}
	if (std::rename(tmp.c_str(), path.c_str()) != 0)
		return make_error(path + ": cannot replace: " + std::strerror(errno), errno);
	return {};
}

Result<void> remove_state(const std::string &path)
{
	if (unlink(path.c_str()) != 0 && errno != ENOENT)
		return make_error(path + ": cannot remove: " + std::strerror(errno), errno);
	return {};
}

}  // namespace tandem::proxy
