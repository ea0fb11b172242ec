#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Applying one large network, side by side in one run: `portcullis apply`,
the floor (bench/floor.c: the same table, set and elements as raw netlink
attributes in one sendmsg(), nothing else), the floor with apply's 256
elements a message, and `nft -f` of portcullis's rendering, each process in
a fresh network namespace of its own (unshare -n), interleaved by
bench/spawn.c (PC_BENCH_RUNS times, 3; the median and the peak RSS).

The policy: one network `big` of N addresses that one rule names, as the
floor builds it: hosts (10.0.0.1, 10.0.0.2, ...: a hash set) or prefixes
(10.0.0.0/30, 10.0.0.8/30, ...: an interval set).  Sizes in
PC_BENCH_APPLY_SIZES (10000 200000 1000000), kinds in PC_BENCH_APPLY_KINDS
(hosts prefixes).  Prints the ratios apply/floor (time and peak RSS) and
nft -f/apply; for hosts, also apply of the same hosts with one prefix added
(the network then is one interval set) against the hash set.  Above 900 000
addresses the policy takes them from a list file (`file:`); a build that
cannot read one says "policy not loaded" and measures the floor alone.
Then the same network written as users write a large one, in a list file
(`networks: {big: {file: gen.txt}}`), at every size, beside the YAML row:
apply, nft -f of its rendering, and the same ratios for both forms.
Both programs run from copies, as installed (render.installed()): a binary
the linker has just written reads about 1 MiB more peak RSS for minutes.
The hooks are warm (hooks_warm()): a namespace kept for the run holds a
table with the same base chains and conntrack rules, as on any host whose
firewall is loaded.  PC_BENCH_HOOKS=cold measures without it, each apply
and nft -f then paying for the first hooks on the machine.

usage: bench/apply.py [BUILD_DIR]   (as root)
"""
import atexit
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import render  # noqa: E402  (spawn, fmt, ratio)

SIZES = [int(x) for x in os.environ.get("PC_BENCH_APPLY_SIZES", "10000 200000 1000000").split()]
KINDS = os.environ.get("PC_BENCH_APPLY_KINDS", "hosts prefixes").split()


def bench_addresses(n, kind):
    """The addresses bench/floor.c sends for N and KIND, as the policy writes them."""
    return render.addresses(n, kind)


# A policy holds at most 1 000 000 YAML values: above this, the addresses go
# into a list file of the policy's name (`networks: {big: {file: gen.txt}}`).
YAML_MAX = 900000


def write_policy(path, n, kind, extra=(), listfile=False):
    """The policy of PATH: its network in the YAML up to YAML_MAX addresses,
    else (or with LISTFILE) in a list file beside it."""
    with open(path, "w") as f:
        f.write("version: 1\npolicy: gen\ndefaults:\n  icmp: none\n  loopback: none\n"
                "  established: accept\nnetworks:\n")
        if n > YAML_MAX or listfile:
            lst = os.path.splitext(path)[0] + ".txt"  # one per policy: gen.txt, mixed.txt
            with open(lst, "w") as g:
                g.write("\n".join(list(bench_addresses(n, kind)) + list(extra)) + "\n")
            f.write("  big: {file: %s}\n" % lst)
        else:
            f.write("  big: [%s]\n" % ", ".join(list(bench_addresses(n, kind)) + list(extra)))
        f.write("rules:\n  - allow: 88/tcp\n    from: big\n")


def times(a, b):
    """b against a as a factor (b / a), two decimals: the targets are 1.2x and 2x."""
    if a[0] is None or b[0] is None:
        return "-"
    return "%.2fx" % (b[0] / max(a[0], 1e-6))


def rss_times(a, b):
    if a[0] is None or b[0] is None:
        return "-"
    return "%.2fx" % (b[1] / max(a[1], 1))


def hooks_warm(pc, nft, unshare):
    """Netfilter's hooks sit behind static keys that the kernel patches into
    its code when the first hook of a kind is registered on the machine, and
    out again when the last goes (jump labels: every CPU stops while its text
    is rewritten).  In the fresh namespaces of this benchmark, on a host with
    no firewall loaded, every apply and every nft -f paid for that (3-4 ms on
    a virtual machine of 2 CPUs, the floor none, having no chain): no host
    that runs a firewall does.  This keeps a namespace for the rest of the
    run whose table has the base chains and conntrack rules of the policies
    measured (the rendering of a one-host one), and returns the process that
    holds it (None with PC_BENCH_HOOKS=cold, or when it cannot be made)."""
    if os.environ.get("PC_BENCH_HOOKS") == "cold":
        return None
    d = tempfile.mkdtemp(prefix="pc-bench-hooks-")
    try:
        pol, rendered = os.path.join(d, "one.yaml"), os.path.join(d, "one.nft")
        write_policy(pol, 1, "hosts")
        with open(rendered, "w") as f:
            if subprocess.run([pc, "render", pol], stdout=f, stderr=subprocess.DEVNULL,
                              check=False).returncode != 0:
                return None
        holder = subprocess.Popen([unshare, "-n", "/bin/sh", "-c",
                                   '"$0" -f "$1" && echo ready && exec sleep 86400',
                                   nft, rendered], stdout=subprocess.PIPE, text=True)
        if holder.stdout.readline().strip() != "ready":
            holder.wait()
            return None
        atexit.register(hooks_cold, holder)
        return holder
    finally:
        shutil.rmtree(d, ignore_errors=True)


def hooks_cold(holder):
    """The namespace of hooks_warm() let go (its process ended)."""
    if holder is not None and holder.poll() is None:
        holder.terminate()
        holder.wait()


def measure(build, kinds=None, sizes=None):
    """Runs the benchmark for each kind and size; returns [(kind, n, results)],
    results as render.spawn gives them (label: (median s, peak KiB)): floor,
    floor256, apply, nft, interval (the YAML form, or the list file above
    YAML_MAX), and "apply list", "nft list" (the list-file form), or None when
    this cannot run here (not root, no nft or unshare)."""
    unshare, nft = shutil.which("unshare"), shutil.which("nft")
    if os.getuid() != 0 or not unshare or not nft:
        print("bench/apply.py: needs root, nft and unshare (network namespaces)")
        return None
    if subprocess.run([unshare, "-n", "true"], check=False).returncode != 0:
        print("bench/apply.py: cannot make a network namespace (unshare -n)")
        return None
    os.environ.pop("SSH_CONNECTION", None)
    bindir = tempfile.mkdtemp(prefix="pc-bench-bin-")
    pc = render.installed(build, "portcullis", bindir)
    floor = render.installed(build, "pc-bench-floor", bindir)
    holder = hooks_warm(pc, nft, unshare)
    print("  hooks %s" % ("warm (a namespace holds a table's chains)" if holder else "cold"),
          file=sys.stderr)
    quiet = ["/bin/sh", "-c", '"$0" "$@" >/dev/null 2>&1']
    rows = []
    for kind in kinds or KINDS:
        for n in sizes or SIZES:
            d = tempfile.mkdtemp(prefix="pc-bench-")
            try:
                pol, rendered = os.path.join(d, "gen.yaml"), os.path.join(d, "gen.nft")
                write_policy(pol, n, kind)
                with open(rendered, "w") as f:
                    ok = subprocess.run([pc, "render", pol], stdout=f,
                                        stderr=subprocess.DEVNULL).returncode == 0
                cmds = [("floor", quiet + [unshare, "-n", floor, str(n), kind]),
                        ("floor256", quiet + [unshare, "-n", floor, str(n), kind, "256"])]
                if ok:
                    cmds += [("apply", render.FRESH + [unshare, "-n", pc, "apply", pol]),
                             ("nft", quiet + [unshare, "-n", nft, "-f", rendered])]
                if ok and kind == "hosts":
                    # The same hosts and one prefix: one interval set, as before hash sets.
                    mixed = os.path.join(d, "mixed.yaml")
                    write_policy(mixed, n, kind, ["10.255.255.0/30"])
                    cmds.append(("interval",
                                 render.FRESH + [unshare, "-n", pc, "apply", mixed]))
                listed = n <= YAML_MAX  # above it, apply and nft already are the list form
                if listed:
                    lpol, lrendered = os.path.join(d, "list.yaml"), os.path.join(d, "list.nft")
                    write_policy(lpol, n, kind, listfile=True)
                    with open(lrendered, "w") as f:
                        lok = subprocess.run([pc, "render", lpol], stdout=f,
                                             stderr=subprocess.DEVNULL).returncode == 0
                    if lok:
                        cmds += [("apply list",
                                  render.FRESH + [unshare, "-n", pc, "apply", lpol]),
                                 ("nft list", quiet + [unshare, "-n", nft, "-f", lrendered])]
                res = render.spawn(build, cmds)
                for label in ("apply", "nft", "interval"):
                    res.setdefault(label, (None, "policy not loaded"))
                if not listed:
                    res["apply list"], res["nft list"] = res["apply"], res["nft"]
                for label in ("apply list", "nft list"):
                    res.setdefault(label, (None, "policy not loaded"))
            finally:
                shutil.rmtree(d, ignore_errors=True)
            rows.append((kind, n, res))
            print("  %s %d done" % (kind, n), file=sys.stderr)
    hooks_cold(holder)
    shutil.rmtree(bindir, ignore_errors=True)
    return rows


def report(rows):
    print("| network | apply | RSS | floor | RSS | floor, 256 elements a message | nft -f "
          "| RSS | apply / floor (time) | apply / floor (RSS) | nft -f / apply |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for kind, n, r in rows:
        a, f, f256, x = r["apply"], r["floor"], r["floor256"], r["nft"]
        print("| %d %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            n, kind, *render.fmt(a), *render.fmt(f), render.fmt(f256)[0], *render.fmt(x),
            times(f, a), rss_times(f, a), times(a, x)))
    print()
    print("| hosts | apply, a hash set | apply, the same hosts and one prefix (an interval set) "
          "| interval / hash |")
    print("|---|---|---|---|")
    for kind, n, r in rows:
        if kind == "hosts":
            print("| %d | %s | %s | %s |" % (n, render.fmt(r["apply"])[0],
                                              render.fmt(r["interval"])[0],
                                              times(r["apply"], r["interval"])))
    print()
    print("the same network written in the YAML and in a list file "
          "(`networks: {big: {file: gen.txt}}`), in the same run:")
    print("| network | written as | apply | RSS | floor | RSS | nft -f | RSS "
          "| apply / floor (time) | apply / floor (RSS) | nft -f / apply |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for kind, n, r in rows:
        forms = ([("YAML", "apply", "nft")] if n <= YAML_MAX else []) + \
            [("list file", "apply list", "nft list")]
        for form, a, x in forms:
            a, f, x = r[a], r["floor"], r[x]
            print("| %d %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                n, kind, form, *render.fmt(a), *render.fmt(f), *render.fmt(x),
                times(f, a), rss_times(f, a), times(a, x)))


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    rows = measure(build)
    if rows is not None:
        report(rows)


if __name__ == "__main__":
    main()
