#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `portcullis show`, `diff` and `apply --dry-run`, as root, each case in a
# network namespace of its own (unshare -n): the host's ruleset is never
# touched.
# - For every policy in policies/ and examples/ (and the feature, injection
#   and probe policies): diff says 0 after apply and after `nft -f` of the
#   rendering, and show prints the same bytes for both loads.
# - show prints the golden text of kdc-primary (golden/kdc-primary.show).
# - diff says 1, under the right group, after a rule added by hand, a set
#   element deleted, a chain policy changed, the table removed; --json says
#   the same (read with python3).
# - diff of ranges that share a start: each side's, the same ones left out.
# - apply --dry-run prints the diff and sends nothing.
# - show while another process replaces the table again and again: each
#   output is the one table or the other, whole.
# - No table: show exits 1; without CAP_NET_ADMIN: 3; usage errors: 2.
. "$(dirname "$0")/../lib.sh"
w=${PC_TEST_WRAPPER:-}

if [ "$(id -u)" != 0 ] || ! command -v nft >/dev/null 2>&1 || ! unshare -n true 2>/dev/null; then
    cannot_run "root, nft and network namespaces"
fi
export bin w tmp root
unset SSH_CONNECTION
# What apply records of the table it installed goes here, not to /run.
export PORTCULLIS_STATE_DIR="$tmp/state"
mkdir -m 700 "$PORTCULLIS_STATE_DIR"

# ns SCRIPT: runs SCRIPT (sh) in a new network namespace, its loopback up.
ns() { unshare -n sh -c "ip link set lo up; $1"; }
# expect NAME WANT OUT [PATTERN FILE]: tests/lib.sh.

# changes NAME WANT CASE: passes when the diff saved as $tmp/CASE holds
# exactly WANT (a printf format) after its first line, which says how many
# changes there are: 1.
# The last line says what apply would send (a delta or the whole table, and why).
changes() {
    sed -e 1d -e '$d' "$tmp/$3" >"$tmp/$3.body"
    tail -1 "$tmp/$3" | grep -q "^apply would replace the whole table: [0-9]* objects; no delta: table inet portcullis changed since the last apply: " ||
        tail -1 "$tmp/$3" >>"$tmp/$3.body"
    expect "$1" "$2" "$tmp/$3.body" "^table inet portcullis differs from what $pol installs: [0-9]* change" "$tmp/$3"
}

# 1. Equal after apply and after nft -f; show the same for both.
for yaml in "$root"/policies/*.yaml "$root"/examples/*.yaml "$root"/tests/render/features.yaml \
    "$root"/tests/render/injection.yaml "$root"/tests/render/probe.yaml \
    "$root"/tests/render/probe-interfaces.yaml "$root"/tests/render/probe-sets.yaml; do
    name=$(basename "$yaml" .yaml)
    rel=${yaml#"$root"/}
    export rel
    ns '
cd "$root"
"$bin" apply --allow-lockout "$rel" >/dev/null 2>&1 || echo "apply failed"
$w "$bin" diff "$rel" >"$tmp/d1" 2>/dev/null; echo "diff rc $?"
$w "$bin" show >"$tmp/s1" 2>&1
nft delete table inet portcullis
"$bin" render "$rel" 2>/dev/null | nft -f - || echo "nft -f failed"
$w "$bin" diff "$rel" >/dev/null 2>&1; echo "diff rc $?"
$w "$bin" show >"$tmp/s2" 2>&1
cmp -s "$tmp/s1" "$tmp/s2" || echo "show differs"
' >"$tmp/eq" 2>&1
    expect "$name: diff 0 after apply and after nft -f, show the same" \
        'diff rc 0\ndiff rc 0' "$tmp/eq" "^table inet portcullis is what $rel installs" "$tmp/d1"
done

pol=policies/kdc-primary.yaml
export pol

# 2. show's text.
ns 'cd "$root"; "$bin" apply "$pol" >/dev/null 2>&1; $w "$bin" show' >"$tmp/show" 2>&1
if cmp -s "$tmp/show" "$dir/golden/kdc-primary.show"; then
    pass "show prints the live table (golden)"
else
    fail "show prints the live table (golden)"
    diff "$dir/golden/kdc-primary.show" "$tmp/show" | head -20
fi

# 3. Drift, each under its group.
ns '
cd "$root"
"$bin" apply "$pol" >/dev/null 2>&1
nft add rule inet portcullis input tcp dport 3306 accept
$w "$bin" diff "$pol" >"$tmp/hand"; echo "hand rc $?"
$w "$bin" diff --json "$pol" >"$tmp/hand.json"
"$bin" apply "$pol" >/dev/null 2>&1
nft delete element inet portcullis n_monitoring_v4 "{ 203.0.113.7 }"
$w "$bin" diff "$pol" >"$tmp/elem"; echo "elem rc $?"
$w "$bin" diff --json "$pol" >"$tmp/elem.json"
"$bin" apply "$pol" >/dev/null 2>&1
nft delete element inet portcullis input_tcp "{ 22 }"
$w "$bin" diff "$pol" >"$tmp/mapelem"; echo "map element rc $?"
"$bin" apply "$pol" >/dev/null 2>&1
nft add chain inet portcullis output "{ policy drop; }"
$w "$bin" diff "$pol" >"$tmp/policy"; echo "policy rc $?"
"$bin" apply "$pol" >/dev/null 2>&1
nft add rule inet portcullis r3_tcp accept comment \"r3 widened by hand\"
$w "$bin" diff "$pol" >"$tmp/r3"; echo "r3 rc $?"
"$bin" apply "$pol" >/dev/null 2>&1
handle=$(nft -a list chain inet portcullis input | sed -n "s/.*ct state invalid drop # handle //p")
nft delete rule inet portcullis input handle "$handle"
nft add rule inet portcullis input ct state invalid drop
$w "$bin" diff "$pol" >"$tmp/order"; echo "order rc $?"
"$bin" apply "$pol" >/dev/null 2>&1
nft add set inet portcullis pairs "{ type ipv6_addr . inet_service; }"
nft add element inet portcullis pairs "{ 2001:db8::1 . 22 }"
$w "$bin" diff "$pol" >"$tmp/pairs"; echo "pairs rc $?"
nft delete table inet portcullis
$w "$bin" diff "$pol" >"$tmp/gone"; echo "gone rc $?"
$w "$bin" diff --json "$pol" >"$tmp/gone.json"
' >"$tmp/drift" 2>&1
expect "diff: 1 after each drift" \
    'hand rc 1\nelem rc 1\nmap element rc 1\npolicy rc 1\nr3 rc 1\norder rc 1\npairs rc 1\ngone rc 1' "$tmp/drift"
changes "diff: a rule added by hand, reported as such" \
    "added by hand (no portcullis comment):\n-\trule input: tcp dport 3306 accept" hand
changes "diff: a deleted address, under the rule that uses its set" \
    "rule r5 ($pol:44):\n+\telement n_monitoring_v4: 203.0.113.7" elem
changes "diff: a deleted map element, under its rule" \
    "rule r3 ($pol:37):\n+\telement input_tcp: 22 : jump r3_tcp comment \"r3 ssh 22/tcp iana:50; from admins\"" mapelem
changes "diff: a chain's policy" \
    "chains:\n+\tchain output { type filter hook output priority 0; policy accept; }\n-\tchain output { type filter hook output priority 0; policy drop; }" policy
changes "diff: a rule with a portcullis-like comment, under that rule" \
    "rule r3 ($pol:37):\n-\trule r3_tcp: accept comment \"r3 widened by hand\"" r3
changes "diff: the same rules in another order" \
    "order:\n~\trule input: iif \"lo\" accept\n\t(the first rule of chain input that stands elsewhere than $pol puts it)" order
changes "diff: a set added by hand, its long keys whole" \
    "sets and maps:\n-\tset pairs { type 525/20; }\n-\telement pairs: 0x20010db800000000000000000000000100160000" pairs
head -1 "$tmp/gone" >"$tmp/gone.head"
expect "diff: the table removed, everything to add" \
    "table inet portcullis is not loaded: $pol would create all of it" "$tmp/gone.head"
python3 - "$tmp" >"$tmp/json" 2>&1 <<'PY'
import json, sys
t = sys.argv[1]
h = json.load(open(t + "/hand.json"))
print(h["loaded"], h["equal"], [(c["op"], c["group"], c["rule"], c["kind"], c["owner"], c["text"], c["comment"]) for c in h["changes"]])
e = json.load(open(t + "/elem.json"))
print([(c["op"], c["group"], c["rule"], c["kind"], c["owner"], c["text"]) for c in e["changes"]])
g = json.load(open(t + "/gone.json"))
print(g["loaded"], g["equal"], all(c["op"] == "+" for c in g["changes"]), len(g["changes"]) > 20)
PY
expect "diff --json" \
    "True False [('-', 'hand-added', None, 'rule', 'input', 'tcp dport 3306 accept', None)]\n[('+', 'rule', 5, 'element', 'n_monitoring_v4', '203.0.113.7')]\nFalse False True True" \
    "$tmp/json"

# 4. apply --dry-run: the diff, nothing sent.
ns '
cd "$root"
$w "$bin" apply --dry-run "$pol" >"$tmp/dry0"; echo "absent rc $?"
nft list tables
"$bin" apply "$pol" >/dev/null 2>&1
nft add rule inet portcullis input tcp dport 3306 accept
nft list ruleset >"$tmp/rs0"
$w "$bin" apply --dry-run "$pol" >"$tmp/dry1"; echo "drift rc $?"
"$bin" diff "$pol" | cmp -s - "$tmp/dry1" || echo "not the diff"
$w "$bin" apply --dry-run --json "$pol" | python3 -c "import json, sys; d = json.load(sys.stdin); print(\"json\", d[\"equal\"], len(d[\"changes\"]))"
nft list ruleset | cmp -s - "$tmp/rs0" || echo "the ruleset changed"
' >"$tmp/dry" 2>&1
expect "apply --dry-run: the diff, nothing sent" 'absent rc 1\ndrift rc 1\njson False 1' "$tmp/dry" \
    "^table inet portcullis is not loaded" "$tmp/dry0"

# 5. Read while another program replaces the table over and over: each show is
# one table or the other, whole (a dump the change interrupts is taken again).
other=policies/kdc-replica.yaml
export other
ns '
cd "$root"
"$bin" apply "$other" >/dev/null 2>&1; "$bin" show >"$tmp/sB"
"$bin" apply "$pol" >/dev/null 2>&1; "$bin" show >"$tmp/sA"
rm -f "$tmp/stop"
( i=0; while [ $i -lt 60 ] && [ ! -e "$tmp/stop" ]; do "$bin" apply "$other" >/dev/null 2>&1; "$bin" apply "$pol" >/dev/null 2>&1; i=$((i + 1)); done ) &
writer=$!
i=0 torn=0 failed=0
while [ $i -lt 40 ]; do
    $w "$bin" show >"$tmp/sX" 2>"$tmp/sE"; rc=$?
    if [ $rc = 0 ]; then
        cmp -s "$tmp/sX" "$tmp/sA" || cmp -s "$tmp/sX" "$tmp/sB" || torn=$((torn + 1))
    elif [ $rc != 3 ] || ! grep -q "changed the ruleset during each of 9 reads" "$tmp/sE"; then
        failed=$((failed + 1))
    fi
    i=$((i + 1))
done
touch "$tmp/stop"
wait $writer
echo "torn $torn failed $failed"
' >"$tmp/race" 2>&1
expect "show while the table is replaced: one table or the other, whole" 'torn 0 failed 0' "$tmp/race"

# 6. No table, no CAP_NET_ADMIN, usage.
ns '
cd "$root"
$w "$bin" show >/dev/null 2>"$tmp/none"; echo "none rc $?"
$w "$bin" show --table other >/dev/null 2>&1; echo "other rc $?"
"$bin" apply "$pol" >/dev/null 2>&1
$w "$bin" show --table portcullis >/dev/null 2>&1; echo "named rc $?"
' >"$tmp/absent" 2>&1
expect "show: no table is exit 1" 'none rc 1\nother rc 1\nnamed rc 0' "$tmp/absent" \
    "there is no table inet portcullis; apply a policy" "$tmp/none"
if command -v setpriv >/dev/null 2>&1; then
    ns '
cd "$root"
"$bin" apply "$pol" >/dev/null 2>&1
setpriv --reuid=65534 --regid=65534 --clear-groups $w "$bin" show >/dev/null 2>"$tmp/err"; echo "show rc $?"
setpriv --reuid=65534 --regid=65534 --clear-groups $w "$bin" diff "$pol" >/dev/null 2>&1; echo "diff rc $?"
' >"$tmp/eperm" 2>&1
    expect "without CAP_NET_ADMIN: exit 3" 'show rc 3\ndiff rc 3' "$tmp/eperm" \
        "show needs CAP_NET_ADMIN" "$tmp/err"
else
    skip "without CAP_NET_ADMIN" "setpriv"
fi
for args in "show x" "show --table 1bad" "diff" "diff $pol $pol" "diff --bogus $pol" \
    "apply --json $pol"; do
    (cd "$root" && $w "$bin" $args >/dev/null 2>&1)
    rc=$?
    if [ "$rc" = 2 ]; then pass "usage: $args"; else fail "usage: $args (rc $rc)"; fi
done

# 7. Elements that share a start and end elsewhere (a prefix widened or
# narrowed), one only on each side, and the same ones kept: each range that
# differs is said on its side, the rest not at all.
cat >"$tmp/r1.yaml" <<'EOP'
version: 1
policy: ranges
defaults:
  icmp: none
  loopback: none
  established: accept
networks:
  admins: [10.0.0.0/30, 10.0.0.9, 192.0.2.0/24]
rules:
  - allow: 2222
    protocol: tcp
    from: admins
EOP
sed 's#\[10.0.0.0/30, 10.0.0.9, 192.0.2.0/24\]#[10.0.0.0/29, 10.0.0.9, 192.0.2.0/25, 198.51.100.1]#' \
    "$tmp/r1.yaml" >"$tmp/r2.yaml"
ns '
cd "$tmp"
"$bin" apply r1.yaml >/dev/null 2>&1 || echo "apply failed"
$w "$bin" diff r1.yaml >/dev/null 2>&1; echo "same rc $?"
$w "$bin" diff r2.yaml; echo "ranges rc $?"
' >"$tmp/ranges" 2>&1
expect "diff: ranges widened, narrowed, added; the same ones left out" \
    'same rc 0\ntable inet portcullis differs from what r2.yaml installs: 5 changes (- live only, + r2.yaml only)\nrule r1 (r2.yaml:10):\n-\telement n_admins_v4: 10.0.0.0-10.0.0.3\n+\telement n_admins_v4: 10.0.0.0-10.0.0.7\n+\telement n_admins_v4: 192.0.2.0-192.0.2.127\n-\telement n_admins_v4: 192.0.2.0-192.0.2.255\n+\telement n_admins_v4: 198.51.100.1\napply would send a delta of the last apply: 6 objects (4 elements added, 2 deleted; 0 sets and maps created, 0 deleted; 0 chains created, 0 deleted, 0 rebuilt; 0 policies changed)\nranges rc 1' \
    "$tmp/ranges"

# 8. Large hash sets (5 000 IPv4 and 5 000 IPv6 hosts from a list file,
# listed shuffled), their kernel elements sorted and merged with the
# policy's rather than looked up one by one: edits by hand at the first and
# last keys, between and beyond them, and an element given a comment, each
# said once on its side and nothing else.
python3 -c "
import random, sys
hosts = ['10.0.%d.%d' % (a >> 8, a & 255) for a in range(1, 5001)]
hosts += ['2001:db8::%x' % a for a in range(1, 5001)]
random.Random(8).shuffle(hosts)
open(sys.argv[1], 'w').write('\\n'.join(hosts) + '\\n')
" "$tmp/hosts.txt"
sed -e "s#admins: \[.*\]#admins: {file: hosts.txt}#" "$tmp/r1.yaml" >"$tmp/h.yaml"
ns '
cd "$tmp"
"$bin" apply h.yaml >/dev/null 2>&1 || echo "apply failed"
$w "$bin" diff h.yaml >/dev/null 2>&1; echo "same rc $?"
nft delete element inet portcullis n_admins_v4 "{ 10.0.0.1, 10.0.19.136, 10.0.9.9, 10.0.5.5 }"
nft add element inet portcullis n_admins_v4 "{ 9.255.255.255, 10.0.0.0, 10.255.0.1, 10.0.19.137 }"
nft add element inet portcullis n_admins_v4 "{ 10.0.5.5 comment \"by hand\" }"
nft delete element inet portcullis n_admins_v6 "{ 2001:db8::1, 2001:db8::1388 }"
nft add element inet portcullis n_admins_v6 "{ ::1, 2001:db8::1389, 2001:db8::ffff:1 }"
$w "$bin" diff h.yaml 2>/dev/null; echo "edits rc $?"
' >"$tmp/hashed" 2>&1
expect "diff of large hash sets: each edit by hand said once" \
    'same rc 0\ntable inet portcullis differs from what h.yaml installs: 14 changes (- live only, + h.yaml only)\nrule r1 (h.yaml:10):\n-\telement n_admins_v4: 10.0.0.0\n+\telement n_admins_v4: 10.0.0.1\n+\telement n_admins_v4: 10.0.19.136\n-\telement n_admins_v4: 10.0.19.137\n-\telement n_admins_v4: 10.0.5.5 comment "by hand"\n+\telement n_admins_v4: 10.0.5.5\n+\telement n_admins_v4: 10.0.9.9\n-\telement n_admins_v4: 10.255.0.1\n-\telement n_admins_v4: 9.255.255.255\n+\telement n_admins_v6: 2001:db8::1\n+\telement n_admins_v6: 2001:db8::1388\n-\telement n_admins_v6: 2001:db8::1389\n-\telement n_admins_v6: 2001:db8::ffff:1\n-\telement n_admins_v6: ::1\napply would replace the whole table: 10029 objects; no delta: table inet portcullis changed since the last apply: set n_admins_v4 holds other elements\nedits rc 1' \
    "$tmp/hashed"

# 9. With the large table loaded, a policy that does not load says so
# (exit 1) and a missing one exit 3; and while another program changes the
# large table over and over, each diff is of one table or the other, whole
# (a dump the change interrupts is taken again, its kept keys let go), or
# says the ruleset kept changing.  What apply would send is left out: it is
# planned from the record of the last apply, read before the table, which
# the writer may change between the two.
printf 'version: 1\npolicy: bad\nrules:\n  - allow: nosuchservice\n' >"$tmp/bad.yaml"
sed 's/^  - allow: 2222$/  - allow: 2223/' "$tmp/h.yaml" >"$tmp/h2.yaml"
ns '
cd "$tmp"
"$bin" apply h.yaml >/dev/null 2>&1 || echo "apply failed"
$w "$bin" diff bad.yaml >/dev/null 2>"$tmp/bad.err"; echo "bad rc $?"
grep -c "unknown service .nosuchservice." "$tmp/bad.err"
$w "$bin" diff nowhere.yaml >/dev/null 2>&1; echo "missing rc $?"
"$bin" apply h2.yaml >/dev/null 2>&1; "$bin" diff h.yaml >"$tmp/dB"
"$bin" apply h.yaml >/dev/null 2>&1; "$bin" diff h.yaml >"$tmp/dA"
rm -f "$tmp/stop"
( i=0; while [ $i -lt 40 ] && [ ! -e "$tmp/stop" ]; do "$bin" apply h2.yaml >/dev/null 2>&1; "$bin" apply h.yaml >/dev/null 2>&1; i=$((i + 1)); done ) &
writer=$!
i=0 torn=0 failed=0
while [ $i -lt 20 ]; do
    $w "$bin" diff h.yaml >"$tmp/dX" 2>"$tmp/dE"; rc=$?
    if [ $rc = 0 ] || [ $rc = 1 ]; then
        for f in dX dA dB; do grep -v "^apply would\|^warning: the record" "$tmp/$f" >"$tmp/${f}1"; done
        cmp -s "$tmp/dX1" "$tmp/dA1" || cmp -s "$tmp/dX1" "$tmp/dB1" || torn=$((torn + 1))
    elif [ $rc != 3 ] || ! grep -q "changed the ruleset during each of 9 reads" "$tmp/dE"; then
        failed=$((failed + 1))
    fi
    i=$((i + 1))
done
touch "$tmp/stop"
wait $writer
echo "torn $torn failed $failed"
' >"$tmp/thread" 2>&1
expect "diff: a policy that does not load, and reads while the large table changes, each whole" \
    'bad rc 1\n1\nmissing rc 3\ntorn 0 failed 0' "$tmp/thread"

finish
