// SPDX-License-Identifier: Apache-2.0
#include "proxy_config.h"

#include <net/if.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace tandem::proxy {

namespace {

class Reader {
public:
	explicit Reader(std::string file) : file_(std::move(file)) {}

	Error at(const YAML::Mark &mark, const std::string &field, const std::string &msg) const
	{
		std::string where = file_;
		if (!mark.is_null())
			where += ":" + std::to_string(mark.line + 1) + ":" +
				 std::to_string(mark.column + 1);
		return make_error(where + ": " + field + ": " + msg);
	}

	Result<std::string> scalar(const YAML::Node &n, const std::string &field) const
	{
		if (!n.IsScalar())
			return at(n.Mark(), field, "expected a single value, not a list or map");
		return n.Scalar();
	}

	Result<bool> boolean(const YAML::Node &n, const std::string &field) const
	{
		auto s = scalar(n, field);
		if (!s)
			return s.error();
		if (*s == "true")
			return true;
		if (*s == "false")
			return false;
		return at(n.Mark(), field, "expected true or false, got '" + *s + "'");
	}

	Result<uint16_t> port(const YAML::Node &n, const std::string &field) const
	{
		auto s = scalar(n, field);
		if (!s)
			return s.error();
		unsigned v = 0;
		auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
		if (ec != std::errc() || end != s->data() + s->size() || v == 0 || v > 65535)
			return at(n.Mark(), field,
				  "expected a UDP port number 1-65535, got '" + *s + "'");
		return static_cast<uint16_t>(v);
	}

	Result<std::string> ifname(const YAML::Node &n, const std::string &field) const
	{
		auto s = scalar(n, field);
		if (!s)
			return s.error();
		if (s->empty() || s->size() >= IFNAMSIZ || s->find_first_of("/ \t:") != std::string::npos)
			return at(n.Mark(), field, "'" + *s + "' is not a valid interface name (1-" +
					     std::to_string(IFNAMSIZ - 1) + " characters, no '/', ':' or spaces)");
		return *s;
	}

private:
	std::string file_;
};

Result<void> parse_options(const Reader &r, const YAML::Node &node, ProxyConfig &cfg)
{
	if (!node.IsMap())
		return r.at(node.Mark(), "options", "expected a map of option: value");
	for (auto it = node.begin(); it != node.end(); ++it) {
		// yaml-cpp iterators hand out temporaries: keep copies.
		const YAML::Node k = it->first;
		const YAML::Node v = it->second;
		const std::string key = k.Scalar();
		const std::string field = "options." + key;
		if (key == "enabled") {
			auto b = r.boolean(v, field);
			if (!b)
				return b.error();
			cfg.enabled = *b;
		} else if (key == "arp_sysctls") {
			auto b = r.boolean(v, field);
			if (!b)
				return b.error();
			cfg.arp_sysctls = *b;
		} else if (key == "conntrack_local") {
			auto b = r.boolean(v, field);
			if (!b)
				return b.error();
			cfg.conntrack_local = *b;
		} else if (key == "vip_device" || key == "ipv4_tunnel" || key == "ipv6_tunnel") {
			auto s = r.ifname(v, field);
			if (!s)
				return s.error();
			(key == "vip_device" ? cfg.vip_device
			 : key == "ipv4_tunnel" ? cfg.ipv4_tunnel : cfg.ipv6_tunnel) = *s;
		} else if (key == "mss") {
			auto s = r.scalar(v, field);
			if (!s)
				return s.error();
			unsigned n = 0;
			auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), n);
			if (*s == "auto") {
				cfg.mss = MssMode::automatic;
			} else if (*s == "off") {
				cfg.mss = MssMode::off;
			} else if (ec == std::errc() && end == s->data() + s->size() && n >= 536 && n <= 9000) {
				cfg.mss = MssMode::fixed;
				cfg.mss_value = static_cast<uint16_t>(n);
			} else {
				return r.at(v.Mark(), field,
					    "expected auto, off or an IPv4 MSS 536-9000, got '" + *s + "'");
			}
		} else if (key == "mss_hops") {
			auto s = r.scalar(v, field);
			if (!s)
				return s.error();
			unsigned n = 0;
			auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), n);
			if (ec != std::errc() || end != s->data() + s->size() || n < 1 || n > 31)
				return r.at(v.Mark(), field,
					    "expected the hops per packet of the directors' services, 1-31, got '" + *s + "'");
			cfg.mss_hops = n;
		} else {
			return r.at(k.Mark(), field,
				    "unknown option (known: enabled, vip_device, ipv4_tunnel, "
				    "ipv6_tunnel, arp_sysctls, mss, mss_hops, conntrack_local)");
		}
	}
	if (cfg.ipv4_tunnel == cfg.ipv6_tunnel)
		return r.at(node.Mark(), "options.ipv6_tunnel",
			    "must differ from options.ipv4_tunnel");
	return {};
}

Result<void> parse_vips(const Reader &r, const YAML::Node &node, ProxyConfig &cfg)
{
	if (!node.IsSequence())
		return r.at(node.Mark(), "vips", "expected a list of IP addresses, e.g. [192.0.2.10, 2001:db8::10]");
	std::set<IpAddress> seen;
	size_t i = 0;
	for (const YAML::Node &v : node) {
		const std::string field = "vips[" + std::to_string(i++) + "]";
		auto s = r.scalar(v, field);
		if (!s)
			return s.error();
		auto addr = IpAddress::parse(*s);
		if (!addr)
			return r.at(v.Mark(), field,
				    "'" + *s + "' is not an IPv4 or IPv6 address (write it without a prefix length)");
		if (!seen.insert(*addr).second)
			return r.at(v.Mark(), field, addr->to_string() + " is listed twice");
		cfg.vips.push_back(*addr);
	}
	return {};
}

// At most TANDEM_REDIRECT_MAX_SOURCES (the module's limit).
constexpr size_t kMaxSources = 64;

Result<void> parse_sources(const Reader &r, const YAML::Node &node, ProxyConfig &cfg)
{
	if (!node.IsSequence())
		return r.at(node.Mark(), "sources",
			    "expected a list of IPv4 prefixes of the directors and proxies, "
			    "e.g. [192.0.2.0/24, 198.51.100.7]");
	if (node.size() == 0)
		return r.at(node.Mark(), "sources",
			    "is empty: no director could reach this proxy; list the directors' and "
			    "proxies' prefixes (0.0.0.0/0 accepts GUE from anywhere)");
	if (node.size() > kMaxSources)
		return r.at(node.Mark(), "sources",
			    "has " + std::to_string(node.size()) + " prefixes; at most " +
			    std::to_string(kMaxSources) + ": merge them into wider prefixes");
	std::vector<IpPrefix> out;
	std::set<IpPrefix> seen;
	size_t i = 0;
	for (const YAML::Node &v : node) {
		const std::string field = "sources[" + std::to_string(i++) + "]";
		auto s = r.scalar(v, field);
		if (!s)
			return s.error();
		auto pfx = IpPrefix::parse(*s);
		if (!pfx) {
			auto slash = s->find('/');
			auto addr = IpAddress::parse(s->substr(0, slash));
			if (addr && slash != std::string::npos)
				return r.at(v.Mark(), field,
					    "'" + *s + "' has host bits set or a bad length: write the "
					    "network address, e.g. 192.0.2.0/24");
			return r.at(v.Mark(), field,
				    "'" + *s + "' is not an IPv4 address or prefix (a.b.c.d or a.b.c.d/len)");
		}
		if (!pfx->address.is_v4())
			return r.at(v.Mark(), field,
				    "'" + *s + "' is IPv6: GUE from directors runs over IPv4, list IPv4 "
				    "prefixes");
		if (!seen.insert(*pfx).second)
			return r.at(v.Mark(), field, "'" + *s + "' is listed twice");
		out.push_back(*pfx);
	}
	cfg.sources = std::move(out);
	return {};
}

}  // namespace

bool ProxyConfig::has_v6() const
{
	for (const auto &v : vips)
		if (!v.is_v4())
			return true;
	return false;
}

Result<ProxyConfig> parse_proxy_config(const std::string &text, const std::string &file)
{
	Reader r(file);
	YAML::Node root;
	try {
		root = YAML::Load(text);
	} catch (const YAML::ParserException &e) {
		return r.at(e.mark, "(syntax)", e.msg);
	}
	ProxyConfig cfg;
	cfg.file = file;
	if (root.IsNull())
		return r.at(YAML::Mark::null_mark(), "(file)",
			    "is empty: it needs at least gue_port and vips");
	if (!root.IsMap())
		return r.at(root.Mark(), "(file)", "expected a map with gue_port, vips and options");
	bool have_vips = false;
	for (auto it = root.begin(); it != root.end(); ++it) {
		const YAML::Node k = it->first;
		const YAML::Node v = it->second;
		const std::string key = k.Scalar();
		Result<void> ok;
		if (key == "gue_port") {
			auto p = r.port(v, key);
			if (!p)
				return p.error();
			cfg.gue_port = *p;
		} else if (key == "vips") {
			ok = parse_vips(r, v, cfg);
			have_vips = true;
		} else if (key == "options") {
			ok = parse_options(r, v, cfg);
		} else if (key == "sources") {
			ok = parse_sources(r, v, cfg);
		} else {
			return r.at(k.Mark(), key,
				    "unknown key (known: gue_port, vips, sources, options)");
		}
		if (!ok)
			return ok.error();
	}
	if (!have_vips)
		return r.at(root.Mark(), "vips",
			    "missing: list the virtual IPs this proxy serves (may be [] to add none)");
	return cfg;
}

Result<ProxyConfig> load_proxy_config(const std::string &file)
{
	std::ifstream in(file);
	if (!in)
		return make_error(file + ": cannot read: " + std::strerror(errno) +
				  "; create it (see the example in packaging/proxy.yaml) or pass -c FILE",
				  errno);
	std::stringstream ss;
	ss << in.rdbuf();
	return parse_proxy_config(ss.str(), file);
}

}  // namespace tandem::proxy
