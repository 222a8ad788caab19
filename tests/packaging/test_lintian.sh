#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Suite packaging: lintian --fail-on error,warning on the built packages (the .changes:
# the three packages and their -dbgsym). Overrides live in debian/*.lintian-overrides,
# each with its reason.
#
#   test_lintian.sh SOURCE_ROOT CACHE_DIR
test_name=lintian
. "$(dirname "$0")/lib.sh" "$1" "$2"

need_cmd lintian dpkg-buildpackage dpkg-checkbuilddeps flock
t_start=$(date +%s)
ensure_debs
changes=$(ls "$debs_dir"/tandem_*.changes | head -n 1)
out=$(lintian --fail-on error,warning --info "$changes" 2>&1) && rc=0 || rc=$?
# lintian says "running with root privileges is not recommended!" as root; not a finding.
out=$(grep -v 'running with root privileges' <<<"$out" || true)
[ -z "$out" ] || printf '%s\n' "$out"
check "lintian --fail-on error,warning $(basename "$changes")" test "$rc" -eq 0
say "done in $(elapsed "$t_start") s"
