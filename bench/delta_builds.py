#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A one-address change to a large list-file network, by two builds side by
side in one run: for each build, in a network namespace of its own (ip netns)
loaded by its apply first, one line appended to the list file and `apply`
run (a delta that adds the address), the line taken away and `apply` run
again (a delta that deletes it), then `apply --full` (the whole table
replaced) and an `apply` after it (its record read again, not timed).  The
builds take turns, round after round, so that what else the machine does
weighs on both alike; each command is `ip netns exec NS BUILD/portcullis
apply ...`, as bench/delta.py runs it, timed by the wall clock and by the
CPU time of the process (user and system).

Adds and deletes are shown apart: a delete's commit leaves the kernel
elements to free after an RCU grace period, which it waits for when the
transaction's netlink socket is closed (`nft -f` of a one-element delete
waits as long), so a delete's time is the kernel's as much as apply's.

The policy is bench/render.py's list-file policy: N addresses (hosts, a hash
set; or prefixes, an interval set: PC_BENCH_DELTA_KIND) that 10 rules use.
Each build's records are kept apart: the two may write them in different
formats.  PC_BENCH_RUNS rounds (3).

usage: bench/delta_builds.py OLD_BUILD NEW_BUILD [N]   (as root; N: 200000)
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import render  # noqa: E402  (write_list_policy, RUNS, STATE_PARENT)


def run(ns, pc, env, *args):
    """`ip netns exec NS PC ARGS...`: (wall ms, CPU ms); None when it failed."""
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            fd = os.open(os.devnull, os.O_WRONLY)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.execve(shutil.which("ip"), ["ip", "netns", "exec", ns, pc] + list(args), env)
        finally:
            os._exit(127)
    _, st, ru = os.wait4(pid, 0)
    wall = (time.monotonic() - t0) * 1e3
    if os.waitstatus_to_exitcode(st) != 0:
        return None
    return wall, (ru.ru_utime + ru.ru_stime) * 1e3


def measure(builds, n, kind):
    """{(index of the build, what): [(wall, cpu)...]}, what: add, delete, full."""
    d = tempfile.mkdtemp(prefix="pc-delta-builds-")
    pol, lst = render.write_list_policy(d, 10, n, kind)
    size = os.path.getsize(lst)
    extra = "10.200.0.1" if kind == "hosts" else "10.200.0.0/30"
    made, states = [], []
    res = {(i, w): [] for i in range(len(builds)) for w in ("add", "delete", "full")}
    try:
        envs = {}
        for i in range(len(builds)):
            ns = "pc-bench-builds-%d-%d" % (os.getpid(), i)
            subprocess.run(["ip", "netns", "add", ns], check=True)
            made.append(ns)
            subprocess.run(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"],
                           check=True)
            state = tempfile.mkdtemp(prefix="pc-delta-builds-state-", dir=render.STATE_PARENT)
            states.append(state)
            envs[i] = (ns, dict(os.environ, PORTCULLIS_STATE_DIR=state))
        pcs = [os.path.abspath(os.path.join(b, "portcullis")) for b in builds]
        order = list(range(len(builds)))
        for b in order:
            run(envs[b][0], pcs[b], envs[b][1], "apply", "--full", pol)
        for r in range(render.RUNS):
            for b in (order if r % 2 == 0 else order[::-1]):
                ns, env = envs[b]
                with open(lst, "a") as f:
                    f.write(extra + "\n")
                res[(b, "add")].append(run(ns, pcs[b], env, "apply", pol))
                os.truncate(lst, size)
                res[(b, "delete")].append(run(ns, pcs[b], env, "apply", pol))
                res[(b, "full")].append(run(ns, pcs[b], env, "apply", "--full", pol))
                run(ns, pcs[b], env, "apply", pol)
        # What an add sent, for the table: a delta, not a replace.
        for b in order:
            ns, env = envs[b]
            with open(lst, "a") as f:
                f.write(extra + "\n")
            out = subprocess.run(["ip", "netns", "exec", ns, pcs[b], "apply", pol], env=env,
                                 capture_output=True, text=True).stdout.strip()
            res[(b, "said")] = out
            os.truncate(lst, size)
    finally:
        for ns in made:
            subprocess.run(["ip", "netns", "del", ns], check=False)
        for s in states:
            shutil.rmtree(s, ignore_errors=True)
        shutil.rmtree(d, ignore_errors=True)
    return res


def med(v, i):
    return None if not v or None in v else statistics.median(x[i] for x in v)


def ms(v):
    return "failed" if v is None else "%.1f ms" % v


def report(builds, n, kind, res):
    print("one-address delta, %d %s in a list file, two builds in turn: median of %d rounds; "
          "%d cores, %s" % (n, kind, render.RUNS, os.cpu_count(), os.uname().release))
    print("| build | add | CPU | delete | CPU | full replace | CPU | full/add | full/delete |")
    print("|---|---|---|---|---|---|---|---|---|")
    for i, (name, b) in enumerate(zip(("old", "new"), builds)):
        a, dl, f = (res[(i, w)] for w in ("add", "delete", "full"))
        ratio = (lambda x, y: "-" if x is None or y is None else "%.1fx" % (x / y))
        print("| %s (%s) | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            name, b, ms(med(a, 0)), ms(med(a, 1)), ms(med(dl, 0)), ms(med(dl, 1)),
            ms(med(f, 0)), ms(med(f, 1)), ratio(med(f, 0), med(a, 0)),
            ratio(med(f, 0), med(dl, 0))))
    for i, name in enumerate(("old", "new")):
        print("%s, an add: %s" % (name, res.get((i, "said"), "")))


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: bench/delta_builds.py OLD_BUILD NEW_BUILD [N]")
    if os.getuid() != 0 or not shutil.which("ip"):
        print("bench/delta_builds.py: needs root and ip (network namespaces)")
        return
    builds = sys.argv[1:3]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 200000
    kind = os.environ.get("PC_BENCH_DELTA_KIND", "hosts")
    report(builds, n, kind, measure(builds, n, kind))


if __name__ == "__main__":
    main()
