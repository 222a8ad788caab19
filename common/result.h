// SPDX-License-Identifier: Apache-2.0
// Errors as values: the core never throws; only main() turns an Error into an exit code.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace tandem {

struct Error {
	std::string message;  // says what failed, where (file:line:col, ifname, ...) and the fix
	int sys_errno = 0;    // errno when a system call failed, else 0
};

template <class T>
class [[nodiscard]] Result {
public:
	Result(T value) : v_(std::move(value)) {}
	Result(Error error) : v_(std::move(error)) {}

	bool ok() const { return v_.index() == 0; }
	explicit operator bool() const { return ok(); }

	T &value() & { return std::get<0>(v_); }
	const T &value() const & { return std::get<0>(v_); }
	T &&value() && { return std::get<0>(std::move(v_)); }
	T *operator->() { return &value(); }
	const T *operator->() const { return &value(); }
	T &operator*() & { return value(); }
	const T &operator*() const & { return value(); }

	const Error &error() const { return std::get<1>(v_); }

private:
	std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
	Result() = default;
	Result(Error error) : error_(std::move(error)), ok_(false) {}

	bool ok() const { return ok_; }
	explicit operator bool() const { return ok_; }
	const Error &error() const { return error_; }

private:
	Error error_;
	bool ok_ = true;
};

inline Error make_error(std::string message, int sys_errno = 0)
{
	return Error{std::move(message), sys_errno};
}

}  // namespace tandem
