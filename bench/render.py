#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Rendering, side by side in one run: portcullis (every target) against
Capirca (aclgen, nftables target) and ferm (--noexec --lines), on the same
generated policy, then the time `nft -f` takes to load each nftables rendering
and `iptables-restore` portcullis's iptables rendering, each inside a network
namespace made for it.

The policy of N rules: rule i allows tcp port 1024 + i from network i mod K
(K = N/10 networks, each an IPv4 /24 and an IPv6 /48), input hook, default
drop.  The address case: one network of 100 000 IPv4 addresses that 10 rules
use.  Each command runs PC_BENCH_RUNS times (3), interleaved with its peers by
bench/spawn.c, and the median is shown with the peak resident memory.
Capirca's own output of these terms in both families does not load into nft
(2.0.6 writes `ip6 saddr ... ip protocol tcp`), so its load time is that of its
IPv4-only rendering of the same terms.

The growth shapes (tests/growth/shapes.py: the same service in many rules
each from its own host, denies on one port from single hosts, one rule with
many ports, many unknown names, a bad value on a long line, many rules from
one large network, rules on one port from one host that differ by interface,
rules of 17 hosts each) run last, at
10 000 and 40 000 items, with the ratio of the two: linear is about 4x.
PC_BENCH_ONLY=shapes runs only those; PC_BENCH_SHAPES and PC_BENCH_SHAPE_SIZES
pick some shapes and other sizes.

usage: bench/render.py [BUILD_DIR]   (as root for the load times)
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "growth"))
import shapes  # noqa: E402

SIZES = [10, 1000, 5000, 50000]
SHAPE_SIZES = [int(x) for x in os.environ.get("PC_BENCH_SHAPE_SIZES", "10000 40000").split()]
SHAPE_CASES = [("hosts", "check"), ("hosts", "render"), ("hosts", "explain"),
               ("denies", "check"), ("denies", "render"), ("ports", "check"),
               ("ports", "render"), ("twoports", "check"), ("unknown", "check"),
               ("longline", "check"), ("group", "check"), ("sameports", "check"),
               ("wide", "check")]
if os.environ.get("PC_BENCH_SHAPES"):
    SHAPE_CASES = [c for c in SHAPE_CASES if c[0] in os.environ["PC_BENCH_SHAPES"].split()]
RUNS = int(os.environ.get("PC_BENCH_RUNS", "3"))

# What apply records goes to a directory of the run's own, not the host's
# /run/portcullis (each namespace's record would stay there, and a later
# namespace given the same inode would read it); every bench imports this.
# On a tmpfs when there is one, as /run is on a host: a disk would add the cost
# of writing the record (apply's own is what is measured).
STATE_PARENT = "/dev/shm" if os.path.isdir("/dev/shm") else None
if "PORTCULLIS_STATE_DIR" not in os.environ:
    import atexit
    _state = tempfile.mkdtemp(prefix="pc-bench-state-", dir=STATE_PARENT)
    os.environ["PORTCULLIS_STATE_DIR"] = _state
    atexit.register(shutil.rmtree, _state, True)


# A command run quietly with a state directory of its own run: an `apply` in
# a fresh namespace (unshare -n) must not find the record a namespace gone
# before it left under the same inode (it would read it, find no table, and
# replace the table anyway, having paid for the reading).  apply makes the
# directory ($$: the shell's pid, one a run).
FRESH = ["/bin/sh", "-c",
         'PORTCULLIS_STATE_DIR="$PORTCULLIS_STATE_DIR/$$" "$0" "$@" >/dev/null 2>&1']


def installed(build, name, into):
    """A copy of BUILD/NAME in the directory INTO, as installing it makes one,
    and its path.  Measure a copy, not the file the linker has just written:
    the kernel holds that one's page cache in large blocks (256 KiB to 1 MiB)
    for minutes after, and counts a whole block in the peak RSS of a process
    that reads one page of it (about 1 MiB more for portcullis)."""
    path = os.path.join(into, name)
    shutil.copy2(os.path.join(build, name), path)
    return path


def networks(n):
    k = max(1, n // 10)
    return [("net%d" % i, "10.%d.%d.0/24" % (i // 256 % 256, i % 256), "2001:db8:%x::/48" % i)
            for i in range(k)]


def write_policy(d, n, addresses=0):
    nets = networks(n)
    rules = [(1024 + i, nets[i % len(nets)][0]) for i in range(n)]
    if addresses:
        nets = [("big", ["10.%d.%d.%d" % (a >> 16 & 255, a >> 8 & 255, a & 255)
                         for a in range(1, addresses + 1)], [])]
        rules = [(1024 + i, "big") for i in range(n)]
    else:
        nets = [(name, [v4], [v6]) for name, v4, v6 in nets]

    with open(os.path.join(d, "gen.yaml"), "w") as f:
        f.write("version: 1\npolicy: gen\ndefaults:\n  icmp: none\n  loopback: none\n"
                "  established: accept\nnetworks:\n")
        for name, v4, v6 in nets:
            f.write("  %s: [%s]\n" % (name, ", ".join(v4 + ['"%s"' % a for a in v6])))
        f.write("rules:\n")
        for port, net in rules:
            f.write("  - allow: %d/tcp\n    from: %s\n" % (port, net))

    os.makedirs(os.path.join(d, "def"), exist_ok=True)
    os.makedirs(os.path.join(d, "pol"), exist_ok=True)
    with open(os.path.join(d, "def", "NETWORK.net"), "w") as f:
        for name, v4, v6 in nets:
            addrs = v4 + v6
            f.write("%s = %s\n" % (name.upper(), addrs[0]))
            for a in addrs[1:]:
                f.write("    %s\n" % a)
    with open(os.path.join(d, "def", "SERVICES.svc"), "w") as f:
        for port, _ in rules:
            f.write("P%d = %d/tcp\n" % (port, port))
    # gen.pol as the others (IPv4 and IPv6); gen4.pol IPv4 only, for loading:
    # Capirca 2.0.6's mixed nftables output does not load (`ip6 saddr ... ip protocol tcp`).
    for name, family in (("gen", "mixed"), ("gen4", "inet")):
        with open(os.path.join(d, "pol", name + ".pol"), "w") as f:
            f.write("header {\n  target:: nftables %s input\n}\n" % family)
            for i, (port, net) in enumerate(rules):
                f.write("term t%d {\n  source-address:: %s\n  destination-port:: P%d\n"
                        "  protocol:: tcp\n  action:: accept\n}\n" % (i, net.upper(), port))

    with open(os.path.join(d, "ferm.conf"), "w") as f:
        for dom, col in (("ip", 1), ("ip6", 2)):
            f.write("domain %s table filter chain INPUT {\n  policy DROP;\n"
                    "  mod state state (ESTABLISHED RELATED) ACCEPT;\n" % dom)
            byname = {x[0]: x[col] for x in nets}
            for port, net in rules:
                if byname[net]:
                    f.write("  saddr (%s) proto tcp dport %d ACCEPT;\n"
                            % (" ".join(byname[net]), port))
            f.write("}\n")


def addresses(n, kind="hosts"):
    """N IPv4 addresses as the benchmarks write them: hosts 10.0.0.1, 10.0.0.2,
    ... (a hash set), or prefixes 10.0.0.0/30, 10.0.0.8/30, ... (an interval
    set), as bench/floor.c sends them."""
    if kind == "hosts":
        return ("10.%d.%d.%d" % (a >> 16 & 255, a >> 8 & 255, a & 255) for a in range(1, n + 1))
    return ("10.%d.%d.%d/30" % (a >> 16 & 255, a >> 8 & 255, a & 255)
            for a in range(0, 8 * n, 8))


def write_list_policy(d, n, count, kind="hosts", name="list"):
    """The policy write_policy makes for N rules and COUNT addresses, its
    network read from a list file, as a large network is written:
    D/NAME.yaml names `big: {file: NAME.txt}`, one address a line.  Returns
    the paths of the policy and of the list."""
    lst, pol = os.path.join(d, name + ".txt"), os.path.join(d, name + ".yaml")
    with open(lst, "w") as f:
        f.writelines("%s\n" % a for a in addresses(count, kind))
    with open(pol, "w") as f:
        f.write("version: 1\npolicy: gen\ndefaults:\n  icmp: none\n  loopback: none\n"
                "  established: accept\nnetworks:\n  big: {file: %s.txt}\nrules:\n" % name)
        for i in range(n):
            f.write("  - allow: %d/tcp\n    from: big\n" % (1024 + i))
    return pol, lst


def spawn_full(build, commands, prefix=()):
    """As spawn(), each result (median seconds, peak KiB, median CPU seconds:
    user and system), or (None, "failed", None); PREFIX runs pc-bench-spawn
    itself (`ip netns exec NS`), so that nothing stands between it and what
    it measures."""
    argv = list(prefix) + [os.path.join(build, "pc-bench-spawn"), str(RUNS)]
    for label, cmd in commands:
        argv += ["--", label] + cmd
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    result = {}
    for line in out.splitlines():
        label, median, _, _, _, rss, failures, cpu = line.split("\t")[:8]
        result[label] = ((None, "failed", None) if int(failures)
                         else (int(median) / 1e6, int(rss), int(cpu) / 1e6))
    return result


def spawn(build, commands):
    """Runs the commands RUNS times each, interleaved, with pc-bench-spawn: each
    process timed on its own and its own peak RSS read with wait4().  Returns
    {label: (median seconds, peak KiB)} or (None, why) for a command that failed."""
    return {k: v[:2] for k, v in spawn_full(build, commands).items()}


def fmt(r):
    t, m = r
    if t is None:
        return m, ""
    return ("%.1f ms" % (t * 1000) if t < 1 else "%.2f s" % t), "%d MiB" % max(1, round(m / 1024))


def ratio(a, b):
    if a[0] is None or b[0] is None:
        return "-"
    r = b[0] / max(a[0], 0.001)
    return ("%.0fx" if r >= 10 else "%.1fx") % r


def shape_table(build, pc):
    """The growth shapes at each of SHAPE_SIZES, and the ratio of the two."""
    d = tempfile.mkdtemp(prefix="pc-bench-")
    commands = []
    for shape in sorted({s for s, _ in SHAPE_CASES}):
        for n in SHAPE_SIZES:
            shapes.write(os.path.join(d, "%s%d.yaml" % (shape, n)), shape, n)
    for shape, cmd in SHAPE_CASES:
        for n in SHAPE_SIZES:
            path = os.path.join(d, "%s%d.yaml" % (shape, n))
            argv = [pc, cmd, path] + (["-o", os.devnull] if cmd == "render" else [])
            commands.append(("%s %s %d" % (shape, cmd, n), argv))
    # check exits 1 on the unknown and longline shapes: run through a shell that ignores it.
    commands = [(label, ["/bin/sh", "-c", '"$0" "$@" >/dev/null 2>&1; exit 0'] + argv)
                for label, argv in commands]
    res = {}
    for shape in sorted({s for s, _ in SHAPE_CASES}):  # spawn takes 16 commands at most
        res.update(spawn(build, [c for c in commands if c[0].split()[0] == shape]))
    shutil.rmtree(d)
    print("growth shapes: median of %d runs, interleaved, and peak RSS" % RUNS)
    print("| shape | command | %s | ratio |" % " | ".join(
        "%d | RSS" % n for n in SHAPE_SIZES))
    print("|---|---|%s---|" % ("---|---|" * len(SHAPE_SIZES)))
    for shape, cmd in SHAPE_CASES:
        r = [res["%s %s %d" % (shape, cmd, n)] for n in SHAPE_SIZES]
        cells = " | ".join("%s | %s" % fmt(x) for x in r)
        print("| %s | %s | %s | %s |" % (shape, cmd, cells, ratio(r[0], r[-1])))


def one_service(build, pc, n=50000):
    """The same service in n rules (each from its own host) against n rules of
    a distinct port each (from its own host too): check and render, interleaved;
    render.spawn's results, labelled "hosts check", "hostports render"..."""
    d = tempfile.mkdtemp(prefix="pc-bench-")
    commands = []
    for shape in ("hosts", "hostports"):
        path = os.path.join(d, "%s.yaml" % shape)
        shapes.write(path, shape, n)
        commands.append(("%s check" % shape, [pc, "check", path]))
        commands.append(("%s render" % shape, [pc, "render", "-o", os.devnull, path]))
    try:
        return spawn(build, commands)
    finally:
        shutil.rmtree(d)


def one_service_table(build, pc, n=50000):
    """one_service's table, with the ratio, whose target is 2x at most."""
    res = one_service(build, pc, n)
    print("one service in %d rules against a distinct port each: median of %d runs, "
          "interleaved (target: 2x at most)" % (n, RUNS))
    print("| command | one service | RSS | distinct ports | RSS | ratio |")
    print("|---|---|---|---|---|---|")
    for cmd in ("check", "render"):
        a, b = res["hosts %s" % cmd], res["hostports %s" % cmd]
        print("| %s | %s | %s | %s | %s | %s |" % (cmd, *fmt(a), *fmt(b), ratio(b, a)))


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    if os.environ.get("PC_BENCH_ONLY") == "shapes":
        shape_table(build, os.path.abspath(os.path.join(build, "portcullis")))
        one_service_table(build, os.path.abspath(os.path.join(build, "portcullis")))
        return
    pc = os.path.abspath(os.path.join(build, "portcullis"))
    root = os.getuid() == 0 and shutil.which("nft") and shutil.which("unshare")
    have_capirca = shutil.which("aclgen")
    have_ferm = shutil.which("ferm")
    cases = [(n, 0) for n in SIZES] + [(10, 100000)]
    rows = []
    nft_bin, unshare = shutil.which("nft"), shutil.which("unshare")
    for n, addresses in cases:
        d = tempfile.mkdtemp(prefix="pc-bench-")
        write_policy(d, n, addresses)
        label = "%d rules" % n if not addresses else "%d addresses, %d rules" % (addresses, n)
        j = lambda *p: os.path.join(d, *p)
        commands = [
            ("nft", [pc, "render", j("gen.yaml"), "-o", j("gen.nft")]),
            ("json", [pc, "render", "--target", "nft-json", j("gen.yaml"), "-o", j("gen.json")]),
            ("ipt", [pc, "render", "--target", "iptables", j("gen.yaml"), "-o", j("gen.ipt")]),
            ("pf", [pc, "render", "--target", "pf", j("gen.yaml"), "-o", j("gen.pf")]),
        ]
        if have_capirca:
            commands.append(("capirca", [have_capirca, "--base_directory=" + j("pol"),
                                         "--definitions_directory=" + j("def"),
                                         "--output_directory=" + j("out"),
                                         "--policy_file=" + j("pol", "gen.pol")]))
        if have_ferm and unshare:
            # --noexec: ferm prints the rules and touches no kernel table.
            commands.append(("ferm", [unshare, "-n", have_ferm, "--noexec", "--lines",
                                      j("ferm.conf")]))
        res = spawn(build, commands)
        load = cload = (None, "not root")
        if root:
            subprocess.run([pc, "render", j("gen.yaml"), "-o", j("gen.nft")], check=True,
                           stderr=subprocess.DEVNULL)
            subprocess.run([pc, "render", "--target", "iptables", j("gen.yaml"), "-o",
                            j("gen.ipt")], check=True, stderr=subprocess.DEVNULL)
            loads = [("load", [unshare, "-n", nft_bin, "-f", j("gen.nft")]),
                     # policy to kernel in one process: read, resolve, lower, netlink
                     ("apply", [unshare, "-n", pc, "apply", j("gen.yaml")])]
            if shutil.which("iptables-restore"):
                loads.append(("iload", [unshare, "-n", shutil.which("iptables-restore"),
                                        "--noflush", j("gen.ipt")]))
            if have_capirca:
                subprocess.run([have_capirca, "--base_directory=" + j("pol"),
                                "--definitions_directory=" + j("def"),
                                "--output_directory=" + j("out"),
                                "--policy_file=" + j("pol", "gen4.pol")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
                loads.append(("cload", [unshare, "-n", nft_bin, "-f", j("out", "gen4.nft")]))
            res.update(spawn(build, loads))
            load = res["load"]
            cload = res.get("cload", (None, "not installed"))
        none = (None, "not installed")
        rows.append((label, res["nft"], res["json"], res.get("capirca", none),
                     res.get("ferm", none), load, cload, res["ipt"], res["pf"],
                     res.get("iload", (None, "not root")), res.get("apply", (None, "not root"))))
        shutil.rmtree(d)
        print("done: %s" % label, file=sys.stderr)

    print("rendering: median of %d runs, interleaved, and peak RSS; %d cores, %s" % (
        RUNS, os.cpu_count(), os.uname().release))
    print("| policy | portcullis nft | RSS | nft-json | Capirca aclgen | RSS | vs Capirca "
          "| ferm --noexec | RSS | vs ferm | nft -f portcullis | nft -f Capirca (IPv4) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for label, nft, js, cap, ferm, load, cload, _, _, _, _ in rows:
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            label, *fmt(nft), fmt(js)[0], *fmt(cap), ratio(nft, cap), *fmt(ferm),
            ratio(nft, ferm), fmt(load)[0], fmt(cload)[0]))
    print()
    print("| policy | portcullis iptables | RSS | vs ferm | portcullis pf | RSS "
          "| iptables-restore --noflush (IPv4, iptables-nft) |")
    print("|---|---|---|---|---|---|---|")
    for label, _, _, _, ferm, _, _, ipt, pf, iload, _ in rows:
        print("| %s | %s | %s | %s | %s | %s | %s |" % (
            label, *fmt(ipt), ratio(ipt, ferm), *fmt(pf), fmt(iload)[0]))

    print()
    print("| policy | portcullis apply (policy to kernel) | RSS | portcullis render + nft -f "
          "| apply vs render + nft -f | nft -f alone | apply vs nft -f alone |")
    print("|---|---|---|---|---|---|---|")
    for label, nft, _, _, _, load, _, _, _, _, apply in rows:
        both = ((nft[0] + load[0], max(nft[1], load[1])) if nft[0] is not None
                and load[0] is not None else (None, "-"))
        print("| %s | %s | %s | %s | %s | %s | %s |" % (
            label, *fmt(apply), fmt(both)[0], ratio(apply, both), fmt(load)[0],
            ratio(apply, load)))

    print()
    shape_table(build, pc)
    one_service_table(build, pc)


if __name__ == "__main__":
    main()
