#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# BPF fixture test of the XDP classifier (no traffic; a namespace of its own for the harness's AF_XDP socket on lo): fixtures are data
# (expected decision, name, frame; from traffic.py fixtures), run through
# bpf_prog_test_run_opts against the maps the real Classifier writes for this config.
source "$(dirname "$0")/lib.sh"
: "${TANDEM_CLASSIFIER_FIXTURES:?set by meson}"
[ "$(id -u)" = 0 ] || skip "needs root (BPF_PROG_TEST_RUN)"
$PY -c 'import scapy.all' 2>/dev/null || skip "python3-scapy not installed for $PY"
TMP=$(mktemp -d /tmp/tandem-bpf.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
cat >"$TMP/director.yaml" <<'EOT'
director:
  interface: d0
  frame_size: 2048
services:
  - name: web
    binds:
      - {address: 192.0.2.10, protocol: tcp, ports: [80, 443]}
      - {address: 192.0.2.10, protocol: udp, ports: ["5000-5010"]}
      - {address: 192.0.2.128/25, protocol: tcp, ports: [8080]}
      - {address: "2001:db8::10", protocol: tcp, ports: [80]}
      - {address: "2001:db8::10", protocol: udp, ports: [53]}
      - {address: "2001:db8:0:100::/56", protocol: tcp, ports: [8080]}
    hash_key: 4a9b2e0c5d8f1a3b6c7d8e9f0a1b2c3d
    seed: 9f8e7d6c5b4a39281706f5e4d3c2b1a0
    backends:
      - {address: 10.0.1.1}
EOT
$PY "$LIB_DIR/traffic.py" --dst-mac 02:00:00:00:00:02 fixtures >"$TMP/fixtures.txt"
# In a namespace of its own: the harness binds an AF_XDP socket to its lo.
ns="tandem-fix-$(rand_suffix)"
ip netns add "$ns" || skip "cannot create network namespaces"
trap 'ip netns del "$ns"; rm -rf "$TMP"' EXIT
ip -n "$ns" link set lo up
ip netns exec "$ns" "$TANDEM_CLASSIFIER_FIXTURES" "$TMP/director.yaml" "$TMP/fixtures.txt"
