#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# End-to-end tests of `portcullis lookup`: every case runs the real binary from
# the source root and compares stdout, stderr and the exit status with the
# golden files in tests/cli/golden/.  PC_UPDATE_GOLDEN=1 rewrites them after an
# intentional change (review the diff before committing).
. "$(dirname "$0")/../lib.sh"
golden=$dir/golden

# check NAME EXPECTED_STATUS ARGS... (tests/lib.sh)
check kerberos-adm 0 lookup kerberos-adm
check krb5_prop 0 lookup krb5_prop
check krb5_prop-system 0 lookup --services tests/data/services krb5_prop
check port-754 0 lookup 754
check port-754-tcp 0 lookup 754/tcp
check port-250-reserved 0 lookup 250
check port-796-unauthorized 0 lookup 796
check acmaint_dbd 0 lookup acmaint_dbd
check kdc-contested 0 lookup kdc
check kdc-defined 0 lookup --define kdc=88/tcp,udp kdc
check x11-range 0 lookup x11
check npp-multi-port 0 lookup npp
check kerberos-family 0 lookup kerberos kpasswd kerberos-adm krb5_prop kerberos-iv iprop
# Active Directory and Samba DCs: the names people use, the dynamic RPC range,
# and the names IANA gives to other ports (cifs: 3020, winrm: 47001).
check cifs 0 lookup cifs
check winrm 0 lookup winrm winrm-https
check msrpc-dynamic 0 lookup msrpc-dynamic 50000/tcp
check ad-dc-family 0 lookup ldap ldaps gc gc-ssl msrpc smb netbios-ns netbios-dgm netbios-ssn dns ntp adws
check json-cifs 0 lookup --json cifs
# A daemon's name never resolves; its did-you-mean names the services it serves.
check daemon-names 1 lookup krb5kdc kadmind kadmin kpropd kprop ipropd-master netbios samba smbd nmbd
check json-daemon 1 lookup --json kadmind
check unknown-name 1 lookup kerbros
check mixed-known-unknown 1 lookup kpasswd kpaswd
check bad-port 1 lookup 99999
check json-krb5_prop 0 lookup --json krb5_prop 754/tcp
check json-unknown 1 lookup --json kerbros
check registry-newer 0 lookup --registry tests/data/iana-newer.csv newsvc
check registry-broken 1 lookup --registry tests/data/iana-unterminated.csv kerberos
check registry-missing 3 lookup --registry tests/data/no-such-file.csv kerberos
check registry-directory 3 lookup --registry tests/data kerberos
check services-missing 3 lookup --services tests/data/no-such-services kerberos
check define-bad 2 lookup --define kdc=88 kdc
check define-twice 2 lookup --define kdc=88/tcp --define KDC=750/udp kdc
check define-ports 0 lookup --define 'kdc=88/tcp,udp;750/udp' kdc
check define-ports-bad 2 lookup --define 'kdc=88/tcp;750' kdc
check packet-group 0 explain tests/render/features.yaml --packet 'udp 192.0.2.70 -> 750'
check check-kdc-primary 0 check policies/kdc-primary.yaml
check check-strict 0 check --strict policies/kdc-primary.yaml
check check-wno 0 check --Wno-registry-conflict policies/kdc-primary.yaml
check wno-unknown 2 check --Wno-registry-conflicts policies/kdc-primary.yaml
check wno-nothing-near 2 explain --Wno-frobnicate policies/kdc-primary.yaml
check check-bad 1 check tests/policies/bad/service-unknown.yaml policies/kdc-primary.yaml
check check-missing 3 check policies/no-such-policy.yaml
check check-directory 3 check policies
check check-device 3 check /dev/zero
check check-no-file 2 check
check explain-kdc-primary 0 explain policies/kdc-primary.yaml
check explain-json 0 explain --json policies/kdc-primary.yaml
# Diagnostics for programs: every record with its code, severity, place,
# message and hint, acknowledged ones marked; the exit status as without.
check check-json 0 check --json policies/kdc-primary.yaml
check check-json-several 3 check --json tests/policies/bad/service-unknown.yaml \
    tests/policies/bad/lint-unused.yaml policies/kdc-primary.yaml policies/no-such-policy.yaml
check check-json-escape 1 check --json tests/cli/report-escape.yaml
check check-sarif 3 check --sarif tests/policies/bad/service-unknown.yaml \
    tests/policies/bad/lint-unused.yaml policies/kdc-primary.yaml policies/no-such-policy.yaml
check check-sarif-escape 1 check --sarif tests/cli/report-escape.yaml
check check-sarif-strict 1 check --sarif --strict tests/policies/bad/lint-unused.yaml
check check-json-and-sarif 2 check --json --sarif policies/kdc-primary.yaml
check check-json-kernel 2 check --json --kernel policies/kdc-primary.yaml
check explain-json-errors 1 explain --json tests/policies/bad/service-unknown.yaml
check explain-json-warning 0 explain --json tests/policies/bad/lint-unused.yaml
check explain-json-escape 1 explain --json tests/cli/report-escape.yaml
check packet-kerberos-v4 0 explain policies/kdc-primary.yaml --packet 'tcp 192.0.2.11 -> 88'
check packet-kerberos-v6 0 explain policies/kdc-primary.yaml --packet 'udp 2001:db8::5 -> 88'
check packet-kadmin-outsider 0 explain policies/kdc-primary.yaml --packet 'tcp 192.0.2.11 -> 749'
check packet-kadmin-admin 0 explain policies/kdc-primary.yaml --packet 'tcp 198.51.100.7 -> 749'
check packet-denied 0 explain policies/kdc-primary.yaml --packet 'udp 198.51.100.7 -> 754'
check packet-output 0 explain policies/kdc-primary.yaml --packet 'tcp -> 2001:db8:10::11 754'
check packet-json 0 explain --json policies/kdc-primary.yaml --packet 'tcp 203.0.113.7 -> 9102'
check packet-limited 0 explain policies/kdc-primary.yaml --packet 'tcp 198.51.100.9 -> 22'
check packet-twice 0 explain policies/kdc-primary.yaml --packet 'tcp 192.0.2.11 -> 749' --packet 'tcp 198.51.100.7 -> 749'
check packet-twice-json 0 explain --json policies/kdc-primary.yaml -p 'tcp 203.0.113.7 -> 9102' -p 'udp 198.51.100.7 -> 754'
# An accept whose replies the defaults drop, or IPv6 without neighbour discovery: of no use.
check packet-replies-dropped 0 explain tests/policies/bad/replies-dropped.yaml --packet 'tcp 192.0.2.7 -> 88' --packet 'tcp 192.0.2.7 -> 2121' --packet 'tcp 192.0.2.7 -> 2049'
check packet-replies-dropped-json 0 explain --json tests/policies/bad/replies-dropped.yaml --packet 'udp 192.0.2.7 -> 464' --packet 'tcp -> 192.0.2.11 22'
check explain-nd-dropped 0 explain tests/policies/bad/nd-dropped.yaml
check packet-nd-dropped 0 explain tests/policies/bad/nd-dropped.yaml --packet 'tcp 2001:db8::7 -> 88' --packet 'tcp 192.0.2.7 -> 88'
check packet-bad-second 2 explain policies/kdc-primary.yaml --packet 'tcp 192.0.2.11 -> 88' --packet 'tcp 1.2.3 -> 4'
check packet-bad 2 explain policies/kdc-primary.yaml --packet 'tcp 1.2.3 -> 4'
check packet-bad-column 2 explain policies/kdc-primary.yaml --packet 'tcp 192.0.2.7 -> 88 out eth0'
check explain-multihomed 0 explain tests/cli/multihomed.yaml
check packet-escape 2 explain tests/cli/multihomed.yaml --packet "$(printf 'tcp 192.0.2.7 -> \033[31m')"
check packet-destination 0 explain tests/cli/multihomed.yaml --packet 'tcp 198.51.100.7 -> 192.0.2.10 88' \
    --packet 'tcp 198.51.100.7 -> 192.0.2.11 88' --packet 'tcp 198.51.100.7 -> 88'
check packet-service 0 explain examples/kdc-with-metrics.yaml --packet 'tcp 203.0.113.7 -> kdc-metrics in eth1' \
    --packet 'tcp 203.0.113.7 -> kdc-metrics' --packet 'udp -> 192.0.2.1 kerberos out eth0'
check packet-service-range 1 explain examples/kdc-with-metrics.yaml --packet 'tcp 192.0.2.7 -> x11'
check packets-file 1 explain tests/cli/multihomed.yaml --packets tests/cli/packets.txt
# A definition that clashes with a --define option names the option, not a line of the policy.
check define-clash 1 check --define mysvc=7001/tcp tests/cli/define-clash.yaml
check define-clash-twice 2 check --define mysvc=7001/tcp --define MYsvc=7002/tcp tests/cli/define-clash.yaml
# On lo under `loopback: accept`: that default decides, before the rules that name lo.
check packet-loopback 0 explain tests/cli/loopback.yaml --packet 'tcp 10.0.0.1 -> 91 in lo' \
    --packet 'tcp -> 10.0.0.1 91 out lo' --packet 'tcp 10.0.0.1 -> 91 in eth0'
check packet-loopback-json 0 explain --json tests/cli/loopback.yaml --packet 'tcp 10.0.0.1 -> 91 in lo' \
    --packet 'tcp -> 10.0.0.1 91 out lo' --packet 'tcp 10.0.0.1 -> 91 in eth0'
check packets-file-json 1 explain --json tests/cli/multihomed.yaml --packet 'tcp 198.51.100.7 -> 22' \
    --packets tests/cli/packets.txt
check packets-missing 3 explain tests/cli/multihomed.yaml --packets tests/cli/no-such-file
check packets-two 3 explain tests/cli/multihomed.yaml --packets tests/cli/no-such-file \
    --packets tests/cli/packets.txt
# A group the policy defines names no one port: said so, not "unknown service".
check packet-group-name 1 explain tests/render/probe-groups.yaml --packet 'udp 198.51.100.7 -> krb-all'
# A directory says why it cannot be read; a file without line ends (/dev/zero)
# is given up after 1 MiB of a bad line, never read forever.
check packets-directory 3 explain tests/cli/multihomed.yaml --packets tests/cli
check packets-zero 1 explain tests/cli/multihomed.yaml --packets /dev/zero \
    --packet 'tcp 198.51.100.7 -> 22'
# kerberos-adm opens 749/tcp only: 749/udp from the admins falls to the default.
check packet-kadmin-udp 0 explain tests/render/probe.yaml --packet 'udp 198.51.100.7 -> 749' --packet 'tcp 198.51.100.7 -> 749'
# A port written as a number: what every registry layer says about it.
check packet-literal-port 0 explain tests/policies/bad/port-literal-registry.yaml -p 'tcp 198.51.100.7 -> 754' -p 'tcp 198.51.100.7 -> 796'
check packet-literal-port-json 0 explain --json tests/policies/bad/port-literal-registry.yaml -p 'tcp 198.51.100.7 -> 254'
check usage-none 2
check usage-command 2 lokup kerberos
check usage-option 2 lookup --frobnicate kerberos
check usage-no-query 2 lookup
check usage-missing-argument 2 lookup --registry

# --system on a host without /etc/services (a container): a warning, not a failure.
# Run only as root, in a private mount namespace this test makes itself.
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1 &&
    unshare -m true 2>/dev/null; then
    mkdir "$tmp/etc"
    (cd "$root" && unshare -m sh -c 'mount --bind "$1" /etc && exec "$2" lookup --system kpasswd' \
        sh "$tmp/etc" "$bin") >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ $rc = 0 ] && grep -q "^/etc/services: warning: cannot read the services file" "$tmp/err" &&
        grep -q "going on without a system layer" "$tmp/err" && grep -q "^kpasswd: 464/tcp" "$tmp/out"; then
        passed=$((passed + 1)); echo "ok system-services-missing"
    else
        failed=$((failed + 1)); echo "FAIL system-services-missing (status $rc)"; cat "$tmp/err"
    fi
else
    skip system-services-missing "root and a mount namespace (to hide /etc/services)"
fi

# Names fold ASCII case whatever the locale (no Turkish dotless-i trap).
(cd "$root" && LC_ALL=tr_TR.UTF-8 "$bin" lookup KERBEROS) 2>"$tmp/err" | sed 's/^KERBEROS:/kerberos:/' >"$tmp/out"
(cd "$root" && "$bin" lookup kerberos) >"$tmp/want" 2>&1
if cmp -s "$tmp/out" "$tmp/want"; then
    passed=$((passed + 1)); echo "ok locale-independent"
else
    failed=$((failed + 1)); echo "FAIL locale-independent"; diff "$tmp/want" "$tmp/out" | head
fi

# A policy on standard input is labelled <stdin>.
(cd "$root" && "$bin" check - <tests/policies/bad/service-unknown.yaml) >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc = 1 ] && grep -q '^<stdin>:4:12: error: unknown service' "$tmp/err" &&
    (cd "$root" && "$bin" check - <policies/kdc-replica.yaml 2>/dev/null) | grep -q '^<stdin>: ok, 3 rules'; then
    passed=$((passed + 1)); echo "ok stdin"
else
    failed=$((failed + 1)); echo "FAIL stdin (status $rc)"; cat "$tmp/err"
fi

# --packets - reads standard input: the same answers as the file.
(cd "$root" && "$bin" explain tests/cli/multihomed.yaml --packets - <tests/cli/packets.txt) \
    >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc = 1 ] && cmp -s "$tmp/out" "$golden/packets-file.out" &&
    sed 's|^tests/cli/packets.txt:|<stdin>:|' "$golden/packets-file.err" | cmp -s - "$tmp/err"; then
    passed=$((passed + 1)); echo "ok packets-stdin"
else
    failed=$((failed + 1)); echo "FAIL packets-stdin (status $rc)"; cat "$tmp/err"
fi

# --packets answers a line as it reads it: 200 000 lines take no more memory
# than 20 000 (peak RSS within 1 MiB), text and JSON alike.  Each peak is
# taken by bench/spawn.c (PC_SPAWN): a process forked from python3 would start
# with python's memory, which Linux counts in the peak of what it runs.
if [ ! -x "${PC_SPAWN:-}" ]; then
    failed=$((failed + 1)); echo "FAIL packets-memory: no pc-bench-spawn in PC_SPAWN"
elif command -v python3 >/dev/null 2>&1; then
    if (cd "$root" && unset MALLOC_PERTURB_ && python3 - "$bin" "$tmp" "$PC_SPAWN" <<'PY'
import os, subprocess, sys
binary, tmp, spawn = sys.argv[1], sys.argv[2], sys.argv[3]
# ASan's quarantine of freed memory would count in the peak RSS: keep it small.
if os.environ.get("ASAN_OPTIONS"):
    os.environ["ASAN_OPTIONS"] += ":quarantine_size_mb=8"
def rss(n, json):
    path = os.path.join(tmp, "packets-%d" % n)
    with open(path, "w") as f:
        for i in range(n):
            f.write("tcp 198.51.100.%d -> 192.0.2.10 %d\n" % (i % 250 + 1, i % 65535 + 1))
    # explain answers 1 when a packet is dropped: spawn counts that as a failure
    cmd = ["/bin/sh", "-c", '"$0" "$@" >/dev/null 2>&1; [ $? -le 1 ]', binary, "explain"] + \
        (["--json"] if json else []) + ["tests/cli/multihomed.yaml", "--packets", path]
    out = subprocess.run([spawn, "1", "--", "packets"] + cmd, check=True,
                         stdout=subprocess.PIPE, text=True).stdout.split()
    assert out[0] == "packets" and out[6] == "0", out
    return int(out[5])
# Under ASan the shadow memory and the allocator's own pools move the peak by
# a few MiB from run to run; a file read whole would add tens (200 000 lines).
slack = 8192 if os.environ.get("ASAN_OPTIONS") else 1024
for json in (False, True):
    small, large = rss(20000, json), rss(200000, json)
    print("packets-memory: %s peak %d KiB at 20 000, %d KiB at 200 000" % (
        "json" if json else "text", small, large))
    if large > small + slack:
        sys.exit("peak RSS %d KiB for 200 000 packets, %d KiB for 20 000" % (large, small))
PY
    ); then
        passed=$((passed + 1)); echo "ok packets-memory"
    else
        failed=$((failed + 1)); echo "FAIL packets-memory"
    fi
fi

# The JSON is valid JSON (when a JSON parser is at hand).
if command -v python3 >/dev/null 2>&1; then
    if python3 -c 'import json,sys; [json.load(open(f)) for f in sys.argv[1:]]' \
        "$golden/json-krb5_prop.out" "$golden/explain-json.out" "$golden/packet-json.out" \
        "$golden/packet-twice-json.out" "$golden/packets-file-json.out" \
        "$golden/check-json.out" "$golden/check-json-several.out" "$golden/check-json-escape.out" \
        "$golden/explain-json-errors.out" "$golden/explain-json-warning.out" \
        "$golden/explain-json-escape.out" &&
        python3 "$dir/sarif-check.py" "$golden/check-sarif.out" "$golden/check-sarif-escape.out" \
        "$golden/check-sarif-strict.out"; then
        passed=$((passed + 1)); echo "ok json-valid"
    else
        failed=$((failed + 1)); echo "FAIL json-valid"
    fi
fi

# The shipped policies pass `check --strict` with their known findings
# acknowledged in the policy (`acknowledge: {CODE: REASON}`, or a block of
# `CODE: REASON` lines; tests/cli/unack.py finds them), and without any one of
# them `--strict` fails on the finding it covered.
cp -R "$root/policies" "$root/examples" "$tmp/"
for yaml in "$tmp"/policies/*.yaml "$tmp"/examples/*.yaml; do
    name=${yaml#"$tmp"/}
    python3 "$dir/unack.py" "$yaml" >"$tmp/codes"
    n=$(wc -l <"$tmp/codes")
    ok=1
    "$bin" check --strict "$yaml" >/dev/null 2>"$tmp/err" || { ok=0; cat "$tmp/err"; }
    [ "$n" -gt 0 ] || { ok=0; echo "$name acknowledges nothing"; }
    i=1
    while [ "$i" -le "$n" ]; do
        code=$(sed -n "${i}p" "$tmp/codes")
        python3 "$dir/unack.py" "$yaml" "$i" "${yaml%.yaml}-unacked.yaml"
        "$bin" check --strict "${yaml%.yaml}-unacked.yaml" >/dev/null 2>"$tmp/err"
        rc=$?
        if [ $rc != 1 ] || ! grep -q "error: .* \[$code\]$" "$tmp/err"; then
            ok=0
            echo "$name without acknowledgement $i ($code): exit $rc"
        fi
        rm -f "${yaml%.yaml}-unacked.yaml"
        i=$((i + 1))
    done
    if [ $ok = 1 ]; then
        passed=$((passed + 1)); echo "ok strict-acknowledged $name ($n)"
    else
        failed=$((failed + 1)); echo "FAIL strict-acknowledged $name"
    fi
done

# PC_TEST_WRAPPER (e.g. valgrind) runs every case above under it.
# Same inputs, byte-identical output, whatever the host's /etc/services says.
(cd "$root" && "$bin" lookup kerberos krb5_prop 754) >"$tmp/a" 2>&1
(cd "$root" && "$bin" lookup kerberos krb5_prop 754) >"$tmp/b" 2>&1
if cmp -s "$tmp/a" "$tmp/b" && ! grep -q /etc/services "$tmp/a"; then
    passed=$((passed + 1)); echo "ok deterministic"
else
    failed=$((failed + 1)); echo "FAIL deterministic"
fi

# A device, a FIFO (no writer: opening it must not wait) and a directory,
# given as --registry, --services or the policy: the environment's problem,
# exit 3 for every command, saying which file and why (before: a device or
# FIFO as --registry exited 1, the status of a registry with bad data).
# apply and check --kernel read their inputs before any netlink socket is
# opened: they never reach the kernel here.
mkfifo "$tmp/fifo" && mkdir "$tmp/dir"
for f in /dev/zero "$tmp/fifo" "$tmp/dir"; do
    case $f in
        */dir) why='Is a directory' ;;
        *) why='not a regular file' ;;
    esac
    for c in check check--kernel explain render apply lookup; do
        pol=policies/kdc-primary.yaml
        [ $c = lookup ] && pol=kerberos
        for how in registry services policy; do
            [ $c = lookup ] && [ $how = policy ] && continue
            case $how in
                registry) set -- --registry "$f" "$pol"; what='the IANA registry' ;;
                services) set -- --services "$f" "$pol"; what='the services file' ;;
                policy) set -- "$f"; what='the policy' ;;
            esac
            # shellcheck disable=SC2086,SC2046
            (cd "$root" && timeout 20 ${PC_TEST_WRAPPER:-} "$bin" $(echo "$c" | sed 's/--/ --/') "$@") \
                >"$tmp/out" 2>"$tmp/err"
            rc=$?
            if [ $rc = 3 ] && grep -qxF "$f: error: cannot read $what: $why [io]" "$tmp/err"; then
                passed=$((passed + 1)); echo "ok $c --$how ${f##*/}: exit 3"
            else
                failed=$((failed + 1)); echo "FAIL $c --$how ${f##*/}: exit $rc, expected 3"
                cat "$tmp/err"
            fi
        done
    done
done

# A closed stdout (EPIPE) is not a crash.
(cd "$root" && "$bin" lookup kerberos 754 x11 | head -c 10 >/dev/null)
rc=$?
if [ $rc = 0 ]; then passed=$((passed + 1)); echo "ok epipe"; else failed=$((failed + 1)); echo "FAIL epipe"; fi

finish
