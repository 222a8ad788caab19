// SPDX-License-Identifier: Apache-2.0
// A token bucket in integer nanoseconds, for one thread (one per queue): `rate` tokens a
// second, at most `burst` saved up, full at start. take() is a few integer operations; the
// caller brings the time, so the bucket itself never reads a clock and tests drive it.
#pragma once

#include <cstdint>

namespace tandem::director {

class TokenBucket {
public:
	// rate 0: take() always refuses.
	TokenBucket(uint32_t rate, uint32_t burst) noexcept
		: cost_(rate == 0 ? 0 : 1'000'000'000ull / rate),
		  cap_(cost_ * (burst == 0 ? 1 : burst)), credit_(cap_)
	{
	}

	bool take(uint64_t now_ns) noexcept
	{
		if (cost_ == 0)
			return false;
		if (now_ns > last_) {  // a clock that steps back earns nothing, then or later
			const uint64_t elapsed = now_ns - last_;
			credit_ = elapsed >= cap_ - credit_ ? cap_ : credit_ + elapsed;
			last_ = now_ns;
		}
		if (credit_ < cost_)
			return false;
		credit_ -= cost_;
		return true;
	}

private:
	uint64_t cost_;  // nanoseconds of credit one token costs
	uint64_t cap_;
	uint64_t credit_;
	uint64_t last_ = 0;
};

}  // namespace tandem::director
