#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Bursts at top speed (tcpreplay) into one worker, then its link taken down under load.
# A frame the worker takes from RX is dropped only for a verdict, never because its own TX
# ring is full: the TX ring pushes back on RX instead, and overload shows up as frames the
# kernel could not put on the RX ring. Checked on the director's own counters:
#   every frame the classifier redirected = taken by the worker + dropped by the kernel
#   every frame the worker took = encapsulated (+ dropped for a verdict: none here)
#   every frame encapsulated was completed by the kernel (nothing dropped on TX)
# Then, with frames still arriving, d0 goes down: the worker must sleep (its CPU time
# over 2 s stays small) and come back when the link does.
source "$(dirname "$0")/lib.sh"

command -v tcpreplay >/dev/null || skip "tcpreplay not installed (apt install tcpreplay)"
FRAMES=${BURST_FRAMES:-2000}   # distinct frames in the pcap
LOOPS=${BURST_LOOPS:-100}      # replays of it per burst: 200,000 frames
setup_topology
cat >"$TMP/director.yaml" <<EOT
$(director_section "ring_size: 512")
services:
  - name: web
    binds:
      - {address: 192.0.2.10, protocol: tcp, ports: [80]}
    hash_key: 4a9b2e0c5d8f1a3b6c7d8e9f0a1b2c3d
    seed: 9f8e7d6c5b4a39281706f5e4d3c2b1a0
    hash_fields: [src_addr, src_port]
    backends:
      - {address: 10.0.1.1}
      - {address: 10.0.1.2}
EOT
start_director "$TMP/director.yaml" || exit 1
traffic build "many$FRAMES" >"$TMP/frames.txt"
$PY "$LIB_DIR/traffic.py" pcap --frames "$TMP/frames.txt" --out "$TMP/burst.pcap"

quiet() {  # quiet: the director's TX has completed everything it encapsulated
	[ "$(metric tandem_director_tx_packets_total)" = "$(metric tandem_director_encapsulated_packets_total)" ]
}
for burst in 1 2 3; do
	ip netns exec "$NS_CLI" timeout 60 tcpreplay -q -K --topspeed --loop "$LOOPS" -i c0 "$TMP/burst.pcap" \
		>"$TMP/tcpreplay-$burst.log" 2>&1 || { echo "tcpreplay failed:"; cat "$TMP/tcpreplay-$burst.log"; }
	busywait 10000 quiet
	rate=$(grep -o '[0-9.]* pps' "$TMP/tcpreplay-$burst.log" | head -1)
	redirected=$(metric tandem_director_xdp_packets_total 'action="redirect"')
	taken=$(metric tandem_director_rx_packets_total)
	rx_full=$(metric tandem_director_ring_full_events_total 'ring="rx"')
	kernel_dropped=$(($(metric tandem_director_xsk_rx_dropped_total) + rx_full))
	encap=$(metric tandem_director_encapsulated_packets_total)
	verdicts=$(metric tandem_director_dropped_packets_total)
	echo "burst $burst: $((FRAMES * LOOPS)) frames offered at ${rate:-? pps}; redirected $redirected, worker took $taken, kernel dropped $kernel_dropped (RX ring full: $rx_full), encapsulated $encap, TX ring full $(metric tandem_director_ring_full_events_total 'ring="tx"') times, kicks $(metric tandem_director_tx_kicks_total), kick errors $(metric tandem_director_tx_kick_errors_total)"
	check "burst $burst: redirected = taken by the worker + dropped by the kernel" "$redirected" "$((taken + kernel_dropped))"
	check "burst $burst: taken = encapsulated + dropped for a verdict" "$taken" "$((encap + verdicts))"
	check "burst $burst: no frame dropped for a verdict" 0 "$verdicts"
	check "burst $burst: every encapsulated frame completed on TX" "$encap" "$(metric tandem_director_tx_packets_total)"
done
check_ge "bursts: the worker took frames" 1 "$(metric tandem_director_rx_packets_total)"

# The worker thread's CPU time (utime + stime, clock ticks) from /proc.
worker_ticks() {
	local t
	for t in /proc/"$DIRECTOR_PID"/task/*; do
		[ "$(cat "$t/comm")" = "tandem-q0" ] && awk '{ print $14 + $15 }' "$t/stat" && return
	done
	echo "no thread named tandem-q0 in the director" >&2
	echo -1
}
ip netns exec "$NS_CLI" timeout 60 tcpreplay -q -K --topspeed --loop $((LOOPS * 5)) -i c0 "$TMP/burst.pcap" \
	>/dev/null 2>&1 &
replay=$!
sleep 0.5
ip -n "$NS_DIR" link set d0 down
sleep 0.5
t0=$(worker_ticks)
sleep 2
t1=$(worker_ticks)
kill "$replay" 2>/dev/null
wait "$replay" 2>/dev/null
hz=$(getconf CLK_TCK)
echo "link down: the worker used $((t1 - t0)) of $((2 * hz)) clock ticks in 2 s; sleeps: link_down $(metric tandem_director_worker_sleeps_total 'reason="link_down"'), tx_wait $(metric tandem_director_worker_sleeps_total 'reason="tx_wait"'), idle $(metric tandem_director_worker_sleeps_total 'reason="idle"')"
if [ "$t0" -ge 0 ] && [ $((t1 - t0)) -lt $((2 * hz / 5)) ]; then
	printf "PASS: %-60s expected < 20%%, got %d ticks\n" "link down: the worker sleeps instead of spinning" $((t1 - t0))
else
	printf "FAIL: %-60s expected < 20%%, got %d of %d ticks\n" "link down: the worker sleeps instead of spinning" $((t1 - t0)) $((2 * hz))
	ret=1
fi
ip -n "$NS_DIR" link set d0 up
ip -n "$NS_DIR" route replace 10.0.1.0/24 via 10.0.0.1  # gone with the link
busywait 10000 neighbours_resolved 0
before=$(metric tandem_director_tx_packets_total)
traffic send --frames "$TMP/frames.txt" --rate 2000 --timeout 10 >/dev/null 2>&1
busywait 10000 sh -c "[ \$(ip netns exec $NS_DIR curl -sf http://$METRICS_ADDR/metrics | awk '/^tandem_director_tx_packets_total/ { s += \$2 } END { print s }') -ge $((before + FRAMES)) ]"
check_ge "link up again: the worker forwards again" $((before + FRAMES)) "$(metric tandem_director_tx_packets_total)"
finish
