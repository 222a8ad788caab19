// SPDX-License-Identifier: Apache-2.0
// One control connection's request, as a state machine with no socket in it: bytes in, one
// line out. The deadline runs from accept for the whole line, never per read, so a client
// that sends a byte a second holds its connection no longer than a silent one; the line is
// capped, so a client that never sends a newline cannot grow the daemon.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace tandem::director {

class RequestReader {
public:
	using Clock = std::chrono::steady_clock;
	enum class State {
		reading,    // no newline yet, deadline not passed
		complete,   // request() holds the line, without its "\n" or "\r\n"
		too_long,   // max_bytes went by without a newline
		timed_out,  // the deadline passed before the line was complete
		empty,      // the client closed without sending anything
	};

	RequestReader(Clock::time_point accepted, Clock::duration limit, size_t max_bytes)
		: deadline_(accepted + limit), max_bytes_(max_bytes)
	{
	}

	// Bytes read from the client. Anything after the first newline is ignored (one
	// request per connection). Only changes the state while reading.
	State feed(std::string_view bytes);
	// The client closed or shut down its side: what it sent so far is the request
	// (a last line without a newline still counts), or nothing was sent.
	State end_of_stream();
	// Called with the time now: reading turns timed_out once the deadline has passed.
	State expire(Clock::time_point now);

	State state() const { return state_; }
	Clock::time_point deadline() const { return deadline_; }
	const std::string &request() const { return line_; }

private:
	void finish();

	Clock::time_point deadline_;
	size_t max_bytes_;
	State state_ = State::reading;
	std::string line_;
};

const char *to_string(RequestReader::State s);

}  // namespace tandem::director
