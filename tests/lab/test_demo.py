#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Runs the README's demo (tests/lab/demo) as a user would, against a built tree, and
checks what it prints: it exits 0, every connection reached a proxy, each proxy's share
is what the director's counters say it sent there, and the spread is even.

    test_demo.py BUILD_DIR [CONNECTIONS]     (root; exits 77 with a reason otherwise)
"""
import os
import re
import subprocess
import sys

from lab_checks import Checks

HERE = os.path.dirname(os.path.realpath(__file__))
PROXIES = ("10.0.0.11", "10.0.0.12", "10.0.0.13")


def main():
    if os.geteuid() != 0:
        print("SKIP: the demo needs root (namespaces, XDP)")
        return 77
    build, n = os.path.realpath(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    env = dict(os.environ, TANDEM_BUILD=build, TANDEM_DEMO_VM="0")
    p = subprocess.run([os.path.join(HERE, "demo"), str(n)], env=env, capture_output=True,
                       text=True, timeout=240)
    out = p.stdout + p.stderr
    print(out)
    check = Checks()

    check("the demo exits 0 (got %d)" % p.returncode, p.returncode == 0)
    received = {m.group(1): int(m.group(2)) for m in re.finditer(
        r"^\s+proxy\d (\S+): +(\d+) packets as first hop", out, re.M)}
    counted = {m.group(1): int(m.group(2)) for m in re.finditer(
        r'^\s+tandem_director_backend_first_hop_packets_total\{[^}]*backend="([^"]+)"[^}]*\} (\d+)$', out, re.M)}
    encap = sum(int(m.group(1)) for m in re.finditer(
        r"^\s+tandem_director_encapsulated_packets_total\{[^}]*\} (\d+)$", out, re.M))
    check("the demo names all three proxies' shares (%s)" % sorted(received), sorted(received) == list(PROXIES))
    check("the proxies received all %d connections (got %d)" % (n, sum(received.values())),
          sum(received.values()) == n)
    check("the director encapsulated all %d (got %d)" % (n, encap), encap == n)
    for proxy in PROXIES:
        got, sent = received.get(proxy), counted.get(proxy)
        check("%s received %s, the director counts %s sent to it" % (proxy, got, sent),
              got is not None and got == sent)
        # 2000 connections over 3 proxies: 667 expected, a standard deviation of 21.
        check("%s's share is even (%s of %d)" % (proxy, got, n),
              got is not None and abs(got - n / 3) < n / 12)
    check("the demo says the counts agree", "agreed: every proxy received exactly" in out)
    return check.result()


if __name__ == "__main__":
    sys.exit(main())
