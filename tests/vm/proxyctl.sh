#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# VM scenario: tandem-proxyctl up / status / stats / down.
#  - up loads the module (from the build tree) and fou/ipip/sit via libkmod
#  - up is idempotent: a second up changes nothing and prints nothing
#  - down restores the namespace exactly (links, addresses, fou ports,
#    sysctls, module configuration) -- modules stay loaded by design
#  - clear errors: bad YAML, unknown key, module config from another ns
#  - bad generic netlink requests (genl_input.py) and SET from an unprivileged
#    user namespace
# Runs inside the guest (see lib.sh); the host side is vm_main.
. "$VM_LIB"
set -u
CTL="$VM_BUILD/redirect/tandem-proxyctl"
KO="$VM_KO"
trap topo_cleanup EXIT

cat >/tmp/proxy.yaml <<'YAML'
gue_port: 19523
vips:
  - 10.9.9.9
  - fd09::9
options:
  enabled: true
YAML

snapshot() {
	{
		# the qdisc changes as a side effect of the first "up" of a device
		ip -d link show | sed -E 's/^[0-9]+: //; s/ qdisc [a-z_]+//; s/ (qlen|numtxqueues|gso_max|tso_max|parentbus).*//'
		ip addr show | grep -E 'inet6? ' | grep -v 'fe80::'
		ip fou show 2>&1
		for k in ipv4/conf/all/rp_filter ipv4/conf/all/arp_ignore ipv4/conf/all/arp_announce; do
			echo "$k=$(cat /proc/sys/net/$k)"
		done
		"$CTL" -q status 2>&1 | grep -E 'redirect:|gue ports:'
	} | sort
}

# 1. First up in the initial namespace loads every module.
echo "== up in the initial namespace"
"$CTL" -c /tmp/proxy.yaml --module "$KO" up
lab_check "first up exit status" 0 $?
lab_check "module loaded" yes "$([ -d /sys/module/tandem_redirect ] && echo yes)"
for m in fou ipip sit; do
	lab_check "$m loaded" yes "$([ -d /sys/module/$m ] && echo yes)"
done
"$CTL" status
lab_check "status exit status when up" 0 $?
lab_check "fou port 19523 is GUE" 1 "$(ip fou show | grep -c 'port 19523 gue')"
lab_check "VIP v4 on lo" 1 "$(ip -4 addr show dev lo | grep -c '10.9.9.9/32')"
lab_check "VIP v6 on lo" 1 "$(ip -6 addr show dev lo | grep -c 'fd09::9/128')"
lab_check "tandem4 is ipip external" 1 "$(ip -d link show tandem4 | grep -c 'ipip external')"
lab_check "sit0 up" 1 "$(ip link show sit0 | grep -c ',UP')"
lab_check "rp_filter off on tandem4" 0 "$(cat /proc/sys/net/ipv4/conf/tandem4/rp_filter)"
"$CTL" down
lab_check "down exit status" 0 $?

# 2. A fresh namespace: before == after, up twice == up once.
echo "== fresh namespace"
ip netns add tndctl
# shellcheck disable=SC2317
in_ns() { ip netns exec tndctl "$@"; }
in_ns sysctl -qw net.ipv4.conf.all.rp_filter=1
in_ns ip link set lo up  # as on every real host
before=$(in_ns bash -c "$(declare -f snapshot); CTL=$CTL snapshot")
in_ns "$CTL" -c /tmp/proxy.yaml --state /run/tndctl.state up
lab_check "up in namespace" 0 $?
state1=$(cat /run/tndctl.state)
out2=$(in_ns "$CTL" -c /tmp/proxy.yaml --state /run/tndctl.state up)
lab_check "second up exit status" 0 $?
lab_check "second up changes nothing" "" "$out2"
lab_check "second up keeps the state file" "$state1" "$(cat /run/tndctl.state)"
lab_check "status: enabled" 1 "$(in_ns "$CTL" --state /run/tndctl.state status | grep -c 'redirect: *enabled')"
json=$(in_ns "$CTL" stats --json)
lab_check "stats --json has gue_rx" 1 "$(echo "$json" | /usr/bin/python3 -c 'import json,sys; print(int("gue_rx" in json.load(sys.stdin)))')"
in_ns "$CTL" disable >/dev/null
lab_check "disable" 1 "$(in_ns "$CTL" status | grep -c 'redirect: *disabled')"
in_ns "$CTL" set port 6080 >/dev/null
lab_check "set port" 1 "$(in_ns "$CTL" status | grep -c 'gue ports: *6080$')"
in_ns "$CTL" enable >/dev/null
lab_check "other namespace unchanged" 1 "$("$CTL" status | grep -c 'gue ports: *19523$')"
in_ns "$CTL" --state /run/tndctl.state down
lab_check "down in namespace" 0 $?
after=$(in_ns bash -c "$(declare -f snapshot); CTL=$CTL snapshot")
if [ "$before" = "$after" ]; then
	lab_pass "down restores the namespace exactly"
else
	lab_fail "down left differences:"
	diff <(echo "$before") <(echo "$after")
fi
lab_check "state file removed" no "$([ -e /run/tndctl.state ] && echo yes || echo no)"
lab_check "down again is a no-op" 0 "$(in_ns "$CTL" --state /run/tndctl.state -q down; echo $?)"

# 3. Errors name the file, the field and the fix.
echo "== errors"
printf 'gue_port: 19523\nvips: [10.9.9.9]\nbogus: 1\n' >/tmp/bad.yaml
err=$("$CTL" -c /tmp/bad.yaml up 2>&1)
lab_check "unknown key is an error" 1 "$(echo "$err" | grep -c '/tmp/bad.yaml:3:1: bogus: unknown key')"
printf 'gue_port: 0\nvips: []\n' >/tmp/bad.yaml
err=$("$CTL" -c /tmp/bad.yaml up 2>&1)
lab_check "bad port names line and column" 1 "$(echo "$err" | grep -c '/tmp/bad.yaml:1:11: gue_port:')"
err=$(setpriv --inh-caps=-all --bounding-set=-all "$CTL" disable 2>&1)
lab_check "no CAP_NET_ADMIN is explained" 1 "$(echo "$err" | grep -c 'needs CAP_NET_ADMIN')"

# 4. Generic netlink: bad input is refused with a reason, unprivileged users cannot
#    change the initial namespace (their own namespace is theirs).
echo "== generic netlink: bad input, unprivileged user namespaces"
/usr/bin/python3 "$(dirname "$VM_LIB")/genl_input.py"
lab_check "every bad SET request refused (genl_input.py)" 0 $?
unpriv() { setpriv --reuid=65534 --regid=65534 --clear-groups unshare -U -r "$@"; }
err=$(unpriv "$CTL" set port 6080 2>&1)
lab_check "SET from an unprivileged user namespace is refused" 1 "$(echo "$err" | grep -c 'needs CAP_NET_ADMIN')"
lab_check "... and the initial namespace keeps its port" 1 "$("$CTL" status | grep -c 'gue ports: *19523$')"
out=$(unpriv -n bash -c "\"$CTL\" set port 6080 && \"$CTL\" status" 2>&1)
lab_check "the same user may SET in a network namespace of its own" 1 "$(echo "$out" | grep -c 'gue ports: *6080$')"
lab_check "... which leaves the initial namespace alone" 1 "$("$CTL" status | grep -c 'gue ports: *19523$')"

rmmod tandem_redirect
err=$("$CTL" stats 2>&1)
lab_check "missing module is explained" 1 "$(echo "$err" | grep -c 'module is not loaded')"
lab_check "dmesg clean" 0 "$(lab_dmesg_clean; echo $?)"
lab_summary
