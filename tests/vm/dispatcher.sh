#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# VM scenario: the director's XDP classifier beside another XDP program, through libxdp's
# multi-program dispatcher, on Debian's kernel (this host's kernel refuses the dispatcher).
#
#   netns tndcli                                      netns tnddir
#   c0 10.0.0.1/24 ============ veth ============== d0 10.0.0.2/24
#   VIP 192.0.2.10 via 10.0.0.2; the proxies         tandem-director (copy, native XDP);
#   10.0.1.1, 10.0.1.2 are "here": GUE captured      10.0.1.0/24 via 10.0.0.1
#
# 1. No bpffs: the director attaches alone (libxdp's fallback, attach="legacy"),
#    encapsulates, the kernel still answers ICMP echo, and SIGTERM leaves d0 without XDP.
#    A program another tool attached then blocks it with an error that says so.
# 2. bpffs on /sys/fs/bpf in the guest's mount namespace. Every command enters the network
#    namespaces with nsenter --net (topo_nsenter): `ip netns exec` remounts /sys, and a
#    second `mount -t bpf` would be a bpffs of its own, so libxdp's pins (the dispatcher's
#    lock and its programs) must live in this one. xdp-filter's allow-all program is
#    loaded first (xdp-loader); the director joins it on the same dispatcher
#    (attach="dispatcher"), encapsulates VIP frames sent from c0 (GUE to 10.0.1.1/2
#    captured on c0), leaves the rest to the kernel (echo), and on SIGTERM exits 0 taking
#    only its own program away; xdp-loader unload then leaves nothing behind.
# 3. (between the two halves of 2) kill -9 leaves the classifier on the dispatcher; the
#    kernel and the other program still answer echo; a restart removes the dead one's
#    classifier (and its pins) and joins the dispatcher again, forwarding every probe.
# Runs inside the guest (see lib.sh); the host side is vm_main.
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"
set -u
DIRECTOR="$VM_BUILD/director/tandem-director"
OTHER=/usr/lib/x86_64-linux-gnu/bpf/xdpfilt_alw_all.o  # xdp-filter, allow all: XDP_PASS
OTHER_NAME=xdpfilt_alw_all
W=$VM_OUT/disp  # logs and captures, kept in the build tree (out-dispatcher/disp)
FRAMES=16
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=66
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=67
DPID=""

cleanup() {
	[ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null
	topo_cleanup
}
trap cleanup EXIT

[ -x "$DIRECTOR" ] || { echo "SKIP: $DIRECTOR not built"; exit 77; }
command -v xdp-loader >/dev/null || { echo "SKIP: xdp-loader not installed (apt install xdp-tools)"; exit 77; }
[ -r "$OTHER" ] || { echo "SKIP: $OTHER missing (apt install xdp-tools)"; exit 77; }
command -v nsenter >/dev/null || { echo "SKIP: nsenter not installed (util-linux)"; exit 77; }
grep -qw bpf /proc/filesystems || { echo "SKIP: kernel $(uname -r) has no bpffs"; exit 77; }
if [ "$(stat -f -c %T /sys/fs/bpf 2>/dev/null)" = bpf_fs ]; then
	echo "SKIP: bpffs is already mounted on /sys/fs/bpf; part 1 needs a guest without it"
	exit 77
fi

t0=$(date +%s)
say() { printf '[%4ds] %s\n' $(($(date +%s) - t0)) "$*"; }

mkdir -p "$W"
ip netns add "${TOPO_NS_PREFIX}cli"
ip netns add "${TOPO_NS_PREFIX}dir"
ip -n "${TOPO_NS_PREFIX}cli" link add c0 type veth peer name d0 netns "${TOPO_NS_PREFIX}dir"
ip -n "${TOPO_NS_PREFIX}cli" addr add 10.0.0.1/24 dev c0
ip -n "${TOPO_NS_PREFIX}dir" addr add 10.0.0.2/24 dev d0
for ns in cli dir; do ip -n "$TOPO_NS_PREFIX$ns" link set lo up; done
ip -n "${TOPO_NS_PREFIX}cli" link set c0 up
ip -n "${TOPO_NS_PREFIX}dir" link set d0 up
ip -n "${TOPO_NS_PREFIX}dir" route add 10.0.1.0/24 via 10.0.0.1
ip -n "${TOPO_NS_PREFIX}cli" route add 192.0.2.0/24 via 10.0.0.2
D0_MAC=$(ip -n "${TOPO_NS_PREFIX}dir" -br link show d0 | awk '{ print $3 }')

cat >"$W/director.yaml" <<'EOT'
director:
  interface: d0
  queues: 1
  metrics: 127.0.0.1:9470
  bind_mode: copy
  xdp_mode: native
services:
  - name: web
    binds:
      - {address: 192.0.2.10, protocol: tcp, ports: [80]}
    hash_key: 4a9b2e0c5d8f1a3b6c7d8e9f0a1b2c3d
    seed: 9f8e7d6c5b4a39281706f5e4d3c2b1a0
    backends:
      - {address: 10.0.1.1}
      - {address: 10.0.1.2}
EOT

# metric NAME [LABEL]: sum of the samples of NAME whose labels contain LABEL.
metric() {
	topo_nsenter dir curl -sf http://127.0.0.1:9470/metrics |
		awk -v n="$1" -v f="${2:-}" '
			$1 ~ "^"n"({|$)" && index($1, f) { s += $2 } END { printf "%d\n", s }'
}
director_ready() {
	topo_nsenter dir curl -sf http://127.0.0.1:9470/metrics >/dev/null &&
		[ "$(metric tandem_director_unresolved_neighbours)" = 0 ]
}

# start_director LOG: in the background; returns once it serves metrics and knows its
# next hop's MAC, 1 (and shows what it said, but for debug lines) when it exits first or
# is not ready within 90 s.
start_director() {
	local log=$1 end=$(($(date +%s) + 90))
	# nsenter execs the director: $! is its pid (a function here would fork a subshell)
	nsenter "--net=/run/netns/${TOPO_NS_PREFIX}dir" "$DIRECTOR" -c "$W/director.yaml" \
		--foreground --log-level debug --control-socket /run/tnd-director.sock >"$log" 2>&1 &
	DPID=$!
	until director_ready; do
		if ! kill -0 "$DPID" 2>/dev/null || [ "$(date +%s)" -ge "$end" ]; then
			lab_fail "the director did not come up (full log: ${log#"$VM_OUT"/}); it said:"
			grep -v '^debug: ' "$log" | tail -n 20
			return 1
		fi
		sleep 0.5
	done
}

# stop_director: SIGTERM; its exit status goes to DEXIT (124: still running after 60 s).
stop_director() {
	local rc=0
	DEXIT=""
	kill -TERM "$DPID"
	if ! lab_wait_s 60 sh -c "! kill -0 $DPID"; then
		kill -KILL "$DPID"
		DEXIT=124
	fi
	wait "$DPID" || rc=$?
	DEXIT=${DEXIT:-$rc}
	DPID=""
}

xdp_on_d0() { ip -n "${TOPO_NS_PREFIX}dir" -d link show d0 | grep -c 'prog/xdp'; }
sanitizer_clean() { ! grep -q 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:' "$1"; }

# status: xdp-loader's view of d0, one "program mode/prio" per line. Its table:
#   d0   xdp_dispatcher   native   ID   TAG
#    =>  PRIO   PROG_NAME   ID   TAG   ACTIONS
status() {
	topo_nsenter dir xdp-loader status d0 >"$W/status.txt" 2>&1
	awk '$1 == "d0" && NF >= 4 { print $2 " " $3 } $1 == "=>" { print $3 " " $2 }' "$W/status.txt"
}

# probe gue N: sends N TCP SYNs for the VIP (source ports 40000..) from c0 to d0's MAC
# and prints how many of them come back on c0 within 30 s as GUE from 10.0.0.2 to a proxy.
# probe ping N: sends N ICMP echo requests to 10.0.0.2 (not a VIP: the kernel's) and
# prints how many were answered. (The host userland has no ping.)
probe() {
	topo_nsenter cli timeout 120 "$LAB_PY" - "$D0_MAC" "$@" <<'PY'
import sys, threading, time
from scapy.all import Ether, IP, ICMP, TCP, UDP, AsyncSniffer, sendp, srp
dmac, mode, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == "ping":
    ans, _ = srp([Ether(dst=dmac) / IP(src="10.0.0.1", dst="10.0.0.2") / ICMP(id=0x7a3d, seq=i)
                  for i in range(n)], iface="c0", timeout=10, verbose=False)
    print(len(ans))
    sys.exit(0)
ports = set(range(40000, 40000 + n))
seen = set()
def gue(p):
    if IP not in p or UDP not in p or p[UDP].dport != 19523:
        return False
    if p[IP].src != "10.0.0.2" or p[IP].dst not in ("10.0.1.1", "10.0.1.2"):
        return False
    b = bytes(p[UDP].payload)
    inner = IP(b[4 + 4 * (b[0] & 0x1f):])  # GUE header, then hlen words of hop list
    if inner.dst == "192.0.2.10" and TCP in inner and inner[TCP].sport in ports:
        seen.add(inner[TCP].sport)
    return False
up = threading.Event()
s = AsyncSniffer(iface="c0", lfilter=gue, store=False, started_callback=up.set)
s.start()
up.wait(30)
sendp([Ether(dst=dmac) / IP(src="10.0.0.1", dst="192.0.2.10") /
       TCP(sport=p, dport=80, flags="S") for p in sorted(ports)], iface="c0", verbose=False)
end = time.time() + 30
while len(seen) < n and time.time() < end:
    time.sleep(0.2)
s.stop()
print(len(seen))
PY
}

# ---------------------------------------------------------------------
say "== 1. no bpffs: libxdp attaches the classifier alone"
start_director "$W/legacy.log" || exit 1
lab_check "no bpffs: attach mode" 1 "$(metric tandem_director_mode_info 'attach="legacy"')"
grep '^warning: libxdp' "$W/legacy.log" | sed 's/^/  /'
lab_check "no bpffs: VIP SYNs encapsulated (GUE to a proxy, captured on c0)" "$FRAMES" \
	"$(probe gue "$FRAMES")"
lab_check "no bpffs: ICMP echo requests to d0's own address answered" 3 "$(probe ping 3)"
stop_director
lab_check "no bpffs: director exit status on SIGTERM" 0 "$DEXIT"
lab_check "no bpffs: XDP programs on d0 after exit" 0 "$(xdp_on_d0)"
lab_check "no bpffs: sanitizers quiet" 0 "$(sanitizer_clean "$W/legacy.log"; echo $?)"

# Another program attached without a dispatcher leaves no room: the director says so.
if topo_nsenter dir xdp-loader load -m native d0 "$OTHER" >"$W/load0.txt" 2>&1; then
	topo_nsenter dir timeout 120 "$DIRECTOR" -c "$W/director.yaml" --foreground \
		--control-socket /run/tnd-director.sock >"$W/blocked.log" 2>&1
	rc=$?
	lab_check "no bpffs, another program on d0: director refuses to start" 1 "$rc"
	lab_check "no bpffs, another program on d0: the error says why" 1 \
		"$(grep -c 'another XDP program is attached' "$W/blocked.log")"
	topo_nsenter dir xdp-loader unload -a d0
	lab_check "no bpffs: xdp-loader unload" 0 "$(xdp_on_d0)"
else
	lab_fail "no bpffs: xdp-loader load -m native d0 $OTHER: $(tail -n1 "$W/load0.txt")"
fi

# ---------------------------------------------------------------------
say "== 2. bpffs on /sys/fs/bpf: the classifier joins another program on libxdp's dispatcher"
mount -t bpf bpf /sys/fs/bpf || { lab_fail "mount -t bpf bpf /sys/fs/bpf"; lab_summary; exit 1; }
if ! topo_nsenter dir xdp-loader load -v -m native d0 "$OTHER" >"$W/load.txt" 2>&1; then
	lab_fail "xdp-loader load -m native d0 $OTHER: $(tail -n1 "$W/load.txt")"
	lab_summary
	exit 1
fi
before=$(status)
say "xdp-loader status before the director:" "${before//$'\n'/, }"
if ! echo "$before" | grep -q '^xdp_dispatcher native$'; then
	# not our code: libxdp puts no program on a dispatcher here, not even xdp-loader's
	why=$(grep -m1 -iE "compatib|bpffs|can't use dispatcher|not supported" "$W/load.txt" ||
		tail -n1 "$W/load.txt")
	echo "SKIP: libxdp $(dpkg-query -W -f '${Version}' libxdp1 2>/dev/null) on kernel $(uname -r) attaches no dispatcher even for xdp-loader (${before:-nothing attached}): ${why# }"
	exit 77
fi

start_director "$W/dispatcher.log" || { lab_summary; exit 1; }
disp=$(metric tandem_director_mode_info 'attach="dispatcher"')
lab_check "bpffs: attach mode" 1 "$disp"
# what libxdp said when it did not (its warnings, and the director's fallback notice)
[ "$disp" = 1 ] || grep -E '^(warning|notice): ' "$W/dispatcher.log" | head -n 5 | sed 's/^/  /'
lab_check "bpffs: native XDP" 1 "$(metric tandem_director_mode_info 'xdp_mode="native"')"
during=$(status)
say "xdp-loader status with the director:" "${during//$'\n'/, }"
lab_check "bpffs: one dispatcher on d0" 1 "$(echo "$during" | grep -c '^xdp_dispatcher native$')"
lab_check "bpffs: $OTHER_NAME on it" 1 "$(echo "$during" | grep -c "^$OTHER_NAME ")"
lab_check "bpffs: the classifier on it" 1 "$(echo "$during" | grep -c '^tandem_classify ')"
lab_check "bpffs: programs on d0 (status lines)" 3 "$(echo "$during" | wc -l)"

lab_check "bpffs: VIP SYNs encapsulated (GUE to a proxy, captured on c0)" "$FRAMES" \
	"$(probe gue "$FRAMES")"
lab_check "bpffs: encapsulated_packets_total" "$FRAMES" \
	"$(metric tandem_director_encapsulated_packets_total)"
lab_check "bpffs: ICMP echo requests to d0's own address answered" 3 "$(probe ping 3)"

say "== 3. kill -9 on the dispatcher, then a restart"
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null
DPID=""
left=$(status)
say "xdp-loader status after kill -9:" "${left//$'\n'/, }"
lab_check "kill -9: the dead director's classifier is left on the dispatcher" 1 \
	"$(echo "$left" | grep -c '^tandem_classify ')"
lab_check "kill -9: ICMP echo to d0 still answered (the other program, the kernel)" 3 \
	"$(probe ping 3)"
restart_at=$(date +%s%N)
start_director "$W/restart.log" || { lab_summary; exit 1; }
say "restart: up (metrics served, next hop known) after $(( ($(date +%s%N) - restart_at) / 1000000 )) ms"
lab_check "restart: it says it removed the dead director's classifier" 1 \
	"$(grep -c 'removed the XDP classifier (program id' "$W/restart.log")"
again=$(status)
say "xdp-loader status after the restart:" "${again//$'\n'/, }"
lab_check "restart: attach mode" 1 "$(metric tandem_director_mode_info 'attach="dispatcher"')"
lab_check "restart: one classifier on the dispatcher" 1 "$(echo "$again" | grep -c '^tandem_classify ')"
lab_check "restart: $OTHER_NAME still on it" 1 "$(echo "$again" | grep -c "^$OTHER_NAME ")"
lab_check "restart: programs on d0 (status lines)" 3 "$(echo "$again" | wc -l)"
lab_check "restart: VIP SYNs encapsulated" "$FRAMES" "$(probe gue "$FRAMES")"
lab_check "restart: sanitizers quiet" 0 "$(sanitizer_clean "$W/restart.log"; echo $?)"

stop_director
lab_check "bpffs: director exit status on SIGTERM" 0 "$DEXIT"
after=$(status)
say "xdp-loader status after the director:" "${after//$'\n'/, }"
lab_check "bpffs: the dispatcher still on d0" 1 "$(echo "$after" | grep -c '^xdp_dispatcher native$')"
lab_check "bpffs: $OTHER_NAME still on it" 1 "$(echo "$after" | grep -c "^$OTHER_NAME ")"
lab_check "bpffs: the classifier gone" 0 "$(echo "$after" | grep -c '^tandem_classify ')"
lab_check "bpffs: d0 still has XDP" 1 "$(xdp_on_d0)"
lab_check "bpffs: sanitizers quiet (before the kill)" 0 "$(sanitizer_clean "$W/dispatcher.log"; echo $?)"

topo_nsenter dir xdp-loader unload -a d0
lab_check "bpffs: xdp-loader unload -a exit status" 0 $?
lab_check "bpffs: XDP programs on d0 after unload" 0 "$(xdp_on_d0)"
lab_check "bpffs: libxdp's pins for d0 after unload" 0 \
	"$(find /sys/fs/bpf/xdp -name "dispatch-*" 2>/dev/null | wc -l)"
lab_check "dmesg clean" 0 "$(lab_dmesg_clean; echo $?)"
say "done"
lab_summary
