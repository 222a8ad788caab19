// SPDX-License-Identifier: Apache-2.0
#include "control_request.h"

namespace tandem::director {

RequestReader::State RequestReader::feed(std::string_view bytes)
{
	if (state_ != State::reading)
		return state_;
	const size_t nl = bytes.find('\n');
	const std::string_view take = bytes.substr(0, nl);
	if (line_.size() + take.size() > max_bytes_) {
		line_.clear();
		state_ = State::too_long;
		return state_;
	}
	line_.append(take);
	if (nl != std::string_view::npos)
		finish();
	return state_;
}

RequestReader::State RequestReader::end_of_stream()
{
	if (state_ != State::reading)
		return state_;
	if (line_.empty())
		state_ = State::empty;
	else
		finish();
	return state_;
}

RequestReader::State RequestReader::expire(Clock::time_point now)
{
	if (state_ == State::reading && now >= deadline_) {
		line_.clear();
		state_ = State::timed_out;
	}
	return state_;
}

void RequestReader::finish()
{
	if (!line_.empty() && line_.back() == '\r')
		line_.pop_back();
	state_ = State::complete;
}

const char *to_string(RequestReader::State s)
{
	switch (s) {
	case RequestReader::State::reading: return "reading";
	case RequestReader::State::complete: return "complete";
	case RequestReader::State::too_long: return "too_long";
	case RequestReader::State::timed_out: return "timed_out";
	case RequestReader::State::empty: return "empty";
	}
	return "unknown";
}

}  // namespace tandem::director
