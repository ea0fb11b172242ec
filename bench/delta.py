#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A one-address change to a large table, side by side in one run: `portcullis
apply` sending it as a delta of the last apply, `apply --full` replacing the
whole table, and `nft -f` of the same change as a two-line script (`add
element` to add the address, `delete element` to take it away), each in a
network namespace made for the run (ip netns): one for portcullis, one for
nft, both loaded by apply first.

The policy is one network of N IPv4 addresses that 10 rules use (as
bench/render.py makes it); the change adds one address to it, or takes it
away again (each command toggles it, whatever ran before), so every run of
apply is a one-address delta and every run of nft -f a two-line script of
one `add element` or `delete element`.  Each command runs PC_BENCH_RUNS times
(3), interleaved by bench/spawn.c; the median is shown with the peak
resident memory, and the ratios of the replace and of nft -f to the delta;
and `render` of the same policy, which reads, resolves and lowers it as
apply does before any delta is worked out: the floor of a delta from a
policy file.

usage: bench/delta.py [BUILD_DIR] [N...]   (as root; N: 200000 1000000)
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import render  # noqa: E402  (write_policy, spawn, fmt, ratio)

NS_PC, NS_NFT = "pc-bench-delta", "pc-bench-delta-nft"


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    sizes = [int(a) for a in sys.argv[2:]] or [200000, 1000000]
    if os.getuid() != 0 or not shutil.which("nft") or not shutil.which("ip"):
        print("bench/delta.py: needs root, nft and ip (network namespaces)")
        return
    pc = os.path.abspath(os.path.join(build, "portcullis"))
    nft, ip = shutil.which("nft"), shutil.which("ip")
    quiet = ["/bin/sh", "-c", '"$0" "$@" >/dev/null 2>&1']
    rows = []
    for n in sizes:
        d = tempfile.mkdtemp(prefix="pc-delta-")
        render.write_policy(d, 10, n)
        base = os.path.join(d, "gen.yaml")
        plus = os.path.join(d, "plus.yaml")
        extra = "10.200.0.1"
        with open(base) as f:
            text = f.read()
        with open(plus, "w") as f:
            f.write(text.replace("  big: [", "  big: [%s, " % extra, 1))
        with open(os.path.join(d, "add.nft"), "w") as f:
            f.write("add element inet portcullis n_big_v4 { %s }\n" % extra)
        with open(os.path.join(d, "del.nft"), "w") as f:
            f.write("delete element inet portcullis n_big_v4 { %s }\n" % extra)
        state = os.path.join(d, "state")
        os.mkdir(state, 0o700)
        env = dict(os.environ, PORTCULLIS_STATE_DIR=state)
        ns_made = []
        try:
            for ns in (NS_PC, NS_NFT):
                subprocess.run([ip, "netns", "add", ns], check=True)
                ns_made.append(ns)
                subprocess.run([ip, "netns", "exec", ns, ip, "link", "set", "lo", "up"],
                               check=True)
                subprocess.run([ip, "netns", "exec", ns, pc, "apply", base], check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
            inpc = [ip, "netns", "exec", NS_PC]
            innft = [ip, "netns", "exec", NS_NFT]
            # pc-bench-spawn shuffles the commands of each round: each command
            # toggles the address (a marker file says whether it is in), so
            # every run is a one-address change whatever ran before it.
            os.environ["PORTCULLIS_STATE_DIR"] = state
            pm, nm = os.path.join(d, "pc.in"), os.path.join(d, "nft.in")
            # sh -c TOGGLE MARKER OFF ON CMD...: CMD OFF or CMD ON, by the marker.
            tog = ["/bin/sh", "-c", 'm=$1 off=$2 on=$3; shift 3; '
                   'if [ -e "$m" ]; then rm "$m"; "$@" "$off"; else : >"$m"; "$@" "$on"; fi '
                   '>/dev/null 2>&1', "sh"]
            # sh -c SAME MARKER OFF ON CMD...: CMD of what is in now (the table unchanged).
            same = ["/bin/sh", "-c", 'm=$1 off=$2 on=$3; shift 3; '
                    'if [ -e "$m" ]; then "$@" "$on"; else "$@" "$off"; fi >/dev/null 2>&1',
                    "sh"]
            res = render.spawn(build, [
                ("delta", tog + [pm, base, plus] + inpc + [pc, "apply"]),
                ("full", same + [pm, base, plus] + inpc + [pc, "apply", "--full"]),
                ("render", quiet + [pc, "render", "-o", os.devnull, plus]),
                ("nft", tog + [nm, os.path.join(d, "del.nft"), os.path.join(d, "add.nft")] +
                 innft + [nft, "-f"]),
            ])
            # What a delta sends, for the table.
            out = subprocess.run(inpc + [pc, "apply", base if os.path.exists(pm) else plus],
                                 capture_output=True, text=True, env=env).stdout.strip()
        finally:
            for ns in ns_made:
                subprocess.run([ip, "netns", "del", ns], check=False)
            shutil.rmtree(d, ignore_errors=True)
        rows.append((n, res, out))
        print("done: %d addresses" % n, file=sys.stderr)

    print("one-address delta: median of %d runs, interleaved, and peak RSS; %d cores, %s" % (
        render.RUNS, os.cpu_count(), os.uname().release))
    print("| addresses | delta | RSS | full replace | RSS | full/delta | nft -f | RSS "
          "| nft/delta | render | delta/render |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for n, r, _ in rows:
        print("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            n, *render.fmt(r["delta"]), *render.fmt(r["full"]),
            render.ratio(r["delta"], r["full"]), *render.fmt(r["nft"]),
            render.ratio(r["delta"], r["nft"]), render.fmt(r["render"])[0],
            render.ratio(r["render"], r["delta"])))
    for n, _, out in rows:
        print("%d: %s" % (n, out))


if __name__ == "__main__":
    main()
