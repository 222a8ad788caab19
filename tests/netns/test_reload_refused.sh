#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A bad configuration on reload leaves the running one in force and says what and where
# (file:line:column); so does a change to director: that needs a restart. SIGHUP reloads
# too. Topology: see lib.sh.
source "$(dirname "$0")/lib.sh"

setup_topology 1
good() {
	director_section
	service_section "$@"
}
good 10.0.1.1 10.0.1.2 >"$TMP/director.yaml"
cp "$TMP/director.yaml" "$TMP/gen1.yaml"
start_director "$TMP/director.yaml" || exit 1
traffic build basic >"$TMP/all.txt"; head -4 "$TMP/all.txt" >"$TMP/f.txt"
cut -f2 "$TMP/f.txt" | encap_ref "$TMP/gen1.yaml" >"$TMP/gen1.ref"

# 1. A backend address that is not an address: refused with file:line:column.
good 10.0.1.1 10.0.1.300 >"$TMP/director.yaml"
out=$(reload_director 2>&1); rc=$?
check "reload of an invalid file: exit status" 1 $rc
line=$(grep -n '10.0.1.300' "$TMP/director.yaml" | cut -d: -f1)
case "$out" in *"director.yaml:$line:"*) got=yes ;; *) got="no: $out" ;; esac
check "reload error names director.yaml:$line:column" yes "$got"
check "generation after the refused reload" 1 "$(metric tandem_director_config_generation)"
check "last_reload_success after the refused reload" 0 "$(metric tandem_director_last_reload_success)"
traffic send --frames "$TMP/f.txt" --capture "$TMP/f.cap" --expect 4 --timeout 5
$PY "$LIB_DIR/traffic.py" check --frames "$TMP/f.txt" --ref "$TMP/gen1.ref" --captured "$TMP/f.cap" || ret=1

# 2. YAML syntax error.
printf 'services:\n  - name: [oops\n' >"$TMP/director.yaml"
out=$(reload_director 2>&1); rc=$?
check "reload of a file with a YAML syntax error: exit status" 1 $rc
case "$out" in *"director.yaml:"*) got=yes ;; *) got="no: $out" ;; esac
check "syntax error names the file and position" yes "$got"

# 3. director.queues changed: needs a restart.
good 10.0.1.1 10.0.1.2 | sed 's/queues: 1/queues: 2/' >"$TMP/director.yaml"
out=$(reload_director 2>&1); rc=$?
check "reload changing director.queues: exit status" 1 $rc
case "$out" in *"director.queues changed"*"restart"*) got=yes ;; *) got="no: $out" ;; esac
check "message says director.queues needs a restart" yes "$got"
check "generation still 1" 1 "$(metric tandem_director_config_generation)"

# 4. Removing an active backend without draining it breaks its connections: refused,
#    and applied with --force.
good 10.0.1.1 >"$TMP/director.yaml"
out=$(reload_director 2>&1); rc=$?
check "reload removing an active backend: exit status" 1 $rc
case "$out" in *"10.0.1.2 leaves the table"*"--force"*) got=yes ;; *) got="no: $out" ;; esac
check "message names the backend and --force" yes "$got"
check "generation after it" 1 "$(metric tandem_director_config_generation)"
reload_director --force >/dev/null 2>&1; rc=$?
check "the same reload with --force: exit status" 0 $rc
check "generation after --force" 2 "$(metric tandem_director_config_generation)"
good 10.0.1.1 10.0.1.2 >"$TMP/director.yaml"
reload_director >/dev/null 2>&1; rc=$?
check "adding the backend back: exit status" 0 $rc

# 5. A good change (a backend added) by SIGHUP is applied.
good 10.0.1.1 10.0.1.2 10.0.1.3 >"$TMP/director.yaml"
kill -HUP "$DIRECTOR_PID"
busywait 10000 sh -c "[ \"\$(ip netns exec $NS_DIR curl -sf http://$METRICS_ADDR/metrics | awk '/^tandem_director_config_generation/ {print \$2}')\" = 4 ]"
check "generation after SIGHUP with a good file" 4 "$(metric tandem_director_config_generation)"
check "last_reload_success after it" 1 "$(metric tandem_director_last_reload_success)"
cut -f2 "$TMP/f.txt" | encap_ref "$TMP/director.yaml" >"$TMP/gen2.ref"
traffic send --frames "$TMP/f.txt" --capture "$TMP/f2.cap" --expect 4 --timeout 5
$PY "$LIB_DIR/traffic.py" check --frames "$TMP/f.txt" --ref "$TMP/gen2.ref" --captured "$TMP/f2.cap" || ret=1
finish
