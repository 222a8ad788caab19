#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# With bpffs mounted (here: in the director's own mount namespace) libxdp attaches the
# classifier through its multi-program dispatcher, or, when the kernel refuses the
# dispatcher's freplace programs (this host's 6.18 kernel answers EPERM to libxdp
# 1.3.1's compatibility check), falls back to a single-program attach by itself. Either
# way the director forwards the same and leaves nothing on the interface when it exits.
# Without bpffs the other tests see libxdp's legacy attach. The dispatcher itself, beside
# another program, is shown on Debian's kernel by tests/vm/dispatcher.sh (vm-dispatcher).
# Topology: see lib.sh.
source "$(dirname "$0")/lib.sh"

setup_topology 1
grep -q bpf /proc/filesystems || skip "no bpffs in this kernel"
cat >"$TMP/director.yaml" <<EOT
$(director_section)
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
BPFFS=1 start_director "$TMP/director.yaml" --log-level debug || exit 1
disp=$(metric tandem_director_mode_info 'attach="dispatcher"')
legacy=$(metric tandem_director_mode_info 'attach="legacy"')
check "attached by libxdp (dispatcher or its fallback) with bpffs mounted" 1 $((disp + legacy))
if [ "$disp" = 1 ]; then
	echo "INFO: attached through the libxdp dispatcher"
else
	echo "INFO: libxdp fell back to a single-program attach: $(grep -m1 'Compatibility check' "$TMP/director.log" || echo 'see the log at debug level')"
fi
traffic build basic >"$TMP/all.txt"
grep -E '^v(4|6) tcp 80 from' "$TMP/all.txt" >"$TMP/f.txt"
n=$(wc -l <"$TMP/f.txt")
cut -f2 "$TMP/f.txt" | encap_ref "$TMP/director.yaml" >"$TMP/f.ref"
traffic send --frames "$TMP/f.txt" --capture "$TMP/f.cap" --expect "$n" --timeout 5
$PY "$LIB_DIR/traffic.py" check --frames "$TMP/f.txt" --ref "$TMP/f.ref" --captured "$TMP/f.cap" || ret=1
finish
