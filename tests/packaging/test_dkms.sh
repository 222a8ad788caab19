#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Suite packaging: DKMS builds tandem_redirect from tandem-redirect-dkms for the Debian
# kernel whose headers (linux-headers-amd64) are installed in a fresh Debian root,
# the module carries the package's version, and purging the package removes it.
#
#   test_dkms.sh SOURCE_ROOT CACHE_DIR
#
# TANDEM_DKMS_RELEASE=bookworm (default: Debian 12, 6.1) or trixie (Debian 13, 6.12: a
# copy of the VM lab's trixie root, tests/vm/kernel-root.sh, which already has
# build-essential and linux-headers-amd64).
release=${TANDEM_DKMS_RELEASE:-bookworm}
test_name=dkms
[ "$release" = bookworm ] || test_name=dkms-$release
. "$(dirname "$0")/lib.sh" "$1" "$2"

need_root
need_cmd debootstrap dpkg-buildpackage chroot flock
[ "$(dpkg --print-architecture)" = amd64 ] || skip "linux-headers-amd64 is for amd64 hosts"
t_start=$(date +%s)

case $release in
bookworm) root_with_debs ;;
trixie)
	ensure_debs
	t0=$(date +%s)
	base=$("$src/tests/vm/kernel-root.sh" ensure) || skip "no trixie root (tests/vm/kernel-root.sh)"
	new_root
	printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
	chmod 755 "$root/usr/sbin/policy-rc.d"
	: >"$cache/$test_name.apt.log"
	apt_in_root update
	copy_debs_into_root
	say "trixie root copied from $base and updated in $(elapsed "$t0") s"
	;;
*) fail "TANDEM_DKMS_RELEASE=$release: known are bookworm and trixie" ;;
esac

t0=$(date +%s)
apt_in_root install --no-install-recommends linux-headers-amd64
kver=$(cd "$root/lib/modules" && for d in */build; do [ -e "$d/Makefile" ] && echo "${d%/build}"; done |
	sort -V | tail -n 1)
[ -n "$kver" ] || fail "linux-headers-amd64 installed no /lib/modules/*/build"
say "linux-headers-amd64 ($kver) installed in $(elapsed "$t0") s"

# The package's postinst builds and installs the module for the newest kernel with headers
# (the running kernel has none in the root; DKMS says so and goes on).
t0=$(date +%s)
apt_in_root install --no-install-recommends /tmp/debs/tandem-redirect-dkms.deb
say "tandem-redirect-dkms installed (DKMS build for $kver) in $(elapsed "$t0") s"

status=$(in_root dkms status -m tandem-redirect -v "$upstream" -k "$kver" 2>&1 || true)
check "dkms status: tandem-redirect/$upstream installed for $kver ($status)" \
	grep -q "^tandem-redirect/$upstream, $kver, [^:]*: installed" <<<"$status"
ko=$(cd "$root" && find "lib/modules/$kver" -name 'tandem_redirect.ko*' | head -n 1)
check "the module is installed under /lib/modules/$kver/updates/dkms (${ko:-none})" \
	grep -q "^lib/modules/$kver/updates/dkms/tandem_redirect.ko" <<<"$ko"
check "modinfo: version $upstream" test "$(in_root modinfo -F version "/$ko")" = "$upstream"
check "modinfo: vermagic $kver" grep -q "^$kver " <<<"$(in_root modinfo -F vermagic "/$ko")"
check "modinfo: license GPL" test "$(in_root modinfo -F license "/$ko")" = GPL
check "modinfo: the generic netlink alias" grep -q '^net-pf-16-proto-16-family-' \
	<<<"$(in_root modinfo -F alias "/$ko")"
check "modules.dep lists it" grep -q 'tandem_redirect' "$root/lib/modules/$kver/modules.dep"

t0=$(date +%s)
apt_in_root purge tandem-redirect-dkms
say "purge took $(elapsed "$t0") s"
check "purge: the module is gone from /lib/modules/$kver" \
	test -z "$(cd "$root" && find "lib/modules/$kver" -name 'tandem_redirect.ko*')"
check "purge: /var/lib/dkms/tandem-redirect is gone" test ! -e "$root/var/lib/dkms/tandem-redirect"
check "purge: /usr/src/tandem-redirect-$upstream is gone" test ! -e "$root/usr/src/tandem-redirect-$upstream"
check "purge: modules.dep no longer lists it" \
	sh -c "! grep -q tandem_redirect '$root/lib/modules/$kver/modules.dep'"

say "done in $(elapsed "$t_start") s"
