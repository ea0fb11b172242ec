#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Growth test: each shape of docs/hardening.md's "Input that explodes" at
10 000 and 40 000 items (a quarter of each under ASan) in one run, asserting that the cost grows about
linearly: 40k/10k below MAX_RATIO (linear is about 4, quadratic 16).  The
cost is the child's CPU time (best of RUNS), its peak RSS, what it wrote
to stdout (bytes) or to stderr (bytes and write() calls), read with wait4() and /proc/PID/io.
Never a time on its own: a ratio of two sizes measured side by side.
A memory case marked "bound" also holds the large size's peak RSS (or that
at the size BOUNDS gives) under its bytes per byte of policy (BOUNDS) times
the policy's size above the RSS of the same command on a policy of one item
of the shape (what it costs to start): the memory must follow the input, not
its rules times its prefixes.  Under ASan (ASAN_OPTIONS set) each byte may
cost three times that: its redzones and quarantine.

usage: run-growth.py PORTCULLIS [SHAPE...]
Exits 77 (skip) under valgrind (PC_TEST_WRAPPER), where it would take hours.
"""
import os
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shapes  # noqa: E402

SMALL, LARGE = (int(x) for x in os.environ.get("PC_GROWTH_SIZES", "10000 40000").split())
# Under ASan (ASAN_OPTIONS set) each run takes ten times as long, and three
# shapes took more than the 300 s timeout (a CI run): there the sizes are a
# quarter (2 500 and 10 000, still 4x apart) and each is run once, unless
# PC_GROWTH_SIZES or PC_GROWTH_RUNS say otherwise.  What ASan is for, a bad
# access on a large input, still has one; the ratios hold as they do alone.
ASAN = bool(os.environ.get("ASAN_OPTIONS"))
if ASAN and "PC_GROWTH_SIZES" not in os.environ:
    SMALL, LARGE = SMALL // 4, LARGE // 4
MAX_RATIO = 6.0
# A "bound" case: its RSS per byte of policy, and the size it is held at (None: the large one).
# bignet-memory: 200 000 addresses of about 13 bytes each in one network, read, resolved
# and checked in at most 10 bytes of memory per byte of policy, 130 per address (it
# took 40 before the YAML tree was dropped after reading and each prefix held once).
# biglist-memory: the same 200 000 addresses from a list file, in at most 36 bytes of
# memory per address (52 before a prefix was 24 bytes and its list line a number in it).
BOUNDS = {"group-memory": (40, None), "bignet-memory": (10, 200000),
          "biglist-memory": (36, 200000)}
PER_ADDRESS = {"biglist-memory"}
# A case whose shape took minutes and gigabytes at 10 000 before it was
# fixed, measured at sizes where the old cost still shows (16x for 4x) in
# minutes: (small, large), unless PC_GROWTH_SIZES says otherwise.
CASE_SIZES = {"ranges-compare": (1500, 6000), "ranges-compare-one": (1500, 6000),
              "ranges-compare-default": (1500, 6000), "ranges-compare-any": (1500, 6000),
              "wildifaces-compare-default": (2500, 10000),
              "rangesto-compare-default": (1500, 6000)}
RUNS = int(os.environ.get("PC_GROWTH_RUNS", "1" if ASAN else "3"))
# ASan keeps what is freed in a quarantine (256 MiB by default), which a peak
# RSS would count as the program's: a small one leaves the program's own.
if ASAN:
    os.environ["ASAN_OPTIONS"] += ":quarantine_size_mb=8"


# A process forked from this one starts with its memory, and the peak RSS of the
# program it then runs counts that too (Linux keeps the larger across exec): the
# peak is measured through bench/spawn.c (a small process) when given --spawn=.
SPAWN = None


def peak_rss(argv):
    """(exit status 0 or 1, peak RSS KiB) of argv, spawned from a small process."""
    # meson's MALLOC_PERTURB_ fills what malloc hands out: every page of a
    # doubled array's spare room would count, which no user's run touches.
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_PERTURB_"}
    out = subprocess.run([SPAWN, "1", "--", "m"] + argv, check=True, stdout=subprocess.PIPE,
                         text=True, env=env).stdout.split()
    return (1 if int(out[6]) else 0), int(out[5])


def run(argv, rss=False, stdout=None):
    """Runs argv with stdout to /dev/null (or the file `stdout`) and stderr
    to a file; returns (exit status, CPU seconds, peak RSS KiB, stderr bytes,
    write calls); with `rss`, only the exit status (0 or 1) and the peak RSS
    are measured."""
    if rss and SPAWN:
        status, kib = peak_rss(argv)
        return status, 0.0, kib, 0, 0
    with tempfile.TemporaryFile() as err:
        pid = os.fork()
        if pid == 0:
            try:
                null = stdout.fileno() if stdout else os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, 1)
                os.dup2(err.fileno(), 2)
                os.execv(argv[0], argv)
            finally:
                os._exit(127)
        # The child stays a zombie until reaped: its I/O counters are still there.
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
        writes = 0
        with open("/proc/%d/io" % pid) as f:
            for line in f:
                if line.startswith("syscw:"):
                    writes = int(line.split()[1])
        _, status, ru = os.wait4(pid, 0)
        err.seek(0, os.SEEK_END)
        return (os.waitstatus_to_exitcode(status), ru.ru_utime + ru.ru_stime, ru.ru_maxrss,
                err.tell(), writes)


# shape: (policy shape, command, measure, expected exit status)
CASES = {
    "hosts-check": ("hosts", ["check"], "cpu", 0),
    "hosts-render": ("hosts", ["render", "-o", "/dev/null"], "cpu", 0),
    "hosts-explain": ("hosts", ["explain"], "cpu", 0),
    "denies-check": ("denies", ["check"], "cpu", 0),
    "denies-render": ("denies", ["render", "-o", "/dev/null"], "cpu", 0),
    "ports-memory": ("ports", ["check"], "rss", 0),
    "ports-check": ("ports", ["check"], "cpu", 0),
    "group-memory": ("group", ["check"], "rss bound", 0),
    "bignet-memory": ("bignet", ["check"], "rss bound", 0),
    "biglist-memory": ("biglist", ["check"], "rss bound", 0),
    "sameports-check": ("sameports", ["check"], "cpu", 0),
    "wide-check": ("wide", ["check"], "cpu", 0),
    "twoports-check": ("twoports", ["check"], "cpu", 0),
    "unknown-check": ("unknown", ["check"], "cpu", 1),
    # Linear either way: each unknown name against a known one, at the large size.
    "unknown-vs-known": ("unknown", ["check"], "versus known", 1),
    # The same service in every rule against a distinct port in each.
    "hosts-vs-hostports": ("hosts", ["check"], "versus hostports", 0),
    "hosts-vs-hostports-render": ("hosts", ["render", "-o", "/dev/null"], "versus hostports", 0),
    "longline-bytes": ("longline", ["check"], "stderr", 1),
    "longline-writes": ("longline", ["check"], "writes", 1),
    # compare POLICY POLICY: the packet space cut at every bound of both.
    "hosts-compare": ("hosts", ["compare", "POLICY"], "cpu", 0),
    "denies-compare": ("denies", ["compare", "POLICY"], "cpu", 0),
    "ports-compare": ("ports", ["compare", "POLICY"], "cpu", 0),
    "wide-compare": ("wide", ["compare", "POLICY"], "cpu", 0),
    "twoports-compare": ("twoports", ["compare", "POLICY"], "cpu", 0),
    # A network read from a list file: streamed, its addresses resolved once.
    "listfile-check": ("listfile", ["check"], "cpu", 0),
    "listfile-render": ("listfile", ["render", "-o", "/dev/null"], "cpu", 0),
    "listfile-memory": ("listfile", ["check"], "rss", 0),
    # Many services defined: the override layer built once, not once per definition.
    "defs-check": ("defs", ["check"], "cpu", 0),
    # One service defined with many ports: each looked up, not compared with every other.
    "defports-check": ("defports", ["check"], "cpu", 0),
    "defports-render": ("defports", ["render", "-o", "/dev/null"], "cpu", 0),
    # Overlapping port ranges: past its budget a map's rules are written in order, not
    # once per port segment covering them.
    "ranges-render": ("ranges", ["render", "-o", "/dev/null"], "cpu", 0),
    "ranges-explain": ("ranges", ["explain"], "cpu", 0),
    # Wide overlapping ranges from anywhere: the shadowing check looks a rule up against the
    # wide rules that start at or below its first port and reach its end, not every earlier
    # one.
    "wideranges-check": ("wideranges", ["check"], "cpu", 0),
    "wideranges-render": ("wideranges", ["render", "-o", "/dev/null"], "cpu", 0),
    "ranges-bytes": ("ranges", ["render"], "stdout", 0),
    # compare of overlapping port ranges: only the rules near a rule that differs are
    # swept, not every rule for every run of ports.  WITH=SHAPE: that shape at the same
    # size (here one rule changed in the middle), given before the policy.
    "ranges-compare": ("ranges", ["compare", "POLICY"], "cpu", 0),
    "ranges-compare-one": ("ranges", ["compare", "WITH=rangesone"], "cpu", 1),
    # ... and where every packet may change (a default changed, a rule changed to take
    # every source): each span of sources swept, its few rules' runs of ports in it, not
    # each run of ports with the spans of every rule there (1 500: 3.9 s, 6 000: 72 s).
    "ranges-compare-default": ("ranges", ["compare", "WITH=rangesdef"], "cpu", 1),
    "ranges-compare-any": ("ranges", ["compare", "WITH=rangesany"], "cpu", 1),
    # compare of rules to their own hosts, one changed: only the rules whose destinations
    # meet the changed rule's are swept, as for sources.
    "tohosts-compare-one": ("tohosts", ["compare", "WITH=tohostsone"], "cpu", 1),
    # The same with the input default changed: every packet may change, and each cell
    # of destinations meets the rules that hold it (not every rule to a host); on
    # overlapping ranges, the destinations swept first (the mirror of the sources).
    "tohosts-compare-default": ("tohosts", ["compare", "WITH=tohostsdef"], "cpu", 1),
    "rangesto-compare-default": ("rangesto", ["compare", "WITH=rangestodef"], "cpu", 1),
    # compare of many networks: each found by name through a sorted index, and a network
    # gone paired with a new name holding the same addresses through a hash of them, not
    # by walking every network for every network.
    "smallnets-compare": ("smallnets", ["compare", "POLICY"], "cpu", 0),
    "smallnets-compare-renamed": ("smallnets", ["compare", "WITH=renamednets"], "cpu", 0),
    # ... and with a host added to every network: each line of the answer names the network
    # of its addresses, found through a hash of each network's addresses, not by walking
    # every network for every line.
    "smallnets-compare-grown": ("smallnets", ["compare", "WITH=grownnets"], "cpu", 1),
    # Rules each on their own interfaces (a name, and a wildcard holding others'), the
    # default changed: every class of interfaces swept with its own rules and those on
    # every interface, found through an index of the names (not every rule for each class,
    # nor every name for each class's sample), and each line naming its classes alone.
    "sameports-compare-default": ("sameports", ["compare", "WITH=sameportsdef"], "cpu", 1),
    "wildifaces-compare-default": ("wildifaces", ["compare", "WITH=wildifacesdef"], "cpu", 1),
    # Each rule on its own port and its own interface, the default changed: the classes no
    # rule of a run of ports writes share one sweep of it, not each its own (classes times
    # runs: 1 000 rules took 5 s and 800 MB).  CPU and memory.
    "ownifaces-compare-default": ("ownifaces", ["compare", "WITH=ownifacesdef"], "cpu", 1),
    "ownifaces-compare-memory": ("ownifaces", ["compare", "WITH=ownifacesdef"], "rss", 1),
    # Each rule on every interface but its own, the default changed: each class such a rule
    # leaves out is swept alone, and meets the rules up to the first that decides the
    # whole run (not every rule of the run).
    "notifaces-compare-default": ("notifaces", ["compare", "WITH=notifacesdef"], "cpu", 1),
    # Networks each naming one large network: each copies it (n * n addresses), up to the
    # policy's limit on addresses copied, then an error (network-limit), not minutes and
    # gigabytes.
    "bignets-check": ("bignets", ["check"], "cpu", 1),
    "bignets-memory": ("bignets", ["check"], "rss", 1),
    # A warning for each of many rules, each with its source line: found through an index
    # of the lines, not by counting the file's lines from its start each time.
    "wildifaces-pf": ("wildifaces", ["render", "-t", "pf", "-o", "/dev/null"], "cpu", 0),
    # explain --packets: each packet meets the rules whose sources hold its source (and
    # those from anywhere), not every rule.
    "hostpackets-explain": ("hostpackets", ["explain", "--packets", "POLICY.packets"], "cpu", 0),
    "hostpackets-json": ("hostpackets", ["explain", "--json", "--packets", "POLICY.packets"],
                         "cpu", 0),
    # check --listening: each source a rule names asked through an index of the sources
    # of the rules that can decide the socket's packets (run by tests/apply/run-listening-growth.sh
    # in a namespace with a socket no rule allows; on its own it reads the host's sockets).
    "hosts-listening": ("hosts", ["check", "--listening"], "cpu", 0),
}


def with_path(path, arg):
    """The file of argument WITH=SHAPE next to policy `path`; any other argument with
    POLICY in it replaced by `path`."""
    if arg.startswith("WITH="):
        return path + "." + arg[len("WITH="):]
    return arg.replace("POLICY", path)


def write(path, case, n):
    """The case's policy of n items at path, and each WITH=SHAPE of its command."""
    shapes.write(path, CASES[case][0], n)
    for a in CASES[case][1]:
        if a.startswith("WITH="):
            shapes.write(with_path(path, a), a[len("WITH="):], n)


def cost(pc, path, case, want=None):
    shape, cmd, measure, status_want = CASES[case]
    want = status_want if want is None else want
    best = None
    for _ in range(RUNS if measure == "cpu" else 1):
        with tempfile.TemporaryFile() as out:
            status, cpu, rss, nbytes, writes = run(
                [pc] + [with_path(path, a) for a in cmd] + [path],
                measure.startswith("rss"), out if measure == "stdout" else None)
            out.seek(0, os.SEEK_END)
            written = out.tell()
        if status != want:
            raise SystemExit("%s: %s exited %d, expected %d" % (case, path, status, want))
        v = {"cpu": cpu, "rss": rss, "stderr": nbytes, "writes": writes,
             "stdout": written}[measure.split()[0].replace("versus", "cpu")]
        best = v if best is None else min(best, v)
    return best


def main():
    if os.environ.get("PC_TEST_WRAPPER"):
        print("SKIP: growth ratios under %s would take hours" % os.environ["PC_TEST_WRAPPER"])
        return 77
    global SPAWN
    pc = sys.argv[1]
    args = sys.argv[2:]
    if args and args[0].startswith("--spawn="):
        SPAWN = args.pop(0)[len("--spawn="):]
    cases = args or list(CASES)
    failed = 0
    with tempfile.TemporaryDirectory(prefix="pc-growth-") as d:
        for case in cases:
            shape, measure = CASES[case][0], CASES[case][2]
            small, large = os.path.join(d, "small.yaml"), os.path.join(d, "large.yaml")
            sizes = (SMALL, LARGE)
            if case in CASE_SIZES and "PC_GROWTH_SIZES" not in os.environ:
                sizes = CASE_SIZES[case]
            write(small, case, sizes[0])
            write(large, case, sizes[1])
            if measure.startswith("versus"):
                other = measure.split()[1]
                shapes.write(small, other, LARGE)
                a, b = cost(pc, small, case, 0), cost(pc, large, case)
                ratio = b / max(a, 1e-3)
                ok = ratio < MAX_RATIO
                print("%-16s %s %d: %-10.4g %s %d: %-10.4g ratio %.2f%s" % (
                    case, other, LARGE, a, shape, LARGE, b, ratio, "" if ok else "  FAIL"))
                failed += not ok
                continue
            a, b = cost(pc, small, case), cost(pc, large, case)
            if measure in ("stderr", "writes"):
                # Bounded: the same few diagnostics whatever the line's length.
                ok = b <= a * 1.1 + 16
                ratio = b / max(a, 1)
            else:
                ratio = b / max(a, 1e-3)
                ok = ratio < MAX_RATIO
                # Once under ASan, where each round takes ten times as long.
                rounds = 1 if ASAN else 3
                for k in range(rounds if measure == "cpu" else 0):
                    # Over the line, on a machine busy with other tests (a CI run once
                    # measured 6.41 for a shape that measures 3.5-4 alone, another 6.45
                    # four times in a row within 35 s, beside a test applying large
                    # tables): both sizes measured again, up to three times, after a
                    # pause that grows (5, 10, 15 s) so that the rounds do not all fall
                    # in one busy stretch, the least of each kept.  Growth of n^2 (16x
                    # from the small size to the large) still fails.
                    if ok:
                        break
                    time.sleep(5 * (k + 1))
                    a = min(a, cost(pc, small, case))
                    b = min(b, cost(pc, large, case))
                    ratio = b / max(a, 1e-3)
                    ok = ratio < MAX_RATIO
            print("%-16s %-6s %d: %-10.4g %d: %-10.4g ratio %.2f%s" % (
                case, measure.split()[0], sizes[0], a, sizes[1], b, ratio, "" if ok else "  FAIL"))
            failed += not ok
            if measure.endswith("bound"):
                one = os.path.join(d, "one.yaml")
                shapes.write(one, shape, 1)
                base = cost(pc, one, case)
                per_byte, size = BOUNDS[case]
                if size:
                    shapes.write(large, shape, size)
                    b = cost(pc, large, case)
                per_byte *= 3 if ASAN else 1
                units = (size or LARGE) if case in PER_ADDRESS else os.path.getsize(large)
                bound = base + per_byte * units / 1024
                ok = b <= bound
                print("%-16s rss    %d: %-10.4g KiB, bound %d + %d x %d %s = %.4g KiB%s" % (
                    case, size or LARGE, b, base, per_byte, units,
                    "addresses" if case in PER_ADDRESS else "bytes", bound,
                    "" if ok else "  FAIL"))
                failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
