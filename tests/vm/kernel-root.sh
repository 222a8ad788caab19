#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The VM lab's second kernel: a Debian 13 (trixie) root made by debootstrap, holding
# trixie's linux-image-amd64 (the guest kernel and its /lib/modules), linux-headers-amd64
# and gcc (tandem_redirect is built for 6.12 inside the root, with trixie's compiler: the
# headers' host tools are linked against trixie's glibc).
#
#   kernel-root.sh ensure          make the root unless it is complete; print its path
#   kernel-root.sh build OUT.ko SRC...   build tandem_redirect in the root (KCFLAGS=-Werror)
#
# The root lives outside any build tree so every checkout on the machine shares it:
# $TANDEM_TRIXIE_ROOT, default /var/cache/tandem-lab/trixie. Made once (about 3 minutes
# from an empty cache); "apt-get upgrade" in it, or removing it, picks up a newer kernel.
set -euo pipefail

root=${TANDEM_TRIXIE_ROOT:-/var/cache/tandem-lab/trixie}
suite=${TANDEM_TRIXIE_SUITE:-trixie}
say() { printf 'kernel-root: %s\n' "$*" >&2; }

# The host's Debian mirror (the URIs: of its bookworm stanza), never a hard-coded host.
host_mirror() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk 'BEGIN { RS = ""; FS = "\n" }
			/(^|\n)Suites:[^\n]*[ \t]bookworm([ \t]|\n|$)/ {
				for (i = 1; i <= NF; i++) if ($i ~ /^URIs:/) { sub(/^URIs:[ \t]*/, "", $i); split($i, u, /[ \t]+/); print u[1]; exit } }' "$f"
	done | head -n 1 | grep . && return 0
	awk '$1 == "deb" && / bookworm( |$)/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' \
		/etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n 1 | grep .
}

ensure() {
	local mirror t0 log
	mkdir -p "$(dirname "$root")"
	exec 9>"$root.lock"
	flock 9
	if [ ! -f "$root/.complete" ]; then
		command -v debootstrap >/dev/null || { say "debootstrap is not installed"; exit 77; }
		mirror=$(host_mirror) || { say "no Debian mirror in /etc/apt/sources.list.d"; exit 77; }
		log=$root.log
		rm -rf --one-file-system "$root.tmp"
		t0=$(date +%s)
		say "debootstrap $suite from $mirror into $root (about 3 minutes; log $log)"
		# initramfs-tools is what linux-image-amd64 pulls in; the lab boots its own initramfs.
		if ! debootstrap --variant=minbase --merged-usr \
			--include=build-essential,kmod,linux-image-amd64,linux-headers-amd64 \
			"$suite" "$root.tmp" "$mirror" >"$log" 2>&1; then
			tail -n 20 "$log" >&2
			say "debootstrap failed (log: $log)"
			exit 1
		fi
		rm -rf "$root.tmp/var/cache/apt/archives/"*.deb
		touch "$root.tmp/.complete"
		rm -rf --one-file-system "$root"
		mv "$root.tmp" "$root"
		say "made $root in $(($(date +%s) - t0)) s"
	fi
	flock -u 9
	printf '%s\n' "$root"
}

# The newest kernel in the root that has an image, modules and headers.
kver() {
	local d k=""
	for d in "$root"/lib/modules/*/build; do
		[ -e "$d/Makefile" ] || continue
		d=${d%/build}
		d=${d##*/}
		[ -r "$root/boot/vmlinuz-$d" ] && k=$d
	done
	[ -n "$k" ] || { say "no kernel with headers in $root"; exit 1; }
	printf '%s\n' "$k"
}

build() {
	local out=$1 k f
	shift
	k=$(kver)
	work=$(mktemp -d "$root/tmp/tandem-kmod.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	mkdir -p "$work/include"
	for f in "$@"; do
		case $f in
		*/include/*) cp -p "$f" "$work/include/" ;;
		*) cp -p "$f" "$work/" ;;
		esac
	done
	chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 \
		make -s -C "/lib/modules/$k/build" M="${work#"$root"}" \
		TANDEM_REDIRECT_VERSION="${TANDEM_REDIRECT_VERSION:-0.0.0}" KCFLAGS=-Werror modules
	cp "$work/tandem_redirect.ko" "$out"
}

case ${1:-} in
ensure) ensure ;;
kver) kver ;;
build) shift; ensure >/dev/null; build "$@" ;;
*) echo "usage: kernel-root.sh ensure | kver | build OUT.ko SOURCE..." >&2; exit 2 ;;
esac
