#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Reading the live table back, side by side in one run: `portcullis diff` and
`portcullis show` against `apply` of the same policy, `nft list table`, and a
bare netlink dump of the same table (bench/dump.c: the same requests, answers
only counted), all in one network namespace made for the run (ip netns), the
table loaded by apply first.

Two policies, made as bench/render.py makes them: 50 000 rules (a port and a
network each), and one network of 200 000 IPv4 addresses that 10 rules use.
Each command runs PC_BENCH_RUNS times (3), interleaved by bench/spawn.c; the
median is shown with the peak resident memory.  The kernel walks a set from
its start again for every dump message, so reading a large set back is
quadratic in it whatever the program; larger dump messages are the lever.

usage: bench/readback.py [BUILD_DIR]   (as root)
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import render  # noqa: E402  (write_policy, spawn, fmt, ratio)

NS = "pc-bench-readback"


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    if os.getuid() != 0 or not shutil.which("nft") or not shutil.which("ip"):
        print("bench/readback.py: needs root, nft and ip (a network namespace)")
        return
    pc = os.path.abspath(os.path.join(build, "portcullis"))
    dump = os.path.abspath(os.path.join(build, "pc-bench-dump"))
    nft, ip = shutil.which("nft"), shutil.which("ip")
    inns = [ip, "netns", "exec", NS]
    quiet = ["/bin/sh", "-c", '"$0" "$@" >/dev/null 2>&1; [ $? -le 1 ]']
    rows = []
    for n, addresses in ((50000, 0), (10, 200000)):
        d = tempfile.mkdtemp(prefix="pc-bench-")
        render.write_policy(d, n, addresses)
        pol = os.path.join(d, "gen.yaml")
        label = "%d rules" % n if not addresses else "%d addresses, %d rules" % (addresses, n)
        subprocess.run([ip, "netns", "add", NS], check=True)
        try:
            subprocess.run(inns + [ip, "link", "set", "lo", "up"], check=True)
            subprocess.run(inns + [pc, "apply", pol], check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            res = render.spawn(build, [
                ("apply", quiet + inns + [pc, "apply", pol]),
                ("diff", quiet + inns + [pc, "diff", pol]),
                ("show", quiet + inns + [pc, "show"]),
                ("nft", quiet + inns + [nft, "list", "table", "inet", "portcullis"]),
                ("dump", quiet + inns + [dump, "portcullis"]),
            ])
        finally:
            subprocess.run([ip, "netns", "del", NS], check=False)
            shutil.rmtree(d)
        rows.append((label, res))
        print("done: %s" % label, file=sys.stderr)

    print("reading back: median of %d runs, interleaved, and peak RSS; %d cores, %s" % (
        render.RUNS, os.cpu_count(), os.uname().release))
    print("| policy | apply | RSS | diff | RSS | diff/apply | show | RSS | show/dump "
          "| nft list table | RSS | bare dump | RSS |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for label, r in rows:
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            label, *render.fmt(r["apply"]), *render.fmt(r["diff"]),
            render.ratio(r["apply"], r["diff"]), *render.fmt(r["show"]),
            render.ratio(r["dump"], r["show"]), *render.fmt(r["nft"]),
            *render.fmt(r["dump"])))


if __name__ == "__main__":
    main()
