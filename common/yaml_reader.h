// SPDX-License-Identifier: Apache-2.0
// Strict reading of YAML nodes: every value is checked, every problem is collected as
// "path:line:column: field: message" with what is allowed. Internal to the config loader.
// The first max_config_errors problems are kept; the rest are only counted, so a file
// that repeats one mistake a million times costs a counter, not a million strings.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config.h"

namespace tandem {

class YamlReader {
public:
	explicit YamlReader(std::string path) : path_(std::move(path)) {}

	void error(const YAML::Mark &mark, std::string_view field, std::string_view message);
	void error(const SourceMark &mark, std::string_view field, std::string_view message);
	bool failed() const { return !problems_.empty(); }
	// The kept problems, one a line, then "... and N more errors" if some were dropped.
	std::string report() const;

	static SourceMark mark_of(const YAML::Node &n);

	// A mapping whose keys are all in `allowed`, each at most once. False if not a map.
	bool expect_map(const YAML::Node &n, std::string_view field,
			std::initializer_list<std::string_view> allowed);
	bool expect_sequence(const YAML::Node &n, std::string_view field);
	// A required key: reports it missing (at the map's position) and returns a null node.
	YAML::Node require(const YAML::Node &map, std::string_view field, const char *key);

	std::optional<std::string> text(const YAML::Node &n, std::string_view field);
	std::optional<uint64_t> integer(const YAML::Node &n, std::string_view field, uint64_t min,
					uint64_t max);
	std::optional<bool> boolean(const YAML::Node &n, std::string_view field);
	// One of `choices`; returns its index.
	std::optional<size_t> choice(const YAML::Node &n, std::string_view field,
				     std::initializer_list<std::string_view> choices);

private:
	std::string path_;
	std::vector<std::string> problems_;  // at most max_config_errors
	size_t dropped_ = 0;                 // problems past the cap, counted only
};

}  // namespace tandem
