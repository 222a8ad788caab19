// SPDX-License-Identifier: Apache-2.0
/*
 * gue-flood: send COUNT malformed (and some valid-looking) GUE payloads
 * as UDP datagrams to DST:PORT as fast as sendmmsg allows, bounded by a
 * wall-clock limit. The payloads are pre-built from a seeded PRNG: random
 * lengths (0..300 bytes), random GUE version/C/hlen/proto/flags, random
 * hop counts, next-hop indexes and hop addresses (some of them real hosts
 * of the lab, so the forwarding path runs too), random inner bytes.
 *
 *   gue-flood DST PORT COUNT SEED SECONDS [HOP...]
 *
 * Prints "sent N packets in S s (P pps)"; exits 0 when all were sent.
 */
#define _GNU_SOURCE  /* sendmmsg */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define N_PAYLOADS 8192
#define MAX_LEN 300	/* build_valid() stays below 8 + 12 + 40 + 20 + 64 */
#define BATCH 64

static uint64_t rng_state;

static uint32_t rnd(void)
{
	/* xorshift64*: reproducible from the seed, good enough for fuzzing */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 2685821657736338717ULL) >> 32);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Well-formed GUE around a random inner TCP packet (random flags, so SYNs,
 * ACKs of unknown flows, RSTs...): the socket lookups and the forwarding
 * path run, towards real lab hosts and unroutable addresses.
 */
static size_t build_valid(uint8_t *p, const uint32_t *hops, int n_hops)
{
	unsigned int hop_count = 1 + rnd() % 3, i, off;
	int v6 = rnd() % 2;
	size_t len;

	p[0] = (uint8_t)(1 + hop_count);
	p[1] = v6 ? 41 : 4;
	p[2] = p[3] = p[4] = p[5] = 0;
	p[6] = (uint8_t)(rnd() % (hop_count + 1));
	p[7] = (uint8_t)hop_count;
	for (i = 0; i < hop_count; i++) {
		uint32_t a = n_hops && rnd() % 4 ? hops[rnd() % n_hops] : rnd();

		memcpy(p + 8 + 4 * i, &a, 4);
	}
	off = 8 + 4 * hop_count;
	len = off + (v6 ? 40 : 20) + 20 + rnd() % 64;
	for (i = off; i < len; i++)
		p[i] = (uint8_t)rnd();
	if (v6) {
		p[off] = 0x60;
		p[off + 4] = 0;
		p[off + 5] = (uint8_t)(len - off - 40);
		p[off + 6] = 6;		/* TCP */
		off += 40;
	} else {
		p[off] = 0x45;
		p[off + 2] = 0;
		p[off + 3] = (uint8_t)(len - off);
		p[off + 6] = rnd() % 4 ? 0x40 : (uint8_t)rnd();	/* frags too */
		p[off + 7] = rnd() % 4 ? 0 : (uint8_t)rnd();
		p[off + 9] = rnd() % 8 ? 6 : (uint8_t)(rnd() % 2 ? 1 : 17);
		off += 20;
	}
	p[off + 12] = 0x50;
	return len;
}

/* One payload: mostly structured GUE with one or more fields broken. */
static size_t build(uint8_t *p, const uint32_t *hops, int n_hops)
{
	size_t len = rnd() % (MAX_LEN + 1);
	unsigned int hop_count, hlen, i;

	if (rnd() % 4 == 0)
		return build_valid(p, hops, n_hops);
	for (i = 0; i < len; i++)
		p[i] = (uint8_t)rnd();
	if (len < 8 || rnd() % 8 == 0)
		return len;  /* pure noise or too short */

	hop_count = rnd() % 4 == 0 ? rnd() % 256 : rnd() % 4;
	hlen = rnd() % 4 == 0 ? rnd() % 32 : (1 + hop_count) & 0x1f;
	p[0] = (uint8_t)((rnd() % 8 == 0 ? rnd() % 8 : 0) << 5 | hlen);
	p[1] = rnd() % 4 == 0 ? (uint8_t)rnd() : (rnd() % 2 ? 4 : 41);
	p[2] = p[3] = rnd() % 8 == 0 ? (uint8_t)rnd() : 0;
	p[4] = p[5] = rnd() % 8 == 0 ? (uint8_t)rnd() : 0;
	p[6] = (uint8_t)(rnd() % (hop_count + 2));
	p[7] = (uint8_t)hop_count;
	for (i = 0; i < hop_count && 8 + 4 * i + 4 <= len; i++) {
		uint32_t a = n_hops && rnd() % 2 ? hops[rnd() % n_hops] : rnd();

		memcpy(p + 8 + 4 * i, &a, 4);
	}
	/* Sometimes a plausible inner header right after the hop list. */
	i = 8 + 4 * hop_count;
	if (i + 20 <= len && rnd() % 2)
		p[i] = p[1] == 41 ? 0x60 : 0x45;
	return len;
}

int main(int argc, char **argv)
{
	static uint8_t payloads[N_PAYLOADS][MAX_LEN];
	static size_t lens[N_PAYLOADS];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in dst = { .sin_family = AF_INET };
	uint32_t hops[16];
	unsigned long count, sent = 0, next = 0;
	double limit, start, elapsed;
	int fd, n_hops = 0, i;

	if (argc < 6) {
		fprintf(stderr, "usage: %s DST PORT COUNT SEED SECONDS [HOP...]\n", argv[0]);
		return 2;
	}
	if (inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1) {
		fprintf(stderr, "gue-flood: bad IPv4 address %s\n", argv[1]);
		return 2;
	}
	dst.sin_port = htons((uint16_t)atoi(argv[2]));
	count = strtoul(argv[3], NULL, 10);
	rng_state = strtoull(argv[4], NULL, 10) | 1;
	limit = atof(argv[5]);
	for (i = 6; i < argc && n_hops < 16; i++)
		if (inet_pton(AF_INET, argv[i], &hops[n_hops]) == 1)
			n_hops++;

	for (i = 0; i < N_PAYLOADS; i++)
		lens[i] = build(payloads[i], hops, n_hops);

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0) {
		perror("gue-flood: socket");
		return 1;
	}
	memset(msgs, 0, sizeof(msgs));
	start = now();
	while (sent < count) {
		int n = count - sent < BATCH ? (int)(count - sent) : BATCH;

		for (i = 0; i < n; i++) {
			size_t k = next++ % N_PAYLOADS;

			iov[i].iov_base = payloads[k];
			iov[i].iov_len = lens[k];
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		n = sendmmsg(fd, msgs, n, 0);
		if (n < 0) {
			/*
			 * ICMP errors about earlier datagrams surface here: port
			 * unreachable (no fou socket), protocol unreachable (fou
			 * decapsulated an inner protocol nobody handles, as when the
			 * module is disabled), host or net unreachable.
			 */
			if (errno == ECONNREFUSED || errno == ENOPROTOOPT ||
			    errno == EHOSTUNREACH || errno == ENETUNREACH ||
			    errno == ENOBUFS || errno == EAGAIN)
				continue;
			perror("gue-flood: sendmmsg");
			return 1;
		}
		sent += n;
		if ((sent & 0xfff) < BATCH && now() - start > limit)
			break;
	}
	elapsed = now() - start;
	printf("sent %lu packets in %.1f s (%.0f pps)\n", sent, elapsed,
	       elapsed > 0 ? sent / elapsed : 0.0);
	close(fd);
	return sent == count ? 0 : 1;
}
