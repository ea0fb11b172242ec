#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The kdc-conf registry layer end to end, from the source root: `lookup
# --kdc-conf` on real-looking configurations (conf/), policies naming one
# (policies/: check, explain, render), and the bad-configuration corpus
# (bad/NAME.conf: `lookup --kdc-conf` must exit and diagnose as
# golden/bad-NAME.expected says).  Every case compares the exit status,
# stdout and stderr with golden/; PC_UPDATE_GOLDEN=1 rewrites them after an
# intentional change (review the diff).  PC_TEST_WRAPPER (valgrind) runs
# every case under it.
. "$(dirname "$0")/../lib.sh"
rel=${dir#"$root"/}
golden=$dir/golden

# check NAME ARGS...: the exit status, stdout and stderr as golden/NAME.
check() {
    name=$1
    shift
    # shellcheck disable=SC2086
    (cd "$root" && timeout 60 ${PC_TEST_WRAPPER:-} "$bin" "$@") >"$tmp/out" 2>"$tmp/err"
    rc=$?
    { echo "exit $rc"; echo "--- stdout"; cat "$tmp/out"; echo "--- stderr"; cat "$tmp/err"; } \
        >"$tmp/got"
    [ "${PC_UPDATE_GOLDEN:-0}" = 1 ] && cp "$tmp/got" "$golden/$name"
    if [ "$rc" -ge 124 ]; then
        fail "$name (exit $rc: a crash or a hang)"
    elif cmp -s "$tmp/got" "$golden/$name"; then
        pass "$name"
    else
        fail "$name"
        diff -u "$golden/$name" "$tmp/got" | head -40
    fi
}

names="kerberos kpasswd kerberos-adm iprop"
# shellcheck disable=SC2086
{
    check mit-listen lookup --kdc-conf "$rel/conf/mit-listen.conf" $names
    check mit-old lookup --kdc-conf "$rel/conf/mit-old.conf" $names
    check heimdal lookup --heimdal-conf "$rel/conf/heimdal.conf" $names
    check realms lookup --kdc-conf "$rel/conf/realms.conf" $names
    check realms-one lookup --kdc-conf "$rel/conf/realms.conf" --realm OTHER.EXAMPLE.ORG $names
    check realm-missing lookup --kdc-conf "$rel/conf/realms.conf" --realm NOPE.ORG kerberos
    check realm-alone lookup --realm EXAMPLE.ORG kerberos
    check includedir lookup --kdc-conf "$rel/conf/include-main.conf" $names
    check json lookup --json --kdc-conf "$rel/conf/mit-listen.conf" kerberos
    check missing lookup --kdc-conf "$rel/conf/no-such-file.conf" kerberos
    check ports-32 lookup --kdc-conf "$rel/conf/ports-32.conf" kerberos
}
for p in "$dir"/policies/*.yaml; do
    n=$(basename "$p" .yaml)
    check "policy-$n-check" check "$rel/policies/$n.yaml"
done
check policy-kdc-ports-explain explain "$rel/policies/kdc-ports.yaml"
check policy-kdc-ports-render render --target nft "$rel/policies/kdc-ports.yaml"
check policy-listen-to-explain explain "$rel/policies/listen-to.yaml"
for c in "$dir"/bad/*.conf; do
    n=$(basename "$c" .conf)
    check "bad-$n" lookup --kdc-conf "$rel/bad/$n.conf" kerberos kpasswd
done
# The same configuration from another directory: provenance is the path as written.
mkdir "$tmp/elsewhere" && cp "$dir/conf/probe.conf" "$tmp/elsewhere/kdc.conf"
(cd "$tmp/elsewhere" && "$bin" lookup --kdc-conf kdc.conf kerberos) >"$tmp/a" 2>&1
(cd "$root" && "$bin" lookup --kdc-conf "$rel/conf/probe.conf" kerberos) 2>&1 |
    sed "s|$rel/conf/probe.conf|kdc.conf|g" >"$tmp/b"
if cmp -s "$tmp/a" "$tmp/b"; then pass same-output-elsewhere; else fail same-output-elsewhere; diff -u "$tmp/a" "$tmp/b" | head; fi
finish
