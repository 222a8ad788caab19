// SPDX-License-Identifier: Apache-2.0
#include "yaml_reader.h"

#include <charconv>
#include <set>

namespace tandem {

SourceMark YamlReader::mark_of(const YAML::Node &n)
{
	if (!n.IsDefined())
		return {};
	YAML::Mark m = n.Mark();
	if (m.is_null())
		return {};
	return SourceMark{m.line + 1, m.column + 1};
}

void YamlReader::error(const SourceMark &mark, std::string_view field, std::string_view message)
{
	if (problems_.size() >= max_config_errors) {
		dropped_++;
		return;
	}
	std::string line = path_ + ":" + std::to_string(mark.line) + ":" +
			   std::to_string(mark.column) + ": ";
	if (!field.empty())
		line += std::string(field) + ": ";
	line += message;
	problems_.push_back(std::move(line));
}

void YamlReader::error(const YAML::Mark &mark, std::string_view field, std::string_view message)
{
	error(mark.is_null() ? SourceMark{} : SourceMark{mark.line + 1, mark.column + 1}, field,
	      message);
}

std::string YamlReader::report() const
{
	std::string out;
	for (const auto &p : problems_) {
		if (!out.empty())
			out += '\n';
		out += p;
	}
	if (dropped_ > 0)
		out += "\n" + path_ + ": ... and " + std::to_string(dropped_) + (dropped_ == 1 ? " more error" : " more errors");
	return out;
}

static std::string join(std::initializer_list<std::string_view> items)
{
	std::string s;
	for (auto i : items) {
		if (!s.empty())
			s += ", ";
		s += i;
	}
	return s;
}

bool YamlReader::expect_map(const YAML::Node &n, std::string_view field,
			    std::initializer_list<std::string_view> allowed)
{
	if (!n.IsMap()) {
		error(mark_of(n), field, "must be a mapping with keys: " + join(allowed));
		return false;
	}
	std::set<std::string> seen;
	for (const auto &kv : n) {
		const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string();
		std::string where = field.empty() ? key : std::string(field) + "." + key;
		bool known = false;
		for (auto a : allowed)
			known = known || a == key;
		if (!known)
			error(mark_of(kv.first), where,
			      "unknown key; allowed here: " + join(allowed));
		else if (!seen.insert(key).second)
			error(mark_of(kv.first), where, "given twice; keep one");
	}
	return true;
}

bool YamlReader::expect_sequence(const YAML::Node &n, std::string_view field)
{
	if (n.IsSequence())
		return true;
	error(mark_of(n), field, "must be a list");
	return false;
}

YAML::Node YamlReader::require(const YAML::Node &map, std::string_view field, const char *key)
{
	YAML::Node v = map[key];
	if (!v.IsDefined() || v.IsNull()) {
		error(mark_of(map), std::string(field).empty() ? key : std::string(field) + "." + key,
		      "is required");
		return YAML::Node(YAML::NodeType::Undefined);
	}
	return v;
}

std::optional<std::string> YamlReader::text(const YAML::Node &n, std::string_view field)
{
	if (!n.IsScalar()) {
		error(mark_of(n), field, "must be a single value, not a list or mapping");
		return std::nullopt;
	}
	return n.Scalar();
}

std::optional<uint64_t> YamlReader::integer(const YAML::Node &n, std::string_view field,
					    uint64_t min, uint64_t max)
{
	auto s = text(n, field);
	if (!s)
		return std::nullopt;
	uint64_t v = 0;
	auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
	std::string range = std::to_string(min) + ".." + std::to_string(max);
	if (s->empty() || ec != std::errc() || end != s->data() + s->size()) {
		error(mark_of(n), field, "\"" + *s + "\" is not a whole number; allowed: " + range);
		return std::nullopt;
	}
	if (v < min || v > max) {
		error(mark_of(n), field, std::to_string(v) + " is out of range; allowed: " + range);
		return std::nullopt;
	}
	return v;
}

std::optional<bool> YamlReader::boolean(const YAML::Node &n, std::string_view field)
{
	auto s = text(n, field);
	if (!s)
		return std::nullopt;
	if (*s == "true")
		return true;
	if (*s == "false")
		return false;
	error(mark_of(n), field, "\"" + *s + "\" is not a boolean; allowed: true, false");
	return std::nullopt;
}

std::optional<size_t> YamlReader::choice(const YAML::Node &n, std::string_view field,
					 std::initializer_list<std::string_view> choices)
{
	auto s = text(n, field);
	if (!s)
		return std::nullopt;
	size_t i = 0;
	for (auto c : choices) {
		if (c == *s)
			return i;
		i++;
	}
	error(mark_of(n), field, "\"" + *s + "\" is not allowed; allowed: " + join(choices));
	return std::nullopt;
}

}  // namespace tandem
