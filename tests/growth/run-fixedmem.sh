#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The fixed memory every command pays: the peak RSS of `portcullis
# --version`, of `check` of a one-host policy and of the same policy naming
# a service no layer knows (the did-you-mean search) against a C program
# that does nothing (pc-minimal), measured side by side in one run: RUNS
# rounds (PC_FIXEDMEM_RUNS, 9), each running the four once in a shuffled order
# through pc-bench-spawn, the median of each compared.  Ratios, never
# sizes: the C library, the kernel and its page cache differ from host to
# host.  Before the registry's tables stopped being scanned at start-up,
# --version took 2.1-2.3x the minimal program (after: 1.6-1.7x).  check's
# two peaks are printed, not held: a read fault maps the whole large folio
# of the page cache around the page read, as far as the mapping reaches, so
# what a few pages of the binary's 2 MB of tables cost moves by up to a
# megabyte with the address the binary is loaded at and with how the page
# cache holds the file (check of one host 2.3-2.8x, the unknown name
# 2.3-2.9x, from one run of this script to the next).
# LINKED_IN: the libraries the build linked in (-Dstatic_deps; meson
# passes them): the program must load no shared copy of any, which would
# map its pages and bind its symbols at every start.
# usage: run-fixedmem.sh PORTCULLIS DIR SPAWN MINIMAL [LINKED_IN]
. "$(dirname "$0")/../lib.sh"
spawn=$3
minimal=$4
linked_in=${5:-}

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

# The dynamic loader lists what it would load, and runs nothing.
LD_TRACE_LOADED_OBJECTS=1 "$bin" >"$tmp/loaded" 2>&1
for lib in $linked_in; do
    if grep -q "$lib[.-]" "$tmp/loaded"; then
        fail "$lib is linked in (-Dstatic_deps), yet the program loads it: $(grep "$lib" "$tmp/loaded")"
    else
        pass "$lib is linked in: the program loads no shared copy of it"
    fi
done

# At most this many times the minimal program's peak RSS (x100).
max_version=190

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
sed 's/allow: kerberos/allow: kerbros/' "$tmp/one.yaml" >"$tmp/unknown.yaml"
if ! "$bin" check "$tmp/one.yaml" >/dev/null 2>&1 ||
    ! "$bin" check "$tmp/unknown.yaml" 2>&1 | grep -q "did you mean 'kerberos'"; then
    fail "check of the one-host policies"
    finish
    exit
fi
i=0
while [ "$i" -lt "$runs" ]; do
    "$spawn" 1 -- minimal "$minimal" -- version "$bin" --version \
        -- check "$bin" check "$tmp/one.yaml" \
        -- unknown "$bin" check "$tmp/unknown.yaml" >>"$tmp/peaks" || {
        fail "pc-bench-spawn"
        finish
        exit
    }
    i=$((i + 1))
done
# median LABEL: the median peak RSS (KiB) of LABEL's runs (those that
# succeeded; the unknown name's all fail, as they must).
median() {
    awk -v l="$1" '$1 == l && ($7 == 0 || l == "unknown") { print $6 }' "$tmp/peaks" | sort -n |
        awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}
base=$(median minimal)
for what in check unknown; do
    echo "note: $what: peak RSS $(median "$what") KiB against the minimal program's $base KiB"
done
for what in version; do
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
