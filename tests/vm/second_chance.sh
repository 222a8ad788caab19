#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# VM scenario: the second chance for real (issue 4).
#
#   cli 10.1.0.2 -- rtr 10.1.0.1 | 10.0.0.1 --[tndfab: br0]--+-- dir1 10.0.0.2 (tandem-director)
#                  ECMP (L4 hash) over dir1, dir2             +-- dir2 10.0.0.3 (tandem-director)
#                                                             +-- p1..p4 10.0.0.11..14 (proxies)
#   VIP 10.9.9.9 tcp/8080; proxies answer the client directly (DSR, via rtr).
#
# SC_N long-lived TCP streams (echo, every byte checked by the client) run
# while: p4 is added (filling, then active), p3 drained, p3 removed once its
# streams ended, p1 fails the directors' http health check (its health
# endpoint stops; its streams go on), dir2 restarted, dir1 removed from the
# ECMP route. A second service checks every proxy with GLB's gue check (an
# echo through the proxy's fou decapsulation and the module). Then new connections must land on the primary `tandemctl lookup`
# names. Run twice: with the module (tandem-proxyctl up), and with the
# module disabled on every proxy (plain ECMP + GLB table, no second chance).
# Default: 200 streams of 64 B each way every 4 s (SC_N, SC_PERIOD), 16 new
# connections after the changes (SC_NEW); about 400 s of TCG guest time.
# Prints "broken connections: with Tandem N, with plain ECMP M"; passes when
# N = 0 with every byte verified.
# Then two bulk runs with the module (issue 8; only with SC_BULK=1, as meson's
# vm-second_chance-bulk runs it with SC_MODES="bulk jumbo"): SC_BULK_N (20)
# connections each upload 4 MB (SC_BULK_BYTES) that the proxy echoes back, in 64 KiB
# chunks every SC_BULK_PERIOD (2 s) so they span the same steps, with full-size segments:
#   bulk   every link at MTU 1500: the proxies clamp the VIPs' MSS (options.mss: auto,
#          mss_hops = the directors' hops), seen in the SYN-ACKs on the client's wire (no
#          SYN-ACK above it; those after the PMTU drop below advertise 1400 - 40);
#          once they run, the router's link to the client drops to 1400, and the router's ICMP
#          fragmentation-needed (to the VIP, through a director and the module) must lower
#          the PMTU of the proxy sockets that hold the flows (ss shows pmtu:1400).
#   jumbo  9000 inside (router, directors, proxies; XDP generic, as veth's native XDP
#          takes no 9000-byte MTU without multi-buffer) and 1500 outside, no MSS clamping
#          (options.mss: off): 1500-byte client packets, and nothing is too big: the
#          directors' too-big counters stay 0.
# SC_MODES (default "tandem plain bulk jumbo") picks the runs.
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"
set -u
CTL="$VM_BUILD/redirect/tandem-proxyctl"
DIRECTOR="$VM_BUILD/director/tandem-director"
TANDEMCTL=${SC_TANDEMCTL:-"$VM_BUILD/director/tandemctl/tandemctl"}
SC_PY="$(dirname "$VM_LIB")/sc_streams.py"
N=${SC_N:-200}
PERIOD=${SC_PERIOD:-4}
NEWCONNS=${SC_NEW:-16}
W=/tmp/sc
VIP=10.9.9.9
PORT=8080
HEALTH_PORT=8081
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1
declare -A DPID

sc_cleanup() {
	local p
	for p in "${DPID[@]}"; do kill "$p" 2>/dev/null; done
	[ -n "${SRV_PIDS:-}" ] && kill $SRV_PIDS 2>/dev/null
	topo_cleanup
}
trap sc_cleanup EXIT

for f in "$DIRECTOR" "$TANDEMCTL" "$CTL"; do
	[ -x "$f" ] || { echo "SKIP: $f not built"; exit 77; }
done
lab_insmod_tandem || exit 1

t0=$(date +%s)
ts() { printf '[%4ds]' $(($(date +%s) - t0)); }
say() { echo "$(ts) $*"; }
# event TEXT: say it, and note its wall-clock time for the picture (tests/lab/second_chance_plot.py).
event() {
	say "$*"
	echo "$(date +%s.%N) $*" >>"$W/events"
}

# config GEN: the directors' config of step GEN.
#   0 p1 p2 p3 | 1 +p4 filling | 2 p4 active | 3 p3 draining | 4 p3 removed
#   5 = 4 with p1 healthy: false: never loaded, it is what the health check makes of 4
#       (tandemctl lookup reads it)
config() {
	local gen=$1
	cat <<EOT
director:
  interface: eth0
  queues: 1
  metrics: 127.0.0.1:9470
  bind_mode: copy
  xdp_mode: ${XDP_MODE:-${SC_XDP_MODE:-native}}
services:
  - name: web
    binds:
      - {address: $VIP, protocol: tcp, ports: [$PORT]}
    hash_key: 4a9b2e0c5d8f1a3b6c7d8e9f0a1b2c3d
    seed: 9f8e7d6c5b4a39281706f5e4d3c2b1a0
    hash_fields: [src_addr, src_port]
    hops_per_row: ${SC_HOPS:-3}
    health_check: {type: http, port: $HEALTH_PORT, path: /health, interval_ms: 1000, timeout_ms: 800, rise: 2, fall: 2}
    backends:
EOT
	if [ "$gen" -ge 5 ]; then
		echo "      - {address: 10.0.0.11, state: active, healthy: false}"
	else
		echo "      - {address: 10.0.0.11, state: active}"
	fi
	echo "      - {address: 10.0.0.12, state: active}"
	if [ "$gen" -lt 3 ]; then
		echo "      - {address: 10.0.0.13, state: active}"
	elif [ "$gen" -lt 4 ]; then
		echo "      - {address: 10.0.0.13, state: draining}"
	fi
	if [ "$gen" -eq 1 ]; then
		echo "      - {address: 10.0.0.14, state: filling}"
	elif [ "$gen" -ge 2 ]; then
		echo "      - {address: 10.0.0.14, state: active}"
	fi
	cat <<EOT
  - name: tunnel
    binds:
      - {address: 10.9.9.10, protocol: tcp, ports: [$PORT]}
    hash_key: 0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e
    seed: 1a2b3c4d5e6f70819203a4b5c6d7e8f9
    health_check: {type: gue, interval_ms: 1000, timeout_ms: 800, rise: 2, fall: 2}
    backends:
      - {address: 10.0.0.11}
      - {address: 10.0.0.12}
      - {address: 10.0.0.14}
EOT
}

metrics_of() { topo_exec "$1" curl -sf http://127.0.0.1:9470/metrics; }
# metric DIRECTOR NAME [LABEL...]: sum of the samples whose labels include every LABEL.
metric() {
	local d=$1 n=$2
	shift 2
	metrics_of "$d" | awk -v n="$n" -v f="$*" '
		$1 ~ "^"n"({|$)" { k = split(f, want, " "); for (i = 1; i <= k; i++) if (!index($1, want[i])) next; s += $2 }
		END { printf "%d\n", s }'
}
# healthy_count DIRECTOR SERVICE: backends of SERVICE the director's checks call healthy.
healthy_count() { metric "$1" tandem_director_backend_healthy "service=\"$2\""; }
# backend_healthy DIRECTOR SERVICE ADDRESS: 1, 0, or "missing".
backend_healthy() {
	metrics_of "$1" | awk -v s="service=\"$2\"" -v b="backend=\"$3\"" '
		$1 ~ /^tandem_director_backend_healthy{/ && index($1, s) && index($1, b) { v = $2 }
		END { print (v == "" ? "missing" : v) }'
}
p1_down_everywhere() {
	[ "$(backend_healthy dir1 web 10.0.0.11)" = 0 ] && [ "$(backend_healthy dir2 web 10.0.0.11)" = 0 ]
}
tunnel_checks_ok() { metric "$1" tandem_director_health_checks_total 'service="tunnel"' 'result="ok"'; }
tunnel_checks_ran() { [ "$(tunnel_checks_ok dir1)" -ge 6 ] && [ "$(tunnel_checks_ok dir2)" -ge 6 ]; }
director_ready() {
	metrics_of "$1" >/dev/null && [ "$(metric "$1" tandem_director_unresolved_neighbours)" = 0 ]
}

start_director() {
	local d=$1
	# ip netns exec execs the director: $! is its pid
	ip netns exec "$TOPO_NS_PREFIX$d" "$DIRECTOR" -c "$W/$d.yaml" --foreground \
		--control-socket "/run/$d.sock" >>"$W/$d.log" 2>&1 &
	DPID[$d]=$!
	if ! lab_wait_s 90 director_ready "$d"; then
		lab_fail "$d did not come up within 60 s; its log:"
		cat "$W/$d.log"
		return 1
	fi
}

# set_config GEN: write both directors' config and reload them.
set_config() {
	local gen=$1 d out rc=0
	for d in dir1 dir2; do
		config "$gen" >"$W/$d.yaml"
		cp "$W/$d.yaml" "$W/gen$gen.yaml"
		if ! out=$(topo_exec "$d" "$DIRECTOR" --reload --control-socket "/run/$d.sock" 2>&1); then
			say "$d: reload to generation $gen refused: $out"
			rc=1
		fi
	done
	[ "$rc" = 0 ] && CUR_GEN=$gen
	return $rc
}

p3_streams_ended() {
	[ "$(established p3)" = 0 ] && return 0
	topo_exec cli ss -Htn state established "( dport = :$PORT )" |
		awk '{ sub(/.*:/, "", $3); print $3 }' | grep -qxFf "$W/ctl/finish" && return 1
	return 0
}

proxy_ports() {  # client ports whose connection was accepted by proxy $1
	awk '$1 == "accept" { print $4 }' "$W/$1.log"
}

established() {
	topo_exec "$1" ss -Htn state established "( sport = :$PORT )" | wc -l
}

# pmtu_lowered PROXY...: established VIP sockets on the proxies whose PMTU is 1400.
pmtu_lowered() {
	local p n=0
	for p in "$@"; do
		n=$((n + $(topo_exec "$p" ss -Htni state established "( sport = :$PORT )" | grep -c 'pmtu:1400')))
	done
	echo "$n"
}
pmtu_seen() { [ "$(pmtu_lowered p1 p2 p3)" -ge 1 ]; }

# run_scenario MODE (tandem | plain | bulk | jumbo): sets BROKEN, and the lab checks.
run_scenario() {
	local mode=$1 i p d
	local bulk=0 n=$N
	case $mode in bulk | jumbo) bulk=1; n=$BULK_N ;; esac
	XDP_MODE=""
	[ "$mode" = jumbo ] && XDP_MODE=generic
	rm -rf "$W"
	mkdir -p "$W/ctl" "$W/ctl2" "$W/www"
	echo ok >"$W/www/health"
	topo_cleanup
	DPID=()
	SRV_PIDS=""
	say "== $mode: topology"
	topo_init
	topo_host rtr 1
	topo_exec rtr sysctl -qw net.ipv4.ip_forward=1 net.ipv4.fib_multipath_hash_policy=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
	ip netns add tndcli
	ip link add r1 netns tndrtr type veth peer name eth0 netns tndcli
	topo_exec rtr ip addr add 10.1.0.1/24 dev r1
	topo_exec rtr ip link set r1 up
	topo_exec rtr ethtool -K r1 tx off >/dev/null 2>&1
	topo_exec cli ip link set lo up
	topo_exec cli ip addr add 10.1.0.2/24 dev eth0
	topo_exec cli ip link set eth0 up
	topo_exec cli ethtool -K eth0 tx off >/dev/null 2>&1
	topo_exec cli ip route add default via 10.1.0.1
	for d in dir1 dir2; do
		topo_host "$d" "$((${d#dir} + 1))"
		topo_exec "$d" ip route add 10.1.0.0/24 via 10.0.0.1
	done
	# The proxies clamp the MSS for the directors' hop count (options.mss: auto); with
	# jumbo frames inside nothing needs clamping: off, so clients send 1500-byte packets.
	TOPO_PROXY_YAML="options: {mss_hops: ${SC_HOPS:-3}}"$'\n'
	[ "$mode" = jumbo ] && TOPO_PROXY_YAML="options: {mss: off}"$'\n'
	for i in 1 2 3 4; do
		p=p$i
		topo_proxy "$p" "1$i" "$VIP" || return 1
		topo_exec "$p" ip route add 10.1.0.0/24 via 10.0.0.1
		[ "$mode" = plain ] && topo_exec "$p" "$CTL" -q disable
		ip netns exec "$TOPO_NS_PREFIX$p" "$LAB_PY" "$SC_PY" server "$p" "$VIP" "$PORT" "$W/$p.log" &
		SRV_PIDS="$SRV_PIDS $!"
		# the health endpoint the directors' http check asks
		ip netns exec "$TOPO_NS_PREFIX$p" timeout 900 "$LAB_PY" -m http.server --bind "10.0.0.1$i" \
			--directory "$W/www" "$HEALTH_PORT" >"$W/$p-health.log" 2>&1 &
		HEALTH_PID[$p]=$!
		SRV_PIDS="$SRV_PIDS $!"
	done
	topo_exec rtr ip route add "$VIP/32" nexthop via 10.0.0.2 nexthop via 10.0.0.3
	if [ "$mode" = jumbo ]; then
		for p in rtr dir1 dir2 p1 p2 p3 p4; do
			ip -n "${TOPO_NS_PREFIX}fab" link set "v$p" mtu 9000
			topo_exec "$p" ip link set eth0 mtu 9000
		done
		ip -n "${TOPO_NS_PREFIX}fab" link set br0 mtu 9000
	fi
	if [ "$bulk" = 1 ]; then
		# every SYN-ACK the client sees (the MSS the proxies advertise)
		topo_exec cli tcpdump --immediate-mode -nli eth0 'tcp[tcpflags] & (tcp-syn|tcp-ack) == (tcp-syn|tcp-ack)' \
			>"$W/synack.txt" 2>/dev/null &
		SRV_PIDS="$SRV_PIDS $!"
	fi
	for d in dir1 dir2; do
		config 0 >"$W/$d.yaml"
		start_director "$d" || return 1
	done
	cp "$W/dir1.yaml" "$W/gen0.yaml"
	CUR_GEN=0
	# every proxy listens before the first SYN
	for i in 1 2 3 4; do
		lab_wait_s 60 sh -c "ip netns exec tndp$i ss -Htln '( sport = :$PORT )' | grep -q ." ||
			{ lab_fail "p$i: server not listening"; return 1; }
	done
	local stream_args=(--period "$PERIOD" --deadline 420)
	if [ "$bulk" = 1 ]; then
		stream_args=(--chunk 65536 --total "$BULK_BYTES" --period "$BULK_PERIOD" --deadline 600)
		say "directors and proxies up; $n bulk streams of $BULK_BYTES bytes each way, 64 KiB every ${BULK_PERIOD}s"
	else
		say "directors and proxies up; $N streams, 64 B each way every ${PERIOD}s"
	fi

	topo_exec cli "$LAB_PY" "$SC_PY" client "$VIP" "$PORT" "$n" "$W/ctl" "$W/result.json" \
		"${stream_args[@]}" >"$W/client.log" 2>&1 &
	local client=$!
	lab_wait_s 150 test -e "$W/ctl/connected" || { lab_fail "client did not connect"; cat "$W/client.log"; return 1; }
	say "$(cat "$W/client.log")"
	for i in 1 2 3; do
		SPREAD[$mode]="${SPREAD[$mode]:-} p$i=$(proxy_ports "p$i" | wc -l)"
	done
	say "spread over proxies:${SPREAD[$mode]}"
	if [ "$mode" = bulk ]; then
		# While the bulk streams run (whatever the steps below cost in TCG time).
		say "bulk: the router's link to the client drops to MTU 1400 (the proxies learn it by ICMP)"
		# (no ICMP rate limit on the router: each flow's holder needs its own error)
		topo_exec rtr sysctl -qw net.ipv4.icmp_ratelimit=0
		topo_exec cli ip link set eth0 mtu 1400
		topo_exec rtr ip link set r1 mtu 1400
		lab_wait_s 30 pmtu_seen
		PMTU_LOW=$(pmtu_lowered p1 p2 p3)
		say "bulk: $PMTU_LOW proxy sockets with pmtu:1400 (of $(( $(established p1) + $(established p2) + $(established p3) )) established)"
	fi
	sleep 8

	# GLB's gue check through each proxy's real decapsulation (fou, ipip, the module).
	# (a backend starts healthy: wait for checks that passed, then look at the verdicts)
	lab_wait_s 60 tunnel_checks_ran
	lab_check "$mode: gue checks through p1, p2, p4's decapsulation: healthy (dir1 + dir2)" 6 \
		"$(($(healthy_count dir1 tunnel) + $(healthy_count dir2 tunnel)))"
	lab_check "$mode: gue checks that passed, at least rise per proxy and director" 1 \
		"$(tunnel_checks_ran && echo 1 || echo 0)"
	say "$mode: gue checks passed $(tunnel_checks_ok dir1) + $(tunnel_checks_ok dir2), failed $(metric dir1 tandem_director_health_checks_total 'service="tunnel"' 'result="failed"') + $(metric dir2 tandem_director_health_checks_total 'service="tunnel"' 'result="failed"')"

	event "step 1: add p4 (filling, then active)"
	set_config 1
	sleep 6
	set_config 2
	sleep 8
	event "step 2: drain p3"
	set_config 3
	sleep 8
	event "step 3: remove p3 once its connections ended"
	proxy_ports p3 >"$W/ctl/finish"
	# Ended: p3 has no established socket left, or (plain ECMP: p3 never
	# hears of the resets the others sent) the client has none of them open.
	lab_wait_s 40 p3_streams_ended || say "p3's connections did not end within 40 s"
	say "p3: $(established p3) established connections left"
	set_config 4 || { say "retrying with --force"; for d in dir1 dir2; do
		topo_exec "$d" "$DIRECTOR" --reload --force --control-socket "/run/$d.sock"; done; CUR_GEN=4; }
	sleep 6
	event "step 4: p1 fails its health check (its health endpoint stops; its streams go on)"
	kill "${HEALTH_PID[p1]}"
	lab_wait_s 30 p1_down_everywhere
	lab_check "$mode: dir1's http check calls p1 down" 0 "$(backend_healthy dir1 web 10.0.0.11)"
	lab_check "$mode: dir2's http check calls p1 down" 0 "$(backend_healthy dir2 web 10.0.0.11)"
	config 5 >"$W/gen5.yaml"
	CUR_GEN=5
	sleep 8
	event "step 5: restart dir2"
	kill -TERM "${DPID[dir2]}"
	wait "${DPID[dir2]}"
	local drc=$?
	say "dir2 exited with $drc"
	lab_check "$mode: dir2 exits cleanly on SIGTERM" 0 "$drc"
	start_director dir2 || return 1
	sleep 6
	event "step 6: remove dir1 from the router's ECMP set"
	topo_exec rtr ip route replace "$VIP/32" via 10.0.0.3
	sleep 8

	say "new connections after the changes ($NEWCONNS)"
	topo_exec cli "$LAB_PY" "$SC_PY" client "$VIP" "$PORT" "$NEWCONNS" "$W/ctl2" "$W/result2.json" \
		--period 1 --deadline 60 >"$W/client2.log" 2>&1 &
	local client2=$!
	lab_wait_s 60 test -e "$W/ctl2/connected"
	sleep 4
	touch "$W/ctl2/end"
	wait "$client2"
	say "$(cat "$W/client2.log")"
	# Bulk streams end by themselves once all their bytes are back (p3's were finished
	# early, for its removal); the others are ended here.
	if [ "$bulk" = 1 ]; then
		lab_wait_s 300 sh -c "! kill -0 $client 2>/dev/null" ||
			{ say "bulk streams still running after 300 s: ending them"; touch "$W/ctl/end"; }
	else
		touch "$W/ctl/end"
	fi
	wait "$client"
	say "$(tail -n 1 "$W/client.log")"

	# Outcomes.
	BROKEN=$("$LAB_PY" -c '
import json, sys
r = json.load(open(sys.argv[1]))["conns"]
bad = [c for c in r if c["outcome"] != "ok"]
kinds = {}
for c in bad:
	kinds[c["outcome"]] = kinds.get(c["outcome"], 0) + 1
print(len(bad), sum(c["verified"] for c in r), " ".join("%s=%d" % kv for kv in sorted(kinds.items())) or "-")
' "$W/result.json")
	set -- $BROKEN
	BROKEN=$1
	say "$mode: $1 of $n streams broken ($3), $2 bytes echoed and verified"
	VERIFIED[$mode]=$2
	if [ "$bulk" = 1 ]; then
		RATE[$mode]=$(tail -n 1 "$W/client.log" | awk '{ for (i = 1; i < NF; i++) if ($(i+1) == "bytes") b = $i; t = $NF; sub(/s$/, "", t); printf "%.2f", 2 * b / t / 1e6 }')
		say "$mode: $(tail -n 1 "$W/client.log"): ${RATE[$mode]} MB/s up + down"
		SYNACK_ALL[$mode]=$(grep -c 'Flags \[S\.\]' "$W/synack.txt")
		SYNACK_MSS[$mode]=$(grep 'Flags \[S\.\]' "$W/synack.txt" | grep -o 'mss [0-9]*' | sort | uniq -c | tr -s ' ' | paste -sd,)
		say "$mode: SYN-ACKs on the client's wire: ${SYNACK_ALL[$mode]}, MSS:${SYNACK_MSS[$mode]}"
		TOO_BIG[$mode]=0
		for d in dir1 dir2; do
			local tb ic
			tb=$(metric "$d" tandem_director_dropped_packets_total 'reason="too_big"')
			ic=$(metric "$d" tandem_director_icmp_too_big_total)
			say "$d: too_big $tb, ICMP too-big (all results) $ic, frame_too_big $(metric "$d" tandem_director_dropped_packets_total 'reason="frame_too_big"')"
			TOO_BIG[$mode]=$((TOO_BIG[$mode] + tb + ic))
		done
	fi
	for i in 1 2 3 4; do
		FWD[$mode.p$i]=$(topo_exec "p$i" "$CTL" stats --json |
			"$LAB_PY" -c 'import json,sys; print(json.load(sys.stdin).get("forwarded", 0))')
	done
	say "$mode: forwarded by p1..p4: ${FWD[$mode.p1]} ${FWD[$mode.p2]} ${FWD[$mode.p3]} ${FWD[$mode.p4]}"
	for d in dir1 dir2; do
		say "$d: $(metric "$d" tandem_director_config_generation) config generation, dropped $(metric "$d" tandem_director_dropped_packets_total)"
	done

	# New connections: the proxy that accepted = the primary of the current config.
	local good total
	read -r good total < <(cat "$W"/p?.log | "$LAB_PY" -c '
import json, subprocess, sys
ctl, cfg, ports_file, vport = sys.argv[1:5]
who = {}
for line in sys.stdin:
    f = line.split()
    if f and f[0] == "accept":
        who[int(f[3])] = "10.0.0.1" + f[1][1:]
good = total = 0
for line in open(ports_file):
    port = int(line.split()[1])
    if not port:
        continue
    total += 1
    out = subprocess.run([ctl, "lookup", cfg, "web", "--src", "10.1.0.2", "--sport", str(port),
                          "--dport", vport, "--json"], capture_output=True, text=True)
    try:
        want = json.loads(out.stdout)["hops"][0]
    except (ValueError, KeyError, IndexError):
        want = "? (tandemctl: %s)" % out.stderr.strip()
    if who.get(port) == want:
        good += 1
    else:
        print("new connection from port %d: accepted by %s, primary %s" % (port, who.get(port), want), file=sys.stderr)
print(good, total)
' "$TANDEMCTL" "$W/gen$CUR_GEN.yaml" "$W/ctl2/connected" "$PORT")
	NEW_OK[$mode]="$good/$total"
	NEW_BROKEN[$mode]=$("$LAB_PY" -c 'import json,sys; print(sum(c["outcome"] != "ok" for c in json.load(open(sys.argv[1]))["conns"]))' "$W/result2.json")
	say "$mode: $good of $total new connections on the primary tandemctl lookup names"
	for d in dir1 dir2; do
		if grep -q "ERROR: AddressSanitizer\|runtime error:" "$W/$d.log"; then
			lab_fail "$mode: sanitizer report in $d's log"
			cat "$W/$d.log"
		fi
	done
	for p in "${DPID[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	DPID=()
	kill $SRV_PIDS 2>/dev/null
	wait 2>/dev/null
	SRV_PIDS=""
	cp "$W/result.json" "$VM_OUT/result-$mode.json" 2>/dev/null
	cp "$W/events" "$VM_OUT/events-$mode.txt" 2>/dev/null
	cp "$W/dir1.log" "$VM_OUT/dir1-$mode.log" 2>/dev/null
	return 0
}

declare -A SPREAD FWD NEW_OK NEW_BROKEN HEALTH_PID VERIFIED RATE SYNACK_ALL SYNACK_MSS TOO_BIG
BULK_N=${SC_BULK_N:-20}
BULK_BYTES=${SC_BULK_BYTES:-4194304}
BULK_PERIOD=${SC_BULK_PERIOD:-2}
MODES=${SC_MODES:-tandem plain bulk jumbo}
# The bulk runs are off unless SC_BULK=1: they are a test of their own (vm-second_chance-bulk).
[ "${SC_BULK:-0}" = 0 ] && MODES=${MODES//bulk/} && MODES=${MODES//jumbo/}
has_mode() { case " $MODES " in *" $1 "*) return 0 ;; esac; return 1; }

# bulk_checks MODE: the bulk runs' own checks (after run_scenario MODE).
bulk_checks() {
	local mode=$1 t
	lab_check "$mode: broken bulk streams" 0 "$BROKEN"
	lab_check "$mode: new connections on the primary" "$NEWCONNS/$NEWCONNS" "${NEW_OK[$mode]}"
	lab_check "$mode: new connections intact" 0 "${NEW_BROKEN[$mode]}"
	t=$("$LAB_PY" -c 'import json,sys; print(sum(c["sent"] for c in json.load(open(sys.argv[1]))["conns"]))' "$VM_OUT/result-$mode.json")
	lab_check "$mode: every byte sent came back and was verified" "$t" "${VERIFIED[$mode]}"
	lab_check "$mode: streams that sent all $BULK_BYTES bytes, but p3's (finished for its removal)" 0 \
		"$("$LAB_PY" -c 'import json, sys
finished = set(int(p) for p in open(sys.argv[2]).read().split())
conns = json.load(open(sys.argv[1]))["conns"]
print(sum(1 for c in conns if c["sent"] != int(sys.argv[3]) and c["port"] not in finished))' \
			"$VM_OUT/result-$mode.json" "$W/ctl/finish" "$BULK_BYTES")"
}

if has_mode tandem; then
run_scenario tandem || { lab_summary; exit 1; }
N_TANDEM=$BROKEN
lab_check "with Tandem: broken streams" 0 "$N_TANDEM"
lab_check "with Tandem: new connections on the primary" "$NEWCONNS/$NEWCONNS" "${NEW_OK[tandem]}"
lab_check "with Tandem: new connections intact" 0 "${NEW_BROKEN[tandem]}"
if [ "${FWD[tandem.p4]}" -gt 0 ]; then
	lab_pass "p4 (added) forwarded the older flows it does not know (${FWD[tandem.p4]})"
else
	lab_fail "p4 forwarded nothing"
fi
fwd12=$((${FWD[tandem.p1]} + ${FWD[tandem.p2]}))
if [ "$fwd12" -gt 0 ]; then
	lab_pass "p1/p2 forwarded p3's (drained) and p1's (unhealthy) flows ($fwd12)"
else
	lab_fail "p1/p2 forwarded nothing"
fi
fi
if has_mode plain; then
run_scenario plain || { lab_summary; exit 1; }
M_PLAIN=$BROKEN
say "spread over p1 p2 p3 (with Tandem):${SPREAD[tandem]:-}; (plain ECMP):${SPREAD[plain]}"
echo "broken connections: with Tandem ${N_TANDEM:-?}, with plain ECMP $M_PLAIN"
lab_check "plain ECMP: nothing forwarded" 0 "$((${FWD[plain.p1]} + ${FWD[plain.p2]} + ${FWD[plain.p3]} + ${FWD[plain.p4]}))"
fi
if has_mode bulk; then
	tb0=$(date +%s)
	run_scenario bulk || { lab_summary; exit 1; }
	bulk_checks bulk
	want_mss=$((1500 - 32 - 4 * ${SC_HOPS:-3} - 40))
	# The bulk streams connect before the client's link drops to 1400: their SYN-ACKs carry
	# the clamp. Connections made after it, through a proxy that has learnt PMTU 1400 to
	# the client, advertise less (1400 - 40): the kernel's own, smaller, MSS.
	clamped=$(grep 'Flags \[S\.\]' "$W/synack.txt" | grep -c "mss $want_mss,")
	lab_check "bulk: SYN-ACKs with the clamped MSS $want_mss (the $BULK_N bulk streams' at least)" 1 \
		"$([ "$clamped" -ge "$BULK_N" ] && echo 1 || echo 0)"
	lab_check "bulk: SYN-ACKs with an MSS other than $want_mss, or 1360 once PMTU 1400 is learnt" 0 \
		"$(grep 'Flags \[S\.\]' "$W/synack.txt" | grep -o 'mss [0-9]*' | grep -vc "^mss \($want_mss\|1360\)$")"
	lab_check "bulk: proxy sockets whose PMTU the router's ICMP lowered to 1400 (>= 1)" 1 \
		"$([ "${PMTU_LOW:-0}" -ge 1 ] && echo 1 || echo 0)"
	say "bulk phase: $(($(date +%s) - tb0)) s, ${RATE[bulk]} MB/s"
fi
if has_mode jumbo; then
	tb0=$(date +%s)
	run_scenario jumbo || { lab_summary; exit 1; }
	bulk_checks jumbo
	lab_check "jumbo: nothing too big at the directors (too_big + ICMP counters)" 0 "${TOO_BIG[jumbo]}"
	say "jumbo phase: $(($(date +%s) - tb0)) s, ${RATE[jumbo]} MB/s"
fi
lab_check "dmesg clean" 0 "$(lab_dmesg_clean; echo $?)"
lab_summary
