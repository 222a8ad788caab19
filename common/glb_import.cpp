// SPDX-License-Identifier: Apache-2.0
#include <nlohmann/json.hpp>

#include "glb_format.h"

namespace tandem {
namespace {

using nlohmann::json;

Error import_error(const std::string &where, const std::string &what)
{
	return make_error("GLB forwarding table: " + where + ": " + what);
}

std::string quote(const std::string &s)
{
	return "\"" + s + "\"";
}

Result<std::string> hash_fields_yaml(const json &cfg, const char *key)
{
	const json &f = cfg[key];
	if (!f.is_object())
		return import_error(std::string("config.json ") + key, "must be an object of booleans");
	std::string list;
	for (const char *name : {"src_addr", "dst_addr", "src_port", "dst_port"}) {
		if (f.contains(name) && !f[name].is_boolean())
			return import_error(std::string("config.json ") + key + "." + name,
					    "must be true or false");
		if (f.value(name, false))
			list += std::string(list.empty() ? "" : ", ") + name;
	}
	for (const auto &[k, v] : f.items())
		if (k != "src_addr" && k != "dst_addr" && k != "src_port" && k != "dst_port")
			return import_error(std::string("config.json ") + key + "." + k,
					    "is not a hash field");
	return "[" + list + "]";
}

Result<std::string> bind_yaml(const json &b, const std::string &where)
{
	if (!b.is_object() || !b["ip"].is_string())
		return import_error(where + ".ip", "must be a string");
	if (!b["proto"].is_string() || (b["proto"] != "tcp" && b["proto"] != "udp"))
		return import_error(where + ".proto", "must be \"tcp\" or \"udp\"");
	long first, last;
	if (b.contains("port")) {
		if (!b["port"].is_number_integer())
			return import_error(where + ".port", "must be an integer");
		first = last = b["port"].get<long>();
	} else {
		if (!b["port_start"].is_number_integer() || !b["port_end"].is_number_integer())
			return import_error(where, "needs \"port\", or \"port_start\" and \"port_end\"");
		first = b["port_start"].get<long>();
		last = b["port_end"].get<long>();
	}
	if (first < 1 || last > 65535 || first > last)
		return import_error(where, "port range " + std::to_string(first) + "-" +
						   std::to_string(last) + " is not within 1..65535");
	std::string ports = first == last ? std::to_string(first)
					  : quote(std::to_string(first) + "-" + std::to_string(last));
	return "      - {address: " + quote(b["ip"].get<std::string>()) +
	       ", protocol: " + b["proto"].get<std::string>() + ", ports: [" + ports + "]}\n";
}

Result<std::string> backend_yaml(const json &b, const std::string &where)
{
	if (!b.is_object() || !b["ip"].is_string())
		return import_error(where + ".ip", "must be a string");
	if (!b["state"].is_string())
		return import_error(where + ".state", "must be a string");
	std::string state = b["state"];
	if (state != "active" && state != "filling" && state != "draining" && state != "inactive")
		return import_error(where + ".state", quote(state) + " is not a GLB backend state");
	if (b.contains("healthy") && !b["healthy"].is_boolean())
		return import_error(where + ".healthy", "must be true or false");
	std::string line = "      - {address: " + quote(b["ip"].get<std::string>()) + ", state: " + state;
	// With glb-healthcheck's "healthchecks" the checks decide (a `healthy` given anyway is
	// kept as the operator's override only when false). Without: glb-director reads a
	// missing `healthy` with json_boolean_value(), false, so the backend is down.
	if (!b.contains("healthchecks"))
		line += std::string(", healthy: ") + (b.value("healthy", false) ? "true" : "false");
	else if (!b.value("healthy", true))
		line += ", healthy: false";
	return line + "}\n";
}

// glb-healthcheck's per-backend {"http": PORT, "http_uri": PATH, "gue": PORT} as Tandem's
// per-service health_check list (http first, as glb-healthcheck runs them). Every backend
// of a table must carry the same checks, since Tandem checks a service's backends alike.
Result<std::string> health_checks_yaml(const json &backends, const std::string &where)
{
	const json *first = nullptr;
	size_t with = 0, i = 0;
	for (const json &b : backends) {
		std::string w = where + ".backends[" + std::to_string(i++) + "].healthchecks";
		if (!b.is_object() || !b.contains("healthchecks"))
			continue;
		with++;
		const json &h = b["healthchecks"];
		if (!h.is_object())
			return import_error(w, "must be an object");
		for (const auto &[k, v] : h.items()) {
			if (k == "fou")
				return import_error(w + ".fou", "GLB's legacy FOU (GRE) check is not supported; use \"gue\"");
			if (k == "http_uri") {
				if (!v.is_string() || v.get<std::string>().empty() || v.get<std::string>()[0] != '/')
					return import_error(w + ".http_uri", "must be a path starting with /");
			} else if (k == "http" || k == "gue") {
				if (!v.is_number_integer() || v.get<long>() < 1 || v.get<long>() > 65535)
					return import_error(w + "." + k, "must be a port, 1..65535");
			} else {
				return import_error(w + "." + k, "is not a glb-healthcheck check (http, http_uri, gue)");
			}
		}
		if (first && h != *first)
			return import_error(w, "differs from the first backend's; Tandem runs one set of checks for all backends of a service");
		first = &h;
	}
	if (with == 0)
		return std::string();
	if (with != backends.size())
		return import_error(where + ".backends", "some backends have \"healthchecks\" and some do not; Tandem runs one set of checks for all backends of a service");
	std::vector<std::string> checks;
	if (first->contains("http"))
		checks.push_back("{type: http, port: " + std::to_string((*first)["http"].get<long>()) +
				 ", path: " + quote(first->value("http_uri", std::string("/"))) + "}");
	if (first->contains("gue"))
		checks.push_back("{type: gue, port: " + std::to_string((*first)["gue"].get<long>()) + "}");
	if (checks.empty())
		return std::string();
	std::string y = "    health_check: [";
	for (size_t c = 0; c < checks.size(); c++)
		y += (c ? ", " : "") + checks[c];
	return y + "]\n";
}

}  // namespace

Result<std::string> glb_import(std::string_view table_json,
			       std::optional<std::string_view> director_config_json)
{
	json root = json::parse(table_json, nullptr, false);
	if (root.is_discarded())
		return import_error("file", "is not valid JSON");
	if (!root.is_object() || !root["tables"].is_array())
		return import_error("file", "must be an object with a \"tables\" list");

	std::string fields = "[src_addr]", alt;
	if (director_config_json) {
		json cfg = json::parse(*director_config_json, nullptr, false);
		if (cfg.is_discarded() || !cfg.is_object())
			return import_error("config.json", "is not a JSON object");
		if (cfg.contains("hash_fields")) {
			auto f = hash_fields_yaml(cfg, "hash_fields");
			if (!f.ok())
				return f.error();
			fields = *f;
		}
		if (cfg.contains("alt_hash_fields")) {
			auto f = hash_fields_yaml(cfg, "alt_hash_fields");
			if (!f.ok())
				return f.error();
			alt = *f;
		}
	}

	std::string y = "# Imported from GLB's forwarding table: tables become services table0, table1, ...\n"
			"# GLB semantics are kept: a backend without \"healthy\" is down unless its table has\n"
			"# glb-healthcheck's \"healthchecks\" (then the checks decide), and every row holds\n"
			"# two hops (hops_per_row: 2).\n"
			"services:\n";
	size_t t = 0;
	for (const json &table : root["tables"]) {
		std::string where = "tables[" + std::to_string(t) + "]";
		if (!table.is_object())
			return import_error(where, "must be an object");
		for (const char *k : {"hash_key", "seed"})
			if (!table[k].is_string() || !parse_key(table[k].get<std::string>()))
				return import_error(where + "." + k, "must be 32 hex digits");
		if (!table["binds"].is_array())
			return import_error(where + ".binds", "must be a list");
		if (!table["backends"].is_array())
			return import_error(where + ".backends", "must be a list");
		y += "  - name: table" + std::to_string(t) + "\n    binds:\n";
		size_t i = 0;
		for (const json &b : table["binds"]) {
			auto line = bind_yaml(b, where + ".binds[" + std::to_string(i++) + "]");
			if (!line.ok())
				return line.error();
			y += *line;
		}
		y += "    hash_key: " + table["hash_key"].get<std::string>() + "\n";
		y += "    seed: " + table["seed"].get<std::string>() + "\n";
		y += "    hash_fields: " + fields + "\n";
		if (!alt.empty())
			y += "    alt_hash_fields: " + alt + "\n";
		auto checks = health_checks_yaml(table["backends"], where);
		if (!checks.ok())
			return checks.error();
		y += "    hops_per_row: 2\n" + *checks + "    backends:\n";
		i = 0;
		for (const json &b : table["backends"]) {
			auto line = backend_yaml(b, where + ".backends[" + std::to_string(i++) + "]");
			if (!line.ok())
				return line.error();
			y += *line;
		}
		if (table["backends"].empty())
			y += "      []\n";
		t++;
	}
	if (t == 0)
		y += "  []\n";
	return y;
}

}  // namespace tandem
