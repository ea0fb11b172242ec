#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""delta-policies.py OUTDIR SEED STEPS: writes the policies run-delta.sh
applies one after the other: step-NN.yaml, each one change from the one
before (an address added or removed, a rule added or removed, a port or a
default changed, a network added, removed or renamed, a set grown past its
declared size and shrunk again), then rand-NN.yaml, STEPS policies drawn
from SEED, each a few random changes from the one before."""
import os
import random
import sys


def policy(spec):
    out = ["version: 1", "policy: delta", "networks:"]
    for name, addrs in spec["networks"].items():
        out.append("  %s: [%s]" % (name, ", ".join('"%s"' % a for a in addrs)))
    out.append("defaults:")
    for k, v in spec["defaults"].items():
        out.append("  %s: %s" % (k, v))
    out.append("rules:")
    for r in spec["rules"]:
        out.append("  - %s: %s" % (r["action"], r["what"]))
        if r.get("protocol"):
            out.append("    protocol: %s" % r["protocol"])
        if r.get("from"):
            out.append("    from: %s" % r["from"])
        if r.get("counter"):
            out.append("    counter: true")
    return "\n".join(out) + "\n"


def base():
    return {
        "networks": {
            "admins": ["192.0.2.1", "192.0.2.5", "198.51.100.0/24"],
            "clients": ["203.0.113.0/24", "192.0.2.100", "192.0.2.101", "192.0.2.103"],
            "v6": ["2001:db8::1", "2001:db8:1::/48"],
        },
        "defaults": {"input": "drop", "forward": "drop", "output": "accept",
                     "established": "accept"},
        "rules": [
            {"action": "allow", "what": "kerberos-adm", "protocol": "tcp", "from": "admins",
             "counter": True},
            {"action": "allow", "what": "kerberos", "from": "clients"},
            {"action": "allow", "what": "8080/tcp", "from": "clients", "counter": True},
            {"action": "allow", "what": "9000/udp", "from": "v6"},
        ],
    }


def steps():
    s = base()
    yield "the base policy", s
    s["networks"]["admins"].append("192.0.2.9")
    yield "an address added", s
    s["networks"]["clients"].append("192.0.2.102")
    yield "an address added next to others (intervals merge)", s
    s["networks"]["admins"].remove("192.0.2.5")
    yield "an address removed", s
    s["rules"].append({"action": "allow", "what": "9090/tcp", "from": "admins",
                       "counter": True})
    yield "a rule added", s
    del s["rules"][1]
    yield "a rule removed", s
    s["rules"][1]["what"] = "8081/tcp"
    yield "a port changed", s
    s["defaults"]["forward"] = "accept"
    yield "a default policy changed", s
    s["networks"]["ops"] = ["10.1.0.0/16", "10.2.0.7"]
    s["rules"].append({"action": "allow", "what": "5432/tcp", "from": "ops"})
    yield "a network added", s
    del s["networks"]["ops"]
    s["rules"].pop()
    yield "a network removed", s
    s["networks"]["operators"] = s["networks"].pop("admins")
    for r in s["rules"]:
        if r.get("from") == "admins":
            r["from"] = "operators"
    yield "a network renamed", s
    s["networks"]["clients"] += ["10.9.%d.%d" % (i // 200, i % 200 * 1 + 1) for i in range(300)]
    yield "300 addresses added (the set outgrows its declared size)", s
    s["networks"]["clients"] = s["networks"]["clients"][:-250]
    yield "250 addresses removed", s
    s["rules"].append({"action": "deny", "what": "754/udp"})
    s["rules"].append({"action": "allow", "what": "443/tcp", "from": "v6", "counter": True})
    yield "a deny and a rule from IPv6 added", s


POOL = ["10.0.0.%d" % i for i in range(1, 30)] + ["10.1.%d.0/24" % i for i in range(10)] + \
    ["2001:db8:5::%x" % i for i in range(1, 10)]
PORTS = ["22/tcp", "80/tcp", "443/tcp", "8080/tcp", "5432/tcp", "53/udp", "123/udp", "kerberos"]


def random_steps(seed, n):
    rnd = random.Random(seed)
    s = {"networks": {"n1": rnd.sample(POOL, 5), "n2": rnd.sample(POOL, 3)},
         "defaults": {"input": "drop", "forward": "drop", "output": "accept",
                      "established": "accept"},
         "rules": [{"action": "allow", "what": "22/tcp", "from": "n1", "counter": True}]}
    names = 3
    for i in range(n):
        for _ in range(rnd.randint(1, 3)):
            op = rnd.randrange(9)
            nets = list(s["networks"])
            if op <= 2 and nets:
                net = s["networks"][rnd.choice(nets)]
                if op == 0 or len(net) < 2:
                    a = rnd.choice(POOL)
                    if a not in net:
                        net.append(a)
                else:
                    net.remove(rnd.choice(net))
            elif op == 3 and len(s["rules"]) < 8:
                s["rules"].insert(rnd.randrange(len(s["rules"]) + 1), {
                    "action": rnd.choice(["allow", "allow", "deny"]),
                    "what": rnd.choice(PORTS),
                    "from": rnd.choice(nets + [None]),
                    "counter": rnd.random() < 0.5})
            elif op == 4 and len(s["rules"]) > 1:
                del s["rules"][rnd.randrange(len(s["rules"]))]
            elif op == 5:
                rnd.choice(s["rules"])["what"] = rnd.choice(PORTS)
            elif op == 6:
                k = rnd.choice(["forward", "output"])
                s["defaults"][k] = "drop" if s["defaults"][k] == "accept" else "accept"
            elif op == 7 and len(nets) < 5:
                s["networks"]["n%d" % names] = rnd.sample(POOL, rnd.randint(1, 6))
                names += 1
            elif op == 8 and len(nets) > 1:
                old = rnd.choice(nets)
                new = "n%d" % names
                names += 1
                s["networks"][new] = s["networks"].pop(old)
                for r in s["rules"]:
                    if r.get("from") == old:
                        r["from"] = new
        used = {r.get("from") for r in s["rules"]}
        for r in s["rules"]:
            if r.get("from") and r["from"] not in s["networks"]:
                r["from"] = None
        # a network nothing uses is a warning only; keep the ones in use
        s["networks"] = {k: v for k, v in s["networks"].items() if k in used or len(s["networks"]) < 3}
        if not s["networks"]:
            s["networks"]["n%d" % names] = [rnd.choice(POOL)]
            names += 1
        yield "random step %d" % (i + 1), s


def main():
    out, seed, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    with open(os.path.join(out, "steps.txt"), "w") as index:
        for k, (what, s) in enumerate(steps()):
            name = "step-%02d.yaml" % k
            with open(os.path.join(out, name), "w") as f:
                f.write(policy(s))
            index.write("%s %s\n" % (name, what))
        for k, (what, s) in enumerate(random_steps(seed, n)):
            name = "rand-%02d.yaml" % k
            with open(os.path.join(out, name), "w") as f:
                f.write(policy(s))
            index.write("%s %s\n" % (name, what))


main()
