#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Full-size packets at MTU 1500 everywhere. A real Linux TCP client sends 4 MB to a VIP
# (IPv4, then IPv6) through the director; its 1500-byte segments do not fit the 1500-byte
# link once encapsulated (40 bytes for 2 hops), so the director answers with ICMP
# fragmentation-needed / packet-too-big announcing 1460. The client's kernel lowers its
# path MTU (ip route get shows it) and retransmits smaller segments; every GUE frame on
# the wire is at most 1514 bytes, and the inner stream reassembled from the capture is
# the file sent. Then: the ICMP errors byte for byte against scapy's, IPv4 without DF
# dropped and counted, and the per-queue rate limit under a burst of 10,000.
#
# Topology: lib.sh's, plus a server namespace standing in for the proxies and the
# backend (no fou on this host): the client namespace routes the proxies' addresses
# (10.0.1.0/24) to it over a veth, gue_tun.py strips GUE into a TUN device, and the VIPs
# on its lo answer the client directly.
source "$(dirname "$0")/lib.sh"

setup_topology 1
NS_SRV="tandem-srv-$NS_SUFFIX"
LINK_HOSTS+=("$NS_SRV")
PIDS=()
mtu_cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	cleanup
}
trap mtu_cleanup EXIT
ip netns add "$NS_SRV"
ip -n "$NS_CLI" link add s1 type veth peer name s0 netns "$NS_SRV"
ip -n "$NS_CLI" addr add 10.0.2.1/24 dev s1
ip -n "$NS_CLI" addr add fd02::1/64 dev s1 nodad
ip -n "$NS_CLI" link set s1 up
ip -n "$NS_SRV" addr add 10.0.2.2/24 dev s0
ip -n "$NS_SRV" addr add fd02::2/64 dev s0 nodad
ip -n "$NS_SRV" link set s0 up
ip -n "$NS_SRV" link set lo up
for a in 10.0.1.1/32 10.0.1.2/32 192.0.2.10/32 2001:db8::10/128; do ip -n "$NS_SRV" addr add $a dev lo; done
ip -n "$NS_SRV" route add default via 10.0.2.1
ip -n "$NS_SRV" -6 route add default via fd02::1
ip -n "$NS_CLI" route add 10.0.1.0/24 via 10.0.2.2
for ns in "$NS_CLI" "$NS_SRV"; do
	ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
done
ip netns exec "$NS_CLI" sysctl -qw net.ipv4.ip_forward=1
# The client's own segments as the wire sees them: no TSO/GSO super-packets, and
# checksums filled in by the kernel (AF_XDP gets the frame as it is on the wire).
ip netns exec "$NS_CLI" ethtool -K c0 tx off tso off gso off >/dev/null 2>&1 ||
	skip "ethtool cannot turn off c0's offloads"

ip netns exec "$NS_SRV" $PY "$LIB_DIR/gue_tun.py" vip0 19523 >"$TMP/tun.log" 2>&1 &
PIDS+=($!)
busywait 5000 ip -n "$NS_SRV" link show vip0 >/dev/null 2>&1 || { echo "FAIL: no TUN device"; cat "$TMP/tun.log"; exit 1; }
ip -n "$NS_SRV" link set vip0 up
ip netns exec "$NS_SRV" sysctl -qw net.ipv4.conf.vip0.rp_filter=0

cat >"$TMP/director.yaml" <<EOT
$(director_section "icmp_too_big: {rate: 10, burst: 20}")
services:
  - name: web
    binds:
      - {address: 192.0.2.10, protocol: tcp, ports: [80]}
      - {address: "2001:db8::10", protocol: tcp, ports: [80]}
    hash_key: 4a9b2e0c5d8f1a3b6c7d8e9f0a1b2c3d
    seed: 9f8e7d6c5b4a39281706f5e4d3c2b1a0
    backends:
      - {address: 10.0.1.1}
      - {address: 10.0.1.2}
EOT
start_director "$TMP/director.yaml" || exit 1

got=$(grep -c "service web carries inner packets up to 1460 bytes (d0 MTU 1500 - 40 bytes of GUE for 2 hops); full-size" "$TMP/director.log")
check "start logs the service's largest inner packet, with the fix" 1 "$got"
check "metric: the service's largest inner packet" 1460 "$(metric tandem_director_service_max_inner_packet_bytes 'service="web"')"

head -c 4194304 /dev/urandom >"$TMP/upload"
want=$(sha256sum "$TMP/upload" | cut -d' ' -f1)
# --immediate-mode: otherwise the last second's frames wait in a ring block the kernel has
# not handed over yet, and SIGINT discards them uncounted ("0 dropped", a short stream).
ip netns exec "$NS_CLI" tcpdump -i c0 -s 1600 -B 32768 --immediate-mode -U -w "$TMP/wire.pcap" \
	'udp port 19523 or (icmp and icmp[0] == 3) or (icmp6 and ip6[40] == 2)' 2>"$TMP/tcpdump.log" &
tcpdump_pid=$!
PIDS+=($tcpdump_pid)
busywait 5000 grep -q "listening on" "$TMP/tcpdump.log"

for vip in 192.0.2.10 2001:db8::10; do
	fam=IPv4; [ "${vip#*:}" != "$vip" ] && fam=IPv6
	ip netns exec "$NS_SRV" $PY "$LIB_DIR/mtu_check.py" serve "$vip" 80 >"$TMP/serve.log" 2>&1 &
	server=$!
	busywait 5000 grep -q ready "$TMP/serve.log"
	read -r sha rate < <(ip netns exec "$NS_CLI" $PY "$LIB_DIR/mtu_check.py" send "$vip" 80 "$TMP/upload" 2>&1)
	wait $server
	echo "# $fam: 4 MB uploaded at ${rate:-?} MB/s"
	check "$fam: the server received the 4 MB sent (SHA-256)" "$want" "$sha"
	mtu=$(ip -n "$NS_CLI" route get "$vip" | grep -o 'mtu [0-9]*' | head -1)
	check "$fam: the client's route to the VIP has the lowered PMTU" "mtu 1460" "$mtu"
done
sleep 0.5
kill -INT $tcpdump_pid; wait $tcpdump_pid 2>/dev/null
grep "packets dropped by kernel" "$TMP/tcpdump.log" | sed 's/^/# tcpdump: /'
for vip in 192.0.2.10 2001:db8::10; do
	fam=IPv4; [ "${vip#*:}" != "$vip" ] && fam=IPv6
	read -r longest frames flow same < <($PY "$LIB_DIR/mtu_check.py" stream "$TMP/wire.pcap" "$vip" 80 "$TMP/upload")
	echo "# $fam: $flow GUE frames of this upload ($frames in all), the longest GUE frame $longest bytes"
	check "$fam: every GUE frame on the wire fits 1514 bytes" yes "$([ "${longest:-9999}" -le 1514 ] && echo yes || echo "no ($longest)")"
	check "$fam: the inner TCP stream reassembled from the capture is the file" same "$same"
done
icmp4=$(tcpdump -nr "$TMP/wire.pcap" 'icmp and icmp[0] == 3 and icmp[1] == 4' 2>/dev/null | grep -c "need to frag (mtu 1460)")
icmp6=$(tcpdump -nr "$TMP/wire.pcap" 'icmp6 and ip6[40] == 2' 2>/dev/null | grep -c "packet too big, mtu 1460")
check_ge "IPv4: fragmentation-needed (mtu 1460) errors seen on the wire" 1 "$icmp4"
check_ge "IPv6: packet-too-big (mtu 1460) errors seen on the wire" 1 "$icmp6"
check "no frame dropped by the classifier as too big to receive" 0 "$(metric tandem_director_dropped_packets_total 'reason="frame_too_big"')"

probe() { ip netns exec "$NS_CLI" $PY "$LIB_DIR/mtu_check.py" "$@"; }
got=$(probe probe c0 "$D0_MAC" "$C0_MAC" 10.0.0.1 192.0.2.10 1460)
check "IPv4: the ICMP error equals scapy's, byte for byte" "same 590" "$got"
got=$(probe probe c0 "$D0_MAC" "$C0_MAC" fd00::1 2001:db8::10 1460)
check "IPv6: the ICMPv6 error equals scapy's, byte for byte" "same 1294" "$got"

before=$(metric tandem_director_icmp_too_big_total 'result="no_df"')
got=$(probe nodf c0 "$D0_MAC" 10.0.0.1 192.0.2.10)
check "IPv4 without DF: no ICMP error comes back" 0 "$got"
check "IPv4 without DF: dropped, counted as no_df" $((before + 1)) "$(metric tandem_director_icmp_too_big_total 'result="no_df"')"

# Frames veth dropped before d0's XDP program saw them (its ring full): c0's TX drops.
veth_dropped() { ip netns exec "$NS_CLI" cat /sys/class/net/c0/statistics/tx_dropped; }
# Frames the classifier redirected that the socket could not take: fill ring empty
# (rx_dropped) or RX ring full.
socket_dropped() {
	echo $(( $(metric tandem_director_xsk_rx_dropped_total) +
		$(metric tandem_director_ring_full_events_total 'ring="rx"') ))
}
# Rate limit: 10 a second, burst 20, per queue (slow enough that the time the worker
# takes over the burst, at most the sending time + 1 s, adds little to the bound).
sent0=$(metric tandem_director_icmp_too_big_total 'result="sent"')
lim0=$(metric tandem_director_icmp_too_big_total 'result="rate_limited"')
big0=$(metric tandem_director_dropped_packets_total 'reason="too_big"')
xdrop0=$(socket_dropped)
redir0=$(metric tandem_director_xdp_packets_total 'action="redirect"')
vdrop0=$(veth_dropped)
secs=$(probe burst c0 "$D0_MAC" 10.0.0.1 192.0.2.10 10000)
sleep 1
redir=$(( $(metric tandem_director_xdp_packets_total 'action="redirect"') - redir0 ))
vdrop=$(( $(veth_dropped) - vdrop0 ))
sent=$(( $(metric tandem_director_icmp_too_big_total 'result="sent"') - sent0 ))
lim=$(( $(metric tandem_director_icmp_too_big_total 'result="rate_limited"') - lim0 ))
big=$(( $(metric tandem_director_dropped_packets_total 'reason="too_big"') - big0 ))
xdrop=$(( $(socket_dropped) - xdrop0 ))
limit=$(awk -v s="$secs" 'BEGIN { printf "%d", 20 + 10 * (s + 1) }')
echo "# burst of 10000 sent in ${secs}s: $vdrop dropped by veth before XDP, $redir redirected, $big reached the worker, $xdrop dropped on the socket, $sent ICMP sent, $lim suppressed"
check "burst: every frame sent was redirected or dropped by veth" 10000 $((redir + vdrop))
check "burst: every frame redirected counted (worker + socket drops)" "$redir" $((big + xdrop))
check "burst: every frame that reached the worker counted sent or suppressed" "$big" $((sent + lim))
check "burst: ICMPs sent within the limit (20 + 10/s x (${secs}s + 1 s) = $limit)" yes "$([ "$sent" -le "$limit" ] && [ "$sent" -ge 20 ] && echo yes || echo "no ($sent)")"

finish
