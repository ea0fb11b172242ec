#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The kdc-conf layer's verdict probe, in network namespaces it makes: a
# kdc.conf puts krb5kdc on 8888, kadmind on 7749 and kpasswd on 8464, on one
# address of a two-address host (probe/kdc.conf); the policy names only
# kerberos, kpasswd and kerberos-adm.  tests/render/probe.py listens on the
# configured ports and on the defaults (88, 464, 749) of both addresses and
# sends real TCP connects and UDP datagrams through nft -f, apply, nft -j -f
# and iptables-restore: the policy must accept exactly the configured ports
# on the configured address, and the kernel must do what the policy says.
# Needs root and the bootstrap's commands; else SKIP (77).
. "$(dirname "$0")/../lib.sh"
rel=${dir#"$root"/}
why=""
[ "$(id -u)" = 0 ] || why="root"
for c in nft ip iptables-restore ip6tables-restore python3 timeout unshare; do
    command -v $c >/dev/null 2>&1 || why="$why${why:+, }$c"
done
[ -z "$why" ] && ! unshare -n true 2>/dev/null && why="network namespaces (unshare -n)"
[ -z "$why" ] || cannot_run "$why"

ports="tcp/8888 udp/8888 tcp/7749 tcp/8464 udp/8464 tcp/88 udp/88 tcp/464 udp/464 tcp/749 udp/749"
accept="tcp/10.99.0.1/8888 udp/10.99.0.1/8888 tcp/10.99.0.1/7749 tcp/10.99.0.1/8464 udp/10.99.0.1/8464"
if (cd "$root" && PC_PROBE_PORTS=$ports PC_PROBE_ACCEPT=$accept timeout 240 \
    python3 tests/render/probe.py "$bin" "$rel/probe/probe-kdc.yaml") >"$tmp/probe" 2>&1; then
    pass "kdc.conf verdict probes"
else
    fail "kdc.conf verdict probes"
    cat "$tmp/probe"
fi
grep -E '^(ok|FAIL|explain)' "$tmp/probe"
# The same services with a `to:` wider than the listen address: narrowed to
# it, never the whole `to:` (10.99.0.2 is in the /24 and must stay closed).
if (cd "$root" && PC_PROBE_PORTS=$ports PC_PROBE_ACCEPT=$accept timeout 240 \
    python3 tests/render/probe.py "$bin" "$rel/probe/probe-kdc-to.yaml") >"$tmp/probe" 2>&1; then
    pass "kdc.conf verdict probes, narrowed within to:"
else
    fail "kdc.conf verdict probes, narrowed within to:"
    cat "$tmp/probe"
fi
grep -E '^(ok|FAIL|explain)' "$tmp/probe"
finish
