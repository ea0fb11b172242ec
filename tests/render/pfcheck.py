#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A checker for the pf.conf subset portcullis emits, written from pf.conf(5).

pf does not run on Linux, so the pf rendering is checked here instead of by
pfctl: the file is read as pfctl reads it (a backslash at the end of a line
joins the next one, also inside a comment; `#` comments to the end of the
line; macros expanded outside quotes) and every statement must be one of:

    name = "value"                                        (macro)
    table <name> [const|persist]... { address, ... }      (table)
    (pass | block [drop|return]) (in|out) [log] [quick]
        [on [!] (ifname | { ifname ... })]
        [inet|inet6] [proto name]
        [all | from host [port ports] to host [port ports]]
        [icmp-type t | icmp6-type t] [keep state | no state]
        [max-pkt-rate N/S] [label "text"]                  (filter rule)

with macros and tables defined before use, names as pf.conf(5) allows them
(macros: a letter then letters, digits, '_'; tables: at most 31 characters;
no reserved word), addresses that are addresses of the rule's family, ports
only with tcp or udp (as OpenBSD's pfctl checks), icmp-type only with inet
and proto icmp, state options only on pass rules.  Macros and tables come
before rules (pf.conf(5): macros, tables, options, filter rules).

It also evaluates the rules as pf does (the last matching rule decides
unless a matching rule says quick; no match passes) for packets, so the
verdicts can be compared with `portcullis explain --packet`.

usage: pfcheck.py FILE                        check; print the rule count
       pfcheck.py FILE PORTCULLIS POLICY      also: the probe packets of
                                              probe.py, each verdict as
                                              `explain --packet` says
"""
import ipaddress
import os
import re
import sys

RESERVED = {"pass", "block", "in", "out", "log", "quick", "on", "inet", "inet6", "proto",
            "from", "to", "port", "all", "any", "table", "const", "persist", "keep",
            "state", "no", "label", "drop", "return", "icmp-type", "icmp6-type",
            "max-pkt-rate", "anchor", "match", "set", "self", "urpf-failed"}
ICMP_TYPES = {"unreach": 3, "timex": 11, "paramprob": 12, "echoreq": 8}
ICMP6_TYPES = {"unreach": 1, "toobig": 2, "timex": 3, "paramprob": 4, "echoreq": 128,
               "routersol": 133, "routeradv": 134, "neighbrsol": 135, "neighbradv": 136}
PROTOS = {"tcp", "udp", "icmp", "icmp6", "sctp"}


class PfError(Exception):
    pass


def logical_lines(text):
    """Lines as pfctl sees them: a backslash before the line end joins the next
    line (inside a comment too), then `#` outside quotes starts a comment."""
    if "\0" in text:
        raise PfError("a NUL byte")
    out, pending, start = [], "", 0
    for n, raw in enumerate(text.split("\n"), 1):
        if not pending:
            start = n
        if raw.endswith("\\"):
            pending += raw[:-1] + " "
            continue
        line, pending = pending + raw, ""
        code, quoted = [], False
        for ch in line:
            if ch == '"':
                quoted = not quoted
            if ch == "#" and not quoted:
                break
            code.append(ch)
        if quoted:
            raise PfError("line %d: an unterminated quote" % start)
        code = "".join(code).strip()
        if code:
            out.append((start, code))
    if pending:
        raise PfError("a backslash at the end of the file")
    return out


TOKEN = re.compile(r'\s*(?:("[^"]*")|([{}<>,=()!])|([^\s{}<>,=()!"]+))')


def tokenize(line, macros, n):
    toks, pos = [], 0
    while pos < len(line):
        m = TOKEN.match(line, pos)
        if not m or m.end() == pos:
            if line[pos:].strip() == "":
                break
            raise PfError("line %d: cannot read %r" % (n, line[pos:]))
        pos = m.end()
        q, p, w = m.groups()
        if q is not None:
            toks.append(("str", q[1:-1]))
        elif p is not None:
            toks.append(("punct", p))
        elif w.startswith("$"):
            name = w[1:]
            if name not in macros:
                raise PfError("line %d: macro %s used before it is defined" % (n, name))
            toks.extend(tokenize(macros[name], macros, n))
        else:
            toks.append(("word", w))
    return toks


class Parser:
    def __init__(self, toks, n):
        self.toks, self.i, self.n = toks, 0, n

    def peek(self):
        return self.toks[self.i][1] if self.i < len(self.toks) else None

    def take(self, want=None):
        if self.i >= len(self.toks):
            raise PfError("line %d: unexpected end, wanted %s" % (self.n, want or "more"))
        kind, val = self.toks[self.i]
        if want is not None and val != want:
            raise PfError("line %d: wanted %r, found %r" % (self.n, want, val))
        self.i += 1
        return val

    def accept(self, word):
        if self.peek() == word:
            self.i += 1
            return True
        return False

    def done(self):
        if self.i != len(self.toks):
            raise PfError("line %d: unexpected %r" % (self.n, self.peek()))

    def listof(self, item):
        """item | { item [,] item ... }"""
        if not self.accept("{"):
            return [item(self.take())]
        out = []
        while not self.accept("}"):
            out.append(item(self.take()))
            self.accept(",")
        if not out:
            raise PfError("line %d: an empty list" % self.n)
        return out


def check_name(name, what, n):
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name) or name in RESERVED:
        raise PfError("line %d: %r cannot name a %s" % (n, name, what))


def interface(text, n):
    """An interface or group name as pf.conf(5) takes it: no wildcards."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,15}", text):
        raise PfError("line %d: %r is not an interface name" % (n, text))
    return text


def port_item(n):
    def item(text):
        m = re.fullmatch(r"(\d+)(?::(\d+))?", text)
        if not m:
            raise PfError("line %d: %r is not a port or a range" % (n, text))
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) else lo
        if not (0 <= lo <= hi <= 65535):
            raise PfError("line %d: %r is not a port range" % (n, text))
        return (lo, hi)
    return item


def address(text, n):
    try:
        return ipaddress.ip_network(text, strict=True)
    except ValueError:
        raise PfError("line %d: %r is not an address or a network" % (n, text))


def parse(text):
    macros, tables, rules = {}, {}, []
    for n, line in logical_lines(text):
        m = re.fullmatch(r'([^\s=]+)\s*=\s*"([^"]*)"', line)
        if m:
            if rules:
                raise PfError("line %d: a macro after the rules" % n)
            check_name(m.group(1), "macro", n)
            macros[m.group(1)] = m.group(2)
            continue
        p = Parser(tokenize(line, macros, n), n)
        head = p.take()
        if head == "table":
            if rules:
                raise PfError("line %d: a table after the rules" % n)
            p.take("<")
            name = p.take()
            p.take(">")
            if len(name) > 31 or not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", name) \
                    or name in RESERVED:
                raise PfError("line %d: %r cannot name a table" % (n, name))
            if name in tables:
                raise PfError("line %d: table <%s> defined twice" % (n, name))
            while p.peek() in ("const", "persist"):
                p.take()
            tables[name] = p.listof(lambda t: address(t, n))
            p.done()
            continue
        if head not in ("pass", "block"):
            raise PfError("line %d: %r is not a statement of this subset" % (n, head))
        r = {"line": n, "action": head, "return": False}
        if head == "block" and p.peek() in ("drop", "return"):
            r["return"] = p.take() == "return"
        r["dir"] = p.take()
        if r["dir"] not in ("in", "out"):
            raise PfError("line %d: a direction (in, out) is missing" % n)
        r["log"] = p.accept("log")
        r["quick"] = p.accept("quick")
        r["on"] = None
        if p.accept("on"):
            neg = p.accept("!")
            names = p.listof(lambda t: interface(t, n))
            if neg and len(names) > 1:
                raise PfError("line %d: `on ! { ... }` is a rule per name, each passing "
                              "the others" % n)
            r["on"] = (neg, names)
        r["af"] = p.take() if p.peek() in ("inet", "inet6") else None
        r["proto"] = None
        if p.accept("proto"):
            r["proto"] = p.take()
            if r["proto"] not in PROTOS:
                raise PfError("line %d: unknown protocol %r" % (n, r["proto"]))
        r["from"] = r["to"] = None
        r["sport"] = r["dport"] = None
        if p.accept("all"):
            pass
        elif p.peek() == "from":    # hosts are optional: none is `all`
            p.take("from")
            r["from"] = host(p, tables, r["af"], n)
            if p.accept("port"):
                r["sport"] = p.listof(port_item(n))
            p.take("to")
            r["to"] = host(p, tables, r["af"], n)
            if p.accept("port"):
                r["dport"] = p.listof(port_item(n))
        if (r["sport"] or r["dport"]) and r["proto"] not in ("tcp", "udp"):
            raise PfError("line %d: port only applies to tcp/udp" % n)
        r["icmp"] = None
        r["state"] = None
        r["rate"] = None
        r["label"] = None
        while p.peek() is not None:
            w = p.take()
            if w in ("icmp-type", "icmp6-type"):
                want_af, want_proto, names = (("inet", "icmp", ICMP_TYPES) if w == "icmp-type"
                                              else ("inet6", "icmp6", ICMP6_TYPES))
                if r["af"] != want_af or r["proto"] != want_proto:
                    raise PfError("line %d: %s needs %s proto %s" % (n, w, want_af, want_proto))

                def icmp(t):
                    if t not in names:
                        raise PfError("line %d: unknown %s %r" % (n, w, t))
                    return names[t]
                r["icmp"] = p.listof(icmp)
            elif w in ("keep", "no"):
                p.take("state")
                if head != "pass":
                    raise PfError("line %d: state options on a block rule" % n)
                r["state"] = w
            elif w == "max-pkt-rate":
                m = re.fullmatch(r"(\d+)/(\d+)", p.take())
                if not m or int(m.group(1)) == 0 or int(m.group(2)) == 0:
                    raise PfError("line %d: max-pkt-rate wants number/seconds" % n)
                r["rate"] = (int(m.group(1)), int(m.group(2)))
            elif w == "label":
                kind = p.toks[p.i][0] if p.i < len(p.toks) else None
                if kind != "str":
                    raise PfError("line %d: label wants a quoted string" % n)
                r["label"] = p.take()
                if len(r["label"]) >= 64:
                    raise PfError("line %d: a label of more than 63 bytes" % n)
            else:
                raise PfError("line %d: unexpected %r" % (n, w))
        rules.append(r)
    return macros, tables, rules


def host(p, tables, af, n):
    """any | <table> | address | { ... }: a list of networks, or None for any."""
    if p.accept("any"):
        return None
    if p.accept("<"):
        name = p.take()
        p.take(">")
        if name not in tables:
            raise PfError("line %d: table <%s> used before it is defined" % (n, name))
        return tables[name]
    nets = p.listof(lambda t: address(t, n))
    for x in nets:
        if af and x.version != (4 if af == "inet" else 6):
            raise PfError("line %d: %s is not an %s address" % (n, x, af))
    return nets


def evaluate(rules, packet):
    """pass, block or return for a packet dict (dir, af, proto, src, dst, dport)."""
    decision = None
    for r in rules:
        if r["dir"] != packet["dir"] or r["on"] is not None:
            continue
        if r["af"] and r["af"] != packet["af"]:
            continue
        if r["proto"] and r["proto"] != packet["proto"]:
            continue
        if r["icmp"] is not None:
            continue          # the probes are tcp and udp
        if r["from"] is not None and not any(packet["src"] in x for x in r["from"]):
            continue
        if r["to"] is not None and not any(packet["dst"] in x for x in r["to"]):
            continue
        if r["dport"] is not None and not any(lo <= packet["dport"] <= hi
                                              for lo, hi in r["dport"]):
            continue
        decision = "accept" if r["action"] == "pass" else ("reject" if r["return"] else "drop")
        if r["quick"]:
            break
    return decision or "accept"


def main():
    try:
        with open(sys.argv[1], encoding="utf-8") as f:
            text = f.read()
        macros, tables, rules = parse(text)
    except (PfError, UnicodeDecodeError) as e:
        print("FAIL %s: %s" % (sys.argv[1], e))
        return 1
    print("%d macros, %d tables, %d rules" % (len(macros), len(tables), len(rules)))
    if len(sys.argv) < 4:
        return 0
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from probe import explain_verdicts, probe_packets
    binary, policy = sys.argv[2], sys.argv[3]
    probes = probe_packets()
    bad = 0
    for (proto, src, dst, port), want in zip(probes, explain_verdicts(binary, policy, probes)):
        v6 = ":" in src
        packet = {"dir": "in", "af": "inet6" if v6 else "inet", "proto": proto,
                  "src": ipaddress.ip_address(src), "dst": ipaddress.ip_address(dst),
                  "dport": port}
        got = evaluate(rules, packet)
        if want != got:
            bad += 1
            print("FAIL pf: %s %s -> %s %d: policy says %s, the pf rules %s"
                  % (proto, src, dst, port, want, got))
    print("%s pf: %d probes, %d differ" % ("FAIL" if bad else "ok", len(probes), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
