#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# VM scenario: enable/disable (which register and unregister the netfilter
# hooks) and rmmod/insmod in a loop while gue-flood runs at the proxy.
#
#   [tndfab: br0] -- fl 10.0.0.1 (sender)
#                 -- pa 10.0.0.21 (GUE port 19523)
#                 -- pb 10.0.0.22 (a hop the flood names)
#
# meson runs it on two vCPUs of single-threaded TCG (TANDEM_VM_ACCEL=
# tcg,thread=single: the vCPUs take turns in one host thread), not on the
# lab's default multi-threaded TCG, which breaks the kernel's code patching:
# enabling the first hook in LOCAL_IN and disabling the last flips the
# nf_hooks_needed static key, and text_poke_bp() rewrites the 2-byte jump in
# ip_local_deliver through an int3 while the flood runs that code on the
# other vCPU. Seen with 2 vCPUs of multi-threaded TCG (December 2026):
#  - 6.12: "Oops: int3" at ip_local_deliver+0x5a within 30 s, while the
#    code in memory already reads "eb 11" (the jump; the int3 trap's RIP is
#    the byte after it): the vCPU ran an int3 that was no longer there, after
#    the patching CPU had synced every CPU and dropped its handler; a second
#    run went 20 cycles without it.
#  - 6.1: an RCU stall and soft lockup, the stuck CPU at
#    ip_local_deliver+0x5c, the same jump-label site ("eb 29").
# One vCPU (6.12: 16 cycles, 11 reloads) and two vCPUs on single-threaded
# TCG (6.12 and 6.1) pass every time. The module only calls
# nf_register_net_hooks() / nf_unregister_net_hooks() (synchronize_net()
# waits for hooks in flight), and real x86 CPUs serialise on the IPI that
# text_poke_sync() sends: the fault is the emulator's cross-vCPU
# self-modifying code, not a race in the module.
. "$VM_LIB"
set -u
CTL="$VM_BUILD/redirect/tandem-proxyctl"
FLOOD="$VM_BUILD/tests/vm/gue-flood"
SECS=${CHURN_SECONDS:-60}     # at most, for each part
CYCLES=${CHURN_CYCLES:-25}    # enable/disable cycles (and CYCLES / 2 reloads) at most
trap topo_cleanup EXIT

echo "vCPUs: $(nproc)"
dmesg -C
# an oops or lockup with its backtrace on the console (the guest may not come back)
dmesg -n 7
lab_insmod_tandem || exit 1
topo_init
topo_host fl 1
topo_host pa 21
topo_host pb 22
printf 'gue_port: 19523\nvips: [10.9.9.9]\n' >/tmp/pa.yaml
topo_exec pa "$CTL" -q -c /tmp/pa.yaml --state /run/pa.state up || exit 1

echo "== enable/disable for ${SECS} s under a flood"
ip netns exec "${TOPO_NS_PREFIX}fl" timeout $((SECS * 2 + 60)) "$FLOOD" 10.0.0.21 19523 \
	50000000 11 $((SECS * 2 + 50)) 10.0.0.21 10.0.0.22 10.0.0.1 >/tmp/churn.out 2>&1 &
fpid=$!
sleep 2
cycles=0
fails=0
end=$(($(date +%s) + SECS))
while [ "$cycles" -lt "$CYCLES" ] && [ "$(date +%s)" -lt "$end" ] && kill -0 "$fpid" 2>/dev/null; do
	if topo_exec pa "$CTL" -q disable >/dev/null &&
		topo_exec pa "$CTL" -q enable >/dev/null; then
		cycles=$((cycles + 1))
		[ $((cycles % 5)) = 0 ] && echo "churn: $cycles enable/disable cycles" >/dev/kmsg
	else
		fails=$((fails + 1))
	fi
done
echo "$cycles enable/disable cycles under the flood"
lab_check "enable/disable under the flood never failed" 0 "$fails"
lab_check "at least 5 cycles" yes "$([ "$cycles" -ge 5 ] && echo yes)"
lab_check "the flood still runs" 0 "$(kill -0 "$fpid"; echo $?)"
lab_check "pa still counts GUE" yes "$([ "$(topo_exec pa "$CTL" stats --json |
	/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["gue_rx"])')" -gt 0 ] && echo yes)"
lab_check "no WARNING/BUG/Oops after enable/disable under the flood" 0 "$(lab_dmesg_clean; echo $?)"

echo "== rmmod/insmod (enabled) under the flood"
loads=0
end=$(($(date +%s) + SECS / 2))
while [ "$loads" -lt $((CYCLES / 2)) ] && [ "$(date +%s)" -lt "$end" ] && kill -0 "$fpid" 2>/dev/null; do
	rmmod tandem_redirect || break
	lab_insmod_tandem || break
	topo_exec pa "$CTL" -q enable >/dev/null || break
	loads=$((loads + 1))
done
echo "$loads rmmod/insmod/enable cycles under the flood"
lab_check "at least 3 reloads" yes "$([ "$loads" -gt 3 ] && echo yes)"
kill "$fpid" 2>/dev/null
wait "$fpid"
cat /tmp/churn.out
rmmod tandem_redirect
lab_check "no WARNING/BUG/Oops at the end" 0 "$(lab_dmesg_clean; echo $?)"
dmesg | grep -E -A40 'WARNING:|BUG:|Oops|int3' | head -n 80
lab_summary
