// SPDX-License-Identifier: Apache-2.0
// A worker's answer to its too_big frames (common/icmp_too_big.h): decides whether one
// may be answered, spends a token of the queue's bucket, and builds the ICMP error in the
// frame, which the worker then sends like a forwarded frame. Counted per outcome. The
// clock is CLOCK_MONOTONIC_COARSE, read through the vDSO (no system call), and only for a
// frame that is answerable.
#pragma once

#include <time.h>

#include <cstdint>

#include "forwarder.h"
#include "icmp_too_big.h"
#include "metrics.h"
#include "token_bucket.h"

namespace tandem::director {

class IcmpResponder {
public:
	IcmpResponder(uint32_t rate, uint32_t burst) noexcept : bucket_(rate, burst) {}

	// Builds the reply to a too_big result in place; returns true and sets r.offset and
	// r.length to the frame to send, or false when the frame is only to be dropped.
	bool answer(uint8_t *buf, uint32_t capacity, uint32_t frame_offset, uint32_t frame_len,
		    ForwardResult &r, QueueCounters &c) noexcept
	{
		switch (classify_too_big(buf + frame_offset, frame_len)) {
		case TooBigAnswer::no_df:
			c.icmp_too_big_no_df.inc();
			return false;
		case TooBigAnswer::not_answerable:
			c.icmp_too_big_unanswerable.inc();
			return false;
		case TooBigAnswer::reply:
			break;
		}
		timespec ts;
		clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
		if (!bucket_.take(uint64_t(ts.tv_sec) * 1'000'000'000ull + uint64_t(ts.tv_nsec))) {
			c.icmp_too_big_rate_limited.inc();
			return false;
		}
		TooBigReply reply = build_too_big_reply(buf, capacity, frame_offset, frame_len, r.fits);
		if (reply.answer != TooBigAnswer::reply) {
			c.icmp_too_big_unanswerable.inc();
			return false;
		}
		c.icmp_too_big_sent.inc();
		r.offset = reply.offset;
		r.length = reply.length;
		return true;
	}

private:
	TokenBucket bucket_;
};

}  // namespace tandem::director
