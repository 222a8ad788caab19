// SPDX-License-Identifier: Apache-2.0
#include "redirect_client.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>

#include "tandem_redirect_nl.h"

namespace tandem::proxy {

namespace {

Error kernel_error(const std::string &what, const NlFailure &f)
{
	std::string msg = "tandem_redirect: " + what + ": " + f.describe();
	if (f.error == EPERM)
		msg += "; this needs CAP_NET_ADMIN in the current network namespace: "
		       "run tandem-proxyctl as root";
	return make_error(msg, f.error);
}

}  // namespace

std::string join_prefixes(const std::vector<IpPrefix> &prefixes)
{
	std::string s;
	for (const auto &p : prefixes)
		s += (s.empty() ? "" : ",") + p.to_string() + (p.is_single_address() ? "/32" : "");
	return s;
}

std::optional<std::vector<IpPrefix>> parse_prefixes(const std::string &csv)
{
	std::vector<IpPrefix> out;
	std::stringstream ss(csv);
	for (std::string p; std::getline(ss, p, ',');) {
		auto pfx = IpPrefix::parse(p);
		if (!pfx || !pfx->address.is_v4())
			return std::nullopt;
		out.push_back(*pfx);
	}
	return out;
}

const char *counter_name(int id)
{
	switch (id) {
	case TANDEM_REDIRECT_CTR_PASS_OTHER: return "pass_other";
	case TANDEM_REDIRECT_CTR_GUE_RX: return "gue_rx";
	case TANDEM_REDIRECT_CTR_ACCEPT_SYN: return "accept_syn";
	case TANDEM_REDIRECT_CTR_ACCEPT_SOCKET: return "accept_socket";
	case TANDEM_REDIRECT_CTR_ACCEPT_SYNCOOKIE: return "accept_syncookie";
	case TANDEM_REDIRECT_CTR_ACCEPT_ICMP_FLOW: return "accept_icmp_flow";
	case TANDEM_REDIRECT_CTR_ACCEPT_NON_TCP: return "accept_non_tcp";
	case TANDEM_REDIRECT_CTR_ACCEPT_FRAGMENT: return "accept_fragment";
	case TANDEM_REDIRECT_CTR_ACCEPT_LAST_HOP: return "accept_last_hop";
	case TANDEM_REDIRECT_CTR_ACCEPT_NEXT_LOCAL: return "accept_next_local";
	case TANDEM_REDIRECT_CTR_FORWARDED: return "forwarded";
	case TANDEM_REDIRECT_CTR_DROP_FORWARD_ERROR: return "drop_forward_error";
	case TANDEM_REDIRECT_CTR_DROP_SHORT: return "drop_short";
	case TANDEM_REDIRECT_CTR_DROP_BAD_HEADER: return "drop_bad_header";
	case TANDEM_REDIRECT_CTR_DROP_BAD_HLEN: return "drop_bad_hlen";
	case TANDEM_REDIRECT_CTR_DROP_BAD_PROTO: return "drop_bad_proto";
	case TANDEM_REDIRECT_CTR_DROP_SOURCE: return "drop_source";
	case TANDEM_REDIRECT_CTR_DROP_HOP_DENIED: return "drop_hop_denied";
	case TANDEM_REDIRECT_CTR_ACCEPT_CONNTRACK: return "accept_conntrack";
	default: return nullptr;
	}
}

Result<RedirectClient> RedirectClient::connect()
{
	auto nl = Netlink::open(NETLINK_GENERIC);
	if (!nl)
		return nl.error();
	bool missing = false;
	auto family = resolve_genl_family(*nl, TANDEM_REDIRECT_GENL_NAME, missing);
	if (!family) {
		if (missing)
			return make_error(
				"the tandem_redirect kernel module is not loaded (no generic netlink "
				"family 'tandem_redirect'): run 'tandem-proxyctl up' (loads it), or "
				"install the tandem-redirect-dkms package for this kernel", ENOENT);
		return family.error();
	}
	if (family->version != TANDEM_REDIRECT_GENL_VERSION)
		return make_error(
			"the loaded tandem_redirect module speaks netlink version " +
			std::to_string(family->version) + ", this tandem-proxyctl speaks version " +
			std::to_string(TANDEM_REDIRECT_GENL_VERSION) +
			": install matching tandem-proxy and tandem-redirect-dkms versions and "
			"reload the module (rmmod tandem_redirect)", EPROTO);
	return RedirectClient(std::move(*nl), *family);
}

Result<RedirectConfig> RedirectClient::get_config()
{
	auto msg = genl_request(family_, TANDEM_REDIRECT_CMD_GET_CONFIG);
	if (!msg)
		return msg.error();
	RedirectConfig cfg;
	NlFailure failure;
	bool ok = nl_.request(msg->get(), failure, [&](nl_msg *reply) {
		nlattr *tb[TANDEM_REDIRECT_A_MAX + 1] = {};
		if (genlmsg_parse(nlmsg_hdr(reply), 0, tb, TANDEM_REDIRECT_A_MAX, nullptr) < 0)
			return;
		if (tb[TANDEM_REDIRECT_A_ENABLED])
			cfg.enabled = nla_get_u8(tb[TANDEM_REDIRECT_A_ENABLED]) != 0;
		if (tb[TANDEM_REDIRECT_A_CONNTRACK_LOCAL])
			cfg.conntrack_local = nla_get_u8(tb[TANDEM_REDIRECT_A_CONNTRACK_LOCAL]) != 0;
		if (tb[TANDEM_REDIRECT_A_MODULE_VERSION])
			cfg.module_version = nla_get_string(tb[TANDEM_REDIRECT_A_MODULE_VERSION]);
		if (tb[TANDEM_REDIRECT_A_PORTS]) {
			nlattr *a;
			int rem;
			nla_for_each_nested(a, tb[TANDEM_REDIRECT_A_PORTS], rem) {
				if (nla_type(a) == TANDEM_REDIRECT_PORT_A_PORT && nla_len(a) >= 2)
					cfg.ports.push_back(nla_get_u16(a));
			}
		}
		if (tb[TANDEM_REDIRECT_A_SOURCES]) {
			nlattr *a;
			int rem;
			nla_for_each_nested(a, tb[TANDEM_REDIRECT_A_SOURCES], rem) {
				nlattr *pt[TANDEM_REDIRECT_PFX_A_MAX + 1] = {};
				if (nla_type(a) != TANDEM_REDIRECT_SRC_A_PREFIX ||
				    nla_parse_nested(pt, TANDEM_REDIRECT_PFX_A_MAX, a, nullptr) < 0 ||
				    !pt[TANDEM_REDIRECT_PFX_A_ADDR4] || !pt[TANDEM_REDIRECT_PFX_A_LEN] ||
				    nla_len(pt[TANDEM_REDIRECT_PFX_A_ADDR4]) != 4)
					continue;
				IpPrefix pfx;
				std::memcpy(pfx.address.bytes.data(),
					    nla_data(pt[TANDEM_REDIRECT_PFX_A_ADDR4]), 4);
				pfx.length = nla_get_u8(pt[TANDEM_REDIRECT_PFX_A_LEN]);
				cfg.sources.push_back(pfx);
			}
			// 0.0.0.0/0 anywhere in it means any source: an empty list
			if (std::any_of(cfg.sources.begin(), cfg.sources.end(),
					[](const IpPrefix &p) { return p.length == 0; }))
				cfg.sources.clear();
		}
	});
	if (!ok)
		return kernel_error("reading the configuration", failure);
	return cfg;
}

Result<void> RedirectClient::set_config(std::optional<bool> enabled,
					const std::optional<std::vector<uint16_t>> &ports,
					const std::optional<std::vector<IpPrefix>> &sources,
					std::optional<bool> conntrack_local)
{
	auto msg = genl_request(family_, TANDEM_REDIRECT_CMD_SET_CONFIG);
	if (!msg)
		return msg.error();
	nl_msg *m = msg->get();
	if (enabled && nla_put_u8(m, TANDEM_REDIRECT_A_ENABLED, *enabled ? 1 : 0) < 0)
		return make_error("cannot build a netlink message: out of memory");
	if (conntrack_local &&
	    nla_put_u8(m, TANDEM_REDIRECT_A_CONNTRACK_LOCAL, *conntrack_local ? 1 : 0) < 0)
		return make_error("cannot build a netlink message: out of memory");
	if (ports) {
		nlattr *nest = nla_nest_start(m, TANDEM_REDIRECT_A_PORTS);
		if (!nest)
			return make_error("cannot build a netlink message: out of memory");
		for (uint16_t p : *ports)
			if (nla_put_u16(m, TANDEM_REDIRECT_PORT_A_PORT, p) < 0)
				return make_error("cannot build a netlink message: out of memory");
		nla_nest_end(m, nest);
	}
	if (sources) {
		// libnl drops an empty nest: "any" goes as the one prefix 0.0.0.0/0.
		const std::vector<IpPrefix> any{IpPrefix{IpAddress::from_v4(0), 0}};
		const std::vector<IpPrefix> &list = sources->empty() ? any : *sources;
		nlattr *nest = nla_nest_start(m, TANDEM_REDIRECT_A_SOURCES);
		if (!nest)
			return make_error("cannot build a netlink message: out of memory");
		for (const IpPrefix &p : list) {
			if (!p.address.is_v4())
				return make_error("tandem_redirect: source " + p.to_string() +
						  ": GUE sources are IPv4 prefixes");
			nlattr *pfx = nla_nest_start(m, TANDEM_REDIRECT_SRC_A_PREFIX);
			if (!pfx ||
			    nla_put(m, TANDEM_REDIRECT_PFX_A_ADDR4, 4, p.address.bytes.data()) < 0 ||
			    nla_put_u8(m, TANDEM_REDIRECT_PFX_A_LEN, p.length) < 0)
				return make_error("cannot build a netlink message: out of memory");
			nla_nest_end(m, pfx);
		}
		nla_nest_end(m, nest);
	}
	NlFailure failure;
	if (!nl_.request(m, failure))
		return kernel_error("setting the configuration", failure);
	return {};
}

namespace {

std::vector<Counter> parse_counters(nlattr *nest)
{
	std::vector<Counter> out;
	nlattr *a;
	int rem;
	nla_for_each_nested(a, nest, rem) {
		const char *name = counter_name(nla_type(a));
		if (name && nla_len(a) == 8)
			out.push_back({name, nla_get_u64(a)});
	}
	return out;
}

}  // namespace

Result<std::vector<CpuCounters>> RedirectClient::counters_per_cpu()
{
	auto msg = genl_request(family_, TANDEM_REDIRECT_CMD_GET_COUNTERS, NLM_F_DUMP);
	if (!msg)
		return msg.error();
	std::vector<CpuCounters> out;
	NlFailure failure;
	bool ok = nl_.request(msg->get(), failure, [&](nl_msg *reply) {
		nlattr *tb[TANDEM_REDIRECT_A_MAX + 1] = {};
		if (genlmsg_parse(nlmsg_hdr(reply), 0, tb, TANDEM_REDIRECT_A_MAX, nullptr) < 0 ||
		    !tb[TANDEM_REDIRECT_A_CPU] || !tb[TANDEM_REDIRECT_A_COUNTERS])
			return;
		out.push_back({nla_get_u32(tb[TANDEM_REDIRECT_A_CPU]),
			       parse_counters(tb[TANDEM_REDIRECT_A_COUNTERS])});
	});
	if (!ok)
		return kernel_error("reading the per-CPU counters", failure);
	return out;
}

Result<std::vector<Counter>> RedirectClient::counters()
{
	auto msg = genl_request(family_, TANDEM_REDIRECT_CMD_GET_COUNTERS);
	if (!msg)
		return msg.error();
	std::vector<Counter> out;
	NlFailure failure;
	bool ok = nl_.request(msg->get(), failure, [&](nl_msg *reply) {
		nlattr *tb[TANDEM_REDIRECT_A_MAX + 1] = {};
		if (genlmsg_parse(nlmsg_hdr(reply), 0, tb, TANDEM_REDIRECT_A_MAX, nullptr) < 0 ||
		    !tb[TANDEM_REDIRECT_A_COUNTERS])
			return;
		out = parse_counters(tb[TANDEM_REDIRECT_A_COUNTERS]);
	});
	if (!ok)
		return kernel_error("reading the counters", failure);
	return out;
}

Result<void> RedirectClient::simple(uint8_t cmd, const char *what)
{
	auto msg = genl_request(family_, cmd);
	if (!msg)
		return msg.error();
	NlFailure failure;
	if (!nl_.request(msg->get(), failure))
		return kernel_error(what, failure);
	return {};
}

Result<void> RedirectClient::reset_counters()
{
	return simple(TANDEM_REDIRECT_CMD_RESET_COUNTERS, "resetting the counters");
}

}  // namespace tandem::proxy
