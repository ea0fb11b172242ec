#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Verdict probes: the kernel gives the verdicts the policy says.

For each stack (nftables, then iptables), makes two network namespaces, a
server and a client joined by veth links, loads the rendering of POLICY into
the server's (the nft text, then the table `portcullis apply` sends through
netlink, then the nft JSON; the iptables-restore and ip6tables-restore files
in namespaces of their own), listens on every probed port of every server
address there, as a daemon told its listen addresses does (a UDP answer
leaves from the address the datagram came to), and from the client sends a
real TCP connect or UDP datagram from addresses in each network, IPv4 and
IPv6, to each server address of that family.

The server's links are a list, each link a name and its addresses.  By
default there is one link holding two addresses per family, a multi-homed
host, so rules with `to:` are probed.  With --links there are three, pcA0,
pcB0 and xC0, each with addresses of its own, and every probe goes over each
of them, so rules on interface lists, wildcards and negations are probed.

Each probe's expected verdict comes from `portcullis explain --packet`, one
call answering every probe (`PROTO SRC -> DST PORT`, with `in LINK` under
--links); the outcome seen must match: accept = connected or answered, drop
= no answer within the timeout, reject = refused at once (TCP reset, ICMP
port unreachable).  A packet whose answers explain says are dropped
("unusable": its replies, a reject's reset, or IPv6 without neighbour
discovery) gets none: drop.  A rule a target leaves out with a warning at
its line (ipt-interface) is not asked of that target: the probes it decides
are counted as excused.  The neighbours are found by real neighbour
discovery and ARP: no static entries, and both namespaces forget them after
each load, so none learnt under an earlier load hides what this one does.
The namespaces are removed on exit; nothing outside them is touched.

A policy may name its own ports and sources in comment lines
(`# probe-ports: tcp/445 udp/53`, `# probe-sources: 192.0.2.11 ...`).

usage: probe.py PORTCULLIS POLICY [--links]   (as root, from the source root)
"""
import atexit
import errno
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

PORTS = [("tcp", 88), ("udp", 88), ("udp", 464), ("tcp", 749), ("udp", 749), ("tcp", 754),
         ("tcp", 2121), ("tcp", 9999), ("udp", 9999), ("tcp", 7000), ("udp", 7000)]
SOURCES = ["198.51.100.7", "192.0.2.11", "203.0.113.50",
           "2001:db8:ad::7", "2001:db8:10::11", "2001:db8:99::50"]
# The server's links, (name, addresses): by default one link with two
# addresses per family (probe.yaml's `to:` rules name the second ones).
SERVERS4, SERVERS6 = ["10.99.0.1", "10.99.0.2"], ["fd00:99::1", "fd00:99::2"]
ONE_LINK = [("pcS0", SERVERS4 + SERVERS6)]
# --links: three links, one address per family each, and fewer sources.
LINKS = [("pcA0", ["10.99.0.1", "fd00:99::1"]), ("pcB0", ["10.98.0.1", "fd00:98::1"]),
         ("xC0", ["10.97.0.1", "fd00:97::1"])]
LINK_SOURCES = ["198.51.100.7", "203.0.113.50", "2001:db8:ad::7", "2001:db8:99::50"]
TIMEOUT = 1.0
# PC_PROBE_PORTS="tcp/8888 udp/8888 ...": probe these ports instead, for a
# policy of its own (tests/kdcconf); the listener inherits it.
if os.environ.get("PC_PROBE_PORTS"):
    PORTS = [(w.split("/")[0], int(w.split("/")[1])) for w in os.environ["PC_PROBE_PORTS"].split()]


def load_overrides(policy):
    """A policy may name its own probes: `# probe-ports: tcp/445 udp/53 ...`
    and `# probe-sources: ADDRESS ...` lines replace PORTS and SOURCES."""
    global PORTS, SOURCES
    with open(policy, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"#\s*probe-(ports|sources):(.*)$", line)
            if m and m.group(1) == "ports":
                PORTS = [(w.split("/")[0], int(w.split("/")[1])) for w in m.group(2).split()]
            elif m:
                SOURCES = m.group(2).split()


def serve(addresses):
    """Listens on every probed port of each address; echoes UDP; prints 'ready'."""
    socks = []
    for proto, port in PORTS:
        for addr in addresses:
            s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET,
                              socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((addr, port))
            if proto == "tcp":
                s.listen(64)
            s.setblocking(False)
            socks.append(s)
    print("ready", flush=True)
    import select
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        r, _, _ = select.select(socks, [], [], 1.0)
        for s in r:
            try:
                if s.type == socket.SOCK_STREAM:
                    s.accept()[0].close()
                else:
                    data, peer = s.recvfrom(64)
                    s.sendto(data, peer)
            except OSError:  # EPERM: output dropped the answer
                pass


def probe_one(proto, src, dst, port):
    v6 = ":" in src
    family = socket.AF_INET6 if v6 else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
    s.settimeout(TIMEOUT)
    try:
        s.bind((src, 0))
        s.connect((dst, port))
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
    """Runs the probes given as JSON [[proto, src, dst, port, ...], ...]; prints the outcomes."""
    probes = json.loads(args)
    # All at once: a dropped probe waits out TIMEOUT, and in rounds of a few
    # dozen those waits added up to seconds a load (every listener's backlog
    # holds them all).
    with ThreadPoolExecutor(max_workers=max(1, min(len(probes), 512))) as pool:
        out = list(pool.map(lambda p: probe_one(*p[:4]), probes))
    print(json.dumps(out))


def probe_packets(links=False):
    """Every probe: [proto, source, destination, port], each source to each
    server address of its family; under --links, the link's name after."""
    out = []
    for proto, port in PORTS:
        for src in LINK_SOURCES if links else SOURCES:
            for name, addresses in LINKS if links else ONE_LINK:
                for dst in addresses:
                    if (":" in dst) == (":" in src):
                        out.append([proto, src, dst, port] + ([name] if links else []))
    return out


def explain_answers(binary, policy, probes):
    """The answers of `portcullis explain --json --packet` for the probes, in order."""
    argv = [binary, "explain", "--json"]
    for proto, src, dst, port, *link in probes:
        argv += ["--packet", "%s %s -> %s %d%s" % (proto, src, dst, port,
                                                   "".join(" in " + n for n in link))]
    r = subprocess.run(argv + [policy], capture_output=True, text=True, check=True)
    return json.loads(r.stdout)


def explain_verdicts(binary, policy, probes):
    """What `portcullis explain --packet` says the rules decide of each probe."""
    return [answer["verdict"] for answer in explain_answers(binary, policy, probes)]


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


def add_links(srv, cli, tag, links, sources):
    """The server's links to the client, each with its addresses; the sources
    on the client's end of the first, by which the server's answers leave."""
    for ns in (srv, cli):
        for k in ("all", "default"):
            in_ns(ns, "sysctl", "-qw", "net.ipv4.conf.%s.rp_filter=0" % k, check=True)
            # no duplicate address detection: a link-local address being
            # tested cannot resolve neighbours, and the first probes would
            # time out on the links made last
            in_ns(ns, "sysctl", "-qw", "net.ipv6.conf.%s.accept_dad=0" % k, check=True)
        # A reject's ICMP error is rate-limited per destination (a burst of 6,
        # then one a second): 32 probes at once from one source would see
        # some rejects as drops. The limits are the namespace's own.
        in_ns(ns, "sysctl", "-qw", "net.ipv4.icmp_ratelimit=0", check=True)
        in_ns(ns, "sysctl", "-qw", "net.ipv6.icmp.ratelimit=0", check=True)
        in_ns(ns, "ip", "link", "set", "lo", "up", check=True)
    for i, (name, addresses) in enumerate(links):
        peer = "v%d%s" % (i, tag)
        in_ns(srv, "ip", "link", "add", name, "type", "veth", "peer", "name", peer, "netns",
              cli, check=True)
        in_ns(srv, "ip", "link", "set", name, "up", check=True)
        in_ns(cli, "ip", "link", "set", peer, "up", check=True)
        for a in addresses:
            v6 = ":" in a
            in_ns(srv, "ip", "addr", "add", a + ("/64" if v6 else "/24"), "dev", name,
                  *(["nodad"] if v6 else []), check=True)
            in_ns(cli, "ip", "-6" if v6 else "-4", "route", "add", a, "dev", peer, check=True)
    in_ns(srv, "ip", "route", "add", "default", "dev", links[0][0], check=True)
    in_ns(srv, "ip", "-6", "route", "add", "default", "dev", links[0][0], check=True)
    for a in sources:
        v6 = ":" in a
        in_ns(cli, "ip", "addr", "add", a + ("/128" if v6 else "/32"), "dev", "v0" + tag,
              *(["nodad"] if v6 else []), check=True)


def run_stack(binary, policy, tag, loads, probes, expected, links, excused):
    srv, cli = tag + "s", tag + "c"
    me = os.path.abspath(__file__)
    failures = 0
    listener = None
    try:
        sh("ip", "netns", "add", srv)
        sh("ip", "netns", "add", cli)
        add_links(srv, cli, tag, LINKS if links else ONE_LINK,
                  LINK_SOURCES if links else SOURCES)
        addresses = [a for _, link in (LINKS if links else ONE_LINK) for a in link]
        listener = subprocess.Popen(["ip", "netns", "exec", srv, sys.executable, me, "serve",
                                     json.dumps(addresses), policy],
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
            for (proto, src, dst, port, *link), (want, line), got in zip(probes, expected, seen):
                if line in excused.get(label, ()):
                    spared += 1
                elif want != got:
                    bad += 1
                    print("FAIL %s: %s %s -> %s %d%s: policy says %s, the kernel did %s"
                          % (label, proto, src, dst, port, "".join(" in " + n for n in link),
                             want, got))
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
    if len(sys.argv) > 2 and sys.argv[1] == "serve":
        if len(sys.argv) > 3:
            load_overrides(sys.argv[3])
        return serve(json.loads(sys.argv[2]))
    if len(sys.argv) > 2 and sys.argv[1] == "probe":
        return probe(sys.argv[2])
    binary, policy = sys.argv[1], sys.argv[2]
    # What apply records goes to a directory of this run's, never the host's
    # /run/portcullis, when the caller names none (a run by hand).
    if not os.environ.get("PORTCULLIS_STATE_DIR"):
        state = tempfile.mkdtemp(prefix="pc-probe-state-")
        os.environ["PORTCULLIS_STATE_DIR"] = state
        atexit.register(shutil.rmtree, state, True)
    load_overrides(policy)
    links = "--links" in sys.argv[3:]
    probes = probe_packets(links)
    expected, unusable = [], {}
    for answer in explain_answers(binary, policy, probes):
        code = answer["unusable"] and answer["unusable"]["code"]
        if code:
            unusable[code] = unusable.get(code, 0) + 1
        expected.append(("drop" if code else answer["verdict"],
                         (answer.get("rule") or {}).get("line")))
    if unusable:
        print("explain: %s packets whose answers are dropped (%s): expected to get none" % (
            sum(unusable.values()), ", ".join("%s %d" % kv for kv in sorted(unusable.items()))))
    # PC_PROBE_ACCEPT="tcp/10.99.0.1/8888 ...": exactly these (protocol, server
    # address, port) must be what the policy accepts, from every source.
    want = os.environ.get("PC_PROBE_ACCEPT")
    if want is not None:
        said = sorted({"%s/%s/%d" % (p[0], p[2], p[3])
                       for p, (v, _) in zip(probes, expected) if v == "accept"})
        if said != sorted(want.split()):
            print("FAIL explain: the policy accepts %s, expected %s" % (" ".join(said), want))
            return 1
        print("ok explain: the policy accepts exactly %s" % " ".join(said))
    excused = left_out(binary, policy)
    failures = 0
    for name, loads in STACKS:
        failures += run_stack(binary, policy, "pc%d%s" % (os.getpid(), name[0]), loads,
                              probes, expected, links, excused)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
