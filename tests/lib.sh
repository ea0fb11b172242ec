# SPDX-License-Identifier: GPL-2.0-or-later
# The start every shell test runner shares; sourced as `. lib.sh` with the
# runner's arguments BIN DIR still in place.  Sets bin, dir, root (the source
# root) and tmp (removed on exit), the C locale, PORTCULLIS_STATE_DIR (under
# tmp), and the counters that pass, fail and finish keep.
set -u
bin=$1
dir=$2
root=${PC_SOURCE_ROOT:-$(cd "$dir/../.." && pwd)}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
export LC_ALL=C
# What apply records (and a pending confirmation) goes to a directory of the
# runner's own, never the host's /run/portcullis; a runner may name another.
export PORTCULLIS_STATE_DIR="$tmp/portcullis-state"
mkdir -m 700 "$PORTCULLIS_STATE_DIR"
# Files made as under the usual umask: a group-writable policy may include
# only what every user can read and reach (docs/policy.md).
umask 022
passed=0
failed=0
skipped=0
pass() { passed=$((passed + 1)); echo "ok $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
# skip NAME WHY: a case that cannot run here (not root, say).
skip() { skipped=$((skipped + 1)); echo "skip $1: it needs $2"; }
# wide_policy NAME N: policy NAME with 200 networks (n0 is 10.0.0.0/16, ...,
# n199) and N rules, rule i allowing 2000+i/tcp from network n(i mod 200).
wide_policy() {
    echo "version: 1"; echo "policy: $1"; echo "networks:"
    i=0; while [ $i -lt 200 ]; do echo "  n$i: [10.$i.0.0/16]"; i=$((i + 1)); done
    echo "rules:"
    i=0; while [ $i -lt "$2" ]; do printf '  - allow: %d/tcp\n    from: n%d\n' $((2000 + i)) $((i % 200)); i=$((i + 1)); done
}
# The summary line, and the runner's status: 0 only when nothing failed and
# nothing was skipped; 77 (SKIP) when a case could not run and none failed,
# except under CI (CI=true), where every case must run.
finish() {
    echo "$passed passed, $failed failed, $skipped skipped"
    [ "$failed" = 0 ] || return 1
    [ "$skipped" = 0 ] && return 0
    [ "${CI:-}" = true ] && { echo "FAIL: under CI every case must run"; return 1; }
    return 77
}
# cannot_run WHY: this runner cannot run here.  It exits 77, which meson shows
# as SKIP; under CI (CI=true), where everything must run, it fails instead.
cannot_run() {
    if [ "${CI:-}" = true ]; then
        echo "FAIL: under CI this must run, but it needs $1"
        exit 1
    fi
    echo "skipped: it needs $1"
    exit 77
}
# kernel_peak SPAWN: the start of a runner that measures peak memory in
# network namespaces: root, nft and namespaces (else cannot_run), SPAWN
# (bench/spawn.c) to take each peak (a process forked from python3 starts
# with python's memory, which Linux counts in the peak of what it runs: a
# floor of about 10 MiB), and no MALLOC_PERTURB_ (meson's fills what malloc
# hands out, spare room included).  bin becomes a copy of the binary, as
# installing makes one: the file the linker has just written has its page
# cache in large blocks for minutes, each counted whole in the peak RSS of
# a process that reads one page of it (about 1 MiB more).  Exports bin, tmp
# and spawn.
kernel_peak() {
    if [ "$(id -u)" != 0 ] || ! command -v nft >/dev/null 2>&1 || ! unshare -n true 2>/dev/null; then
        cannot_run "root, nft and network namespaces"
    fi
    spawn=$1
    if [ ! -x "$spawn" ]; then
        echo "FAIL: no pc-bench-spawn given ($spawn)"
        exit 1
    fi
    unset MALLOC_PERTURB_
    cp "$bin" "$tmp/portcullis" || exit 1
    bin=$tmp/portcullis
    export bin tmp spawn
}
# in_own_netns "$@": the runner, run again in a network namespace of its own
# (unshare -n; PC_LISTEN_NS set there), unless it already is; root, ip and
# namespaces, else cannot_run.  The first run's tmp is removed before.
in_own_netns() {
    [ -z "${PC_LISTEN_NS:-}" ] || return 0
    if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null 2>&1 || ! unshare -n true 2>/dev/null; then
        cannot_run "root, ip and network namespaces"
    fi
    rm -rf "$tmp"
    trap - EXIT INT TERM
    PC_LISTEN_NS=1 exec unshare -n sh "$0" "$@"
}
# expect NAME WANT OUT [PATTERN FILE]: passes when OUT holds exactly WANT (a
# printf format) and, if given, a line of FILE matches PATTERN.
expect() {
    # shellcheck disable=SC2059
    if [ "$(cat "$3")" = "$(printf "$2")" ] && { [ $# -lt 5 ] || grep -q -- "$4" "$5"; }; then
        pass "$1"
    else
        fail "$1"
        cat "$3" ${5:+"$5"}
    fi
}
# check NAME EXPECTED_STATUS ARGS...: runs the binary from the source root
# (or $check_dir when set) with ARGS and compares its stdout, stderr and exit status with
# $golden/NAME.out and NAME.err; PC_UPDATE_GOLDEN=1 rewrites those first.
# With $check_sed set, both are passed through `sed -E "$check_sed"` first
# (what varies from run to run, such as pids, written as N).
check() {
    name=$1 want=$2
    shift 2
    # shellcheck disable=SC2086
    (cd "${check_dir:-$root}" && timeout 60 ${PC_TEST_WRAPPER:-} "$bin" "$@") >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ -n "${check_sed:-}" ]; then
        for s in out err; do
            sed -E "$check_sed" "$tmp/$s" >"$tmp/$s.sed" && mv "$tmp/$s.sed" "$tmp/$s"
        done
    fi
    if [ "${PC_UPDATE_GOLDEN:-0}" = 1 ]; then
        cp "$tmp/out" "$golden/$name.out"
        cp "$tmp/err" "$golden/$name.err"
    fi
    ok=1
    [ "$rc" = "$want" ] || { echo "$name: exit status $rc, expected $want"; ok=0; }
    for s in out err; do
        if ! cmp -s "$tmp/$s" "$golden/$name.$s"; then
            echo "$name: std$s differs from $golden/$name.$s:"
            diff -u "$golden/$name.$s" "$tmp/$s" | head -40
            ok=0
        fi
    done
    if [ $ok = 1 ]; then pass "$name"; else fail "$name"; fi
}
