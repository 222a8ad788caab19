// SPDX-License-Identifier: Apache-2.0
#include "fou_client.h"

#include <arpa/inet.h>
#include <linux/fou.h>
#include <sys/socket.h>

#include <cerrno>

namespace tandem::proxy {

Result<FouClient> FouClient::connect()
{
	auto nl = Netlink::open(NETLINK_GENERIC);
	if (!nl)
		return nl.error();
	bool missing = false;
	auto family = resolve_genl_family(*nl, FOU_GENL_NAME, missing);
	if (!family) {
		if (missing)
			return make_error("the kernel's fou module is not loaded (no generic netlink "
					  "family 'fou'): it ships with the kernel (CONFIG_NET_FOU); "
					  "tandem-proxyctl up loads it", ENOENT);
		return family.error();
	}
	return FouClient(std::move(*nl), *family);
}

// FOU_ATTR_PORT is a u16 in network byte order; FOU_ATTR_AF and
// FOU_ATTR_TYPE are u8 (older iproute2 sent AF as 16 bits).
Result<NlMsgPtr> FouClient::port_msg(uint8_t cmd, uint16_t port)
{
	auto msg = genl_request(family_, cmd);
	if (!msg)
		return msg.error();
	if (nla_put_u16(msg->get(), FOU_ATTR_PORT, htons(port)) < 0 ||
	    nla_put_u8(msg->get(), FOU_ATTR_AF, AF_INET) < 0)
		return make_error("cannot build a netlink message: out of memory");
	return msg;
}

Result<std::optional<FouType>> FouClient::get(uint16_t port)
{
	auto msg = port_msg(FOU_CMD_GET, port);
	if (!msg)
		return msg.error();
	std::optional<FouType> type;
	NlFailure failure;
	bool ok = nl_.request(msg->get(), failure, [&](nl_msg *reply) {
		nlattr *tb[FOU_ATTR_MAX + 1] = {};
		if (genlmsg_parse(nlmsg_hdr(reply), 0, tb, FOU_ATTR_MAX, nullptr) < 0)
			return;
		type = tb[FOU_ATTR_TYPE] ? static_cast<FouType>(nla_get_u8(tb[FOU_ATTR_TYPE]))
					 : FouType::none;
	});
	if (!ok) {
		if (failure.error == ESRCH || failure.error == ENOENT)
			return std::optional<FouType>();
		return make_error("fou: reading UDP port " + std::to_string(port) + ": " +
				  failure.describe(), failure.error);
	}
	return type;
}

Result<void> FouClient::add_gue(uint16_t port)
{
	auto msg = port_msg(FOU_CMD_ADD, port);
	if (!msg)
		return msg.error();
	if (nla_put_u8(msg->get(), FOU_ATTR_TYPE, FOU_ENCAP_GUE) < 0)
		return make_error("cannot build a netlink message: out of memory");
	NlFailure failure;
	if (!nl_.request(msg->get(), failure))
		return make_error("fou: adding GUE receive port " + std::to_string(port) + ": " +
				  failure.describe() +
				  (failure.error == EADDRINUSE
					   ? "; another program uses this UDP port: pick another "
					     "gue_port or stop that program"
					   : ""),
				  failure.error);
	return {};
}

Result<void> FouClient::del(uint16_t port)
{
	auto msg = port_msg(FOU_CMD_DEL, port);
	if (!msg)
		return msg.error();
	NlFailure failure;
	if (!nl_.request(msg->get(), failure) && failure.error != ESRCH &&
	    failure.error != ENOENT)
		return make_error("fou: removing GUE receive port " + std::to_string(port) +
				  ": " + failure.describe(), failure.error);
	return {};
}

}  // namespace tandem::proxy
