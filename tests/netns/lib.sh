#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Shared helpers for the director's host tests (suite netns), kernel-selftest style.
# A test sources this file, calls setup_topology, writes a config, starts the director,
# sends traffic with /usr/bin/python3 + scapy (tests/netns/traffic.py) and reports one
# PASS/FAIL line per case. Exit 0 = all passed, 1 = a failure, 77 = skipped (one line why).
#
# Topology (setup_topology [QUEUES]):
#
#   netns $NS_CLI (client, router, proxies' gateway)     netns $NS_DIR (director)
#   +----------------------------------+                 +------------------------------+
#   | c0  10.0.0.1/24  fd00::1/64       |=== veth ======= | d0  10.0.0.2/24  fd00::2/64  |
#   |     VIPs routed via 10.0.0.2     |  (QUEUES rx/tx) |     tandem-director (XDP+XSK) |
#   |     proxies 10.0.1.0/24 "live"   |                 |     10.0.1.0/24 via 10.0.0.1  |
#   |     here (GUE captured on c0)    |                 |                              |
#   +----------------------------------+                 +------------------------------+
#
# Client frames are sent on c0 to d0's MAC; the director's GUE frames come back on c0
# (next hop 10.0.0.1, resolved over ARP), where traffic.py captures them.
#
# link_host adds hosts of their own to that link (macvlans on c0, each in a netns): they
# see the wire's broadcasts and the frames sent to their MAC; c0 still sees every frame
# the director sends, whatever its destination MAC.

set -u

KSFT_SKIP=77
ret=0
LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3
: "${TANDEM_DIRECTOR:?set TANDEM_DIRECTOR to the tandem-director binary (meson does)}"
: "${TANDEM_ENCAP_REF:?set TANDEM_ENCAP_REF to the encap_ref binary (meson does)}"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=66}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=67}

skip() { echo "SKIP: $*"; exit $KSFT_SKIP; }

check_requirements() {
	[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, XDP, AF_XDP)"
	command -v ip >/dev/null || skip "iproute2 (ip) not installed"
	$PY -c 'import scapy.all' 2>/dev/null || skip "python3-scapy not installed for $PY"
	ip netns add "tandem-probe-$$" 2>/dev/null || skip "cannot create network namespaces"
	if ! ip -n "tandem-probe-$$" link add p0 type veth peer name p1 2>/dev/null; then
		ip netns del "tandem-probe-$$"
		skip "no veth support in this kernel"
	fi
	if ! ip netns exec "tandem-probe-$$" $PY -c 'import socket; socket.socket(44, socket.SOCK_RAW)' 2>/dev/null; then
		ip netns del "tandem-probe-$$"
		skip "no AF_XDP sockets in this kernel"
	fi
	ip netns del "tandem-probe-$$"
}

rand_suffix() { head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

TMP=""
DIRECTOR_PID=""
LINK_HOSTS=()
cleanup() {
	stop_director >/dev/null 2>&1
	local ns
	for ns in "${LINK_HOSTS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	[ -n "${NS_CLI:-}" ] && ip netns del "$NS_CLI" 2>/dev/null
	[ -n "${NS_DIR:-}" ] && ip netns del "$NS_DIR" 2>/dev/null
	[ -n "$TMP" ] && rm -rf "$TMP"
}

# busywait TIMEOUT_MS CMD...: runs CMD until it succeeds or the time is up.
busywait() {
	local timeout_ms=$1; shift
	local start=$(date +%s%3N)
	while true; do
		"$@" && return 0
		[ $(( $(date +%s%3N) - start )) -ge "$timeout_ms" ] && return 1
		sleep 0.05
	done
}

setup_topology() {
	local queues=${1:-1}
	check_requirements
	local s; s=$(rand_suffix)
	NS_SUFFIX=$s
	NS_CLI="tandem-cli-$s"
	NS_DIR="tandem-dir-$s"
	TMP=$(mktemp -d /tmp/tandem-netns.XXXXXX)
	trap cleanup EXIT
	ip netns add "$NS_CLI"
	ip netns add "$NS_DIR"
	ip -n "$NS_CLI" link add c0 numtxqueues "$queues" numrxqueues "$queues" type veth \
		peer name d0 numtxqueues "$queues" numrxqueues "$queues" netns "$NS_DIR"
	ip -n "$NS_CLI" addr add 10.0.0.1/24 dev c0
	ip -n "$NS_CLI" addr add fd00::1/64 dev c0 nodad
	ip -n "$NS_DIR" addr add 10.0.0.2/24 dev d0
	ip -n "$NS_DIR" addr add fd00::2/64 dev d0 nodad
	ip -n "$NS_CLI" link set lo up
	ip -n "$NS_DIR" link set lo up
	ip -n "$NS_CLI" link set c0 up
	ip -n "$NS_DIR" link set d0 up
	ip -n "$NS_DIR" route add 10.0.1.0/24 via 10.0.0.1
	ip -n "$NS_CLI" route add 192.0.2.0/24 via 10.0.0.2
	ip -n "$NS_CLI" route add 2001:db8::/32 via fd00::2
	C0_MAC=$(ip -n "$NS_CLI" -br link show c0 | awk '{print $3}')
	D0_MAC=$(ip -n "$NS_DIR" -br link show d0 | awk '{print $3}')
	METRICS_ADDR=127.0.0.1:9470
	CONTROL_SOCKET=$TMP/director.sock
}

# link_host VAR IFNAME MAC: a host of its own on the director's link: a macvlan IFNAME
# with MAC on c0, up, in a new netns whose name goes to $VAR (NS_NEAR -> tandem-near-*).
# It has no IPv4 address yet, so it answers no ARP until given one.
link_host() {
	local var=$1 ifname=$2 mac=$3
	local role=${var#NS_}
	local ns="tandem-${role,,}-$NS_SUFFIX"
	ip netns add "$ns"
	LINK_HOSTS+=("$ns")
	printf -v "$var" %s "$ns"
	ip -n "$NS_CLI" link add "$ifname" link c0 address "$mac" type macvlan mode bridge \
		2>/dev/null || skip "no macvlan support in this kernel"
	ip -n "$NS_CLI" link set "$ifname" netns "$ns"
	ip -n "$ns" link set lo up
	ip -n "$ns" link set "$ifname" up
}

# director_section [extra yaml lines...]: the director: section used by every test.
director_section() {
	cat <<EOT
director:
  interface: d0
  queues: ${QUEUES:-1}
  metrics: $METRICS_ADDR
  bind_mode: copy
EOT
	for l in "$@"; do echo "  $l"; done
}

# service_section BACKEND...: the services: section most tests share: service web on
# 192.0.2.10 tcp/80 with fixed keys, one backend per address given.
service_section() {
	cat <<EOT
services:
  - name: web
    binds:
      - {address: 192.0.2.10, protocol: tcp, ports: [80]}
    hash_key: 4a9b2e0c5d8f1a3b6c7d8e9f0a1b2c3d
    seed: 9f8e7d6c5b4a39281706f5e4d3c2b1a0
    backends:
EOT
	local b
	for b in "$@"; do echo "      - {address: $b}"; done
}

# prog_id IFACE: the id of the XDP program attached to IFACE in the director's namespace.
prog_id() { ip -n "$NS_DIR" -d link show "$1" | grep -o 'prog/xdp id [0-9]*' | awk '{print $3}'; }

metrics_up() { ip netns exec "$NS_DIR" curl -sf "http://$METRICS_ADDR/metrics" >/dev/null; }

# start_director CONFIG [args...]
start_director() {
	local cfg=$1; shift
	# `ip netns exec` runs it in a mount namespace of its own with a fresh /sys, where
	# bpffs is not mounted; with BPFFS=1 we mount one there (the host is untouched).
	local mnt=":"
	[ "${BPFFS:-0}" = 1 ] && mnt="mount -t bpf bpf /sys/fs/bpf"
	ip netns exec "$NS_DIR" sh -c "$mnt && exec \"\$0\" \"\$@\"" "$TANDEM_DIRECTOR" \
		-c "$cfg" --foreground --control-socket "$CONTROL_SOCKET" "$@" \
		>"$TMP/director.log" 2>&1 &
	DIRECTOR_PID=$!
	if ! busywait 20000 metrics_up; then
		echo "director did not come up; its log:"
		cat "$TMP/director.log"
		return 1
	fi
	# The proxies' next hop (10.0.0.1) is solicited at start; wait until it is known
	# (UNRESOLVED=N: until all but N proxies have a next-hop MAC).
	if ! busywait 10000 neighbours_resolved "${UNRESOLVED:-0}"; then
		echo "director did not resolve its next hops; its log:"
		cat "$TMP/director.log"
		return 1
	fi
}

# neighbours_resolved [N]: true when exactly N proxies (default 0) have no next-hop MAC.
neighbours_resolved() { [ "$(metric tandem_director_unresolved_neighbours)" = "${1:-0}" ]; }

# stop_director: SIGTERM, wait, and check it exited 0 (sanitizers exit 66/67).
stop_director() {
	[ -n "$DIRECTOR_PID" ] || return 0
	kill -TERM "$DIRECTOR_PID" 2>/dev/null
	local rc=0
	wait "$DIRECTOR_PID" || rc=$?
	DIRECTOR_PID=""
	DIRECTOR_EXIT=$rc
	return $rc
}

# metric NAME [LABEL_FILTER]: sum of the samples of NAME whose labels contain the filter.
metric() {
	local name=$1 filter=${2:-}
	ip netns exec "$NS_DIR" curl -sf "http://$METRICS_ADDR/metrics" |
		awk -v n="$name" -v f="$filter" '
			$1 ~ "^"n"({|$)" && index($1, f) { s += $2 } END { printf "%d\n", s }'
}

# control_request REQUEST: the control socket's whole answer to one request line.
control_request() {
	ip netns exec "$NS_DIR" $PY -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
out = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    out += b
print(out.decode().strip())' "$CONTROL_SOCKET" "$1"
}

reload_director() {
	ip netns exec "$NS_DIR" "$TANDEM_DIRECTOR" --reload --control-socket "$CONTROL_SOCKET" "$@"
}

# check NAME EXPECTED GOT
check() {
	if [ "$2" = "$3" ]; then
		printf "PASS: %-60s expected %s, got %s\n" "$1" "$2" "$3"
	else
		printf "FAIL: %-60s expected %s, got %s\n" "$1" "$2" "$3"
		ret=1
	fi
}

# check_ge NAME MIN GOT
check_ge() {
	if [ "$3" -ge "$2" ]; then
		printf "PASS: %-60s expected >= %s, got %s\n" "$1" "$2" "$3"
	else
		printf "FAIL: %-60s expected >= %s, got %s\n" "$1" "$2" "$3"
		ret=1
	fi
}

# traffic ARGS...: runs traffic.py in the client namespace.
traffic() {
	ip netns exec "$NS_CLI" $PY "$LIB_DIR/traffic.py" --iface c0 --dst-mac "$D0_MAC" "$@"
}

# encap_ref CONFIG [NEXT_HOP_MAC]: the reference encoder's output for the frames on stdin
# (next hop: 10.0.0.1, c0, unless given).
encap_ref() {
	"$TANDEM_ENCAP_REF" "$1" "$D0_MAC" "${2:-$C0_MAC}" 10.0.0.2
}

finish() {
	if ! stop_director; then
		echo "FAIL: director exit status: expected 0, got $DIRECTOR_EXIT; its log:"
		cat "$TMP/director.log"
		ret=1
	else
		printf "PASS: %-60s expected 0, got 0\n" "director exits cleanly on SIGTERM"
	fi
	local xdp
	xdp=$(ip -n "$NS_DIR" -d link show d0 | grep -c 'prog/xdp')
	check "no XDP program left on d0 after exit" 0 "$xdp"
	if grep -q "ERROR: AddressSanitizer\|runtime error:" "$TMP/director.log"; then
		echo "FAIL: sanitizer report in the director's log:"
		cat "$TMP/director.log"
		ret=1
	fi
	exit $ret
}
