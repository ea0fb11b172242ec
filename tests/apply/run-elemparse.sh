#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The elements `show` and `diff` read back, parsed straight off the kernel's
# messages (src/apply/dump.c, no libnftnl object per element), against
# libnftnl's reading of the same dump: as root, each policy applied in a
# network namespace of its own (the host's ruleset is never touched), then
# tests/apply/elemparse reads every set of the table both ways and compares
# every attribute of every element.  The policies: policies/, examples/ and
# the render suite's feature, injection and probe policies; then a table
# made by hand with what no policy makes: elements with timeouts and
# expirations, comments, a data map, a concatenated interval set (key ends).
#
# usage: run-elemparse.sh PORTCULLIS DIR ELEMPARSE
. "$(dirname "$0")/../lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v nft >/dev/null 2>&1 || ! unshare -n true 2>/dev/null; then
    cannot_run "root, nft and network namespaces"
fi
elemparse=$3
export bin tmp root elemparse
unset SSH_CONNECTION

for yaml in "$root"/policies/*.yaml "$root"/examples/*.yaml "$root"/tests/render/features.yaml \
    "$root"/tests/render/injection.yaml "$root"/tests/render/probe.yaml \
    "$root"/tests/render/probe-interfaces.yaml "$root"/tests/render/probe-sets.yaml; do
    rel=${yaml#"$root"/}
    export rel
    timeout 120 unshare -n sh -c '
cd "$root"
"$bin" apply --allow-lockout "$rel" >/dev/null 2>&1 || echo "apply failed"
"$elemparse" portcullis >"$tmp/out"; echo "rc $?"
' >"$tmp/rc" 2>&1
    if [ "$(cat "$tmp/rc")" = "rc 0" ] && grep -q ': the same$' "$tmp/out"; then
        pass "$rel: every element read alike both ways ($(cat "$tmp/out"))"
    else
        fail "$rel: the two readings"
        cat "$tmp/rc" "$tmp/out"
    fi
done

# What no policy makes.
cat >"$tmp/hand.nft" <<'END'
table inet portcullis {
    set t { type ipv4_addr; flags timeout; elements = { 192.0.2.1 timeout 1h comment "one", 192.0.2.2 timeout 2h, 192.0.2.3 } }
    set c { type ipv4_addr . inet_service; flags interval; elements = { 10.0.0.0/8 . 1-1024, 192.0.2.9 . 88 comment "kdc" } }
    map m { type ipv4_addr : mark; elements = { 192.0.2.4 : 7, 192.0.2.5 : 0x10 } }
    map v { type inet_service : verdict; elements = { 22 : accept, 23 : drop, 88 comment "to j" : jump j } }
    set r { type ipv6_addr; flags interval; elements = { 2001:db8::/32, ::1 } }
    chain j { }
}
END
timeout 120 unshare -n sh -c '
nft -f "$tmp/hand.nft" || echo "nft -f failed"
"$elemparse" portcullis; echo "rc $?"
' >"$tmp/hand" 2>&1
expect "elements with timeouts, expirations, comments, data, verdicts, chains and key ends read alike both ways" \
    '5 sets, 15 elements: 3 interval ends, 2 key ends, 3 verdicts, 1 chains, 2 data, 3 user data, 2 timeouts: the same\nrc 0' "$tmp/hand"

finish
