#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Peak memory of one large network, side by side in one run: `check`,
`render`, `apply` and `diff` (against the table apply loaded) of the policy
bench/render.py writes for N addresses (one network of N IPv4 host addresses
that 10 rules use), for each build directory given (say, a build of the
branch before and one after), interleaved by bench/spawn.c, PC_BENCH_RUNS
times each (3): the median time and the peak resident memory of each, and the
ratio of each build's memory to the first's.

`apply`, `diff`, `show` and `nft list table inet portcullis` (what diff
reads, for comparison) need root and run in a network namespace made for the run
(ip netns), one per build, removed at the end; `diff` up to 200 000 addresses
(PC_BENCH_MEM_DIFF_MAX): reading a large set back is quadratic in the kernel.  A policy holds at most
1 000 000 YAML values: the largest size that fits is 999 000 addresses.

Then the same policy as users write a large network, its addresses in a list
file (`networks: {big: {file: list.txt}}`): check, render, apply, diff, show
and nft list table of it, each build in a namespace of its own, in a second
table; and for each form the ratio of diff's memory to nft list table's
(issue 14's target: a tenth).

usage: bench/memory.py BUILD_DIR [BUILD_DIR...]
       PC_BENCH_MEM_SIZES="200000 999000" (the default) picks the sizes.
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import render  # noqa: E402  (write_policy, spawn, fmt)

SIZES = [int(x) for x in os.environ.get("PC_BENCH_MEM_SIZES", "200000 999000").split()]
COMMANDS = ["check", "render", "apply", "diff", "show", "nft list table"]
# Reading a set back is quadratic in the kernel (docs: BENCHMARKS.md): diff of 999 000
# addresses takes minutes a run, so it runs up to this size.
DIFF_MAX = int(os.environ.get("PC_BENCH_MEM_DIFF_MAX", "200000"))


def measure(builds, sizes=None):
    """Runs both forms at each size; returns [(n, YAML results, list-file
    results)], results keyed "K COMMAND" (K the build's index) as
    render.spawn gives them."""
    kernel = os.getuid() == 0 and shutil.which("ip")
    ip = shutil.which("ip")
    quiet = ["/bin/sh", "-c", '"$0" "$@" >/dev/null 2>&1; [ $? -le 1 ]']
    # pc-bench-spawn from the first build that has it (an older one may not)
    spawner = next((b for b in builds if os.path.exists(os.path.join(b, "pc-bench-spawn"))),
                   builds[0])
    rows = []
    for n in sizes or SIZES:
        d = tempfile.mkdtemp(prefix="pc-bench-")
        render.write_policy(d, 10, n)
        forms = [os.path.join(d, "gen.yaml"), render.write_list_policy(d, 10, n)[0]]
        spaces = []
        found = []
        try:
            for form, pol in enumerate(forms):
                cmds = []
                for k, b in enumerate(builds):
                    pc = os.path.abspath(os.path.join(b, "portcullis"))
                    cmds.append(("%d check" % k, quiet + [pc, "check", pol]))
                    cmds.append(("%d render" % k, quiet + [pc, "render", "-o", "/dev/null", pol]))
                    if not kernel:
                        continue
                    ns = "pc-bench-mem%s%d-%d" % ("list" if form else "", k, os.getpid())
                    subprocess.run([ip, "netns", "add", ns], check=True)
                    spaces.append(ns)
                    inns = [ip, "netns", "exec", ns]
                    subprocess.run(inns + [ip, "link", "set", "lo", "up"], check=True)
                    subprocess.run(inns + [pc, "apply", pol], check=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    cmds.append(("%d apply" % k, quiet + inns + [pc, "apply", pol]))
                    if n <= DIFF_MAX:
                        cmds.append(("%d diff" % k, quiet + inns + [pc, "diff", pol]))
                        # what diff reads, printed by show and by nft: diff's yardsticks
                        cmds.append(("%d show" % k, quiet + inns + [pc, "show"]))
                        if shutil.which("nft"):
                            cmds.append(("%d nft list table" % k, quiet + inns + [
                                shutil.which("nft"), "list", "table", "inet", "portcullis"]))
                found.append(render.spawn(spawner, cmds))
        finally:
            for ns in spaces:
                subprocess.run([ip, "netns", "del", ns], check=False)
            shutil.rmtree(d)
        rows.append((n, found[0], found[1]))
        print("done: %d addresses" % n, file=sys.stderr)
    return rows


def table(builds, rows):
    print("| addresses | command | " + " | ".join(
        "build %d | RSS%s" % (k, "" if k == 0 else " | /build 0") for k in range(len(builds)))
        + " |")
    print("|---|---|" + "---|---|" * len(builds) + "---|" * (len(builds) - 1))
    for n, res in rows:
        for c in COMMANDS:
            if "0 %s" % c not in res:
                continue
            cells = []
            for k in range(len(builds)):
                r = res["%d %s" % (k, c)]
                cells += list(render.fmt(r))
                if k:
                    a = res["0 %s" % c]
                    cells.append("-" if a[0] is None or r[0] is None
                                 else "%.2fx" % (r[1] / max(a[1], 1)))
            print("| %d | %s | %s |" % (n, c, " | ".join(cells)))


def diff_share(res, k=0):
    """diff's peak RSS over nft list table's, of build K, or None."""
    a, b = res.get("%d diff" % k), res.get("%d nft list table" % k)
    if not a or not b or a[0] is None or b[0] is None:
        return None
    return a[1] / max(b[1], 1)


def report(builds, rows):
    print("peak RSS: median of %d runs, interleaved; %d cores, %s" % (
        render.RUNS, os.cpu_count(), os.uname().release))
    for k, b in enumerate(builds):
        print("build %d: %s" % (k, b))
    table(builds, [(n, y) for n, y, _ in rows])
    print()
    print("the same policy, its addresses in a list file (`networks: {big: {file: list.txt}}`):")
    table(builds, [(n, x) for n, _, x in rows])
    print()
    for n, y, x in rows:
        for k in range(len(builds)):
            shares = [(f, diff_share(r, k)) for f, r in (("YAML", y), ("list file", x))]
            if all(s is None for _, s in shares):
                continue
            print("%d addresses, build %d: diff / nft list table (peak RSS): %s (target 0.10)" % (
                n, k, ", ".join("%s %s" % (f, "-" if s is None else "%.2f" % s)
                                for f, s in shares)))


def main():
    builds = sys.argv[1:] or ["build"]
    report(builds, measure(builds))


if __name__ == "__main__":
    main()
