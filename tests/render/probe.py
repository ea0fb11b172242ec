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
without neighbour discovery) gets none: drop.  The neighbours are found by
real neighbour discovery and ARP: no static entries, and both namespaces
forget them after each load, so none learnt under an earlier load hides what
this one does.  The namespaces are removed on exit; nothing outside them is
touched.

With --links, the server has three veth links to the client, pcA0, pcB0 and
xC0, each with addresses of its own, and every probe goes over each of them:
its verdict comes from `explain --packet '... in LINK'`, so rules on
interface lists, wildcards and negations are probed.  A rule a target leaves
out with a warning at its line (ipt-interface) is not asked of that target:
the probes it decides are counted as excused.

usage: probe.py PORTCULLIS POLICY [--links]   (as root, from the source root)
"""
import errno
import json
import os
import re
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
# --links: the server's links (name, IPv4, IPv6), and fewer sources.
LINKS = [("pcA0", SERVER4, SERVER6), ("pcB0", "10.98.0.1", "fd00:98::1"),
         ("xC0", "10.97.0.1", "fd00:97::1")]
LINK_SOURCES = ["198.51.100.7", "203.0.113.50", "2001:db8:ad::7", "2001:db8:99::50"]
TIMEOUT = 1.0


def udp_sockets(port):
    """A UDP socket per server address the namespace holds: an answer leaves
    from the address the probe was sent to, whichever link routes it back."""
    out = []
    for _, a4, a6 in LINKS:
        for family, addr in ((socket.AF_INET, a4), (socket.AF_INET6, a6)):
            s = socket.socket(family, socket.SOCK_DGRAM)
            try:
                s.bind((addr, port))
            except OSError:
                s.close()
                continue
            s.setblocking(False)
            out.append(s)
    return out


def serve():
    """Listens on every probed port, dual-stack; echoes UDP; prints 'ready'."""
    socks = []
    for proto, port in PORTS:
        if proto == "udp":
            socks.extend(("udp", s) for s in udp_sockets(port))
            continue
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("::", port))
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


def probe_one(proto, src, port, link=0):
    v6 = ":" in src
    family = socket.AF_INET6 if v6 else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
    s.settimeout(TIMEOUT)
    try:
        s.bind((src, 0))
        s.connect((LINKS[link][2] if v6 else LINKS[link][1], port))
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


def add_links(srv, cli, tag):
    """--links: the server's three links, the sources on the client's first."""
    for ns in (srv, cli):
        for k in ("all", "default"):
            in_ns(ns, "sysctl", "-qw", "net.ipv4.conf.%s.rp_filter=0" % k, check=True)
            # no duplicate address detection: a link-local address being
            # tested cannot resolve neighbours, and the first probes would
            # time out on the links made last
            in_ns(ns, "sysctl", "-qw", "net.ipv6.conf.%s.accept_dad=0" % k, check=True)
        in_ns(ns, "ip", "link", "set", "lo", "up", check=True)
    for i, (name, a4, a6) in enumerate(LINKS):
        peer = "v%d%s" % (i, tag)
        in_ns(srv, "ip", "link", "add", name, "type", "veth", "peer", "name", peer, "netns",
              cli, check=True)
        in_ns(srv, "ip", "link", "set", name, "up", check=True)
        in_ns(cli, "ip", "link", "set", peer, "up", check=True)
        in_ns(srv, "ip", "addr", "add", a4 + "/24", "dev", name, check=True)
        in_ns(srv, "ip", "addr", "add", a6 + "/64", "dev", name, "nodad", check=True)
        in_ns(cli, "ip", "route", "add", a4, "dev", peer, check=True)
        in_ns(cli, "ip", "-6", "route", "add", a6, "dev", peer, check=True)
    # Replies leave by the first link, where the client holds the sources.
    in_ns(srv, "ip", "route", "add", "default", "dev", LINKS[0][0], check=True)
    in_ns(srv, "ip", "-6", "route", "add", "default", "dev", LINKS[0][0], check=True)
    for a in LINK_SOURCES:
        v6 = ":" in a
        in_ns(cli, "ip", "addr", "add", a + ("/128" if v6 else "/32"), "dev", "v0" + tag,
              *(["nodad"] if v6 else []), check=True)


def run_stack(binary, policy, tag, loads, probes, expected, links=False, excused=None):
    srv, cli = tag + "s", tag + "c"
    me = os.path.abspath(__file__)
    failures = 0
    listener = None
    try:
        sh("ip", "netns", "add", srv)
        sh("ip", "netns", "add", cli)
        if links:
            add_links(srv, cli, tag)
        else:
            one_link(srv, cli, tag)

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
            bad = spared = 0
            for (proto, src, port, *link), (want, line), got in zip(probes, expected, seen):
                if excused and line in excused.get(label, ()):
                    spared += 1
                elif want != got:
                    bad += 1
                    print("FAIL %s: %s %s -> %d%s: policy says %s, the kernel did %s"
                          % (label, proto, src, port,
                             " in %s" % LINKS[link[0]][0] if link else "", want, got))
            verdicts = [v for v, _ in expected]
            counts = {v: verdicts.count(v) for v in sorted(set(verdicts))}
            print("%s %s: %d probes (%s), %d differ%s" % (
                "ok" if not bad else "FAIL", label, len(probes),
                ", ".join("%d %s" % (n, v) for v, n in counts.items()), bad,
                ", %d excused (a rule left out with a warning)" % spared if spared else ""))
            failures += bad
    finally:
        if listener:
            listener.kill()
            listener.wait()
        for ns in (srv, cli):
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
    return failures


def one_link(srv, cli, tag):
    """The server and the client joined by one veth pair."""
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


def left_out(binary, policy):
    """Per load label, the policy lines whose rule the rendering leaves out (ipt-interface)."""
    lines = set()
    for family in ("ipv4", "ipv6"):
        r = subprocess.run([binary, "render", "--target", "iptables", "--family", family, policy],
                           capture_output=True, text=True, check=True)
        for m in re.finditer(r"^[^:\n]+:(\d+):\d+: warning: .*\[ipt-interface\]$", r.stderr,
                             re.M):
            lines.add(int(m.group(1)))
    return {"iptables": lines}


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        return serve()
    if len(sys.argv) > 2 and sys.argv[1] == "probe":
        return probe(sys.argv[2])
    binary, policy = sys.argv[1], sys.argv[2]
    links = "--links" in sys.argv[3:]
    probes, expected, codes = [], [], []
    for proto, port in PORTS:
        for src in LINK_SOURCES if links else SOURCES:
            for link in range(len(LINKS)) if links else [None]:
                packet = "%s %s -> %d" % (proto, src, port)
                if link is not None:
                    packet += " in %s" % LINKS[link][0]
                r = subprocess.run([binary, "explain", "--json", "--packet", packet, policy],
                                   capture_output=True, text=True, check=True)
                answer = json.loads(r.stdout)
                probes.append([proto, src, port] + ([link] if link is not None else []))
                verdict = "drop" if answer["unusable"] else answer["verdict"]
                expected.append((verdict, (answer.get("rule") or {}).get("line")))
                codes.append(answer["unusable"] and answer["unusable"]["code"])
    excused = left_out(binary, policy) if links else None
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
                              probes, expected, links, excused)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
