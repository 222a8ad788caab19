#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# VM scenario: the tandem_redirect rules one by one (gue_rules.py).
#
#           [tndfab: br0]
#      /     /     |      |     \
#   inj   off     p1     p2     p3   10.0.0.{1,2,11,12,13}/24, fd00::{...}/64
#  (sends GUE, is the client)       proxies: VIPs 10.9.9.9 and fd09::9 on lo,
#         off: sends GUE from UDP   fou GUE port 19523, tandem4 + sit0, sources
#         sockets, TX offload on    10.0.0.0/24 (the default: their own network)
. "$VM_LIB"
set -u
CTL="$VM_BUILD/redirect/tandem-proxyctl"
trap topo_cleanup EXIT

lab_insmod_tandem || exit 1
topo_init
topo_host inj 1
topo_host off 2
# CHECKSUM_PARTIAL and UDP_SEGMENT (GSO) skbs reach the proxies from this one
topo_exec off ethtool -K eth0 tx on gso on >/dev/null
for i in 1 2 3; do
	topo_proxy "p$i" "1$i" || exit 1
done
# The client reaches the VIPs directly through p1 (for real connections).
topo_exec inj ip route add 10.9.9.9/32 via 10.0.0.11
topo_exec inj ip -6 route add fd09::9/128 via fd00::11
CTL="$CTL" timeout 200 /usr/bin/python3 "$(dirname "$VM_LIB")/gue_rules.py"
rc=$?
for i in 1 2 3; do
	# fou verifies the outer UDP checksum before it decapsulates: the one
	# datagram corrupted on purpose (gue_rules.py) is p2's only error
	want=0
	[ "$i" = 2 ] && want=1
	lab_check "p$i: UDP checksum errors" "$want" \
		"$(topo_exec "p$i" awk '/^Udp:/ { n++; if (n == 2) print $8 }' /proc/net/snmp)"
done
lab_check "dmesg has no WARNING/BUG/Oops" 0 "$(lab_dmesg_clean; echo $?)"
for i in 1 2 3; do topo_exec "p$i" "$CTL" -q --state "/run/p$i.state" down; done
[ "$rc" = 0 ] && lab_summary
