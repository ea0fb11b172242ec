#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""delta-state.py model|cut FILE, or key FILE ADDR ADDR: damages a state file
of delta apply (src/apply/delta.c) and makes its checksum right again, so only
the check after the checksum can refuse it: `model` writes another model
version, `cut` leaves out the last bytes of its records, `key` writes the
second IPv4 address where the first is (a record that no longer holds what
the table holds, whole and well formed)."""
import sys

M = (1 << 64) - 1


def mix(h, w):
    h = ((h ^ w) * 0x100000001b3) & M
    return h ^ (h >> 29)


def checksum(b):
    """The state file's: four sums over the 32-byte blocks (a word each),
    folded, then the words and bytes after the last block."""
    h = [0xcbf29ce484222325 ^ j for j in range(4)]
    i = 0
    while i + 32 <= len(b):
        for j in range(4):
            h[j] = mix(h[j], int.from_bytes(b[i + 8 * j:i + 8 * j + 8], sys.byteorder))
        i += 32
    s = h[0]
    for j in range(1, 4):
        s = mix(s, h[j])
    while i + 8 <= len(b):
        s = mix(s, int.from_bytes(b[i:i + 8], sys.byteorder))
        i += 8
    for c in b[i:]:
        s = ((s ^ c) * 0x100000001b3) & M
    return s ^ (s >> 32)


what, path = sys.argv[1], sys.argv[2]
with open(path, "rb") as f:
    data = bytearray(f.read()[:-8])
if what == "key":
    old, new = (bytes(int(x) for x in a.split(".")) for a in sys.argv[3:5])
    at = data.find(old)
    if at < 0:
        sys.exit("delta-state.py: %s is not in %s" % (sys.argv[3], path))
    data[at:at + 4] = new
elif what == "model":
    # magic (8), format (4), then the model version
    data[12:16] = (99).to_bytes(4, sys.byteorder)
else:
    data = data[:-5]
with open(path, "wb") as f:
    f.write(data + checksum(bytes(data)).to_bytes(8, sys.byteorder))
