#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `portcullis render`: every policy in policies/ and examples/ (and the
# feature and injection policies here) renders byte for byte as tests/render/golden/NAME.nft,
# twice alike; and, as root, inside a network namespace this script makes,
# `nft -c -f` accepts every rendering, loading it twice replaces the table
# atomically and leaves a foreign table alone, and the kernel's listing of it
# reloads into exactly the same ruleset (no comment can add a rule).
# The nft-json rendering (golden NAME.json) passes `nft -j -c -f`, and loaded
# with `nft -j -f` gives the kernel the same table as the text, rule for rule
# (libnftables 1.0.6 drops table and set comments from JSON input: those
# lines alone are left out of the comparison).
# probe.py sends real packets through the rendering of probe.yaml in two
# namespaces it makes and checks each verdict against `explain --packet`.
# coverage.py checks each rendering against what `explain --json` says the
# policy means: every (rule, service, protocol, family, network) is matched.
# PC_UPDATE_GOLDEN=1 rewrites the golden files (review the diff).
. "$(dirname "$0")/../lib.sh"

netns=0
if [ "$(id -u)" = 0 ] && command -v nft >/dev/null 2>&1 && unshare -n true 2>/dev/null; then
    netns=1
elif [ "${CI:-}" = true ]; then
    echo "FAIL: CI runs as root with nft: the namespace tests must run"
    exit 1
fi

for yaml in "$root"/policies/*.yaml "$root"/examples/*.yaml "$dir"/features.yaml "$dir"/injection.yaml; do
    name=$(basename "$yaml" .yaml)
    rel=${yaml#"$root"/}
    out="$tmp/$name.nft"
    json="$tmp/$name.json"
    for target in nft nft-json; do
        o=$out; g="$dir/golden/$name.nft"
        [ $target = nft-json ] && { o=$json; g="$dir/golden/$name.json"; }
        # shellcheck disable=SC2086
        (cd "$root" && ${PC_TEST_WRAPPER:-} "$bin" render --target $target "$rel") >"$o" 2>/dev/null ||
            { fail "$name $target: render failed"; continue; }
        (cd "$root" && "$bin" render --target $target "$rel") 2>/dev/null | cmp -s - "$o" ||
            fail "$name $target: two renderings differ"
        [ "${PC_UPDATE_GOLDEN:-0}" = 1 ] && cp "$o" "$g"
        if cmp -s "$o" "$g"; then
            pass "$name $target golden"
        else
            fail "$name $target golden"
            diff -u "$g" "$o" | head -30
        fi
    done
    # The coverage guarantee: every (rule, service, family, network) is in the output.
    if (cd "$root" && python3 "$dir/coverage.py" "$bin" "$rel") >"$tmp/cov" 2>&1; then
        pass "$name coverage"
    else
        fail "$name coverage"
        cat "$tmp/cov"
    fi
    [ $netns = 1 ] || continue
    cat >"$tmp/ns.sh" <<'NS'
set -e
nft add table inet foreign
nft add chain inet foreign keep '{ type filter hook input priority 10; policy accept; }'
nft -c -f "$1"
nft -f "$1"
before=$(nft -a list table inet portcullis | grep -c '# handle')
nft list table inet portcullis >"$2"
nft -f "$1"                      # again: replaced in one transaction
nft list table inet foreign >/dev/null
nft delete table inet portcullis
nft -f "$2"                      # the kernel's listing loads back...
after=$(nft -a list table inet portcullis | grep -c '# handle')
[ "$before" = "$after" ]         # ...into the same number of objects
[ "$(nft list tables | wc -l)" = 2 ]
nft -j -c -f "$3"
nft -j -f "$3"                   # JSON replaces the text-loaded table...
nft list table inet portcullis >"$4"
grep -v '^[[:space:]]*comment "' "$2" >"$2.rules"
grep -v '^[[:space:]]*comment "' "$4" >"$4.rules"
cmp "$2.rules" "$4.rules"        # ...with the same sets, chains and rules
[ "$(nft list tables | wc -l)" = 2 ]
NS
    if timeout 60 unshare -n sh "$tmp/ns.sh" "$out" "$tmp/$name.listing" "$json" \
        "$tmp/$name.jlisting" 2>"$tmp/err"; then
        pass "$name kernel"
    else
        fail "$name kernel"
        cat "$tmp/err"
    fi
done

# Verdict probes: real TCP and UDP from each network, IPv4 and IPv6, against the
# nft and the nft-json rendering, each verdict as `explain --packet` says.
if [ $netns = 1 ] && command -v ip >/dev/null 2>&1; then
    if (cd "$root" && timeout 120 python3 "$dir/probe.py" "$bin" tests/render/probe.yaml) \
        >"$tmp/probe" 2>&1; then
        pass "verdict probes"
    else
        fail "verdict probes"
    fi
    grep -E '^(ok|FAIL)' "$tmp/probe"
elif [ "${CI:-}" = true ]; then
    fail "verdict probes: CI must run them (root, ip)"
fi

# Usage and output files: a bad target or table name, an atomic write, a full disk.
(cd "$root" && "$bin" render --target cisco policies/kdc-replica.yaml) >/dev/null 2>&1
[ $? = 2 ] && pass "unknown target" || fail "unknown target"
(cd "$root" && "$bin" render --table 'x;y' policies/kdc-replica.yaml) >/dev/null 2>&1
[ $? = 2 ] && pass "bad table name" || fail "bad table name"
echo "old" >"$tmp/out.nft"
if (cd "$root" && "$bin" render -o "$tmp/out.nft" --table kdc policies/kdc-replica.yaml) 2>/dev/null &&
    grep -q '^table inet kdc {' "$tmp/out.nft" && [ "$(ls "$tmp" | grep -c 'out.nft.tmp')" = 0 ]; then
    pass "write to a file"
else
    fail "write to a file"
fi
(cd "$root" && "$bin" render -o /dev/full policies/kdc-replica.yaml) >/dev/null 2>&1
rc=$?
[ $rc = 3 ] && pass "disk full" || fail "disk full (status $rc)"
[ -c /dev/full ] && pass "/dev/full is still a device" || fail "/dev/full was replaced"
(cd "$root" && "$bin" render -o "$tmp/no/such/dir.nft" policies/kdc-replica.yaml) >/dev/null 2>&1
rc=$?
[ $rc = 3 ] && pass "missing directory" || fail "missing directory (status $rc)"
mkfifo "$tmp/fifo"
(cd "$root" && timeout 10 "$bin" render -o "$tmp/fifo" policies/kdc-replica.yaml) >/dev/null 2>&1
rc=$?
[ $rc = 3 ] && pass "a FIFO, without blocking" || fail "a FIFO (status $rc)"
ln -s "$tmp/nowhere/x" "$tmp/dangling"
(cd "$root" && "$bin" render -o "$tmp/dangling" policies/kdc-replica.yaml) >/dev/null 2>&1
rc=$?
[ $rc = 3 ] && pass "a dangling link" || fail "a dangling link (status $rc)"

finish
