// SPDX-License-Identifier: Apache-2.0
#include "mtu_report.h"

#include "gue.h"
#include "log.h"

namespace tandem::director {

std::vector<ServiceMtu> service_mtus(const Config &config, uint32_t interface_mtu)
{
	std::vector<ServiceMtu> out;
	for (const ServiceConfig &svc : config.services) {
		ServiceMtu m;
		m.name = svc.name;
		m.hops = svc.hops_per_packet(svc.hops_per_row);
		m.overhead = static_cast<uint32_t>(gue_overhead(m.hops));
		m.max_inner = interface_mtu > m.overhead ? interface_mtu - m.overhead : 0;
		out.push_back(m);
	}
	return out;
}

void log_service_mtus(const std::vector<ServiceMtu> &mtus, const std::string &ifname,
		      uint32_t interface_mtu)
{
	for (const ServiceMtu &m : mtus) {
		std::string msg = "service " + m.name + " carries inner packets up to " +
				  std::to_string(m.max_inner) + " bytes (" + ifname + " MTU " +
				  std::to_string(interface_mtu) + " - " + std::to_string(m.overhead) +
				  " bytes of GUE for " + std::to_string(m.hops) + " hops)";
		const bool small = m.max_inner < full_size_packet;
		if (small)
			msg += "; full-size (1500-byte) client packets get an ICMP too-big from the "
			       "director. Fix: an MTU of at least " +
			       std::to_string(full_size_packet + m.overhead) + " on " + ifname +
			       " and on the path to the proxies (jumbo frames), or MSS clamping on the "
			       "proxies (options.mss: auto in proxy.yaml)";
		log(small ? Level::warning : Level::info, message_id::mtu, msg,
		    {{"TANDEM_SERVICE", m.name}, {"TANDEM_MAX_INNER_PACKET", std::to_string(m.max_inner)}});
	}
}

}  // namespace tandem::director
