# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# Tandem VM lab: shared helpers for the tests in suite "vm".
#
# Host side (vm_*): boot a Debian kernel under qemu (TCG) with a tiny
# busybox initramfs that mounts the host's root read-only over 9p, puts a
# tmpfs overlay on top and runs one scenario script inside. Results come
# back through a second, writable 9p share (the "out" directory).
#
#   host /  --9p ro-->  guest /host  --overlay(tmpfs)-->  guest /newroot
#   host $out --9p rw-->  guest /newroot/tandem-out  (scenario, log, rc)
#
# Guest side (lab_*, topo_*): helpers the scenario scripts source to build
# network namespaces, check counters and report PASS/FAIL lines.
#
# Which kernel: TANDEM_VM_KERNEL=host (default: the newest Debian kernel installed
# on this machine, Debian 12's 6.1 here) or trixie (Debian 13's 6.12, from the root
# kernel-root.sh keeps in $TANDEM_TRIXIE_ROOT, default /var/cache/tandem-lab/trixie).
# For trixie the guest's /lib/modules/KVER is that root's, and tandem_redirect is
# built for it inside the root (build/redirect/tandem_redirect-KVER.ko).

VM_SKIP=77

vm_log() { printf '%s\n' "$*"; }

vm_skip() {
	printf 'SKIP: %s\n' "$*"
	exit "$VM_SKIP"
}

# Newest Debian kernel that has both a build tree (headers) and an image.
vm_detect_kver() {
	local d kver=""
	for d in /lib/modules/*/build; do
		[ -e "$d" ] || continue
		d=${d%/build}
		d=${d##*/}
		[ -r "/boot/vmlinuz-$d" ] && kver=$d
	done
	printf '%s' "$kver"
}

# vm_kernel_root: for TANDEM_VM_KERNEL=trixie, makes (once) the trixie root and
# builds the module for its kernel when a source is newer than the last build.
# Sets VM_ROOT (the root holding the kernel: "" for the host), VM_KVER, VM_KO.
vm_kernel_root() {
	local build=$1 kr src f t0
	kr="$(dirname "$(realpath "${BASH_SOURCE[0]}")")/kernel-root.sh"
	src="$(dirname "$(realpath "${BASH_SOURCE[0]}")")/../../redirect"
	VM_ROOT=$("$kr" ensure) || { [ $? = 77 ] && vm_skip "no trixie root (see above)"; echo "FAIL: kernel-root.sh ensure"; exit 1; }
	VM_KVER=$("$kr" kver) || exit 1
	VM_KO="$build/redirect/tandem_redirect-$VM_KVER.ko"
	for f in "$src"/kmod/*.[ch] "$src"/kmod/Kbuild "$src"/include/*.h; do
		if [ ! -e "$VM_KO" ] || [ "$f" -nt "$VM_KO" ]; then
			t0=$(date +%s)
			TANDEM_REDIRECT_VERSION=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$src/../meson.build" | head -n 1) \
				"$kr" build "$VM_KO.tmp" "$src"/kmod/*.[ch] "$src"/kmod/Kbuild "$src"/include/*.h ||
				{ echo "FAIL: tandem_redirect does not build for $VM_KVER"; exit 1; }
			mv "$VM_KO.tmp" "$VM_KO"
			echo "built tandem_redirect for $VM_KVER in the trixie root in $(($(date +%s) - t0)) s"
			break
		fi
	done
}

# vm_require BUILD_DIR: checks everything the lab needs or skips.
vm_require() {
	local build=$1
	[ "$(id -u)" = 0 ] || vm_skip "VM lab needs root (reads all of / over 9p)"
	command -v qemu-system-x86_64 >/dev/null ||
		vm_skip "qemu-system-x86_64 not installed (apt install qemu-system-x86)"
	VM_ROOT=
	VM_KO=${TANDEM_VM_KO:-$build/redirect/tandem_redirect.ko}  # TANDEM_VM_KO: another build, e.g. an old one
	case ${TANDEM_VM_KERNEL:-host} in
	host) ;;
	trixie) vm_kernel_root "$build" ;;
	*) vm_skip "TANDEM_VM_KERNEL=$TANDEM_VM_KERNEL: known are host and trixie" ;;
	esac
	VM_KVER=${VM_KVER:-$(vm_detect_kver)}
	[ -n "$VM_KVER" ] ||
		vm_skip "no /boot/vmlinuz-* with /lib/modules/*/build (apt install linux-image-amd64 linux-headers-amd64)"
	[ -r "$VM_ROOT/boot/vmlinuz-$VM_KVER" ] && [ -r "$VM_ROOT/lib/modules/$VM_KVER/modules.dep" ] ||
		vm_skip "kernel $VM_KVER: no $VM_ROOT/boot/vmlinuz-$VM_KVER or $VM_ROOT/lib/modules/$VM_KVER (apt install linux-image-$VM_KVER)"
	VM_BUSYBOX=$(command -v busybox || true)
	if [ -z "$VM_BUSYBOX" ] || ! file -L "$VM_BUSYBOX" 2>/dev/null | grep -q 'statically linked'; then
		[ -x /bin/busybox ] && VM_BUSYBOX=/bin/busybox
	fi
	[ -x "$VM_BUSYBOX" ] || vm_skip "busybox not installed (apt install busybox-static)"
	if ldd "$VM_BUSYBOX" >/dev/null 2>&1; then
		vm_skip "$VM_BUSYBOX is dynamically linked (apt install busybox-static)"
	fi
	/usr/bin/python3 -c 'import scapy' 2>/dev/null ||
		vm_skip "/usr/bin/python3 has no scapy (apt install python3-scapy)"
	[ -r "$VM_KO" ] || vm_skip "module not built: $VM_KO (needs linux-headers-$VM_KVER)"
	export VM_KVER VM_KO VM_BUSYBOX VM_ROOT
}

# Prints the modules (paths relative to /lib/modules/KVER) needed for
# the names given, dependencies first.
vm_module_closure() {
	local kver=$1
	shift
	awk -v want="$*" '
	function base(p,  n) { n = p; sub(/.*\//, "", n); sub(/\.ko.*$/, "", n); gsub(/-/, "_", n); return n }
	function visit(m,  i, n, d) {
		if (m in seen) return
		seen[m] = 1
		if (!(m in path)) { missing = missing " " m; return }
		n = split(deps[m], d, " ")
		for (i = 1; i <= n; i++) visit(base(d[i]))
		print path[m]
	}
	FILENAME ~ /modules\.builtin$/ { seen[base($1)] = 1; next }  # built in (6.12: virtio_pci)
	{
		sub(/:$/, "", $1)
		m = base($1)
		path[m] = $1
		$1 = ""
		deps[m] = $0
	}
	END {
		n = split(want, w, " ")
		for (i = 1; i <= n; i++) visit(w[i])
		if (missing != "") { print "missing modules:" missing > "/dev/stderr"; exit 1 }
	}' "$VM_ROOT/lib/modules/$kver/modules.builtin" "$VM_ROOT/lib/modules/$kver/modules.dep"
}

# vm_build_initramfs OUT.cpio.gz: busybox, the 9p/virtio/overlay modules
# (whatever modules.dep says they need) and /init.
vm_build_initramfs() {
	local out=$1 root mods m
	root=$(mktemp -d)
	mkdir -p "$root/bin" "$root/lib/mod" "$root/proc" "$root/sys" "$root/dev" \
		"$root/host" "$root/rw" "$root/out" "$root/newroot"
	cp "$VM_BUSYBOX" "$root/bin/busybox"
	mods=$(vm_module_closure "$VM_KVER" virtio_pci 9pnet_virtio 9p overlay) || return 1
	: >"$root/lib/mod/order"
	for m in $mods; do
		cp "$VM_ROOT/lib/modules/$VM_KVER/$m" "$root/lib/mod/"
		case $m in
		*.ko.xz) xz -d "$root/lib/mod/${m##*/}"; m=${m%.xz} ;;
		*.ko.zst) zstd -q -d --rm "$root/lib/mod/${m##*/}"; m=${m%.zst} ;;
		esac
		echo "${m##*/}" >>"$root/lib/mod/order"
	done
	{
		echo "#!/bin/busybox sh"
		echo "VM_ROOT='$VM_ROOT' VM_KVER='$VM_KVER'"
	} >"$root/init"
	cat >>"$root/init" <<'EOF'

/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
while read -r m; do insmod "/lib/mod/$m" || echo "TANDEM-VM: insmod $m failed"; done </lib/mod/order
o="trans=virtio,version=9p2000.L,msize=262144"
mount -t 9p -o "$o,ro,cache=loose" host /host || echo "TANDEM-VM: mount host failed"
mount -t 9p -o "$o" out /out || echo "TANDEM-VM: mount out failed"
mount -t tmpfs -o size=512m tmpfs /rw
mkdir -p /rw/upper /rw/work
if ! mount -t overlay overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work /newroot; then
	echo "TANDEM-VM: overlay failed, using the read-only root with tmpfs dirs"
	mount --bind /host /newroot
	for d in tmp run var/tmp root etc/tandem; do
		[ -d "/newroot/$d" ] && mount -t tmpfs tmpfs "/newroot/$d"
	done
fi
# Another release's kernel: its modules, from the root that holds it.
if [ -n "$VM_ROOT" ]; then
	mkdir -p "/newroot/lib/modules/$VM_KVER"
	mount --bind "/newroot$VM_ROOT/lib/modules/$VM_KVER" "/newroot/lib/modules/$VM_KVER" ||
		echo "TANDEM-VM: cannot bind $VM_ROOT/lib/modules/$VM_KVER"
fi
mkdir -p /newroot/tandem-out
mount --move /out /newroot/tandem-out
mount -t proc proc /newroot/proc
mount -t sysfs sys /newroot/sys
mount -t devtmpfs dev /newroot/dev
ln -sf /proc/self/fd /newroot/dev/fd
for i in 0 1 2; do ln -sf /proc/self/fd/$i /newroot/dev/$(echo stdin stdout stderr | cut -d' ' -f$((i + 1))); done
mkdir -p /newroot/dev/pts /newroot/dev/shm
mount -t devpts devpts /newroot/dev/pts
# /tmp stays the overlay's view of the host's /tmp (writes go to the tmpfs upper layer):
# a checkout or build tree under /tmp (CI clones there) must be visible in the guest.
mount -t tmpfs tmpfs /newroot/run
echo "TANDEM-VM: booted in $(cut -d' ' -f1 /proc/uptime)s"
# The host's root becomes the real root: usermode helpers (request_module
# -> /sbin/modprobe) then find the host's kmod and /lib/modules.
exec switch_root /newroot /bin/bash /tandem-out/pid1.sh
echo "TANDEM-VM: switch_root failed"
poweroff -f
EOF
	chmod 755 "$root/init"
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out" || return 1
	rm -rf "$root"
}

# vm_run OUTDIR SCENARIO TIMEOUT_S [ENV=VALUE...]: boots the VM, runs
# SCENARIO (a bash script) inside with the given environment and returns
# its exit status. Guest output is in OUTDIR/guest.log, the console in
# OUTDIR/console.log, the guest's dmesg in OUTDIR/dmesg.log. TANDEM_VM_SMP:
# the guest's vCPUs (default 2); TANDEM_VM_ACCEL: qemu's -accel (default tcg,
# which is multi-threaded TCG: one host thread per vCPU; tcg,thread=single
# runs all vCPUs in one thread, in turns).
vm_run() {
	local out=$1 scenario=$2 limit=$3 initrd start end rc kv
	shift 3
	rm -rf "$out"
	mkdir -p "$out"
	chmod 777 "$out"
	initrd="$out/initramfs.cpio.gz"
	vm_build_initramfs "$initrd" || { echo "FAIL: cannot build initramfs"; return 1; }
	{
		echo "#!/bin/bash"
		echo "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
		echo "export HOME=/root VM_KVER='$VM_KVER' VM_KO='$VM_KO'"
		echo "export VM_LIB='$VM_LIB' VM_OUT=/tandem-out"
		for kv in "$@"; do printf 'export %q\n' "$kv"; done
		echo "cd /tandem-out"
		echo "exec /bin/bash '$scenario'"
	} >"$out/run.sh"
	cat >"$out/pid1.sh" <<'EOF'
#!/bin/bash
# PID 1 in the guest: run the scenario, report, power off.
/bin/bash /tandem-out/run.sh >/tandem-out/guest.log 2>&1
echo $? >/tandem-out/rc
dmesg >/tandem-out/dmesg.log
sync
echo "TANDEM-VM: scenario done rc=$(cat /tandem-out/rc) at $(cut -d' ' -f1 /proc/uptime)s" >/dev/console
umount /tandem-out 2>/dev/null  # busy: this script runs from it; data is synced
echo o >/proc/sysrq-trigger
sleep 30
EOF
	start=$(date +%s.%N)
	timeout --foreground -k 5 "$limit" qemu-system-x86_64 \
		-accel "${TANDEM_VM_ACCEL:-tcg}" -m 1024 -smp "${TANDEM_VM_SMP:-2}" -nodefaults -no-user-config -no-reboot \
		-display none -serial "file:$out/console.log" -nic none \
		-kernel "$VM_ROOT/boot/vmlinuz-$VM_KVER" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 quiet loglevel=4 rdinit=/init" \
		-virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap \
		-virtfs "local,path=$out,mount_tag=out,security_model=none"
	rc=$?
	end=$(date +%s.%N)
	VM_ELAPSED=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
	echo "kernel $VM_KVER${VM_ROOT:+ (from $VM_ROOT)}"
	grep -h 'TANDEM-VM: booted' "$out/console.log" 2>/dev/null
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		echo "FAIL: VM did not finish within ${limit}s (console: $out/console.log)"
		tail -n 20 "$out/console.log" 2>/dev/null
		cat "$out/guest.log" 2>/dev/null
		return 1
	fi
	if [ ! -r "$out/rc" ]; then
		echo "FAIL: scenario left no exit status (qemu rc $rc)"
		tail -n 30 "$out/console.log" 2>/dev/null
		cat "$out/guest.log" 2>/dev/null
		return 1
	fi
	cat "$out/guest.log"
	echo "VM wall time ${VM_ELAPSED}s"
	return "$(cat "$out/rc")"
}

# vm_main BUILD_DIR SCENARIO TIMEOUT_S [ENV=VALUE...]: what each meson
# test runs. Skips (77) when the lab cannot run here. Its logs go to
# BUILD_DIR/tests/vm/out-NAME, NAME the scenario's (or TANDEM_VM_NAME).
vm_main() {
	local build=$1 scenario=$2 limit=$3 name
	shift 3
	build=$(realpath "$build")
	vm_require "$build"
	VM_LIB=$(realpath "${BASH_SOURCE[0]}")
	name=${TANDEM_VM_NAME:-$(basename "$scenario" .sh)}  # a second test of one scenario: its own
	[ "${TANDEM_VM_KERNEL:-host}" = host ] || name="$name-$TANDEM_VM_KERNEL"
	[ -z "${TANDEM_VM_SMP:-}" ] || name="$name-smp$TANDEM_VM_SMP"
	case ${TANDEM_VM_ACCEL:-tcg} in *thread=single*) name="$name-single" ;; esac
	vm_run "$build/tests/vm/out-$name" "$(realpath "$scenario")" "$limit" \
		"VM_BUILD=$build" "$@"
}

# ---------------------------------------------------------------------
# Guest side. Scenarios run as root inside the VM with the host's
# userland; /usr/bin/python3 is Debian's (with scapy).

LAB_FAILS=0
LAB_PASSES=0
LAB_PY=/usr/bin/python3

lab_pass() { LAB_PASSES=$((LAB_PASSES + 1)); echo "PASS: $*"; }
lab_fail() { LAB_FAILS=$((LAB_FAILS + 1)); echo "FAIL: $*"; }

# lab_check NAME EXPECTED GOT
lab_check() {
	if [ "$2" = "$3" ]; then
		lab_pass "$1 (= $3)"
	else
		lab_fail "$1: expected $2, got $3"
	fi
}

lab_summary() {
	echo "$LAB_PASSES passed, $LAB_FAILS failed"
	[ "$LAB_FAILS" = 0 ]
}

# Modules from Debian's tree; the module under test from the build tree.
lab_modprobe() {
	local m
	for m in "$@"; do
		modprobe "$m" || { echo "FAIL: modprobe $m"; return 1; }
	done
}

lab_insmod_tandem() {
	insmod "$VM_KO" || { echo "FAIL: insmod $VM_KO"; return 1; }
}

# Bounded wait: lab_wait SECONDS COMMAND... (polls every 0.1 s).
lab_wait() {
	local limit=$1 i=0
	shift
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -ge $((limit * 10)) ] && return 1
		sleep 0.1
	done
}

# Bounded in time, not in polls: lab_wait_s SECONDS COMMAND... (polls every 0.5 s; for
# commands that fork ip/ss/curl, which take a good part of a second under TCG).
lab_wait_s() {
	local end=$(($(date +%s) + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -ge "$end" ] && return 1
		sleep 0.5
	done
}

lab_dmesg_clean() {
	! dmesg | grep -E 'WARNING:|BUG:|Oops|general protection|KASAN|UBSAN|refcount_t' >/dev/null
}

# ---------------------------------------------------------------------
# Topology helper: a flat L2 "fabric" (one bridge in its own namespace)
# with hosts attached by veth. Each host gets an IPv4 /24 address and an
# IPv6 /64 address on the fabric. Directors, proxies and clients are all
# hosts; later scenarios (second chance with tandem-director) add a
# director host and routes on top of this.
#
#   [ns fab: br0] --veth-- [ns NAME: eth0 10.0.0.N/24, fd00::N/64]
TOPO_NS_PREFIX=tnd

topo_init() {
	ip netns add "${TOPO_NS_PREFIX}fab"
	ip -n "${TOPO_NS_PREFIX}fab" link add br0 type bridge
	ip -n "${TOPO_NS_PREFIX}fab" link set br0 up
	ip -n "${TOPO_NS_PREFIX}fab" link set lo up
}

# topo_host NAME N: namespace NAME with eth0 = 10.0.0.N, fd00::N.
topo_host() {
	local name=$1 n=$2 ns="${TOPO_NS_PREFIX}$1"
	ip netns add "$ns"
	ip link add "v$name" netns "${TOPO_NS_PREFIX}fab" type veth peer name eth0 netns "$ns"
	ip -n "${TOPO_NS_PREFIX}fab" link set "v$name" master br0 up
	ip -n "$ns" link set lo up
	ip -n "$ns" addr add "10.0.0.$n/24" dev eth0
	ip -n "$ns" addr add "fd00::$n/64" dev eth0 nodad
	ip -n "$ns" link set eth0 up
	# checksums on the wire: veth would otherwise leave them partial
	ip netns exec "$ns" ethtool -K eth0 tx off >/dev/null 2>&1 || true
}

# topo_exec NAME COMMAND...: run in host NAME's namespace.
topo_exec() {
	local name=$1
	shift
	ip netns exec "${TOPO_NS_PREFIX}$name" "$@"
}

# topo_nsenter NAME COMMAND...: like topo_exec, but enters only the network
# namespace: the command keeps the guest's mounts, e.g. a bpffs on /sys/fs/bpf
# (ip netns exec gives it a mount namespace of its own and remounts /sys, so
# /sys/class/net there is the namespace's; here it is the guest's).
topo_nsenter() {
	local name=$1
	shift
	nsenter "--net=/run/netns/${TOPO_NS_PREFIX}$name" "$@"
}

# topo_proxy NAME N [VIP...]: a host that is a Tandem proxy: tandem-proxyctl
# up with the given VIPs (default 10.9.9.9 fd09::9) on GUE port 19523; its
# state file is /run/NAME.state. Needs VM_BUILD (set by vm_main).
topo_proxy() {
	local name=$1 n=$2 vips
	shift 2
	[ $# -gt 0 ] || set -- 10.9.9.9 fd09::9
	vips=$(printf '"%s", ' "$@")
	topo_host "$name" "$n"
	# TOPO_PROXY_YAML: more lines for proxy.yaml (an options: section)
	printf 'gue_port: 19523\nvips: [%s]\n%s' "${vips%, }" "${TOPO_PROXY_YAML:-}" >"/tmp/$name.yaml"
	topo_exec "$name" "$VM_BUILD/redirect/tandem-proxyctl" -q \
		-c "/tmp/$name.yaml" --state "/run/$name.state" up
}

# A later scenario with tandem-director adds, on the same fabric:
#   topo_host dir 2       (the director: AF_XDP on eth0, source 10.0.0.2)
#   topo_host client 100  (route VIPs via 10.0.0.2; ECMP across directors)
#   topo_proxy p1 11; topo_proxy p2 12; ...
# and compares broken connections with Tandem against plain ECMP.

topo_cleanup() {
	local ns
	for ns in $(ip netns list | awk '{ print $1 }'); do
		case $ns in "${TOPO_NS_PREFIX}"*) ip netns del "$ns" ;; esac
	done
}
