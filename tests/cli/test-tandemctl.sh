#!/usr/bin/env bash
# tandemctl on the shipped examples and the GLB reference data: exit codes, outputs, files.
# usage: test-tandemctl.sh TANDEMCTL SOURCE_ROOT
set -u
ctl=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1"; echo "  expected: $2"; echo "  got:      $3"; fails=$((fails + 1)); }
expect_rc() { # name expected_rc command...
	local name=$1 want=$2; shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	if [ "$rc" -eq "$want" ]; then pass "$name"; else fail "$name" "exit $want" "exit $rc: $(head -3 "$tmp/out" "$tmp/err")"; fi
}
expect_eq() { # name expected got
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "$2" "$3"; fi
}

ex=$src/packaging/director.yaml

expect_rc "check accepts the shipped example" 0 "$ctl" check "$ex"
sed 's/state: filling/state: filing/' "$ex" >"$tmp/bad.yaml"
expect_rc "check refuses a bad state" 1 "$ctl" check "$tmp/bad.yaml"
# Where the example has them (it gains comments and keys over time).
state_line=$(grep -n 'state: filling' "$ex" | head -1 | cut -d: -f1)
web_line=$(grep -n -- '- name: web' "$ex" | head -1 | cut -d: -f1)
expect_eq "check names file:line:column and the fix" \
	"$tmp/bad.yaml:$state_line:36: services[0].backends[3].state: \"filing\" is not allowed; allowed: active, filling, draining, inactive" \
	"$(cat "$tmp/err")"
expect_rc "check on a missing file" 1 "$ctl" check "$tmp/nope.yaml"

expect_rc "table on the example" 0 "$ctl" table "$ex" --service web
expect_eq "table lists every backend of web" 4 "$(grep -cE '^  10\.0\.1\.' "$tmp/out")"
expect_rc "table of an unknown service" 2 "$ctl" table "$ex" --service nope

# GLB's reference flow (tests/data/glb-compat.json, flows[0]) through lookup --json.
cat >"$tmp/t0.yaml" <<'YAML'
services:
  - name: t0
    binds: [{address: 1.1.1.1, protocol: tcp, ports: [80]}]
    hash_key: 12345678901234561234567890123456
    seed: 34567890123456783456789012345678
    backends: [{address: 1.2.3.4}, {address: 2.3.4.5}, {address: 3.4.5.6}]
YAML
expect_rc "lookup --json" 0 "$ctl" lookup "$tmp/t0.yaml" t0 --src 10.11.12.13 --sport 45678 --dport 80 --json
expect_eq "lookup gives GLB's hash, row, hops and source port" \
	'{"hash":"008972f1657a5cbd","hops":["3.4.5.6","2.3.4.5"],"row":23741,"udp_sport":61139}' "$(cat "$tmp/out")"
expect_rc "lookup with a bad address" 2 "$ctl" lookup "$tmp/t0.yaml" t0 --src 10.11.12

# GLB's reference frame through encap: the outer packet, byte for byte.
frame=5254001235020800278dc04d08004500002800010000400662b60a0b0c0d01010101b26e0050000000000000000050022000c50a0000
expect_rc "encap the GLB reference frame" 0 "$ctl" encap "$tmp/t0.yaml" t0 --source-ip 65.65.65.65 --frame $frame
expect_eq "encap output equals GLB's" \
	45000050000040004011b0114141414103040506eed34c43003c00000204000000000001020304054500002800010000400662b60a0b0c0d01010101b26e0050000000000000000050022000c50a0000 \
	"$(cat "$tmp/out")"
expect_rc "encap with UDP checksum" 0 "$ctl" encap "$tmp/t0.yaml" t0 --source-ip 65.65.65.65 --frame $frame --udp-checksum
expect_eq "encap UDP header with checksum equals GLB's" eed34c43003c49fa "$(cut -c41-56 "$tmp/out")"
expect_rc "encap of a frame for no VIP" 1 "$ctl" encap "$tmp/t0.yaml" t0 --source-ip 65.65.65.65 --frame "${frame/01010101b26e0050/01010102b26e0050}"
expect_eq "encap says why" "not forwarded: no_service" "$(cat "$tmp/out")"

# diff: draining is safe, removing an active backend is not.
sed 's/{address: 10.0.1.2, state: active}/{address: 10.0.1.2, state: draining}/' "$ex" >"$tmp/drain.yaml"
expect_rc "diff: draining is safe" 0 "$ctl" diff "$ex" "$tmp/drain.yaml"
expect_eq "diff verdict" "verdict: safe" "$(tail -1 "$tmp/out")"
grep -v '10.0.1.2' "$ex" >"$tmp/removed.yaml"
expect_rc "diff: removing an active backend is unsafe" 1 "$ctl" diff "$ex" "$tmp/removed.yaml"
expect_eq "diff gives the reason" \
	"verdict: unsafe: web: backend 10.0.1.2 leaves the table while active: set it to draining first, and remove it once its connections end" \
	"$(tail -1 "$tmp/out")"

# GLB import and export.
expect_rc "glb import" 0 "$ctl" glb import "$src/tests/data/glb-table.json" --director-config "$src/tests/data/glb-config.json"
cp "$tmp/out" "$tmp/imported.yaml"
expect_rc "the imported YAML checks" 0 "$ctl" check "$tmp/imported.yaml"
truncate -s 17M "$tmp/huge.json"
expect_rc "glb import refuses a 17 MiB file" 2 "$ctl" glb import "$tmp/huge.json"
expect_eq "and says it is larger than the limit" 1 "$(grep -c 'larger than the limit of 16777216 bytes' "$tmp/err")"
rm -f "$tmp/huge.json"
expect_rc "glb export" 0 "$ctl" glb export "$tmp/imported.yaml" "$tmp/table.bin"
expect_eq "export size: header + 2 tables" 1075272 "$(stat -c %s "$tmp/table.bin")"
expect_eq "export magic and version" "474c424402000000" "$(head -c 8 "$tmp/table.bin" | od -An -tx1 | tr -d ' \n')"
expect_eq "no temporary file is left" 1 "$(ls "$tmp" | grep -c table)"
sed "s/hops_per_row: 2/hops_per_row: 3/" "$ex" >"$tmp/k3.yaml"
expect_rc "export refuses k = 3" 1 "$ctl" glb export "$tmp/k3.yaml" "$tmp/k3.bin"
expect_eq "export says why" "$tmp/k3.yaml: service \"web\" (line $web_line): cannot be written in GLB's format: GLB's rows hold exactly two hops; set hops_per_row: 2" "$(cat "$tmp/err")"
# A bind with host bits, as GLB's build-config accepts it: a note from check, not an error.
sed 's|address: 192.0.2.10, protocol: tcp|address: 192.0.2.10/24, protocol: tcp|' "$ex" >"$tmp/hostbits.yaml"
hb_line=$(grep -n '192.0.2.10/24' "$tmp/hostbits.yaml" | head -1 | cut -d: -f1)
expect_rc "check accepts a bind with host bits" 0 "$ctl" check "$tmp/hostbits.yaml"
expect_eq "check notes that host bits are ignored for matching" \
	"$tmp/hostbits.yaml:$hb_line:9: note: service \"web\": bind 192.0.2.10/24 has host bits set; they are ignored for matching (it matches 192.0.2.0/24) and kept for glb export" \
	"$(grep note "$tmp/out")"
expect_rc "export to a missing directory fails cleanly" 2 "$ctl" glb export "$tmp/imported.yaml" "$tmp/no/such/dir/t.bin"

expect_rc "no subcommand is a usage error" 2 "$ctl"
expect_rc "--version" 0 "$ctl" --version

echo "tandemctl: $fails failed"
[ "$fails" -eq 0 ]
