// SPDX-License-Identifier: Apache-2.0
#include "mss_clamp.h"

#include <nftables/libnftables.h>

namespace tandem::proxy {

namespace {

constexpr uint32_t ipv4_tcp_headers = 20 + 20;
constexpr uint32_t ipv6_tcp_headers = 40 + 20;

std::string set_of(const std::vector<IpAddress> &vips, bool v4)
{
	std::string s;
	for (const IpAddress &v : vips)
		if (v.is_v4() == v4)
			s += (s.empty() ? "" : ", ") + v.to_string();
	return s;
}

}  // namespace

void NftCtxFree::operator()(nft_ctx *c) const
{
	nft_ctx_free(c);
}

MssValues mss_for_inner_mtu(uint32_t inner_mtu)
{
	MssValues m;
	m.v4 = static_cast<uint16_t>(inner_mtu > ipv4_tcp_headers ? inner_mtu - ipv4_tcp_headers : 0);
	m.v6 = static_cast<uint16_t>(inner_mtu > ipv6_tcp_headers ? inner_mtu - ipv6_tcp_headers : 0);
	return m;
}

MssValues mss_for_ipv4_mss(uint16_t mss)
{
	return mss_for_inner_mtu(uint32_t{mss} + ipv4_tcp_headers);
}

std::string mss_ruleset(const std::vector<IpAddress> &vips, const MssValues &mss)
{
	// Only SYN-ACKs (the MSS this host advertises), only from a VIP, only lowered.
	const std::string synack = " tcp flags & (syn | ack) == syn | ack tcp option maxseg size > ";
	std::string s = "add table inet " + std::string(mss_table) + "\n" +
			"add chain inet " + mss_table +
			" synack { type filter hook output priority mangle; policy accept; }\n";
	const std::string v4 = set_of(vips, true), v6 = set_of(vips, false);
	if (!v4.empty())
		s += "add rule inet " + std::string(mss_table) + " synack ip saddr { " + v4 + " }" +
		     synack + std::to_string(mss.v4) + " tcp option maxseg size set " +
		     std::to_string(mss.v4) + "\n";
	if (!v6.empty())
		s += "add rule inet " + std::string(mss_table) + " synack ip6 saddr { " + v6 + " }" +
		     synack + std::to_string(mss.v6) + " tcp option maxseg size set " +
		     std::to_string(mss.v6) + "\n";
	return s;
}

Result<Nft> Nft::open()
{
	std::unique_ptr<nft_ctx, NftCtxFree> ctx(nft_ctx_new(NFT_CTX_DEFAULT));
	if (!ctx)
		return make_error("libnftables: cannot create a context (out of memory)");
	if (nft_ctx_buffer_output(ctx.get()) != 0 || nft_ctx_buffer_error(ctx.get()) != 0)
		return make_error("libnftables: cannot buffer its output");
	return Nft(std::move(ctx));
}

Result<void> Nft::run(const std::string &script)
{
	const bool ok = nft_run_cmd_from_buffer(ctx_.get(), script.c_str()) == 0;
	(void)nft_ctx_get_output_buffer(ctx_.get());  // rewinds it: nothing left for list_table
	if (ok) {
		(void)nft_ctx_get_error_buffer(ctx_.get());
		return {};
	}
	std::string err = nft_ctx_get_error_buffer(ctx_.get());
	while (!err.empty() && err.back() == '\n')
		err.pop_back();
	return make_error("nftables: " + err);
}

bool Nft::table_exists(const std::string &family, const std::string &name)
{
	bool ok = nft_run_cmd_from_buffer(ctx_.get(), ("list table " + family + " " + name).c_str()) == 0;
	(void)nft_ctx_get_output_buffer(ctx_.get());
	(void)nft_ctx_get_error_buffer(ctx_.get());
	return ok;
}

std::string Nft::list_table(const std::string &family, const std::string &name)
{
	bool ok = nft_run_cmd_from_buffer(ctx_.get(), ("list table " + family + " " + name).c_str()) == 0;
	std::string out = nft_ctx_get_output_buffer(ctx_.get());
	(void)nft_ctx_get_error_buffer(ctx_.get());
	return ok ? out : std::string();
}

}  // namespace tandem::proxy
