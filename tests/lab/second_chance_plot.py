#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The second-chance scenario as a picture: one timeline per mode (Tandem, plain ECMP).

    second_chance_plot.py OUTDIR [SVG | PNG]

Reads what tests/vm/second_chance.sh leaves in OUTDIR (the VM lab's out directory):
result-tandem.json and result-plain.json (sc_streams.py: per stream its outcome, when it
connected and when its outcome was known) and events-tandem.txt / events-plain.txt
("EPOCH step N: what happened", one a line). Draws every stream as a line, green while
alive, red from the moment it broke, and the scenario's events as vertical lines. Writes
SVG (default OUTDIR/second-chance-YYYYmmdd-HHMMSS.svg, one per run), with its text kept
as text, and prints "picture: PATH (broken connections: with Tandem N, with plain ECMP M)".
"""
import json
import os
import sys
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# The scenario's steps, as the picture labels them.
STEP_LABELS = {
    "step 1": "p4 added",
    "step 2": "p3 draining",
    "step 3": "p3 removed",
    "step 4": "p1 fails health check",
    "step 5": "dir2 restarted",
    "step 6": "dir1 out of ECMP",
}
MODES = (("tandem", "with Tandem"), ("plain", "with plain ECMP"))
ALIVE, BROKEN = "#2e8b57", "#d62728"


def load(outdir, mode):
    with open(os.path.join(outdir, "result-%s.json" % mode)) as f:
        conns = json.load(f)["conns"]
    events = []
    path = os.path.join(outdir, "events-%s.txt" % mode)
    if os.path.exists(path):
        for line in open(path):
            when, _, text = line.strip().partition(" ")
            label = STEP_LABELS.get(text.split(":")[0], text)
            events.append((float(when), label))
    return conns, events


def broken(conns):
    return [c for c in conns if c["outcome"] != "ok"]


def draw(ax, title, conns, events):
    opened = [c["t_open"] for c in conns if c.get("t_open") is not None]
    if not opened:
        ax.set_title(title + ": no stream connected")
        return
    t0 = min(opened)
    t_end = max([c["t_done"] or t0 for c in conns] + [e[0] for e in events])
    # Broken streams first, in the order they broke: each event's cost reads as a step.
    order = sorted(conns, key=lambda c: (c["outcome"] == "ok",
                                         c["t_done"] if c["outcome"] != "ok" else 0, c["cid"]))
    for y, c in enumerate(order):
        start = (c["t_open"] if c.get("t_open") is not None else t0) - t0
        done = (c["t_done"] if c.get("t_done") is not None else t_end) - t0
        if c["outcome"] == "ok":
            ax.hlines(y, start, done, colors=ALIVE, linewidth=1.2)
        else:
            ax.hlines(y, start, done, colors=ALIVE, linewidth=1.2)
            ax.hlines(y, done, t_end - t0, colors=BROKEN, linewidth=1.2)
            ax.plot([done], [y], marker="x", color=BROKEN, markersize=3)
    for when, label in events:
        x = when - t0
        ax.axvline(x, color="#555555", linestyle="--", linewidth=0.8)
        ax.text(x, len(conns) * 1.01, label, rotation=35, fontsize=7, ha="left", va="bottom")
    n_broken = len(broken(conns))
    ax.set_title("%s: %d of %d streams broken" % (title, n_broken, len(conns)), pad=48, fontsize=10)
    ax.set_xlim(0, (t_end - t0) * 1.02)
    ax.set_ylim(-1, len(conns) + 1)
    ax.set_xlabel("seconds since the first stream connected")


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    outdir = sys.argv[1]
    svg = sys.argv[2] if len(sys.argv) == 3 else os.path.join(
        outdir, time.strftime("second-chance-%Y%m%d-%H%M%S.svg"))
    data = {}
    for mode, _ in MODES:
        try:
            data[mode] = load(outdir, mode)
        except (OSError, ValueError, KeyError) as e:
            print("second_chance_plot: %s: %s" % (mode, e), file=sys.stderr)
            return 1
    counts = {mode: len(broken(data[mode][0])) for mode, _ in MODES}
    headline = "broken connections: with Tandem %d, with plain ECMP %d" % (counts["tandem"], counts["plain"])
    plt.rcParams["svg.fonttype"] = "none"  # text stays text: searchable, and checked by the test
    fig, axes = plt.subplots(1, 2, figsize=(14, 6.5), sharey=True)
    for ax, (mode, title) in zip(axes, MODES):
        draw(ax, title, *data[mode])
    axes[0].set_ylabel("stream (broken ones first, in the order they broke)")
    fig.suptitle("Long-lived TCP streams through two directors and four proxies: " + headline, fontsize=11)
    fig.legend(handles=[plt.Line2D([], [], color=ALIVE, label="alive (a line that ends green: closed cleanly)"),
                        plt.Line2D([], [], color=BROKEN, marker="x", label="broken (from then on)")],
               loc="lower center", ncol=2, frameon=False)
    fig.tight_layout(rect=(0, 0.05, 1, 0.95))
    if svg.endswith(".png"):  # a smaller copy, e.g. for the README
        fig.savefig(svg, format="png", dpi=60)
    else:
        fig.savefig(svg, format="svg", metadata={"Title": headline})
    print("picture: %s (%s)" % (svg, headline))
    return 0


if __name__ == "__main__":
    sys.exit(main())
