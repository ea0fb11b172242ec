#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Overlapping port ranges, before and after, side by side in one run: n
rules, rule i allowing (1+i)-(30000+i)/tcp from its own host (the `ranges`
shape of tests/growth/shapes.py), and the same n rules with one range for
all (`1-30000/tcp`: one map segment, the map kept).  For each size, each
binary's `render` (bytes written, CPU) and `explain` (CPU), PC_BENCH_RUNS
times (3) interleaved, the median CPU shown, and the ratio before/after.
Then `compare` of the same rules with sources that hold one another
(`nested`) against them with the input default changed (`nesteddef`), and
of the ranges each to its own host (`rangesto`, against `rangestodef`):
CPU and peak RSS.  A command past 40 s of CPU is run once.

usage: bench/ranges.py BEFORE AFTER [N...]   (binaries; N: 1000 2000 5000)
"""
import os
import statistics
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "growth"))
import shapes  # noqa: E402

RUNS = int(os.environ.get("PC_BENCH_RUNS", "3"))
LIMIT = 120  # CPU seconds over RUNS: past it, one run


def cpu_of(argv, rss=None):
    """Median CPU seconds of argv over RUNS, and its stdout bytes; with `rss` (a
    list), its largest peak RSS (KiB) appended."""
    times, size, peak = [], None, 0
    for _ in range(RUNS):
        with tempfile.TemporaryFile() as out:
            pid = os.fork()
            if pid == 0:
                try:
                    os.dup2(out.fileno(), 1)
                    null = os.open(os.devnull, os.O_WRONLY)
                    os.dup2(null, 2)
                    os.execv(argv[0], argv)
                finally:
                    os._exit(127)
            _, status, ru = os.wait4(pid, 0)
            out.seek(0, os.SEEK_END)
            size = out.tell()
            times.append(ru.ru_utime + ru.ru_stime)
            peak = max(peak, ru.ru_maxrss)
            if times[-1] > LIMIT / RUNS:
                break
    if rss is not None:
        rss.append(peak)
    return statistics.median(times), size


def main():
    before, after = sys.argv[1], sys.argv[2]
    sizes = [int(x) for x in sys.argv[3:]] or [1000, 2000, 5000]
    print("| shape | n | command | bytes before | bytes after | CPU s before | CPU s after "
          "| before/after |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="pc-ranges-") as d:
        for n in sizes:
            for shape in ("ranges", "same"):
                path = os.path.join(d, "%s%d.yaml" % (shape, n))
                if shape == "ranges":
                    shapes.write(path, "ranges", n)
                else:
                    with open(path, "w") as f:
                        f.write(shapes.PREAMBLE + "".join(
                            "  - allow: 1-30000/tcp\n    from: %s\n" % shapes.host(i + 1)
                            for i in range(n)))
                for cmd in ("render", "explain"):
                    a, ab = cpu_of([before, cmd, path])
                    b, bb = cpu_of([after, cmd, path])
                    print("| %s | %d | %s | %d | %d | %.3f | %.3f | %.1fx |" % (
                        shape, n, cmd, ab, bb, a, b, a / max(b, 1e-3)))
                    sys.stdout.flush()
        print("\n| shapes | n | CPU s before | CPU s after | before/after "
              "| peak RSS before | peak RSS after |")
        print("|---|---|---|---|---|---|---|")
        for shape in ("nested", "rangesto"):
            for n in sizes:
                base, dflt = (os.path.join(d, "%s%d.yaml" % (s, n))
                              for s in (shape, shape + "def"))
                shapes.write(base, shape, n)
                shapes.write(dflt, shape + "def", n)
                rss = []
                a, _ = cpu_of([before, "compare", base, dflt], rss)
                b, _ = cpu_of([after, "compare", base, dflt], rss)
                print("| %s / %sdef | %d | %.3f | %.3f | %.1fx | %d MiB | %d MiB |" % (
                    shape, shape, n, a, b, a / max(b, 1e-3), rss[0] // 1024,
                    rss[1] // 1024))
                sys.stdout.flush()


if __name__ == "__main__":
    main()
