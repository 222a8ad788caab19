#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The pipeline benchmark as ratios to the floor measured in the same run.

    pipeline_ratio.py BUILD_DIR [REPETITIONS]     (default 5)

Runs BUILD_DIR/tests/bench/director/tandem-bench-pipeline pinned to one core, each case
REPETITIONS times interleaved with the floor (what no forwarder can skip: copy the frame,
one SipHash-2-4, one row load; see pipeline_bench.cpp), and prints per case the median
ns/packet, Mpps, and the median of its per-repetition ratios to the floor.
"""
import json
import os
import statistics
import subprocess
import sys


def main():
    build = sys.argv[1]
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    exe = os.path.join(build, "tests/bench/director/tandem-bench-pipeline")
    out = subprocess.run(["taskset", "-c", "1", exe, "--benchmark_format=json",
                          "--benchmark_repetitions=%d" % reps, "--benchmark_enable_random_interleaving=true",
                          "--benchmark_min_time=0.5"],
                         check=True, capture_output=True, text=True).stdout
    runs = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        # "ns/packet" is an inverted rate: JSON holds it in seconds per packet.
        runs.setdefault(b["run_name"], []).append(b["ns/packet"] * 1e9)
    floor = runs.pop("BM_Floor")
    f_med = statistics.median(floor)
    print("floor (copy + one SipHash-2-4 + one row load): %.1f ns/packet (%.1f Mpps), %d runs %.1f-%.1f" %
          (f_med, 1e3 / f_med, len(floor), min(floor), max(floor)))
    print("%-32s %12s %8s %14s" % ("case", "ns/packet", "Mpps", "ratio to floor"))
    for name, ns in runs.items():
        # Repetition i of a case against repetition i of the floor (runs interleaved).
        ratios = [a / b for a, b in zip(ns, floor)]
        print("%-32s %12.1f %8.1f %14.2f" % (name, statistics.median(ns), 1e3 / statistics.median(ns),
                                             statistics.median(ratios)))


if __name__ == "__main__":
    main()
