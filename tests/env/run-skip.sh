#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A test that cannot run says so: the kernel runners (render-kernel, apply,
# remove, listening), run by a user who is
# not root (as root this test drops to nobody with setpriv), exit 77, which
# meson shows as SKIP, and under CI (CI=true) they fail (exit 1) instead.
# The runners are copied where that user can read them; they stop before
# they would use the binary.
. "$(dirname "$0")/../lib.sh"

mkdir -p "$tmp/t/render" "$tmp/t/apply"
cp "$dir/../lib.sh" "$tmp/t/"
cp "$dir/../render/run-render.sh" "$tmp/t/render/"
cp "$dir/../apply/run-apply.sh" "$tmp/t/apply/"
cp "$dir/../apply/run-remove.sh" "$tmp/t/apply/"
mkdir -p "$tmp/t/listen"
cp "$dir/../listen/run-listening.sh" "$tmp/t/listen/"
chmod -R a+rX "$tmp"
if [ "$(id -u)" = 0 ]; then
    command -v setpriv >/dev/null 2>&1 || cannot_run "setpriv (util-linux), to drop to nobody"
    as_user() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
else
    as_user() { "$@"; }
fi

# check NAME STATUS CI RUNNER ARGS...: RUNNER, unprivileged with CI=CI, exits STATUS.
check() {
    name=$1 want=$2 ci=$3
    shift 3
    (cd "$tmp" && as_user timeout 60 env -u CI ${ci:+CI=$ci} PC_SOURCE_ROOT="$tmp" sh "$@") \
        >"$tmp/out" 2>&1
    rc=$?
    if [ $rc = "$want" ]; then
        pass "$name: exit $want"
    else
        fail "$name: exit $rc, wanted $want"
        cat "$tmp/out"
    fi
}

check "render kernel, not root" 77 "" "$tmp/t/render/run-render.sh" "$bin" "$tmp/t/render" kernel
grep -q '^skipped: it needs root' "$tmp/out" && pass "render kernel: says why it skips" ||
    fail "render kernel: says why it skips"
check "render kernel, not root, under CI" 1 true "$tmp/t/render/run-render.sh" "$bin" "$tmp/t/render" kernel
grep -q '^FAIL: under CI this must run, but it needs root' "$tmp/out" && pass "render kernel under CI: says why" ||
    fail "render kernel under CI: says why"
check "apply, not root" 77 "" "$tmp/t/apply/run-apply.sh" "$bin" "$tmp/t/apply" /nonexistent
check "apply, not root, under CI" 1 true "$tmp/t/apply/run-apply.sh" "$bin" "$tmp/t/apply" /nonexistent
check "remove, not root" 77 "" "$tmp/t/apply/run-remove.sh" "$bin" "$tmp/t/apply" /nonexistent
grep -q '^skipped: it needs root' "$tmp/out" && pass "remove: says why it skips" ||
    fail "remove: says why it skips"
check "remove, not root, under CI" 1 true "$tmp/t/apply/run-remove.sh" "$bin" "$tmp/t/apply" /nonexistent
check "listening, not root" 77 "" "$tmp/t/listen/run-listening.sh" "$bin" "$tmp/t/listen"
grep -q '^skipped: it needs root' "$tmp/out" && pass "listening: says why it skips" ||
    fail "listening: says why it skips"
check "listening, not root, under CI" 1 true "$tmp/t/listen/run-listening.sh" "$bin" "$tmp/t/listen"

finish
