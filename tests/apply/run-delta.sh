#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Delta apply, as root, in network namespaces this runner makes ($S the
# server, $C a client joined to it by a veth pair; every fresh apply in a
# namespace of its own): the host's ruleset is never touched.
# 1. A sequence of applies, each one change from the one before (an address
#    added, added next to others, removed; a rule added, removed; a port and
#    a default policy changed; a network added, removed, renamed; a set grown
#    past its declared size and shrunk), then 30 drawn from a seed: each is
#    sent as a delta ("updated in place"), and after each the table is the
#    one a fresh apply of that policy makes (nldump, attribute by
#    attribute).  The same policy again sends nothing.  diff and apply
#    --dry-run say whether apply would send a delta and how large (--json too).
# 2. Counters: a rule with `counter` sees real packets (TCP SYNs from $C)
#    before and after a delta that changes other rules, elements and a
#    default policy: its counter goes on from where it was.  status then
#    names the policy the delta installed (hash and file).
# 3. Drift: an element deleted by hand, an element added by hand, a rule
#    added by hand (nft), a rule deleted and added again (the same count), a
#    chain policy changed by hand, a set added: seen, said on standard
#    error, the table replaced whole; the result is a fresh apply's.
#    Between apply's reading and its sending (restart_shim.so), an element
#    the delta deletes deleted by hand: the kernel refuses the delta, said,
#    and the whole table is replaced.
# 4. --full replaces the whole table (counters start again).
# 5. The state file refused, said, and the table replaced whole, when it is
#    truncated, of another model version (checksum made right), of another
#    table, owned by another user, readable by others, or a symbolic link.
# 6. apply --confirm with a delta, rolled back: the table is exactly the one
#    saved, and the next apply replaces the whole table (no record).
# 7. The kernel, as the delta relies on it: deleting an element it does not
#    hold is refused (ENOENT); adding one it holds is accepted without
#    NLM_F_EXCL and refused (EEXIST) with it (a hash set: nft passes these
#    to the kernel as they are).
. "$(dirname "$0")/../lib.sh"
nldump=$3
w=${PC_TEST_WRAPPER:-}

if [ "$(id -u)" != 0 ] || ! command -v nft >/dev/null 2>&1 || ! command -v ip >/dev/null 2>&1 ||
    ! command -v python3 >/dev/null 2>&1 || ! unshare -n true 2>/dev/null; then
    cannot_run "root, nft, ip, python3 and network namespaces"
fi
unset SSH_CONNECTION
export PORTCULLIS_STATE_DIR="$tmp/state"
mkdir -m 700 "$PORTCULLIS_STATE_DIR"
export bin nldump w tmp root

S=pcdls$$ C=pcdlc$$
cleanup() {
    for f in "$PORTCULLIS_STATE_DIR"/*.pending; do
        [ -e "$f" ] && kill "$(cut -d' ' -f1 "$f")" 2>/dev/null
    done
    ip netns del $S 2>/dev/null
    ip netns del $C 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
ip netns add $S && ip netns add $C &&
    ip -n $S link add pcs0 type veth peer name pcc0 netns $C &&
    ip -n $S addr add 192.0.2.1/24 dev pcs0 && ip -n $C addr add 192.0.2.5/24 dev pcc0 &&
    ip -n $S link set lo up && ip -n $C link set lo up &&
    ip -n $S link set pcs0 up && ip -n $C link set pcc0 up || { fail "namespaces"; finish; exit 1; }

in_s() { ip netns exec $S "$@"; }
# fresh POLICY: the table a fresh apply of POLICY makes, in a namespace of its own.
fresh() {
    PORTCULLIS_STATE_DIR="$tmp/fresh" unshare -n sh -c \
        'mkdir -p -m 700 "$PORTCULLIS_STATE_DIR"; "$bin" apply --full "$1" >/dev/null 2>&1 &&
         "$nldump" portcullis' sh "$1" | python3 "$dir/nlcanon.py"
}
# same NAME POLICY: the live table is the one a fresh apply of POLICY makes
# (nldump, in an order that does not depend on the order objects were made).
same() {
    in_s "$nldump" portcullis 2>&1 | python3 "$dir/nlcanon.py" >"$tmp/live"
    fresh "$2" >"$tmp/fresh.txt" 2>&1
    if cmp -s "$tmp/live" "$tmp/fresh.txt"; then
        pass "$1: the table is a fresh apply's"
    else
        fail "$1: the table is a fresh apply's"
        diff "$tmp/fresh.txt" "$tmp/live" | head -20
    fi
}

python3 "$dir/delta-policies.py" "$tmp" 18 30 || { fail "delta-policies.py"; finish; exit 1; }

# 1. The sequence.
first=1
while read -r file what; do
    in_s $w "$bin" apply "$tmp/$file" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ $first = 1 ]; then
        grep -q "applied: .* in one transaction" "$tmp/out" && [ $rc = 0 ] && [ ! -s "$tmp/err" ] ||
            { fail "$file: the first apply replaces"; cat "$tmp/out" "$tmp/err"; }
        first=0
    elif [ $rc = 0 ] && ! grep -q "replac" "$tmp/err" &&
        grep -Eq "^delta: table inet portcullis (updated in place: |holds what this policy installs already; nothing was sent)" "$tmp/out"; then
        pass "$file ($what): sent as a delta"
    else
        fail "$file ($what): sent as a delta (rc $rc)"
        cat "$tmp/out" "$tmp/err"
    fi
    same "$file" "$tmp/$file"
done <"$tmp/steps.txt"
last=$(tail -1 "$tmp/steps.txt" | cut -d' ' -f1)
in_s $w "$bin" apply "$tmp/$last" >"$tmp/out" 2>&1
if grep -q "^delta: table inet portcullis holds what this policy installs already; nothing was sent (generation [0-9]*)$" "$tmp/out"; then
    pass "the same policy again: nothing sent"
else
    fail "the same policy again: nothing sent"
    cat "$tmp/out"
fi
same "the same policy again" "$tmp/$last"

# 1b. diff and apply --dry-run say what apply would send, and send nothing.
in_s "$bin" apply --full "$tmp/step-00.yaml" >/dev/null 2>&1
in_s nft list ruleset >"$tmp/rs0"
in_s $w "$bin" diff "$tmp/step-01.yaml" >"$tmp/d1"
r1=$?
in_s $w "$bin" apply --dry-run --full "$tmp/step-01.yaml" >"$tmp/d2"
r2=$?
in_s $w "$bin" diff --json "$tmp/step-01.yaml" | python3 -c '
import json, sys
a = json.load(sys.stdin)["apply"]
print(a["sends"], a["objects"], a["no_delta_because"])' >"$tmp/d3"
in_s nft list ruleset | cmp -s - "$tmp/rs0" || echo "the ruleset changed" >>"$tmp/d3"
if [ $r1 = 1 ] && [ $r2 = 1 ] && [ "$(cat "$tmp/d3")" = "delta 2 None" ] &&
    [ "$(tail -1 "$tmp/d1")" = "apply would send a delta of the last apply: 2 objects (2 elements added, 0 deleted; 0 sets and maps created, 0 deleted; 0 chains created, 0 deleted, 0 rebuilt; 0 policies changed)" ] &&
    tail -1 "$tmp/d2" | grep -q "^apply would replace the whole table: [0-9]* objects; no delta: --full$"; then
    pass "diff and apply --dry-run: a delta of 2 objects, or with --full the whole table; nothing sent"
else
    fail "diff and apply --dry-run: a delta of 2 objects, or with --full the whole table; nothing sent"
    cat "$tmp/d1" "$tmp/d2" "$tmp/d3"
fi

# 2. Counters of unchanged rules survive a delta.
cat >"$tmp/c1.yaml" <<'EOF'
version: 1
policy: counted
networks:
  admins: [192.0.2.5, 198.51.100.7]
  others: [203.0.113.0/24]
defaults:
  input: drop
  forward: drop
  output: accept
  established: accept
rules:
  - allow: 2222/tcp
    from: admins
    counter: true
  - allow: 8080/tcp
    from: others
    counter: true
EOF
sed -e 's/203.0.113.0\/24/203.0.113.0\/24, 192.0.2.77/' -e 's/8080/8081/' -e 's/forward: drop/forward: accept/' \
    "$tmp/c1.yaml" >"$tmp/c2.yaml"
# syn N: N TCP connection attempts from $C to port 2222 (nothing listens: a reset answers).
syn() {
    ip netns exec $C timeout 20 python3 -c '
import socket, sys
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("192.0.2.1", 2222))
    except OSError:
        pass
    s.close()
' "$1"
}
# packets: the packets the counter of chain r1_tcp has seen.
packets() { in_s nft list chain inet portcullis r1_tcp | sed -n 's/.*counter packets \([0-9]*\) .*/\1/p'; }
in_s "$bin" apply "$tmp/c1.yaml" >"$tmp/out" 2>&1 || cat "$tmp/out"
syn 5
p1=$(packets)
in_s "$bin" apply "$tmp/c2.yaml" >"$tmp/out" 2>&1
grep -q "updated in place" "$tmp/out" || { echo "not a delta:"; cat "$tmp/out"; }
p2=$(packets)
syn 3
p3=$(packets)
if [ "${p1:-0}" -ge 5 ] && [ "$p2" = "$p1" ] && [ "${p3:-0}" -ge $((p1 + 3)) ] &&
    grep -q "updated in place" "$tmp/out"; then
    pass "a counter of a rule the delta leaves alone goes on ($p1, $p2 after the delta, $p3)"
else
    fail "a counter of a rule the delta leaves alone goes on ($p1, $p2 after the delta, $p3)"
fi
same "counters: after the delta" "$tmp/c2.yaml"
# status names the policy the delta installed, not the one the table was made from.
in_s "$bin" status >"$tmp/status" 2>&1
sum=$(python3 -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$tmp/c2.yaml")
if grep -q "^  sha256 $sum$" "$tmp/status" && grep -q "^  from $tmp/c2.yaml, which still matches$" "$tmp/status"; then
    pass "status after a delta: the policy it installed, which still matches"
else
    fail "status after a delta: the policy it installed, which still matches"
    cat "$tmp/status"
fi
# 4. --full starts them again.
in_s "$bin" apply --full "$tmp/c2.yaml" >"$tmp/out" 2>&1
p4=$(packets)
if [ "$p4" = 0 ] && grep -q "applied: .* in one transaction" "$tmp/out"; then
    pass "--full replaces the whole table: counters start again"
else
    fail "--full replaces the whole table: counters start again ($p4)"
    cat "$tmp/out"
fi

# 3. Drift.
# drift NAME NFT-COMMAND: after `apply c1`, NFT-COMMAND by hand, then `apply c2`:
# said on standard error, replaced whole, a fresh apply's table.
# replaced NAME WHY: `apply c2` replaced the whole table (exit 0), said in one
# line on standard error that ends in WHY, and the table is a fresh apply's.
replaced() {
    in_s $w "$bin" apply "$tmp/c2.yaml" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ $rc = 0 ] && grep -q "applied: .* in one transaction" "$tmp/out" &&
        [ "$(wc -l <"$tmp/err")" = 1 ] &&
        grep -q "^portcullis apply: replacing the whole table: .*$2" "$tmp/err"; then
        pass "$1: said, replaced whole"
    else
        fail "$1: said, replaced whole (rc $rc)"
        cat "$tmp/out" "$tmp/err"
    fi
    same "$1" "$tmp/c2.yaml"
}
drift() {
    in_s "$bin" apply --full "$tmp/c1.yaml" >/dev/null 2>&1
    in_s sh -c "$2" || fail "$1: the change by hand"
    replaced "$1" "table inet portcullis changed since the last apply: $3"
}
drift "an element deleted by hand" \
    'nft delete element inet portcullis n_admins_v4 "{ 198.51.100.7 }"' "set n_admins_v4 holds other elements"
drift "an element added by hand" \
    'nft add element inet portcullis n_admins_v4 "{ 10.0.0.1 }"' "set n_admins_v4 holds other elements"
drift "a rule added by hand" \
    'nft add rule inet portcullis r1_tcp tcp dport 3306 accept' "chain r1_tcp holds rules that are not those of the last apply"
drift "a rule deleted and added again by hand (the same rules, another order)" \
    'h=$(nft -a list chain inet portcullis input | sed -n "s/.*ct state invalid drop # handle //p") &&
     nft delete rule inet portcullis input handle "$h" &&
     nft add rule inet portcullis input ct state invalid drop' \
    "chain input holds rules that are not those of the last apply"
drift "a chain policy changed by hand" \
    'nft add chain inet portcullis input "{ policy accept; }"' "the policy of chain input is not the state's"
drift "a set added by hand" \
    'nft add set inet portcullis extra "{ type ipv4_addr; }"' "it holds a set extra the state does not"
# Changes by hand the reading cannot tell (handles kept, verdicts, the table's
# flags), and a change elsewhere in the ruleset: the generation moved since
# the last apply, so the table is replaced whole all the same.
unseen() {
    in_s "$bin" apply --full "$tmp/c1.yaml" >/dev/null 2>&1
    in_s sh -c "$2" || fail "$1: the change by hand"
    replaced "$1" "the ruleset changed since the last apply (generation [0-9]*, now [0-9]*), and a change to table inet portcullis that keeps its rules' handles"
}
unseen "a rule replaced in place (the same handle)" \
    'h=$(nft -a list chain inet portcullis input | sed -n "s/.*ct state invalid drop # handle //p") &&
     nft replace rule inet portcullis input handle "$h" ct state invalid accept'
unseen "the table made dormant (nothing filtered)" \
    'nft add table inet portcullis "{ flags dormant; }"'
unseen "a map element given another verdict" \
    'nft delete element inet portcullis input_tcp "{ 2222 }" && nft add element inet portcullis input_tcp "{ 2222 : accept }"'
unseen "another table added and deleted" 'nft add table inet pc_other && nft delete table inet pc_other'

# 3b. A change by hand between apply's reading and its sending (restart_shim.so:
#     an element the delta deletes is deleted first): the delta, planned at
#     the generation read, is not sent at another (the kernel refuses a batch
#     of an older generation, and it is not retried), which is said, and the
#     whole table is replaced.
shim=$(dirname "$nldump")/restart_shim.so
in_s "$bin" apply --full "$tmp/c1.yaml" >/dev/null 2>&1
sed 's/198.51.100.7/198.51.100.8/' "$tmp/c1.yaml" >"$tmp/c3.yaml"
in_s env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" LD_PRELOAD="$shim" PC_SHIM=command \
    PC_SHIM_COMMAND='nft delete element inet portcullis n_admins_v4 "{ 198.51.100.7 }"' \
    "$bin" apply "$tmp/c3.yaml" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc = 0 ] && grep -q "applied: .* in one transaction" "$tmp/out" &&
    [ "$(wc -l <"$tmp/err")" = 1 ] &&
    grep -q "^portcullis apply: replacing the whole table: the ruleset changed between reading the table (generation [0-9]*) and sending: the delta was not sent$" "$tmp/err"; then
    pass "a delta the kernel refuses (an element it deletes is gone): said, replaced whole"
else
    fail "a delta the kernel refuses (an element it deletes is gone): said, replaced whole (rc $rc)"
    cat "$tmp/out" "$tmp/err"
fi
same "a delta the kernel refused" "$tmp/c3.yaml"

# 5. The state file refused.
state=$(ls "$PORTCULLIS_STATE_DIR"/portcullis@*.installed)
# refused NAME CHANGE WHY: after `apply c1`, CHANGE to the state file, then `apply c2`.
refused() {
    in_s "$bin" apply --full "$tmp/c1.yaml" >/dev/null 2>&1
    state=$(ls "$PORTCULLIS_STATE_DIR"/portcullis@*.installed)
    eval "$2"
    replaced "a state file $1, refused" "$3"
    rm -f "$state"
}
refused "truncated" 'truncate -s -9 "$state"' "truncated or damaged"
refused "cut short, checksum made right" \
    'python3 "$dir/delta-state.py" cut "$state"' "truncated or damaged (its records do not add up)"
refused "of another model version" \
    'python3 "$dir/delta-state.py" model "$state"' "written by another version of portcullis"
refused "of another table" \
    'in_s "$bin" apply --table other --full "$tmp/c1.yaml" >/dev/null 2>&1 &&
     mv "$PORTCULLIS_STATE_DIR"/other@*.installed "$state" &&
     in_s "$bin" remove --table other >/dev/null 2>&1' "of another table"
# A record whole and well formed that no longer holds what the table holds (it
# says 198.51.100.6 where the table holds 198.51.100.7): diff, which reads the
# table, says the delta planned from it contradicts what it read.
in_s "$bin" apply --full "$tmp/c1.yaml" >/dev/null 2>&1
state=$(ls "$PORTCULLIS_STATE_DIR"/portcullis@*.installed)
python3 "$dir/delta-state.py" key "$state" 198.51.100.7 198.51.100.6
in_s "$bin" diff "$tmp/c1.yaml" >"$tmp/out" 2>/dev/null
rc=$?
in_s "$bin" diff --json "$tmp/c1.yaml" 2>/dev/null |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["apply"]["record_matches_table"])' >"$tmp/json"
if [ $rc = 0 ] && grep -q "^warning: the record of the last apply does not hold what the table holds (a delta would change a table that is already what the policy installs)" "$tmp/out" &&
    [ "$(cat "$tmp/json")" = False ]; then
    pass "a record that no longer holds what the table holds: diff says so"
else
    fail "a record that no longer holds what the table holds: diff says so (rc $rc)"
    cat "$tmp/out" "$tmp/json"
fi
rm -f "$state"
refused "owned by another user" 'chown 65534 "$state"' "owned by another user"
refused "readable by others" 'chmod 644 "$state"' "others may read or write it"
refused "that is a symbolic link" 'mv "$state" "$state.real" && ln -s "$state.real" "$state"' \
    "is a symbolic link"

# A state directory others may reach: apply works and says what to mend; --confirm refuses.
mkdir -m 755 "$tmp/open"
PORTCULLIS_STATE_DIR="$tmp/open" in_s "$bin" apply --full "$tmp/c1.yaml" >/dev/null 2>"$tmp/err"
rc=$?
PORTCULLIS_STATE_DIR="$tmp/open" in_s "$bin" apply --confirm 30 "$tmp/c2.yaml" >/dev/null 2>"$tmp/err2"
rc2=$?
if [ $rc = 0 ] && grep -q "^portcullis apply: warning: cannot record what was installed in $tmp/open/portcullis@[0-9]*.installed: '$tmp/open' has mode 0755; it must be 0700: 'chmod 700 $tmp/open'; the next apply replaces the whole table$" "$tmp/err" &&
    [ $rc2 = 3 ] && grep -q "^portcullis apply: cannot keep the confirmation in $tmp/open: '$tmp/open' has mode 0755; it must be 0700: 'chmod 700 $tmp/open'; nothing was changed" "$tmp/err2" &&
    [ -z "$(ls "$tmp/open")" ]; then
    pass "a state directory others may reach: said, with the mend; --confirm refused"
else
    fail "a state directory others may reach: said, with the mend; --confirm refused (rc $rc, $rc2)"
    cat "$tmp/err" "$tmp/err2"
fi
same "a state directory others may reach" "$tmp/c1.yaml"

# 6. --confirm with a delta, rolled back.
in_s "$bin" apply --full "$tmp/c1.yaml" >/dev/null 2>&1
in_s "$nldump" portcullis >"$tmp/saved"
in_s $w "$bin" apply --confirm 30 "$tmp/c2.yaml" >"$tmp/out" 2>&1
grep -q "updated in place" "$tmp/out" || { echo "not a delta:"; cat "$tmp/out"; }
in_s $w "$bin" rollback >"$tmp/rb" 2>&1  # as apply ran: the watcher is known by its name
in_s "$nldump" portcullis >"$tmp/after"
if grep -q "updated in place" "$tmp/out" && cmp -s "$tmp/saved" "$tmp/after" &&
    [ -z "$(ls "$PORTCULLIS_STATE_DIR"/portcullis@*.installed 2>/dev/null)" ]; then
    pass "apply --confirm with a delta, rolled back: the table saved, exactly; no record left"
else
    fail "apply --confirm with a delta, rolled back: the table saved, exactly; no record left"
    cat "$tmp/out" "$tmp/rb"
    diff "$tmp/saved" "$tmp/after" | head
fi
in_s $w "$bin" apply "$tmp/c2.yaml" >"$tmp/out" 2>"$tmp/err"
if grep -q "applied: .* in one transaction" "$tmp/out" &&
    grep -q "^portcullis apply: replaced the whole table: there was no record of what the last apply installed" "$tmp/err"; then
    pass "after a rollback: the whole table replaced, said"
else
    fail "after a rollback: the whole table replaced, said"
    cat "$tmp/out" "$tmp/err"
fi
same "after a rollback" "$tmp/c2.yaml"

# 7. What the kernel does.
in_s nft -f - <<'EOF'
table inet probe {
	set h {
		type ipv4_addr
		elements = { 10.0.0.1 }
	}
}
EOF
in_s nft delete element inet probe h "{ 10.0.0.2 }" 2>"$tmp/k1"
r1=$?
in_s nft add element inet probe h "{ 10.0.0.1 }" 2>"$tmp/k2"
r2=$?
in_s nft create element inet probe h "{ 10.0.0.1 }" 2>"$tmp/k3"
r3=$?
if [ $r1 = 1 ] && grep -q "No such file or directory" "$tmp/k1" && [ $r2 = 0 ] &&
    [ $r3 = 1 ] && grep -q "File exists" "$tmp/k3"; then
    pass "the kernel: a delete of an element it lacks ENOENT; an add of one it holds: 0, EEXIST with NLM_F_EXCL"
else
    fail "the kernel: a delete of an element it lacks ENOENT; an add of one it holds: 0, EEXIST with NLM_F_EXCL"
    cat "$tmp/k1" "$tmp/k2" "$tmp/k3"
fi
in_s nft delete table inet probe

finish
