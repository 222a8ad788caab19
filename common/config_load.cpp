// SPDX-License-Identifier: Apache-2.0
// Walks a director.yaml document into the Config model, collecting every problem.
#include <cctype>
#include <charconv>
#include <cstring>
#include <map>
#include <set>
#include <thread>
#include <tuple>

#include "bind_overlap.h"
#include "config.h"
#include "file_read.h"
#include "yaml_reader.h"

namespace tandem {
namespace {

std::string at(std::string_view field, size_t i)
{
	return std::string(field) + "[" + std::to_string(i) + "]";
}

std::optional<unsigned> parse_decimal(std::string_view s, unsigned max)
{
	unsigned v = 0;
	auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
	if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v > max)
		return std::nullopt;
	return v;
}

// "IPv4:port", "[IPv6]:port" or "off".
bool valid_metrics_address(std::string_view s)
{
	if (s == "off")
		return true;
	auto colon = s.rfind(':');
	if (colon == std::string_view::npos)
		return false;
	std::string_view host = s.substr(0, colon);
	auto port = parse_decimal(s.substr(colon + 1), 65535);
	if (!port || *port == 0 || host.empty())
		return false;
	bool bracketed = host.front() == '[' && host.back() == ']' && host.size() > 2;
	if (bracketed)
		host = host.substr(1, host.size() - 2);
	auto a = IpAddress::parse(host);
	return a && a->is_v4() != bracketed;
}

std::string_view trim(std::string_view s)
{
	while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
		s.remove_prefix(1);
	while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
		s.remove_suffix(1);
	return s;
}

class Loader {
public:
	explicit Loader(std::string path) : r_(path) { cfg_.path = std::move(path); }

	Result<Config> load(std::string_view text);

private:
	void director(const YAML::Node &n);
	void service(const YAML::Node &n, const std::string &field);
	void bind(const YAML::Node &n, const std::string &field, ServiceConfig &svc);
	std::vector<PortRange> ports(const YAML::Node &n, const std::string &field);
	std::optional<PortRange> port_item(const YAML::Node &n, const std::string &field);
	// `lines`: each backend address of the service so far -> its line, for duplicates.
	void backend(const YAML::Node &n, const std::string &field, ServiceConfig &svc,
		     std::map<IpAddress, int> &lines);
	std::optional<HashFields> hash_fields(const YAML::Node &n, const std::string &field);
	void health_check(const YAML::Node &n, const std::string &field, HealthCheck &hc);
	std::optional<SipKey> key(const YAML::Node &n, const std::string &field);
	void cross_checks();

	YamlReader r_;
	Config cfg_;
	std::map<std::string, int> service_lines_;  // name -> line of its first definition
};

Result<Config> Loader::load(std::string_view text)
{
	YAML::Node root;
	try {
		root = YAML::Load(std::string(text));
	} catch (const YAML::Exception &e) {
		r_.error(e.mark, "", "YAML syntax: " + e.msg);
		return make_error(r_.report());
	}
	if (r_.expect_map(root, "", {"director", "services"})) {
		if (root["director"].IsDefined())
			director(root["director"]);
		YAML::Node services = r_.require(root, "", "services");
		if (services.IsDefined() && r_.expect_sequence(services, "services"))
			for (size_t i = 0; i < services.size(); i++)
				service(services[i], at("services", i));
		cross_checks();
	}
	if (r_.failed())
		return make_error(r_.report());
	return std::move(cfg_);
}

void Loader::director(const YAML::Node &n)
{
	const std::string f = "director";
	if (!r_.expect_map(n, f,
			   {"interface", "queues", "cores", "source_ip", "gateway_mac", "gue_port",
			    "udp_checksum", "metrics", "bind_mode", "xdp_mode", "busy_poll",
			    "frame_size", "ring_size", "icmp_too_big"}))
		return;
	DirectorConfig d;
	d.mark = YamlReader::mark_of(n);
	if (auto v = r_.require(n, f, "interface"); v.IsDefined()) {
		if (auto s = r_.text(v, f + ".interface")) {
			if (s->empty() || s->size() > 15 || s->find_first_of("/ \t") != std::string::npos)
				r_.error(YamlReader::mark_of(v), f + ".interface",
					 "\"" + *s + "\" is not an interface name (1-15 characters, no '/' or spaces)");
			d.interface = *s;
		}
	}
	if (auto v = n["queues"]; v.IsDefined())
		if (auto q = r_.integer(v, f + ".queues", 1, 64))
			d.queues = static_cast<unsigned>(*q);
	if (auto v = n["cores"]; v.IsDefined() && r_.expect_sequence(v, f + ".cores")) {
		for (size_t i = 0; i < v.size(); i++)
			if (auto c = r_.integer(v[i], at(f + ".cores", i), 0, 4095))
				d.cores.push_back(static_cast<unsigned>(*c));
		if (d.cores.size() != d.queues && !r_.failed())
			r_.error(YamlReader::mark_of(v), f + ".cores",
				 "lists " + std::to_string(d.cores.size()) + " cores for " +
					 std::to_string(d.queues) + " queues; give one core per queue, or leave it out");
	}
	if (auto v = n["source_ip"]; v.IsDefined())
		if (auto s = r_.text(v, f + ".source_ip"); s && *s != "auto") {
			auto a = IpAddress::parse(*s);
			if (!a || !a->is_v4())
				r_.error(YamlReader::mark_of(v), f + ".source_ip",
					 "\"" + *s + "\" is not an IPv4 address; allowed: an IPv4 address, or auto (the interface's address)");
			else
				d.source_ip = a;
		}
	if (auto v = n["gateway_mac"]; v.IsDefined())
		if (auto s = r_.text(v, f + ".gateway_mac"); s && *s != "auto") {
			if (auto mac = parse_mac(*s))
				d.gateway_mac = mac;
			else
				r_.error(YamlReader::mark_of(v), f + ".gateway_mac",
					 "\"" + *s + "\" is not a MAC address; allowed: aa:bb:cc:dd:ee:ff, or auto (resolve each proxy's next hop)");
		}
	if (auto v = n["gue_port"]; v.IsDefined())
		if (auto p = r_.integer(v, f + ".gue_port", 1, 65535))
			d.gue_port = static_cast<uint16_t>(*p);
	if (auto v = n["udp_checksum"]; v.IsDefined())
		if (auto b = r_.boolean(v, f + ".udp_checksum"))
			d.udp_checksum = *b;
	if (auto v = n["metrics"]; v.IsDefined())
		if (auto s = r_.text(v, f + ".metrics")) {
			if (!valid_metrics_address(*s))
				r_.error(YamlReader::mark_of(v), f + ".metrics",
					 "\"" + *s + "\" is not an address; allowed: IPv4:port, [IPv6]:port, or off");
			d.metrics_address = *s;
		}
	if (auto v = n["bind_mode"]; v.IsDefined())
		if (auto c = r_.choice(v, f + ".bind_mode", {"auto", "zerocopy", "copy"}))
			d.bind_mode = static_cast<BindMode>(*c);
	if (auto v = n["xdp_mode"]; v.IsDefined())
		if (auto c = r_.choice(v, f + ".xdp_mode", {"auto", "native", "generic"}))
			d.xdp_mode = static_cast<XdpMode>(*c);
	if (auto v = n["busy_poll"]; v.IsDefined() &&
	    r_.expect_map(v, f + ".busy_poll", {"enabled", "budget", "usecs"})) {
		if (auto e = v["enabled"]; e.IsDefined())
			if (auto b = r_.boolean(e, f + ".busy_poll.enabled"))
				d.busy_poll.enabled = *b;
		if (auto e = v["budget"]; e.IsDefined())
			if (auto b = r_.integer(e, f + ".busy_poll.budget", 1, 1024))
				d.busy_poll.budget = static_cast<unsigned>(*b);
		if (auto e = v["usecs"]; e.IsDefined())
			if (auto b = r_.integer(e, f + ".busy_poll.usecs", 1, 1000000))
				d.busy_poll.usecs = static_cast<unsigned>(*b);
	}
	if (auto v = n["frame_size"]; v.IsDefined())
		if (auto c = r_.choice(v, f + ".frame_size", {"2048", "4096"}))
			d.frame_size = *c == 0 ? 2048 : 4096;
	if (auto v = n["ring_size"]; v.IsDefined())
		if (auto s = r_.integer(v, f + ".ring_size", 64, 16384)) {
			if ((*s & (*s - 1)) != 0)
				r_.error(YamlReader::mark_of(v), f + ".ring_size",
					 std::to_string(*s) + " is not a power of two; allowed: 64, 128, ... 16384");
			d.ring_size = static_cast<unsigned>(*s);
		}
	if (auto v = n["icmp_too_big"]; v.IsDefined() &&
	    r_.expect_map(v, f + ".icmp_too_big", {"rate", "burst"})) {
		if (auto e = v["rate"]; e.IsDefined())
			if (auto b = r_.integer(e, f + ".icmp_too_big.rate", 0, 1000000))
				d.icmp_too_big.rate = static_cast<unsigned>(*b);
		if (auto e = v["burst"]; e.IsDefined())
			if (auto b = r_.integer(e, f + ".icmp_too_big.burst", 1, 1000000))
				d.icmp_too_big.burst = static_cast<unsigned>(*b);
	}
	cfg_.director = std::move(d);
}

std::optional<SipKey> Loader::key(const YAML::Node &n, const std::string &field)
{
	auto s = r_.text(n, field);
	if (!s)
		return std::nullopt;
	auto k = parse_key(*s);
	if (!k)
		r_.error(YamlReader::mark_of(n), field,
			 "must be exactly 32 hex digits (16 bytes), for example from `openssl rand -hex 16`");
	return k;
}

std::optional<HashFields> Loader::hash_fields(const YAML::Node &n, const std::string &field)
{
	if (!r_.expect_sequence(n, field))
		return std::nullopt;
	HashFields h{.src_addr = false};
	bool ok = true;
	for (size_t i = 0; i < n.size(); i++) {
		auto s = r_.text(n[i], at(field, i));
		HashFields before = h;
		if (!s) {
			ok = false;
		} else if (!h.enable(*s)) {
			r_.error(YamlReader::mark_of(n[i]), at(field, i),
				 "\"" + *s + "\" is not a hash field; allowed: src_addr, dst_addr, src_port, dst_port");
			ok = false;
		} else if (before == h) {
			r_.error(YamlReader::mark_of(n[i]), at(field, i), "\"" + *s + "\" is listed twice");
			ok = false;
		}
	}
	if (ok && h.empty()) {
		r_.error(YamlReader::mark_of(n), field, "must name at least one field, for example [src_addr]");
		ok = false;
	}
	return ok ? std::optional<HashFields>(h) : std::nullopt;
}

void Loader::service(const YAML::Node &n, const std::string &f)
{
	if (!r_.expect_map(n, f,
			   {"name", "binds", "hash_key", "seed", "hash_fields", "alt_hash_fields",
			    "hops_per_row", "backends", "health_check"}))
		return;
	ServiceConfig svc;
	svc.mark = YamlReader::mark_of(n);
	if (auto v = r_.require(n, f, "name"); v.IsDefined())
		if (auto s = r_.text(v, f + ".name")) {
			if (!valid_service_name(*s))
				r_.error(YamlReader::mark_of(v), f + ".name",
					 "\"" + *s + "\" is not a service name; allowed: " + service_name_rule);
			auto [first, fresh] = service_lines_.emplace(*s, svc.mark.line);
			if (!fresh)
				r_.error(YamlReader::mark_of(v), f + ".name",
					 "service \"" + *s + "\" is already defined at line " +
						 std::to_string(first->second) + "; names must be unique");
			svc.name = *s;
		}
	if (auto v = r_.require(n, f, "binds"); v.IsDefined() && r_.expect_sequence(v, f + ".binds")) {
		if (v.size() == 0)
			r_.error(YamlReader::mark_of(v), f + ".binds", "must list at least one bind");
		for (size_t i = 0; i < v.size(); i++)
			bind(v[i], at(f + ".binds", i), svc);
	}
	if (auto v = r_.require(n, f, "hash_key"); v.IsDefined())
		if (auto k = key(v, f + ".hash_key"))
			svc.hash_key = *k;
	if (auto v = r_.require(n, f, "seed"); v.IsDefined())
		if (auto k = key(v, f + ".seed"))
			svc.seed = *k;
	if (auto v = n["hash_fields"]; v.IsDefined())
		if (auto h = hash_fields(v, f + ".hash_fields"))
			svc.hash_fields = *h;
	if (auto v = n["alt_hash_fields"]; v.IsDefined())
		if (auto h = hash_fields(v, f + ".alt_hash_fields")) {
			if (*h == svc.hash_fields)
				r_.error(YamlReader::mark_of(v), f + ".alt_hash_fields",
					 "is the same as hash_fields; remove it, or name the fields being migrated from");
			svc.alt_hash_fields = *h;
		}
	if (auto v = n["hops_per_row"]; v.IsDefined())
		if (auto k = r_.integer(v, f + ".hops_per_row", 1, max_hops_per_row))
			svc.hops_per_row = static_cast<unsigned>(*k);
	if (auto v = n["backends"]; v.IsDefined() && r_.expect_sequence(v, f + ".backends")) {
		if (v.size() > 65535)
			r_.error(YamlReader::mark_of(v), f + ".backends", "lists more than 65535 backends");
		std::map<IpAddress, int> lines;
		for (size_t i = 0; i < v.size() && i < 65536; i++)
			backend(v[i], at(f + ".backends", i), svc, lines);
	}
	if (auto v = n["health_check"]; v.IsDefined()) {
		// One check, or a list of them: a backend is down when any check says so (GLB's
		// "healthchecks": {"http": 80, "gue": 19523}).
		std::vector<YAML::Node> checks;
		if (v.IsSequence())
			for (size_t i = 0; i < v.size(); i++)
				checks.push_back(v[i]);
		else
			checks.push_back(v);
		std::set<std::tuple<HealthCheckKind, uint16_t, std::string>> seen;
		for (size_t i = 0; i < checks.size(); i++) {
			HealthCheck hc;
			std::string field = v.IsSequence() ? at(f + ".health_check", i) : f + ".health_check";
			health_check(checks[i], field, hc);
			if (hc.kind == HealthCheckKind::none)
				continue;
			if (!seen.emplace(hc.kind, hc.port, hc.path).second)
				r_.error(hc.mark, field, "the same check is listed twice");
			svc.health_checks.push_back(hc);
		}
	}
	cfg_.services.push_back(std::move(svc));
}

std::optional<PortRange> Loader::port_item(const YAML::Node &n, const std::string &field)
{
	auto s = r_.text(n, field);
	if (!s)
		return std::nullopt;
	std::string_view t = *s;
	auto dash = t.find('-');
	auto first = parse_decimal(trim(t.substr(0, dash)), 65535);
	auto last = dash == std::string_view::npos ? first : parse_decimal(trim(t.substr(dash + 1)), 65535);
	if (first && last && *first >= 1 && *first <= *last)
		return PortRange{static_cast<uint16_t>(*first), static_cast<uint16_t>(*last)};
	r_.error(YamlReader::mark_of(n), field,
		 "\"" + *s + "\" is not a port or range; allowed: 1..65535, or \"first-last\" with first <= last");
	return std::nullopt;
}

std::vector<PortRange> Loader::ports(const YAML::Node &n, const std::string &field)
{
	std::vector<PortRange> out;
	if (n.IsScalar()) {
		if (auto p = port_item(n, field))
			out.push_back(*p);
		return out;
	}
	if (!r_.expect_sequence(n, field))
		return out;
	if (n.size() == 0)
		r_.error(YamlReader::mark_of(n), field, "must list at least one port");
	for (size_t i = 0; i < n.size(); i++)
		if (auto p = port_item(n[i], at(field, i)))
			out.push_back(*p);
	return out;
}

void Loader::bind(const YAML::Node &n, const std::string &f, ServiceConfig &svc)
{
	if (!r_.expect_map(n, f, {"address", "protocol", "ports"}))
		return;
	Bind b;
	b.mark = YamlReader::mark_of(n);
	bool ok = true;
	if (auto v = r_.require(n, f, "address"); v.IsDefined()) {
		if (auto s = r_.text(v, f + ".address")) {
			// Host bits are kept as GLB keeps them (tandemctl check notes them).
			auto p = WrittenPrefix::parse(*s);
			if (!p) {
				r_.error(YamlReader::mark_of(v), f + ".address",
					 "\"" + *s + "\" is not an address or prefix; allowed: 192.0.2.1, 192.0.2.0/24, 2001:db8::1, 2001:db8::/64");
				ok = false;
			} else {
				b.prefix = p->prefix;
				if (p->has_host_bits())
					b.written = p->written;
			}
		} else {
			ok = false;
		}
	} else {
		ok = false;
	}
	if (auto v = r_.require(n, f, "protocol"); v.IsDefined()) {
		if (auto c = r_.choice(v, f + ".protocol", {"tcp", "udp"}))
			b.protocol = *c == 0 ? Protocol::tcp : Protocol::udp;
		else
			ok = false;
	} else {
		ok = false;
	}
	if (auto v = r_.require(n, f, "ports"); v.IsDefined())
		b.ports = ports(v, f + ".ports");
	if (b.ports.empty())
		ok = false;
	if (ok)
		svc.binds.push_back(std::move(b));
}

void Loader::backend(const YAML::Node &n, const std::string &f, ServiceConfig &svc,
		     std::map<IpAddress, int> &lines)
{
	if (!r_.expect_map(n, f, {"address", "state", "healthy"}))
		return;
	BackendConfig bc;
	bc.mark = YamlReader::mark_of(n);
	auto v = r_.require(n, f, "address");
	if (!v.IsDefined())
		return;
	auto s = r_.text(v, f + ".address");
	if (!s)
		return;
	auto a = IpAddress::parse(*s);
	if (!a) {
		r_.error(YamlReader::mark_of(v), f + ".address",
			 "\"" + *s + "\" is not an IPv4 or IPv6 address");
		return;
	}
	bc.backend.address = *a;
	if (auto [first, fresh] = lines.emplace(*a, bc.mark.line); !fresh)
		r_.error(YamlReader::mark_of(v), f + ".address",
			 *s + " is already a backend of this service (line " +
				 std::to_string(first->second) + "); list each backend once");
	if (auto st = n["state"]; st.IsDefined())
		if (auto c = r_.choice(st, f + ".state", {"active", "filling", "draining", "inactive"}))
			bc.backend.state = static_cast<BackendState>(*c);
	if (auto h = n["healthy"]; h.IsDefined())
		if (auto b = r_.boolean(h, f + ".healthy"))
			bc.backend.healthy = *b;
	svc.backends.push_back(bc);
}

void Loader::health_check(const YAML::Node &n, const std::string &f, HealthCheck &hc)
{
	hc.mark = YamlReader::mark_of(n);
	if (!r_.expect_map(n, f, {"type", "port", "path", "interval_ms", "timeout_ms", "rise", "fall"}))
		return;
	if (auto v = r_.require(n, f, "type"); v.IsDefined())
		if (auto c = r_.choice(v, f + ".type", {"none", "tcp", "http", "gue"}))
			hc.kind = static_cast<HealthCheckKind>(*c);
	if (auto v = n["port"]; v.IsDefined())
		if (auto p = r_.integer(v, f + ".port", 1, 65535))
			hc.port = static_cast<uint16_t>(*p);
	if (auto v = n["path"]; v.IsDefined())
		if (auto s = r_.text(v, f + ".path")) {
			if (s->empty() || s->front() != '/' || s->find_first_of(" \r\n") != std::string::npos)
				r_.error(YamlReader::mark_of(v), f + ".path",
					 "\"" + *s + "\" is not an HTTP path; it must start with '/' and have no spaces");
			hc.path = *s;
		}
	if (auto v = n["interval_ms"]; v.IsDefined())
		if (auto i = r_.integer(v, f + ".interval_ms", 100, 3600000))
			hc.interval = std::chrono::milliseconds(*i);
	if (auto v = n["timeout_ms"]; v.IsDefined())
		if (auto i = r_.integer(v, f + ".timeout_ms", 10, 3600000))
			hc.timeout = std::chrono::milliseconds(*i);
	if (auto v = n["rise"]; v.IsDefined())
		if (auto i = r_.integer(v, f + ".rise", 1, 100))
			hc.rise = static_cast<unsigned>(*i);
	if (auto v = n["fall"]; v.IsDefined())
		if (auto i = r_.integer(v, f + ".fall", 1, 100))
			hc.fall = static_cast<unsigned>(*i);
	if ((hc.kind == HealthCheckKind::tcp || hc.kind == HealthCheckKind::http) && hc.port == 0)
		r_.error(YamlReader::mark_of(n), f + ".port", "is required for a tcp or http check");
	if (hc.kind != HealthCheckKind::http && n["path"].IsDefined())
		r_.error(YamlReader::mark_of(n["path"]), f + ".path", "only an http check has a path");
	if (hc.timeout >= hc.interval)
		r_.error(YamlReader::mark_of(n), f + ".timeout_ms", "must be shorter than interval_ms");
}

void Loader::cross_checks()
{
	// Binds: a packet must belong to exactly one service. Each bind that overlaps an
	// earlier one is reported once, naming one of them (bind_overlap.h), not once per pair.
	std::vector<const Bind *> binds;
	std::vector<const ServiceConfig *> owner;
	for (const ServiceConfig &s : cfg_.services)
		for (const Bind &b : s.binds) {
			binds.push_back(&b);
			owner.push_back(&s);
		}
	const std::vector<std::optional<size_t>> earlier = earlier_overlaps(binds);
	for (size_t i = 0; i < binds.size(); i++)
		if (const std::optional<size_t> j = earlier[i])
			r_.error(binds[i]->mark, "services." + owner[i]->name + ".binds",
				 binds[i]->prefix.to_string() + " " +
					 std::string(to_string(binds[i]->protocol)) +
					 " overlaps the bind at line " + std::to_string(binds[*j]->mark.line) +
					 " of service \"" + owner[*j]->name +
					 "\"; a packet must match one bind only: change the address, protocol or ports");

	if (!cfg_.director)
		return;
	// The director carries hops in GUE over IPv4: an IPv6 proxy cannot be a hop.
	for (const ServiceConfig &s : cfg_.services)
		for (const BackendConfig &b : s.backends)
			if (!b.backend.address.is_v4())
				r_.error(b.mark, "services." + s.name + ".backends",
					 b.backend.address.to_string() +
						 " is IPv6; the director's GUE encapsulation carries IPv4 hops only (clients and VIPs may be IPv6): give the proxy's IPv4 address");
	const DirectorConfig &d = *cfg_.director;
	unsigned ncpu = std::thread::hardware_concurrency();
	for (unsigned c : d.cores)
		if (ncpu != 0 && c >= ncpu)
			r_.error(d.mark, "director.cores",
				 "core " + std::to_string(c) + " does not exist; this machine has cores 0.." +
					 std::to_string(ncpu - 1));
}

}  // namespace

Result<Config> parse_config(std::string_view yaml_text, std::string_view path)
{
	return Loader(std::string(path)).load(yaml_text);
}

Result<Config> load_config_file(const std::string &path, size_t max_bytes)
{
	Result<std::string> text = read_file_limited(path, max_bytes, "the configuration file");
	if (!text)
		return text.error();
	return parse_config(*text, path);
}

}  // namespace tandem
