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

finish
