#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Crash and restart, in the attach mode this kernel gives (legacy on the test host; the
# dispatcher's is in the VM lab). A director forwarding a steady stream (5000 frames at
# 500 a second) is killed with SIGKILL, which leaves its classifier on d0. While it is
# down, VIP frames are dropped there, not passed to d0's own stack. Started again, as Restart= does, it replaces the dead one's classifier and
# forwards again within 3 s. A second director on d0 is refused, names the first, and
# changes nothing. Prints what the crash cost: frames lost, ms to the first frame after
# the restart. Topology: see lib.sh.
source "$(dirname "$0")/lib.sh"

setup_topology 1
{ director_section; service_section 10.0.1.1 10.0.1.2; } >"$TMP/director.yaml"
start_director "$TMP/director.yaml" || exit 1

first_id=$(prog_id d0)

traffic build many5000 >"$TMP/frames.txt"
traffic send --frames "$TMP/frames.txt" --rate 500 --capture "$TMP/stream.cap" --timestamps \
	--expect 5000 --timeout 30 --settle 1 &
sender=$!
sleep 1.5
kill -KILL "$DIRECTOR_PID"
wait "$DIRECTOR_PID" 2>/dev/null
DIRECTOR_PID=""
killed_at=$(date +%s.%N)
check "classifier left on d0 by the killed director" "$first_id" "$(prog_id d0)"
# What d0's own stack receives of the VIP's frames while nobody serves them.
ip netns exec "$NS_DIR" timeout 1.5 tcpdump -i d0 -n -s 64 --immediate-mode -w "$TMP/dead.pcap" \
	'tcp and dst host 192.0.2.10' 2>/dev/null
to_stack=$(tcpdump -r "$TMP/dead.pcap" -n 2>/dev/null | wc -l)
check "VIP frames passed to d0's stack while the director is dead" 0 "$to_stack"

restart_at=$(date +%s.%N)
start_director "$TMP/director.yaml" || { kill "$sender"; exit 1; }
up_ms=$(echo "($(date +%s.%N) - $restart_at) * 1000 / 1" | bc)
wait "$sender"
read -r _ captured _ after_ms < <(traffic outage --captured "$TMP/stream.cap" --since "$killed_at")
recover_ms=-1
[ "$after_ms" -ge 0 ] && recover_ms=$(echo "($killed_at - $restart_at) * 1000 / 1 + $after_ms" | bc)
echo "crash cost: $((5000 - captured)) of 5000 frames lost; restart to first forwarded frame" \
	"$recover_ms ms (director up and resolved after $up_ms ms)"
check_ge "ms from the restart to the first forwarded frame (-1: none)" 0 "$recover_ms"
check_ge "that is within 3000 ms (3000 - it)" 0 $((3000 - recover_ms))
check_ge "frames forwarded after the restart (the stream goes on)" 100 \
	"$(metric tandem_director_encapsulated_packets_total)"
grep -q "removed the XDP classifier (program id $first_id)" "$TMP/director.log" &&
	replaced=yes || replaced=no
check "the restart says it removed the dead director's classifier" yes "$replaced"
second_id=$(prog_id d0)
check_ge "a new classifier is attached in its place (its id differs)" 1 \
	$(( second_id != first_id ))

# A second director on d0 (its own control socket and metrics port) is refused.
sed "s/metrics: .*/metrics: 127.0.0.1:9471/" "$TMP/director.yaml" >"$TMP/second.yaml"
rc=0
ip netns exec "$NS_DIR" timeout 20 "$TANDEM_DIRECTOR" -c "$TMP/second.yaml" --foreground \
	--control-socket "$TMP/second.sock" >"$TMP/second.log" 2>&1 || rc=$?
check "a second director on d0 exits 1" 1 "$rc"
grep -q "already served by tandem-director pid $DIRECTOR_PID" "$TMP/second.log" &&
	named=yes || named=no
check "its error names the first director's pid" yes "$named"
check "the classifier on d0 is still the first director's" "$second_id" "$(prog_id d0)"
traffic build many200 >"$TMP/after.txt"
before=$(metric tandem_director_encapsulated_packets_total)
traffic send --frames "$TMP/after.txt" --rate 400 --capture "$TMP/after.cap" --expect 200 --timeout 10
check "the first director still forwards every frame" 200 \
	$(( $(metric tandem_director_encapsulated_packets_total) - before ))
finish
