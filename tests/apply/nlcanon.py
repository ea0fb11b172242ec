#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""nlcanon.py < NLDUMP: nldump's text with what depends on the order objects
were made in taken out, so a table changed by deltas compares with a fresh
apply's: the sets, their elements and the chains sorted by name, each
chain's rules kept in their order under it (chains sorted), and each
anonymous set (named by the kernel __set0, __set1, ... in the order they
were made) written out in the rule that looks it up instead of its name;
and what counters counted left out."""
import re
import sys

head, sets, elems, chains, rules = [], {}, {}, {}, []
cur = None
for line in sys.stdin.read().splitlines():
    if line.startswith("set "):
        sets[line.split()[1]] = line
        cur = None
    elif line.startswith("elements "):
        cur = elems.setdefault(line.split()[1], [line])
    elif line.startswith("chain "):
        chains[line.split()[1]] = line
        cur = None
    elif line.startswith("rule "):
        cur = [line]
        rules.append((line.split()[1], cur))
    elif line.startswith(" ") and cur is not None:
        cur.append(line)
    else:
        head.append(line)
        cur = None
    if cur is not None and line.startswith("  [ counter "):
        cur[-1] = "  [ counter ]"  # what it has counted is no part of the table

anon = re.compile(r"\bset (__set\d+)\b")


def inline(line):
    m = anon.search(line)
    if not m:
        return [line]
    name = m.group(1)
    decl = re.sub(r"^set __set\d+", "anonymous set", sets.get(name, "?"))
    return [anon.sub("set (anonymous)", line), "    " + decl] + \
        ["    " + e for e in elems.get(name, [])[1:]]


out = head[:]
out += [sets[n] for n in sorted(sets) if not n.startswith("__set")]
for n in sorted(elems):
    if not n.startswith("__set"):
        out += elems[n]
out += [chains[n] for n in sorted(chains)]
for n in sorted(chains):
    for chain, lines in rules:
        if chain == n:
            for line in lines:
                out += inline(line)
print("\n".join(out))
