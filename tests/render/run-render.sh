#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `portcullis render`: every policy in policies/ and examples/ (and the
# feature and injection policies here) renders byte for byte as
# tests/render/golden/NAME.nft, twice alike (each target alone, then all five
# at once with --target all); and, as root, inside a network namespace this
# script makes, `nft -c -f` accepts every rendering, loading it twice replaces the table
# atomically and leaves a foreign table alone, and the kernel's listing of it
# reloads into exactly the same ruleset (no comment can add a rule).
# The nft-json rendering (golden NAME.json) passes `nft -j -c -f`, and loaded
# with `nft -j -f` gives the kernel the same table as the text, rule for rule
# (libnftables 1.0.6 drops table and set comments from JSON input: those
# lines alone are left out of the comparison).
# probe.py sends real packets through the rendering of probe.yaml in two
# namespaces it makes, to each of the server's two addresses per family, and
# checks each verdict against `explain --packet`; the same for probe-groups.yaml
# (a service of several ports, groups of services), the neighbour discovery and
# reply-path policies; with --links, those of probe-interfaces.yaml over three
# links.
# coverage.py checks each rendering against what `explain --json` says the
# policy means: every (rule, service, protocol, family, network) is matched.
# The iptables renderings (golden NAME.iptables, NAME.ip6tables) pass
# `iptables-restore --test` and `ip6tables-restore --test`, load with
# --noflush next to a foreign rule, reload (--no-jump) without a second jump,
# list back exactly as rendered, and the listing restores into the same rules.
# The pf rendering (golden NAME.pf) passes pfcheck.py, a pf.conf(5) checker
# for the subset portcullis emits; pf itself does not run on Linux.
# coverage.py runs for every target.
# PC_UPDATE_GOLDEN=1 rewrites the golden files (review the diff).
#
# Usage: run-render.sh BIN DIR [MODE].  MODE text (the default): renderings,
# golden files, determinism, coverage, pfcheck.py, usage and output files.
# MODE kernel: the loads into the kernel and the verdict probes, in network
# namespaces; without root, namespaces or a command they call it exits 77
# (meson: SKIP), and under CI (CI=true) it fails instead.
. "$(dirname "$0")/../lib.sh"
mode=${3:-text}

case $mode in
text) ;;
kernel)
    why=""
    [ "$(id -u)" = 0 ] || why="root"
    for c in nft ip iptables ip6tables iptables-restore ip6tables-restore iptables-save ip6tables-save \
        python3 timeout unshare; do
        command -v $c >/dev/null 2>&1 || why="$why${why:+, }$c"
    done
    [ -z "$why" ] && ! unshare -n true 2>/dev/null && why="network namespaces (unshare -n)"
    [ -z "$why" ] || cannot_run "$why"
    ;;
*)
    echo "usage: run-render.sh BIN DIR [text|kernel]" >&2
    exit 2
    ;;
esac

# text_policy YAML: the renderings of one policy, their golden files and coverage.
text_policy() {
    name=$(basename "$1" .yaml)
    rel=${1#"$root"/}
    out="$tmp/$name.nft"
    json="$tmp/$name.json"
    for target in nft nft-json iptables ip6tables pf; do
        o="$tmp/$name.$target"; g="$dir/golden/$name.$target"
        args="--target $target"
        case $target in
        nft) o=$out; g="$dir/golden/$name.nft" ;;
        nft-json) o=$json; g="$dir/golden/$name.json" ;;
        iptables) args="--target iptables --family ipv4" ;;
        ip6tables) args="--target iptables --family ipv6" ;;
        esac
        # shellcheck disable=SC2086
        (cd "$root" && ${PC_TEST_WRAPPER:-} "$bin" render $args "$rel") >"$o" 2>/dev/null ||
            { fail "$name $target: render failed"; continue; }
        [ "${PC_UPDATE_GOLDEN:-0}" = 1 ] && cp "$o" "$g"
        if cmp -s "$o" "$g"; then
            pass "$name $target golden"
        else
            fail "$name $target golden"
            diff -u "$g" "$o" | head -30
        fi
    done
    # --target all --out-dir: the same five files, named after the policy file
    # (a second rendering of each target, in another process: determinism).
    rm -rf "$tmp/all" && mkdir "$tmp/all"
    if (cd "$root" && "$bin" render --target all --out-dir "$tmp/all" "$rel") 2>/dev/null &&
        cmp -s "$tmp/all/$name.nft" "$out" && cmp -s "$tmp/all/$name.nft.json" "$json" &&
        cmp -s "$tmp/all/$name.iptables" "$tmp/$name.iptables" &&
        cmp -s "$tmp/all/$name.ip6tables" "$tmp/$name.ip6tables" &&
        cmp -s "$tmp/all/$name.pf" "$tmp/$name.pf" && [ "$(ls "$tmp/all" | wc -l)" = 5 ]; then
        pass "$name all targets into a directory"
    else
        fail "$name all targets into a directory"
    fi
    # pf: the pf.conf(5) checker reads every statement (none swallowed by a comment).
    if python3 "$dir/pfcheck.py" "$tmp/$name.pf" >"$tmp/pfc" 2>&1 &&
        [ "$(grep -c '^\(pass\|block\) ' "$tmp/$name.pf")" = "$(sed -n 's/.* \([0-9]*\) rules$/\1/p' "$tmp/pfc")" ]; then
        pass "$name pf syntax"
    else
        fail "$name pf syntax"
        cat "$tmp/pfc"
    fi
    # The coverage guarantee: every (rule, service, family, network) is in each output.
    (cd "$root" && python3 "$dir/coverage.py" "$bin" "$rel" nft iptables pf) >"$tmp/cov" 2>&1
    for target in nft iptables pf; do
        if grep -q "^$rel $target: [0-9]* (rule, service, family, network) checked, 0 problems\$" "$tmp/cov"; then
            pass "$name $target coverage"
        else
            fail "$name $target coverage"
            cat "$tmp/cov"
        fi
    done
}

# kernel_policy YAML: its nft, nft-json and iptables renderings loaded, in
# network namespaces of their own.
kernel_policy() {
    name=$(basename "$1" .yaml)
    rel=${1#"$root"/}
    out="$tmp/$name.nft"
    json="$tmp/$name.json"
    for target in nft nft-json iptables ip6tables; do
        o="$tmp/$name.$target" args="--target $target"
        case $target in
        nft) o=$out ;;
        nft-json) o=$json ;;
        iptables) args="--target iptables --family ipv4" ;;
        ip6tables) args="--target iptables --family ipv6" ;;
        esac
        # shellcheck disable=SC2086
        (cd "$root" && "$bin" render $args "$rel") >"$o" 2>/dev/null ||
            { fail "$name $target: render failed"; return; }
    done
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
    for fam in ipv4 ipv6; do
        (cd "$root" && "$bin" render --target iptables --family $fam --no-jump "$rel") \
            >"$tmp/$name.$fam.nojump" 2>/dev/null
    done
    cat >"$tmp/ipt.sh" <<'NS'
set -e
tmp=$1; name=$2
iptables -A INPUT -s 203.0.113.99 -j ACCEPT          # a foreign rule, before
ip6tables -A INPUT -s 2001:db8:ffff::1 -j ACCEPT
iptables-restore --test "$tmp/$name.iptables"
ip6tables-restore --test "$tmp/$name.ip6tables"
iptables-restore --noflush "$tmp/$name.iptables"
ip6tables-restore --noflush "$tmp/$name.ip6tables"
iptables-restore --noflush "$tmp/$name.ipv4.nojump"  # a reload: emptied and refilled
ip6tables-restore --noflush "$tmp/$name.ipv6.nojump"
for t in iptables ip6tables; do
    for c in INPUT FORWARD OUTPUT; do                 # one jump each, at the head
        [ "$($t -S $c | grep -c -- "-j portcullis-")" = 1 ]
        $t -S $c | sed -n 2p | grep -q -- "-j portcullis-"
    done
    $t -S INPUT | grep -q -- "-A INPUT -s [0-9a-f:.]*/[0-9]* -j ACCEPT"   # the foreign rule
    # the kernel lists exactly the rendered rules (iptables-save sorts chains by name)
    $t-save | grep '^-A portcullis-' >"$tmp/$name.$t.saved"
    grep '^-A portcullis-' "$tmp/$name.$t" | sort -s -k2,2 | cmp - "$tmp/$name.$t.saved"
    # and its listing restores into the same rules: no comment became a rule
    $t-save >"$tmp/$name.$t.full"
    before=$($t-save | grep -c '^-A')
    $t-restore <"$tmp/$name.$t.full"
    [ "$($t-save | grep -c '^-A')" = "$before" ]
done
NS
    if timeout 60 unshare -n sh "$tmp/ipt.sh" "$tmp" "$name" 2>"$tmp/err"; then
        pass "$name iptables kernel"
    else
        fail "$name iptables kernel"
        cat "$tmp/err"
    fi
}

# each_policy FUNCTION: FUNCTION YAML for every policy.
each_policy() {
    for yaml in "$root"/policies/*.yaml "$root"/examples/*.yaml "$dir"/features.yaml \
        "$dir"/injection.yaml "$dir"/probe*.yaml; do
        "$1" "$yaml"
    done
}

if [ "$mode" = kernel ]; then
    each_policy kernel_policy
    # Verdict probes: real TCP and UDP from each network, IPv4 and IPv6, to each
    # of the server's two addresses of the family (rules with `to:`), through
    # nft -f, apply, nft -j -f and iptables-restore, each verdict as
    # `explain --packet` says;
    # probe-nd*.yaml: neighbour discovery kept under `icmp: none`, and dropped;
    # probe-replies.yaml: replies dropped by output, `established: none`;
    # probe-sets.yaml: hash sets (single addresses) and interval sets (prefixes,
    # mixed), sources inside and next to each;
# probe-samba.yaml: a Samba AD DC, its own ports (`# probe-ports:`), the
# dynamic RPC range's ends open and the port below it closed;
    # probe-interfaces.yaml over three links (pcA0, pcB0, xC0), each probe on
    # each link: rules on interface lists, wildcards and negations.
    # What apply records of the table it installed goes here, not to /run.
    export PORTCULLIS_STATE_DIR="$tmp/state"
    mkdir -p -m 700 "$PORTCULLIS_STATE_DIR"
    for yaml in "$dir"/probe*.yaml; do
        name=$(basename "$yaml" .yaml)
        links=
        [ "$name" = probe-interfaces ] && links=--links
        # shellcheck disable=SC2086
        if (cd "$root" && timeout 120 python3 "$dir/probe.py" "$bin" "tests/render/$name.yaml" \
            $links) >"$tmp/probe" 2>&1; then
            pass "$name verdict probes"
        else
            fail "$name verdict probes"
        fi
        grep -E '^(ok|FAIL|explain)' "$tmp/probe"
    done
    finish
    exit
fi

each_policy text_policy

# pf: the verdicts of the pf rules, evaluated as pf does, are the policy's.
for probe in probe probe-groups; do
    (cd "$root" && "$bin" render --target pf tests/render/$probe.yaml) >"$tmp/probe.pf" 2>/dev/null
    if (cd "$root" && python3 "$dir/pfcheck.py" "$tmp/probe.pf" "$bin" tests/render/$probe.yaml) \
        >"$tmp/pfprobe" 2>&1; then
        pass "pf verdicts ($probe)"
    else
        fail "pf verdicts ($probe)"
    fi
    grep -E '^(ok|FAIL)' "$tmp/pfprobe"
done

# Usage and output files: a bad target or table name, an atomic write, a full disk.
(cd "$root" && "$bin" render --target cisco policies/kdc-replica.yaml) >/dev/null 2>&1
[ $? = 2 ] && pass "unknown target" || fail "unknown target"
for bad in "--target all" "--target all --out-dir $tmp -o $tmp/x" "--family ipv4" \
    "--target iptables --family ipv5" "--target pf --no-jump" \
    "--target iptables --table portcullis-with-a-long-name"; do
    # shellcheck disable=SC2086
    (cd "$root" && "$bin" render $bad policies/kdc-replica.yaml) >/dev/null 2>&1
    rc=$?
    [ $rc = 2 ] && pass "usage: $bad" || fail "usage: $bad (status $rc)"
done
(cd "$root" && "$bin" render --target all --out-dir "$tmp/no/such" policies/kdc-replica.yaml) >/dev/null 2>&1
rc=$?
[ $rc = 3 ] && pass "--out-dir missing" || fail "--out-dir missing (status $rc)"

# The rendering's own warnings are said as the policy's: at most 200, the rest
# counted; --Wno-CODE leaves them out; --strict still counts every one.
{
    printf 'version: 1\npolicy: wild\ndefaults:\n  icmp: none\n  loopback: none\nrules:\n'
    i=0
    while [ $i -lt 250 ]; do
        printf '  - allow: 8080/tcp\n    from: 10.0.%d.%d\n    interface: [e%d, g%d*]\n' \
            $((i / 256)) $((i % 256 + 1)) $i $i
        i=$((i + 1))
    done
} >"$tmp/wild.yaml"
"$bin" render --target pf -o "$tmp/wild.pf" "$tmp/wild.yaml" 2>"$tmp/wild.err"
rc=$?
if [ $rc = 0 ] && [ "$(grep -c '\[pf-interface\]$' "$tmp/wild.err")" = 200 ] &&
    grep -qx '(51 more diagnostics not shown)' "$tmp/wild.err"; then
    pass "rendering warnings: 200 shown, the rest counted"
else
    fail "rendering warnings: 200 shown, the rest counted (status $rc)"
    tail -3 "$tmp/wild.err"
fi
"$bin" render --target pf --Wno-pf-interface -o "$tmp/wild.pf" "$tmp/wild.yaml" 2>"$tmp/wild.err"
rc=$?
if [ $rc = 0 ] && ! grep -q 'pf-interface' "$tmp/wild.err" && grep -q '\[pf-forward\]$' "$tmp/wild.err"; then
    pass "rendering warnings: --Wno-pf-interface"
else
    fail "rendering warnings: --Wno-pf-interface (status $rc)"
    head -3 "$tmp/wild.err"
fi
"$bin" render --target pf --strict -o "$tmp/wild-strict.pf" "$tmp/wild.yaml" 2>"$tmp/wild.err"
rc=$?
if [ $rc = 1 ] && [ ! -e "$tmp/wild-strict.pf" ] &&
    grep -q -- '--strict: 250 warnings about the rendering' "$tmp/wild.err"; then
    pass "rendering warnings: --strict counts those not shown"
else
    fail "rendering warnings: --strict counts those not shown (status $rc)"
    tail -2 "$tmp/wild.err"
fi

# A file name is printed in every header: a line break or backslash in it
# stays inside the comment.
mkdir -p "$tmp/hdr"
evil="$tmp/hdr/x
delete table inet foreign \\"
cp "$root/policies/kdc-replica.yaml" "$evil"
for target in nft iptables pf; do
    if "$bin" render --target $target "$evil" >"$tmp/hdr.out" 2>/dev/null &&
        ! grep -q '^delete table inet foreign' "$tmp/hdr.out" && ! grep -q '\\$' "$tmp/hdr.out" &&
        grep -q '^# policy .*x?delete table inet foreign ?' "$tmp/hdr.out"; then
        pass "$target header with a line break in a file name"
    else
        fail "$target header with a line break in a file name"
    fi
done
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
