#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `portcullis apply --confirm`, `confirm` and `rollback`, as root, in network
# namespaces of their own ($S the server, $C the client, joined by a veth
# pair): the host's ruleset is never touched.  Real TCP probes from $C to
# port 88 on $S: policy `open` accepts it, policy `closed` drops it.
# 1. apply --confirm 2 of `closed` inside a session of its own (setsid),
#    whose processes are then killed (SIGHUP, then SIGKILL): the probe is
#    dropped at once, accepted again within the deadline plus one second,
#    the table is the one saved (nft list ruleset identical), the generation
#    moved exactly twice, and a late `confirm` exits 6 and says so.
# 2. `confirm` from another process before the deadline: `closed` stays.
# 3. A pending confirmation: a second apply and remove are refused (exit 4), `status`
#    shows the deadline (text and --json); `rollback` restores now.
# 4. No table before: the rollback removes the table.
# 5. Usage: --confirm 0 (2), confirm with nothing pending (3), an argument (2).
# 6. A large saved table: a set of 200 000 addresses (5 000 under
#    PC_TEST_WRAPPER) put back by rollback, `show` identical before and after.
# 7. A pending file that names a live process of this program's name but no
#    lock held (a watcher that died, its number taken again): nothing is
#    pending, confirm and rollback signal nothing (exit 3), status shows
#    none, and apply goes on.
. "$(dirname "$0")/../lib.sh"
# PC_TEST_WRAPPER (valgrind, say) runs the portcullis commands under it.
w=${PC_TEST_WRAPPER:-}

if [ "$(id -u)" != 0 ] || ! command -v nft >/dev/null 2>&1 || ! command -v ip >/dev/null 2>&1 ||
    ! command -v python3 >/dev/null 2>&1 || ! unshare -n true 2>/dev/null; then
    cannot_run "root, nft, ip, python3 and network namespaces"
fi
unset SSH_CONNECTION
export PORTCULLIS_STATE_DIR="$tmp/state"
mkdir -m 700 "$PORTCULLIS_STATE_DIR"

S=pccfs$$ C=pccfc$$
cleanup() {
    # The watchers this runner started, if any is left.
    for f in "$PORTCULLIS_STATE_DIR"/*.pending; do
        [ -e "$f" ] && kill "$(cut -d' ' -f1 "$f")" 2>/dev/null
    done
    [ -n "${lpid:-}" ] && kill "$lpid" 2>/dev/null
    # Whatever still runs in the namespaces is this runner's (the listener).
    for n in $S $C; do
        for p in $(ip netns pids $n 2>/dev/null); do kill "$p" 2>/dev/null; done
    done
    ip netns del $S 2>/dev/null
    ip netns del $C 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
ip netns add $S && ip netns add $C &&
    ip -n $S link add pcs0 type veth peer name pcc0 netns $C &&
    ip -n $S addr add 192.0.2.1/24 dev pcs0 && ip -n $C addr add 192.0.2.2/24 dev pcc0 &&
    ip -n $S link set lo up && ip -n $C link set lo up &&
    ip -n $S link set pcs0 up && ip -n $C link set pcc0 up || { fail "namespaces"; finish; exit 1; }
ip netns exec $S timeout 300 python3 -c '
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("192.0.2.1", 88))
s.listen(64)
while True:
    c, _ = s.accept()
    c.close()
' &
lpid=$!

# probe: "accepted" or "dropped" for a new TCP connection from $C to port 88.
probe() {
    ip netns exec $C timeout 5 python3 -c '
import socket
s = socket.socket()
s.settimeout(0.3)
try:
    s.connect(("192.0.2.1", 88))
    print("accepted")
except OSError:
    print("dropped")
'
}
# in_s CMD...: runs CMD in $S.
in_s() { ip netns exec $S "$@"; }
run() { in_s $w "$bin" "$@"; }

for p in open closed; do
    printf 'version: 1\npolicy: %s\ndefaults:\n  input: drop\n  established: accept\nrules:\n  - allow: 22/tcp\n    from: 192.0.2.0/24\n' $p >"$tmp/$p.yaml"
done
echo '  - allow: 88/tcp
    from: 192.0.2.0/24' >>"$tmp/open.yaml"

i=0
while [ "$(probe)" != accepted ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ "$(probe)" = accepted ] || { fail "the listener answers with no ruleset"; finish; exit 1; }

# gen FILE: the "A B" of the "generation A -> B" in FILE.
gen() { sed -n 's/.*generation \([0-9]*\) -> \([0-9]*\).*/\1 \2/p' "$1" | head -n 1; }

# 1. The session that ran apply --confirm is killed; the rollback comes anyway.
run apply "$tmp/open.yaml" >"$tmp/out1" 2>/dev/null
in_s nft list ruleset >"$tmp/before"
set -- $(gen "$tmp/out1")
g_open=${2:-x}
rm -f "$tmp/sid" "$tmp/out2"
in_s setsid sh -c 'echo $$ >"$1/sid"; '"$w"' "$2" apply --confirm 2 "$1/closed.yaml" >"$1/out2" 2>&1; sleep 60' \
    sh "$tmp" "$bin" &
job=$!
i=0
while ! grep -q 'unless' "$tmp/out2" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
t0=$(date +%s%N)
sid=$(cat "$tmp/sid")
# (dash's kill takes no "--": a negative number is the process group.)
kill -HUP -"$sid"
sleep 0.1
kill -KILL -"$sid" 2>/dev/null
first=$(probe)
wait $job 2>/dev/null
# What is left of the session (zombies aside): nothing.
if ps -e -o sid=,stat= | awk -v s="$sid" '$1 == s && $2 !~ /^Z/ { found = 1 } END { exit !found }'; then
    fail "the session that ran apply --confirm is gone"
else
    pass "the session that ran apply --confirm is gone (SIGHUP, SIGKILL)"
fi
last=$first
while [ "$last" = dropped ] && [ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 6000 ]; do
    sleep 0.1
    last=$(probe)
done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
if [ "$first" = dropped ] && [ "$last" = accepted ] && [ "$ms" -le 3000 ]; then
    pass "session killed: dropped, then accepted again within the deadline plus one second (${ms} ms)"
else
    fail "session killed: first $first, then $last after $ms ms"
    cat "$tmp/out2"
fi
i=0
while ls "$PORTCULLIS_STATE_DIR"/*.pending >/dev/null 2>&1 && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
in_s nft list ruleset >"$tmp/after"
if cmp -s "$tmp/before" "$tmp/after"; then
    pass "the table rolled back to is the one saved (nft list ruleset identical)"
else
    fail "the table rolled back to is the one saved"
    diff "$tmp/before" "$tmp/after"
fi
run confirm >"$tmp/out3" 2>&1
rc=$?
set -- $(gen "$tmp/out2")
g_apply="${1:-x} ${2:-x}"
set -- $(gen "$tmp/out3")
g_back="${1:-x} ${2:-x}"
if [ $rc = 6 ] && grep -q 'too late' "$tmp/out3" &&
    [ "$g_apply" = "$g_open $((g_open + 1))" ] && [ "$g_back" = "$((g_open + 1)) $((g_open + 2))" ]; then
    pass "the generation moved exactly twice ($g_apply, then $g_back); a late confirm exits 6"
else
    fail "generation: open $g_open, apply $g_apply, rollback $g_back; confirm rc $rc"
    cat "$tmp/out3"
fi

# 2. confirm from another process before the deadline: the new verdicts stay.
run apply --confirm 3 "$tmp/closed.yaml" >"$tmp/out" 2>&1
run confirm >"$tmp/out4" 2>&1
rc=$?
sleep 4
r=$(probe)
if [ $rc = 0 ] && [ "$r" = dropped ] && grep -q 'confirmed' "$tmp/out4" &&
    ! ls "$PORTCULLIS_STATE_DIR"/*.pending >/dev/null 2>&1; then
    pass "confirm before the deadline: the new verdicts stay"
else
    fail "confirm before the deadline: rc $rc, probe $r"
    cat "$tmp/out" "$tmp/out4"
fi

# 3. A pending confirmation blocks a second apply; status shows it; rollback now.
run apply "$tmp/open.yaml" >/dev/null 2>&1
in_s nft list ruleset >"$tmp/before"
run apply --confirm 60 "$tmp/closed.yaml" >/dev/null 2>&1
run apply "$tmp/open.yaml" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc = 4 ] && grep -q 'waits for confirmation until .*confirm.*rollback' "$tmp/err" &&
    [ "$(probe)" = dropped ]; then
    pass "a pending confirmation refuses a second apply (exit 4, says how to go on)"
else
    fail "a pending confirmation refuses a second apply: rc $rc"
    cat "$tmp/err"
fi
run remove >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc = 4 ] && grep -q 'remove: an apply of table inet portcullis waits for confirmation' "$tmp/err" &&
    in_s nft list tables | grep -q 'inet portcullis'; then
    pass "a pending confirmation refuses remove (exit 4): the rollback would bring the table back"
else
    fail "a pending confirmation refuses remove: rc $rc"
    cat "$tmp/err"
fi
run status >"$tmp/st" 2>&1
run status --json >"$tmp/stj" 2>&1
if grep -q '^  waits for confirmation until 20[0-9-]* [0-9:]* UTC (process [0-9]*)' "$tmp/st" &&
    grep -q '"confirm_deadline": *[0-9]' "$tmp/stj"; then
    pass "status shows the pending confirmation and its deadline (text and JSON)"
else
    fail "status shows the pending confirmation"
    cat "$tmp/st" "$tmp/stj"
fi
run rollback >"$tmp/out" 2>&1
rc=$?
in_s nft list ruleset >"$tmp/after"
if [ $rc = 0 ] && grep -q 'rolled back at .*the saved table put back' "$tmp/out" &&
    [ "$(probe)" = accepted ] && cmp -s "$tmp/before" "$tmp/after"; then
    pass "rollback restores the saved table now"
else
    fail "rollback restores the saved table now: rc $rc"
    cat "$tmp/out"
    diff "$tmp/before" "$tmp/after"
fi

# 4. No table before: the rollback removes the table.
run remove >/dev/null 2>&1
run apply --confirm 1 "$tmp/closed.yaml" >/dev/null 2>&1
had=$(in_s nft list tables | grep -c 'inet portcullis')
i=0
while ls "$PORTCULLIS_STATE_DIR"/*.pending >/dev/null 2>&1 && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
now=$(in_s nft list tables | grep -c 'inet portcullis')
run confirm >"$tmp/out" 2>&1
rc=$?
if [ "$had" = 1 ] && [ "$now" = 0 ] && [ $rc = 6 ] && grep -q 'there was none before' "$tmp/out"; then
    pass "no table before: the rollback removes the table"
else
    fail "no table before: had $had, now $now, confirm rc $rc"
    cat "$tmp/out"
fi

# 6. A large saved table: rollback puts a set of 200 000 addresses back whole
# (a hash set), and a set of 1 000 prefixes (an interval set) beside it.
n=200000
[ -n "$w" ] && n=5000
python3 - "$n" "$tmp/big.yaml" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    f.write("version: 1\npolicy: big\ndefaults:\n  input: drop\n  established: accept\n"
            "networks:\n  big: [%s]\n  nets: [%s]\nrules:\n  - allow: 88/tcp\n    from: big\n"
            "  - allow: 88/tcp\n    from: 192.0.2.0/24\n  - allow: 89/tcp\n    from: nets\n"
            % (", ".join("10.%d.%d.%d" % (a >> 16 & 255, a >> 8 & 255, a & 255)
                         for a in range(1, 2 * n, 2)),
               ", ".join("172.16.%d.%d/30" % (a >> 8 & 255, a & 255)
                         for a in range(0, 8000, 8))))
PY
run apply "$tmp/big.yaml" >/dev/null 2>&1
run show >"$tmp/before"
t0=$(date +%s%N)
run apply --confirm 60 "$tmp/closed.yaml" >"$tmp/out" 2>&1
run rollback >>"$tmp/out" 2>&1
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
run show >"$tmp/after"
elems=$(grep -c '^		10\.' "$tmp/after")
nets=$(grep -c '^		172\.16\..*-172\.16\.' "$tmp/after")
if [ $rc = 0 ] && [ "$elems" = "$n" ] && [ "$nets" = 1000 ] && cmp -s "$tmp/before" "$tmp/after" && [ "$(probe)" = accepted ]; then
    pass "a saved hash set of $n addresses and an interval set of $nets prefixes put back whole by rollback (apply --confirm and rollback: $ms ms)"
else
    fail "a saved set of $n addresses put back: rollback rc $rc, $elems elements, $nets prefixes"
    cat "$tmp/out"
    diff "$tmp/before" "$tmp/after" | head -n 20
fi

# 5. Usage.
run apply --confirm 0 "$tmp/open.yaml" >/dev/null 2>"$tmp/err"
r1=$?
rm -f "$PORTCULLIS_STATE_DIR"/*.rolledback
run confirm >/dev/null 2>"$tmp/err2"
r2=$?
run rollback extra >/dev/null 2>&1
r3=$?
if [ $r1 = 2 ] && grep -q 'seconds' "$tmp/err" && [ $r2 = 3 ] &&
    grep -q 'no confirmation is pending' "$tmp/err2" && [ $r3 = 2 ]; then
    pass "usage: --confirm 0, nothing to confirm, an argument"
else
    fail "usage: $r1 $r2 $r3"
    cat "$tmp/err" "$tmp/err2"
fi

# 7. A pid that is no watcher's: a process named portcullis (sleep under that
#    name), which holds no lock.
cp "$(command -v sleep)" "$tmp/portcullis"
"$tmp/portcullis" 60 &
fake=$!
ino=$(in_s stat -L -c %i /proc/self/ns/net)
echo "$fake $(($(date +%s) + 60)) 1" >"$PORTCULLIS_STATE_DIR/portcullis@$ino.pending"
rm -f "$PORTCULLIS_STATE_DIR"/*.rolledback
run confirm >/dev/null 2>"$tmp/err"
r1=$?
run rollback >/dev/null 2>"$tmp/err2"
r2=$?
run status >"$tmp/st" 2>&1
run apply "$tmp/open.yaml" >/dev/null 2>"$tmp/err3"
r3=$?
sleep 0.2
alive=dead
kill -0 $fake 2>/dev/null && alive=alive
kill $fake 2>/dev/null
wait $fake 2>/dev/null
if [ $r1 = 3 ] && [ $r2 = 3 ] && [ $alive = alive ] && [ $r3 = 0 ] &&
    grep -q 'no confirmation is pending' "$tmp/err2" && ! grep -q 'waits for confirmation' "$tmp/st"; then
    pass "a pending file naming a live process of this name, no lock held: nothing pending, nothing signalled"
else
    fail "a pending file naming a process that is no watcher: confirm $r1, rollback $r2, apply $r3, the process $alive"
    cat "$tmp/err" "$tmp/err2" "$tmp/err3" "$tmp/st"
fi
finish
