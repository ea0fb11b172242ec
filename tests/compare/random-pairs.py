#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Random pairs of small policies through `portcullis compare`, the output
(standard output and exit status; the warnings are check's) of every pair
against tests/compare/golden/random-pairs.out, which holds, per pair, the
exit status, the lines written and their SHA-256 (the whole text would be
half a megabyte); a pair that differs is shown whole.

Each pair is a policy of overlapping port ranges, nested prefixes of both
families, interfaces, directions, limits, rejects and destinations, against
itself with a few changes (a rule changed, added, removed or moved, a default
changed), or against another such policy.  The pairs come from a fixed seed:
the same every run.  compare only sweeps the packets near the rules that
differ; this holds its output to what the sweep of every packet gave.

usage: random-pairs.py PORTCULLIS [DIR | --update]
(--update writes the golden file from PORTCULLIS's output; review what moved.)
Under PC_TEST_WRAPPER (valgrind) each run goes through it.
"""
import hashlib
import os
import random
import subprocess
import sys
import tempfile

PAIRS = 200
GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden", "random-pairs.out")

V4 = ["10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.3", "10.1.2.4", "10.1.3.0/25",
      "10.2.0.0/16", "192.0.2.0/24", "192.0.2.128/25", "192.0.2.7", "0.0.0.0/0"]
V6 = ["2001:db8::/32", "2001:db8:1::/48", "2001:db8:1::5", "2001:db8:2::/48", "::/0"]
IFACES = ["eth0", "eth1", "[eth0, eth1]", "eth*", "{not: eth0}", "lo", "wg*"]


def quoted(a):
    return '"%s"' % a if ":" in a else a


def addrs(rng):
    pool = V4 * 2 + V6 if rng.random() < 0.8 else V6
    v = rng.sample(pool, rng.randint(1, 3))
    return "[%s]" % ", ".join(quoted(a) for a in sorted(set(v)))


def ports(rng):
    out, shown = [], []
    for _ in range(rng.randint(1, 2)):
        lo = rng.randint(1, 60)
        hi = min(65535, lo + rng.choice([0, 0, 3, 10, 40]))
        proto = rng.choice(["tcp", "tcp", "udp"])
        out.append("%d/%s" % (lo, proto) if lo == hi else "%d-%d/%s" % (lo, hi, proto))
    return out[0] if len(out) == 1 else "[%s]" % ", ".join(out)


def rule(rng):
    lines = ["  - %s: %s" % (rng.choice(["allow", "allow", "deny", "reject"]), ports(rng))]
    direction = rng.choice(["input"] * 8 + ["output", "forward"])
    if direction != "input":
        lines.append("    direction: %s" % direction)
    if direction != "output" and rng.random() < 0.75:
        lines.append("    from: %s" % addrs(rng))
    if rng.random() < 0.25:
        lines.append("    to: %s" % addrs(rng))
    if rng.random() < 0.2:
        lines.append("    interface: %s" % rng.choice(IFACES))
    if rng.random() < 0.1:
        lines.append("    limit: %d/minute" % rng.choice([10, 20]))
    return "\n".join(lines) + "\n"


def defaults(rng):
    return {"input": rng.choice(["drop", "drop", "accept"]),
            "output": rng.choice(["accept", "accept", "drop"]),
            "forward": rng.choice(["drop", "accept"]),
            "established": rng.choice(["accept", "accept", "none"]),
            "loopback": rng.choice(["accept", "none"]),
            "neighbour-discovery": rng.choice(["accept", "accept", "drop"])}


def text(d, rules):
    return "version: 1\npolicy: p\ndefaults: {%s}\nrules:\n%s" % (
        ", ".join("%s: %s" % kv for kv in d.items()), "".join(rules))


def changed(rng, d, rules):
    d, rules = dict(d), list(rules)
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        what = rng.random()
        k = rng.randrange(len(rules))
        if what < 0.45:
            rules[k] = rule(rng)
        elif what < 0.6:
            rules.insert(k, rule(rng))
        elif what < 0.75 and len(rules) > 1:
            del rules[k]
        elif what < 0.9:
            rules.insert(rng.randrange(len(rules)), rules.pop(k))
        else:
            key = rng.choice(list(d))
            d[key] = defaults(rng)[key]
    return d, rules


def main():
    pc = os.path.abspath(sys.argv[1])
    rng = random.Random(20261130)
    out, shown = [], []
    with tempfile.TemporaryDirectory(prefix="pc-pairs-") as tmp:
        for i in range(PAIRS):
            d = defaults(rng)
            rules = [rule(rng) for _ in range(rng.randint(2, 12))]
            if rng.random() < 0.15:
                d2, rules2 = defaults(rng), [rule(rng) for _ in range(rng.randint(2, 12))]
            else:
                d2, rules2 = changed(rng, d, rules)
            for name, dd, rr in (("a.yaml", d, rules), ("b.yaml", d2, rules2)):
                with open(os.path.join(tmp, name), "w") as f:
                    f.write(text(dd, rr))
            wrap = os.environ.get("PC_TEST_WRAPPER", "").split()
            r = subprocess.run(wrap + [pc, "compare", "a.yaml", "b.yaml"], cwd=tmp,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               env=dict(os.environ, LC_ALL="C"))
            text_out = r.stdout.decode("utf-8", "replace")
            out.append("== pair %d: exit %d, %d lines, sha256 %s\n" % (
                i, r.returncode, text_out.count("\n"),
                hashlib.sha256(r.stdout).hexdigest()))
            shown.append("--- a.yaml\n%s--- b.yaml\n%s--- compare a.yaml b.yaml\n%s" % (
                text(d, rules), text(d2, rules2), text_out))
    got = "".join(out)
    if sys.argv[2:] == ["--update"]:
        with open(GOLDEN, "w") as f:
            f.write(got)
        return 0
    with open(GOLDEN) as f:
        want = f.read()
    if got == want:
        return 0
    for i, (a, b) in enumerate(zip(out, want.splitlines(True))):
        if a != b:
            sys.stdout.write("expected %sgot %s%s" % (b, a, shown[i]))
            break
    return 1


if __name__ == "__main__":
    sys.exit(main())
