#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The director's health checks against real servers: http checks of web servers and gue
# checks through a stand-in for the proxy's decapsulation (gue_responder.py). A backend
# that fails `fall` checks in a row leaves the front of its rows, and the director's
# frames match the reference encoder's on the config with that backend `healthy: false`;
# when it passes `rise` checks it is back. A reload keeps the verdicts. Topology: lib.sh;
# the proxies' addresses live on the client namespace's loopback.
source "$(dirname "$0")/lib.sh"

setup_topology 1
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; cleanup' EXIT
for a in 10.0.1.1 10.0.1.2 10.0.1.3 10.0.1.4 10.0.1.5; do
	ip -n "$NS_CLI" addr add $a/32 dev lo
done
mkdir -p "$TMP/www" && echo ok >"$TMP/www/health"

# http_server ADDRESS: a web server in the client namespace; sets HTTP_PID.
http_server() {
	ip netns exec "$NS_CLI" timeout 300 $PY -m http.server --bind "$1" --directory "$TMP/www" 8080 \
		>"$TMP/http-$1.log" 2>&1 &
	HTTP_PID=$!
	PIDS+=($HTTP_PID)
	busywait 10000 sh -c "ip netns exec $NS_CLI ss -ltn | grep -q '$1:8080'"
}
http_server 10.0.1.1
http_server 10.0.1.2; HTTP2_PID=$HTTP_PID
# 10.0.1.3 runs no server. 10.0.1.4 decapsulates GUE on port 19600; 10.0.1.5 does not.
ip netns exec "$NS_CLI" $PY "$LIB_DIR/gue_responder.py" 10.0.1.4 19600 "$TMP/gue.log" 300 &
PIDS+=($!)

cat >"$TMP/director.yaml" <<EOT
$(director_section)
services:
  - name: web
    binds:
      - {address: 192.0.2.10, protocol: tcp, ports: [80]}
    hash_key: 4a9b2e0c5d8f1a3b6c7d8e9f0a1b2c3d
    seed: 9f8e7d6c5b4a39281706f5e4d3c2b1a0
    health_check: {type: http, port: 8080, path: /health, interval_ms: 200, timeout_ms: 150, rise: 2, fall: 2}
    backends:
      - {address: 10.0.1.1}
      - {address: 10.0.1.2}
      - {address: 10.0.1.3}
  - name: tunnel
    binds:
      - {address: 192.0.2.20, protocol: tcp, ports: [80]}
    hash_key: 0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e
    seed: 1a2b3c4d5e6f70819203a4b5c6d7e8f9
    health_check: {type: gue, port: 19600, interval_ms: 200, timeout_ms: 150, rise: 2, fall: 2}
    backends:
      - {address: 10.0.1.4}
      - {address: 10.0.1.5}
EOT
# expected_config DOWN...: the config with these backends marked healthy: false.
expected_config() {
	local out=$TMP/expected-$(IFS=-; echo "${*:-none}").yaml a
	cp "$TMP/director.yaml" "$out"
	for a in "$@"; do sed -i "s/{address: $a}/{address: $a, healthy: false}/" "$out"; done
	echo "$out"
}
healthy() { metric tandem_director_backend_healthy "backend=\"$1\""; }
is_healthy() { [ "$(healthy "$1")" = "$2" ]; }

start_director "$TMP/director.yaml" || exit 1

busywait 10000 is_healthy 10.0.1.3 0
check "http: no server on 10.0.1.3 -> unhealthy" 0 "$(healthy 10.0.1.3)"
check "http: 10.0.1.1 healthy" 1 "$(healthy 10.0.1.1)"
check "http: 10.0.1.2 healthy" 1 "$(healthy 10.0.1.2)"
busywait 10000 is_healthy 10.0.1.5 0
check "gue: nothing on 10.0.1.5's GUE port -> unhealthy" 0 "$(healthy 10.0.1.5)"
check "gue: 10.0.1.4 answers the echo through GUE -> healthy" 1 "$(healthy 10.0.1.4)"
check_ge "gue: probes 10.0.1.4 took (GLB header, hop count 0, from 10.0.0.2)" 2 \
	"$(grep -c '^probe from 10.0.0.2 inner 10.0.0.2 -> 10.0.1.4$' "$TMP/gue.log")"
check "gue: malformed probes" 0 "$(grep -c '^bad' "$TMP/gue.log")"
check_ge "http: checks that passed on 10.0.1.1" 2 \
	"$(metric tandem_director_health_checks_total 'backend="10.0.1.1",result="ok"')"
grep -q 'service web: backend 10.0.1.3 is unhealthy (http check failed 2 times in a row: connect: Connection refused)' \
	"$TMP/director.log"
check "the log says which backend, which check and why" 0 "$?"

ip netns exec "$NS_DIR" "$TANDEMCTL" stats -a "$METRICS_ADDR" >"$TMP/stats.txt" 2>&1
check "tandemctl stats: 10.0.1.3's verdict" down \
	"$(awk '$1 == "web" && $2 == "10.0.1.3" { print $3 }' "$TMP/stats.txt")"
check "tandemctl stats: 10.0.1.4's verdict" healthy \
	"$(awk '$1 == "tunnel" && $2 == "10.0.1.4" { print $3 }' "$TMP/stats.txt")"

# send_and_check NAME CONFIG: 60 flows to web's VIP come out as CONFIG's tables say.
traffic build many60 >"$TMP/flows.txt"
send_and_check() {
	cut -f2 "$TMP/flows.txt" | encap_ref "$2" >"$TMP/$1.ref"
	traffic send --frames "$TMP/flows.txt" --capture "$TMP/$1.cap" --expect 60 --timeout 10
	$PY "$LIB_DIR/traffic.py" check --frames "$TMP/flows.txt" --ref "$TMP/$1.ref" \
		--captured "$TMP/$1.cap" >"$TMP/$1.check"
	check "$1: 60 flows as the tables with the failed backends unhealthy" 0 "$?"
	grep FAIL "$TMP/$1.check" | head -5
}
# differing CONFIG_A CONFIG_B: how many of the flows the two configs send differently.
differing() {
	diff <(cut -f2 "$TMP/flows.txt" | encap_ref "$1") <(cut -f2 "$TMP/flows.txt" | encap_ref "$2") |
		grep -c '^<'
}
all_up=$(expected_config)
down3=$(expected_config 10.0.1.3 10.0.1.5)
check_ge "flows that 10.0.1.3 being down moves (the test can tell)" 10 "$(differing "$all_up" "$down3")"
send_and_check "10.0.1.3 down" "$down3"
gen_before=$(metric tandem_director_config_generation)

# 10.0.1.2's server stops: it goes down too; then it comes back.
kill "$HTTP2_PID"; wait "$HTTP2_PID" 2>/dev/null
busywait 10000 is_healthy 10.0.1.2 0
check "http: server on 10.0.1.2 stopped -> unhealthy" 0 "$(healthy 10.0.1.2)"
down23=$(expected_config 10.0.1.2 10.0.1.3 10.0.1.5)
check_ge "flows that 10.0.1.2 going down moves" 10 "$(differing "$down3" "$down23")"
send_and_check "10.0.1.2 and 10.0.1.3 down" "$down23"
check_ge "a health change publishes new tables (generation)" $((gen_before + 1)) \
	"$(metric tandem_director_config_generation)"

http_server 10.0.1.2
busywait 10000 is_healthy 10.0.1.2 1
check "http: server on 10.0.1.2 back -> healthy after rise checks" 1 "$(healthy 10.0.1.2)"
send_and_check "10.0.1.2 back" "$down3"

# A reload with the same services keeps the verdicts: no flap back to healthy.
reload_director >"$TMP/reload.out" 2>&1
check "reload accepted" 0 "$?"
check "reload keeps 10.0.1.3 unhealthy" 0 "$(healthy 10.0.1.3)"
send_and_check "after reload" "$down3"

# healthy: false in the config wins over a passing check.
sed -i "s/{address: 10.0.1.1}/{address: 10.0.1.1, healthy: false}/" "$TMP/director.yaml"
reload_director >"$TMP/reload2.out" 2>&1
check "reload with 10.0.1.1 healthy: false accepted" 0 "$?"
send_and_check "10.0.1.1 forced down" "$(expected_config 10.0.1.3 10.0.1.5)"
finish
