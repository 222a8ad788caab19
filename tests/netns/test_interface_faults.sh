#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The director's interface changes under it, each time against a steady stream (traffic.py
# frames whose payload carries a sequence number, 100 per second, captured on c0), and each
# case prints what the fault cost (frames lost, seconds to recover) and asserts a bound:
#  (a) link down for 1 s, then up (the kernel drops the proxies' route with the link; the
#      test puts it back as the host's network configuration would): counted, logged, and
#      forwarded again within RECOVER s of the route's return;
#  (b) renamed (d0 -> d9 -> d0, down for the rename): logged, still served;
#  (c) MTU lowered to 1450, then back to 1500: service_max_inner_packet_bytes follows
#      within APPLY s, frames that no longer fit are dropped as too big, and forwarded
#      again once they fit;
#  (d) MAC changed: the GUE frames carry the new source MAC within APPLY s, none the old
#      one after that;
#  (e) the XDP program removed by `xdp-loader unload d0 --all`, then (after a restart) by
#      `ip link set dev d0 xdp off`: the director says why within NOTICE s and has exited
#      non-zero within EXIT s;
#  (f) the interface deleted: the same.
# Topology: see lib.sh (backends 10.0.1.1-2 behind the router 10.0.0.1, c0).
source "$(dirname "$0")/lib.sh"

RATE=100          # frames per second of the stream
RECOVER=3         # seconds the director may take to serve again after the link is back
APPLY=1           # seconds to apply an MTU or MAC change
NOTICE=1          # seconds to say it lost its interface or its program
EXIT=3            # seconds to have exited then (workers joined, XDP state released)

setup_topology 1
{ director_section; service_section 10.0.1.1 10.0.1.2; } >"$TMP/director.yaml"
start_director "$TMP/director.yaml" || exit 1

now() { date +%s.%N; }
# seconds A B: B - A, to the millisecond.
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", b - a }'; }
# le X MAX: true when X <= MAX (decimals).
le() { awk -v x="$1" -v m="$2" 'BEGIN { exit !(x <= m) }'; }
check_le() {  # check_le NAME MAX GOT
	if le "$3" "$2"; then
		printf "PASS: %-60s expected <= %s, got %s\n" "$1" "$2" "$3"
	else
		printf "FAIL: %-60s expected <= %s, got %s\n" "$1" "$2" "$3"
		ret=1
	fi
}

# stream_start TAG N [SIZE]: N frames at RATE a second in the background, captured with
# timestamps into $TMP/TAG.cap (bounded: N / RATE + 10 s).
stream_start() {
	local tag=$1 n=$2 size=${3:-0}
	traffic build "many$n" --size "$size" >"$TMP/$tag.txt"
	traffic send --frames "$TMP/$tag.txt" --rate "$RATE" --capture "$TMP/$tag.cap" \
		--timestamps --expect "$n" --timeout $(( n / RATE + 10 )) --settle 0.5 &
	STREAM=$!
	STREAM_N=$n
	STREAM_TAG=$tag
	sleep 1.5  # the sniffer starts, and some frames go before the fault
}
# stream_end: waits; $TMP/TAG.tl gets the timeline (time seq src dst length).
stream_end() {
	wait "$STREAM"
	$PY "$LIB_DIR/traffic.py" timeline --captured "$TMP/$STREAM_TAG.cap" >"$TMP/$STREAM_TAG.tl"
}
# lost: frames of the stream that never came out.
lost() { echo $(( STREAM_N - $(awk '$2 >= 0 { print $2 }' "$TMP/$STREAM_TAG.tl" | sort -u | wc -l) )); }
# first_after T [AWK_COND]: seconds from T to the first captured frame after T matching.
first_after() {
	awk -v t="$1" "\$1 > t ${2:+&& ($2)} { printf \"%.3f\\n\", \$1 - t; found = 1; exit }
		END { if (!found) print 999 }" "$TMP/$STREAM_TAG.tl"
}
count_after() { awk -v t="$1" "\$1 > t ${2:+&& ($2)} { n++ } END { print n + 0 }" "$TMP/$STREAM_TAG.tl"; }
routes_back() {
	ip -n "$NS_DIR" route replace 10.0.1.0/24 via 10.0.0.1
}
COSTS=()
cost() { COSTS+=("$(printf '%-34s | %s' "$1" "$2")"); echo "# cost: $1: $2"; }

link_up_is() { [ "$(metric tandem_director_link_up)" = "$1" ]; }

# (a) Link down and up.
downs=$(metric tandem_director_link_down_total)
stream_start down 600
ip -n "$NS_DIR" link set d0 down
t_down=$(now)
busywait 2000 link_up_is 0
check "link down: link_up" 0 "$(metric tandem_director_link_up)"
check "link down: link_down_total" $((downs + 1)) "$(metric tandem_director_link_down_total)"
sleep 1
ip -n "$NS_DIR" link set d0 up
routes_back
t_up=$(now)
stream_end
check "link up again: link_up" 1 "$(metric tandem_director_link_up)"
grep -q "link d0 is down" "$TMP/director.log"; check "link down: logged" 0 $?
grep -q "link d0 is up again" "$TMP/director.log"; check "link up: logged" 0 $?
rec=$(first_after "$t_up")
check_le "link up: seconds to the first frame forwarded" "$RECOVER" "$rec"
check_ge "link up: frames forwarded after it" 100 "$(count_after "$t_up")"
cost "link down 1 s, up" "$(lost) of $STREAM_N frames lost (down $(seconds "$t_down" "$t_up") s), forwarding $rec s after the link and route were back"

# (b) Renamed while down, and back.
stream_start rename 500
t0=$(now)
ip -n "$NS_DIR" link set d0 down
ip -n "$NS_DIR" link set d0 name d9
ip -n "$NS_DIR" link set d9 up
ip -n "$NS_DIR" route replace 10.0.1.0/24 via 10.0.0.1
t_up=$(now)
busywait 3000 grep -q "renamed d9" "$TMP/director.log"; check "renamed: logged" 0 $?
sleep 1
ip -n "$NS_DIR" link set d9 down
ip -n "$NS_DIR" link set d9 name d0
ip -n "$NS_DIR" link set d0 up
routes_back
stream_end
rec=$(first_after "$t_up")
check_le "renamed d9: seconds to the first frame forwarded" "$RECOVER" "$rec"
check "renamed: interface_changes_total{change=name}" 2 "$(metric tandem_director_interface_changes_total 'change="name"')"
cost "renamed (down, rename, up)" "$(lost) of $STREAM_N frames lost over two renames, forwarding $rec s after the first"

# (c) MTU lowered then raised: inner packets of 1440 bytes fit MTU 1500 (the overhead is
#     40: max inner 1460) and not 1450 (max inner 1410).
max_inner() { metric tandem_director_service_max_inner_packet_bytes 'service="web"'; }
max_inner_is() { [ "$(max_inner)" = "$1" ]; }
too_big() { metric tandem_director_dropped_packets_total 'reason="too_big"'; }
check "MTU 1500: max inner packet" 1460 "$(max_inner)"
big0=$(too_big)
stream_start mtu 500 1440
ip -n "$NS_DIR" link set d0 mtu 1450
t_low=$(now)
busywait 3000 max_inner_is 1410
t_applied=$(now)
check "MTU 1450: max inner packet" 1410 "$(max_inner)"
applied=$(seconds "$t_low" "$t_applied")
check_le "MTU 1450: seconds to apply" "$APPLY" "$applied"
sleep 1.5
ip -n "$NS_DIR" link set d0 mtu 1500
t_high=$(now)
busywait 3000 max_inner_is 1460
stream_end
check "MTU 1500 again: max inner packet" 1460 "$(max_inner)"
sent_low=$(count_after "$t_applied" "\$1 < $t_high")
check "MTU 1450: frames of 1440 bytes forwarded while it was in force" 0 "$sent_low"
check_ge "MTU 1450: frames dropped as too big" 100 $(( $(too_big) - big0 ))
rec=$(first_after "$t_high")
check_le "MTU 1500 again: seconds to forward 1440-byte packets again" "$RECOVER" "$rec"
cost "MTU 1500 -> 1450 -> 1500" "applied in $applied s; $(( $(too_big) - big0 )) too-big frames dropped (ICMP rules) while at 1450; forwarding $rec s after 1500"

# (d) MAC changed under traffic.
NEW_MAC=02:00:00:00:d0:02
stream_start mac 500
ip -n "$NS_DIR" link set d0 address "$NEW_MAC"
t_mac=$(now)
stream_end
first_new=$(first_after "$t_mac" "\$3 == \"$NEW_MAC\"")
check_le "MAC change: seconds to the first frame from the new MAC" "$APPLY" "$first_new"
late_old=$(count_after "$(awk -v t="$t_mac" -v d="$APPLY" 'BEGIN { printf "%.6f", t + d }')" "\$3 == \"$D0_MAC\"")
check "MAC change: frames from the old MAC after $APPLY s" 0 "$late_old"
check_ge "MAC change: frames from the new MAC" 200 "$(awk -v m="$NEW_MAC" '$3 == m { n++ } END { print n + 0 }' "$TMP/mac.tl")"
cost "MAC changed" "first frame from the new MAC $first_new s after; $(lost) of $STREAM_N frames lost"
ip -n "$NS_DIR" link set d0 address "$D0_MAC"

# exit_within SECONDS LINE: waits for the director to log LINE (a grep pattern) and to exit;
# sets CODE (its exit status, or "running"), LOGGED and EXITED (seconds after the call).
exit_within() {
	local max_ms=$(( $1 * 1000 + 3000 )) t0; t0=$(date +%s%3N)
	LOGGED=999
	while kill -0 "$DIRECTOR_PID" 2>/dev/null && [ $(( $(date +%s%3N) - t0 )) -lt "$max_ms" ]; do
		[ "$LOGGED" = 999 ] && grep -q "$2" "$TMP/director.log" &&
			LOGGED=$(awk -v ms=$(( $(date +%s%3N) - t0 )) 'BEGIN { printf "%.3f", ms / 1000 }')
		sleep 0.02
	done
	EXITED=$(awk -v ms=$(( $(date +%s%3N) - t0 )) 'BEGIN { printf "%.3f", ms / 1000 }')
	if kill -0 "$DIRECTOR_PID" 2>/dev/null; then CODE=running; stop_director; return; fi
	CODE=0
	wait "$DIRECTOR_PID" || CODE=$?
	DIRECTOR_PID=""
	grep -q "$2" "$TMP/director.log" && [ "$LOGGED" = 999 ] && LOGGED=$EXITED
}
# (e) The program removed by someone else, twice.
for how in "xdp-loader unload d0 --all" "ip link set dev d0 xdp off"; do
	stream_start detach 300
	ip netns exec "$NS_DIR" $how >/dev/null 2>&1
	exit_within "$EXIT" "is no longer attached to d0"
	stream_end
	check "program removed ($how): director exits non-zero" 1 "$CODE"
	check_le "program removed ($how): seconds to say why" "$NOTICE" "$LOGGED"
	check_le "program removed ($how): seconds to exit" "$EXIT" "$EXITED"
	cost "program removed ($how)" "noticed in $LOGGED s, exit $CODE after $EXITED s; $(lost) of $STREAM_N frames lost (no restart within the stream)"
	mv "$TMP/director.log" "$TMP/director-detach.log"
	t_start=$(now)
	start_director "$TMP/director.yaml" || exit 1
	echo "# restarted in $(seconds "$t_start" "$(now)") s"
done

# (f) The interface deleted (the veth pair goes with it: the last case).
ip -n "$NS_DIR" link del d0
exit_within "$EXIT" "interface d0 (ifindex [0-9]*) was deleted"
check "interface deleted: director exits non-zero" 1 "$CODE"
check_le "interface deleted: seconds to say why" "$NOTICE" "$LOGGED"
check_le "interface deleted: seconds to exit" "$EXIT" "$EXITED"
cost "interface deleted" "noticed in $LOGGED s, exit $CODE after $EXITED s"
if grep -q "ERROR: AddressSanitizer\|runtime error:" "$TMP"/director*.log; then
	echo "FAIL: sanitizer report in the director's log:"; cat "$TMP"/director*.log; ret=1
fi
echo "# fault | cost"
printf '# %s\n' "${COSTS[@]}"
exit $ret
