#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# VM scenario: the module's life cycle and robustness.
#  - loads; two namespaces with different GUE ports each see only their own
#  - survives FLOOD_COUNT (default 1,000,000) malformed GUE datagrams with
#    random lengths and fields (tests/vm/gue_flood.c) without a
#    WARNING/BUG/Oops, and counts every one of them
#  - a namespace deleted while enabled cleans up after itself
#  - SETs (ports, sources, conntrack-local) while a flood runs, then rmmod
#    in the middle of that flood (enable/disable and rmmod/insmod loops under
#    a flood: redirect_churn.sh)
#  - rmmod succeeds while namespaces still have it enabled, the generic
#    netlink family is gone, and a reload starts from the defaults
#
#   [tndfab: br0] -- fl 10.0.0.1 (sender)
#                 -- pa 10.0.0.21 (GUE port 19523)
#                 -- pb 10.0.0.22 (GUE port 6080)
. "$VM_LIB"
set -u
CTL="$VM_BUILD/redirect/tandem-proxyctl"
FLOOD="$VM_BUILD/tests/vm/gue-flood"
COUNT=${FLOOD_COUNT:-1000000}
trap topo_cleanup EXIT

dmesg -C
lab_insmod_tandem || exit 1
lab_check "family registered" 0 "$("$CTL" stats >/dev/null; echo $?)"
lab_check "default: disabled" 1 "$("$CTL" status | grep -c 'redirect: *disabled')"

topo_init
topo_host fl 1
topo_host pa 21
topo_host pb 22
printf 'gue_port: 19523\nvips: [10.9.9.9]\n' >/tmp/pa.yaml
printf 'gue_port: 6080\nvips: [10.9.9.9]\n' >/tmp/pb.yaml
topo_exec pa "$CTL" -q -c /tmp/pa.yaml --state /run/pa.state up || exit 1
topo_exec pb "$CTL" -q -c /tmp/pb.yaml --state /run/pb.state up || exit 1

# One valid GUE SYN to each proxy on each port: only the namespace's own
# port is GUE for the module there.
/usr/bin/python3 - <<'PY'
import ctypes, os, socket, struct
libc = ctypes.CDLL(None, use_errno=True)
fd = os.open("/run/netns/tndfl", os.O_RDONLY)
assert libc.setns(fd, 0x40000000) == 0
inner = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 1, 0, 64, 6, 0,
                              socket.inet_aton("10.0.0.1"), socket.inet_aton("10.9.9.9")))
inner += struct.pack("!HHIIBBHHH", 40000, 80, 1, 0, 0x50, 0x02, 8192, 0, 0)
gue = bytes([2, 4, 0, 0]) + struct.pack("!HBB", 0, 0, 1) + socket.inet_aton("10.0.0.99")
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for dst in ("10.0.0.21", "10.0.0.22"):
    for port in (19523, 6080):
        s.sendto(gue + bytes(inner), (dst, port))
PY
sleep 1
ctr() { topo_exec "$1" "$CTL" stats --json | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['$2'])"; }
lab_check "pa (port 19523): one GUE SYN" "1 1" "$(ctr pa gue_rx) $(ctr pa accept_syn)"
lab_check "pb (port 6080): one GUE SYN" "1 1" "$(ctr pb gue_rx) $(ctr pb accept_syn)"
topo_exec pa "$CTL" -q stats --reset >/dev/null

# The flood: random GUE at pa, hop addresses partly real lab hosts.
echo "== flood: $COUNT malformed GUE datagrams"
out=$(topo_exec fl timeout 400 "$FLOOD" 10.0.0.21 19523 "$COUNT" 42 360 \
	10.0.0.21 10.0.0.22 10.0.0.1 10.0.0.99)
rc=$?
echo "$out"
lab_check "flood sent every packet" 0 "$rc"
sent=$(echo "$out" | awk '{ print $2 }')
# every datagram that reached the hook is counted exactly once
lab_wait 30 bash -c "[ \$(ip netns exec tndpa $CTL stats --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[\"gue_rx\"])') -ge $((sent * 99 / 100)) ]"
topo_exec pa "$CTL" stats | tee /tmp/flood-stats
rx=$(ctr pa gue_rx)
sum=$(topo_exec pa "$CTL" stats --json | /usr/bin/python3 -c '
import json, sys
c = json.load(sys.stdin)
print(sum(v for k, v in c.items() if k not in ("pass_other", "gue_rx")))')
lab_check "each GUE packet ends in exactly one counter" "$rx" "$sum"
if [ "$rx" -ge $((sent * 90 / 100)) ]; then
	lab_pass "at least 90% of the flood reached the hook ($rx)"
else
	lab_fail "only $rx of $sent datagrams reached the hook"
fi
lab_check "no WARNING/BUG/Oops after the flood" 0 "$(lab_dmesg_clean; echo $?)"
for c in forwarded accept_syn accept_fragment accept_last_hop drop_bad_header drop_bad_hlen drop_bad_proto drop_short; do
	lab_check "the flood reached $c" yes "$([ "$(ctr pa $c)" -gt 0 ] && echo yes)"
done

# A namespace that goes away while enabled.
ip netns add tndgone
ip netns exec tndgone "$CTL" enable >/dev/null
ip netns del tndgone
sleep 1

echo "== SET while a flood runs, then rmmod under the flood"
# Bounded by its own clock (90 s), stopped right after the rmmod below: not
# through topo_exec, so that $! is the flood itself (ip netns exec and timeout
# exec it; timeout hands the TERM on).
ip netns exec "${TOPO_NS_PREFIX}fl" timeout 100 "$FLOOD" 10.0.0.21 19523 \
	"${CHURN_COUNT:-5000000}" 7 90 10.0.0.21 10.0.0.22 10.0.0.1 >/tmp/churn.out 2>&1 &
fpid=$!
sets=0
end=$(($(date +%s) + 10))
while [ "$(date +%s)" -lt "$end" ] && kill -0 "$fpid" 2>/dev/null; do
	# Config replacements (RCU) only: enable/disable re-register the netfilter
	# hooks and so patch the nf_hooks_needed static key in ip_local_deliver,
	# which multi-threaded TCG (this VM's 2 vCPUs) gets wrong: see
	# redirect_churn.sh, which runs enable/disable and rmmod under a flood on
	# a TCG that does it right.
	for a in "set port 6080" "set port 19523" "set sources 10.0.0.0/24 10.0.0.21/32" \
		"set sources any" "set conntrack-local on" "set conntrack-local off"; do
		# shellcheck disable=SC2086
		topo_exec pa "$CTL" -q $a >/dev/null && sets=$((sets + 1))
	done
done
lab_check "SETs under the flood all succeeded" yes "$([ "$sets" -gt 0 ] && [ $((sets % 6)) = 0 ] && echo yes)"
echo "$sets SETs while flooding"
lab_check "the flood is still running at rmmod" 0 "$(kill -0 "$fpid"; echo $?)"
lab_check "rmmod under the flood succeeds" 0 "$(rmmod tandem_redirect; echo $?)"
kill "$fpid" 2>/dev/null
wait "$fpid"
cat /tmp/churn.out
lab_check "no WARNING/BUG/Oops after rmmod under the flood" 0 "$(lab_dmesg_clean; echo $?)"
lab_insmod_tandem || exit 1
topo_exec pa "$CTL" -q enable >/dev/null
topo_exec pb "$CTL" -q set port 6080 >/dev/null
topo_exec pb "$CTL" -q enable >/dev/null

echo "== unload while two namespaces have it enabled"
lab_check "rmmod succeeds" 0 "$(rmmod tandem_redirect; echo $?)"
lab_check "module gone" no "$([ -d /sys/module/tandem_redirect ] && echo yes || echo no)"
lab_check "family gone" 1 "$("$CTL" stats 2>&1 | grep -c 'module is not loaded')"
lab_insmod_tandem || exit 1
lab_check "reload starts from the defaults" "1 1" \
	"$(topo_exec pa "$CTL" status | grep -c 'redirect: *disabled') $(topo_exec pa "$CTL" status | grep -c 'gue ports: *19523$')"
lab_check "counters start at zero" 0 "$(ctr pa gue_rx)"
rmmod tandem_redirect
lab_check "no WARNING/BUG/Oops at the end" 0 "$(lab_dmesg_clean; echo $?)"
lab_summary
