#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The YAML reader's runs on hostile shapes: time of `check`, 1 MB against 4 MB.

usage: bench/yamlruns.py PORTCULLIS [REPEAT]

Each shape is written at about 1 MB and 4 MB and checked REPEAT times
(default 5); the medians are printed with the 4 MB / 1 MB ratio, which stays
near 4 when the cost is linear.  The same block list with one character of
two bytes in a comment before it is timed against the list without: the
ratio stays near 1 when the runs are kept.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

BIN = sys.argv[1]
REPEAT = int(sys.argv[2]) if len(sys.argv) > 2 else 5
HEAD = "version: 1\npolicy: runs\ndefaults:\n  icmp: none\nnetworks:\n"
TAIL = "rules:\n  - allow: 88/tcp\n    from: big\n"


def addresses(n):
    return ["10.%d.%d.%d" % ((i >> 16) & 255, (i >> 8) & 255, i & 255) for i in range(1, n + 1)]


def block(size, note=""):
    n = size // 18
    return note + HEAD + "  big:\n" + "".join("    - %s\n" % a for a in addresses(n)) + TAIL


def short_runs(size):
    """Many networks of 64 addresses each, every one a run."""
    items = ", ".join(addresses(64))
    k = size // (len(items) + 16)
    nets = "".join("  n%d: [%s]\n" % (i, items) for i in range(k))
    return HEAD + nets + "  big: [192.0.2.1]\n" + TAIL


def late_failure(size):
    """Runs, and at the end a cut libyaml does not confirm: the text is read again whole."""
    items = ", ".join(addresses(64))
    return short_runs(size).replace("version: 1\n", "version: 1 # x: [%s]\n" % items)


def near_runs(size):
    """Lists that fail at their last item (a name): none is a run."""
    items = ", ".join(addresses(70))
    k = size // (len(items) + 16)
    nets = "".join("  n%d: [%s, big]\n" % (i, items) for i in range(k))
    return HEAD + "  big: [192.0.2.1]\n" + nets + TAIL


def brackets(size):
    """One line of `a: [1.1.1.1, ` repeated: every '[' starts a search."""
    return "x: " + "a: [1.1.1.1, " * (size // 13) + "\n"


def timed(path):
    runs = []
    for _ in range(REPEAT):
        t = time.perf_counter()
        subprocess.run([BIN, "check", path], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=300)
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


SHAPES = (
    ("block list", block),
    ("block list, an 'é' in a comment first", lambda s: block(s, "# caf\u00e9\n")),
    ("networks of 64 addresses", short_runs),
    ("the same, one cut unconfirmed at the end", late_failure),
    ("lists failing at their last item", near_runs),
    ("one line of '[' after ':'", brackets),
)

with tempfile.TemporaryDirectory() as d:
    times = {}
    print("| shape | 1 MB | 4 MB | 4 MB / 1 MB |")
    print("|---|---|---|---|")
    for name, make in SHAPES:
        t = []
        for mb in (1, 4):
            path = os.path.join(d, "p%d.yaml" % mb)
            with open(path, "w") as f:
                f.write(make(mb << 20))
            t.append(timed(path))
        times[name] = t
        print("| %s | %.1f ms | %.1f ms | %.2f |" % (name, t[0] * 1e3, t[1] * 1e3, t[1] / t[0]))
    a, b = times["block list"][1], times["block list, an 'é' in a comment first"][1]
    print("\n4 MB block list with an 'é' first / without: %.2f" % (b / a))
