#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Include graphs that would explode if every path were read: nine files, each
including the next FAN times (FAN^8 paths from the policy to the last file),
and one policy including 127 distinct files (the most it may).  `check` runs
PC_BENCH_RUNS times (3) per shape through bench/spawn.c; the median wall time
and peak resident memory are printed.  Each file is read once, so time and
memory should stay flat as the fan grows.

usage: bench/includes.py [BUILD_DIR]
"""
import os
import shutil
import sys
import tempfile

from render import RUNS, fmt, spawn

FANS = [1, 4, 5, 16, 64]


def write_fan(d, fan):
    for i in range(9):
        with open(os.path.join(d, "f%d.yaml" % i), "w") as f:
            if i == 0:
                f.write("version: 1\npolicy: fan\nrules:\n  - allow: 88/udp\n    from: [n1, n8]\n")
            if i < 8:
                f.write("include: [%s]\n" % ", ".join(["f%d.yaml" % (i + 1)] * fan))
            if i > 0:
                f.write("networks:\n  n%d: [192.0.2.%d]\n" % (i, i))
    return os.path.join(d, "f0.yaml")


def write_wide(d, n):
    for i in range(n):
        with open(os.path.join(d, "w%d.yaml" % i), "w") as f:
            f.write("networks:\n  w%d: [10.%d.%d.0/24]\n" % (i, i // 256, i % 256))
    with open(os.path.join(d, "wide.yaml"), "w") as f:
        f.write("version: 1\npolicy: wide\ninclude: [%s]\nrules:\n  - allow: 88/udp\n"
                "    from: w0\n" % ", ".join("w%d.yaml" % i for i in range(n)))
    return os.path.join(d, "wide.yaml")


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    pc = os.path.abspath(os.path.join(build, "portcullis"))
    d = tempfile.mkdtemp(prefix="pc-bench-inc-")
    commands = []
    for fan in FANS:
        sub = os.path.join(d, "fan%d" % fan)
        os.mkdir(sub)
        commands.append(("fan %d" % fan, [pc, "check", write_fan(sub, fan)]))
    sub = os.path.join(d, "wide")
    os.mkdir(sub)
    commands.append(("127 includes", [pc, "check", write_wide(sub, 127)]))
    res = spawn(build, commands)
    shutil.rmtree(d)
    print("includes: `check`, median of %d runs, interleaved, and peak RSS; %d cores, %s" % (
        RUNS, os.cpu_count(), os.uname().release))
    print("| shape | paths to the last file | files read | check | RSS |")
    print("|---|---|---|---|---|")
    for fan in FANS:
        print("| 9 files, each including the next %d times | %d | 9 | %s | %s |" % (
            fan, fan ** 8, *fmt(res["fan %d" % fan])))
    print("| one policy, 127 includes | 127 | 128 | %s | %s |" % fmt(res["127 includes"]))


if __name__ == "__main__":
    main()
