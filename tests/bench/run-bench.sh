#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The benchmarks at tiny sizes, so that they cannot rot: each script's own
# entry point (bench/apply.py, delta.py, delta_builds.py and memory.py with
# two build directories, listfile.py, ranges.py) and bench/targets.py, which runs them
# all, one run each, in the namespaces and the state directory they make.  Times are not judged: every
# command must have run, every table row been measured, every target of
# targets.py's table have a ratio.  Root only (else SKIP); a few seconds.
# usage: run-bench.sh PORTCULLIS DIR BUILD_DIR
. "$(dirname "$0")/../lib.sh"
build=$3
[ "$(id -u)" = 0 ] || cannot_run "root (network namespaces)"
for c in nft ip unshare python3; do
    command -v "$c" >/dev/null 2>&1 || cannot_run "$c"
done
unshare -n true 2>/dev/null || cannot_run "network namespaces (unshare -n)"
for p in portcullis pc-bench-spawn pc-bench-floor pc-bench-dump; do
    [ -x "$build/$p" ] || { fail "$build/$p is built"; finish; exit; }
done
export PC_BENCH_RUNS=1
unset SSH_CONNECTION

# run NAME COMMAND...: passes when COMMAND exits 0, prints a table, and no
# cell says a command failed or was not run.
run() {
    name=$1
    shift
    if "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" && grep -q '^|---' "$tmp/$name.out" &&
        ! grep -Eq '\| (failed|policy not loaded|not run|not measured|-) \|' "$tmp/$name.out" &&
        ! grep -q Traceback "$tmp/$name.err"; then
        pass "$name"
    else
        fail "$name"
        cat "$tmp/$name.out" "$tmp/$name.err"
    fi
}

run apply env PC_BENCH_APPLY_SIZES="100 300" python3 "$root/bench/apply.py" "$build"
# every size in both forms, beside each other
for n in "100 hosts" "300 prefixes"; do
    if grep -q "^| $n | YAML |" "$tmp/apply.out" && grep -q "^| $n | list file |" "$tmp/apply.out"; then
        pass "apply: $n in the YAML and in a list file"
    else
        fail "apply: $n in the YAML and in a list file"
    fi
done
# each apply in a fresh namespace had a state directory of its own: none
# read the record a namespace gone before left under the same inode
if ! ls "$PORTCULLIS_STATE_DIR"/*.installed >/dev/null 2>&1 &&
    ls "$PORTCULLIS_STATE_DIR"/*/*.installed >/dev/null 2>&1; then
    pass "apply: a state directory for each apply"
else
    fail "apply: a state directory for each apply"
    ls -R "$PORTCULLIS_STATE_DIR"
fi
run delta python3 "$root/bench/delta.py" "$build" 200
# each form's delta really was one: 1 element for a host, 2 for a prefix
for f in "200: " "200 hosts, list file: " "200 prefixes, list file: "; do
    if grep -q "^$f.*updated in place" "$tmp/delta.out"; then
        pass "delta: $f a delta"
    else
        fail "delta: $f a delta"
    fi
done
run delta_builds python3 "$root/bench/delta_builds.py" "$build" "$build" 200
# both builds' adds were deltas
if [ "$(grep -c '^\(old\|new\), an add: .*updated in place: 1 elements added, 0 deleted' "$tmp/delta_builds.out")" = 2 ]; then
    pass "delta_builds: an add by each build, a delta"
else
    fail "delta_builds: an add by each build, a delta"
fi
run memory env PC_BENCH_MEM_SIZES=200 python3 "$root/bench/memory.py" "$build" "$build"
if [ "$(grep -c '^| 200 | diff |' "$tmp/memory.out")" = 2 ] &&
    grep -q '^200 addresses, build 1: diff / nft list table (peak RSS): YAML [0-9.]*, list file [0-9.]*' \
        "$tmp/memory.out"; then
    pass "memory: diff of both forms, two builds"
else
    fail "memory: diff of both forms, two builds"
fi
run listfile env PC_BENCH_LIST_SIZES="200 500" python3 "$root/bench/listfile.py" "$build"
run readback env PC_BENCH_READBACK_SIZES="100 300" python3 "$root/bench/readback.py" "$build"
# both forms of the large set, each with its ratios to the bare dump
for f in "YAML" "list file"; do
    if grep -Eq "^\| 300 addresses, 10 rules \| $f \|.*\| [0-9.]+x \| [0-9.]+x \| [0-9.]+x \| [0-9.]+x \|\$" "$tmp/readback.out"; then
        pass "readback: 300 addresses, $f, against the bare dump"
    else
        fail "readback: 300 addresses, $f, against the bare dump"
    fi
done
run ranges python3 "$root/bench/ranges.py" "$build/portcullis" "$build/portcullis" 100
run fixedmem env PC_BENCH_FIXEDMEM_SIZE=100 python3 "$root/bench/fixedmem.py" "$build" "$build"

run targets env PC_BENCH_TARGET_SIZES="100 200 400" PC_BENCH_TARGET_RULES=100 \
    python3 "$root/bench/targets.py" "$build"
for t in "apply / floor, time" "apply / floor, peak RSS" "nft -f of the rendering / apply" \
    "full replace / one-address delta" "nft -f of the change / one-address delta" \
    "check, one service / distinct ports" "render, one service / distinct ports" \
    "check (read, parse, resolve) / apply" "diff / nft list table, peak RSS" \
    "diff / bare dump, time" "show / bare dump, time" "diff / apply (again), time"; do
    if grep -F "| $t |" "$tmp/targets.out" | grep -Eq '\| (met|missed) \|$'; then
        pass "targets: $t"
    else
        fail "targets: $t"
    fi
done
if grep -Eq '^[0-9]+ met, [0-9]+ missed, 0 not measured$' "$tmp/targets.out"; then
    pass "targets: every target measured"
else
    fail "targets: every target measured"
fi
# usage, and a directory without the build
python3 "$root/bench/targets.py" >/dev/null 2>&1
rc=$?
if [ "$rc" = 2 ]; then pass "targets: usage exits 2"; else fail "targets: usage exits 2 (was $rc)"; fi
python3 "$root/bench/targets.py" "$tmp/nowhere" >/dev/null 2>"$tmp/nobuild.err"
rc=$?
if [ "$rc" = 2 ] && grep -q 'no portcullis in' "$tmp/nobuild.err"; then
    pass "targets: no build exits 2"
else
    fail "targets: no build exits 2 (was $rc)"
fi
finish
