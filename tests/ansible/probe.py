# SPDX-License-Identifier: GPL-2.0-or-later
# probe.py ADDRESS PROTO PORT: prints "accepted" when a TCP connection gets
# the listener's "ok" (or a UDP datagram its echo) within a second, else
# "dropped".
import socket
import sys

addr, proto, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
try:
    if proto == "tcp":
        s = socket.create_connection((addr, port), timeout=1)
        s.settimeout(1)
        ok = s.recv(3) == b"ok\n"
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(1)
        s.sendto(b"probe", (addr, port))
        ok = s.recv(16) == b"probe"
except OSError:
    ok = False
print("accepted" if ok else "dropped")
