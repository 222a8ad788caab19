#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end rate of tandem-director on veth, AF_XDP copy mode, 64-byte frames offered by
# xdpgen (AF_XDP), against references measured in the same run on the same veth pair:
#   ceiling   the generator alone, into an XDP_DROP sink on d0 (bench_xdp.bpf.c, xdp-loader)
#   hairpin   an XDP_TX program on d0 that sends every frame straight back: the in-kernel
#             path XDP data planes stand on
#   director  tandem-director with 1 and 2 workers, GUE back to g0 (gateway_mac)
# For each, per run: saturation throughput (offered as fast as the generator can), the
# highest loss-free rate (nothing lost over SECONDS, searched down from the saturation
# throughput), and for the director the workers' CPU time per forwarded packet (their
# threads' schedstat, during the saturation run); then ratios to the ceiling and the
# hairpin; and a burst: 409,600 frames replayed at top speed (tcpreplay) into one worker,
# with what the worker dropped for a full TX ring (nothing, by construction: encapsulated =
# completed). RUNS runs, min / median / max. A benchmark: prints figures, never a test.
#   [VETH_RATE_RT=0] tests/bench/director/veth_rate.sh BUILD_DIR [SECONDS] [RUNS]   (as root)
#
#   netns gen: g0 (xdpgen, queue q)  <== veth, Q queues ==>  netns dir: d0 (XDP / director)
#   What comes back to g0 is counted in g0's rx_packets (and dropped there by the sink).
set -u
BUILD=${1:?usage: veth_rate.sh BUILD_DIR [SECONDS] [RUNS]}
SECS=${2:-5}
RUNS=${3:-5}
HERE=$(cd "$(dirname "$0")" && pwd)
# The director and the generators (xdpgen, tcpreplay) run SCHED_FIFO, so that the other
# tenants of a shared machine (builds) do not decide the loss-free rate by preempting a
# worker long enough to fill its RX ring; the director above the generators, which spin
# and would otherwise starve a worker sharing their core. VETH_RATE_RT=0: as ordinary
# processes.
PRIO=(chrt -f 10); DIRECTOR_PRIO=(chrt -f 20)
[ "${VETH_RATE_RT:-1}" = 0 ] && PRIO=(env) && DIRECTOR_PRIO=(env)
DIRECTOR=$BUILD/director/tandem-director
GEN=$BUILD/tests/bench/director/xdpgen
XDP_OBJS=$BUILD/tests/bench/director
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
for f in "$DIRECTOR" "$GEN" "$XDP_OBJS/bench_sink.bpf.o" "$XDP_OBJS/bench_hairpin.bpf.o"; do
	[ -e "$f" ] || { echo "build $f first (ninja -C $BUILD)"; exit 2; }
done
command -v tcpreplay >/dev/null || { echo "tcpreplay is missing (tests/deps/install director)"; exit 2; }

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
	# No IPv6 on the pair: the kernel's own frames (router solicitations, MLD) would count
	# as frames sent that never come back.
	ip netns exec "$NG" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip netns exec "$ND" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip -n "$NG" link add g0 numtxqueues "$1" numrxqueues "$1" type veth \
		peer name d0 numtxqueues "$1" numrxqueues "$1" netns "$ND"
	ip -n "$NG" addr add 10.0.0.1/24 dev g0; ip -n "$ND" addr add 10.0.0.2/24 dev d0
	ip -n "$NG" link set g0 up; ip -n "$ND" link set d0 up
	ip -n "$NG" link set lo up; ip -n "$ND" link set lo up
	# What comes back is counted, then dropped, by an XDP_DROP sink on g0 too: without an
	# XDP program on g0, veth drops the XDP_TX frames d0 sends it (xdp_tx_errors).
	xdp_load "$NG" g0 sink
	G0_MAC=$(ip -n "$NG" -br link show g0 | awk '{print $3}')
	D0_MAC=$(ip -n "$ND" -br link show d0 | awk '{print $3}')
}

rx() { ip netns exec "$NG" cat /sys/class/net/g0/statistics/rx_packets; }
tx() { ip netns exec "$NG" cat /sys/class/net/g0/statistics/tx_packets; }

# The director's workers' time on CPU so far, ns (schedstat of the tandem-q* threads).
worker_ns() {
	local t sum=0
	[ -n "$PID" ] || { echo 0; return; }
	for t in /proc/"$PID"/task/*; do
		case $(cat "$t/comm" 2>/dev/null) in
		tandem-q*) sum=$((sum + $(cut -d' ' -f1 "$t/schedstat"))) ;;
		esac
	done
	echo "$sum"
}

# offer RATE QUEUES: one generator per queue for SECS seconds (RATE 0: as fast as it can);
# prints "sent received worker_ns" (sent: what left g0, by the kernel's count).
offer() {
	local rate=$1 q=$2 i before tx_before ns_before
	before=$(rx); tx_before=$(tx); ns_before=$(worker_ns)
	for i in $(seq 0 $((q - 1))); do
		ip netns exec "$NG" "${PRIO[@]}" "$GEN" --iface g0 --queue "$i" --dst-mac "$D0_MAC" \
			--rate "$(awk -v r="$rate" -v q="$q" 'BEGIN { printf "%d", r / q }')" \
			--seconds "$SECS" >"$TMP/gen$i.out" 2>&1 &
	done
	wait $(jobs -p | grep -v "^${PID:-x}$")
	sleep 0.5
	echo "$(($(tx) - tx_before)) $(($(rx) - before)) $(($(worker_ns) - ns_before))"
}

# xdp_load NS IFACE sink|hairpin: one of our reference programs on IFACE, through libxdp
# (xdp-loader), in place of what IFACE had.
xdp_load() {
	ip netns exec "$1" xdp-loader unload "$2" --all >/dev/null 2>&1
	ip netns exec "$1" xdp-loader load -m native "$2" "$XDP_OBJS/bench_$3.bpf.o" >"$TMP/xdp-loader.log" 2>&1 ||
		{ echo "cannot load bench_$3.bpf.o on $2:"; cat "$TMP/xdp-loader.log"; exit 1; }
}
xdp_unload() { ip netns exec "$ND" xdp-loader unload d0 --all >/dev/null 2>&1; }

run_director() {  # run_director QUEUES
	local cores="[0]"
	[ "$1" = 2 ] && cores="[0, 1]"
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
	ip netns exec "$ND" "${DIRECTOR_PRIO[@]}" "$DIRECTOR" -c "$TMP/d.yaml" --control-socket "$TMP/ctl.sock" \
		--log-level warning >"$TMP/director.log" 2>&1 &
	PID=$!
	for _ in $(seq 100); do
		ip netns exec "$ND" curl -sf http://127.0.0.1:9470/metrics >/dev/null && return
		sleep 0.1
	done
	echo "director did not start:"; cat "$TMP/director.log"; exit 1
}
stop_director() { kill -TERM "$PID"; wait "$PID"; PID=""; }
metric() {  # metric NAME [LABEL]
	ip netns exec "$ND" curl -sf http://127.0.0.1:9470/metrics |
		awk -v n="$1" -v f="${2:-}" '$1 ~ "^"n"({|$)" && index($1, f) { s += $2 } END { printf "%d\n", s }'
}

# measure NAME QUEUES: saturation, then the highest loss-free rate searched down from it.
# Appends "NAME sat lossfree ns_per_packet" to $TMP/results.
measure() {
	local name=$1 q=$2 sent got ns sat lf=0 f rate cpu
	read -r sent got ns < <(offer 0 "$q")
	sat=$((got / SECS))
	cpu=$(awk -v n="$ns" -v g="$got" 'BEGIN { printf "%.0f", g ? n / g : 0 }')
	for f in 100 95 90 85 80 70 60 50 40 30 20 10; do
		rate=$((sat * f / 100))
		[ "$rate" -gt 0 ] || break
		read -r sent got _ < <(offer "$rate" "$q")
		echo "    $name offered $rate pps: sent $sent, came back $got"
		if [ "$got" -ge "$sent" ]; then
			lf=$((sent / SECS))
			break
		fi
	done
	echo "  $name: saturation $sat pps, loss-free $lf pps$([ "$cpu" != 0 ] && echo ", workers' CPU ${cpu} ns/packet")"
	[ -n "$PID" ] && echo "  $name: where frames were lost (whole search): RX ring full $(metric tandem_director_ring_full_events_total 'ring="rx"'), fill ring empty $(metric tandem_director_xsk_rx_dropped_total), verdicts $(metric tandem_director_dropped_packets_total), XDP passed $(metric tandem_director_xdp_packets_total 'action="pass"'), redirected $(metric tandem_director_xdp_packets_total 'action="redirect"'), taken by workers $(metric tandem_director_rx_packets_total), sent on TX $(metric tandem_director_tx_packets_total); TX frames the device dropped (kick EBUSY) $(metric tandem_director_tx_kick_errors_total 'errno="ebusy"'), d0 rx_dropped $(ip netns exec "$ND" cat /sys/class/net/d0/statistics/rx_dropped), d0 tx_dropped $(ip netns exec "$ND" cat /sys/class/net/d0/statistics/tx_dropped)"
	echo "$name $sat $lf $cpu" >>"$TMP/results"
}

burst() {  # burst: tcpreplay at top speed into one worker; appends "burst pps dropped_tx held"
	/usr/bin/python3 "$HERE/../../netns/traffic.py" --dst-mac "$D0_MAC" build many4096 >"$TMP/frames.txt"
	/usr/bin/python3 "$HERE/../../netns/traffic.py" pcap --frames "$TMP/frames.txt" --out "$TMP/burst.pcap"
	local enc_before tx_before out pps enc txd full
	enc_before=$(metric tandem_director_encapsulated_packets_total)
	tx_before=$(metric tandem_director_tx_packets_total)
	out=$(ip netns exec "$NG" "${PRIO[@]}" tcpreplay -K --topspeed --loop 100 -i g0 "$TMP/burst.pcap" 2>&1)
	pps=$(echo "$out" | grep -o 'Rated: [0-9.]* Bps, [0-9.]* Mbps, [0-9.]* pps' | awk '{print $(NF-1)}')
	sleep 1
	enc=$(($(metric tandem_director_encapsulated_packets_total) - enc_before))
	txd=$(($(metric tandem_director_tx_packets_total) - tx_before))
	full=$(metric tandem_director_ring_full_events_total 'ring="tx"')
	echo "  burst: 409600 frames replayed at ${pps:-?} pps: encapsulated $enc, completed on TX $txd, dropped for a full TX ring $((enc - txd)), batches that waited for TX room $full (cumulative), RX-ring overflow $(metric tandem_director_ring_full_events_total 'ring="rx"') (cumulative)"
	echo "burst ${pps:-0} $((enc - txd))" >>"$TMP/results"
}

: >"$TMP/results"
for run in $(seq 1 "$RUNS"); do
	echo "== run $run of $RUNS (${SECS} s per offered rate)"
	setup 1
	xdp_load "$ND" d0 sink
	read -r sent _ _ < <(offer 0 1)
	echo "  ceiling (1 queue, into XDP_DROP): $((sent / SECS)) pps"
	echo "ceiling1 $((sent / SECS)) 0 0" >>"$TMP/results"
	xdp_load "$ND" d0 hairpin
	measure hairpin 1
	xdp_unload
	run_director 1
	measure director1 1
	burst
	stop_director
	setup 2
	xdp_load "$ND" d0 sink
	read -r sent _ _ < <(offer 0 2)
	echo "  ceiling (2 queues, into XDP_DROP): $((sent / SECS)) pps"
	echo "ceiling2 $((sent / SECS)) 0 0" >>"$TMP/results"
	xdp_unload
	run_director 2
	measure director2 2
	stop_director
done

echo "== summary over $RUNS runs: min / median / max"
/usr/bin/python3 - "$TMP/results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, *v = line.split()
    rows.setdefault(name, []).append([float(x) for x in v])
def col(name, i):
    return [r[i] for r in rows.get(name, [])]
def mmm(xs, fmt="%.0f"):
    return " / ".join(fmt % x for x in (min(xs), statistics.median(xs), max(xs))) if xs else "-"
runs = len(rows.get("director1", []))
print("%-12s %-30s %-30s %-22s %-22s %-22s" % ("", "saturation (pps)", "loss-free (pps)",
      "loss-free / own sat.", "sat. / ceiling", "sat. / hairpin"))
for name, ceil in (("hairpin", "ceiling1"), ("director1", "ceiling1"), ("director2", "ceiling2")):
    sat, lf = col(name, 0), col(name, 1)
    c, h = col(ceil, 0), col("hairpin", 0)
    print("%-12s %-30s %-30s %-22s %-22s %-22s" % (name, mmm(sat), mmm(lf),
          mmm([a / b for a, b in zip(lf, sat) if b], "%.2f"),
          mmm([a / b for a, b in zip(sat, c) if b], "%.2f"),
          mmm([a / b for a, b in zip(sat, h) if b], "%.2f")))
for name in ("director1", "director2"):
    print("%s workers' CPU per forwarded packet (ns): %s" % (name, mmm(col(name, 2))))
print("ceiling, 1 queue: %s pps; 2 queues: %s pps" % (mmm(col("ceiling1", 0)), mmm(col("ceiling2", 0))))
print("burst (tcpreplay top speed, 1 worker): rate %s pps; dropped for a full TX ring %s" %
      (mmm(col("burst", 0)), mmm(col("burst", 1))))
d1, d2 = col("director1", 0), col("director2", 0)
print("2 workers / 1 worker, saturation: %s" % mmm([b / a for a, b in zip(d1, d2) if a], "%.2f"))
PY
