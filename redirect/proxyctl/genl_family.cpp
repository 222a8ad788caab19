// SPDX-License-Identifier: Apache-2.0
#include "genl_family.h"

#include <linux/genetlink.h>
#include <netlink/genl/ctrl.h>

#include <cerrno>

namespace tandem::proxy {

Result<GenlFamily> resolve_genl_family(Netlink &nl, const std::string &name,
				       bool &missing)
{
	missing = false;
	NlMsgPtr msg = make_msg();
	if (!msg || !genlmsg_put(msg.get(), NL_AUTO_PORT, NL_AUTO_SEQ, GENL_ID_CTRL,
				 0, 0, CTRL_CMD_GETFAMILY, 1) ||
	    nla_put_string(msg.get(), CTRL_ATTR_FAMILY_NAME, name.c_str()) < 0)
		return make_error("cannot build a netlink message: out of memory");

	GenlFamily family;
	NlFailure failure;
	bool ok = nl.request(msg.get(), failure, [&](nl_msg *reply) {
		nlattr *tb[CTRL_ATTR_MAX + 1] = {};
		if (genlmsg_parse(nlmsg_hdr(reply), 0, tb, CTRL_ATTR_MAX, nullptr) < 0)
			return;
		if (tb[CTRL_ATTR_FAMILY_ID])
			family.id = nla_get_u16(tb[CTRL_ATTR_FAMILY_ID]);
		if (tb[CTRL_ATTR_VERSION])
			family.version = nla_get_u32(tb[CTRL_ATTR_VERSION]);
	});
	if (!ok) {
		missing = failure.error == ENOENT;
		return make_error("generic netlink family '" + name + "': " +
				  failure.describe(), failure.error);
	}
	if (family.id == 0)
		return make_error("generic netlink family '" + name +
				  "': the kernel's answer has no family id");
	return family;
}

Result<NlMsgPtr> genl_request(const GenlFamily &family, uint8_t cmd, int flags)
{
	NlMsgPtr msg = make_msg();
	if (!msg || !genlmsg_put(msg.get(), NL_AUTO_PORT, NL_AUTO_SEQ, family.id, 0,
				 flags, cmd, static_cast<uint8_t>(family.version)))
		return make_error("cannot build a netlink message: out of memory");
	return msg;
}

}  // namespace tandem::proxy
