#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The fixed memory and time every command pays, side by side in one run:
a C program that does nothing (pc-minimal), `portcullis --version`, `check`
and `apply` of a one-host policy, `check` of it naming a service no layer
knows (the did-you-mean search), the floor of one host (bench/floor.c),
and apply of 10 000 hosts and 10 000 prefixes (YAML and list file) against
their floor, all in rounds (PC_BENCH_RUNS, 9) of one process each, in a
shuffled order (pc-bench-spawn), each apply and floor in a fresh network
namespace (PC_BENCH_FIXEDMEM_SIZE changes the 10 000).  With a second build
directory (BASE_BUILD: the tree before a change, built apart), its
portcullis runs in the same rounds, each row beside the first.  Prints per row the median peak RSS and its spread (least
and most), the median time, and the ratios apply/floor and X/minimal.

usage: bench/fixedmem.py BUILD_DIR [BASE_BUILD_DIR]   (as root)
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import apply as bench_apply  # noqa: E402  (write_policy)
import render  # noqa: E402  (FRESH)

RUNS = int(os.environ.get("PC_BENCH_RUNS", "9"))
N = int(os.environ.get("PC_BENCH_FIXEDMEM_SIZE", "10000"))


# pc-bench-spawn runs at most this many commands at once.
SPAWN_MAX = 16


def rounds(spawn, cmds):
    """{label: ([peak KiB], [seconds])} over RUNS rounds of one process each
    (a round of more commands than pc-bench-spawn takes is run in parts, in
    an order that alternates from round to round)."""
    res = {label: ([], []) for label, _ in cmds}
    k = -(-len(cmds) // SPAWN_MAX)
    parts = [cmds[i::k] for i in range(k)]
    for r in range(RUNS):
        for part in (parts if r % 2 == 0 else parts[::-1]):
            argv = [spawn, "1"]
            for label, cmd in part:
                argv += ["--", label] + cmd
            out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
            for line in out.splitlines():
                f = line.split("\t")  # label, median, ..., maxrss, failures, [more]
                label, median, rss, failures = f[0], f[1], f[5], f[6]
                # a policy naming an unknown service fails check, as it must
                if int(failures) == 0 or "unknown" in label:
                    res[label][0].append(int(rss))
                    res[label][1].append(int(median) / 1e6)
    return res


def main():
    if len(sys.argv) not in (2, 3):
        print("usage: bench/fixedmem.py BUILD_DIR [BASE_BUILD_DIR]   (as root)", file=sys.stderr)
        return 2
    builds = [("", sys.argv[1])] + ([("main ", sys.argv[2])] if len(sys.argv) == 3 else [])
    build = sys.argv[1]
    unshare = shutil.which("unshare")
    spawn = os.path.abspath(os.path.join(build, "pc-bench-spawn"))
    floor = os.path.abspath(os.path.join(build, "pc-bench-floor"))
    minimal = os.path.abspath(os.path.join(build, "tests", "pc-minimal"))
    for prog in [spawn, floor, minimal] + [os.path.join(b, "portcullis") for _, b in builds]:
        if not os.access(prog, os.X_OK):
            print("bench/fixedmem.py: no %s (meson compile -C %s pc-bench-spawn "
                  "pc-bench-floor tests/pc-minimal)" % (prog, build), file=sys.stderr)
            return 2
    if os.getuid() != 0 or not unshare or \
            subprocess.run([unshare, "-n", "true"], check=False).returncode != 0:
        print("bench/fixedmem.py: needs root and network namespaces (unshare -n)",
              file=sys.stderr)
        return 2
    os.environ.pop("SSH_CONNECTION", None)
    os.environ.pop("MALLOC_PERTURB_", None)
    quiet = ["/bin/sh", "-c", '"$0" "$@" >/dev/null 2>&1']
    d = tempfile.mkdtemp(prefix="pc-bench-")
    try:
        one = os.path.join(d, "one.yaml")
        bench_apply.write_policy(one, 1, "hosts")
        unknown = os.path.join(d, "unknown.yaml")
        with open(one) as f, open(unknown, "w") as g:
            g.write(f.read().replace("allow: 88/tcp", "allow: kerbros"))
        pols = {}
        for kind in ("hosts", "prefixes"):
            for form in ("YAML", "list file"):
                p = os.path.join(d, "%s-%s.yaml" % (kind, "list" if form != "YAML" else "yaml"))
                bench_apply.write_policy(p, N, kind, listfile=form != "YAML")
                pols[(kind, form)] = p
        cmds = [("minimal", [minimal]),
                ("floor 1", quiet + [unshare, "-n", floor, "1", "hosts"])]
        for kind in ("hosts", "prefixes"):
            cmds.append(("floor %d %s" % (N, kind), quiet + [unshare, "-n", floor, str(N), kind]))
        for tag, b in builds:
            pc = os.path.abspath(os.path.join(b, "portcullis"))
            cmds += [(tag + "--version", [pc, "--version"]),
                     (tag + "check 1", [pc, "check", one]),
                     (tag + "check 1, an unknown name", [pc, "check", unknown]),
                     (tag + "apply 1", render.FRESH + [unshare, "-n", pc, "apply", one])]
            for (kind, form), p in pols.items():
                cmds.append(("%sapply %d %s, %s" % (tag, N, kind, form),
                             render.FRESH + [unshare, "-n", pc, "apply", p]))
        res = rounds(spawn, cmds)
    finally:
        shutil.rmtree(d, ignore_errors=True)

    def med(label, i=0):
        v = res[label][i]
        return statistics.median(v) if v else None

    base = med("minimal")
    print("%d rounds, one process of each a round, shuffled" % RUNS)
    print()
    print("| command | peak RSS (median) | least-most | / minimal | time (median) | / floor (RSS) "
          "| / floor (time) |")
    print("|---|---|---|---|---|---|---|")
    for label, _ in cmds:
        v = res[label][0]
        if not v:
            print("| %s | failed | | | | | |" % label)
            continue
        m, t = med(label), med(label, 1)
        fl = None
        if label.endswith("apply 1"):
            fl = "floor 1"
        elif "apply" in label:
            fl = "floor %d %s" % (N, "hosts" if "hosts" in label else "prefixes")
        rf = "%.2fx" % (m / med(fl)) if fl and med(fl) else ""
        tf = "%.2fx" % (t / med(fl, 1)) if fl and med(fl, 1) else ""
        print("| %s | %.2f MiB | %.2f-%.2f | %.2fx | %.2f ms | %s | %s |" % (
            label, m / 1024, min(v) / 1024, max(v) / 1024, m / base, t * 1000, rf, tf))
    return 0


if __name__ == "__main__":
    sys.exit(main())
