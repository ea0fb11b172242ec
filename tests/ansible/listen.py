# SPDX-License-Identifier: GPL-2.0-or-later
# A KDC's ports for the Ansible test's probes: TCP 88, 464, 749 and 754
# (accept, answer "ok", close) and UDP 88 and 464 (echo), on every address,
# for at most SECONDS (argv[1]).
import select
import socket
import sys
import time

end = time.monotonic() + float(sys.argv[1])
socks = []
for port in (88, 464, 749, 754):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(64)
    socks.append(s)
for port in (88, 464):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    socks.append(s)
while time.monotonic() < end:
    ready, _, _ = select.select(socks, [], [], 1)
    for s in ready:
        if s.type == socket.SOCK_STREAM:
            c, _ = s.accept()
            try:
                c.sendall(b"ok\n")
            except OSError:
                pass
            c.close()
        else:
            data, peer = s.recvfrom(512)
            s.sendto(data, peer)
