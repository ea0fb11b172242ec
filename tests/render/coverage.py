#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The coverage guarantee, checked from the outside.

For one policy, reads what `portcullis explain --json` says each rule means
(its ports and protocols, its sources and destinations per address family)
and what `portcullis render --target nft-json` emits, and checks that every
(rule, protocol, port range, address family, network prefix) the policy names
is matched by an nft rule of that policy rule, in the right chain, with the
right verdict, interface, limit, log and counter, and that the nft rules of a
policy rule match nothing it did not name.

usage: coverage.py PORTCULLIS POLICY   (run from the source root)
"""
import ipaddress
import json
import subprocess
import sys


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
            if "meta" in left:
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


def main():
    binary, policy = sys.argv[1], sys.argv[2]
    explained = run([binary, "explain", "--json", policy])
    nft = run([binary, "render", "--target", "nft-json", policy])["nftables"]
    sets = sets_of(nft)
    rules = [lowered(c["rule"], sets) for c in nft if "rule" in c]
    problems = []
    checked = 0

    for r in explained["rules"]:
        tag = "r%d " % r["index"]
        mine = [x for x in rules if x["comment"].startswith(tag)]
        where = "%s:%d" % (r["file"], r["line"])
        verdict = {"allow": "accept", "deny": "drop", "reject": "reject"}[r["action"]]
        if not mine:
            problems.append("%s: rule %d emits no nft rule" % (where, r["index"]))
            continue
        for x in mine:
            want = {"chain": r["direction"], "verdict": verdict, "log": r["log"],
                    "counter": r["counter"], "limit": r["limit"]}
            got = {"chain": x["chain"], "verdict": x.get("verdict"), "log": x.get("log", False),
                   "counter": x.get("counter", False), "limit": x.get("limit")}
            if r["interface"]:
                key = "oifname" if r["direction"] == "output" else "iifname"
                want[key], got[key] = r["interface"], x.get(key)
            if want != got:
                problems.append("%s: %s, expected %s" % (where, got, want))
        sides = [(side, r[name]) for side, name in (("saddr", "from"), ("daddr", "to"))
                 if not r[name]["any"]]
        for family, fam in ((4, "ip"), (6, "ip6")):
            key = "ipv%d" % family
            if any(not v[key] for _, v in sides):
                continue      # a side has no address of this family: nothing to match
            for svc in r["matches"]:
                checked += 1
                port = (svc["port"], svc["port_end"])

                def covers(x):
                    if x.get("proto") != svc["protocol"]:
                        return False
                    if not any(lo <= port[0] and port[1] <= hi for lo, hi in x["dport"]):
                        return False
                    for side in ("saddr", "daddr"):
                        named = [v for s, v in sides if s == side]
                        if not named:
                            if side in x:
                                return False
                            continue
                        if side not in x or x[side][0] != fam:
                            return False
                        prefixes = [ipaddress.ip_network(p) for p in named[0][key]]
                        if sorted(prefixes) != sorted(x[side][1]):
                            return False
                    nfproto = x.get("nfproto")
                    if not sides and nfproto not in (None, "ipv%d" % family):
                        return False
                    return True

                if not any(covers(x) for x in mine):
                    problems.append("%s: %s %d-%d/%s over IPv%d is in no nft rule" % (
                        where, svc["service"] or "port", port[0], port[1], svc["protocol"], family))
        # Nothing beyond what the rule names: each nft rule's ports are the rule's ports.
        for x in mine:
            named = sorted({(m["port"], m["port_end"]) for m in r["matches"]
                            if m["protocol"] == x.get("proto")})
            emitted = sorted(x.get("dport", []))
            if any(not any(lo <= a and b <= hi for lo, hi in named) for a, b in emitted):
                problems.append("%s: %s ports %s beyond the rule's %s" % (
                    where, x.get("proto"), emitted, named))

    for p in problems:
        print("FAIL %s: %s" % (policy, p))
    print("%s: %d (rule, service, family) checked, %d problems" % (policy, checked, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
