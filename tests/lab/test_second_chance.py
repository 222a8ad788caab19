#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Runs the second-chance demo (tests/lab/second-chance) as a user would, against a built
tree, and checks what it prints and draws: it exits 0, no stream broke with Tandem while
plain ECMP broke some, and the picture it names exists, is an SVG, and carries the very
counts the scenario printed and its result files hold.

    test_second_chance.py BUILD_DIR SECONDS    (exits 77 with the lab's reason when it cannot run)
"""
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

from lab_checks import Checks

HERE = os.path.dirname(os.path.realpath(__file__))


def main():
    build, limit = os.path.realpath(sys.argv[1]), int(sys.argv[2])
    env = dict(os.environ, TANDEM_BUILD=build, TANDEM_SC_TIMEOUT=str(limit))
    p = subprocess.run([os.path.join(HERE, "second-chance")], env=env, capture_output=True,
                       text=True, timeout=limit + 60)
    out = p.stdout + p.stderr
    print(out)
    if p.returncode == 77:
        return 77
    check = Checks()

    check("second-chance exits 0 (got %d)" % p.returncode, p.returncode == 0)
    line = re.search(r"^broken connections: with Tandem (\d+), with plain ECMP (\d+)$", out, re.M)
    check("it prints the broken counts", line is not None)
    pic = re.search(r"^picture: (\S+) \((broken connections: [^)]*)\)$", out, re.M)
    check("it prints the picture's path", pic is not None)
    if line and pic:
        tandem, plain = int(line.group(1)), int(line.group(2))
        check("with Tandem no stream broke (%d)" % tandem, tandem == 0)
        check("with plain ECMP some did (%d)" % plain, plain > 0)
        check("the picture is drawn from the printed counts", pic.group(2) == line.group(0))
        path = pic.group(1)
        check("the picture exists (%s)" % path, os.path.isfile(path))
        if os.path.isfile(path):
            root = ET.parse(path).getroot()
            check("it is an SVG", root.tag.endswith("svg"))
            text = " ".join(t for t in root.itertext())
            check("it names the broken counts", line.group(0) in text)
            check("it marks the events", all(e in text for e in ("p4 added", "p3 draining",
                  "p3 removed", "p1 fails health check", "dir2 restarted", "dir1 out of ECMP")))
            outdir = os.path.dirname(path)
            for mode, want in (("tandem", tandem), ("plain", plain)):
                conns = json.load(open(os.path.join(outdir, "result-%s.json" % mode)))["conns"]
                got = sum(c["outcome"] != "ok" for c in conns)
                check("%s: the result file's %d broken streams are the printed %d" % (mode, got, want),
                      got == want)
    return check.result()


if __name__ == "__main__":
    sys.exit(main())
