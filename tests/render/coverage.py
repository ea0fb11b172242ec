#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The coverage guarantee, checked from the outside.

For one policy and one target, reads what `portcullis explain --json` says
each rule means (its ports and protocols, its sources and destinations per
address family) and what `portcullis render --target TARGET` emits, and
checks that every (rule, protocol, port range, address family, network
prefix) the policy names is matched by a rule of that policy rule, in the
right chain (direction), with the right verdict, interface, limit, log and
counter, and that the emitted rules of a policy rule match nothing it did not
name.  What a target cannot express must be named by a warning of the render
on that rule's line (pf: forward rules, sctp ports); it is then not required.

Targets: nft (read through nft-json: verdict map elements and the rules of
the chains they jump to, or the rules of a base chain that match their ports), iptables (the IPv4 and the IPv6 file;
iptables counts every rule, so `counter` is not asked of it), pf (read with
pfcheck.py; pf counts every rule too).

usage: coverage.py PORTCULLIS POLICY [TARGET...]   (run from the source root;
       `explain --json` is read once for all the targets)
"""
import ipaddress
import json
import os
import re
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pfcheck  # noqa: E402


def run(argv):
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def sets_of(nft):
    sets = {}
    for cmd in nft:
        s = cmd.get("set")
        if not s:
            continue
        elems = []
        for e in s["elem"]:
            if isinstance(e, int):
                elems.append((e, e))
            elif isinstance(e, str):
                elems.append(ipaddress.ip_network(e))
            elif "range" in e:
                elems.append(tuple(e["range"]))
            else:
                elems.append(ipaddress.ip_network("%s/%d" % (e["prefix"]["addr"], e["prefix"]["len"])))
        sets[s["name"]] = elems
    return sets


def lowered(rule, sets):
    """One nft rule as a dict of what it matches and does."""
    m = {"chain": rule["chain"], "comment": rule.get("comment", "")}
    for e in rule["expr"]:
        if "match" in e:
            left, right = e["match"]["left"], e["match"]["right"]
            if "meta" in left and left["meta"]["key"] in ("iifname", "oifname"):
                names = right["set"] if isinstance(right, dict) else [right]
                m[left["meta"]["key"]] = (e["match"]["op"] == "!=", tuple(sorted(names)))
            elif "meta" in left:
                m[left["meta"]["key"]] = right
            elif "payload" in left:
                p = left["payload"]
                ref = sets[right[1:]] if isinstance(right, str) and right.startswith("@") else right
                if p["field"] in ("saddr", "daddr"):
                    if isinstance(ref, str):            # one address, written into the rule
                        ref = [ipaddress.ip_network(ref)]
                    elif isinstance(ref, dict):         # one prefix
                        ref = [ipaddress.ip_network("%s/%d" % (ref["prefix"]["addr"],
                                                               ref["prefix"]["len"]))]
                    m[p["field"]] = (p["protocol"], ref)
                elif p["field"] == "dport":
                    if isinstance(ref, int):            # one port, written into the rule
                        ref = [(ref, ref)]
                    elif isinstance(ref, dict):         # one range
                        ref = [tuple(ref["range"])]
                    m["proto"], m["dport"] = p["protocol"], ref
        elif "limit" in e:
            m["limit"] = "%d/%s" % (e["limit"]["rate"], e["limit"]["per"])
        elif "log" in e:
            m["log"] = True
        elif "counter" in e:
            m["counter"] = True
        else:
            for verdict in ("accept", "drop", "reject"):
                if verdict in e:
                    m["verdict"] = verdict
    return m


def render(binary, policy, *args):
    r = subprocess.run([binary, "render", *args, policy], capture_output=True, text=True,
                       check=True)
    return r.stdout, r.stderr


def nft_rules(binary, policy):
    """The policy rules as the packet meets them: a verdict map element that
    decides (its port, its comment), or a rule in a chain a map element jumps
    to (with the ports of the elements that jump there)."""
    out, err = render(binary, policy, "--target", "nft-json")
    nft = json.loads(out)["nftables"]
    sets = sets_of(nft)
    used_by = {}
    for c in nft:
        for e in c.get("rule", {}).get("expr", []):
            if "vmap" in e:
                used_by[e["vmap"]["data"][1:]] = (c["rule"]["chain"],
                                                  e["vmap"]["key"]["payload"]["protocol"])
    rules, jumps, named = [], {}, []
    addr_maps = {}
    for c in nft:
        m = c.get("map")
        if not m:
            continue
        if m["type"] != "inet_service":
            addr_maps[m["name"]] = m       # a jump chain's sources, looked up at once
            continue
        base, proto = used_by[m["name"]]
        for key, verdict in m["elem"]:
            comment = ""
            if isinstance(key, dict) and "elem" in key:
                comment, key = key["elem"].get("comment", ""), key["elem"]["val"]
            ports = (key, key) if isinstance(key, int) else tuple(key["range"])
            if "jump" in verdict and comment:
                # one policy rule decides here: the element names it, the chain holds its rules
                named.append((verdict["jump"]["target"], base, proto, ports, comment))
            elif "jump" in verdict:
                jumps.setdefault(verdict["jump"]["target"], (base, proto, []))[2].append(ports)
            else:
                (v,) = verdict.keys()
                rules.append({"chain": base, "comment": comment, "proto": proto,
                              "dport": [ports], "verdict": v})
    chains = {}
    for c in nft:
        r = c.get("rule")
        if not r:
            continue
        by_saddr = [e["vmap"] for e in r["expr"]
                    if "vmap" in e and e["vmap"]["key"]["payload"]["field"] == "saddr"]
        if not by_saddr:
            chains.setdefault(r["chain"], []).append(lowered(r, sets))
            continue
        fam = by_saddr[0]["key"]["payload"]["protocol"]
        for key, verdict in addr_maps[by_saddr[0]["data"][1:]]["elem"]:
            comment, key = key["elem"].get("comment", ""), key["elem"]["val"]
            if isinstance(key, str):
                nets = [ipaddress.ip_network(key)]
            elif "prefix" in key:
                nets = [ipaddress.ip_network("%s/%d" % (key["prefix"]["addr"],
                                                        key["prefix"]["len"]))]
            else:
                lo, hi = (ipaddress.ip_address(a) for a in key["range"])
                nets = list(ipaddress.summarize_address_range(lo, hi))
            (v,) = verdict.keys()
            # A source map keeps the first match: what an earlier rule decides is not here.
            chains.setdefault(r["chain"], []).append(
                {"chain": r["chain"], "comment": comment, "saddr": (fam, nets), "verdict": v,
                 "mapped": int(comment.split()[0][1:])})
    for target, base, proto, ports, comment in named:
        for x in chains.get(target, []):
            rules.append(dict(x, chain=base, proto=proto, dport=[ports], comment=comment))
    for target, (base, proto, ports) in jumps.items():
        for x in chains.get(target, []):
            rules.append(dict(x, chain=base, proto=proto, dport=ports))
    # A map past its budget: its rules are in the base chain, each matching its ports.
    for base in ("input", "forward", "output"):
        rules.extend(x for x in chains.get(base, []) if "dport" in x)
    return rules, err


IPT_VERDICTS = {"ACCEPT": "accept", "DROP": "drop", "REJECT": "reject"}
UNITS = {"sec": "second", "min": "minute", "hour": "hour", "day": "day"}


def ipt_rules(binary, policy):
    """Each -A line of the IPv4 and IPv6 files; a LOG line marks the next as logged."""
    rules, errs = [], ""
    for family in ("ipv4", "ipv6"):
        out, err = render(binary, policy, "--target", "iptables", "--family", family)
        errs += err
        fam = "ip" if family == "ipv4" else "ip6"
        logged = None
        for line in out.splitlines():
            if not line.startswith("-A "):
                continue
            argv = shlex.split(line)
            chain = argv[1]
            m = {"chain": chain.rsplit("-", 1)[1], "comment": "", "nfproto": family,
                 "counter": None}
            i, neg = 2, False
            while i < len(argv):
                a, v = argv[i], argv[i + 1] if i + 1 < len(argv) else None
                if a == "!":
                    neg = True
                    i += 1
                    continue
                if a in ("-s", "-d"):
                    m["saddr" if a == "-s" else "daddr"] = (fam, [ipaddress.ip_network(v)])
                elif a in ("-i", "-o"):
                    # a wildcard ends in '+' in iptables, in '*' in the policy
                    name = v[:-1] + "*" if v.endswith("+") else v
                    m["iifname" if a == "-i" else "oifname"] = (neg, (name,))
                    neg = False
                elif a == "-p":
                    m["proto"] = v
                elif a in ("--dport", "--dports"):
                    m["dport"] = [tuple(int(x) for x in (p.split(":") * 2)[:2])
                                  for p in v.split(",")]
                elif a == "--limit":
                    rate, unit = v.split("/")
                    m["limit"] = "%s/%s" % (rate, UNITS[unit])
                elif a == "--comment":
                    m["comment"] = v
                elif a == "-j":
                    m["verdict"] = IPT_VERDICTS.get(v, v)
                elif a == "-m":
                    i += 2
                    continue
                elif not a.startswith("-"):
                    raise SystemExit("cannot read %r" % line)
                i += 2 if v is not None and not v.startswith("-") else 1
            key = {k: v for k, v in m.items() if k != "verdict"}
            if m.get("verdict") == "LOG":
                logged = key
                continue
            if logged is not None:
                if logged != key:
                    raise SystemExit("a LOG line not followed by its rule: %r" % line)
                m["log"] = True
                logged = None
            rules.append(m)
    return rules, errs


def pf_rules(binary, policy):
    out, err = render(binary, policy, "--target", "pf")
    _, _, parsed = pfcheck.parse(out)
    rules = []
    for r in parsed:
        if not r["label"]:
            continue      # defaults: loopback, ICMP, the closing block
        m = {"chain": "input" if r["dir"] == "in" else "output", "comment": r["label"] + " ",
             "log": r["log"], "counter": None, "proto": r["proto"], "dport": r["dport"]}
        if r["af"]:
            m["nfproto"] = "ipv4" if r["af"] == "inet" else "ipv6"
        for side, key in (("from", "saddr"), ("to", "daddr")):
            if r[side] is not None:
                m[key] = ("ip" if r[side][0].version == 4 else "ip6", r[side])
        if r["on"]:
            m["iifname" if r["dir"] == "in" else "oifname"] = (r["on"][0],
                                                               tuple(sorted(r["on"][1])))
        if r["rate"]:
            secs = {1: "second", 60: "minute", 3600: "hour", 86400: "day"}[r["rate"][1]]
            m["limit"] = "%d/%s" % (r["rate"][0], secs)
        m["verdict"] = "accept" if r["action"] == "pass" else (
            "reject" if r["return"] else "drop")
        rules.append(m)
    return rules, err


def exclude_all(net, others):
    """The parts of `net` that none of `others` covers."""
    parts = [net]
    for o in others:
        nxt = []
        for p in parts:
            if p.version != o.version or not p.overlaps(o):
                nxt.append(p)
            elif not p.subnet_of(o):
                nxt.extend(p.address_exclude(o))
        parts = nxt
    return parts


def merged(ranges):
    """Port ranges with overlapping and touching ones joined, as the renderers join them."""
    out = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def excused(err, r, code):
    """Whether the render warned, on this rule's line, that it could not express it."""
    return re.search(r"^%s:%d:\d+: warning: .*\[%s\]$" % (re.escape(r["file"]), r["line"], code),
                     err, re.M) is not None


def main():
    binary, policy = sys.argv[1], sys.argv[2]
    targets = sys.argv[3:] or ["nft"]
    explained = json.dumps(run([binary, "explain", "--json", policy]))
    failed = 0
    for target in targets:
        # each target reads its own copy: the pf check takes matches out of rules
        failed += check(binary, policy, target, json.loads(explained))
    return 1 if failed else 0


def check(binary, policy, target, explained):
    """Prints the problems of one target, then its summary line; 1 if any."""
    rules, err = {"nft": nft_rules, "iptables": ipt_rules, "pf": pf_rules}[target](binary, policy)
    problems = []
    checked = 0

    for r in explained["rules"]:
        tag = "r%d " % r["index"]
        mine = [x for x in rules if x["comment"].startswith(tag)]
        where = "%s:%d" % (r["file"], r["line"])
        verdict = {"allow": "accept", "deny": "drop", "reject": "reject"}[r["action"]]
        if target == "pf" and r["direction"] == "forward":
            if mine or not excused(err, r, "pf-forward"):
                problems.append("%s: a forward rule in pf, or left out without a warning"
                                % where)
            continue
        portless = ("sctp", "dccp")     # OpenBSD pf matches ports of tcp and udp only
        if target == "pf" and any(m["protocol"] in portless for m in r["matches"]):
            if any(x.get("proto") in portless for x in mine) or \
                    not excused(err, r, "pf-proto"):
                problems.append("%s: sctp/dccp ports in pf, or left out without a warning"
                                % where)
            r["matches"] = [m for m in r["matches"] if m["protocol"] not in portless]
            if not r["matches"]:
                continue      # nothing of this rule is for pf, and the warning said so
        ifs = r["interfaces"]
        want_if = (ifs["not"], tuple(sorted(ifs["names"]))) if ifs else None
        unsaid = {"iptables": want_if and want_if[0] and len(want_if[1]) > 1,
                  "pf": want_if and ((want_if[0] and len(want_if[1]) > 1)
                                     or any(n.endswith("*") for n in want_if[1]))}
        if unsaid.get(target):
            code = "ipt-interface" if target == "iptables" else "pf-interface"
            if mine or not excused(err, r, code):
                problems.append("%s: interfaces %s in %s, or left out without a warning"
                                % (where, r["interface"], target))
            continue
        mapped = [x for x in rules if x.get("mapped") and x["mapped"] <= r["index"]
                  and x["chain"] == r["direction"]]
        if not mine and not mapped:
            problems.append("%s: rule %d emits no %s rule" % (where, r["index"], target))
            continue
        seen_if = set()
        for x in mine:
            want = {"chain": r["direction"], "verdict": verdict, "log": r["log"],
                    "counter": r["counter"], "limit": r["limit"]}
            got = {"chain": x["chain"], "verdict": x.get("verdict"), "log": x.get("log", False),
                   "counter": x.get("counter", False), "limit": x.get("limit")}
            if x.get("counter", False) is None:     # the target counts every rule
                got["counter"] = want["counter"]
            if want_if:
                key = "oifname" if r["direction"] == "output" else "iifname"
                want[key], got[key] = want_if, x.get(key)
                # iptables: a list is a rule per name, all of them together
                if target == "iptables" and got[key] and not want_if[0] and \
                        len(got[key][1]) == 1 and got[key][1][0] in want_if[1]:
                    seen_if.add(got[key][1][0])
                    got[key] = want_if
            if want != got:
                problems.append("%s: %s, expected %s" % (where, got, want))
        if target == "iptables" and want_if and not want_if[0] and \
                seen_if != set(want_if[1]):
            problems.append("%s: iptables rules on %s, expected one per name of %s"
                            % (where, sorted(seen_if), list(want_if[1])))
        sides = [(side, r[name]) for side, name in (("saddr", "from"), ("daddr", "to"))
                 if not r[name]["any"]]
        for family, fam in ((4, "ip"), (6, "ip6")):
            key = "ipv%d" % family
            if any(not v[key] for _, v in sides):
                continue      # a side has no address of this family: nothing to match
            named = {side: [ipaddress.ip_network(p) for p in v[key]] for side, v in sides}
            combos = [(sp, dp) for sp in named.get("saddr", [None])
                      for dp in named.get("daddr", [None])]
            for svc in r["matches"]:
                port = (svc["port"], svc["port_end"])

                def covers(x, want):
                    if x.get("proto") != svc["protocol"]:
                        return False
                    if not any(lo <= port[0] and port[1] <= hi for lo, hi in x["dport"]):
                        return False
                    for side, prefix in zip(("saddr", "daddr"), want):
                        if prefix is None:
                            if side in x:
                                return False
                        elif side not in x or x[side][0] != fam or prefix not in x[side][1]:
                            return False
                    nfproto = x.get("nfproto")
                    if not sides and nfproto not in (None, "ipv%d" % family):
                        return False
                    return True

                def first_match(want):
                    """In a source map, the rule or the earlier ones decide every address."""
                    if want[1] is not None or want[0] is None:
                        return False
                    have = [n for x in mapped if x.get("proto") == svc["protocol"]
                            and x["saddr"][0] == fam
                            and any(lo <= port[0] and port[1] <= hi for lo, hi in x["dport"])
                            for n in x["saddr"][1]]
                    return not any(True for _ in exclude_all(want[0], have))

                for want in combos:
                    checked += 1
                    if not any(covers(x, want) for x in mine) and not first_match(want):
                        problems.append("%s: %s %d-%d/%s over IPv%d from %s to %s is in no %s "
                                        "rule" % (where, svc["service"] or "port", port[0],
                                                  port[1], svc["protocol"], family,
                                                  want[0] or "any", want[1] or "any", target))
            # Nothing beyond the rule's networks.
            for x in mine:
                for side in ("saddr", "daddr"):
                    if x.get("mapped") and side in x and x[side][0] == fam and side in named:
                        if not all(any(n.subnet_of(p) for p in named[side]) for n in x[side][1]):
                            problems.append("%s: %s %s beyond the rule's %s" % (
                                where, side, x[side][1], named[side]))
                    elif side in x and x[side][0] == fam and side in named and \
                            not set(x[side][1]) <= set(named[side]):
                        problems.append("%s: %s %s beyond the rule's %s" % (
                            where, side, x[side][1], named[side]))
        # Nothing beyond what the rule names: each nft rule's ports are the rule's ports.
        for x in mine:
            named = merged({(m["port"], m["port_end"]) for m in r["matches"]
                            if m["protocol"] == x.get("proto")})
            emitted = sorted(x.get("dport", []))
            if any(not any(lo <= a and b <= hi for lo, hi in named) for a, b in emitted):
                problems.append("%s: %s ports %s beyond the rule's %s" % (
                    where, x.get("proto"), emitted, named))

    # A source map decides each address once: its elements never overlap.
    groups = {}
    for x in rules:
        if x.get("mapped"):
            key = (x["chain"], x["proto"], tuple(x["dport"]), x["saddr"][0])
            groups.setdefault(key, []).extend(x["saddr"][1])
    for key, nets in groups.items():
        nets.sort()
        for a, b in zip(nets, nets[1:]):
            if a.overlaps(b):
                problems.append("%s: %s and %s overlap in one source map" % (key, a, b))

    for p in problems:
        print("FAIL %s: %s" % (policy, p))
    print("%s %s: %d (rule, service, family, network) checked, %d problems"
          % (policy, target, checked, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
