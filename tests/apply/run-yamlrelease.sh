#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Long address lists in the YAML whose text apply and diff give back as they
# read it (pc_policy.release_texts): what they say of the policy, a duplicate
# in each list among it (one past column 65 535), is what check says, source
# lines and carets included; and the table holds every address.
#
# usage: run-yamlrelease.sh PORTCULLIS DIR   (as root: network namespaces)
. "$(dirname "$0")/../lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v nft >/dev/null 2>&1 || ! unshare -n true 2>/dev/null; then
    cannot_run "root, nft and network namespaces"
fi
pol=$tmp/p.yaml
python3 - "$pol" <<'PY'
import sys
# Each list is about 1.3 MB of text: its pages go back in steps of 512 KiB.
N = 100000
def host(net, i):
    return "10.%d.%d.%d" % (net, i // 250, i % 250 + 1)
flow = [host(i // 50000, i % 50000) for i in range(N)]
flow.insert(6000, flow[10])  # a duplicate past column 65 535, in the first step given back
block = [host(8 + i // 50000, i % 50000) for i in range(N)]
block.insert(3500, block[20])  # a duplicate in the middle of the lines, in the first step
with open(sys.argv[1], "w") as f:
    f.write("version: 1\npolicy: release\nnetworks:\n  big: [%s]\n  blk:\n" % ", ".join(flow))
    f.writelines("    - %s\n" % a for a in block)
    f.write("rules:\n  - allow: 1024/tcp\n    from: big\n  - allow: 88/tcp\n    from: blk\n")
PY
"$bin" check "$pol" >/dev/null 2>"$tmp/check.err"
if [ "$(grep -c 'network-overlap' "$tmp/check.err")" = 2 ] && grep -q 'port-reserved' "$tmp/check.err"; then
    pass "check says both duplicates and the reserved port"
else
    fail "check says both duplicates and the reserved port"
    cat "$tmp/check.err"
fi
unshare -n sh -c '"$1" apply "$2" >/dev/null 2>"$3/apply.err" &&
    "$1" diff "$2" >/dev/null 2>"$3/diff.err"; nft list set inet portcullis n_big_v4 |
    grep -o "10\.[0-9.]*" | wc -l >"$3/count"' sh "$bin" "$pol" "$tmp"
for cmd in apply diff; do
    # The policy's diagnostics come first, as check prints them.
    if head -c "$(wc -c <"$tmp/check.err")" "$tmp/$cmd.err" | cmp -s - "$tmp/check.err"; then
        pass "$cmd says what check says of the policy"
    else
        fail "$cmd says what check says of the policy"
        diff "$tmp/check.err" "$tmp/$cmd.err" | head -20
    fi
done
expect "the table holds every address of the flow list" "100000" "$tmp/count"
finish
