#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# check --listening of the growth shape `hosts` (n rules allowing kerberos,
# each from its own host) against a TCP socket on 0.0.0.0:2222 that no rule
# allows, at 10 000 and 40 000 rules: CPU 40k/10k below the growth bound
# (tests/growth/run-growth.py, case hosts-listening).  Each source a rule
# names is a packet asked of the policy; each was once evaluated against
# every rule (20 000 rules: 5.8 s of CPU for one socket).  As root, in a
# network namespace of its own with a veth pair holding 10.99.0.1; else 77.
#
# usage: run-listening-growth.sh PORTCULLIS DIR SPAWN
. "$(dirname "$0")/../lib.sh"

in_own_netns "$@"
spawn=$3

ip link set lo up
ip link add pcg0 type veth peer name pcg1 || cannot_run "veth interfaces"
ip addr add 10.99.0.1/24 dev pcg0
ip link set pcg0 up
ip link set pcg1 up

python3 "$root/tests/listen/listeners.py" tcp:0.0.0.0:2222 </dev/null >"$tmp/ready" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
i=0
while [ "$(cat "$tmp/ready" 2>/dev/null)" != ready ] && [ $i -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
done
[ "$(cat "$tmp/ready")" = ready ] || { cat "$tmp/ready"; echo "FAIL: the listener did not start"; exit 1; }

# The socket is seen, and dropped: what the growth measures is its check.
printf 'version: 1\npolicy: one\nrules:\n  - allow: kerberos\n    from: 10.0.0.1\n' >"$tmp/one.yaml"
"$bin" check --listening "$tmp/one.yaml" >"$tmp/one.out" 2>&1
if grep -q 'tcp port 2222 on every address (0.0.0.0).*listening-dropped' "$tmp/one.out" &&
    grep -q '^listening: 1 socket' "$tmp/one.out"; then
    pass "the socket on 2222 is seen and dropped"
else
    fail "the socket on 2222 is seen and dropped"
    cat "$tmp/one.out"
fi
if python3 "$root/tests/growth/run-growth.py" "$bin" --spawn="$spawn" hosts-listening >"$tmp/out" 2>&1; then
    pass "check --listening of 40 000 rules: CPU within the growth bound of 10 000"
else
    fail "check --listening of 40 000 rules: CPU within the growth bound of 10 000"
fi
cat "$tmp/out"
finish
