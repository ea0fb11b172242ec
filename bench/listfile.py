#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Address list files: one network of N hosts read from a list file
(`networks: {listed: {file: ...}}`), `check` (read, parse, resolve, the
checks) against `apply` of the same policy in a fresh network namespace
(`unshare -n`), at 200 000 and 1 000 000 addresses; and the same 200 000
hosts written in the YAML, for comparison.  Each command runs
PC_BENCH_RUNS times (3) through bench/spawn.c, interleaved; medians and peak
RSS are printed, and the ratios measured in this one run.  The target: the
1 000 000-address list parsed and resolved in under a tenth of the apply.
Needs root (apply, in namespaces it makes; the host's ruleset is untouched).

usage: bench/listfile.py [BUILD_DIR]   (PC_BENCH_LIST_SIZES="200000 1000000")
"""
import os
import shutil
import sys
import tempfile

from render import FRESH, RUNS, fmt, spawn

SIZES = [int(x) for x in os.environ.get("PC_BENCH_LIST_SIZES", "200000 1000000").split()]
PREAMBLE = "version: 1\npolicy: listed\n"
RULES = ("rules:\n  - deny: [kerberos, kpasswd]\n    from: listed\n"
         "  - allow: [kerberos, kpasswd]\n")


def host(i):
    a = 2 * i + 1
    return "10.%d.%d.%d" % (a >> 16 & 255, a >> 8 & 255, a & 255)


def write_list(d, n):
    with open(os.path.join(d, "list%d.txt" % n), "w") as f:
        f.write("# %d hosts, one a line\n" % n)
        f.writelines("%s\n" % host(i) for i in range(n))
    path = os.path.join(d, "list%d.yaml" % n)
    with open(path, "w") as f:
        f.write(PREAMBLE + "networks:\n  listed: {file: list%d.txt}\n" % n + RULES)
    return path


def write_yaml(d, n):
    path = os.path.join(d, "yaml%d.yaml" % n)
    with open(path, "w") as f:
        f.write(PREAMBLE + "networks:\n  listed:\n")
        f.writelines("    - %s\n" % host(i) for i in range(n))
        f.write(RULES)
    return path


def measure(build, sizes=None):
    """check and apply of the list-file policy at each size, and check of the
    YAML at the first; returns render.spawn's results, or None when this
    cannot run here."""
    sizes = sizes or SIZES
    pc = os.path.abspath(os.path.join(build, "portcullis"))
    if os.geteuid() != 0 or not shutil.which("unshare"):
        print("listfile: apply needs root and unshare; skipped")
        return None
    d = tempfile.mkdtemp(prefix="pc-bench-list-")
    commands = []
    for n in sizes:
        p = write_list(d, n)
        commands.append(("check list %d" % n, [pc, "check", p]))
        commands.append(("apply list %d" % n, FRESH + ["unshare", "-n", pc, "apply", p]))
    commands.append(("check yaml %d" % sizes[0], [pc, "check", write_yaml(d, sizes[0])]))
    try:
        return spawn(build, commands)
    finally:
        shutil.rmtree(d)


def check_share(res, n):
    """check over apply of the list of N addresses, or None."""
    c, a = res["check list %d" % n], res["apply list %d" % n]
    return None if c[0] is None or a[0] is None else c[0] / a[0]


def report(res, sizes=None):
    sizes = sizes or SIZES
    print("listfile: median of %d runs, interleaved, and peak RSS; %d cores, %s" % (
        RUNS, os.cpu_count(), os.uname().release))
    print("| addresses | written as | check (read, parse, resolve) | RSS | apply | RSS | check / apply |")
    print("|---|---|---|---|---|---|---|")
    for n in sizes:
        c, a = res["check list %d" % n], res["apply list %d" % n]
        r = check_share(res, n)
        r = "-" if r is None else "%.2f" % r
        print("| %d | list file | %s | %s | %s | %s | %s |" % (n, *fmt(c), *fmt(a), r))
    y = res["check yaml %d" % sizes[0]]
    print("| %d | YAML | %s | %s | | | |" % (sizes[0], *fmt(y)))
    c = res["check list %d" % sizes[0]]
    if c[0] is not None and y[0] is not None:
        print("YAML / list file, check of %d: %.2fx time, %.2fx RSS" % (
            sizes[0], y[0] / c[0], y[1] / c[1]))


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    res = measure(build)
    if res is not None:
        report(res)


if __name__ == "__main__":
    main()
