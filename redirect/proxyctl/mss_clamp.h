// SPDX-License-Identifier: Apache-2.0
// MSS clamping for the VIPs (options.mss): the SYN-ACKs this proxy sends from a VIP
// advertise an MSS that fits the client's packets after the director's encapsulation, so
// a client on a 1500-byte network never sends a segment the director must refuse. One
// nftables table of our own (inet tandem_mss, an output-hook rule rewriting the MSS option
// of SYN-ACKs from the VIPs), made and removed through libnftables.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ip_address.h"
#include "result.h"

struct nft_ctx;

namespace tandem::proxy {

inline constexpr const char *mss_table = "tandem_mss";  // in family inet

struct MssValues {
	uint16_t v4 = 0;  // the MSS IPv4 VIPs advertise at most
	uint16_t v6 = 0;  // and IPv6 ones (20 bytes less: the longer IP header)
};

// From the largest inner IP packet the path carries (uplink MTU minus the encapsulation).
MssValues mss_for_inner_mtu(uint32_t inner_mtu);
// From options.mss given as a number: the IPv4 MSS.
MssValues mss_for_ipv4_mss(uint16_t mss);

// The nft script that creates the table (pure, for the unit test).
std::string mss_ruleset(const std::vector<IpAddress> &vips, const MssValues &mss);

struct NftCtxFree { void operator()(nft_ctx *c) const; };

class Nft {
public:
	static Result<Nft> open();
	// Runs an nft script; the error carries libnftables' own message.
	Result<void> run(const std::string &script);
	bool table_exists(const std::string &family, const std::string &name);
	// `nft list table`: the table as text, empty when it does not exist.
	std::string list_table(const std::string &family, const std::string &name);

private:
	explicit Nft(std::unique_ptr<nft_ctx, NftCtxFree> ctx) : ctx_(std::move(ctx)) {}
	std::unique_ptr<nft_ctx, NftCtxFree> ctx_;
};

}  // namespace tandem::proxy
