#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The control socket and the metrics endpoint under faults. First (f): a refused reload's
# answer is printed whole, every line of it. Then, against a director forwarding a steady
# stream (2500 frames at 250 per second):
#  (a) a slow control client (one byte a second, never a newline): a `--reload` and a
#      scrape made meanwhile answer at once, the slow client is dropped 2 s after connect;
#  (b) a second director on the same control socket (its own interface d1 and metrics
#      port) refuses to start, names the first's pid, attaches nothing, and the first's
#      socket still answers;
#  (c) a director whose metrics port is taken fails to start, says so, and never attaches
#      XDP to its interface (watched with `ip monitor link` while it tries);
#  (d) a metrics client that connects and sends nothing does not hold up a scrape;
#  (e) the control socket a kill -9'd director left behind is replaced by the next start.
# The director must lose no frame of the stream. Topology: see lib.sh, plus a second veth pair c1/d1.
source "$(dirname "$0")/lib.sh"

setup_topology 1
BAD="$PY $LIB_DIR/bad_clients.py"
ip -n "$NS_CLI" link add c1 type veth peer name d1 netns "$NS_DIR"
ip -n "$NS_CLI" addr add 10.0.3.1/24 dev c1
ip -n "$NS_DIR" addr add 10.0.3.2/24 dev d1
ip -n "$NS_CLI" link set c1 up
ip -n "$NS_DIR" link set d1 up

{ director_section; service_section 10.0.1.1 10.0.1.2; } >"$TMP/director.yaml"
# Other directors of this test: on d1, with a metrics port of their own.
other_config() {  # other_config METRICS_ADDR
	director_section | sed -e 's/interface: d0/interface: d1/' -e "s/metrics: .*/metrics: $1/"
	service_section 10.0.1.1
}
other_config 127.0.0.1:9471 >"$TMP/second.yaml"
other_config 127.0.0.1:9472 >"$TMP/third.yaml"

start_director "$TMP/director.yaml" || exit 1
FIRST_PID=$DIRECTOR_PID
D0_PROG=$(prog_id d0)
# xdp_events IF FILE: link events in an `ip monitor link` log that show a program on IF
# ("xdp/id:N", "xdpgeneric/id:N"): however briefly it was attached.
xdp_events() { grep -E "^[0-9]+: $1[@:]" "$2" | grep -cE 'xdp[a-z]*/id:'; }
now_ms() { date +%s%3N; }
# scrape_ms: one scrape, its duration in ms (or "failed").
scrape_ms() {
	local t0; t0=$(now_ms)
	ip netns exec "$NS_DIR" curl -sf -m 5 "http://$METRICS_ADDR/metrics" >/dev/null || { echo failed; return; }
	echo $(( $(now_ms) - t0 ))
}
# run_other CONFIG SOCKET LOG: a director that should refuse to start; waits up to 10 s
# and prints its exit status ("running" if it did not exit: it is then killed).
run_other() {
	ip netns exec "$NS_DIR" "$TANDEM_DIRECTOR" -c "$1" --foreground --control-socket "$2" \
		>"$3" 2>&1 &
	local pid=$! i
	for i in $(seq 200); do
		kill -0 $pid 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 $pid 2>/dev/null; then
		kill -TERM $pid; wait $pid
		echo running
	else
		wait $pid; echo $?
	fi
}

# run_watched EVENTS CONFIG SOCKET LOG: run_other while `ip monitor link` records every
# link event of the namespace into EVENTS (see xdp_events).
run_watched() {
	local events=$1 mon rc
	shift
	ip -n "$NS_DIR" monitor link >"$events" 2>&1 &
	mon=$!
	sleep 0.2  # its netlink socket open before the director starts
	rc=$(run_other "$@")
	sleep 0.2; kill $mon; wait $mon 2>/dev/null
	echo "$rc"
}

# (f) A refused reload with eight problems, one line each (some 800 bytes, more than
#     one read): every line printed.
{ director_section; service_section 10.0.1.1 $(seq -f '10.0.1.%g' 301 308); } >"$TMP/director.yaml"
out=$(reload_director 2>&1); rc=$?
check "(f) reload of a file with eight bad addresses: exit status" 1 $rc
check "(f) lines of the refusal naming director.yaml" 8 "$(grep -c 'director.yaml:' <<<"$out")"
{ director_section; service_section 10.0.1.1 10.0.1.2; } >"$TMP/director.yaml"

traffic build many2500 >"$TMP/frames.txt"
traffic send --frames "$TMP/frames.txt" --rate 250 --capture "$TMP/stream.cap" \
	--expect 2500 --timeout 11 &
sender=$!
sleep 1.5

# (a) A slow control client while a reload and a scrape are made.
$BAD slow "$CONTROL_SOCKET" 1 10 >"$TMP/slow.out" &
slow=$!
sleep 0.5
{ director_section; service_section 10.0.1.1 10.0.1.2 10.0.1.3; } >"$TMP/director.yaml"
t0=$(now_ms)
reload_director >"$TMP/reload.out" 2>&1; rc=$?
reload_ms=$(( $(now_ms) - t0 ))
scrape=$(scrape_ms)
wait $slow
echo "     (a) reload answered in ${reload_ms} ms, scrape in ${scrape} ms, slow client: $(cat "$TMP/slow.out")"
check "(a) reload during a slow control client: exit status" 0 $rc
check "(a) reload answered within 3 s" yes "$([ $reload_ms -lt 3000 ] && echo yes || echo "no: $reload_ms ms")"
check "(a) scrape within 1 s" yes "$([ "$scrape" != failed ] && [ "$scrape" -lt 1000 ] && echo yes || echo "no: $scrape")"
read -r what after answer <"$TMP/slow.out"
check "(a) slow client dropped at its deadline (1.5-3 s)" "dropped" \
	"$what$(awk -v t="${after:-99}" 'BEGIN { if (t < 1.5 || t > 3) printf " at %s s", t }')"
case "$answer" in *"no complete request line within 2000 ms"*) got=yes ;; *) got="no: $answer" ;; esac
check "(a) slow client told why" yes "$got"
check "(a) control_connections_total{result=\"timed_out\"}" 1 \
	"$(metric tandem_director_control_connections_total 'result="timed_out"')"

# (b) A second director on the first one's control socket.
rc=$(run_watched "$TMP/monitor_b.txt" "$TMP/second.yaml" "$CONTROL_SOCKET" "$TMP/second.log")
echo "     (b) second director: $(grep -o 'cannot start.*' "$TMP/second.log" | head -1)"
check "(b) second director on the same control socket: exit status" 1 "$rc"
case "$(cat "$TMP/second.log")" in
*"control socket $CONTROL_SOCKET is in use by a running tandem-director (pid $FIRST_PID); stop it first"*) got=yes ;;
*) got="no: $(head -c 300 "$TMP/second.log")" ;;
esac
check "(b) it names the running director and its pid" yes "$got"
check "(b) XDP attached to d1 by the second director (ip monitor)" 0 "$(xdp_events d1 "$TMP/monitor_b.txt")"
check "(b) the first director's program on d0 unchanged" "$D0_PROG" "$(prog_id d0)"
{ director_section; service_section 10.0.1.1 10.0.1.2 10.0.1.3 10.0.1.4; } >"$TMP/director.yaml"
reload_director >"$TMP/reload.out" 2>&1; rc=$?
check "(b) the first director's --reload still works" 0 $rc
check "(b) ... answered by the first director (generation 3)" 3 "$(metric tandem_director_config_generation)"

# (c) A director whose metrics port is taken.
ip netns exec "$NS_DIR" $BAD hold 127.0.0.1 9472 30 >"$TMP/hold.out" &
holder=$!
busywait 5000 grep -q listening "$TMP/hold.out"
rc=$(run_watched "$TMP/monitor_c.txt" "$TMP/third.yaml" "$TMP/third.sock" "$TMP/third.log")
kill $holder; wait $holder 2>/dev/null
echo "     (c) metrics port taken: $(grep -o 'cannot start.*' "$TMP/third.log" | head -1)"
check "(c) director with its metrics port taken: exit status" 1 "$rc"
case "$(cat "$TMP/third.log")" in
*"serving metrics on 127.0.0.1:9472"*"in use"*) got=yes ;; *) got="no: $(head -c 300 "$TMP/third.log")" ;;
esac
check "(c) it says the metrics address is in use" yes "$got"
check "(c) XDP attached to d1 while it tried (ip monitor)" 0 "$(xdp_events d1 "$TMP/monitor_c.txt")"
check "(c) XDP program on d1 after it exited" 0 "$(ip -n "$NS_DIR" -d link show d1 | grep -c 'prog/xdp')"
check "(c) its control socket removed" no "$([ -e "$TMP/third.sock" ] && echo yes || echo no)"

# (d) One metrics client connects and sends nothing; another scrape still answers.
ip netns exec "$NS_DIR" $BAD idle 127.0.0.1 9470 5 >"$TMP/idle.out" &
idler=$!
busywait 5000 grep -q connected "$TMP/idle.out"
sleep 0.3
scrape=$(scrape_ms)
scrape2=$(scrape_ms)
echo "     (d) scrapes beside an idle client: ${scrape} ms, ${scrape2} ms"
check "(d) scrape beside an idle metrics client within 1 s" yes \
	"$([ "$scrape" != failed ] && [ "$scrape" -lt 1000 ] && echo yes || echo "no: $scrape")"
kill $idler 2>/dev/null; wait $idler 2>/dev/null

wait $sender
# What the director did with the stream is read from its counters (the only VIP traffic
# here); the capture on c0 is shown too, but a sniffer on a loaded host may miss frames.
captured=$(wc -l <"$TMP/stream.cap")
redirected=$(metric tandem_director_xdp_packets_total 'action="redirect"')
sent=$(metric tandem_director_tx_packets_total)
echo "     stream: 2500 frames sent, $redirected redirected by XDP, $sent sent as GUE" \
	"($((2500 - sent)) lost), $captured captured on c0"
check "frames of the steady stream the director lost during (a)-(d)" 0 $((2500 - sent))
check "dropped by the worker" 0 "$(metric tandem_director_dropped_packets_total)"
check "dropped by the kernel on the AF_XDP socket" 0 "$(metric tandem_director_xsk_rx_dropped_total)"

# (e) kill -9, then start again on the same control socket.
kill -KILL "$FIRST_PID"; wait "$FIRST_PID" 2>/dev/null
DIRECTOR_PID=""
check "(e) control socket left by the killed director" yes "$([ -S "$CONTROL_SOCKET" ] && echo yes || echo no)"
# Its XDP program stays too (legacy attach outlives the process); removing it is
# not this test's subject.
ip -n "$NS_DIR" link set dev d0 xdp off 2>/dev/null
start_director "$TMP/director.yaml" || exit 1
case "$(cat "$TMP/director.log")" in *"replaced the stale control socket $CONTROL_SOCKET"*) got=yes ;; *) got=no ;; esac
check "(e) the restart says it replaced the stale socket" yes "$got"
reload_director >"$TMP/reload.out" 2>&1; rc=$?
check "(e) --reload reaches the new director" 0 $rc
finish
