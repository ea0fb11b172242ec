#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Reading the live table back, side by side in one run: `portcullis diff` and
`portcullis show` against `apply` of the same policy, `nft list table`, and a
bare netlink dump of the same table (bench/dump.c: the same requests, answers
only counted), all in one network namespace made for the run (ip netns), the
table loaded by apply first.

Three policies, made as bench/render.py makes them: 50 000 rules (a port and
a network each), and one network of 200 000 IPv4 addresses that 10 rules
use, written in the YAML and in a list file (`networks: {big: {file: F}}`).
Each command runs PC_BENCH_RUNS times (3), interleaved by bench/spawn.c, run
itself inside the namespace; the median wall time is shown with the peak
resident memory, and diff's and show's against the bare dump's (issue 14:
at most 1.2x for the large set) by wall time and by CPU time (user and
system, the median of each).  The kernel walks a set from its start again
for every dump message, so reading a large set back is quadratic in it
whatever the program; larger dump messages are the lever.

Sizes: PC_BENCH_READBACK_SIZES, the rules of the first policy and the
addresses of the other two ("50000 200000").

usage: bench/readback.py [BUILD_DIR]   (as root; meson compile -C BUILD_DIR
       pc-bench-spawn pc-bench-dump first)
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import render  # noqa: E402  (write_policy, write_list_policy, spawn_full, fmt, ratio)

SIZES = [int(x) for x in os.environ.get("PC_BENCH_READBACK_SIZES", "50000 200000").split()]


def share(a, b, cpu=False):
    """a / b by wall time (or CPU time), or None when either failed."""
    if a is None or b is None or a[0] is None or b[0] is None:
        return None
    return a[2] / max(b[2], 1e-6) if cpu else a[0] / max(b[0], 1e-6)


def measure(build):
    """[(label, form, {command: (median s, peak KiB, CPU s)})] for each policy,
    or None when the tools are missing."""
    if os.getuid() != 0 or not shutil.which("nft") or not shutil.which("ip"):
        print("bench/readback.py: needs root, nft and ip (a network namespace)",
              file=sys.stderr)
        return None
    pc = os.path.abspath(os.path.join(build, "portcullis"))
    dump = os.path.abspath(os.path.join(build, "pc-bench-dump"))
    nft, ip = shutil.which("nft"), shutil.which("ip")
    rules, addresses = SIZES
    ns = "pc-bench-readback-%d" % os.getpid()
    inns = [ip, "netns", "exec", ns]
    rows = []
    for label, form, n, count in (("%d rules" % rules, "YAML", rules, 0),
                                  ("%d addresses, 10 rules" % addresses, "YAML", 10, addresses),
                                  ("%d addresses, 10 rules" % addresses, "list file", 10,
                                   addresses)):
        d = tempfile.mkdtemp(prefix="pc-bench-")
        if form == "list file":
            pol = render.write_list_policy(d, n, count)[0]
        else:
            render.write_policy(d, n, count)
            pol = os.path.join(d, "gen.yaml")
        subprocess.run([ip, "netns", "add", ns], check=True)
        try:
            subprocess.run(inns + [ip, "link", "set", "lo", "up"], check=True)
            subprocess.run(inns + [pc, "apply", pol], check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            res = render.spawn_full(build, [
                ("apply", [pc, "apply", pol]),
                ("diff", [pc, "diff", pol]),
                ("show", [pc, "show"]),
                ("nft", [nft, "list", "table", "inet", "portcullis"]),
                ("dump", [dump, "portcullis"]),
            ], prefix=inns)
        finally:
            subprocess.run([ip, "netns", "del", ns], check=False)
            shutil.rmtree(d)
        rows.append((label, form, res))
        print("done: %s, %s" % (label, form), file=sys.stderr)
    return rows


def cell(x):
    return "-" if x is None else "%.2fx" % x


def report(rows):
    print("reading back: median of %d runs, interleaved, and peak RSS; %d cores, %s" % (
        render.RUNS, os.cpu_count(), os.uname().release))
    print("| policy | form | apply | RSS | diff | RSS | diff/apply | show | RSS "
          "| nft list table | RSS | bare dump | RSS | diff/dump | diff/dump CPU "
          "| show/dump | show/dump CPU |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for label, form, r in rows:
        two = {k: v[:2] for k, v in r.items()}
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s "
              "| %s | %s |" % (
                  label, form, *render.fmt(two["apply"]), *render.fmt(two["diff"]),
                  render.ratio(two["apply"], two["diff"]), *render.fmt(two["show"]),
                  *render.fmt(two["nft"]), *render.fmt(two["dump"]),
                  cell(share(r["diff"], r["dump"])), cell(share(r["diff"], r["dump"], True)),
                  cell(share(r["show"], r["dump"])), cell(share(r["show"], r["dump"], True))))


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    rows = measure(build)
    if rows is None:
        return 2
    report(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
