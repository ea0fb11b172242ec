# SPDX-License-Identifier: GPL-2.0-or-later
# Opens the sockets a KDC would, as named on the command line
# (PROTO:ADDR:PORT, ADDR in brackets for IPv6; a final :v6only makes an
# IPv6 socket take IPv6 only), names itself krb5kdc (or $PC_COMM, bytes
# escaped as in Python), prints "ready" and waits 60 seconds, unless killed
# sooner.
import os
import socket
import sys
import time

socks = []
for spec in sys.argv[1:]:
    proto, rest = spec.split(":", 1)
    v6only = rest.endswith(":v6only")
    if v6only:
        rest = rest[: -len(":v6only")]
    addr, port = rest.rsplit(":", 1)
    family = socket.AF_INET6 if addr.startswith("[") else socket.AF_INET
    addr = addr.strip("[]")
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(family, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if v6only else 0)
    s.bind((addr, int(port)))
    if proto == "tcp":
        s.listen(4)
    socks.append(s)
comm = os.environ.get("PC_COMM", "krb5kdc").encode().decode("unicode_escape").encode("latin-1")
with open("/proc/self/comm", "wb") as f:
    f.write(comm)
print("ready", flush=True)
time.sleep(60)
