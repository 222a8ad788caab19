#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Next hops from the kernel's route and neighbour tables (no gateway_mac in the config):
#  1. a proxy on the director's link that does not answer ARP yet: its packets are counted
#     as no_neighbour, exactly, none leaves the director, and the director solicits it
#     (the kernel's ARP requests for it are on the wire);
#  2. once it answers, its packets go to its MAC, byte for byte as the reference encoder
#     makes them, and no_neighbour stops growing;
#  3. its MAC changes under traffic and a gratuitous ARP tells the director's kernel:
#     the packets follow the new MAC within a bound and never go back to the old one;
#  4. a proxy in another subnet, routed through 10.0.0.1: its frames carry the router's
#     MAC, not the proxy's own (which is on the link too);
#  5. that route changes to another gateway: the frames follow it, with no reload.
# Topology: see lib.sh, plus two hosts on the link: netns $NS_NEAR (p0, 10.0.0.50, the
# proxy of service near, no address at first) and $NS_FAR (h0, 10.0.1.1, the proxy of
# service far; the director reaches 10.0.1.0/24 via 10.0.0.1).
source "$(dirname "$0")/lib.sh"

N=20             # VIP packets per step
WITHIN=0.5       # seconds the director may take to follow a neighbour change
NEAR_MAC=02:00:00:00:50:01
NEAR_MAC2=02:00:00:00:50:02
FAR_MAC=02:00:00:00:10:01

setup_topology 1
link_host NS_NEAR p0 "$NEAR_MAC"
link_host NS_FAR h0 "$FAR_MAC"
ip -n "$NS_FAR" addr add 10.0.1.1/24 dev h0
ip -n "$NS_FAR" route add 10.0.0.0/24 dev h0
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
  - name: far
    binds:
      - {address: 192.0.2.20, protocol: tcp, ports: [80]}
    hash_key: 0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e
    seed: 1a2b3c4d5e6f70819203a4b5c6d7e8f9
    backends:
      - {address: 10.0.1.1}
EOT
# Up once 10.0.0.1 (the far proxy's router) is resolved; 10.0.0.50 stays unresolved.
UNRESOLVED=1 start_director "$TMP/director.yaml" || exit 1

no_neighbour() { metric tandem_director_dropped_packets_total 'reason="no_neighbour"'; }
ctl_dropped() {  # ctl_dropped REASON: the count tandemctl stats shows for it
	ip netns exec "$NS_DIR" "$TANDEMCTL" stats -a "$METRICS_ADDR" |
		awk -v r="$1" '$1 == r { print $2 }'
}
near_encap() { metric tandem_director_service_packets_total 'service="near"'; }
near_encap_ge() { [ "$(near_encap)" -ge "$1" ]; }
kernel_mac() { ip -n "$NS_DIR" neigh show 10.0.0.50 dev d0 | awk '{ print $3 }'; }
kernel_mac_is() { [ "$(kernel_mac)" = "$1" ]; }
elapsed_ms() { echo $(( $(date +%s%3N) - $1 )); }

traffic build "many$N" --vip 192.0.2.10 >"$TMP/near.txt"
cut -f2 "$TMP/near.txt" | encap_ref "$TMP/director.yaml" "$NEAR_MAC" >"$TMP/near.ref"

# 1. Nobody answers ARP for 10.0.0.50: counted, not sent, solicited.
before=$(no_neighbour)
ctl_before=$(ctl_dropped no_neighbour)
traffic send --frames "$TMP/near.txt" --rate 20 --capture "$TMP/unresolved.cap" \
	--filter 'udp dst port 19523 or arp' --settle 2.5
$PY "$LIB_DIR/traffic.py" describe --captured "$TMP/unresolved.cap" >"$TMP/unresolved.txt"
check "unresolved proxy: GUE frames on the wire" 0 "$(grep -c '^gue ' "$TMP/unresolved.txt")"
check_ge "unresolved proxy: ARP requests from d0 for 10.0.0.50" 1 \
	"$(grep -c "^arp who-has $D0_MAC 10.0.0.2 10.0.0.50\$" "$TMP/unresolved.txt")"
check "unresolved proxy: no_neighbour drops (metrics)" "$N" $(( $(no_neighbour) - before ))
check "unresolved proxy: no_neighbour drops (tandemctl stats)" "$N" \
	$(( $(ctl_dropped no_neighbour) - ctl_before ))
check "unresolved proxy: packets forwarded for service near" 0 "$(near_encap)"
check "unresolved proxy: unresolved_neighbours" 1 "$(metric tandem_director_unresolved_neighbours)"

# 2. The proxy gets its address and answers ARP: forwarded to its MAC, byte for byte.
ip -n "$NS_NEAR" addr add 10.0.0.50/24 dev p0
t0=$(date +%s%3N)
busywait 5000 neighbours_resolved 0
echo "# waited $(elapsed_ms "$t0") ms for the director to resolve 10.0.0.50"
check "proxy answers ARP: unresolved_neighbours within 5000 ms" 0 \
	"$(metric tandem_director_unresolved_neighbours)"
before=$(no_neighbour)
traffic send --frames "$TMP/near.txt" --capture "$TMP/resolved.cap" --expect "$N" --timeout 5
$PY "$LIB_DIR/traffic.py" check --frames "$TMP/near.txt" --ref "$TMP/near.ref" \
	--captured "$TMP/resolved.cap" || ret=1
check "resolved proxy: no_neighbour drops" 0 $(( $(no_neighbour) - before ))

# 3. The proxy's MAC changes under traffic (300 frames, 50 per second); a gratuitous ARP
#    tells the director's kernel once traffic flows.
traffic build many300 --vip 192.0.2.10 >"$TMP/switch.txt"
cut -f2 "$TMP/switch.txt" | encap_ref "$TMP/director.yaml" "$NEAR_MAC" >"$TMP/switch-old.ref"
cut -f2 "$TMP/switch.txt" | encap_ref "$TMP/director.yaml" "$NEAR_MAC2" >"$TMP/switch-new.ref"
before=$(no_neighbour)
start=$(near_encap)
traffic send --frames "$TMP/switch.txt" --rate 50 --capture "$TMP/switch.cap" --timestamps \
	--expect 300 --timeout 20 &
sender=$!
busywait 15000 near_encap_ge $((start + 10))
ip -n "$NS_NEAR" link set p0 address "$NEAR_MAC2"
since=$(ip netns exec "$NS_NEAR" $PY "$LIB_DIR/traffic.py" --iface p0 garp 10.0.0.50)
busywait 5000 kernel_mac_is "$NEAR_MAC2"
check "director's kernel learnt the new MAC from the gratuitous ARP" "$NEAR_MAC2" "$(kernel_mac)"
wait $sender
$PY "$LIB_DIR/traffic.py" switch-check --frames "$TMP/switch.txt" \
	--refs "$TMP/switch-old.ref" "$TMP/switch-new.ref" --captured "$TMP/switch.cap" \
	--since "$since" --within "$WITHIN" || ret=1
check "MAC change: no_neighbour drops" 0 $(( $(no_neighbour) - before ))

# far_frames_via TAG MAC: N frames to the far proxy come out byte for byte as the reference
# encoder makes them with next-hop MAC; the capture's summary goes to $TMP/TAG.desc.
traffic build "many$N" --vip 192.0.2.20 >"$TMP/far.txt"
far_frames_via() {
	cut -f2 "$TMP/far.txt" | encap_ref "$TMP/director.yaml" "$2" >"$TMP/$1.ref"
	traffic send --frames "$TMP/far.txt" --capture "$TMP/$1.cap" --expect "$N" --timeout 5
	$PY "$LIB_DIR/traffic.py" check --frames "$TMP/far.txt" --ref "$TMP/$1.ref" \
		--captured "$TMP/$1.cap" || ret=1
	$PY "$LIB_DIR/traffic.py" describe --captured "$TMP/$1.cap" >"$TMP/$1.desc"
}

# 4. A proxy behind a router: the router's MAC (c0), not the proxy's own (h0).
far_frames_via far "$C0_MAC"
check "routed proxy: frames to 10.0.1.1 with the router's MAC" "$N" \
	"$(grep -c "^gue $C0_MAC 10.0.1.1\$" "$TMP/far.desc")"
check "routed proxy: frames with the proxy's own MAC" 0 "$(grep -c "^gue $FAR_MAC " "$TMP/far.desc")"

# 5. The route changes (10.0.1.0/24 now via 10.0.0.50): within a second (a route
#    notification, or the once-a-second refresh) the director uses the new gateway's MAC,
#    with no reload.
ip -n "$NS_DIR" route replace 10.0.1.0/24 via 10.0.0.50
sleep 1
far_frames_via far2 "$NEAR_MAC2"
check "route change: frames to 10.0.1.1 with the new gateway's MAC" "$N" \
	"$(grep -c "^gue $NEAR_MAC2 10.0.1.1\$" "$TMP/far2.desc")"
check "route change: frames still with the old gateway's MAC" 0 "$(grep -c "^gue $C0_MAC 10.0.1.1" "$TMP/far2.desc")"
finish
