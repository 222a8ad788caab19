#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end rate of tandem-director on veth, copy mode, 64-byte frames offered by xdpgen
# (AF_XDP). Reports the generator's own ceiling (no director) and, for 1 and 2 workers,
# the highest offered rate the director forwards without loss and its ratio to the
# ceiling. A benchmark: prints figures, never registered as a test.
#   sudo tests/bench/director/veth_rate.sh BUILD_DIR [SECONDS]
#
#   netns gen: g0 (xdpgen on queue q)  <== veth, Q queues ==>  netns dir: d0 (director)
#   GUE comes back to g0 (gateway_mac = g0's MAC) and is counted in g0's rx_packets.
set -u
BUILD=${1:?usage: veth_rate.sh BUILD_DIR [SECONDS]}
SECS=${2:-3}
DIRECTOR=$BUILD/director/tandem-director
GEN=$BUILD/tests/bench/director/xdpgen
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
[ -x "$DIRECTOR" ] && [ -x "$GEN" ] || { echo "build $DIRECTOR and $GEN first"; exit 2; }

S=$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')
NG=tandem-bgen-$S; ND=tandem-bdir-$S
TMP=$(mktemp -d /tmp/tandem-bench.XXXXXX)
PID=""
cleanup() {
	[ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	ip netns del "$NG" 2>/dev/null; ip netns del "$ND" 2>/dev/null; rm -rf "$TMP"
}
trap cleanup EXIT

setup() {  # setup QUEUES
	ip netns del "$NG" 2>/dev/null; ip netns del "$ND" 2>/dev/null
	ip netns add "$NG"; ip netns add "$ND"
	ip -n "$NG" link add g0 numtxqueues "$1" numrxqueues "$1" type veth \
		peer name d0 numtxqueues "$1" numrxqueues "$1" netns "$ND"
	ip -n "$NG" addr add 10.0.0.1/24 dev g0; ip -n "$ND" addr add 10.0.0.2/24 dev d0
	ip -n "$NG" link set g0 up; ip -n "$ND" link set d0 up
	ip -n "$NG" link set lo up; ip -n "$ND" link set lo up
	G0_MAC=$(ip -n "$NG" -br link show g0 | awk '{print $3}')
	D0_MAC=$(ip -n "$ND" -br link show d0 | awk '{print $3}')
}

rx() { ip netns exec "$NG" cat /sys/class/net/g0/statistics/rx_packets; }
tx() { ip netns exec "$NG" cat /sys/class/net/g0/statistics/tx_packets; }

# offer RATE QUEUES: runs one generator per queue for SECS seconds; prints "sent received"
offer() {
	local rate=$1 q=$2 i before after tx_before tx_after
	before=$(rx)
	tx_before=$(tx)
	for i in $(seq 0 $((q - 1))); do
		ip netns exec "$NG" "$GEN" --iface g0 --queue "$i" --dst-mac "$D0_MAC" \
			--rate "$(awk -v r="$rate" -v q="$q" 'BEGIN { printf "%d", r / q }')" \
			--seconds "$SECS" >"$TMP/gen$i.out" 2>&1 &
	done
	wait  # the generators (offer runs in a subshell of its own)
	sleep 0.5
	after=$(rx)
	tx_after=$(tx)
	# What left g0 (the kernel's count), not what xdpgen submitted.
	echo "$((tx_after - tx_before)) $((after - before))"
}

ceiling() {  # ceiling QUEUES: the generator alone (nothing on d0)
	setup "$1"
	read -r sent _ < <(offer 0 "$1")
	echo $((sent / SECS))
}

run_director() {  # run_director QUEUES
	setup "$1"
	cores="[0]"; [ "$1" = 2 ] && cores="[0, 1]"
	cat >"$TMP/d.yaml" <<EOT
director:
  interface: d0
  queues: $1
  cores: $cores
  gateway_mac: $G0_MAC
  metrics: 127.0.0.1:9470
  bind_mode: copy
services:
  - name: bench
    binds:
      - {address: 192.0.2.10, protocol: tcp, ports: [80]}
    hash_key: 4a9b2e0c5d8f1a3b6c7d8e9f0a1b2c3d
    seed: 9f8e7d6c5b4a39281706f5e4d3c2b1a0
    backends:
      - {address: 10.0.1.1}
      - {address: 10.0.1.2}
      - {address: 10.0.1.3}
EOT
	ip netns exec "$ND" "$DIRECTOR" -c "$TMP/d.yaml" --control-socket "$TMP/ctl.sock" \
		--log-level warning >"$TMP/director.log" 2>&1 &
	PID=$!
	for _ in $(seq 100); do
		ip netns exec "$ND" curl -sf http://127.0.0.1:9470/metrics >/dev/null && break
		sleep 0.1
	done
}

for q in 1 2; do
	ceil=$(ceiling "$q")
	echo "queues/workers $q: generator ceiling (xdpgen alone, $q queue(s)): $ceil pps"
	run_director "$q"
	best=0
	for rate in 50000 100000 150000 200000 300000 400000 600000 800000 1200000; do
		[ "$rate" -gt $((ceil * 12 / 10)) ] && break
		read -r sent got < <(offer "$rate" "$q")
		loss=$(awk -v s="$sent" -v g="$got" 'BEGIN { printf "%.3f", s ? 100 * (s - g) / s : 0 }')
		echo "  offered $rate pps: sent $sent, forwarded $got, loss $loss%"
		if awk -v l="$loss" 'BEGIN { exit !(l <= 0.01) }'; then
			best=$((sent / SECS))
		fi
	done
	# Where the losses were (cumulative over the run): the veth's own drops (its XDP
	# ring towards d0), the socket's, and the worker's.
	ip netns exec "$ND" curl -sf http://127.0.0.1:9470/metrics | awk '
		/^tandem_director_(xsk_rx_dropped_total|ring_full_events_total|fill_ring_empty_total|dropped_packets_total|rx_packets_total|tx_packets_total)/ && $2 > 0 {
			print "  director " $1 " " $2 }'
	echo "  d0 rx_dropped $(ip netns exec "$ND" cat /sys/class/net/d0/statistics/rx_dropped)," \
		"g0 tx_dropped $(ip netns exec "$NG" cat /sys/class/net/g0/statistics/tx_dropped)"
	kill -TERM "$PID"; wait "$PID"; PID=""
	echo "queues/workers $q: loss-free forwarding rate $best pps," \
		"$(awk -v b="$best" -v c="$ceil" 'BEGIN { printf "%.0f", c ? 100 * b / c : 0 }')% of the generator's ceiling"
done
