#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The director forwards VIP traffic (IPv4 and IPv6, TCP and UDP, single ports, ranges and
# prefixes, ICMP errors and echo, later fragments) as GUE byte for byte as the reference
# encoder (tandem::forward_frame, which tandemctl encap runs) does, and leaves everything
# else to the kernel: ping, a TCP connect to the director's own address, ARP, unbound
# ports on a VIP. Topology: see lib.sh.
source "$(dirname "$0")/lib.sh"

setup_topology 1
cat >"$TMP/director.yaml" <<EOT
$(director_section)
services:
  - name: web
    binds:
      - {address: 192.0.2.10, protocol: tcp, ports: [80, 443]}
      - {address: 192.0.2.10, protocol: udp, ports: ["5000-5010"]}
      - {address: 192.0.2.128/25, protocol: tcp, ports: [8080]}
    hash_key: 4a9b2e0c5d8f1a3b6c7d8e9f0a1b2c3d
    seed: 9f8e7d6c5b4a39281706f5e4d3c2b1a0
    backends:
      - {address: 10.0.1.1}
      - {address: 10.0.1.2}
      - {address: 10.0.1.3, state: draining}
  - name: web6
    binds:
      - {address: "2001:db8::10", protocol: tcp, ports: [80]}
      - {address: "2001:db8::10", protocol: udp, ports: [53]}
      - {address: "2001:db8:0:100::/56", protocol: tcp, ports: [8080]}
    hash_key: 0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e
    seed: 1a2b3c4d5e6f70819203a4b5c6d7e8f9
    hops_per_row: 3
    backends:
      - {address: 10.0.1.4}
      - {address: 10.0.1.5}
      - {address: 10.0.1.6}
      - {address: 10.0.1.7}
EOT
start_director "$TMP/director.yaml" || exit 1

# The kernel's own traffic keeps working while the director runs.
got=$(traffic ping 10.0.0.2)
check "ping to the director's own IPv4 address" ok "$got"
got=$(traffic ping fd00::2)
check "ping to the director's own IPv6 address (NDP passes)" ok "$got"
ip netns exec "$NS_DIR" $PY -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.0.0.2", 2222)); s.listen(1); s.settimeout(10)
c, _ = s.accept(); c.sendall(b"hello"); c.close()' &
listener=$!
busywait 5000 sh -c "ip netns exec $NS_DIR ss -ltn | grep -q 10.0.0.2:2222"
got=$(ip netns exec "$NS_CLI" $PY -c '
import socket; s = socket.create_connection(("10.0.0.2", 2222), timeout=5); print(s.recv(5).decode())' 2>&1)
wait $listener
check "TCP connect to the director's own address" hello "$got"
arp=$(ip -n "$NS_CLI" neigh show 10.0.0.2 | grep -c lladdr)
check "ARP for the director's address resolved" 1 "$arp"

# VIP traffic: every frame comes out once, identical to the reference encoder's output.
traffic build basic >"$TMP/basic.txt"
cut -f2 "$TMP/basic.txt" | encap_ref "$TMP/director.yaml" >"$TMP/basic.ref"
n=$(wc -l <"$TMP/basic.txt")
traffic send --frames "$TMP/basic.txt" --capture "$TMP/basic.cap" --expect "$n" --timeout 10
$PY "$LIB_DIR/traffic.py" check --frames "$TMP/basic.txt" --ref "$TMP/basic.ref" \
	--captured "$TMP/basic.cap" || ret=1

# VIP address but unbound port or protocol: the kernel's, never encapsulated.
traffic build pass >"$TMP/pass.txt"
before=$(metric tandem_director_xdp_packets_total 'action="pass"')
traffic send --frames "$TMP/pass.txt" --capture "$TMP/pass.cap" --expect 1 --timeout 1
check "unbound port/protocol on a VIP: GUE frames" 0 "$(wc -l <"$TMP/pass.cap")"
after=$(metric tandem_director_xdp_packets_total 'action="pass"')
check_ge "unbound port/protocol on a VIP: classifier passes" 3 $((after - before))

check "encapsulated_packets_total" "$n" "$(metric tandem_director_encapsulated_packets_total)"
check "service web forwarded" 13 "$(metric tandem_director_service_packets_total 'service="web"')"
check "service web6 forwarded" 9 "$(metric tandem_director_service_packets_total 'service="web6"')"
check "mode_info reports copy mode" 1 "$(metric tandem_director_mode_info 'bind_mode="copy"')"
ip netns exec "$NS_DIR" "$TANDEMCTL" stats -a "$METRICS_ADDR" >"$TMP/stats.txt" 2>&1
check "tandemctl stats exit status" 0 "$?"
check "tandemctl stats: service web (all) first-hop packets" 13 \
	"$(awk '$1 == "web" && $2 == "(all)" { print $3 }' "$TMP/stats.txt")"
finish
