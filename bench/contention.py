#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Applying while another program commits: how often `portcullis apply` of the
50 000-rule benchmark policy (bench/render.py's generator) gets through when
another program commits to the ruleset every X ms.

Everything runs in a network namespace made for it (unshare -n): the other
program is a thread of this script that adds and deletes `table inet other`
in turn, one netlink transaction every X ms (0: as fast as it can), each
one a commit, which moves the generation on; `apply` runs PC_BENCH_APPLIES times
(8) per interval, and the table shows how many succeeded, the commits the
other program made per second (counted by the generation), and the median
time of an apply.

usage: bench/contention.py [BUILD_DIR] [MS...]   (as root)
"""
import os
import re
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import render  # noqa: E402  (the policy generator)

APPLIES = int(os.environ.get("PC_BENCH_APPLIES", "8"))
INTERVALS = [100, 50, 20, 10, 5, 2, 1, 0]
RULES = 50000


def generation(pc, probe):
    out = subprocess.run([pc, "check", "--kernel", "--table", "probe", probe],
                         capture_output=True, text=True, check=True).stdout
    return int(re.search(r"generation (\d+)", out).group(1))


def nlmsg(mtype, flags, seq, family, attrs=b""):
    """One nfnetlink message: header, nfgenmsg, attributes."""
    body = struct.pack("=BBH", family, 0, socket.htons(10)) + attrs  # NFNL_SUBSYS_NFTABLES
    msg = struct.pack("=IHHII", 16 + len(body), mtype, flags, seq, 0) + body
    return msg + b"\0" * (-len(msg) % 4)


def table_batch(seq, add):
    name = b"other\0"
    attr = struct.pack("=HH", 4 + len(name), 1) + name  # NFTA_TABLE_NAME
    attr += b"\0" * (-len(attr) % 4)
    request, create = 1, 0x400
    return (nlmsg(0x10, request, seq, 0)  # NFNL_MSG_BATCH_BEGIN
            + nlmsg(10 << 8 | (0 if add else 2), request | (create if add else 0), seq + 1,
                    1, attr)  # NFT_MSG_NEWTABLE / DELTABLE, NFPROTO_INET
            + nlmsg(0x11, request, seq + 2, 0))  # NFNL_MSG_BATCH_END


def committer(ms, stop, count):
    """Adds and deletes table inet other in turn, a transaction every `ms`
    (0: as fast as it can), straight over netlink."""
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)  # NETLINK_NETFILTER
    s.setblocking(False)
    nxt, seq = time.monotonic(), 1
    while not stop.is_set():
        s.send(table_batch(seq, count[0] % 2 == 0))
        seq += 3
        count[0] += 1
        try:
            while s.recv(65536):
                pass
        except (BlockingIOError, OSError):
            pass
        if ms:
            nxt += ms / 1000
            time.sleep(max(0.0, nxt - time.monotonic()))
    s.close()


def inner(build, intervals):
    pc = os.path.abspath(os.path.join(build, "portcullis"))
    d = tempfile.mkdtemp(prefix="pc-bench-")
    render.write_policy(d, RULES)
    policy = os.path.join(d, "gen.yaml")
    probe = os.path.join(d, "probe.yaml")
    with open(probe, "w") as f:
        f.write("version: 1\npolicy: probe\nrules:\n  - allow: 22/tcp\n")
    print("%d applies of the %d-rule policy per interval; %d cores, %s" % (
        APPLIES, RULES, os.cpu_count(), os.uname().release))
    print("| other program commits every | commits/s (measured) | applies that succeeded "
          "| median apply |")
    print("|---|---|---|---|")
    for ms in [None] + intervals:
        stop = threading.Event()
        t = None
        if ms is not None:
            t = threading.Thread(target=committer, args=(ms, stop, [0]))
            t.start()
            time.sleep(0.3)
        g0, t0 = generation(pc, probe), time.monotonic()
        ok, times = 0, []
        for _ in range(APPLIES):
            s = time.monotonic()
            r = subprocess.run([pc, "apply", policy], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=120)
            times.append(time.monotonic() - s)
            ok += r.returncode == 0
        g1, t1 = generation(pc, probe), time.monotonic()
        stop.set()
        if t:
            t.join()
        rate = (g1 - g0 - ok) / (t1 - t0)
        print("| %s | %.0f | %d of %d | %.2f s |" % (
            "never" if ms is None else "%d ms" % ms if ms else "0 ms (as fast as it can)", max(rate, 0), ok, APPLIES,
            statistics.median(times)), flush=True)
    shutil.rmtree(d)


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    intervals = [int(x) for x in sys.argv[2:]] or INTERVALS
    if os.environ.get("PC_BENCH_NETNS") == "1":
        inner(build, intervals)
        return
    if os.getuid() != 0 or not shutil.which("nft") or not shutil.which("unshare"):
        print("contention: needs root, nft and unshare; skipped")
        return
    env = dict(os.environ, PC_BENCH_NETNS="1")
    subprocess.run(["unshare", "-n", sys.executable, os.path.abspath(__file__), build]
                   + [str(x) for x in intervals], env=env, check=True)


if __name__ == "__main__":
    main()
