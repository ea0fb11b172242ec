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

# registry update: a copy of the snapshot, edited here (kpasswd moved from 464
# to 465, kerberos-adm removed, 754/tcp marked Reserved, a name added at the
# end), and policies that it leaves alone, changes or breaks.  Run in a
# directory of their own so the report names them by short relative paths.
work=$tmp/w
mkdir "$work" && cp -R "$root/policies" "$work/" && cp "$dir/update-iana.yaml" "$work/" &&
    cp "$root/data/service-names-port-numbers.csv" "$work/same.csv" || exit 1
python3 - "$work/same.csv" "$work" <<'PY' || exit 1
import sys
src, work = sys.argv[1], sys.argv[2]
rows = open(src, "rb").read().split(b"\n")
new, bad = [], []
for line in rows:
    bad.append(line.replace(b"kpasswd,464,tcp,", b"kpasswd,99999,tcp,"))
    if line.startswith(b"kpasswd,464,"):
        line = b"kpasswd,465," + line[len(b"kpasswd,464,"):]
    elif line.startswith(b"kerberos-adm,749,"):
        continue
    elif line.startswith(b"tell,754,tcp,"):
        line = b",754,tcp,Reserved,,,,,,,,\r"
    new.append(line)
assert new[-1] == b""
new[-1:] = [b"newsvc,4711,tcp,A service registered after the snapshot,,,2026-03-01,,,,,\r", b""]
open(work + "/new.csv", "wb").write(b"\n".join(new))
open(work + "/bad.csv", "wb").write(b"\n".join(bad))
# kpasswd keeps 464 and gains 4005/tcp, in a row at the end of the file.
added = rows[:-1] + [b"kpasswd,4005,tcp,Password Server,,,2026-03-01,,,,,\r", b""]
open(work + "/added.csv", "wb").write(b"\n".join(added))
PY
run update-policies 1 registry update new.csv policies/kdc-primary.yaml policies/kdc-replica.yaml update-iana.yaml
run update-moved 1 registry update new.csv update-iana.yaml
run update-unaffected 0 registry update new.csv policies/kdc-replica.yaml
run update-registry-only 0 registry update new.csv
run update-same 0 registry update same.csv policies/kdc-primary.yaml update-iana.yaml
run update-reverse 1 registry update --registry new.csv same.csv update-iana.yaml
run update-json 1 registry update --json new.csv update-iana.yaml policies/kdc-primary.yaml
run update-bad-csv 3 registry update bad.csv update-iana.yaml
# Each port gained cited by its own row, not the name's first.
run update-ports-added 0 registry update added.csv
run update-missing 3 registry update no-such.csv update-iana.yaml
run update-policy-missing 3 registry update new.csv no-such.yaml
run update-no-file 2 registry update
work=$root
run update-help 0 registry update --help
if python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$golden/registry-update-json.out"; then
    pass registry-update-json-valid
else
    fail registry-update-json-valid
fi

finish
