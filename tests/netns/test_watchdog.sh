#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A hung worker, through the fault switch of test builds ("test hang-worker 0" on the
# control socket). The director runs under a service manager of the test's own: a
# notification socket (NOTIFY_SOCKET) and WATCHDOG_USEC=2 s, so WATCHDOG=1 is due every
# second. While the worker forwards a steady stream, WATCHDOG=1 comes; once it hangs, no
# more comes and the journal names the worker; a reload still answers within 3 s (the
# old tables are kept, not waited for) and SIGTERM still ends the director within 6 s,
# exit status 1, its classifier detached. Prints what each step took. Topology: lib.sh.
source "$(dirname "$0")/lib.sh"

setup_topology 1
{ director_section; service_section 10.0.1.1 10.0.1.2; } >"$TMP/director.yaml"
$PY "$LIB_DIR/notify_listener.py" "$TMP/notify.sock" "$TMP/notify.log" --seconds 90 &
listener=$!
busywait 5000 test -S "$TMP/notify.sock" || { echo "FAIL: notification socket"; exit 1; }
NOTIFY_SOCKET=$TMP/notify.sock WATCHDOG_USEC=2000000 start_director "$TMP/director.yaml" || exit 1

# pings SINCE [UNTIL]: WATCHDOG=1 messages received in that window (Unix times).
pings() {
	awk -v a="$1" -v b="${2:-1e12}" '$2 == "WATCHDOG=1" && $1 > a && $1 <= b { n++ } END { print n + 0 }' \
		"$TMP/notify.log"
}
now() { date +%s.%N; }
ms_since() { echo "($(now) - $1) * 1000 / 1" | bc; }

traffic build many2000 >"$TMP/frames.txt"
traffic send --frames "$TMP/frames.txt" --rate 250 --capture "$TMP/stream.cap" --timestamps \
	--expect 2000 --timeout 20 &
sender=$!
t0=$(now)
sleep 3
check_ge "WATCHDOG=1 in 3 s while the worker moves (one a second)" 2 "$(pings "$t0")"

answer=$(control_request "test hang-worker 0")
if [ "${answer#error: unknown request}" != "$answer" ]; then
	kill "$sender" "$listener" 2>/dev/null
	[ $ret = 0 ] || exit 1
	skip "this tandem-director has no fault switches (meson -Dfault_injection=true)"
fi
check "the fault switch answers" "ok the worker of queue 0 hangs" "$answer"
hung_at=$(now)
sleep 4
# The look in flight when it hung may still have seen it move: from 1.1 s after.
late=$(pings "$(echo "$hung_at + 1.1" | bc)")
last=$(awk '$2 == "WATCHDOG=1" { t = $1 } END { print t }' "$TMP/notify.log")
check "WATCHDOG=1 from 1.1 s after the worker hung, for 2.9 s" 0 "$late"
echo "watchdog: last WATCHDOG=1 $(echo "($last - $hung_at) * 1000 / 1" | bc) ms after the hang"
grep -q "the worker of queue 0 (thread tandem-q0) has not moved for" "$TMP/director.log" &&
	named=yes || named=no
check "the journal names the stuck worker" yes "$named"

{ director_section; service_section 10.0.1.1 10.0.1.2 10.0.1.3; } >"$TMP/director.yaml"
t=$(now)
out=$(timeout 20 ip netns exec "$NS_DIR" "$TANDEM_DIRECTOR" --reload --control-socket "$CONTROL_SOCKET" 2>&1)
rc=$?
reload_ms=$(ms_since "$t")
echo "reload with a hung worker: exit $rc after $reload_ms ms: $out"
check "the reload succeeds" 0 "$rc"
check_ge "and answers within 3000 ms (3000 - ms)" 0 $((3000 - reload_ms))
grep -q "passed no quiescent point within 1000 ms" "$TMP/director.log" && kept=yes || kept=no
check "the journal says the old tables are kept for the stuck worker" yes "$kept"

t=$(now)
kill -TERM "$DIRECTOR_PID"
( sleep 15; kill -KILL "$DIRECTOR_PID" 2>/dev/null ) &  # bounded, whatever happens
killer=$!
rc=0
wait "$DIRECTOR_PID" || rc=$?
kill "$killer" 2>/dev/null
stop_ms=$(ms_since "$t")
DIRECTOR_PID=""
echo "SIGTERM with a hung worker: exit $rc after $stop_ms ms"
check "the director exits 1 (a worker did not stop)" 1 "$rc"
check_ge "within 6000 ms (6000 - ms)" 0 $((6000 - stop_ms))
grep -q "did not stop within 3 s; exiting without it" "$TMP/director.log" && said=yes || said=no
check "the journal names the worker that did not stop" yes "$said"
check "no XDP program left on d0" 0 "$(ip -n "$NS_DIR" -d link show d0 | grep -c 'prog/xdp')"
wait "$sender"
kill "$listener" 2>/dev/null
if grep -q "ERROR: AddressSanitizer\|runtime error:" "$TMP/director.log"; then
	echo "FAIL: sanitizer report in the director's log:"; cat "$TMP/director.log"; ret=1
fi
exit $ret
