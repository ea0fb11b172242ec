#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The acknowledgements of a policy file, one at a time.

usage: unack.py FILE          prints the code of each acknowledgement, in order
       unack.py FILE N OUT    writes FILE to OUT without the Nth (from 1)

An acknowledgement is written `acknowledge: {CODE: REASON}` within a line
(taken out of it, with the comma before it), or as a block: `acknowledge:` and one `CODE: REASON` a line below it, indented
deeper.  Removing the only entry of a block removes the `acknowledge:` line
too, so what remains is still a policy.
"""
import re
import sys


def entries(lines):
    """(code, line index, index of its block's `acknowledge:` line or None, entries in block)."""
    out = []
    i = 0
    while i < len(lines):
        flow = re.search(r"acknowledge: *\{ *([a-z0-9-]+):", lines[i])
        if flow:
            out.append((flow.group(1), i, None, 0))
            i += 1
            continue
        m = re.match(r"^( *)(- )?acknowledge: *$", lines[i])
        if not m:
            i += 1
            continue
        indent = len(m.group(1)) + (2 if m.group(2) else 0)
        k = i + 1
        block = []
        while k < len(lines):
            e = re.match(r"^( *)([a-z0-9-]+):", lines[k])
            if not e or len(e.group(1)) <= indent:
                break
            block.append((e.group(2), k))
            k += 1
        out.extend((code, at, i, len(block)) for code, at in block)
        i = k
    return out


def main():
    lines = open(sys.argv[1]).read().splitlines(True)
    found = entries(lines)
    if len(sys.argv) == 2:
        for code, *_ in found:
            print(code)
        return 0
    code, at, head, n = found[int(sys.argv[2]) - 1]
    if n == 0:  # the flow form: the mapping taken out of its line
        lines[at] = re.sub(r",? *acknowledge: *\{[^}]*\}", "", lines[at])
        drop = {at} if not lines[at].strip() or lines[at].strip() == "-" else set()
    else:
        drop = {at} | ({head} if n == 1 else set())
    with open(sys.argv[3], "w") as f:
        f.writelines(l for k, l in enumerate(lines) if k not in drop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
