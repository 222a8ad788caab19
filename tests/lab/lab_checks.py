# SPDX-License-Identifier: Apache-2.0
"""PASS/FAIL lines for the demos' tests (test_demo.py, test_second_chance.py)."""


class Checks:
    def __init__(self):
        self.failed = []

    def __call__(self, what, ok):
        print("%s: %s" % ("PASS" if ok else "FAIL", what))
        if not ok:
            self.failed.append(what)

    def result(self):
        """Prints the count of failures; returns the exit status."""
        print("%d checks failed" % len(self.failed))
        return 1 if self.failed else 0
