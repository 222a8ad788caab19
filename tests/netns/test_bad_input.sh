#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Malformed frames to a VIP (bad lengths, bad IHL, truncated headers, an IPv6 extension
# chain past the bound, frames longer than a UMEM frame, runt frames) crash nothing and are
# each counted under their reason; the director still forwards afterwards.
# Topology: see lib.sh (MTU raised to 3000 and frame_size 2048 for the oversize case).
source "$(dirname "$0")/lib.sh"

setup_topology 1
ip -n "$NS_CLI" link set c0 mtu 3000
ip -n "$NS_DIR" link set d0 mtu 3000
cat >"$TMP/director.yaml" <<EOT
$(director_section "frame_size: 2048")
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

traffic build bad >"$TMP/bad.txt"
traffic build chain >>"$TMP/bad.txt"
# Oversized: 2500 bytes to the VIP, more than a 2048-byte UMEM frame holds.
ip netns exec "$NS_CLI" $PY -c "
from scapy.all import *
e = Ether(src='02:00:00:00:00:01', dst='$D0_MAC')
big = e / IP(src='198.51.100.1', dst='192.0.2.10') / TCP(sport=1, dport=80) / Raw(b'z' * 2446)
print('oversize\t' + bytes(big).hex())
runt = bytes(e / IP(src='198.51.100.1', dst='192.0.2.10') / TCP(sport=1, dport=80))[:14 + 10]
print('runt\t' + runt.hex())
print('ethernet only\t' + bytes(Ether(src='02:00:00:00:00:01', dst='$D0_MAC', type=0x0800)).hex())
" >>"$TMP/bad.txt"
traffic send --frames "$TMP/bad.txt" --capture "$TMP/bad.cap" --expect 1 --timeout 1
check "GUE frames made from malformed input" 0 "$(wc -l <"$TMP/bad.cap")"

check "dropped: bad_ip_total_length" 4 "$(metric tandem_director_dropped_packets_total 'reason="bad_ip_total_length"')"
check "dropped: truncated_l4" 1 "$(metric tandem_director_dropped_packets_total 'reason="truncated_l4"')"
check "dropped: bad_icmp_quote" 1 "$(metric tandem_director_dropped_packets_total 'reason="bad_icmp_quote"')"
check "passed to the kernel: unparseable (runt, 9-header chain)" 3 \
	"$(metric tandem_director_xdp_packets_total 'action="pass_malformed"')"
check "dropped: frame_too_big (2500 bytes, 2048-byte frames)" 1 \
	"$(metric tandem_director_dropped_packets_total 'reason="frame_too_big"')"

# Still alive and forwarding.
traffic build basic >"$TMP/all.txt"; head -2 "$TMP/all.txt" >"$TMP/ok.txt"
cut -f2 "$TMP/ok.txt" | encap_ref "$TMP/director.yaml" >"$TMP/ok.ref"
traffic send --frames "$TMP/ok.txt" --capture "$TMP/ok.cap" --expect 2 --timeout 5
$PY "$LIB_DIR/traffic.py" check --frames "$TMP/ok.txt" --ref "$TMP/ok.ref" --captured "$TMP/ok.cap" || ret=1
finish
