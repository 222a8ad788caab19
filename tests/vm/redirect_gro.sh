#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# VM scenario: tandem_redirect on GRO aggregates built for real (gue_gro.py).
#
#   [tndfab: br0] -- cl 10.0.0.1   client and GUE sender: UDP_SEGMENT bursts
#                 |                (TX offload and GSO on)
#                 -- pa 10.0.0.21  the proxy: VIP 10.9.9.9, fou GUE 19523, GRO on
#                 |                its eth0 (veth: NAPI and GRO only when asked)
#                 -- pb 10.0.0.22  the next hop: a plain host, GRO off, tapped
#
# The burst leaves cl as one GSO skb and is segmented on the bridge's port
# towards pa (vpa: TSO and UDP segmentation off, so that veth hands the
# segments to pa's NAPI, which GRO needs); pa's NAPI then aggregates them.
# GRO_OFF=1 leaves GRO off on pa: the checks that aggregation happened fail.
. "$VM_LIB"
set -u
CTL="$VM_BUILD/redirect/tandem-proxyctl"
trap topo_cleanup EXIT

lab_insmod_tandem || exit 1
topo_init
topo_host cl 1
topo_exec cl ethtool -K eth0 tx on gso on >/dev/null
topo_proxy pa 21 10.9.9.9 || exit 1
topo_host pb 22
topo_exec cl ip route add 10.9.9.9/32 via 10.0.0.21
if [ "${GRO_OFF:-0}" = 1 ]; then
	echo "GRO_OFF=1: pa's eth0 keeps GRO off"
else
	topo_exec pa ethtool -K eth0 gro on || exit 1
fi
topo_exec pa ethtool -k eth0 | grep -E '^(generic-receive-offload|rx-gro-list):'
CTL="$CTL" timeout 300 /usr/bin/python3 "$(dirname "$VM_LIB")/gue_gro.py"
rc=$?
lab_check "dmesg has no WARNING/BUG/Oops" 0 "$(lab_dmesg_clean; echo $?)"
dmesg | grep -E -A30 'WARNING:|BUG:|Oops' | head -n 60
topo_exec pa "$CTL" -q --state /run/pa.state down
[ "$rc" = 0 ] && lab_summary
