#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# End-to-end tests of `portcullis registry audit` and `registry update`: each
# case runs the binary in a directory (the source root, or a copy made here)
# and compares stdout, stderr and the exit status with
# tests/cli/golden/registry-NAME.{out,err}.  PC_UPDATE_GOLDEN=1 rewrites
# them after an intentional change (review the diff before committing).
. "$(dirname "$0")/../lib.sh"
golden=$dir/golden
work=$root

# run NAME STATUS ARGS...: one case, run in $work.
run() {
    name=registry-$1 want=$2
    shift 2
    # shellcheck disable=SC2086
    (cd "$work" && timeout 60 ${PC_TEST_WRAPPER:-} "$bin" "$@") >"$tmp/out" 2>"$tmp/err"
    echo $? >"$tmp/rc"
    if [ "${PC_UPDATE_GOLDEN:-0}" = 1 ]; then
        for s in out err; do cp "$tmp/$s" "$golden/$name.$s"; done
    fi
    if [ "$(cat "$tmp/rc")" = "$want" ] && cmp -s "$tmp/out" "$golden/$name.out" &&
        cmp -s "$tmp/err" "$golden/$name.err"; then
        pass "$name"
        return
    fi
    fail "$name (exit status $(cat "$tmp/rc"), expected $want)"
    for s in out err; do diff -u "$golden/$name.$s" "$tmp/$s" | head -40; done
}

# The audit: practice alone against IANA, and a small crafted services file.
run audit-practice 0 registry audit --no-services
run audit-services 0 registry audit --services tests/data/services
run audit-services-all 0 registry audit --all --services tests/data/services-audit
run audit-json 0 registry audit --json --all --services tests/data/services-audit
run audit-missing 3 registry audit --services tests/data/no-such-services
run audit-bad-registry 1 registry audit --no-services --registry tests/data/iana-unterminated.csv
run audit-both 2 registry audit --no-services --services tests/data/services
run audit-argument 2 registry audit kerberos
run help 0 registry --help
run audit-help 0 registry audit --help
run no-subcommand 2 registry
run unknown-subcommand 2 registry audits

# The JSON is valid JSON.
if python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$golden/registry-audit-json.out"; then
    pass registry-audit-json-valid
else
    fail registry-audit-json-valid
fi

# The host's own services file (Debian's names krb5_prop on 754, IANA's tell):
# the audit reads it by default and finds that case.
if [ -r /etc/services ] && grep -q '^krb-prop[[:space:]]*754/tcp' /etc/services; then
    (cd "$root" && "$bin" registry audit) >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ $rc = 0 ] && grep -Eq '^  754/tcp +system krb-prop \(/etc/services:[0-9]+\); iana tell \(data/service-names-port-numbers.csv:[0-9]+\)$' "$tmp/out"; then
        pass registry-audit-etc-services
    else
        fail "registry-audit-etc-services (exit status $rc)"
        head -20 "$tmp/out" "$tmp/err"
    fi
else
    skip registry-audit-etc-services "a Debian /etc/services (netbase) naming krb-prop 754/tcp"
fi

finish
