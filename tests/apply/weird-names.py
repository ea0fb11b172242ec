#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Makes, through raw nfnetlink (nft cannot write such names), table inet
"t<LF>x" with a comment that starts with the marker and holds an escape
sequence, and in the existing table ip f a base chain "c<LF>d" (input,
policy drop): what status and apply print of other programs' names.  A
test tool for tests/apply/run-status.sh."""
import socket, struct
NETLINK_NETFILTER = 12
def attr(t, data):
    l = 4 + len(data)
    return struct.pack("=HH", l, t) + data + b"\0" * ((4 - l % 4) % 4)
def msg(t, flags, seq, family, payload, res_id=0):
    body = struct.pack("=BBH", family, 0, socket.htons(res_id)) + payload
    return struct.pack("=IHHII", 16 + len(body), t, flags, seq, 0) + body
NLM_F_REQUEST, NLM_F_ACK, NLM_F_CREATE = 1, 4, 0x400
NEWTABLE, NEWCHAIN = (10 << 8) | 0, (10 << 8) | 3
comment = b"managed by portcullis; policy a\x1b[31mb\0"
udata = bytes([0, len(comment)]) + comment
name = b"t\nx\0"
b = msg(0x10, NLM_F_REQUEST, 1, 0, b"", 10)
b += msg(NEWTABLE, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_ACK, 2, 1, attr(1, name) + attr(6, udata))
hook = attr(1, struct.pack("!I", 1)) + attr(2, struct.pack("!i", 0))
b += msg(NEWCHAIN, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_ACK, 3, 2,
         attr(1, b"f\0") + attr(3, b"c\nd\0") + attr(4 | 0x8000, hook) + attr(5, struct.pack("!I", 0)) + attr(7, b"filter\0"))
b += msg(0x11, NLM_F_REQUEST, 4, 0, b"", 10)
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
s.bind((0, 0))
s.send(b)
s.settimeout(2)
for _ in range(2):
    r = s.recv(65536)
    err = struct.unpack("=i", r[16:20])[0]
    seq = struct.unpack("=I", r[8:12])[0]
    assert err == 0, (err, seq)
