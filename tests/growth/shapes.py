# SPDX-License-Identifier: GPL-2.0-or-later
"""Policies of the shapes that once grew faster than their size (see
docs/hardening.md, "Input that explodes"); the growth test and bench/render.py
both write them from here.

write(path, shape, n) writes one policy of `n` items of `shape`:
  hosts     n rules `allow: kerberos`, each from its own host
  denies    n rules denying 8080/tcp, each from its own host
  ports     one rule with n literal ports
  twoports  two rules with the same n literal ports (the second repeats the first)
  unknown   n rules, each naming its own unknown service
  known     n rules, each naming its own port (what `unknown` is compared with)
  group     one network of 2000 addresses, and n rules each allowing its
            own port from it (every other rule from it and one more host)
  sameports n rules allowing 8080/tcp from one host, each on its own
            interface
  wide      n rules allowing 8080/tcp, each from its own 17 hosts (more than
            the 16 that are indexed one by one; 20 would pass the policy's
            limit of 1 000 000 values at 40 000 rules)
  hostports n rules, each allowing its own port from its own host (what
            `hosts` is compared with: the same rules, a distinct port each)
  longline  one rule whose source list is one line of about n * 12 bytes,
            with one bad address in its middle
  listfile  one rule denying kerberos from a network read from a list file
            (PATH.txt, next to the policy) of n lines: hosts, every tenth
            an IPv6 prefix, every hundredth a comment
  bignet    one network of n host addresses, one line, that 10 rules use
            (as bench/render.py writes it)
  defs      n services the policy defines, one port each, each allowed by
            its own rule from its own host
  ranges    n rules, each allowing its own port range from its own host,
            the ranges overlapping (rule i: (1+i)-(30000+i)/tcp, i counted
            modulo 30 000)
  tohosts   n rules `allow: kerberos`, each to its own host
  tohostsone tohosts, but rule n/2 to another host: one rule changed
  wideranges n rules, each allowing its own range of 20 000 ports from anywhere
            (rule i: (1+i)-(20000+i)/tcp, i counted modulo 45 000): none
            holds another
  rangesone ranges, but rule n/2 denies its range: `ranges` with one rule
            changed in the middle
  rangesdef ranges, but the input default is accept: every packet may change
  rangesany ranges, but rule n/2 takes every source (no `from:`): every
            source may change
  nested    ranges, but rule i of i % 10 == 5 is from 10.0.0.0/8 and of
            i % 10 == 0 from 10.0.0.0/16: sources that hold one another, a
            tenth of the rules holding every host
  nesteddef nested, but the input default is accept: every packet may change
  sameportsdef, wildifacesdef, tohostsdef
            sameports, wildifaces and tohosts, the input default accept
  rangesto  ranges, but each rule to its own host (`to:`), none `from:`
  rangestodef rangesto, the input default accept
  ownifaces n rules, each allowing its own port on its own interface (rule i:
            (1000+i)/tcp on e<i>, i counted modulo 50 000)
  ownifacesdef ownifaces, the input default accept
  notifaces n rules allowing 8080/tcp, each on every interface but its own
            (`interface: {not: [e<i>]}`)
  notifacesdef notifaces, the input default accept
  defports  one service the policy defines with n ports (tcp, then udp past
            65 535; each port listed alone, ports every fourth one a range of
            two), that one rule allows
  hostpackets the rules of `hosts`, and a file of n packets (PATH.packets),
            each from its own host to 8080/tcp, which no rule allows
  wildifaces n rules allowing 8080/tcp from their own host, each on its own
            interfaces, one a wildcard (pf has none: a warning a rule)
  smallnets n rules allowing kerberos, each from its own network of two
            hosts (n0, n1, ...)
  renamednets smallnets with every network renamed (m0, m1, ...) and the
            last two networks' addresses swapped: compare pairs each old
            name with the new one that holds its addresses
  bignets   one network `big` of n hosts, and n networks each naming it and
            a host of its own, each allowed by its own rule: n * n addresses
            copied, past the policy's limit of 4 000 000 (network-limit)
  grownnets smallnets with a host added to every network: each line of
            compare's answer names its network, found by its addresses
"""
import os

PREAMBLE = ("version: 1\npolicy: shape\ndefaults:\n  icmp: none\n  loopback: none\n"
        "  established: accept\nrules:\n")


# The shapes written with the input default accept (another shape's rules).
DEFAULT_ACCEPT = ("rangesdef", "nesteddef", "sameportsdef", "wildifacesdef", "tohostsdef",
                  "rangestodef", "ownifacesdef", "notifacesdef")


def host(i):
    return "10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255)


def write(path, shape, n):
    with open(path, "w") as f:
        f.write(PREAMBLE if shape not in DEFAULT_ACCEPT else
                PREAMBLE.replace("defaults:\n", "defaults:\n  input: accept\n"))
        if shape in ("hosts", "hostpackets"):
            for i in range(n):
                f.write("  - allow: kerberos\n    from: %s\n" % host(i + 1))
            if shape == "hostpackets":
                with open(path + ".packets", "w") as pk:
                    pk.write("".join("tcp %s -> 8080\n" % host(i + 1) for i in range(n)))
        elif shape == "denies":
            for i in range(n):
                f.write("  - deny: 8080/tcp\n    from: %s\n" % host(i + 1))
        elif shape in ("ports", "twoports"):
            line = "  - allow: [%s]\n" % ", ".join(
                "%d/tcp" % (1 + i % 65535) if i < 65535 else "%d/udp" % (1 + i - 65535)
                for i in range(n))
            f.write(line * (2 if shape == "twoports" else 1))
        elif shape == "known":
            for i in range(n):
                f.write("  - allow: %d/tcp\n    protocol: tcp\n" % (1 + i % 65535))
        elif shape == "unknown":
            for i in range(n):
                f.write("  - allow: nosuch%dsvc\n    protocol: tcp\n" % i)
        elif shape == "group":
            for i in range(n):
                f.write("  - allow: %d/tcp\n    from: %s\n" % (
                    1 + i % 65535, "[big0, 192.0.2.1]" if i % 2 else "big0"))
        elif shape in ("sameports", "sameportsdef"):
            for i in range(n):
                f.write("  - allow: 8080/tcp\n    from: 10.0.0.1\n    interface: e%d\n" % i)
        elif shape == "wide":
            for i in range(n):
                f.write("  - allow: 8080/tcp\n    from: [%s]\n" % ", ".join(
                    host(17 * i + k + 1) for k in range(17)))
        elif shape == "listfile":
            f.write("  - deny: kerberos\n    from: listed\nnetworks:\n  listed: {file: %s}\n"
                    % (os.path.basename(path) + ".txt"))
            with open(path + ".txt", "w") as lst:
                for i in range(n):
                    if i % 100 == 99:
                        lst.write("# a comment line\n")
                    elif i % 10 == 9:
                        lst.write("2001:db8:%x::/48\n" % i)
                    else:
                        lst.write("%s  # host %d\n" % (host(i + 1), i))
        elif shape == "hostports":
            for i in range(n):
                f.write("  - allow: %d/tcp\n    from: %s\n" % (1 + i % 65535, host(i + 1)))
        elif shape == "biglist":
            f.write("".join("  - allow: %d/tcp\n    from: big\n" % (1024 + i) for i in range(10)))
            f.write("networks:\n  big: {file: %s}\n" % (os.path.basename(path) + ".txt"))
            with open(path + ".txt", "w") as lst:
                lst.write("".join("%s\n" % host(i + 1) for i in range(n)))
        elif shape == "bignet":
            f.write("".join("  - allow: %d/tcp\n    from: big\n" % (1024 + i) for i in range(10)))
            f.write("networks:\n  big: [%s]\n" % ", ".join(host(i + 1) for i in range(n)))
        elif shape == "defs":
            for i in range(n):
                f.write("  - allow: s%d\n    from: %s\n" % (i, host(i + 1)))
            f.write("registry:\n  services:\n")
            for i in range(n):
                f.write("    s%d: {port: %d, protocol: tcp}\n" % (i, 1 + i % 65535))
        elif shape == "defports":
            tcp = ["%d-%d" % (1 + i, 1 + i) if i % 4 == 3 else "%d" % (1 + i)
                   for i in range(min(n, 65535))]
            udp = ["%d" % (1 + i) for i in range(n - len(tcp))]
            f.write("  - allow: big\nregistry:\n  services:\n    big: {tcp: [%s]%s}\n" % (
                ", ".join(tcp), ", udp: [%s]" % ", ".join(udp) if udp else ""))
        elif shape in ("ranges", "rangesone", "rangesdef", "rangesany", "rangesto",
                       "rangestodef"):
            for i in range(n):
                f.write("  - %s: %d-%d/tcp\n" % (
                    "deny" if shape == "rangesone" and i == n // 2 else "allow",
                    1 + i % 30000, 30000 + i % 30000))
                if shape != "rangesany" or i != n // 2:
                    f.write("    %s: %s\n" % ("to" if shape.startswith("rangesto") else "from",
                                             host(i + 1)))
        elif shape in ("tohosts", "tohostsone", "tohostsdef"):
            for i in range(n):
                f.write("  - allow: kerberos\n    to: %s\n" % (
                    "192.0.2.77" if shape == "tohostsone" and i == n // 2 else
                    "172.%d.%d.%d" % (16 + (i + 1 >> 16 & 15), i + 1 >> 8 & 255, i + 1 & 255)))
        elif shape == "wideranges":
            f.write("".join("  - allow: %d-%d/tcp\n" % (1 + i % 45000, 20000 + i % 45000)
                            for i in range(n)))
        elif shape in ("nested", "nesteddef"):
            for i in range(n):
                f.write("  - allow: %d-%d/tcp\n    from: %s\n" % (
                    1 + i % 30000, 30000 + i % 30000,
                    "10.0.0.0/8" if i % 10 == 5 else "10.0.0.0/16" if i % 10 == 0
                    else host(i + 1)))
        elif shape == "bignets":
            f.write("".join("  - allow: %d/tcp\n    from: m%d\n" % (1024 + i % 60000, i)
                            for i in range(n)))
            f.write("networks:\n  big: [%s]\n" % ", ".join(
                "172.%d.%d.%d" % (16 + (i >> 16 & 15), i >> 8 & 255, i & 255)
                for i in range(1, n + 1)))
            f.write("".join("  m%d: [big, %s]\n" % (i, host(i + 1)) for i in range(n)))
        elif shape in ("smallnets", "renamednets", "grownnets"):
            name = "m" if shape == "renamednets" else "n"
            for i in range(n):
                f.write("  - allow: kerberos\n    from: %s%d\n" % (name, i))
            f.write("networks:\n")
            for i in range(n):
                k = i ^ 1 if shape == "renamednets" and i >= n - 2 else i
                f.write("  %s%d: [%s, %s%s]\n" % (
                    name, i, host(3 * k + 1), host(3 * k + 2),
                    ", " + host(3 * k + 3) if shape == "grownnets" else ""))
        elif shape in ("notifaces", "notifacesdef"):
            for i in range(n):
                f.write("  - allow: 8080/tcp\n    interface: {not: [e%d]}\n" % i)
        elif shape in ("ownifaces", "ownifacesdef"):
            for i in range(n):
                f.write("  - allow: %d/tcp\n    interface: e%d\n" % (1000 + i % 50000, i))
        elif shape in ("wildifaces", "wildifacesdef"):
            for i in range(n):
                f.write("  - allow: 8080/tcp\n    from: %s\n    interface: [e%d, g%d*]\n" % (
                    host(i + 1), i, i))
        elif shape == "longline":
            hosts = [host(i + 1) for i in range(n)]
            hosts[n // 2] = "10.0.0.256"
            f.write("  - allow: kerberos\n    from: [%s]\n" % ", ".join(hosts))
        else:
            raise ValueError(shape)
        if shape == "group":
            f.write("networks:\n  big0:\n%s" % "".join(
                "    - 172.%d.%d.1\n" % (16 + k // 250, k % 250) for k in range(2000)))
