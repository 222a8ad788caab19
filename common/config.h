// SPDX-License-Identifier: Apache-2.0
// The YAML configuration model (director.yaml): an optional `director:` section and the
// `services:`. Loading validates everything; each problem names file:line:column, the
// field, and what is allowed.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flow_hash.h"
#include "forwarding_table.h"
#include "gue.h"
#include "ip_address.h"
#include "result.h"
#include "siphash.h"

namespace tandem {

// Where a value came from, for messages that point at it.
struct SourceMark {
	int line = 0;  // 1-based; 0 when unknown
	int column = 0;
};

struct PortRange {
	uint16_t first = 0;
	uint16_t last = 0;
	bool contains(uint16_t p) const { return p >= first && p <= last; }
	bool overlaps(const PortRange &o) const { return first <= o.last && o.first <= last; }
	bool operator==(const PortRange &) const = default;
};

enum class Protocol : uint8_t { tcp = 6, udp = 17 };
std::string_view to_string(Protocol p);

struct Bind {
	IpPrefix prefix;  // host bits cleared: what packets are matched against
	Protocol protocol = Protocol::tcp;
	std::vector<PortRange> ports;  // never empty after validation
	SourceMark mark;
	// The address as written when it had host bits (10.97.19.202/28, as GLB accepts it),
	// for glb export to write back; matching ignores it.
	std::optional<IpAddress> written;

	const IpAddress &address_as_written() const { return written ? *written : prefix.address; }
	std::string to_string_as_written() const
	{
		return address_as_written().to_string() + "/" + std::to_string(prefix.length);
	}

	bool covers_port(uint16_t port) const;
	bool overlaps(const Bind &other) const;
	bool operator==(const Bind &o) const
	{
		return prefix == o.prefix && protocol == o.protocol && ports == o.ports &&
		       written == o.written;
	}
};

enum class HealthCheckKind : uint8_t { none, tcp, http, gue };

struct HealthCheck {
	HealthCheckKind kind = HealthCheckKind::none;
	uint16_t port = 0;         // tcp, http: the port on the backend; gue: the GUE port
	std::string path = "/";    // http only
	std::chrono::milliseconds interval{2000};
	std::chrono::milliseconds timeout{1000};
	unsigned rise = 2;  // successes in a row that make a backend healthy
	unsigned fall = 3;  // failures in a row that make it unhealthy
	SourceMark mark;
	bool operator==(const HealthCheck &o) const
	{
		return kind == o.kind && port == o.port && path == o.path && interval == o.interval &&
		       timeout == o.timeout && rise == o.rise && fall == o.fall;
	}
};

struct BackendConfig {
	Backend backend;
	SourceMark mark;
	bool operator==(const BackendConfig &o) const { return backend == o.backend; }
};

// A field added here must be added to operator== (config.cpp) too, or a reload that changes
// only it is taken for "unchanged".
struct ServiceConfig {
	std::string name;
	std::vector<Bind> binds;
	SipKey hash_key{};
	SipKey seed{};
	HashFields hash_fields;
	std::optional<HashFields> alt_hash_fields;
	unsigned hops_per_row = 2;
	std::vector<BackendConfig> backends;
	std::vector<HealthCheck> health_checks;  // none: always healthy unless `healthy: false`
	SourceMark mark;

	std::vector<Backend> table_backends() const;
	bool operator==(const ServiceConfig &o) const;  // every field but the marks
	// Hops a packet of this service carries: the row, plus the alternative lookup's row.
	unsigned hops_per_packet(unsigned row_width) const
	{
		return alt_hash_fields ? 2 * row_width : row_width;
	}
};

enum class BindMode : uint8_t { automatic, zerocopy, copy };
enum class XdpMode : uint8_t { automatic, native, generic };

struct BusyPoll {
	bool enabled = false;
	unsigned budget = 64;
	unsigned usecs = 20;
	bool operator==(const BusyPoll &) const = default;
};

// The too-big ICMP errors a worker sends: a token bucket per queue.
struct IcmpLimit {
	unsigned rate = 1000;  // a second, per queue; 0 = never send one
	unsigned burst = 50;
	bool operator==(const IcmpLimit &) const = default;
};

struct DirectorConfig {  // a new field goes into operator== too, as in ServiceConfig
	std::string interface;
	unsigned queues = 1;
	std::vector<unsigned> cores;          // one per queue; empty = queue i on core i % ncpu
	std::optional<IpAddress> source_ip;   // empty = the interface's first IPv4 address
	std::optional<MacAddress> gateway_mac;  // empty = resolve each proxy's next hop
	uint16_t gue_port = default_gue_port;
	bool udp_checksum = false;
	std::string metrics_address = "127.0.0.1:9470";
	BindMode bind_mode = BindMode::automatic;
	XdpMode xdp_mode = XdpMode::automatic;
	BusyPoll busy_poll;
	unsigned frame_size = 4096;   // UMEM frame
	unsigned ring_size = 2048;    // every ring of every socket
	IcmpLimit icmp_too_big;
	SourceMark mark;
	bool operator==(const DirectorConfig &o) const;
};

struct Config {
	std::string path;  // as given, for messages
	std::optional<DirectorConfig> director;
	std::vector<ServiceConfig> services;

	const ServiceConfig *find_service(std::string_view name) const;
	// The same configuration: every value equal, whatever the path, positions, comments
	// or layout. A reload to an equal Config changes nothing.
	bool operator==(const Config &o) const;
};

// Limits of one load, so that no file can make the loader (inside the running daemon, on
// reload) use unbounded memory: the file's size is checked before YAML parses it, and
// problems past the first max_config_errors are counted, not kept.
inline constexpr size_t max_config_bytes = 16 * 1024 * 1024;
inline constexpr size_t max_config_errors = 20;

// Parses and validates. The error message holds one line per problem, each starting with
// "path:line:column: ", and, past max_config_errors of them, a last line
// "path: ... and N more errors".
Result<Config> parse_config(std::string_view yaml_text, std::string_view path);
// Reads and parses a file; one larger than `max_bytes` is refused unparsed with
// "path: N bytes, larger than the limit of M bytes".
Result<Config> load_config_file(const std::string &path, size_t max_bytes = max_config_bytes);

// A service name: 1-63 letters, digits, '_', '.', '-', starting with a letter or digit.
inline constexpr const char *service_name_rule =
	"1-63 letters, digits, '_', '.', '-', starting with a letter or digit";
bool valid_service_name(std::string_view name);

std::string format_key(const SipKey &key);  // 32 lower-case hex digits
std::optional<SipKey> parse_key(std::string_view hex);
std::optional<MacAddress> parse_mac(std::string_view text);
std::string format_mac(const MacAddress &mac);

}  // namespace tandem
