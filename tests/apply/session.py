#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A TCP session standing in for an SSH session, for the lockout cases of
run-apply.sh.  Every wait is bounded.

server ADDR PORT SESSION [GO]
    Listens on ADDR ("::" is dual-stack), accepts one connection, writes
    "CLIENT CPORT SERVER SPORT" to SESSION as sshd writes $SSH_CONNECTION
    (numeric hosts from getnameinfo, so a link-local peer carries its %zone
    and an IPv4 peer of a dual-stack socket is IPv4-mapped), then echoes
    until the client closes; 60 s at most.  With GO, the server speaks first
    once the file GO exists (as sshd does with a command's output): it sends
    20 messages, each after the echo of the one before.  With PC_SESSION_MARK
    in the environment, the listening socket (and so the session's) carries
    that firewall mark (SO_MARK).
client ADDR PORT UP GO RESULT [listen]
    Connects to ADDR (which may carry a %zone), exchanges one message, creates
    UP, waits (30 s at most) for the file GO, then exchanges 20 messages, each
    answered within 2 s or the session counts as dead; writes "alive" or
    "dead" to RESULT.  With "listen", after GO it sends nothing of its own:
    it waits for each of the server's 20 messages (2 s at most) and echoes it.
"""
import os
import socket
import sys
import time


def wait_for(path):
    deadline = time.monotonic() + 30
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.05)


def server(addr, port, session, go=None):
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if os.environ.get("PC_SESSION_MARK"):
        s.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_MARK", 36),
                     int(os.environ["PC_SESSION_MARK"]))
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind((addr, int(port)))
    s.listen(1)
    s.settimeout(30)
    c, peer = s.accept()
    flags = socket.NI_NUMERICHOST | socket.NI_NUMERICSERV
    chost, cport = socket.getnameinfo(peer, flags)
    shost, sport = socket.getnameinfo(c.getsockname(), flags)
    with open(session + ".new", "w") as f:
        f.write("%s %s %s %s" % (chost, cport, shost, sport))
    os.rename(session + ".new", session)
    c.settimeout(60)
    deadline = time.monotonic() + 60
    try:
        if go:
            echo(c)
            wait_for(go)
            for _ in range(20):
                exchange(c)
            return
        while time.monotonic() < deadline:
            data = c.recv(64)
            if not data:
                break
            c.sendall(data)
    except OSError:
        pass


def recv_line(c):
    """The five bytes of one message, or OSError when the peer closed."""
    got = b""
    while len(got) < 5:
        data = c.recv(64)
        if not data:
            raise OSError("closed")
        got += data
    return got


def exchange(c):
    c.sendall(b"ping\n")
    recv_line(c)


def echo(c):
    c.sendall(recv_line(c))


def client(addr, port, up, go, result, mode=None):
    info = socket.getaddrinfo(addr, int(port), type=socket.SOCK_STREAM)[0]
    deadline = time.monotonic() + 10
    while True:
        c = socket.socket(info[0], socket.SOCK_STREAM)
        c.settimeout(2)
        try:
            c.connect(info[4])
            break
        except OSError:
            c.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    exchange(c)
    open(up, "w").close()
    wait_for(go)
    state = "alive"
    try:
        for _ in range(20):
            if mode == "listen":
                echo(c)
            else:
                exchange(c)
    except OSError:
        state = "dead"
    with open(result, "w") as f:
        f.write(state)
    c.close()


if __name__ == "__main__":
    if len(sys.argv) in (5, 6) and sys.argv[1] == "server":
        server(*sys.argv[2:])
    elif len(sys.argv) == 8 and sys.argv[1] == "client" and sys.argv[7] == "listen":
        client(*sys.argv[2:])
    elif len(sys.argv) == 7 and sys.argv[1] == "client":
        client(*sys.argv[2:])
    else:
        sys.exit(__doc__)
