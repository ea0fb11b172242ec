#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Verdict probes: the kernel gives the verdicts the policy says.

For each stack (nftables, then iptables), makes two network namespaces joined
by a veth pair, loads the rendering of POLICY into the server's (the nft text,
then the table `portcullis apply` sends through netlink, then the nft JSON; the iptables-restore and ip6tables-restore files in
namespaces of their own), listens on
every probed port there, and from the client sends a real TCP connect or UDP
datagram from addresses in each network, IPv4 and IPv6.  Each probe's expected
verdict comes from `portcullis explain --packet`; the outcome seen must match:
accept = connected or answered, drop = no answer within the timeout, reject =
refused at once (TCP reset, ICMP port unreachable).  A packet whose answers
explain says are dropped ("unusable": its replies, a reject's reset, or IPv6
without neighbour discovery) gets none: drop.  The neighbours are found by real neighbour discovery and
ARP: no static entries, and both namespaces forget them after each load, so
none learnt under an earlier load hides what this one does.  The namespaces
are removed on exit; nothing outside them is touched.

usage: probe.py PORTCULLIS POLICY   (as root, from the source root)
"""
import errno
import json
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

PORTS = [("tcp", 88), ("udp", 88), ("udp", 464), ("tcp", 749), ("udp", 749), ("tcp", 754),
         ("tcp", 2121), ("tcp", 9999), ("udp", 9999)]
SOURCES = ["198.51.100.7", "192.0.2.11", "203.0.113.50",
           "2001:db8:ad::7", "2001:db8:10::11", "2001:db8:99::50"]
SERVER4, SERVER6 = "10.99.0.1", "fd00:99::1"
TIMEOUT = 1.0


def serve():
    """Listens on every probed port, dual-stack; echoes UDP; prints 'ready'."""
    socks = []
    for proto, port in PORTS:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM if proto == "tcp"
                          else socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("::", port))
        if proto == "tcp":
            s.listen(64)
        s.setblocking(False)
        socks.append((proto, s))
    print("ready", flush=True)
    import select
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        r, _, _ = select.select([s for _, s in socks], [], [], 1.0)
        for s in r:
            if s.type == socket.SOCK_STREAM:
                c, _ = s.accept()
                c.close()
            else:
                data, peer = s.recvfrom(64)
                try:
                    s.sendto(data, peer)
                except OSError:  # EPERM: output dropped the answer
                    pass


def probe_one(proto, src, port):
    v6 = ":" in src
    family = socket.AF_INET6 if v6 else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
    s.settimeout(TIMEOUT)
    try:
        s.bind((src, 0))
        s.connect((SERVER6 if v6 else SERVER4, port))
        if proto == "udp":
            s.send(b"probe")
            s.recv(64)
        return "accept"
    except socket.timeout:
        return "drop"
    except ConnectionRefusedError:
        return "reject"
    except OSError as e:
        # Neighbour discovery (or ARP) got no answer: nothing came back either.
        if e.errno == errno.EHOSTUNREACH:
            return "drop"
        return "error: %s" % e
    finally:
        s.close()


def probe(args):
    """Runs the probes given as JSON [[proto, src, port], ...]; prints the outcomes."""
    probes = json.loads(args)
    with ThreadPoolExecutor(max_workers=16) as pool:
        out = list(pool.map(lambda p: probe_one(*p), probes))
    print(json.dumps(out))


def sh(*argv):
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)


def in_ns(ns, *argv, **kw):
    return subprocess.run(["ip", "netns", "exec", ns] + list(argv), **kw)


def render(binary, policy, *args):
    return subprocess.run([binary, "render", *args, policy], capture_output=True, text=True,
                          check=True).stdout


# Each stack gets namespaces of its own: (name, [(label, [(load command, render args)])]).
STACKS = [
    # apply before nft-json: libnftables 1.0.6 drops the table comment from
    # JSON, and apply leaves a table without its marker alone.
    ("nft", [("nft", [(["nft", "-f", "-"], ["--target", "nft"])]),
             ("apply", [(["apply"], None)]),
             ("nft-json", [(["nft", "-j", "-f", "-"], ["--target", "nft-json"])])]),
    ("iptables", [("iptables", [
        (["iptables-restore", "--noflush"], ["--target", "iptables", "--family", "ipv4"]),
        (["ip6tables-restore", "--noflush"], ["--target", "iptables", "--family", "ipv6"])])]),
]


def run_stack(binary, policy, tag, loads, probes, expected):
    srv, cli = tag + "s", tag + "c"
    me = os.path.abspath(__file__)
    failures = 0
    listener = None
    try:
        sh("ip", "netns", "add", srv)
        sh("ip", "netns", "add", cli)
        sh("ip", "link", "add", "vs" + tag, "netns", srv, "type", "veth", "peer", "name",
           "vc" + tag, "netns", cli)
        for ns, dev in ((srv, "vs" + tag), (cli, "vc" + tag)):
            for k in ("all", "default"):
                in_ns(ns, "sysctl", "-qw", "net.ipv4.conf.%s.rp_filter=0" % k, check=True)
            in_ns(ns, "ip", "link", "set", "lo", "up", check=True)
            in_ns(ns, "ip", "link", "set", dev, "up", check=True)
        in_ns(srv, "ip", "addr", "add", SERVER4 + "/24", "dev", "vs" + tag, check=True)
        in_ns(srv, "ip", "addr", "add", SERVER6 + "/64", "dev", "vs" + tag, "nodad", check=True)
        in_ns(srv, "ip", "route", "add", "default", "dev", "vs" + tag, check=True)
        in_ns(srv, "ip", "-6", "route", "add", "default", "dev", "vs" + tag, check=True)
        for a in SOURCES:
            v6 = ":" in a
            in_ns(cli, "ip", "addr", "add", a + ("/128" if v6 else "/32"), "dev", "vc" + tag,
                  *(["nodad"] if v6 else []), check=True)
        in_ns(cli, "ip", "route", "add", SERVER4, "dev", "vc" + tag, check=True)
        in_ns(cli, "ip", "-6", "route", "add", SERVER6, "dev", "vc" + tag, check=True)

        listener = subprocess.Popen(["ip", "netns", "exec", srv, sys.executable, me, "serve"],
                                    stdout=subprocess.PIPE, text=True)
        if listener.stdout.readline().strip() != "ready":
            print("FAIL: the listener did not start")
            return 1

        for label, steps in loads:
            for load, args in steps:
                if args is None:  # portcullis itself, through netlink
                    env = {k: v for k, v in os.environ.items() if k != "SSH_CONNECTION"}
                    in_ns(srv, binary, *load, policy, capture_output=True, check=True, env=env)
                else:
                    in_ns(srv, *load, input=render(binary, policy, *args), text=True, check=True)
            for ns in (srv, cli):
                in_ns(ns, "ip", "neigh", "flush", "all", check=True)
            r = in_ns(cli, sys.executable, me, "probe", json.dumps(probes),
                      capture_output=True, text=True, check=True, timeout=60)
            seen = json.loads(r.stdout)
            bad = 0
            for (proto, src, port), want, got in zip(probes, expected, seen):
                if want != got:
                    bad += 1
                    print("FAIL %s: %s %s -> %d: policy says %s, the kernel did %s"
                          % (label, proto, src, port, want, got))
            counts = {v: expected.count(v) for v in sorted(set(expected))}
            print("%s %s: %d probes (%s), %d differ" % (
                "ok" if not bad else "FAIL", label, len(probes),
                ", ".join("%d %s" % (n, v) for v, n in counts.items()), bad))
            failures += bad
    finally:
        if listener:
            listener.kill()
            listener.wait()
        for ns in (srv, cli):
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
    return failures


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        return serve()
    if len(sys.argv) > 2 and sys.argv[1] == "probe":
        return probe(sys.argv[2])
    binary, policy = sys.argv[1], sys.argv[2]
    probes, expected, codes = [], [], []
    for proto, port in PORTS:
        for src in SOURCES:
            packet = "%s %s -> %d" % (proto, src, port)
            r = subprocess.run([binary, "explain", "--json", "--packet", packet, policy],
                               capture_output=True, text=True, check=True)
            answer = json.loads(r.stdout)
            probes.append([proto, src, port])
            expected.append("drop" if answer["unusable"] else answer["verdict"])
            codes.append(answer["unusable"] and answer["unusable"]["code"])
    unusable = {}
    for code in codes:
        if code:
            unusable[code] = unusable.get(code, 0) + 1
    if unusable:
        print("explain: %s packets whose answers are dropped (%s): expected to get none" % (
            sum(unusable.values()), ", ".join("%s %d" % kv for kv in sorted(unusable.items()))))
    failures = 0
    for name, loads in STACKS:
        failures += run_stack(binary, policy, "pc%d%s" % (os.getpid(), name[0]), loads,
                              probes, expected)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
