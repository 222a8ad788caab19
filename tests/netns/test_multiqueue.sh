#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Several queues, several workers: a 2-queue veth pair, one AF_XDP socket and one pinned
# worker per queue. 1000 frames from 1000 flows: every frame comes out exactly once,
# byte-identical to the reference, and both queues carry traffic. Topology: see lib.sh
# (veth created with numtxqueues/numrxqueues 2; the sender's TX queue, picked by flow
# hash, is the director's RX queue).
source "$(dirname "$0")/lib.sh"

QUEUES=2
setup_topology 2
cat >"$TMP/director.yaml" <<EOT
$(director_section "cores: [0, 1]")
services:
  - name: web
    binds:
      - {address: 192.0.2.10, protocol: tcp, ports: [80]}
    hash_key: 4a9b2e0c5d8f1a3b6c7d8e9f0a1b2c3d
    seed: 9f8e7d6c5b4a39281706f5e4d3c2b1a0
    hash_fields: [src_addr, src_port]
    backends:
      - {address: 10.0.1.1}
      - {address: 10.0.1.2}
      - {address: 10.0.1.3}
EOT
start_director "$TMP/director.yaml" || exit 1
check "AF_XDP sockets (mode_info samples)" 2 "$(metric tandem_director_mode_info)"

traffic build many1000 >"$TMP/frames.txt"
cut -f2 "$TMP/frames.txt" | encap_ref "$TMP/director.yaml" >"$TMP/frames.ref"
traffic send --frames "$TMP/frames.txt" --rate 500 --capture "$TMP/frames.cap" \
	--expect 1000 --timeout 20
$PY "$LIB_DIR/traffic.py" reload-check --frames "$TMP/frames.txt" --refs "$TMP/frames.ref" \
	--captured "$TMP/frames.cap" || ret=1
q0=$(metric tandem_director_rx_packets_total 'queue="0"')
q1=$(metric tandem_director_rx_packets_total 'queue="1"')
check "frames received by the two workers together" 1000 $((q0 + q1))
check_ge "frames on queue 0" 1 "$q0"
check_ge "frames on queue 1" 1 "$q1"
check "encapsulated" 1000 "$(metric tandem_director_encapsulated_packets_total)"

# More NIC queues than director.queues: the director warns at start, and the classifier
# drops and counts the VIP frames on the queue no worker serves.
stop_director || { echo "FAIL: director exit status $DIRECTOR_EXIT"; ret=1; }
sed 's/queues: 2/queues: 1/; s/cores: \[0, 1\]/cores: [0]/' "$TMP/director.yaml" >"$TMP/one.yaml"
start_director "$TMP/one.yaml" || exit 1
grep -q "d0 receives on 2 queues but director.queues is 1" "$TMP/director.log" && warned=yes || warned=no
check "start warns that d0 has more queues than director.queues" yes "$warned"
traffic send --frames "$TMP/frames.txt" --rate 500 --capture "$TMP/one.cap" --expect "$q0" --timeout 20
enc=$(metric tandem_director_encapsulated_packets_total)
unserved=$(metric tandem_director_dropped_packets_total 'queue="1",reason="no_socket"')
echo "1 worker on 2 queues: $enc frames forwarded, $unserved dropped as no_socket on queue 1"
check "frames forwarded + dropped on the unserved queue" 1000 $((enc + unserved))
check_ge "frames counted on the unserved queue" 1 "$unserved"
finish
