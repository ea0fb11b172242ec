#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Long lists of addresses in the YAML (runs, src/policy/yaml.h), end to end.

usage: yamlruns.py PORTCULLIS DIR

The same network written as a block list (comments, blank lines, quoted
IPv6), a flow list over many lines, a flow list on one line wider than a
column can be held in (past 65 535), and a list file: the four render the
same ruleset, and the same network written short of a run (63 addresses
and a name) renders as the list file does.  A duplicate and a bad address
in each YAML form are said at their exact line and column.
"""
import os
import re
import subprocess
import sys
import tempfile

BIN = sys.argv[1]
failed = 0


def check(ok, what):
    global failed
    print(("ok: " if ok else "FAIL: ") + what)
    if not ok:
        failed += 1


def run(*args):
    p = subprocess.run([BIN] + list(args), capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def rules(text):
    """A rendering without its header comments (they name the file and its hash)."""
    return "\n".join(line for line in text.splitlines() if not line.startswith("#"))


def addresses(n):
    out = []
    for i in range(n):
        if i % 7 == 3:
            out.append("2001:db8::%x" % (i + 1))
        elif i % 11 == 5:
            out.append("10.%d.%d.0/24" % (100 + i // 256 % 100, i % 256))
        else:
            out.append("10.%d.%d.%d" % ((i + 1) >> 16, ((i + 1) >> 8) & 255, (i + 1) & 255))
    return out


PROLOGUE = "version: 1\npolicy: runs\ndefaults:\n  icmp: none\nnetworks:\n"
EPILOGUE = "rules:\n  - allow: 88/tcp\n    from: big\n"


def block(addrs, extra=()):
    lines = ["  big:"]
    pos = {}
    for i, a in enumerate(list(addrs) + list(extra)):
        if i % 50 == 0:
            lines.append("    # a comment among them")
        if i % 70 == 0:
            lines.append("")
        item = '"%s"' % a if ":" in a and i % 2 else a
        lines.append("    - " + item + ("   # note" if i % 9 == 0 else ""))
        pos[i] = (PROLOGUE.count("\n") + len(lines), 7)
    return PROLOGUE + "\n".join(lines) + "\n" + EPILOGUE, pos


def flow_lines(addrs, extra=()):
    items = ['"%s"' % a if ":" in a else a for a in list(addrs) + list(extra)]
    rows = [", ".join(items[i:i + 8]) for i in range(0, len(items), 8)]
    return PROLOGUE + "  big: [" + ",\n     ".join(rows) + "]\n" + EPILOGUE


def flow_line(addrs, extra=()):
    items = ['"%s"' % a if ":" in a else a for a in list(addrs) + list(extra)]
    text = "  big: ["
    pos = {}
    for i, item in enumerate(items):
        if i:
            text += ", "
        pos[i] = (PROLOGUE.count("\n") + 1, len(text) + 1)
        text += item
    return PROLOGUE + text + "]\n" + EPILOGUE, pos


with tempfile.TemporaryDirectory() as d:
    def write(name, text):
        path = os.path.join(d, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    addrs = addresses(6000)
    listed = write("big.txt", "\n".join(addrs) + "\n")
    files = {
        "list file": write("list.yaml", PROLOGUE + "  big: {file: big.txt}\n" + EPILOGUE),
        "block list": write("block.yaml", block(addrs)[0]),
        "flow list over lines": write("lines.yaml", flow_lines(addrs)),
        "flow list on one line": write("line.yaml", flow_line(addrs)[0]),
    }
    out = {}
    for what, path in files.items():
        rc, o, e = run("render", path)
        check(rc == 0 and "n_big_v4" in o, "%s renders (%d)" % (what, rc))
        out[what] = rules(o)
    for what in files:
        check(out[what] == out["list file"], "%s renders as the list file does" % what)

    # Short of a run: 63 addresses and a network's name, read by libyaml alone.
    few = addresses(63)
    write("few.txt", "\n".join(few + ["192.0.2.1"]) + "\n")
    rc, a, _ = run("render", write("few-list.yaml", PROLOGUE + "  big: {file: few.txt}\n" + EPILOGUE))
    rc2, b, _ = run("render", write("few.yaml", PROLOGUE + "  other: [192.0.2.1]\n" + flow_line(few, ["other"])[0][len(PROLOGUE):]))
    check(rc == 0 and rc2 == 0 and rules(a) == rules(b), "a list short of a run renders as the list file does")

    # A duplicate at the end of each form: said at its own line and column.
    for what, make in (("block list", block), ("flow list on one line", flow_line)):
        text, pos = make(addrs, [addrs[12]])
        path = write("dup.yaml", text)
        rc, o, e = run("check", path)
        line, col = pos[len(addrs)]
        want = "%s:%d:%d: warning: %s/32 is already inside %s/32 (%s:%d:%d)" % (
            path, line, col, addrs[12], addrs[12], path, pos[12][0], pos[12][1])
        check(rc == 0 and want in e, "%s: the duplicate is placed at %d:%d" % (what, line, col))
        if want not in e:
            print(e[:2000])

    # Written first past column 65 535, again in a rule on a later line: the
    # one in the rule is the one named, the first one is kept.
    text, pos = flow_line(addrs)
    text = text.replace("    from: big\n", "    from: [big, %s]\n" % addrs[5990])
    path = write("later.yaml", text)
    rc, o, e = run("check", path)
    rule_line = text.count("\n", 0, text.index("from: [big")) + 1
    first = pos[5990]
    want = "%s:%d:%d: warning: %s/32 is already inside %s/32 (%s:%d:%d)" % (
        path, rule_line, 17, addrs[5990], addrs[5990], path, first[0], first[1])
    check(first[1] > 65535 and want in e,
          "the address written first, past column 65 535, is the one kept")
    if want not in e:
        print(e[:2000])

    # A flow list whose first line runs past column 65 535 and whose last one
    # is short: a duplicate on the last line is said against the far one,
    # which explain names as written in the file.
    text, pos = flow_line(addrs)
    far = addrs[5990]
    text = text.replace(", %s, " % addrs[5996], ",\n    %s, " % addrs[5996], 1)
    text = text.replace("]\n", ", %s]\n" % far, 1)
    path = write("far.yaml", text)
    rc, o, e = run("check", path)
    last = text.count("\n", 0, text.index("]\n")) + 1
    col = len(text[:text.index("]\n")].rsplit("\n", 1)[1]) - len(far) + 1
    want = "%s:%d:%d: warning: %s/32 is already inside %s/32 (%s:%d:%d)" % (
        path, last, col, far, far, path, pos[5990][0], pos[5990][1])
    check(rc == 0 and pos[5990][1] > 65535 and last > pos[5990][0] and want in e,
          "a far address on a line before the last of a flow list: its duplicate is said")
    if want not in e:
        print(e[:2000])
    rc, o, e = run("explain", path, "--packet", "tcp %s -> 192.0.2.1 88" % far)
    want = "written at %s:%d" % (path, pos[5990][0])
    check(rc == 0 and want in o, "a far address on a line before the last: explain names it")
    if want not in o:
        print(o[:2000])

    # A bad address deep in each form: the error at its place, exit 1.
    for what, make in (("block list", block), ("flow list on one line", flow_line)):
        bad = list(addrs)
        bad[5000] = "10.0.0.300"
        text, pos = make(bad)
        path = write("bad.yaml", text)
        rc, o, e = run("check", path)
        line, col = pos[5000]
        want = "%s:%d:%d: error: '10.0.0.300' is not an IPv4 or IPv6 address" % (path, line, col)
        check(rc == 1 and want in e, "%s: a bad address is said at %d:%d" % (what, line, col))
        if want not in e:
            print(e[:2000])

    # Items near a dotted quad, each in a run and in the same list that a
    # network's name keeps from being one: the same diagnostics at the same
    # places, and the same ruleset (the name's network holds an address of the list).
    near = ["01.2.3.4", "256.1.1.1", "1.2.3.4/32", "1.2.3.4/33", "1.2.3.4.5", "1.2.3",
            "1.2.3.4:80", "1.2.3.04", "10.0.0.1a", "1.2.3.5/24", "0.0.0.0", "255.255.255.255",
            "1.2.3.4/", "1.2.3..4", "1.2.3.4.", "1000.1.1.1", "0.0.0.00", '"1.2.3.7"',
            "0.1.2.3", '::ffff:1.2.3.4', "1.2.3.4/032", "9.8.7.6", "99.199.249.255",
            "1.2.3.0/24", "10.0.0.1", "10.0.0.1/32"]
    items = addresses(100)[:80] + near
    said = {}
    for what, extra in (("a run", []), ("no run", ["other"])):
        text = flow_line(items, extra)[0]
        text = text.replace(EPILOGUE, "  other: [198.51.100.1]\n" + EPILOGUE)
        path = write("near.yaml", text)
        rc, _, e = run("check", path)
        # the diagnostics and their hints (an excerpt of the line shows the name)
        said[what] = (rc, "\n".join(x for x in e.splitlines()
                                    if (x.startswith(path) or x.startswith("  hint:")) and
                                    "198.51.100.1" not in x))
    check(said["a run"][0] == 1 and said["a run"][1].count("error:") == 15 and
          said["a run"] == said["no run"],
          "items near a dotted quad are said alike in a run and out of one")
    if said["a run"] != said["no run"]:
        print(said["a run"][1][:3000])
        print(said["no run"][1][:3000])
    good = addresses(100) + ["0.0.0.1", "255.255.255.255", "99.199.249.254", '"1.2.3.7"',
                             "1.2.3.4/32", "1.2.3.5/24", "0.1.2.3"]
    out = {}
    for what, extra in (("a run", []), ("no run", ["other"])):
        text = flow_line(good, extra)[0]
        text = text.replace(EPILOGUE, "  other: [%s]\n" % good[0] + EPILOGUE)
        rc, o, _ = run("render", write("near.yaml", text))
        out[what] = (rc, rules(o))
    check(out["a run"][0] == 0 and out["a run"] == out["no run"],
          "dotted quads render alike in a run and out of one")

sys.exit(1 if failed else 0)
