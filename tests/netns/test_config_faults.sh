#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Hostile configuration files against a director forwarding a steady stream (issue 10):
#   a. a 20 MiB file: refused by size before it is parsed;
#   b. a 2 MB file of one backend repeated 70,000 times (under the size limit): refused
#      with the first 20 errors and "... and N more errors", memory bounded;
#   c. 100 SIGHUPs within a second with the file in force: each a no-op that says so;
#   d. a reload that runs out of memory (test builds' fault switch): refused, answered.
# In each case the generation in force stays 1 and no frame of the stream is lost; each
# case prints what it cost (frames sent, received, lost; the daemon's RSS). Last, a real
# change still applies. Topology: see lib.sh.

# The loader used to take gigabytes for (b). With AddressSanitizer's hard RSS limit a
# build that still does so dies here (and fails the test) instead of taking the host's
# memory; builds without ASan ignore the option.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=66}:hard_rss_limit_mb=2048
source "$(dirname "$0")/lib.sh"

setup_topology 1

good() {
	director_section
	service_section 10.0.1.1 10.0.1.2 10.0.1.3
}
good >"$TMP/good.yaml"
cp "$TMP/good.yaml" "$TMP/director.yaml"
start_director "$TMP/director.yaml" || exit 1
[ "$(cat "/proc/$DIRECTOR_PID/comm" 2>/dev/null)" = tandem-director ] ||
	skip "cannot find the director's process for its RSS (pid $DIRECTOR_PID)"

FRAMES=600  # 2 s at 300 a second, per case
traffic build "many$FRAMES" >"$TMP/frames.txt"
cut -f2 "$TMP/frames.txt" | encap_ref "$TMP/good.yaml" >"$TMP/good.ref"

# status_kb FIELD: VmRSS or VmHWM of the director in KiB; 0 once it is gone
status_kb() {
	local v
	v=$(awk -v k="$1:" '$1 == k {print $2}' "/proc/$DIRECTOR_PID/status" 2>/dev/null)
	echo "${v:-0}"
}
alive() { kill -0 "$DIRECTOR_PID" 2>/dev/null && echo yes || echo no; }
rx_above() { [ "$(metric tandem_director_rx_packets_total)" -gt "$1" ]; }
# received CAPTURE: captured frames identical to what the running config makes of the stream
received() { awk 'NR == FNR { want[$2] = 1; next } ($1 in want) { n++ } END { print n + 0 }' "$TMP/good.ref" "$1"; }

# under_traffic NAME CMD...: runs CMD while the stream flows (once the director has seen
# its first frames), then prints and checks what it cost.
under_traffic() {
	local name=$1; shift
	local rx0 sender got hwm0
	rx0=$(metric tandem_director_rx_packets_total)
	hwm0=$(status_kb VmHWM)
	# --timeout: the send loop's limit, then how long the capture goes on after it
	traffic send --frames "$TMP/frames.txt" --rate 300 --capture "$TMP/$name.cap" \
		--expect "$FRAMES" --timeout 3 &
	sender=$!
	busywait 15000 rx_above "$rx0" || echo "note: the stream had not reached the director after 15 s"
	"$@"
	wait $sender
	got=$(received "$TMP/$name.cap")
	echo "cost of $name: frames sent $FRAMES, received $got, lost $((FRAMES - got));" \
		"RSS now $(( $(status_kb VmRSS) / 1024 )) MiB, peak $(( $(status_kb VmHWM) / 1024 )) MiB" \
		"(peak before: $((hwm0 / 1024)) MiB)"
	check "$name: frames of the stream lost" 0 $((FRAMES - got))
	check "$name: director still running" yes "$(alive)"
	check "$name: generation in force" 1 "$(metric tandem_director_config_generation)"
}

# a. 20 MiB: the running config, then comments to 20 MiB.
{ good; yes "# padding $(printf 'x%.0s' {1..60})" | head -c $((20 * 1024 * 1024 - $(good | wc -c))); } \
	>"$TMP/big.yaml"
# reload_file NAME: put NAME.yaml in place and reload; the answer in NAME.out, the exit
# status in NAME.rc.
reload_file() {
	cp "$TMP/$1.yaml" "$TMP/director.yaml"
	reload_director >"$TMP/$1.out" 2>&1; echo $? >"$TMP/$1.rc"
}
under_traffic big-file reload_file big
check "big-file: reload exit status" 1 "$(cat "$TMP/big.rc")"
case "$(cat "$TMP/big.out")" in
*"director.yaml: 20971520 bytes, larger than the limit of 16777216 bytes"*) got=yes ;;
*) got="no: $(head -c 300 "$TMP/big.out")" ;;
esac
check "big-file: refused with its size and the limit" yes "$got"

# b. ~2 MB of one backend, 70,000 times (the loader stops at 65,536 backends a service).
{ good; yes "      - {address: 10.0.1.1}" | head -n 70000; } >"$TMP/dup.yaml"
echo "dup-file: $(wc -c <"$TMP/dup.yaml") bytes"
hwm_before=$(status_kb VmHWM)
under_traffic dup-file reload_file dup
check "dup-file: reload exit status" 1 "$(cat "$TMP/dup.rc")"
case "$(cat "$TMP/dup.out")" in
*"director.yaml:"*"services[0].backends: lists more than 65535 backends"*) got=yes ;;
*) got="no: $(head -c 300 "$TMP/dup.out")" ;;
esac
check "dup-file: the answer names the file, line and field" yes "$got"
more=$(grep -o 'director.yaml: \.\.\. and [0-9]* more errors' "$TMP/director.log" | grep -o '[0-9]*' | tail -1)
check_ge "dup-file: the log ends the list with \"... and N more errors\"" 60000 "${more:-0}"
check "dup-file: file:line:column error lines in the log (the cap)" 20 \
	"$(grep -c 'director\.yaml:[0-9]*:[0-9]*: services' "$TMP/director.log")"
check "dup-file: of them, duplicate backends" 19 "$(grep -c 'is already a backend of this service' "$TMP/director.log")"
growth=$(( ($(status_kb VmHWM) - hwm_before) / 1024 ))
echo "dup-file: peak RSS grew by $growth MiB while loading it"
bound=1024  # MiB, under ASan; the pairwise loader went past 2 GiB within seconds
if [ "$(alive)" != yes ]; then
	got="no: the director is gone"
elif [ "$growth" -le $bound ]; then
	got=yes
else
	got="no: $growth MiB"
fi
check "dup-file: peak RSS growth within $bound MiB" yes "$got"

# c. 100 SIGHUPs within a second, the file being the configuration in force.
cp "$TMP/good.yaml" "$TMP/director.yaml"
unchanged0=$(metric tandem_director_reloads_total 'result="unchanged"')
hups() {  # one process, so that the 100 fit in a second
	$PY -c 'import os, signal, sys, time
t = time.monotonic()
for _ in range(100):
    os.kill(int(sys.argv[1]), signal.SIGHUP)
    time.sleep(0.009)
print("sighup-flood: 100 SIGHUPs in %d ms" % ((time.monotonic() - t) * 1000))' "$DIRECTOR_PID"
}
under_traffic sighup-flood hups
busywait 5000 sh -c "[ \"\$(grep -c 'configuration unchanged (generation 1); nothing to do' $TMP/director.log)\" -ge 1 ]"
echo "sighup-flood: 100 SIGHUPs sent; $(( $(metric tandem_director_reloads_total 'result="unchanged"') - unchanged0 ))" \
	"no-op reloads (signals that arrive while one is pending merge)"
check_ge "sighup-flood: no-op reloads counted" 1 \
	$(( $(metric tandem_director_reloads_total 'result="unchanged"') - unchanged0 ))
check_ge "sighup-flood: log lines \"configuration unchanged (generation 1); nothing to do\"" 1 \
	"$(grep -c 'configuration unchanged (generation 1); nothing to do' "$TMP/director.log")"
check "sighup-flood: reloads that applied anything" 0 "$(metric tandem_director_reloads_total 'result="ok"')"

# A comment-only change is a no-op too, and the control socket says so.
{ echo "# a comment, and the same values"; good; } >"$TMP/director.yaml"
check "comment-only change: answer" "ok configuration unchanged (generation 1); nothing to do" \
	"$(reload_director 2>&1)"

# d. A reload that runs out of memory (the fault switch of test builds) answers, and leaves
#    the generation in force.
answer=$(control_request "test fail-next-reload")
if [ "$answer" = "ok the next reload fails with std::bad_alloc" ]; then
	{ good; echo "      - {address: 10.0.1.5}"; } >"$TMP/alloc.yaml"
	under_traffic alloc-fail reload_file alloc  # checks the stream, the pid, the generation
	check "alloc-fail: reload exit status" 1 "$(cat "$TMP/alloc.rc")"
	grep -q "out of memory while loading it" "$TMP/alloc.out" && said=yes || said="no: $(cat "$TMP/alloc.out")"
	check "alloc-fail: the answer says it ran out of memory" yes "$said"
else
	echo "note: no fault switches in this tandem-director (meson -Dfault_injection=true): alloc-fail not run"
fi

# After all that a real change applies.
{ good; echo "      - {address: 10.0.1.4}"; } >"$TMP/director.yaml"
reload_director >/dev/null 2>&1; rc=$?
check "a real change after the faults: exit status" 0 $rc
check "a real change after the faults: generation" 2 "$(metric tandem_director_config_generation)"
finish
