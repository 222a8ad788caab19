#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Netlink faults against a director forwarding a steady stream to a proxy on its link
# (10.0.0.50, netns $NS_NEAR), with a tiny notification socket buffer
# (--netlink-buffer 1: the kernel's minimum, a few notifications):
#  (a) a flood of neighbour events (other addresses on d0) while the proxy's MAC changes
#      and a gratuitous ARP announces it: the overrun is counted, and the director ends up
#      sending to the new MAC, within WITHIN s of the flood's end;
#  (b) the same with the director stopped (SIGSTOP) meanwhile, so the announcement is lost
#      for certain: after SIGCONT it must find the new MAC by reading the table again;
#  (c) the proxy's MAC changes silently (no announcement; neighbour timers shortened): the
#      STALE entry is re-verified by the kernel at the director's request (NTF_USE), the
#      probe to the old MAC fails and the new one is found within SILENT s.
# Each case prints what it cost (frames lost, frames to the old MAC, seconds to recover).
source "$(dirname "$0")/lib.sh"

RATE=100
WITHIN=1     # seconds after the flood (or SIGCONT) to send to the right MAC
# Seconds to follow a silent MAC change, timers as set below: up to 1.5 s REACHABLE, 1 s to
# the director's next refresh, 1 s delay, 0.6 s of probes, 1 s to the next refresh and
# the broadcast ARP: about 5 s; 8 s measured on an idle machine, 11.3 s beside a VM.
SILENT=15
FLOOD=3000   # neighbour events per flood
MAC1=02:00:00:00:50:01
MAC2=02:00:00:00:50:02
MAC3=02:00:00:00:50:03

setup_topology 1
link_host NS_NEAR p0 "$MAC1"
ip -n "$NS_NEAR" addr add 10.0.0.50/24 dev p0
cat >"$TMP/director.yaml" <<EOT
$(director_section)
services:
  - name: near
    binds:
      - {address: 192.0.2.10, protocol: tcp, ports: [80]}
    hash_key: 4a9b2e0c5d8f1a3b6c7d8e9f0a1b2c3d
    seed: 9f8e7d6c5b4a39281706f5e4d3c2b1a0
    backends:
      - {address: 10.0.0.50}
EOT
# NETLINK_ARGS= runs it with the default buffer (e.g. against a director without the option).
start_director "$TMP/director.yaml" ${NETLINK_ARGS---netlink-buffer 1} || exit 1

now() { date +%s.%N; }
le() { awk -v x="$1" -v m="$2" 'BEGIN { exit !(x <= m) }'; }
check_le() {
	if le "$3" "$2"; then printf "PASS: %-60s expected <= %s, got %s\n" "$1" "$2" "$3"
	else printf "FAIL: %-60s expected <= %s, got %s\n" "$1" "$2" "$3"; ret=1; fi
}
plus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f\n", a + b }'; }
overruns() { metric tandem_director_netlink_overruns_total 'socket="neighbour"'; }
stream_start() {  # stream_start TAG N
	traffic build "many$2" >"$TMP/$1.txt"
	traffic send --frames "$TMP/$1.txt" --rate "$RATE" --capture "$TMP/$1.cap" --timestamps \
		--expect "$2" --timeout $(( $2 / RATE + 10 )) --settle 0.5 &
	STREAM=$!; STREAM_N=$2; STREAM_TAG=$1
	sleep 1.5
}
stream_end() {
	wait "$STREAM"
	$PY "$LIB_DIR/traffic.py" timeline --captured "$TMP/$STREAM_TAG.cap" >"$TMP/$STREAM_TAG.tl"
}
lost() { echo $(( STREAM_N - $(awk '$2 >= 0 { print $2 }' "$TMP/$STREAM_TAG.tl" | sort -u | wc -l) )); }
# to_mac MAC [AFTER]: frames captured with that destination MAC (after a time).
to_mac() { awk -v m="$1" -v t="${2:-0}" '$4 == m && $1 > t { n++ } END { print n + 0 }' "$TMP/$STREAM_TAG.tl"; }
# first_to MAC AFTER: seconds from AFTER to the first frame to MAC after it (999: none).
first_to() {
	awk -v m="$1" -v t="$2" '$4 == m && $1 > t { printf "%.3f\n", $1 - t; f = 1; exit }
		END { if (!f) print 999 }' "$TMP/$STREAM_TAG.tl"
}
# flood N: N neighbour events on d0 (replacing entries of 10.0.0.100-199), one batch.
flood() {
	local i
	for i in $(seq 0 $(( $1 - 1 ))); do
		printf 'neigh replace 10.0.0.%d lladdr 02:00:00:00:ff:%02x dev d0 nud permanent\n' \
			$(( 100 + i % 100 )) $(( i % 256 ))
	done >"$TMP/flood.batch"
	ip -n "$NS_DIR" -batch "$TMP/flood.batch"
}
# new_mac MAC: the proxy takes MAC and announces it.
new_mac() {
	ip -n "$NS_NEAR" link set p0 address "$1"
	ip netns exec "$NS_NEAR" $PY "$LIB_DIR/traffic.py" --iface p0 garp 10.0.0.50 >/dev/null
}
kernel_mac() { ip -n "$NS_DIR" neigh show 10.0.0.50 dev d0 | awk '{ print $3 }'; }
COSTS=()
cost() { COSTS+=("$(printf '%-44s | %s' "$1" "$2")"); echo "# cost: $1: $2"; }
# followed CASE OLD_MAC NEW_MAC SINCE WHAT: the stream went to NEW_MAC within $WITHIN s of
# SINCE (the moment WHAT) and never to OLD_MAC after that; sets rec to the seconds it took.
followed() {
	rec=$(first_to "$3" "$4")
	check "$1: frames to the old MAC $WITHIN s after $5" 0 "$(to_mac "$2" "$(plus "$4" "$WITHIN")")"
	check_le "$1: seconds from $5 to a frame to the new MAC" "$WITHIN" "$rec"
	check_ge "$1: frames to the new MAC" 100 "$(to_mac "$3")"
}

# (a) A flood while the MAC changes.
o0=$(overruns)
stream_start flood 800
flood "$FLOOD" &
flooder=$!
sleep 0.2
new_mac "$MAC2"
wait $flooder
t_end=$(now)
check "flood: the director's kernel has the new MAC" "$MAC2" "$(kernel_mac)"
stream_end
o1=$(overruns)
check_ge "flood: neighbour overruns counted" $((o0 + 1)) "$o1"
followed flood "$MAC1" "$MAC2" "$t_end" "the flood's end"
grep -q "neighbour notifications lost: the netlink socket's receive buffer" "$TMP/director.log"
check "flood: overrun logged" 0 $?
cost "neighbour flood ($FLOOD events), MAC change" "$((o1 - o0)) overruns; $(lost) of $STREAM_N lost; $(to_mac "$MAC1" "$t_end") to the old MAC after the flood's end; new MAC +$rec s"

# (b) The announcement lost for certain: the director stopped meanwhile.
o0=$(overruns)
stream_start stopped 600
kill -STOP "$DIRECTOR_PID"
flood 500
new_mac "$MAC3"
flood 500
kill -CONT "$DIRECTOR_PID"
t_cont=$(now)
stream_end
o1=$(overruns)
check_ge "stopped: neighbour overruns counted" $((o0 + 1)) "$o1"
followed stopped "$MAC2" "$MAC3" "$t_cont" "SIGCONT"
cost "announcement lost in an overrun (SIGSTOP)" "$((o1 - o0)) overruns; new MAC +$rec s after SIGCONT; $(to_mac "$MAC2" "$t_cont") frames to the old MAC after it"

# (c) A silent MAC change. Timers short enough for a test: reachable 1 s (0.5-1.5 s),
#     first probe after 1 s, 3 unicast probes 0.2 s apart.
for k in base_reachable_time_ms:1000 delay_first_probe_time:1 retrans_time_ms:200; do
	ip netns exec "$NS_DIR" sysctl -qw "net.ipv4.neigh.d0.${k%%:*}=${k#*:}"
done
# The entry's REACHABLE timer was armed with the old reachable time (15-45 s), and a
# same-state update does not re-arm it: make it STALE now, as it would be once that time
# is up, so what follows runs on the new timers alone.
s0=$(metric tandem_director_neighbour_solicitations_total 'state="stale"')
ip -n "$NS_DIR" neigh replace 10.0.0.50 lladdr "$MAC3" dev d0 nud stale
sleep 2
stream_start silent 1500
ip -n "$NS_NEAR" link set p0 address "$MAC1"
t_silent=$(now)
stream_end
check_ge "silent change: STALE entries re-verified (solicitations)" $((s0 + 1)) \
	"$(metric tandem_director_neighbour_solicitations_total 'state="stale"')"
rec=$(first_to "$MAC1" "$t_silent")
check_le "silent change: seconds to a frame to the new MAC" "$SILENT" "$rec"
check_ge "silent change: frames to the new MAC" 100 "$(to_mac "$MAC1")"
check "silent change: frames to the old MAC after the new one" 0 \
	"$(to_mac "$MAC3" "$(plus "$t_silent" "$rec")")"
cost "silent MAC change (short neighbour timers)" "$(to_mac "$MAC3" "$t_silent") frames to the old MAC, then no_neighbour until the probe failed; new MAC +$rec s; $(lost) of $STREAM_N lost"
echo "# fault | cost"
printf '# %s\n' "${COSTS[@]}"
finish
