// SPDX-License-Identifier: Apache-2.0
// GLB's forwarding_table.json (and glb-healthcheck's source table, and the director's
// config.json for the hash fields) as `services:` YAML. Every value is checked here, with
// its JSON path in the message, before yaml-cpp's emitter writes it: no input can abort
// the import or write YAML of its own.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <map>

#include "glb_format.h"
#include "json_access.h"

namespace tandem {
namespace {

using nlohmann::json;
using namespace json_access;

constexpr int64_t any_integer_lo = std::numeric_limits<int64_t>::min();
constexpr int64_t any_integer_hi = std::numeric_limits<int64_t>::max();

Error import_error(const std::string &where, const std::string &what)
{
	return make_error("GLB forwarding table: " + where + ": " + what);
}

std::string item(const std::string &where, size_t i)
{
	return where + "[" + std::to_string(i) + "]";
}

// where.key, or where["key"] for a key that is not a plain word (it came from the input).
std::string dot(const std::string &where, const std::string &key)
{
	bool plain = !key.empty() && key.size() <= 64 &&
		     std::all_of(key.begin(), key.end(), [](char c) {
			     return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
		     });
	return plain ? where + "." + key : where + "[" + json_quoted(key) + "]";
}

// config.json's {"src_addr": true, ...} as the list of fields that are true.
Result<std::vector<std::string>> hash_fields(const json &cfg, const char *key)
{
	const std::string where = std::string("config.json ") + key;
	const json &f = *member(cfg, key);
	if (!f.is_object())
		return import_error(where, "must be an object of booleans");
	std::vector<std::string> list;
	for (const char *name : {"src_addr", "dst_addr", "src_port", "dst_port"}) {
		const json *v = member(f, name);
		if (v && !v->is_boolean())
			return import_error(where + "." + name, "must be true or false");
		if (v && v->get<bool>())
			list.push_back(name);
	}
	for (const auto &[k, v] : f.items())
		if (k != "src_addr" && k != "dst_addr" && k != "src_port" && k != "dst_port")
			return import_error(dot(where, k), "is not a hash field");
	return list;
}

struct HashFieldsIn {
	std::vector<std::string> fields{"src_addr"};
	std::vector<std::string> alt;
	bool has_alt = false;  // (not an optional<vector>: GCC 12 warns maybe-uninitialized)
};

Result<HashFieldsIn> director_config(std::optional<std::string_view> text)
{
	HashFieldsIn h;
	if (!text)
		return h;
	json cfg = json::parse(*text, nullptr, false);
	if (cfg.is_discarded() || !cfg.is_object())
		return import_error("config.json", "is not a JSON object");
	if (member(cfg, "hash_fields")) {
		auto f = hash_fields(cfg, "hash_fields");
		if (!f.ok())
			return f.error();
		h.fields = *f;
	}
	if (member(cfg, "alt_hash_fields")) {
		auto f = hash_fields(cfg, "alt_hash_fields");
		if (!f.ok())
			return f.error();
		h.alt = *f;
		h.has_alt = true;
	}
	return h;
}

// The table's "name" if it has one (it must be a Tandem service name), else table<N>.
Result<std::string> table_name(const json &table, const std::string &where, size_t t)
{
	std::string numbered = "table" + std::to_string(t);
	const json *v = member(table, "name");
	if (v == nullptr)
		return numbered;
	if (!v->is_string())
		return import_error(where + ".name", "must be a string");
	const std::string &name = v->get_ref<const std::string &>();
	if (!valid_service_name(name))
		return import_error(where + ".name",
				    json_quoted(name) + " is not a Tandem service name (" + service_name_rule +
					    "); rename the table in the JSON, or remove \"name\" to import it as " +
					    numbered);
	return name;
}

Result<void> bind_entry(YAML::Emitter &out, const json &b, const std::string &where)
{
	const std::string *ip = string_member(b, "ip");
	if (ip == nullptr)
		return import_error(where + ".ip", "must be a string");
	// Host bits are kept, as GLB's build-config keeps them; the loader matches the network.
	if (!WrittenPrefix::parse(*ip))
		return import_error(where + ".ip", json_quoted(*ip) + " is not an address or prefix");
	const std::string *proto = string_member(b, "proto");
	if (proto == nullptr || (*proto != "tcp" && *proto != "udp"))
		return import_error(where + ".proto", "must be \"tcp\" or \"udp\"");
	int64_t first, last;
	if (const json *port = member(b, "port")) {
		auto p = integer(port, any_integer_lo, any_integer_hi);
		if (!p)
			return import_error(where + ".port", "must be an integer");
		first = last = *p;
	} else {
		auto s = integer(member(b, "port_start"), any_integer_lo, any_integer_hi);
		auto e = integer(member(b, "port_end"), any_integer_lo, any_integer_hi);
		if (!s || !e)
			return import_error(where, "needs \"port\", or \"port_start\" and \"port_end\"");
		first = *s;
		last = *e;
	}
	if (first < 1 || last > 65535 || first > last)
		return import_error(where, "port range " + std::to_string(first) + "-" +
						   std::to_string(last) + " is not within 1..65535");
	out << YAML::Flow << YAML::BeginMap;
	out << YAML::Key << "address" << YAML::Value << YAML::DoubleQuoted << *ip;
	out << YAML::Key << "protocol" << YAML::Value << *proto;
	out << YAML::Key << "ports" << YAML::Value << YAML::Flow << YAML::BeginSeq;
	if (first == last)
		out << first;
	else
		out << YAML::DoubleQuoted << std::to_string(first) + "-" + std::to_string(last);
	out << YAML::EndSeq << YAML::EndMap;
	return {};
}

Result<void> backend_entry(YAML::Emitter &out, const json &b, const std::string &where)
{
	const std::string *ip = string_member(b, "ip");
	if (ip == nullptr)
		return import_error(where + ".ip", "must be a string");
	if (!IpAddress::parse(*ip))
		return import_error(where + ".ip", json_quoted(*ip) + " is not an IP address");
	const std::string *state = string_member(b, "state");
	if (state == nullptr)
		return import_error(where + ".state", "must be a string");
	if (*state != "active" && *state != "filling" && *state != "draining" && *state != "inactive")
		return import_error(where + ".state", json_quoted(*state) + " is not a GLB backend state");
	const json *healthy = member(b, "healthy");
	if (healthy && !healthy->is_boolean())
		return import_error(where + ".healthy", "must be true or false");
	out << YAML::Flow << YAML::BeginMap;
	out << YAML::Key << "address" << YAML::Value << YAML::DoubleQuoted << *ip;
	out << YAML::Key << "state" << YAML::Value << *state;
	// With glb-healthcheck's "healthchecks" the checks decide (a `healthy` given anyway is
	// kept as the operator's override only when false). Without: glb-director reads a
	// missing `healthy` with json_boolean_value(), false, so the backend is down.
	bool up = healthy && healthy->get<bool>();
	if (!member(b, "healthchecks"))
		out << YAML::Key << "healthy" << YAML::Value << up;
	else if (healthy && !up)
		out << YAML::Key << "healthy" << YAML::Value << false;
	out << YAML::EndMap;
	return {};
}

// glb-healthcheck's per-backend {"http": PORT, "http_uri": PATH, "gue": PORT} as Tandem's
// per-service health_check list (http first, as glb-healthcheck runs them). Every backend
// of a table must carry the same checks, since Tandem checks a service's backends alike.
Result<void> health_checks(YAML::Emitter &out, const json &backends, const std::string &where)
{
	const json *first = nullptr;
	size_t with = 0, i = 0;
	for (const json &b : backends) {
		std::string w = item(where + ".backends", i++) + ".healthchecks";
		const json *h = member(b, "healthchecks");
		if (h == nullptr)
			continue;
		with++;
		if (!h->is_object())
			return import_error(w, "must be an object");
		for (const auto &[k, v] : h->items()) {
			if (k == "fou")
				return import_error(w + ".fou", "GLB's legacy FOU (GRE) check is not supported; use \"gue\"");
			if (k == "http_uri") {
				const std::string *uri = v.is_string() ? v.get_ptr<const std::string *>() : nullptr;
				if (!uri || uri->empty() || uri->front() != '/' ||
				    uri->find_first_of(" \t\r\n") != std::string::npos)
					return import_error(w + ".http_uri", "must be a path starting with / and without spaces");
			} else if (k == "http" || k == "gue") {
				if (!integer(&v, 1, 65535))
					return import_error(w + "." + k, "must be a port, 1..65535");
			} else {
				return import_error(dot(w, k), "is not a glb-healthcheck check (http, http_uri, gue)");
			}
		}
		if (first && *h != *first)
			return import_error(w, "differs from the first backend's; Tandem runs one set of checks for all backends of a service");
		first = h;
	}
	if (with == 0)
		return {};
	if (with != backends.size())
		return import_error(where + ".backends", "some backends have \"healthchecks\" and some do not; Tandem runs one set of checks for all backends of a service");
	const json *http = member(*first, "http"), *gue = member(*first, "gue");
	if (!http && !gue)
		return {};
	out << YAML::Key << "health_check" << YAML::Value << YAML::Flow << YAML::BeginSeq;
	if (http) {
		const std::string *uri = string_member(*first, "http_uri");
		out << YAML::Flow << YAML::BeginMap << YAML::Key << "type" << YAML::Value << "http"
		    << YAML::Key << "port" << YAML::Value << *integer(http, 1, 65535) << YAML::Key
		    << "path" << YAML::Value << YAML::DoubleQuoted << (uri ? *uri : std::string("/"))
		    << YAML::EndMap;
	}
	if (gue)
		out << YAML::Flow << YAML::BeginMap << YAML::Key << "type" << YAML::Value << "gue"
		    << YAML::Key << "port" << YAML::Value << *integer(gue, 1, 65535) << YAML::EndMap;
	out << YAML::EndSeq;
	return {};
}

void field_list(YAML::Emitter &out, const char *key, const std::vector<std::string> &fields)
{
	out << YAML::Key << key << YAML::Value << YAML::Flow << fields;
}

Result<void> table_entry(YAML::Emitter &out, const json &t, const std::string &where,
		   const std::string &name, const HashFieldsIn &hash)
{
	for (const char *k : {"hash_key", "seed"}) {
		const std::string *v = string_member(t, k);
		if (!v || !parse_key(*v))
			return import_error(where + "." + k, "must be 32 hex digits");
	}
	const json *binds = member(t, "binds"), *backends = member(t, "backends");
	if (!binds || !binds->is_array())
		return import_error(where + ".binds", "must be a list");
	if (!backends || !backends->is_array())
		return import_error(where + ".backends", "must be a list");
	if (binds->size() > glb_max_binds)
		return import_error(where + ".binds", std::to_string(binds->size()) + " binds, more than GLB's 256");
	if (backends->size() > glb_max_backends)
		return import_error(where + ".backends", std::to_string(backends->size()) + " backends, more than GLB's 256");

	out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << name;
	out << YAML::Key << "binds" << YAML::Value << YAML::BeginSeq;
	for (size_t i = 0; i < binds->size(); i++)
		if (auto r = bind_entry(out, (*binds)[i], item(where + ".binds", i)); !r.ok())
			return r.error();
	out << YAML::EndSeq;
	out << YAML::Key << "hash_key" << YAML::Value << *string_member(t, "hash_key");
	out << YAML::Key << "seed" << YAML::Value << *string_member(t, "seed");
	field_list(out, "hash_fields", hash.fields);
	if (hash.has_alt)
		field_list(out, "alt_hash_fields", hash.alt);
	out << YAML::Key << "hops_per_row" << YAML::Value << 2;
	if (auto r = health_checks(out, *backends, where); !r.ok())
		return r.error();
	out << YAML::Key << "backends" << YAML::Value << YAML::BeginSeq;
	for (size_t i = 0; i < backends->size(); i++)
		if (auto r = backend_entry(out, (*backends)[i], item(where + ".backends", i)); !r.ok())
			return r.error();
	out << YAML::EndSeq << YAML::EndMap;
	return {};
}

}  // namespace

Result<std::string> glb_import(std::string_view table_json,
			       std::optional<std::string_view> director_config_json)
{
	json root = json::parse(table_json, nullptr, false);
	if (root.is_discarded())
		return import_error("file", "is not valid JSON");
	const json *tables = member(root, "tables");
	if (!tables || !tables->is_array())
		return import_error("file", "must be an object with a \"tables\" list");
	auto hash = director_config(director_config_json);
	if (!hash.ok())
		return hash.error();

	YAML::Emitter out;
	out << YAML::BeginMap << YAML::Key << "services" << YAML::Value << YAML::BeginSeq;
	std::map<std::string, size_t> names;  // name -> the table that has it
	for (size_t t = 0; t < tables->size(); t++) {
		std::string where = item("tables", t);
		const json &tb = (*tables)[t];
		if (!tb.is_object())
			return import_error(where, "must be an object");
		auto name = table_name(tb, where, t);
		if (!name.ok())
			return name.error();
		if (auto [at, fresh] = names.emplace(*name, t); !fresh)
			return member(tb, "name")
				       ? import_error(where + ".name", json_quoted(*name) + " is also the name of " +
								       item("tables", at->second) +
								       "; give each table its own name")
				       : import_error(where, "would be imported as " + json_quoted(*name) +
								     ", the name of " + item("tables", at->second) +
								     "; give it a \"name\" of its own");
		if (auto r = table_entry(out, tb, where, *name, *hash); !r.ok())
			return r.error();
	}
	out << YAML::EndSeq << YAML::EndMap;
	if (!out.good())
		return import_error("file", std::string("cannot be written as YAML: ") + out.GetLastError());
	return std::string("# Imported from GLB's forwarding table: each table becomes the service of its\n"
			   "# \"name\" (table0, table1, ... by position where it has none). GLB semantics are\n"
			   "# kept: a backend without \"healthy\" is down unless its table has glb-healthcheck's\n"
			   "# \"healthchecks\" (then the checks decide), binds keep their host bits as GLB does\n"
			   "# (only the network is matched), and every row holds two hops (hops_per_row: 2).\n") +
	       out.c_str() + "\n";
}

}  // namespace tandem
