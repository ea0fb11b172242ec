#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The fixed memory every command pays: the peak RSS of `portcullis
# --version` and of `check` of a one-host policy against a C program that
# does nothing (pc-minimal), measured side by side in one run: RUNS rounds
# (PC_FIXEDMEM_RUNS, 9), each running the three once in a shuffled order
# through pc-bench-spawn, the median of each compared.  Ratios, never
# sizes: the C library, the kernel and its page cache differ from host to
# host.  Before the registry's tables stopped being scanned at start-up and
# were mapped in small pieces, --version took 2.1-2.3x the minimal program
# and check 2.4-2.9x (after: 1.7x and 1.9-2.0x).
# usage: run-fixedmem.sh PORTCULLIS DIR SPAWN MINIMAL
. "$(dirname "$0")/../lib.sh"
spawn=$3
minimal=$4

# Under valgrind or a sanitizer the memory is theirs.
if [ -n "${PC_TEST_WRAPPER:-}" ] || [ -n "${ASAN_OPTIONS:-}" ]; then
    echo "skipped: peak memory is measured without a wrapper or sanitizer"
    exit 77
fi
for f in "$spawn" "$minimal"; do
    if [ ! -x "$f" ]; then
        echo "FAIL: $f is not built"
        exit 1
    fi
done
# meson's MALLOC_PERTURB_ fills what malloc hands out, which no user's run does.
unset MALLOC_PERTURB_

# At most this many times the minimal program's peak RSS (x100).
max_version=190
max_check=215

runs=${PC_FIXEDMEM_RUNS:-9}
cat >"$tmp/one.yaml" <<'YAML'
version: 1
policy: one
networks:
  host: [192.0.2.1]
rules:
  - allow: kerberos
    from: host
YAML
if ! "$bin" check "$tmp/one.yaml" >/dev/null 2>&1; then
    fail "check of the one-host policy"
    finish
    exit
fi
i=0
while [ "$i" -lt "$runs" ]; do
    "$spawn" 1 -- minimal "$minimal" -- version "$bin" --version \
        -- check "$bin" check "$tmp/one.yaml" >>"$tmp/peaks" || {
        fail "pc-bench-spawn"
        finish
        exit
    }
    i=$((i + 1))
done
# median LABEL: the median peak RSS (KiB) of LABEL's runs.
median() {
    awk -v l="$1" '$1 == l && $7 == 0 { print $6 }' "$tmp/peaks" | sort -n |
        awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}
base=$(median minimal)
for what in version check; do
    peak=$(median "$what")
    eval max=\$max_$what
    if [ -z "$base" ] || [ -z "$peak" ]; then
        fail "$what: no peak measured"
        continue
    fi
    ratio=$((peak * 100 / base))
    msg="$what: peak RSS ${peak} KiB, $(awk -v r="$ratio" 'BEGIN { printf "%.2f", r / 100 }')x the minimal program's ${base} KiB (at most $(awk -v r="$max" 'BEGIN { printf "%.2f", r / 100 }')x)"
    if [ "$ratio" -le "$max" ]; then
        pass "$msg"
    else
        fail "$msg"
    fi
done
finish
