// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
// The veth benchmark's references on the director's side of the pair (veth_rate.sh), one
// object each (built with -DBENCH_HAIRPIN=0 or 1):
//   bench_sink.bpf.o: drops every frame (the generator's ceiling, nothing else in the way);
//   bench_hairpin.bpf.o: swaps the MACs and sends the frame back with XDP_TX, the
//   in-kernel path that XDP data planes such as GLB's and Katran's stand on.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int bench(struct xdp_md *ctx)
{
#if BENCH_HAIRPIN
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	unsigned char tmp[ETH_ALEN];

	if ((void *)(eth + 1) > end)
		return XDP_DROP;
	__builtin_memcpy(tmp, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, tmp, ETH_ALEN);
	return XDP_TX;
#else
	return XDP_DROP;
#endif
}

char _license[] SEC("license") = "Dual BSD/GPL";
