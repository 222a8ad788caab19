// SPDX-License-Identifier: Apache-2.0
#include "nic_queues.h"

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

namespace tandem::director {
namespace {

std::optional<uint32_t> from_ethtool(const std::string &ifname)
{
	if (ifname.size() >= IFNAMSIZ)
		return std::nullopt;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return std::nullopt;
	ethtool_channels ch{};
	ch.cmd = ETHTOOL_GCHANNELS;
	ifreq ifr{};
	std::memcpy(ifr.ifr_name, ifname.c_str(), ifname.size());
	ifr.ifr_data = reinterpret_cast<char *>(&ch);
	const int rc = ioctl(fd, SIOCETHTOOL, &ifr);
	close(fd);
	if (rc != 0 || ch.combined_count + ch.rx_count == 0)
		return std::nullopt;
	return ch.combined_count + ch.rx_count;
}

std::optional<uint32_t> from_sysfs(const std::string &ifname)
{
	std::error_code ec;
	uint32_t n = 0;
	for (const auto &e : std::filesystem::directory_iterator("/sys/class/net/" + ifname + "/queues", ec))
		n += e.path().filename().string().starts_with("rx-");
	if (ec || n == 0)
		return std::nullopt;
	return n;
}

}  // namespace

std::optional<uint32_t> rx_queue_count(const std::string &ifname)
{
	if (auto n = from_ethtool(ifname))
		return n;
	return from_sysfs(ifname);
}

}  // namespace tandem::director
