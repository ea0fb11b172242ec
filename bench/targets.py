#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Every open speed and memory target of issues 18 and 14, measured in one
command: bench/apply.py (apply against the floor and against nft -f, the
network in the YAML and in a list file), bench/delta.py (a one-address
change: delta, full replace, nft -f; hosts and prefixes from a list file,
hosts in the YAML), bench/memory.py (diff's peak memory against nft list
table's, both forms), bench/readback.py (diff and show against a bare dump
of the table, both forms), bench/listfile.py (check of a list file against its
apply) and the one-service shape of bench/render.py, each as those scripts
measure it (side by side, interleaved, PC_BENCH_RUNS times, 3; medians and
peak RSS), in namespaces and a state directory of their own.  Prints each
script's tables, then one table: each target, the ratio measured, the target
and whether it is met.

Sizes: PC_BENCH_TARGET_SIZES, three numbers of addresses (the issue's
"10000 200000 1000000"; the second and third are the delta's and the list
file's, the second the memory's), PC_BENCH_TARGET_RULES the rules of the
one-service shape (50000).  The tests run it at tiny sizes (tests/bench).

usage: bench/targets.py BUILD_DIR   (as root; meson compile -C BUILD_DIR
       pc-bench-spawn pc-bench-floor first, as `make bench` does)
"""
import os
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import render  # noqa: E402
import apply  # noqa: E402
import delta  # noqa: E402
import listfile  # noqa: E402
import memory  # noqa: E402
import readback  # noqa: E402

SIZES = [int(x) for x in
         os.environ.get("PC_BENCH_TARGET_SIZES", "10000 200000 1000000").split()]
RULES = int(os.environ.get("PC_BENCH_TARGET_RULES", "50000"))


def secs(r):
    return None if r is None or r[0] is None else r[0]


def share(a, b, rss=False):
    """a / b (times, or peak RSS), or None when either was not measured."""
    if a is None or b is None or a[0] is None or b[0] is None:
        return None
    return a[1] / max(b[1], 1) if rss else a[0] / max(b[0], 1e-6)


class Table:
    def __init__(self):
        self.rows = []

    def add(self, issue, what, network, value, limit, most=True, unit="x"):
        """A target: VALUE at most (MOST) or at least LIMIT."""
        if value is None:
            verdict, shown = "not measured", "-"
        else:
            verdict = "met" if (value <= limit if most else value >= limit) else "missed"
            shown = ("%.2f" % value) + unit
        self.rows.append((issue, what, network, shown,
                          "%s %g%s" % ("at most" if most else "at least", limit, unit), verdict))

    def print(self):
        print("| issue | target | measured on | ratio | target | |")
        print("|---|---|---|---|---|---|")
        for row in self.rows:
            print("| %s | %s | %s | %s | %s | %s |" % row)
        met = sum(1 for r in self.rows if r[5] == "met")
        missed = sum(1 for r in self.rows if r[5] == "missed")
        print("%d met, %d missed, %d not measured" % (
            met, missed, len(self.rows) - met - missed))


def main():
    if len(sys.argv) != 2:
        print("usage: bench/targets.py BUILD_DIR   (as root)", file=sys.stderr)
        return 2
    build = sys.argv[1]
    if os.getuid() != 0 or not shutil.which("nft") or not shutil.which("ip") \
            or not shutil.which("unshare"):
        print("bench/targets.py: needs root, nft, ip and unshare (network namespaces)",
              file=sys.stderr)
        return 2
    for prog in ("portcullis", "pc-bench-spawn", "pc-bench-floor", "pc-bench-dump"):
        if not os.access(os.path.join(build, prog), os.X_OK):
            print("bench/targets.py: no %s in %s (meson compile -C %s pc-bench-spawn "
                  "pc-bench-floor pc-bench-dump)" % (prog, build, build), file=sys.stderr)
            return 2
    small, large, huge = SIZES
    pc = os.path.abspath(os.path.join(build, "portcullis"))

    ap = apply.measure(build, ["hosts", "prefixes"], SIZES)
    de = delta.measure(build, [large, huge])
    me = memory.measure([build], [large])
    lf = listfile.measure(build, [large, huge])
    one = render.one_service(build, pc, RULES)
    readback.SIZES = [RULES, large]
    rb = readback.measure(build)
    if ap is None or de is None or lf is None or rb is None:
        return 1

    print("## bench/apply.py")
    apply.report(ap)
    print()
    print("## bench/delta.py")
    delta.report(de)
    print()
    print("## bench/memory.py")
    memory.report([build], me)
    print()
    print("## bench/listfile.py")
    listfile.report(lf, [large, huge])
    print()
    print("## bench/readback.py")
    readback.report(rb)
    print()
    print("## one service in %d rules against a distinct port each" % RULES)
    print("| command | one service | RSS | distinct ports | RSS | ratio |")
    print("|---|---|---|---|---|---|")
    for cmd in ("check", "render"):
        a, b = one["hosts %s" % cmd], one["hostports %s" % cmd]
        print("| %s | %s | %s | %s | %s | %s |" % (
            cmd, *render.fmt(a), *render.fmt(b), render.ratio(b, a)))
    print()

    t = Table()
    forms = (("YAML", "apply", "nft"), ("list file", "apply list", "nft list"))
    for kind, n, r in ap:
        for form, a, _ in forms:
            if form == "YAML" and n > apply.YAML_MAX:
                continue
            t.add(18, "apply / floor, time", "%d %s, %s" % (n, kind, form),
                  share(r[a], r["floor"]), 1.2)
    for kind, n, r in ap:
        for form, a, _ in forms:
            if form == "YAML" and n > apply.YAML_MAX:
                continue
            t.add(18, "apply / floor, peak RSS", "%d %s, %s" % (n, kind, form),
                  share(r[a], r["floor"], rss=True), 2)
    for kind, n, r in ap:
        if kind == "hosts" and n == large:
            for form, a, x in forms:
                t.add(18, "nft -f of the rendering / apply", "%d hosts, %s" % (n, form),
                      share(r[x], r[a]), 3, most=False)
    for what, other, limit in (("full replace / one-address delta", "full", 10),
                               ("nft -f of the change / one-address delta", "nft", 30)):
        for n, form, kind, r, _ in de:
            net = "%d %s, %s%s" % (n, kind, form,
                                   "" if kind == "hosts" else " (an interval set)")
            t.add(18, what, net, share(r[other], r["delta"]), limit, most=False)
    for cmd in ("check", "render"):
        t.add(18, "%s, one service / distinct ports" % cmd, "%d rules" % RULES,
              share(one["hosts %s" % cmd], one["hostports %s" % cmd]), 2)
    t.add(18, "check (read, parse, resolve) / apply", "%d-address list file" % huge,
          listfile.check_share(lf, huge), 0.1, unit="")
    for n, y, x in me:
        for form, res in (("YAML", y), ("list file", x)):
            t.add(14, "diff / nft list table, peak RSS", "%d addresses, %s" % (n, form),
                  memory.diff_share(res), 0.1, unit="")
    for label, form, r in rb:
        if label.endswith(" rules") and "addresses" not in label:
            # apply of a table already loaded with the policy: the whole read
            # and lowering of it, and a transaction of nothing
            t.add(14, "diff / apply (again), time", "%s, %s" % (label, form),
                  readback.share(r["diff"], r["apply"]), 2)
        if label.endswith("addresses, 10 rules"):
            for cmd in ("diff", "show"):
                t.add(14, "%s / bare dump, time" % cmd, "%s, %s" % (label.split(",")[0], form),
                      readback.share(r[cmd], r["dump"]), 1.2)
    # The most apply can reach against nft -f: a program that only sends the
    # batch (the floor) against nft -f, measured in the same run.
    for kind, n, r in ap:
        if kind == "hosts" and n == large:
            for form, _, x in forms:
                c = share(r[x], r["floor"])
                print("ceiling of nft -f / apply, %d hosts, %s: nft -f / floor = %s" % (
                    n, form, "-" if c is None else "%.2fx" % c))
    print()
    print("## targets: %d runs each, %d cores, %s" % (render.RUNS, os.cpu_count(),
                                                      os.uname().release))
    t.print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
