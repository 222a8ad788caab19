// SPDX-License-Identifier: Apache-2.0
#include "proxy_setup.h"

#include <cstdio>
#include <sstream>

#include "fou_client.h"
#include "gue.h"
#include "kmod_loader.h"
#include "mss_clamp.h"
#include "proxy_state.h"
#include "redirect_client.h"
#include "rtnl.h"
#include "sysctl.h"

namespace tandem::proxy {

namespace {

class Up {
public:
	Up(const ProxyConfig &cfg, const SetupOptions &opt, ProxyState &st)
		: cfg_(cfg), opt_(opt), st_(st) {}

	Result<void> run()
	{
		Result<void> r = modules();
		if (r)
			r = redirect();
		if (r)
			r = fou();
		if (r)
			r = tunnels();
		if (r)
			r = vips();
		if (r)
			r = mss();
		return r;
	}

private:
	void note(const std::string &what)
	{
		if (opt_.verbose)
			std::printf("up: %s\n", what.c_str());
	}

	// Every change is written down before the next one is tried, so a
	// failure half way can still be undone by `down`.
	Result<void> record(std::vector<std::string> action)
	{
		st_.add(std::move(action));
		return save_state(opt_.state_file, st_);
	}

	Result<void> modules()
	{
		auto loader = ModuleLoader::open();
		if (!loader)
			return loader.error();
		auto r = opt_.module_path.empty()
				 ? loader->ensure("tandem_redirect")
				 : loader->ensure_from_path("tandem_redirect", opt_.module_path);
		if (!r)
			return r.error();
		if (*r) {
			note("loaded kernel module tandem_redirect");
			if (auto s = record({"module", "tandem_redirect"}); !s)
				return s;
		}
		std::vector<std::string> needed = {"fou", "ipip"};
		if (cfg_.has_v6())
			needed.push_back("sit");
		for (const auto &m : needed) {
			auto l = loader->ensure(m);
			if (!l)
				return l.error();
			if (*l) {
				note("loaded kernel module " + m);
				if (auto s = record({"module", m}); !s)
					return s;
			}
		}
		return {};
	}

	// sources: from proxy.yaml, or (none there) the networks of this host's
	// own IPv4 addresses, said on stderr each time: safe, and visible.
	Result<std::vector<IpPrefix>> wanted_sources()
	{
		if (cfg_.sources)
			return *cfg_.sources;
		auto rtnl = Rtnl::open();
		if (!rtnl)
			return rtnl.error();
		auto lo = rtnl->link("lo");
		if (!lo)
			return lo.error();
		auto nets = rtnl->ipv4_networks(*lo ? (*lo)->ifindex : 0);
		if (!nets)
			return nets.error();
		std::fprintf(stderr,
			     "tandem-proxyctl: warning: %s has no sources: accepting GUE only from, and "
			     "forwarding only to, the networks of this host's IPv4 addresses (%s); list "
			     "the directors' and proxies' prefixes in sources:\n",
			     cfg_.file.c_str(), nets->empty() ? "none" : join_prefixes(*nets).c_str());
		return *nets;
	}

	Result<void> redirect()
	{
		auto client = RedirectClient::connect();
		if (!client)
			return client.error();
		auto prev = client->get_config();
		if (!prev)
			return prev.error();
		if (!st_.find("redirect", "0") && !st_.find("redirect", "1")) {
			std::string ports;
			for (uint16_t p : prev->ports)
				ports += (ports.empty() ? "" : ",") + std::to_string(p);
			const std::string sources =
				prev->sources.empty() ? "any" : join_prefixes(prev->sources);
			if (auto s = record({"redirect", prev->enabled ? "1" : "0", ports, sources,
					     prev->conntrack_local ? "1" : "0"}); !s)
				return s;
		}
		auto sources = wanted_sources();
		if (!sources)
			return sources.error();
		const std::vector<uint16_t> want{cfg_.gue_port};
		if (prev->enabled == cfg_.enabled && prev->ports == want && prev->sources == *sources &&
		    prev->conntrack_local == cfg_.conntrack_local)
			return {};
		auto set = client->set_config(cfg_.enabled, want, *sources, cfg_.conntrack_local);
		if (!set)
			return make_error(set.error().message + " (from " + cfg_.file +
					  ": gue_port, sources, options.enabled, options.conntrack_local)",
					  set.error().sys_errno);
		note("tandem_redirect: GUE port " + std::to_string(cfg_.gue_port) +
		     (cfg_.enabled ? ", second chance enabled" : ", second chance disabled") +
		     ", sources " + (sources->empty() ? "any" : join_prefixes(*sources)) +
		     (cfg_.conntrack_local ? ", flows conntrack knows taken locally" : ""));
		return {};
	}

	Result<void> fou()
	{
		auto client = FouClient::connect();
		if (!client)
			return client.error();
		auto type = client->get(cfg_.gue_port);
		if (!type)
			return type.error();
		if (*type) {
			if (**type != FouType::gue)
				return make_error(cfg_.file + ": gue_port: UDP port " +
						  std::to_string(cfg_.gue_port) +
						  " is already a FOU port of another type (direct): remove it "
						  "(ip fou del port " + std::to_string(cfg_.gue_port) +
						  ") or choose another gue_port");
			return {};
		}
		auto add = client->add_gue(cfg_.gue_port);
		if (!add)
			return make_error(add.error().message + " (from " + cfg_.file + ": gue_port)",
					  add.error().sys_errno);
		note("fou: GUE receive port " + std::to_string(cfg_.gue_port));
		return record({"fou", std::to_string(cfg_.gue_port)});
	}

	Result<void> sysctl_set(const std::string &key, const std::string &value)
	{
		auto old = sysctl_read(key);
		if (!old)
			return old.error();
		if (*old == value)
			return {};
		if (!st_.find("sysctl", key))
			if (auto s = record({"sysctl", key, *old}); !s)
				return s;
		auto w = sysctl_write(key, value);
		if (!w)
			return w;
		note("sysctl " + key + " = " + value + " (was " + *old + ")");
		return {};
	}

	// Makes `name` an up tunnel of the wanted kind, creating it if needed.
	Result<void> tunnel(Rtnl &rtnl, const std::string &name, const std::string &field,
			    bool v4)
	{
		auto link = rtnl.link(name);
		if (!link)
			return link.error();
		if (!*link) {
			auto c = v4 ? rtnl.create_ipip_external(name) : rtnl.create_sit_any(name);
			if (!c)
				return make_error(c.error().message + " (from " + cfg_.file + ": " + field + ")",
						  c.error().sys_errno);
			note(std::string("created ") + (v4 ? "ipip external" : "sit") + " device " + name);
			if (auto s = record({"link-created", name}); !s)
				return s;
			link = rtnl.link(name);
			if (!link)
				return link.error();
			if (!*link)
				return make_error("device " + name + " vanished right after it was created");
		} else if (v4 && ((*link)->kind != "ipip" || !(*link)->collect_md)) {
			return make_error(cfg_.file + ": " + field + ": interface " + name +
					  " exists but is not an ipip device in external mode: "
					  "delete it or name another device here");
		} else if (!v4 && (*link)->kind != "sit") {
			return make_error(cfg_.file + ": " + field + ": interface " + name +
					  " exists but is not a sit device: delete it or name another "
					  "device here");
		}
		if (!(*link)->up) {
			if (auto u = rtnl.set_up(name, (*link)->ifindex, true); !u)
				return u;
			if (!st_.find("link-created", name)) {
				note("set " + name + " up");
				if (auto s = record({"link-up", name}); !s)
					return s;
			}
		}
		// Decapsulated packets come from clients anywhere: no reverse path check.
		if (auto s = sysctl_set("net/ipv4/conf/" + name + "/rp_filter", "0"); !s)
			return s;
		if (!v4)
			return sysctl_set("net/ipv6/conf/" + name + "/disable_ipv6", "0");
		return {};
	}

	Result<void> tunnels()
	{
		auto rtnl = Rtnl::open();
		if (!rtnl)
			return rtnl.error();
		if (auto r = tunnel(*rtnl, cfg_.ipv4_tunnel, "options.ipv4_tunnel", true); !r)
			return r;
		if (cfg_.has_v6()) {
			// sit has no external mode; its fallback device sit0 (any to any)
			// decapsulates when it exists, and blocks a second any-to-any one.
			auto sit0 = rtnl->link("sit0");
			if (!sit0)
				return sit0.error();
			const std::string name = *sit0 ? "sit0" : cfg_.ipv6_tunnel;
			if (auto r = tunnel(*rtnl, name, "options.ipv6_tunnel", false); !r)
				return r;
		}
		// rp_filter is max(all, device): "all" must allow it too.
		if (auto s = sysctl_set("net/ipv4/conf/all/rp_filter", "0"); !s)
			return s;
		if (cfg_.arp_sysctls) {
			// The VIPs sit on this host too: do not answer ARP for them.
			if (auto s = sysctl_set("net/ipv4/conf/all/arp_ignore", "1"); !s)
				return s;
			if (auto s = sysctl_set("net/ipv4/conf/all/arp_announce", "2"); !s)
				return s;
		}
		return {};
	}

	Result<void> vips()
	{
		auto rtnl = Rtnl::open();
		if (!rtnl)
			return rtnl.error();
		auto dev = rtnl->link(cfg_.vip_device);
		if (!dev)
			return dev.error();
		if (!*dev)
			return make_error(cfg_.file + ": options.vip_device: no interface named " +
					  cfg_.vip_device + ": use an existing one (default lo)");
		if (!(*dev)->up) {
			if (auto u = rtnl->set_up(cfg_.vip_device, (*dev)->ifindex, true); !u)
				return u;
			note("set " + cfg_.vip_device + " up");
			if (auto s = record({"link-up", cfg_.vip_device}); !s)
				return s;
		}
		for (size_t i = 0; i < cfg_.vips.size(); i++) {
			const IpAddress &vip = cfg_.vips[i];
			const uint8_t prefix = vip.is_v4() ? 32 : 128;
			auto added = rtnl->add_address(cfg_.vip_device, (*dev)->ifindex, vip, prefix);
			if (!added)
				return make_error(added.error().message + " (from " + cfg_.file + ": vips[" +
						  std::to_string(i) + "])", added.error().sys_errno);
			if (*added) {
				note("VIP " + vip.to_string() + " on " + cfg_.vip_device);
				if (auto s = record({"addr", cfg_.vip_device, vip.to_string(),
						     std::to_string(prefix)}); !s)
					return s;
			}
		}
		return {};
	}

	// options.mss: clamp the MSS of SYN-ACKs from the VIPs (mss_clamp.h).
	Result<void> mss()
	{
		if (cfg_.mss == MssMode::off || cfg_.vips.empty())
			return {};
		MssValues m;
		std::string why;
		if (cfg_.mss == MssMode::fixed) {
			m = mss_for_ipv4_mss(cfg_.mss_value);
			why = "options.mss " + std::to_string(cfg_.mss_value);
		} else {
			auto rtnl = Rtnl::open();
			if (!rtnl)
				return rtnl.error();
			auto up = rtnl->uplink();
			if (!up)
				return up.error();
			// Neither a default route nor an Ethernet device yet: assume Ethernet's 1500.
			if (!*up)
				*up = Uplink{"(no uplink yet: Ethernet's)", 1500};
			const uint32_t overhead = static_cast<uint32_t>(gue_overhead(cfg_.mss_hops));
			m = mss_for_inner_mtu((*up)->mtu > overhead ? (*up)->mtu - overhead : 0);
			why = "auto: " + (*up)->name + " MTU " + std::to_string((*up)->mtu) + " - " +
			      std::to_string(overhead) + " bytes of GUE for " +
			      std::to_string(cfg_.mss_hops) + " hops";
		}
		auto nft = Nft::open();
		if (!nft)
			return nft.error();
		const std::string before = nft->list_table("inet", mss_table);
		std::string script = mss_ruleset(cfg_.vips, m);
		if (!before.empty()) {
			if (!st_.find("nft-table", "inet"))
				return make_error(cfg_.file + ": options.mss: the nftables table inet " +
						  mss_table + " exists and was not made by tandem-proxyctl up: "
						  "delete it (nft delete table inet " + mss_table + ") or set "
						  "options.mss: off");
			// Ours from an earlier up: made again with today's values, in one
			// transaction (no moment without the clamp).
			script = "delete table inet " + std::string(mss_table) + "\n" + script;
		} else if (auto s = record({"nft-table", "inet", mss_table}); !s) {
			return s;
		}
		if (auto r = nft->run(script); !r)
			return make_error(r.error().message + " (from " + cfg_.file + ": options.mss)");
		if (nft->list_table("inet", mss_table) == before)
			return {};  // up again with the same values: nothing changed
		note("MSS of SYN-ACKs from the VIPs clamped to " + std::to_string(m.v4) + " (IPv4), " +
		     std::to_string(m.v6) + " (IPv6) (" + why + "), nftables table inet " + mss_table);
		return {};
	}

	const ProxyConfig &cfg_;
	const SetupOptions &opt_;
	ProxyState &st_;
};

std::vector<uint16_t> parse_ports(const std::string &csv)
{
	std::vector<uint16_t> ports;
	std::stringstream ss(csv);
	for (std::string p; std::getline(ss, p, ',');)
		if (!p.empty())
			ports.push_back(static_cast<uint16_t>(std::stoul(p)));
	return ports;
}

Result<void> undo(const std::vector<std::string> &a, const SetupOptions &opt)
{
	auto say = [&](const std::string &s) {
		if (opt.verbose)
			std::printf("down: %s\n", s.c_str());
	};
	const std::string &kind = a[0];
	if (kind == "addr" && a.size() == 4) {
		auto rtnl = Rtnl::open();
		if (!rtnl)
			return rtnl.error();
		auto dev = rtnl->link(a[1]);
		auto vip = IpAddress::parse(a[2]);
		if (!dev)
			return dev.error();
		if (!*dev || !vip)
			return {};
		say("removing " + a[2] + " from " + a[1]);
		return rtnl->del_address(a[1], (*dev)->ifindex, *vip,
					 static_cast<uint8_t>(std::stoul(a[3])));
	}
	if ((kind == "link-created" || kind == "link-up") && a.size() == 2) {
		auto rtnl = Rtnl::open();
		if (!rtnl)
			return rtnl.error();
		auto link = rtnl->link(a[1]);
		if (!link)
			return link.error();
		if (!*link)
			return {};
		if (kind == "link-up") {
			say("setting " + a[1] + " down");
			return rtnl->set_up(a[1], (*link)->ifindex, false);
		}
		say("deleting " + a[1]);
		return rtnl->delete_link(a[1], (*link)->ifindex);
	}
	if (kind == "sysctl" && a.size() == 3) {
		say("sysctl " + a[1] + " = " + a[2]);
		auto w = sysctl_write(a[1], a[2]);
		// The device may be gone already (deleted just before).
		if (!w && w.error().sys_errno == ENOENT)
			return {};
		return w;
	}
	if (kind == "fou" && a.size() == 2) {
		auto fou = FouClient::connect();
		if (!fou)
			return fou.error();
		say("removing GUE receive port " + a[1]);
		return fou->del(static_cast<uint16_t>(std::stoul(a[1])));
	}
	if (kind == "redirect" && a.size() >= 2) {
		auto client = RedirectClient::connect();
		if (!client)
			return client.error();
		std::optional<std::vector<uint16_t>> ports;
		if (a.size() >= 3 && !a[2].empty())
			ports = parse_ports(a[2]);
		std::optional<std::vector<IpPrefix>> sources;
		if (a.size() >= 4) {
			sources = a[3] == "any" ? std::vector<IpPrefix>{} : parse_prefixes(a[3]);
			if (!sources)
				return make_error("malformed sources '" + a[3] + "' in " + opt.state_file);
		}
		say(std::string("tandem_redirect back to ") + (a[1] == "1" ? "enabled" : "disabled") +
		    (a.size() >= 3 ? ", ports " + a[2] : "") +
		    (a.size() >= 4 ? ", sources " + a[3] : ""));
		std::optional<bool> ct;
		if (a.size() >= 5)
			ct = a[4] == "1";
		return client->set_config(a[1] == "1", ports, sources, ct);
	}
	if (kind == "nft-table" && a.size() == 3) {
		auto nft = Nft::open();
		if (!nft)
			return nft.error();
		if (!nft->table_exists(a[1], a[2]))
			return {};
		say("deleting nftables table " + a[1] + " " + a[2]);
		return nft->run("delete table " + a[1] + " " + a[2]);
	}
	if (kind == "module")
		return {};  // other namespaces may use it: modules stay loaded
	return make_error("unknown action '" + kind + "' in " + opt.state_file +
			  ": was it written by another tandem-proxyctl version?");
}

}  // namespace

Result<void> proxy_up(const ProxyConfig &cfg, const SetupOptions &opt)
{
	bool exists = false;
	auto st = load_state(opt.state_file, exists);
	if (!st)
		return st.error();
	Up up(cfg, opt, *st);
	auto r = up.run();
	if (!r && st->actions.empty())
		return r;
	if (!r)
		return make_error(r.error().message + "\n(changes made so far are in " +
				  opt.state_file + "; 'tandem-proxyctl down' undoes them)",
				  r.error().sys_errno);
	return save_state(opt.state_file, *st);
}

Result<void> proxy_down(const SetupOptions &opt)
{
	bool exists = false;
	auto st = load_state(opt.state_file, exists);
	if (!st)
		return st.error();
	if (!exists) {
		if (opt.verbose)
			std::printf("down: nothing to undo (%s does not exist)\n",
				    opt.state_file.c_str());
		return {};
	}
	std::string failures;
	ProxyState left;
	for (auto it = st->actions.rbegin(); it != st->actions.rend(); ++it) {
		Result<void> r = make_error("malformed line");
		try {
			r = undo(*it, opt);
		} catch (const std::exception &e) {  // std::stoul on a damaged file
			r = make_error(std::string("malformed line in ") + opt.state_file + ": " + e.what());
		}
		if (!r) {
			failures += "\n  " + r.error().message;
			left.actions.insert(left.actions.begin(), *it);
		}
	}
	if (!failures.empty()) {
		(void)save_state(opt.state_file, left);
		return make_error("could not undo everything (what is left stays in " +
				  opt.state_file + "; fix and run down again):" + failures);
	}
	return remove_state(opt.state_file);
}

}  // namespace tandem::proxy
