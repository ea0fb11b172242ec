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

Then the same change as users make it to a large network, whose addresses
are in a list file (`networks: {big: {file: list.txt}}`): one line appended
to the file, then removed again (the file cut back to its size), and apply
run; for hosts (a hash set) and for prefixes (10.0.0.0/30, 10.0.0.8/30, ...:
an interval set, which nft -f reads back whole before it changes it, so its
nft -f runs only up to PC_BENCH_DELTA_NFT_INTERVAL_MAX addresses, 1000000:
at 1 000 000 it takes about 80 s and 1.3 GB a run).
PC_BENCH_DELTA_FORMS picks some of yaml-hosts, list-hosts, list-prefixes.
The YAML rows stop at 990 000 addresses (a policy holds at most 1 000 000
YAML values).

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

# Of this run's own (several runs may share a machine).
NS_PC, NS_NFT = "pc-bench-delta-%d" % os.getpid(), "pc-bench-delta-nft-%d" % os.getpid()
YAML_MAX = 990000
NFT_INTERVAL_MAX = int(os.environ.get("PC_BENCH_DELTA_NFT_INTERVAL_MAX", "1000000"))
# The forms measured: (written as, kind); the first is the YAML of bench/render.py.
# PC_BENCH_DELTA_FORMS picks some: yaml-hosts list-hosts list-prefixes.
FORMS = [("YAML", "hosts"), ("list file", "hosts"), ("list file", "prefixes")]
if os.environ.get("PC_BENCH_DELTA_FORMS"):
    FORMS = [f for f in FORMS if "%s-%s" % ("yaml" if f[0] == "YAML" else "list", f[1])
             in os.environ["PC_BENCH_DELTA_FORMS"].split()]


def one(build, n, form, kind):
    """Measures one size and form; returns (results, what the delta sent)."""
    pc = os.path.abspath(os.path.join(build, "portcullis"))
    nft, ip = shutil.which("nft"), shutil.which("ip")
    quiet = ["/bin/sh", "-c", '"$0" "$@" >/dev/null 2>&1']
    d = tempfile.mkdtemp(prefix="pc-delta-")
    extra = "10.200.0.1" if kind == "hosts" else "10.200.0.0/30"
    if form == "YAML":
        render.write_policy(d, 10, n)
        base = os.path.join(d, "gen.yaml")
        plus = os.path.join(d, "plus.yaml")
        with open(base) as f:
            text = f.read()
        with open(plus, "w") as f:
            f.write(text.replace("  big: [", "  big: [%s, " % extra, 1))
    else:
        base, lst = render.write_list_policy(d, 10, n, kind)
        size = str(os.path.getsize(lst))
    with open(os.path.join(d, "add.nft"), "w") as f:
        f.write("add element inet portcullis n_big_v4 { %s }\n" % extra)
    with open(os.path.join(d, "del.nft"), "w") as f:
        f.write("delete element inet portcullis n_big_v4 { %s }\n" % extra)
    state = tempfile.mkdtemp(prefix="pc-delta-state-", dir=render.STATE_PARENT)
    env = dict(os.environ, PORTCULLIS_STATE_DIR=state)
    ns_made = []
    # what the caller's later commands see, put back at the end: they must
    # not make this directory again once it is removed
    before = os.environ.get("PORTCULLIS_STATE_DIR")
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
        # sh -c EDIT MARKER LIST SIZE LINE CMD...: the line appended to the list
        # file, or the file cut back to SIZE (the line removed), then CMD.
        edit = ["/bin/sh", "-c", 'm=$1 f=$2 size=$3 line=$4; shift 4; '
                'if [ -e "$m" ]; then rm "$m"; truncate -s "$size" "$f"; '
                'else : >"$m"; printf "%s\\n" "$line" >>"$f"; fi; "$@" >/dev/null 2>&1', "sh"]
        if form == "YAML":
            cmds = [("delta", tog + [pm, base, plus] + inpc + [pc, "apply"]),
                    ("full", same + [pm, base, plus] + inpc + [pc, "apply", "--full"]),
                    ("render", quiet + [pc, "render", "-o", os.devnull, plus])]
        else:
            cmds = [("delta", edit + [pm, lst, size, extra] + inpc + [pc, "apply", base]),
                    ("full", quiet + inpc + [pc, "apply", "--full", base]),
                    ("render", quiet + [pc, "render", "-o", os.devnull, base])]
        if kind == "hosts" or n <= NFT_INTERVAL_MAX:
            cmds.append(("nft", tog + [nm, os.path.join(d, "del.nft"),
                                       os.path.join(d, "add.nft")] + innft + [nft, "-f"]))
        res = render.spawn(build, cmds)
        res.setdefault("nft", (None, "not run"))
        # What a delta sends, for the table.
        if form == "YAML":
            target = base if os.path.exists(pm) else plus
        else:
            if os.path.exists(pm):
                os.truncate(lst, int(size))
            else:
                with open(lst, "a") as f:
                    f.write(extra + "\n")
            target = base
        out = subprocess.run(inpc + [pc, "apply", target],
                             capture_output=True, text=True, env=env).stdout.strip()
    finally:
        if before is None:
            os.environ.pop("PORTCULLIS_STATE_DIR", None)
        else:
            os.environ["PORTCULLIS_STATE_DIR"] = before
        for ns in ns_made:
            subprocess.run([ip, "netns", "del", ns], check=False)
        shutil.rmtree(d, ignore_errors=True)
        shutil.rmtree(state, ignore_errors=True)
    return res, out


def measure(build, sizes, forms=None):
    """Runs each form at each size; returns [(n, written as, kind, results,
    what a delta sent)], or None when this cannot run here."""
    if os.getuid() != 0 or not shutil.which("nft") or not shutil.which("ip"):
        print("bench/delta.py: needs root, nft and ip (network namespaces)")
        return None
    rows = []
    for form, kind in forms or FORMS:
        for n in sizes:
            if form == "YAML" and n > YAML_MAX:
                continue
            res, out = one(build, n, form, kind)
            rows.append((n, form, kind, res, out))
            print("done: %d addresses, %s, %s" % (n, form, kind), file=sys.stderr)
    return rows


def report(rows):
    print("one-address delta: median of %d runs, interleaved, and peak RSS; %d cores, %s" % (
        render.RUNS, os.cpu_count(), os.uname().release))
    yaml = [r for r in rows if r[1] == "YAML"]
    if yaml:
        print("| addresses | delta | RSS | full replace | RSS | full/delta | nft -f | RSS "
              "| nft/delta | render | delta/render |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for n, _, _, r, _ in yaml:
            print("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                n, *render.fmt(r["delta"]), *render.fmt(r["full"]),
                render.ratio(r["delta"], r["full"]), *render.fmt(r["nft"]),
                render.ratio(r["delta"], r["nft"]), render.fmt(r["render"])[0],
                render.ratio(r["render"], r["delta"])))
        for n, _, _, _, out in yaml:
            print("%d: %s" % (n, out))
    listed = [r for r in rows if r[1] != "YAML"]
    if listed:
        print()
        print("the network in a list file, one line appended then removed:")
        print("| addresses | set | delta | RSS | full replace | RSS | full/delta | nft -f | RSS "
              "| nft/delta | render | delta/render |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for n, _, kind, r, _ in listed:
            print("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                n, "hash (hosts)" if kind == "hosts" else "interval (prefixes)",
                *render.fmt(r["delta"]), *render.fmt(r["full"]),
                render.ratio(r["delta"], r["full"]), *render.fmt(r["nft"]),
                render.ratio(r["delta"], r["nft"]), render.fmt(r["render"])[0],
                render.ratio(r["render"], r["delta"])))
        for n, _, kind, _, out in listed:
            print("%d %s, list file: %s" % (n, kind, out))


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    sizes = [int(a) for a in sys.argv[2:]] or [200000, 1000000]
    rows = measure(build, sizes)
    if rows is not None:
        report(rows)


if __name__ == "__main__":
    main()
