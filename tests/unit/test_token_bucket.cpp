// SPDX-License-Identifier: Apache-2.0
// The per-queue token bucket that limits the director's too-big ICMP errors.
#include <doctest/doctest.h>

#include "token_bucket.h"

using tandem::director::TokenBucket;

TEST_CASE("a full bucket gives its burst, then one token per 1/rate seconds")
{
	TokenBucket b(1000, 50);
	uint64_t t = 5'000'000'000;
	int got = 0;
	for (int i = 0; i < 10000; i++)
		got += b.take(t);
	CHECK(got == 50);
	CHECK_FALSE(b.take(t + 999'999));
	CHECK(b.take(t + 1'000'000));
	// 100 ms later: 100 tokens earned, but the bucket holds 50.
	got = 0;
	for (int i = 0; i < 1000; i++)
		got += b.take(t + 101'000'000);
	CHECK(got == 50);
}

TEST_CASE("over a second of steady overload the bucket passes burst + rate")
{
	TokenBucket b(100, 10);
	int got = 0;
	for (uint64_t t = 0; t <= 1'000'000'000; t += 100'000)  // 10001 packets in 1 s
		got += b.take(t);
	CHECK(got == 10 + 100);
}

TEST_CASE("rate 0 never gives a token; a clock that goes back earns nothing")
{
	TokenBucket off(0, 50);
	CHECK_FALSE(off.take(1));
	TokenBucket b(1, 1);
	CHECK(b.take(10'000'000'000));
	CHECK_FALSE(b.take(5'000'000'000));
	CHECK_FALSE(b.take(10'500'000'000));
	CHECK(b.take(11'000'000'000));
}
