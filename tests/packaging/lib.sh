# SPDX-License-Identifier: Apache-2.0
# Shared by the packaging suite's tests (sourced, bash).
#
#   lib.sh is sourced as: . lib.sh SOURCE_ROOT CACHE_DIR
#
# CACHE_DIR (in the meson build dir) keeps, between runs:
#   debs/            the .debs from packaging/build-debs, rebuilt when the tree changes
#                    (key: a hash of every file build-debs copies but tests/packaging/,
#                    which the packages do not contain)
#   base-YYYYMMDD/   a debootstrap'ed Debian 12 root, remade once a day
#   apt-archives/    downloaded .debs, bind-mounted into every test root
#   roots/           one throw-away copy of the base per test run (removed at exit)
set -euo pipefail

src=$(cd "$1" && pwd)
cache=$2
case $cache in /*) ;; *) cache=$PWD/$cache ;; esac

say() { printf '%s: %s\n' "$test_name" "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
skip() { printf 'SKIP: %s: %s\n' "$test_name" "$*"; exit 77; }
pass() { printf 'PASS: %s\n' "$*"; }
# check DESCRIPTION COMMAND...: run COMMAND, PASS or FAIL (and stop) with its output.
check() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then
		pass "$what"
	else
		printf '%s\n' "$out" | tail -n 30 >&2
		fail "$what"
	fi
}
elapsed() { echo $(( $(date +%s) - $1 )); }

need_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root (debootstrap, chroot, mount)"
}
need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null || skip "$c is not installed (tests/deps/packaging.list)"
	done
}

# ---- the .debs ------------------------------------------------------------------
tree_key() {
	(
		cd "$src"
		if git rev-parse --git-dir >/dev/null 2>&1; then
			git ls-files -z --cached --others --exclude-standard |
				xargs -0 sh -c 'for f; do case $f in tests/packaging/*) continue ;; esac
					[ -f "$f" ] && printf "%s\0" "$f"; done' sh |
				sort -z | xargs -0 sha256sum
		else
			find . -path './build*' -prune -o -path ./.git -prune -o -type f -print0 |
				sort -z | xargs -0 sha256sum
		fi
	) | sha256sum | cut -c1-16
}

# Removed when the test exits (after cleanup_root has unmounted everything).
tmp_paths=()
cleanup() {
	cleanup_root
	local p
	for p in "${tmp_paths[@]}"; do rm -rf --one-file-system "$p"; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ensure_debs: builds the .debs into $cache/debs unless they are there for this tree, and
# copies them (under the lock, so a concurrent rebuild cannot swap them mid-test) into a
# private directory. Sets debs_dir (the copy), version and upstream.
ensure_debs() {
	local key t0 f
	mkdir -p "$cache"
	key=$(tree_key)
	exec 8>"$cache/debs.lock"
	flock 8
	if [ -f "$cache/debs/.key" ] && [ "$(cat "$cache/debs/.key")" = "$key" ] &&
		ls "$cache/debs"/tandem-director_*.deb >/dev/null 2>&1; then
		say "reusing the .debs in $cache/debs (tree unchanged)"
	else
		if ! (cd "$src" && dpkg-checkbuilddeps) >"$cache/checkbuilddeps.log" 2>&1; then
			flock -u 8
			skip "build dependencies missing: $(sed -n 's/.*Unmet build dependencies: //p' "$cache/checkbuilddeps.log")"
		fi
		rm -f "$cache/debs/.key"
		t0=$(date +%s)
		say "building the .debs (packaging/build-debs, several minutes)"
		# --source: the .changes then holds the source package too, for lintian.
		"$src/packaging/build-debs" --source -o "$cache/debs" >/dev/null ||
			fail "packaging/build-debs failed (log: $cache/debs/dpkg-buildpackage.log)"
		echo "$key" >"$cache/debs/.key"
		say "built the .debs in $(elapsed "$t0") s"
	fi
	debs_dir=$(mktemp -d "$cache/debs-$test_name.XXXXXX")
	tmp_paths+=("$debs_dir")
	for f in "$cache/debs"/tandem*.deb "$cache/debs"/tandem_*.changes "$cache/debs"/tandem_*.buildinfo \
		"$cache/debs"/tandem_*.dsc "$cache/debs"/tandem_*.tar.*; do
		cp -p "$f" "$debs_dir/"
	done
	flock -u 8
	version=$(dpkg-deb -f "$(ls "$debs_dir"/tandem-director_*.deb | head -n 1)" Version)
	upstream=${version%-*}
}

# ---- the Debian 12 root -----------------------------------------------------------
# The mirror: the first URIs: of a deb822 stanza for bookworm in /etc/apt/sources.list.d/
# (or a "deb URI bookworm" line), never a hard-coded host.
host_mirror() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk 'BEGIN { RS = ""; FS = "\n" }
			/(^|\n)Suites:[^\n]*[ \t]bookworm([ \t]|\n|$)/ && /(^|\n)Types:[^\n]*deb([ \t]|\n|$)/ {
				for (i = 1; i <= NF; i++) if ($i ~ /^URIs:/) { sub(/^URIs:[ \t]*/, "", $i); split($i, u, /[ \t]+/); print u[1]; exit } }' "$f"
	done | head -n 1 | grep . && return 0
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		awk '$1 == "deb" && $0 ~ / bookworm( |$)/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' |
		head -n 1 | grep .
}

# The sources the test roots use: the host's deb822 stanzas for bookworm* suites
# (main, updates, security), so the root sees the same packages as the host.
write_root_sources() {
	local root=$1 f
	rm -f "$root/etc/apt/sources.list"
	: >"$root/etc/apt/sources.list.d/debian.sources"
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk 'BEGIN { RS = ""; ORS = "\n\n" } /(^|\n)Suites:[^\n]*bookworm/' "$f" \
			>>"$root/etc/apt/sources.list.d/debian.sources"
	done
	if [ ! -s "$root/etc/apt/sources.list.d/debian.sources" ]; then
		rm -f "$root/etc/apt/sources.list.d/debian.sources"
		echo "deb $mirror bookworm main" >"$root/etc/apt/sources.list"
	fi
}

# ensure_base: a debootstrap'ed bookworm in $cache/base-YYYYMMDD (with apt lists), made
# once a day; older ones are removed. Sets base.
ensure_base() {
	local day t0
	mkdir -p "$cache"
	day=$(date +%Y%m%d)
	base=$cache/base-$day
	exec 9>"$cache/base.lock"
	flock 9
	if [ ! -f "$base/.complete" ]; then
		mirror=$(host_mirror) || skip "no bookworm mirror configured in /etc/apt/sources.list.d/"
		rm -rf --one-file-system "$base.tmp"
		t0=$(date +%s)
		say "debootstrap bookworm from $mirror (1-4 minutes)"
		debootstrap --merged-usr bookworm "$base.tmp" "$mirror" >"$cache/debootstrap.log" 2>&1 || {
			tail -n 20 "$cache/debootstrap.log" >&2
			fail "debootstrap failed (log: $cache/debootstrap.log)"
		}
		write_root_sources "$base.tmp"
		# No daemon starts in a chroot: deb-systemd-invoke and invoke-rc.d ask policy-rc.d.
		printf '#!/bin/sh\nexit 101\n' >"$base.tmp/usr/sbin/policy-rc.d"
		chmod 755 "$base.tmp/usr/sbin/policy-rc.d"
		chroot "$base.tmp" apt-get update >>"$cache/debootstrap.log" 2>&1 ||
			fail "apt-get update in the new root failed (log: $cache/debootstrap.log)"
		touch "$base.tmp/.complete"
		rm -rf --one-file-system "$base"
		mv "$base.tmp" "$base"
		say "debootstrap done in $(elapsed "$t0") s"
		local old
		for old in "$cache"/base-*; do
			[ "$old" = "$base" ] || rm -rf --one-file-system "$old"
		done
	fi
	flock -u 9
}

# new_root: a private copy of the base with /proc, /dev, /dev/pts, /sys and the shared
# apt archive mounted; removed (after unmounting) when the test exits. Sets root.
mounts=()
root=
cleanup_root() {
	local i
	for (( i = ${#mounts[@]} - 1; i >= 0; i-- )); do
		umount "${mounts[$i]}" 2>/dev/null || umount -l "${mounts[$i]}" 2>/dev/null || true
	done
	mounts=()
	if [ -n "$root" ] && [ -d "$root" ]; then
		if findmnt -rn -o TARGET | grep -q "^$root/"; then
			echo "$test_name: $root still has mounts; not removing it" >&2
		else
			rm -rf --one-file-system "$root"
		fi
	fi
}
mount_in_root() {  # mount_in_root TARGET mount-args...
	local target=$root$1
	shift
	mkdir -p "$target"
	mount "$@" "$target"
	mounts+=("$target")
}
new_root() {
	mkdir -p "$cache/roots" "$cache/apt-archives/partial"
	root=$(mktemp -d "$cache/roots/$test_name.XXXXXX")
	cp -a "$base/." "$root/"
	mount_in_root /proc -t proc proc
	mount_in_root /sys -t sysfs sysfs
	mount_in_root /dev --bind /dev
	mount_in_root /dev/pts -t devpts devpts
	mount_in_root /var/cache/apt/archives --bind "$cache/apt-archives"
	cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
}

in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 \
	DEBIAN_FRONTEND=noninteractive HOME=/root "$@"; }

# apt_in_root ARGS...: apt-get -y in the root, output to $root.log, shown on failure.
apt_in_root() {
	local log=$cache/$test_name.apt.log
	if ! in_root apt-get -y -o Dpkg::Use-Pty=0 "$@" >>"$log" 2>&1; then
		tail -n 40 "$log" >&2
		fail "apt-get $* (log: $log)"
	fi
}

# root_with_debs: the packages built (or cached), a fresh root from the base, an empty
# apt log for this test, and the packages in the root as /tmp/debs/PACKAGE.deb.
root_with_debs() {
	ensure_debs
	ensure_base
	new_root
	: >"$cache/$test_name.apt.log"
	copy_debs_into_root
}

# copy_debs_into_root: the three packages (not the -dbgsym ones) as
# /tmp/debs/PACKAGE.deb in the root.
copy_debs_into_root() {
	mkdir -p "$root/tmp/debs"
	local p
	for p in tandem-director tandem-proxy tandem-redirect-dkms; do
		cp "$(ls "$debs_dir/${p}_"*.deb | head -n 1)" "$root/tmp/debs/$p.deb"
	done
}
