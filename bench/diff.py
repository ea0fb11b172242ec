#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Memory of `diff` against what it reads, side by side in one run: for each
build directory given, the table of one large network (the policy
bench/render.py writes for N IPv4 host addresses that 10 rules use) applied in
a network namespace of its own, then `check`, `diff` (of the table as
applied), `show` and `nft list table inet portcullis` there, interleaved by
bench/spawn.c, PC_BENCH_RUNS times each (3): the median time and the peak
resident memory of each, and each build's ratio to the first's.  Needs root
and `ip`; the namespaces are removed at the end.

usage: bench/diff.py BUILD_DIR [BUILD_DIR...]
       PC_BENCH_DIFF_SIZE=200000 (the default) picks the size.
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import render  # noqa: E402  (write_policy, spawn, fmt)

SIZE = int(os.environ.get("PC_BENCH_DIFF_SIZE", "200000"))
COMMANDS = ["check", "diff", "show", "nft list table"]


def main():
    builds = sys.argv[1:] or ["build"]
    ip, nft = shutil.which("ip"), shutil.which("nft")
    if os.getuid() != 0 or not ip or not nft:
        sys.exit("bench/diff.py: needs root, ip and nft")
    quiet = ["/bin/sh", "-c", '"$0" "$@" >/dev/null 2>&1; [ $? -le 1 ]']
    d = tempfile.mkdtemp(prefix="pc-bench-")
    render.write_policy(d, 10, SIZE)
    pol = os.path.join(d, "gen.yaml")
    spaces = []
    try:
        cmds = []
        for k, b in enumerate(builds):
            pc = os.path.abspath(os.path.join(b, "portcullis"))
            ns = "pc-bench-diff%d" % k
            subprocess.run([ip, "netns", "add", ns], check=True)
            spaces.append(ns)
            inns = [ip, "netns", "exec", ns]
            subprocess.run(inns + [ip, "link", "set", "lo", "up"], check=True)
            subprocess.run(inns + [pc, "apply", pol], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            cmds.append(("%d check" % k, quiet + [pc, "check", pol]))
            cmds.append(("%d diff" % k, quiet + inns + [pc, "diff", pol]))
            cmds.append(("%d show" % k, quiet + inns + [pc, "show"]))
            cmds.append(("%d nft list table" % k,
                         quiet + inns + [nft, "list", "table", "inet", "portcullis"]))
        res = render.spawn(next((b for b in builds if os.path.exists(
            os.path.join(b, "pc-bench-spawn"))), builds[0]), cmds)
    finally:
        for ns in spaces:
            subprocess.run([ip, "netns", "del", ns], check=False)
        shutil.rmtree(d)

    print("%d addresses; median of %d runs, interleaved; %d cores, %s" % (
        SIZE, render.RUNS, os.cpu_count(), os.uname().release))
    for k, b in enumerate(builds):
        print("build %d: %s" % (k, b))
    print("| command | " + " | ".join(
        "build %d | RSS%s" % (k, "" if k == 0 else " | /build 0") for k in range(len(builds)))
        + " | RSS/nft list |")
    print("|---|" + "---|---|" * len(builds) + "---|" * len(builds))
    for c in COMMANDS:
        cells = []
        for k in range(len(builds)):
            r = res["%d %s" % (k, c)]
            cells += list(render.fmt(r))
            if k:
                a = res["0 %s" % c]
                cells.append("-" if a[0] is None or r[0] is None
                             else "%.2fx" % (r[1] / max(a[1], 1)))
        last = res["%d %s" % (len(builds) - 1, c)]
        ref = res["%d nft list table" % (len(builds) - 1)]
        cells.append("-" if last[0] is None or ref[0] is None
                     else "%.2fx" % (last[1] / max(ref[1], 1)))
        print("| %s | %s |" % (c, " | ".join(cells)))


if __name__ == "__main__":
    main()
