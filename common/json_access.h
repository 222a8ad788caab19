// SPDX-License-Identifier: Apache-2.0
// Reading JSON that anyone may have written (GLB's tables and config): every access checks
// that the key is there and has the type before it is read. nlohmann's operator[] on a
// const object asserts on a missing key and get<T>() throws on a wrong type; these do not.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace tandem::json_access {

// The member `key` of `o`, or nullptr when `o` is not an object or has no such member.
inline const nlohmann::json *member(const nlohmann::json &o, const char *key)
{
	if (!o.is_object())
		return nullptr;
	auto it = o.find(key);
	return it == o.end() ? nullptr : &*it;
}

inline const std::string *string_member(const nlohmann::json &o, const char *key)
{
	const nlohmann::json *v = member(o, key);
	return v && v->is_string() ? v->get_ptr<const std::string *>() : nullptr;
}

// An integer within lo..hi (a float, a string or an integer out of range: nullopt).
inline std::optional<int64_t> integer(const nlohmann::json *v, int64_t lo, int64_t hi)
{
	if (v == nullptr || !v->is_number_integer())
		return std::nullopt;
	if (v->is_number_unsigned()) {
		uint64_t u = v->get<uint64_t>();
		if (u > static_cast<uint64_t>(hi))
			return std::nullopt;
		return static_cast<int64_t>(u);
	}
	int64_t i = v->get<int64_t>();
	if (i < lo || i > hi)
		return std::nullopt;
	return i;
}

// A string for a message: JSON-quoted, so that quotes, newlines and control characters
// show as escapes and cannot forge lines of their own.
inline std::string json_quoted(const std::string &s)
{
	return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace tandem::json_access
