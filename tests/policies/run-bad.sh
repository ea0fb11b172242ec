#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The bad-policy corpus: every tests/policies/bad/NAME.yaml is checked from the
# source root and its exit status and diagnostics (stderr) must match
# NAME.expected exactly (errors exit 1; a few cases hold warnings only).  PC_UPDATE_GOLDEN=1 rewrites the expected files after
# an intentional change (review the diff).  PC_TEST_WRAPPER (e.g. valgrind)
# runs every case under it.  Every case must also finish within 10 seconds.
. "$(dirname "$0")/../lib.sh"
rel=${dir#"$root"/}

for yaml in "$dir"/bad/*.yaml; do
    name=$(basename "$yaml" .yaml)
    # shellcheck disable=SC2086
    (cd "$root" && timeout 10 ${PC_TEST_WRAPPER:-} "$bin" check "$rel/bad/$name.yaml") \
        >/dev/null 2>"$tmp/err"
    rc=$?
    { echo "exit $rc"; cat "$tmp/err"; } >"$tmp/got"
    expected="$dir/bad/$name.expected"
    [ "${PC_UPDATE_GOLDEN:-0}" = 1 ] && cp "$tmp/got" "$expected"
    if [ "$rc" -ge 124 ] || [ ! -s "$tmp/err" ]; then
        echo "FAIL $name: exit status $rc, $(wc -l <"$tmp/err") lines of diagnostics (each case must be diagnosed, never crash or hang)"
        failed=$((failed + 1))
    elif cmp -s "$tmp/got" "$expected"; then
        passed=$((passed + 1))
    else
        echo "FAIL $name:"
        diff -u "$expected" "$tmp/got" | head -30
        failed=$((failed + 1))
    fi
done

# The shipped policies and examples pass `check`, and `explain` reads them,
# as text and as JSON.
for yaml in "$root"/policies/*.yaml "$root"/examples/*.yaml; do
    rel_yaml=${yaml#"$root"/}
    ok=1
    # shellcheck disable=SC2086
    (cd "$root" && ${PC_TEST_WRAPPER:-} "$bin" check "$rel_yaml") >/dev/null 2>"$tmp/err" || ok=0
    # shellcheck disable=SC2086
    (cd "$root" && ${PC_TEST_WRAPPER:-} "$bin" explain "$rel_yaml") >"$tmp/out" 2>>"$tmp/err" || ok=0
    grep -q "^rule 1 " "$tmp/out" || ok=0
    # shellcheck disable=SC2086
    (cd "$root" && ${PC_TEST_WRAPPER:-} "$bin" explain --json "$rel_yaml") >"$tmp/json" 2>>"$tmp/err" || ok=0
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/json" || ok=0
    fi
    if [ $ok = 1 ]; then
        passed=$((passed + 1))
    else
        echo "FAIL $rel_yaml: check or explain failed:"
        cat "$tmp/err"
        failed=$((failed + 1))
    fi
done

# Whoever can write a policy can change the firewall: a file every user may
# write is a warning (an error under --strict), as is one owned by another user.
cp "$root/policies/kdc-replica.yaml" "$tmp/open.yaml"
chmod 666 "$tmp/open.yaml"
"$bin" check "$tmp/open.yaml" >/dev/null 2>"$tmp/err"
rc=$?
if [ $rc = 0 ] && grep -q "can be changed by every user of this host (mode 0666).*\[policy-permissions\]" "$tmp/err" &&
    ! "$bin" check --strict "$tmp/open.yaml" >/dev/null 2>&1; then
    pass "a world-writable policy"
else
    fail "a world-writable policy (status $rc)"
fi
printf 'networks:\n  lan: [192.0.2.0/24]\n' >"$tmp/nets.yaml"
chmod 666 "$tmp/nets.yaml"
printf 'version: 1\npolicy: inc\ninclude: nets.yaml\nrules:\n  - allow: 88/udp\n    from: lan\n' >"$tmp/inc.yaml"
if "$bin" check "$tmp/inc.yaml" 2>&1 | grep -q "inc.yaml:3:10: warning: '.*nets.yaml' can be changed"; then
    pass "a world-writable include, at the include"
else
    fail "a world-writable include, at the include"
fi
chmod 644 "$tmp/open.yaml"
if [ "$(id -u)" = 0 ] && chown 65534 "$tmp/open.yaml" 2>/dev/null; then
    "$bin" check "$tmp/open.yaml" 2>&1 | grep -q "belongs to uid 65534.*\[policy-owner\]" &&
        pass "a policy owned by another user" || fail "a policy owned by another user"
else
    skip "a policy owned by another user" "root (to give the file away)"
fi

# Symbolic links and `../`: a loop is refused with its reason (exit 3 for the
# policy, an error at the include line for an include); an include may climb
# out of the policy's directory (documented: the files are the administrator's);
# a link back to the including file is a cycle, found through the link.
mkdir -p "$tmp/links/a" "$tmp/links/shared"
ln -s loop2 "$tmp/links/loop1"
ln -s loop1 "$tmp/links/loop2"
"$bin" check "$tmp/links/loop1" >/dev/null 2>"$tmp/err"
rc=$?
[ $rc = 3 ] && grep -q "Too many levels of symbolic links" "$tmp/err" &&
    pass "a policy that is a symlink loop" || fail "a policy that is a symlink loop (status $rc)"
printf 'networks:\n  lan: [192.0.2.0/24]\n' >"$tmp/links/shared/nets.yaml"
printf 'version: 1\npolicy: up\ninclude: ../shared/nets.yaml\nrules:\n  - allow: 88/udp\n    from: lan\n' \
    >"$tmp/links/a/up.yaml"
"$bin" check "$tmp/links/a/up.yaml" >/dev/null 2>&1 && pass "an include through ../" ||
    fail "an include through ../"
printf 'version: 1\npolicy: l\ninclude: ../loop1\nrules:\n  - allow: 88/udp\n' >"$tmp/links/a/l.yaml"
"$bin" check "$tmp/links/a/l.yaml" >/dev/null 2>"$tmp/err"
rc=$?
[ $rc = 1 ] && grep -q "l.yaml:3:10: error: cannot read '.*loop1': Too many levels of symbolic links" "$tmp/err" &&
    pass "an include that is a symlink loop" || fail "an include that is a symlink loop (status $rc)"
printf 'networks:\n  x: [192.0.2.1]\ninclude: back.yaml\n' >"$tmp/links/a/inc.yaml"
ln -s inc.yaml "$tmp/links/a/back.yaml"
printf 'version: 1\npolicy: c\ninclude: inc.yaml\nrules:\n  - allow: 88/udp\n' >"$tmp/links/a/c.yaml"
"$bin" check "$tmp/links/a/c.yaml" >/dev/null 2>"$tmp/err"
rc=$?
[ $rc = 1 ] && grep -q "include-cycle" "$tmp/err" &&
    pass "an include cycle through a symbolic link" || fail "an include cycle through a symbolic link (status $rc)"

# A 100 MB policy (one scalar, sparse on disk): refused by its size before a
# byte is parsed, in bounded time and memory.
printf 'version: 1\npolicy: big\ndescription: "' >"$tmp/big.yaml"
truncate -s 100M "$tmp/big.yaml"
timeout 10 "$bin" check "$tmp/big.yaml" >/dev/null 2>"$tmp/err"
rc=$?
[ $rc = 3 ] && grep -q "larger than 16 MiB" "$tmp/err" && pass "a 100 MB policy" ||
    fail "a 100 MB policy (status $rc)"
rm -f "$tmp/big.yaml"

finish
