#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Reload under traffic: a generator sends 2000 frames at a steady 250 per second while the
# configuration changes 20 times (backends added, removed, drained). Every frame comes
# out exactly once, byte-identical to what one of the 21 configurations makes of it, and
# never by an older table after a newer one was seen. Topology: see lib.sh.
source "$(dirname "$0")/lib.sh"

setup_topology 1

make_config() {  # make_config N: generation N's backends, a deterministic mix
	local n=$1
	director_section
	service_section
	local i any=0
	for i in 1 2 3 4 5 6 7 8; do
		case $(( (n * 7 + i * 5) % 4 )) in
		0) ;;
		1) echo "      - {address: 10.0.1.$i, state: draining}" ;;
		*) echo "      - {address: 10.0.1.$i}"; any=1 ;;
		esac
	done
	[ $any = 1 ] || echo "      - {address: 10.0.1.9}"
}

for n in $(seq 0 20); do
	make_config "$n" >"$TMP/gen$n.yaml"
done
cp "$TMP/gen0.yaml" "$TMP/director.yaml"
start_director "$TMP/director.yaml" || exit 1

traffic build many2000 >"$TMP/frames.txt"
refs=()
for n in $(seq 0 20); do
	cut -f2 "$TMP/frames.txt" | encap_ref "$TMP/gen$n.yaml" >"$TMP/gen$n.ref"
	refs+=("$TMP/gen$n.ref")
done

traffic send --frames "$TMP/frames.txt" --rate 250 --capture "$TMP/frames.cap" \
	--expect 2000 --timeout 30 &
sender=$!
sleep 1.5
reload_fail=0
for n in $(seq 1 20); do
	cp "$TMP/gen$n.yaml" "$TMP/director.yaml"
	# --force: these steps remove active backends outright, which a plain reload refuses
	reload_director --force >"$TMP/reload.out" 2>&1 || { reload_fail=$((reload_fail + 1)); cat "$TMP/reload.out"; }
	sleep 0.25
done
wait $sender
check "reloads accepted" 0 "$reload_fail"
check "config generation after 20 reloads" 21 "$(metric tandem_director_config_generation)"
$PY "$LIB_DIR/traffic.py" reload-check --frames "$TMP/frames.txt" --refs "${refs[@]}" \
	--captured "$TMP/frames.cap" || ret=1
check "dropped by the worker during reloads" 0 "$(metric tandem_director_dropped_packets_total)"
finish
