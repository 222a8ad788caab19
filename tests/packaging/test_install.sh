#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Suite packaging: install the three .debs with apt into a fresh Debian 12 root
# (debootstrap, cached for the day), check what they put where, run tandemctl and
# systemd-analyze verify inside the root, then remove and purge and check that nothing
# is left behind. The module build itself is test_dkms.sh.
#
#   test_install.sh SOURCE_ROOT CACHE_DIR
test_name=install
. "$(dirname "$0")/lib.sh" "$1" "$2"

need_root
need_cmd debootstrap dpkg-buildpackage chroot flock
t_start=$(date +%s)

root_with_debs
# systemd-analyze verify runs man(1) for Documentation=man: lines; the base has no man-db.
apt_in_root install --no-install-recommends man-db

t0=$(date +%s)
apt_in_root install --no-install-recommends /tmp/debs/tandem-director.deb \
	/tmp/debs/tandem-proxy.deb /tmp/debs/tandem-redirect-dkms.deb
say "apt-get install took $(elapsed "$t0") s"

# --- files in place -------------------------------------------------------------------
for f in /usr/sbin/tandem-director /usr/sbin/tandemctl /usr/sbin/tandem-proxyctl; do
	check "$f is installed and executable" test -x "$root$f"
done
for f in /lib/systemd/system/tandem-director.service /lib/systemd/system/tandem-proxy.service \
	/usr/share/man/man8/tandem-director.8.gz /usr/share/man/man8/tandemctl.8.gz \
	/usr/share/man/man8/tandem-proxyctl.8.gz /usr/share/doc/tandem-proxy/README.md \
	"/usr/src/tandem-redirect-$upstream/dkms.conf" "/usr/src/tandem-redirect-$upstream/Kbuild" \
	"/usr/src/tandem-redirect-$upstream/main.c" \
	"/usr/src/tandem-redirect-$upstream/include/tandem_redirect_nl.h"; do
	check "$f is installed" test -f "$root$f"
done
conffiles=$(in_root dpkg-query -W -f='${Conffiles}\n' tandem-director tandem-proxy)
for f in /etc/tandem/director.yaml /etc/tandem/proxy.yaml; do
	check "$f is a conffile" grep -q "^ $f " <<<"$conffiles"
done
check "dkms.conf says PACKAGE_VERSION=\"$upstream\"" \
	grep -qx "PACKAGE_VERSION=\"$upstream\"" "$root/usr/src/tandem-redirect-$upstream/dkms.conf"
check "dkms knows tandem-redirect/$upstream" \
	sh -c "chroot '$root' dkms status -m tandem-redirect -v '$upstream' | grep -q '^tandem-redirect/$upstream'"

# --- the programs work inside the root ------------------------------------------------
check "tandemctl check /etc/tandem/director.yaml" in_root tandemctl check /etc/tandem/director.yaml
check "tandem-director --check accepts the shipped director.yaml" \
	in_root tandem-director --check -c /etc/tandem/director.yaml
check "tandem-director --version says $upstream" \
	sh -c "chroot '$root' tandem-director --version 2>&1 | grep -qF '$upstream'"
check "tandem-proxyctl --version says $upstream" \
	sh -c "chroot '$root' tandem-proxyctl --version 2>&1 | grep -qF '$upstream'"
check "tandem-proxyctl --help runs" in_root tandem-proxyctl --help

# --- systemd --------------------------------------------------------------------------
check "systemd-analyze verify tandem-director.service tandem-proxy.service (in the root)" \
	in_root systemd-analyze verify /lib/systemd/system/tandem-director.service \
	/lib/systemd/system/tandem-proxy.service
for u in tandem-director.service tandem-proxy.service; do
	state=$(in_root systemctl is-enabled "$u" 2>/dev/null || true)
	check "$u is installed but not enabled ($state)" test "$state" = disabled
done

# --- remove: programs go, conffiles stay ----------------------------------------------
t0=$(date +%s)
apt_in_root remove tandem-director tandem-proxy tandem-redirect-dkms
for f in /usr/sbin/tandem-director /usr/sbin/tandemctl /usr/sbin/tandem-proxyctl \
	/lib/systemd/system/tandem-director.service /lib/systemd/system/tandem-proxy.service \
	"/usr/src/tandem-redirect-$upstream"; do
	check "remove: $f is gone" test ! -e "$root$f"
done
for f in /etc/tandem/director.yaml /etc/tandem/proxy.yaml; do
	check "remove: conffile $f stays" test -f "$root$f"
done
check "remove: dkms no longer knows tandem-redirect" \
	sh -c "! chroot '$root' dkms status -m tandem-redirect | grep -q ."

# --- purge: nothing left ---------------------------------------------------------------
apt_in_root purge tandem-director tandem-proxy tandem-redirect-dkms
say "remove and purge took $(elapsed "$t0") s"
check "purge: no package left in dpkg's database" \
	sh -c "! chroot '$root' dpkg-query -W -f='\${db:Status-Abbrev} \${Package}\n' 'tandem*' 2>/dev/null | grep ."
# /var/cache/man: man-db's formatted pages from systemd-analyze verify, a cache.
named() {
	(cd "$root" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./tmp \
		-o -path ./var/cache/man \) -prune -o -iname '*tandem*' -print)
}
left=$(named)
check "purge: no path named *tandem* anywhere in the root${left:+: $left}" test -z "$left"

# Everything else: with the dependencies now in place, install and purge once more; the
# root must then hold exactly the paths it held before (apt's and dpkg's logs and caches
# aside), whatever their names.
snapshot() {
	(cd "$root" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./run \
		-o -path ./tmp -o -path ./var/cache -o -path ./var/lib/apt -o -path ./var/log \) -prune \
		-o -print) | sort
}
before=$(snapshot)
apt_in_root install --no-install-recommends /tmp/debs/tandem-director.deb \
	/tmp/debs/tandem-proxy.deb /tmp/debs/tandem-redirect-dkms.deb
apt_in_root purge tandem-director tandem-proxy tandem-redirect-dkms
diff=$(diff <(echo "$before") <(snapshot) | grep '^[<>]' | head -n 40 || true)
check "install + purge again: the root holds exactly the paths it held before${diff:+:
$diff}" test -z "$diff"

say "done in $(elapsed "$t_start") s"
