#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Every diagnostic code the sources can emit is in the one table of codes
# (pc_diag_codes in src/diag.c), which --Wno-CODE is checked against, and the
# table names no code that nothing emits.  A code is found as a string literal
# in the `code` argument of any function that takes a `const char *code`
# parameter (pc_diag_add and every wrapper around it).
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PC_SOURCE_ROOT", ".")
src = os.path.join(root, "src")

texts = {}
for d, _, files in os.walk(src):
    for f in files:
        if f.endswith((".c", ".h")):
            with open(os.path.join(d, f), encoding="utf-8") as fh:
                texts[os.path.relpath(os.path.join(d, f), root)] = fh.read()


def strip_comments(s):
    return re.sub(r"/\*.*?\*/|//[^\n]*", " ", s, flags=re.S)


def split_args(s, start):
    """The arguments of the call whose '(' is at s[start], as strings."""
    depth, args, cur, i, q = 0, [], [], start, None
    while i < len(s):
        c = s[i]
        if q:
            cur.append(c)
            if c == "\\":
                cur.append(s[i + 1])
                i += 1
            elif c == q:
                q = None
        elif c in "\"'":
            q = c
            cur.append(c)
        elif c in "([{":
            depth += 1
            if depth > 1:
                cur.append(c)
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                args.append("".join(cur))
                return args
            cur.append(c)
        elif c == "," and depth == 1:
            args.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    return args


code_re = re.compile(r'^"([a-z][a-z0-9]*(?:-[a-z0-9]+)*)"$')

# The functions with a `const char *code` parameter, and its position.
takes = {}
for text in texts.values():
    text = strip_comments(text)
    for m in re.finditer(r"\b([a-z_][a-z0-9_]*)\s*\(([^;{)]*const char \*code\b[^;{]*)\)\s*[;{]", text):
        params = [p.strip() for p in m.group(2).split(",")]
        for k, p in enumerate(params):
            if re.search(r"\bconst char \*code$", p):
                takes[m.group(1)] = k

used = {}
for path, text in texts.items():
    text = strip_comments(text)
    for name, k in takes.items():
        for m in re.finditer(r"\b%s\s*\(" % name, text):
            args = split_args(text, m.end() - 1)
            if len(args) <= k:
                continue
            for lit in re.findall(r'"(?:[^"\\]|\\.)*"', args[k]):
                if code_re.match(lit):
                    used.setdefault(lit[1:-1], path)

diag = strip_comments(texts[os.path.join("src", "diag.c")])
m = re.search(r"pc_diag_codes\[\]\s*=\s*\{(.*?)\};", diag, re.S)
if not m:
    sys.exit("src/diag.c: no table pc_diag_codes[]")
table = re.findall(r'"([^"]+)"', m.group(1))

bad = 0
if len(takes) < 5 or len(used) < 30:
    print("found only %d functions taking a code and %d codes: the search is broken"
          % (len(takes), len(used)))
    bad = 1
for c in sorted(set(used) - set(table)):
    print("%s: code '%s' is not in pc_diag_codes (src/diag.c)" % (used[c], c))
    bad = 1
for c in sorted(set(table) - set(used)):
    print("src/diag.c: pc_diag_codes lists '%s', which nothing emits" % c)
    bad = 1
if table != sorted(table) or len(set(table)) != len(table):
    print("src/diag.c: pc_diag_codes is not sorted, or lists a code twice")
    bad = 1
# What each code is about (SARIF's rule descriptions): one line per code, in the table's order.
m = re.search(r"pc_diag_code_texts\[\]\s*=\s*\{(.*?)\n\};", diag, re.S)
described = re.findall(r'\{\s*"([^"]+)",\s*"', m.group(1)) if m else []
if described != table:
    for c in sorted(set(table) - set(described)):
        print("src/diag.c: pc_diag_code_texts does not describe '%s'" % c)
    for c in sorted(set(described) - set(table)):
        print("src/diag.c: pc_diag_code_texts describes '%s', not in pc_diag_codes" % c)
    print("src/diag.c: pc_diag_code_texts must list the codes of pc_diag_codes, in its order")
    bad = 1
print("%d codes, from %d functions taking one" % (len(used), len(takes)))
sys.exit(bad)
