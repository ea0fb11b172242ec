#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `portcullis apply` and `check --kernel`, as root, each case in a network
# namespace of its own (unshare -n): the host's ruleset is never touched.
# - For every policy in policies/ and examples/ (and the feature, injection
#   and probe policies), the table `apply` makes is the table `nft -f` makes
#   from `render`: nldump (libnftnl, attribute by attribute: set flags, types,
#   sizes, user data, every element, every expression of every rule; of the
#   table's user data, not what apply records of its policy: hash, time,
#   path) and `nft list ruleset` print the same.
# - Replacing: applied twice, one table, a foreign table left as it was.
# - `check --kernel`: accepted, nothing changed.
# - A same-named table portcullis does not manage: refused (exit 4, left
#   as it was) unless --force.
# - Without CAP_NET_ADMIN: exit 3 with a clear message, nothing changed.
# - Usage errors and invalid policies: nothing is sent.
# - Over SSH ($SSH_CONNECTION), a policy that drops the session's own
#   connection is refused (exit 4) unless --allow-lockout.
# - The lockout check's blind spots, each with a real TCP session between two
#   namespaces joined by a veth pair (three, for policy routing): refused
#   while the session lives; with --allow-lockout, applied, and the session
#   dies.  Where it cannot tell (a stale SSH_CONNECTION, a zone that names no
#   interface, started by process 1 on a terminal), a warning.
# - Killed (SIGKILL, SIGTERM) at random points while replacing a table: the
#   kernel holds the old table or the new one, never a mix.
# - What apply and check --kernel say and their status match what the kernel
#   did, around the sending (restart_shim.so, preloaded): a foreign table
#   made between attempts, reads or the sending failing, lost errors, an
#   interrupt during the retries.
. "$(dirname "$0")/../lib.sh"
nldump=$3
w=${PC_TEST_WRAPPER:-}

if [ "$(id -u)" != 0 ] || ! command -v nft >/dev/null 2>&1 || ! unshare -n true 2>/dev/null; then
    if [ "${CI:-}" = true ]; then
        echo "FAIL: CI runs as root with nft: the namespace tests must run"
        exit 1
    fi
    echo "skipped: needs root, nft and network namespaces"
    exit 77
fi
export bin nldump w tmp root
# A developer's SSH session must not change what apply is asked (see 6.).
unset SSH_CONNECTION
# What apply records of the table it installed goes here, not to /run.
export PORTCULLIS_STATE_DIR="$tmp/state"
mkdir -m 700 "$PORTCULLIS_STATE_DIR"

# ns SCRIPT: runs SCRIPT (sh) in a new network namespace.
ns() { unshare -n sh -c "$1"; }

# 1. apply == nft -f of the rendering, attribute by attribute.
for yaml in "$root"/policies/*.yaml "$root"/examples/*.yaml "$root"/tests/render/features.yaml \
    "$root"/tests/render/injection.yaml "$root"/tests/render/probe.yaml \
    "$root"/tests/render/probe-interfaces.yaml "$root"/tests/render/probe-sets.yaml; do
    name=$(basename "$yaml" .yaml)
    rel=${yaml#"$root"/}
    (cd "$root" && "$bin" render "$rel") >"$tmp/r.nft" 2>/dev/null || { fail "$name: render"; continue; }
    ns 'nft -f "$tmp/r.nft" && "$nldump" portcullis && nft list ruleset' >"$tmp/by-nft" 2>&1
    export rel
    ns 'cd "$root" && $w "$bin" apply "$rel" >"$tmp/out" 2>"$tmp/err"; echo "rc $?"; "$nldump" portcullis && nft list ruleset' >"$tmp/by-apply" 2>&1
    if [ "$(head -1 "$tmp/by-apply")" = "rc 0" ] && tail -n +2 "$tmp/by-apply" | cmp -s - "$tmp/by-nft" &&
        grep -q "^$name: table inet portcullis applied: .* in one transaction" "$tmp/out"; then
        pass "$name: apply makes the table nft -f makes"
    else
        fail "$name: apply makes the table nft -f makes"
        tail -n +2 "$tmp/by-apply" | diff "$tmp/by-nft" - | head -20
        cat "$tmp/out" "$tmp/err"
    fi
done

# 2. Replacing, next to a foreign table; check --kernel changes nothing.
pol=policies/kdc-primary.yaml other=policies/kdc-replica.yaml
export pol other
ns '
cd "$root"
nft -f - <<EOF
table inet keep {
	chain c {
		type filter hook input priority 10; policy accept;
		tcp dport 9 counter accept comment "a foreign rule"
	}
}
EOF
nft list table inet keep >"$tmp/keep0"
$w "$bin" apply "$pol" >/dev/null 2>&1 || echo "first apply failed"
$w "$bin" apply "$other" >/dev/null 2>&1 || echo "second apply failed"
nft list tables
nft list table inet keep | cmp -s - "$tmp/keep0" || echo "the foreign table changed"
"$nldump" portcullis >"$tmp/before"
$w "$bin" check --kernel "$pol" >"$tmp/out" 2>"$tmp/err"; echo "check rc $?"
"$nldump" portcullis | cmp -s - "$tmp/before" || echo "check --kernel changed the table"
' >"$tmp/replace" 2>&1
expect "apply replaces its table, leaves a foreign one; check --kernel changes nothing" \
    'table inet keep\ntable inet portcullis\ncheck rc 0' "$tmp/replace" \
    '^kdc-primary: table inet portcullis accepted by the kernel: .*nothing changed' "$tmp/out"

# check --kernel on a host without the table: accepted, and still no table.
ns 'cd "$root"; $w "$bin" check --kernel "$pol" >/dev/null 2>&1; echo "rc $?"; nft list tables' >"$tmp/chk" 2>&1
expect "check --kernel leaves nothing behind" 'rc 0' "$tmp/chk"

# A fresh apply leaves out the declare and delete of a table that is not
# there (closing the socket would wait for the kernel to free it): no table
# deleted, two messages fewer than the replace (--full) that follows, the same table.
ns '
cd "$root"
timeout 20 nft monitor tables >"$tmp/events" 2>&1 &
mon=$!
sleep 0.3
$w "$bin" apply "$pol" >"$tmp/fresh" 2>&1; echo "fresh rc $?"
"$nldump" portcullis >"$tmp/t1"
sleep 0.3
kill $mon
wait $mon 2>/dev/null
$w "$bin" apply --full "$pol" >"$tmp/again" 2>&1; echo "replace rc $?"
"$nldump" portcullis | cmp -s - "$tmp/t1" || echo "the tables differ"
a=$(sed -n "s/.* of \([0-9]*\) messages.*/\1/p" "$tmp/fresh")
b=$(sed -n "s/.* of \([0-9]*\) messages.*/\1/p" "$tmp/again")
echo "replace - fresh: $((b - a)) messages"
' >"$tmp/fresh-out" 2>&1
expect "a fresh apply deletes no table and sends two messages fewer than a replace" \
    'fresh rc 0\nreplace rc 0\nreplace - fresh: 2 messages' "$tmp/fresh-out" \
    '^add table inet portcullis' "$tmp/events"
if grep -q 'delete table' "$tmp/events"; then
    fail "a fresh apply deletes no table"
    cat "$tmp/events"
fi

# --table: another name, the default table untouched.
ns 'cd "$root"; $w "$bin" apply --table kdc "$pol" >/dev/null 2>&1; echo "rc $?"; nft list tables' >"$tmp/tbl" 2>&1
expect "apply --table NAME" 'rc 0\ntable inet kdc' "$tmp/tbl"

# 3. A same-named table portcullis does not manage.
ns '
cd "$root"
nft add table inet portcullis
nft add chain inet portcullis mine
nft list ruleset >"$tmp/foreign0"
$w "$bin" apply "$pol" >/dev/null 2>"$tmp/err"; echo "apply rc $?"
$w "$bin" check --kernel "$pol" >/dev/null 2>&1; echo "check rc $?"
nft list ruleset | cmp -s - "$tmp/foreign0" || echo "the foreign table changed"
$w "$bin" apply --force "$pol" >/dev/null 2>&1; echo "force rc $?"
nft list chains | grep -c "chain mine"
' >"$tmp/foreign" 2>&1
expect "a foreign table of the same name: refused, replaced only with --force" \
    'apply rc 4\ncheck rc 4\nforce rc 0\n0' "$tmp/foreign" \
    "apply: table inet portcullis exists and portcullis does not manage it .*nothing was changed.*--force" "$tmp/err"

# 4. Without CAP_NET_ADMIN (an unprivileged user in the namespace).
if command -v setpriv >/dev/null 2>&1; then
    ns '
cd "$root"
$w "$bin" apply "$pol" >/dev/null 2>&1
nft list ruleset >"$tmp/mine0"
setpriv --reuid=65534 --regid=65534 --clear-groups $w "$bin" apply "$pol" >/dev/null 2>"$tmp/err"; echo "apply rc $?"
setpriv --reuid=65534 --regid=65534 --clear-groups $w "$bin" check --kernel "$pol" >/dev/null 2>&1; echo "check rc $?"
"$bin" check "$pol" >/dev/null 2>&1; echo "plain check rc $?"
nft list ruleset | cmp -s - "$tmp/mine0" || echo "the table changed"
' >"$tmp/eperm" 2>&1
    expect "without CAP_NET_ADMIN: exit 3, nothing changed" \
        'apply rc 3\ncheck rc 3\nplain check rc 0' "$tmp/eperm" "apply needs CAP_NET_ADMIN" "$tmp/err"
fi

# 5. Usage errors and invalid policies: nothing is sent.
for args in "apply" "apply $pol $other" "apply --table 1bad $pol" "apply --bogus $pol" \
    "apply tests/policies/bad/service-def-bad-port.yaml"; do
    export args
    ns 'cd "$root"; $w "$bin" $args >/dev/null 2>&1; echo "rc $?"; nft list tables' >"$tmp/use" 2>&1
    want=2
    case $args in *bad/*) want=1 ;; esac
    expect "'$args': exit $want, nothing applied" "rc $want" "$tmp/use"
done

# 6. Over SSH: a policy that would drop the session's own connection is not
#    applied; through sudo (which drops the variable) too, from sudo's own
#    environment: a stand-in named sudo that drops it the same way.
mkdir "$tmp/wrap" && printf '#!/bin/sh\nenv -u SSH_CONNECTION "$@"\n' >"$tmp/wrap/sudo" && chmod +x "$tmp/wrap/sudo"
export pol
ns '
cd "$root"
SSH_CONNECTION="192.0.2.50 50000 192.0.2.1 22" $w "$bin" apply "$pol" >/dev/null 2>"$tmp/err"; echo "outsider rc $?"
nft list tables
SSH_CONNECTION="2001:db8::5 50000 2001:db8::1 22" $w "$bin" apply "$pol" >/dev/null 2>&1; echo "outsider v6 rc $?"
SSH_CONNECTION="198.51.100.7 50000 192.0.2.1 22" $w "$bin" apply "$pol" >/dev/null 2>&1; echo "admin rc $?"
SSH_CONNECTION="192.0.2.50 50000 192.0.2.1 22" $w "$bin" check --kernel "$pol" >/dev/null 2>&1; echo "check rc $?"
SSH_CONNECTION="192.0.2.50 50000 192.0.2.1 22" "$tmp/wrap/sudo" $w "$bin" apply "$pol" >/dev/null 2>&1; echo "sudo rc $?"
sh -c "env -u SSH_CONNECTION $w \"\$bin\" apply --table other \"\$pol\" >/dev/null 2>&1"; echo "no session rc $?"
SSH_CONNECTION="192.0.2.50 50000 192.0.2.1 22" $w "$bin" apply --allow-lockout "$pol" >/dev/null 2>&1; echo "allowed rc $?"
' >"$tmp/lockout" 2>&1
expect "over SSH: a policy that drops the session is refused unless --allow-lockout" \
    'outsider rc 4\noutsider v6 rc 4\nadmin rc 0\ncheck rc 0\nsudo rc 4\nno session rc 0\nallowed rc 0' "$tmp/lockout" \
    "would cut off the SSH session it is applied through (SSH_CONNECTION: 192.0.2.50 port 50000 -> port 22): the default policy of input drops it; nothing was changed.*--allow-lockout" "$tmp/err"

# 7. The lockout check asks for the session's server address too: a policy
#    that opens SSH on one address of the host (to:) keeps a session to that
#    address and cuts one to another.
printf 'version: 1\npolicy: sshto\nrules:\n  - allow: 22/tcp\n    to: 192.0.2.1\n' \
    >"$tmp/sshto.yaml"
ns '
SSH_CONNECTION="192.0.2.50 50000 192.0.2.1 22" $w "$bin" apply "$tmp/sshto.yaml" >/dev/null 2>&1; echo "to it rc $?"
SSH_CONNECTION="192.0.2.50 50000 192.0.2.9 22" $w "$bin" apply "$tmp/sshto.yaml" >/dev/null 2>"$tmp/err"; echo "to another rc $?"
' >"$tmp/lockto" 2>&1
expect "over SSH: a rule on one of the host's addresses keeps a session to it, not to another" \
    'to it rc 0\nto another rc 4' "$tmp/lockto" \
    "would cut off the SSH session it is applied through (SSH_CONNECTION: 192.0.2.50 port 50000 -> port 22): the default policy of input drops it" "$tmp/err"

# 8. The lockout check with a real TCP session: session.py listens on port 22
#    in the namespace $S and connects from $C (through the veth pair pcc0 ->
#    pcs0) or from $S itself; apply runs in $S with SSH_CONNECTION as the
#    server wrote it (through the shell SNIPPET), then the client exchanges
#    20 messages, each answered within 2 s or the session is dead.
S=pclks$$ C=pclkc$$
trap 'ip netns del $S 2>/dev/null; ip netns del $C 2>/dev/null; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
ip netns add $S && ip netns add $C &&
    ip -n $S link add pcs0 type veth peer name pcc0 netns $C &&
    ip -n $S addr add 192.0.2.1/24 dev pcs0 && ip -n $C addr add 192.0.2.2/24 dev pcc0 &&
    ip -n $S addr add fe80::2/64 dev pcs0 nodad && ip -n $C addr add fe80::1/64 dev pcc0 nodad &&
    ip -n $S addr add 2001:db8::1/64 dev pcs0 nodad && ip -n $C addr add 2001:db8::2/64 dev pcc0 nodad &&
    ip -n $S link set lo up && ip -n $C link set lo up &&
    ip -n $S link set pcs0 up && ip -n $C link set pcc0 up || { fail "lockout: namespaces"; finish; exit 1; }
# live LISTEN CONNECT CLIENT_NS SNIPPET: prints "rc N alive|dead".  With
# $speak set, the server speaks first after apply, the client only echoes.
speak=
live() {
    rm -f "$tmp/sess" "$tmp/up" "$tmp/go" "$tmp/res"
    ip netns exec $S timeout 90 python3 "$dir/session.py" server "$1" 22 "$tmp/sess" ${speak:+"$tmp/go"} &
    spid=$!
    ip netns exec "$3" timeout 60 python3 "$dir/session.py" client "$2" 22 "$tmp/up" "$tmp/go" "$tmp/res" ${speak:+listen} &
    cpid=$!
    i=0
    while { [ ! -e "$tmp/up" ] || [ ! -e "$tmp/sess" ]; } && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    if [ -e "$tmp/up" ] && [ -e "$tmp/sess" ]; then
        SSH_CONNECTION=$(cat "$tmp/sess") ip netns exec $S sh -c "$4" >"$tmp/out" 2>"$tmp/err"
        rc=$?
    else
        rc=none
    fi
    touch "$tmp/go"
    wait $cpid
    kill $spid 2>/dev/null
    wait $spid 2>/dev/null
    echo "rc $rc $(cat "$tmp/res" 2>/dev/null)"
    ip netns exec $S nft flush ruleset
}
# pol NAME DEFAULTS RULES: writes $tmp/NAME.yaml.
pol() {
    printf 'version: 1\npolicy: %s\ndefaults:\n%s\nrules:\n%s\n' "$1" "$2" "$3" >"$tmp/$1.yaml"
}
strict='  input: drop
  established: none'
pol noauth "$strict" '  - allow: 88/tcp'
pol ifdeny "$strict" '  - deny: 22/tcp
    interface: pcs0
  - allow: 22/tcp'
pol ifother "$strict" '  - deny: 22/tcp
    interface: pcs9
  - allow: 22/tcp'
pol ifwild "$strict" '  - deny: 22/tcp
    interface: pcs*
  - allow: 22/tcp'
pol ifnot "$strict" '  - deny: 22/tcp
    interface: {not: [pcs9, pcs8]}
  - allow: 22/tcp'
pol ifnotours "$strict" '  - deny: 22/tcp
    interface: {not: [pcs0, pcs9]}
  - allow: 22/tcp'
pol iflist "$strict" '  - allow: 22/tcp
    interface: [pcs9, pcs0]'
pol limited "$strict" '  - allow: 22/tcp
    limit: 3/minute'
pol limited_est '  input: drop
  established: accept' '  - allow: 22/tcp
    limit: 3/minute'
pol v6only "$strict" '  - allow: 22/tcp
    from: "::/0"'
pol v4net "$strict" '  - allow: 22/tcp
    from: 192.0.2.0/24'
pol nolo '  input: drop
  established: none
  loopback: none' '  - allow: 88/tcp'
apply='$w "$bin" apply "$tmp/$P.yaml"'
allow='$w "$bin" apply --allow-lockout "$tmp/$P.yaml"'
cut='would cut off the SSH session it is applied through'
# lockout CASE LISTEN CONNECT CLIENT_NS POLICY PATTERN: apply is refused, its
# stderr matches PATTERN, and the session lives; with --allow-lockout it is
# applied and the session dies (so the policy is a lockout).
lockout() {
    P=$5
    export P
    live "$2" "$3" "$4" "$apply" >"$tmp/l1"
    cp "$tmp/err" "$tmp/l1.err"
    live "$2" "$3" "$4" "$allow" >"$tmp/l2"
    cat "$tmp/l1" "$tmp/l2" >"$tmp/lk"
    expect "$1: refused, the session lives; with --allow-lockout it dies" \
        'rc 4 alive\nrc 0 dead' "$tmp/lk" "$6" "$tmp/l1.err"
}
# keeps CASE LISTEN CONNECT CLIENT_NS POLICY: applied, and the session lives.
keeps() {
    P=$5
    export P
    live "$2" "$3" "$4" "$apply" >"$tmp/k"
    expect "$1: applied, the session lives" 'rc 0 alive' "$tmp/k"
    [ -s "$tmp/err" ] && cat "$tmp/err"
}

# A deny that names the session's interface, above the allow.
lockout "a deny on the session's interface" 0.0.0.0 192.0.2.1 $C ifdeny \
    "$cut (SSH_CONNECTION: 192.0.2.2 port [0-9]* -> port 22): rule 1 at .*ifdeny.yaml:7:5 drops it on pcs0; nothing was changed"
keeps "a deny on another interface" 0.0.0.0 192.0.2.1 $C ifother
# Interface wildcards, lists and negation decide as the kernel decides.
lockout "a deny on a wildcard the session's interface matches" 0.0.0.0 192.0.2.1 $C ifwild \
    "$cut .*: rule 1 at .*ifwild.yaml:7:5 drops it on pcs\\*; nothing was changed"
lockout "a deny on every interface but two others" 0.0.0.0 192.0.2.1 $C ifnot \
    "$cut .*: rule 1 at .*ifnot.yaml:7:5 drops it on not {pcs9, pcs8}; nothing was changed"
keeps "a deny on every interface but the session's and another" 0.0.0.0 192.0.2.1 $C ifnotours
keeps "an allow on a list that holds the session's interface" 0.0.0.0 192.0.2.1 $C iflist
# A rate-limited allow without established: the session dies past the burst.
lockout "a limited allow without established" 0.0.0.0 192.0.2.1 $C limited \
    "$cut .*: rule 1 at .*limited.yaml:7:5 accepts it at most 3/minute, and without .established: accept. every packet of the session meets that limit"
keeps "a limited allow with established" 0.0.0.0 192.0.2.1 $C limited_est
# Link-local IPv6: sshd writes the client with its zone, fe80::...%pcs0.
lockout "a link-local session (fe80::...%pcs0)" :: "fe80::2%pcc0" $C noauth \
    "$cut (SSH_CONNECTION: fe80:[0-9a-f:]*%pcs0 port [0-9]* -> port 22): the default policy of input drops it"
# IPv4-mapped IPv6 from a dual-stack listener: the packets are IPv4.
lockout "an IPv4-mapped client (::ffff:192.0.2.2)" :: 192.0.2.1 $C v6only \
    "$cut (SSH_CONNECTION: ::ffff:192.0.2.2 port [0-9]* -> port 22): the default policy of input drops it"
keeps "an IPv4-mapped client allowed by its IPv4 network" :: 192.0.2.1 $C v4net
# A local client goes over lo: `loopback: accept` keeps it.
keeps "a session from 127.0.0.1 with loopback: accept" 127.0.0.1 127.0.0.1 $S noauth
keeps "a session from ::1 with loopback: accept" ::1 ::1 $S noauth
keeps "a session from a local address with loopback: accept" 0.0.0.0 192.0.2.1 $S noauth
lockout "a session from 127.0.0.1 with loopback: none" 127.0.0.1 127.0.0.1 $S nolo \
    "$cut (SSH_CONNECTION: 127.0.0.1 port [0-9]* -> port 22): the default policy of input drops it"

# IPv6 lives on neighbour discovery, which conntrack does not track: the
# defaults keep it, `icmp: none` too, and `neighbour-discovery: drop` drops it
# even with `established: accept`, so the session dies when its neighbour
# entries expire (here at once: the snippet flushes them after apply in both
# namespaces, as their expiry would).
nd='pol_nd=$1; $w "$bin" apply $pol_nd "$tmp/$P.yaml"; r=$?; ip neigh flush all; ip -n "$C" neigh flush all; exit $r'
pol v6nd '  input: drop
  established: accept
  icmp: none' '  - allow: 22/tcp'
pol v6nd_out '  input: accept
  output: drop
  established: accept
  icmp: none' '  - allow: 22/tcp'
pol v6nd_drop '  input: drop
  established: accept
  icmp: none
  neighbour-discovery: drop' '  - allow: 22/tcp'
pol v6nd_ess '  input: drop
  established: accept
  icmp: essential' '  - allow: 22/tcp'
export C
apply0=$apply allow0=$allow
apply="sh -c '$nd' sh" allow="sh -c '$nd' sh --allow-lockout"
keeps "an IPv6 session with icmp: none (input: drop)" :: 2001:db8::1 $C v6nd
# With `output: drop`, a session conntrack tracks (a stateful table loaded
# before it began; see the untracked cases below).
printf 'table inet pcct {\n chain c {\n  type filter hook output priority 10; policy accept;\n  ct state established accept\n }\n}\n' >"$tmp/ct.nft"
ip netns exec $S nft -f "$tmp/ct.nft"
keeps "an IPv6 session with icmp: none (output: drop)" :: 2001:db8::1 $C v6nd_out
lockout "an IPv6 session with neighbour-discovery: drop" :: 2001:db8::1 $C v6nd_drop \
    "$cut (SSH_CONNECTION: 2001:db8::2 port [0-9]* -> port 22): it is IPv6, and .neighbour-discovery: drop. (.*v6nd_drop.yaml:7:24) drops the neighbour solicitations and advertisements it needs"
keeps "an IPv6 session with icmp: essential" :: 2001:db8::1 $C v6nd_ess
apply=$apply0 allow=$allow0

# A session conntrack does not track yet (open before the first ruleset
# with connection tracking in the namespace).  With `output: drop` and
# `established: accept`, the server's next packet is a new connection on
# output: dropped while the client says nothing (the server speaks first).
# With nf_conntrack_tcp_loose 0, every packet of it is invalid, which
# `established: accept` drops.  Once a stateful ruleset tracks the session
# (one applied before it began), the same policy keeps it.
pol outdrop '  input: drop
  output: drop
  established: accept' '  - allow: 22/tcp'
pol stateful '  input: drop
  established: accept' '  - allow: 22/tcp'
speak=1
lockout "an untracked session, output: drop, the server speaking first" 0.0.0.0 192.0.2.1 $C outdrop \
    "$cut (SSH_CONNECTION: 192.0.2.2 port [0-9]* -> port 22): the default policy of output drops it (conntrack does not track the session yet: .*; nothing was changed. Allow it in the policy (output to the client's port), or pass --allow-lockout"
ip netns exec $S nft -f "$tmp/ct.nft"
keeps "a tracked session, output: drop, the server speaking first" 0.0.0.0 192.0.2.1 $C outdrop
speak=
ip netns exec $S sh -c 'nft flush ruleset; echo 0 >/proc/sys/net/netfilter/nf_conntrack_tcp_loose' &&
    lockout "an untracked session with nf_conntrack_tcp_loose 0" 0.0.0.0 192.0.2.1 $C stateful \
        "$cut (SSH_CONNECTION: 192.0.2.2 port [0-9]* -> port 22): conntrack does not track the session yet .*nf_conntrack_tcp_loose 0 its packets are invalid, which .established: accept. drops; nothing was changed"
ip netns exec $S sh -c 'echo 1 >/proc/sys/net/netfilter/nf_conntrack_tcp_loose'

# Policy routing: the replies from the server's address take table 100 out
# of pcsA, while the main table routes the client's network out of pcsB (to
# the namespace $N).  The client (203.0.113.2 on its lo, behind pccA) is
# reached through pcsA: a deny on pcsA cuts the session, an allow only on
# pcsA keeps it (before, the lookup asked the main table: pcsB).
S0=$S C0=$C S=pcprs$$ C=pcprc$$ N=pcprn$$
trap 'for n in $S0 $C0 $S $C $N; do ip netns del $n 2>/dev/null; done; rm -rf "$tmp"' EXIT
if ip netns add $S && ip netns add $C && ip netns add $N &&
    ip -n $S link add pcsA type veth peer name pccA netns $C &&
    ip -n $S link add pcsB type veth peer name pcnB netns $N &&
    ip -n $S addr add 192.0.2.1/24 dev pcsA && ip -n $S addr add 198.51.100.1/24 dev pcsB &&
    ip -n $N addr add 198.51.100.2/24 dev pcnB && ip -n $C addr add 192.0.2.2/24 dev pccA &&
    ip -n $C addr add 203.0.113.2/32 dev lo &&
    ip -n $S link set lo up && ip -n $C link set lo up && ip -n $N link set lo up &&
    ip -n $S link set pcsA up && ip -n $S link set pcsB up && ip -n $C link set pccA up &&
    ip -n $N link set pcnB up &&
    ip -n $S route add 203.0.113.0/24 dev pcsB &&
    ip -n $S rule add from 192.0.2.1 lookup 100 &&
    ip -n $S route add 203.0.113.0/24 dev pcsA table 100 &&
    ip netns exec $S sh -c 'for k in all default pcsA; do
        echo 0 >/proc/sys/net/ipv4/conf/$k/rp_filter || exit 1; done' &&
    ip -n $C route add 192.0.2.1/32 dev pccA src 203.0.113.2; then
    pol prdeny "$strict" '  - deny: 22/tcp
    interface: pcsA
  - allow: 22/tcp'
    pol pronly "$strict" '  - allow: 22/tcp
    interface: pcsA'
    lockout "policy routing: a deny on the interface the session uses (table 100)" \
        192.0.2.1 192.0.2.1 $C prdeny \
        "$cut (SSH_CONNECTION: 203.0.113.2 port [0-9]* -> port 22): rule 1 at .*prdeny.yaml:7:5 drops it on pcsA"
    keeps "policy routing: an allow only on the interface the session uses" 192.0.2.1 192.0.2.1 $C pronly
    # The same by the socket's firewall mark (`ip rule add fwmark`), as a
    # daemon that marks its sockets gets.
    if ip -n $S rule del from 192.0.2.1 lookup 100 && ip -n $S rule add fwmark 7 lookup 100; then
        PC_SESSION_MARK=7
        export PC_SESSION_MARK
        lockout "routing by the socket's mark: a deny on the interface the session uses" \
            192.0.2.1 192.0.2.1 $C prdeny \
            "$cut (SSH_CONNECTION: 203.0.113.2 port [0-9]* -> port 22): rule 1 at .*prdeny.yaml:7:5 drops it on pcsA"
        keeps "routing by the socket's mark: an allow only on the interface the session uses" \
            192.0.2.1 192.0.2.1 $C pronly
        unset PC_SESSION_MARK
    else
        fail "lockout: the fwmark rule"
    fi
else
    fail "lockout: the policy routing namespaces"
fi
for n in $S $C $N; do ip netns del "$n" 2>/dev/null; done
S=$S0 C=$C0

# Root shells lose the variable: sudo -s, sudo -i, su -, sudo su -, with
# stand-ins that drop it as they do (sudo keeps part of the environment, su -
# none); "-bash" is a login shell's name.  SSH_CONNECTION is set only for the
# first command of each chain.
printf '#!/bin/sh\nenv -u SSH_CONNECTION "$@"\nexit $?\n' >"$tmp/wrap/sudo"
printf '#!/bin/sh\nenv -i PATH="$PATH" bin="$bin" tmp="$tmp" w="$w" "$@"\nexit $?\n' >"$tmp/wrap/su"
chmod +x "$tmp/wrap/sudo" "$tmp/wrap/su"
ln -s "$(command -v bash)" "$tmp/wrap/-bash"
ln -s "$(command -v sh)" "$tmp/wrap/sshd"
for how in "bash -c" "sudo bash -c" "sudo $tmp/wrap/-bash -c" "su $tmp/wrap/-bash -c" \
    "sudo $tmp/wrap/su bash -c" "sudo $tmp/wrap/su sh -c"; do
    case $how in sudo* | su*) how="$tmp/wrap/$how" ;; esac
    live 0.0.0.0 192.0.2.1 $C \
        "exec $how 'env -u SSH_CONNECTION \$w \"\$bin\" apply \"\$tmp/noauth.yaml\"; exit \$?'" >"$tmp/rs"
    cp "$tmp/err" "$tmp/rs.err"
    expect "under '$(echo "$how" | sed "s|$tmp/wrap/||g")': refused, the session lives" 'rc 4 alive' \
        "$tmp/rs" "$cut (SSH_CONNECTION: 192.0.2.2 port" "$tmp/rs.err"
done
live 0.0.0.0 192.0.2.1 $C \
    "exec $tmp/wrap/sudo bash -c '\$w \"\$bin\" apply --allow-lockout \"\$tmp/noauth.yaml\"; exit \$?'" >"$tmp/rs"
expect "under 'sudo bash -c' with --allow-lockout: the session dies" 'rc 0 dead' "$tmp/rs"

# Where the check cannot decide, it says so on stderr and apply goes on.
ip netns exec $S sh -c '
"$tmp/wrap/sshd" -c "env -u SSH_CONNECTION $w \"\$bin\" apply \"\$tmp/v4net.yaml\"; exit \$?" >/dev/null 2>"$tmp/e1"; echo "under sshd rc $?"
SSH_CONNECTION="192.0.2.2 5" $w "$bin" apply "$tmp/v4net.yaml" >/dev/null 2>"$tmp/e2"; echo "unreadable rc $?"
nft flush ruleset
' >"$tmp/undecided" 2>&1
expect "under sshd without SSH_CONNECTION: a warning, applied" 'under sshd rc 0\nunreadable rc 0' \
    "$tmp/undecided" "apply: warning: it runs under sshd (process [0-9]*), but SSH_CONNECTION is set neither here nor for the shells, sudo or su between: the lockout check cannot tell whether this policy keeps the session" "$tmp/e1"
expect "an SSH_CONNECTION it cannot read: a warning, applied" 'under sshd rc 0\nunreadable rc 0' \
    "$tmp/undecided" "apply: warning: cannot read SSH_CONNECTION '192.0.2.2 5': expected four words: CLIENT CPORT SERVER SPORT; the lockout check cannot tell" "$tmp/e2"

# A zone that names no interface: 4294967297 is no index (it wrapped to 1,
# lo, which `loopback: accept` passed silently), pcs9 does not exist.
ip netns exec $S sh -c '
for z in 4294967297 pcs9 1x; do
    SSH_CONNECTION="fe80::1%$z 50000 fe80::2 22" $w "$bin" apply "$tmp/noauth.yaml" >/dev/null 2>"$tmp/z-$z"; echo "$z rc $?"
    nft flush ruleset
done
' >"$tmp/zones" 2>&1
for z in 4294967297 pcs9; do
    expect "a zone that names no interface (%$z): a warning, applied" '4294967297 rc 0\npcs9 rc 0\n1x rc 0' \
        "$tmp/zones" "apply: warning: the zone of the client in SSH_CONNECTION 'fe80::1%$z 50000 fe80::2 22' names no interface of this host (.*); the lockout check cannot tell" "$tmp/z-$z"
done

# Started by process 1 on a terminal, as run0 does (here: the first process
# of a new PID namespace, a shell, on a pty from python3): there are no
# ancestors to read, so apply warns that the check cannot tell.  Without a
# terminal (a service, a timer) it says nothing.
printf 'import pty, sys\nsys.exit(pty.spawn(sys.argv[1:]) >> 8)\n' >"$tmp/onpty.py"
printf '%s\n' '$w "$bin" apply "$tmp/noauth.yaml" >/dev/null 2>"$tmp/pid1.err"; echo "tty rc $?"' >"$tmp/pid1.sh"
printf '%s\n' '$w "$bin" apply "$tmp/noauth.yaml" </dev/null >/dev/null 2>"$tmp/pid1b.err"; echo "no tty rc $?"' >"$tmp/pid1b.sh"
unshare -n sh -c '
env -u SSH_CONNECTION timeout 30 python3 "$tmp/onpty.py" unshare -p -f sh "$tmp/pid1.sh" </dev/null | tr -d "\r"
nft flush ruleset
env -u SSH_CONNECTION timeout 30 unshare -p -f sh "$tmp/pid1b.sh"
[ -s "$tmp/pid1b.err" ] && echo "a warning without a terminal"
' >"$tmp/pid1" 2>&1
expect "started by process 1 on a terminal (run0): a warning, applied" 'tty rc 0\nno tty rc 0' "$tmp/pid1" \
    "apply: warning: it was started by process 1 on a terminal (as run0 starts commands), so the SSH session it may come through cannot be found: the lockout check cannot tell" "$tmp/pid1.err"

# A stale SSH_CONNECTION (a tmux or screen pane's, from an earlier
# connection): no established socket has its four addresses and ports, so
# apply warns that the check cannot vouch for the session; a live session
# (IPv4, IPv4 on a dual-stack socket, IPv6) draws no such warning.
stale='apply: warning: SSH_CONNECTION names no live connection on this host (no established TCP connection from 192.0.2.2 port 50000 to port 22): it is stale'
ip netns exec $S sh -c '
SSH_CONNECTION="192.0.2.2 50000 192.0.2.1 22" $w "$bin" apply "$tmp/v4net.yaml" >/dev/null 2>"$tmp/stale.err"; echo "stale rc $?"
nft flush ruleset
' >"$tmp/stale" 2>&1
expect "a stale SSH_CONNECTION: a warning, applied" 'stale rc 0' "$tmp/stale" "$stale" "$tmp/stale.err"
pol open '  input: accept' '  - allow: 22/tcp'
P=open
export P
for c in "0.0.0.0 192.0.2.1" ":: 192.0.2.1" ":: 2001:db8::1" ":: fe80::2%pcc0"; do
    # shellcheck disable=SC2086
    live $c $C "$apply" >"$tmp/k"
    if [ "$(cat "$tmp/k")" = "rc 0 alive" ] && ! grep -q "names no live connection" "$tmp/err"; then
        pass "a live session (listening on ${c% *}, to ${c#* }): no stale warning"
    else
        fail "a live session (listening on ${c% *}, to ${c#* }): no stale warning"
        cat "$tmp/k" "$tmp/err"
    fi
done

# 7. Killed at random points (SIGKILL, SIGTERM) while replacing a table:
#    the kernel holds the old table or the new one, never a mix; SIGTERM
#    leaves no temporary record of what was applied in the state directory.
wide_policy many 3000 >"$tmp/many.yaml"
ns '
cd "$root"
"$bin" apply "$tmp/many.yaml" >/dev/null 2>&1 && "$nldump" portcullis >"$tmp/new"
"$bin" apply "$pol" >/dev/null 2>&1 && "$nldump" portcullis >"$tmp/old"
old=0 new=0 other=0 left=0 i=0
while [ $i -lt 24 ]; do
    sig=KILL; [ $((i % 2)) = 1 ] && sig=TERM
    "$bin" apply "$tmp/many.yaml" >/dev/null 2>&1 &
    pid=$!
    sleep "0.0$((i % 10))$((i * 7 % 10))"
    kill -$sig $pid 2>/dev/null
    wait $pid 2>/dev/null
    # The record of what was applied: whole or not there, never a temporary file.
    if [ $sig = TERM ] && ls -A "$PORTCULLIS_STATE_DIR" | grep -q "[.]tmp-\\|[.]installed[.][0-9]"; then
        left=$((left + 1))
    fi
    find "$PORTCULLIS_STATE_DIR" -name "*.tmp-*" -delete
    "$nldump" portcullis >"$tmp/now"
    if cmp -s "$tmp/now" "$tmp/old"; then old=$((old + 1))
    elif cmp -s "$tmp/now" "$tmp/new"; then new=$((new + 1)); "$bin" apply "$pol" >/dev/null 2>&1
    else other=$((other + 1)); fi
    i=$((i + 1))
done
echo "old $old new $new other $other left $left"
' >"$tmp/killed" 2>&1
if grep -q '^old [0-9]* new [0-9]* other 0 left 0$' "$tmp/killed" && [ -s "$tmp/old" ] && [ -s "$tmp/new" ]; then
    pass "killed while applying: the old table or the new one, never a mix, no temporary record left ($(cat "$tmp/killed"))"
else
    fail "killed while applying: the old table or the new one, never a mix"
    cat "$tmp/killed"
fi
# 7b. The record is put in place whole even when an interrupt comes as it is
#     renamed: the rename held back 300 ms (slow_rename.so, preloaded) and
#     SIGTERM sent in that wait: apply ends with status 143 after the rename,
#     no temporary file is left, and the next apply of the same policy finds
#     the table as the record says (nothing to send).
slow=$(dirname "$nldump")/slow_rename.so
export slow
ns '
cd "$root"
rm -f "$tmp/mark"
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 LD_PRELOAD="$slow" \
    PC_SLOW_RENAME_MARK="$tmp/mark" PC_SLOW_RENAME_MS=300 "$bin" apply "$tmp/many.yaml" >/dev/null 2>&1 &
pid=$!
n=0
while [ ! -e "$tmp/mark" ] && [ $n -lt 1000 ] && kill -0 $pid 2>/dev/null; do sleep 0.01; n=$((n + 1)); done
kill -TERM $pid
wait $pid 2>/dev/null
echo "apply rc $?"
ls -A "$PORTCULLIS_STATE_DIR" | grep -c "[.]tmp-"
"$bin" apply "$tmp/many.yaml" 2>/dev/null | grep -c "holds what this policy installs already; nothing was sent"
' >"$tmp/held" 2>&1
expect "SIGTERM while the record is renamed: it is put in place whole first (status 143)" \
    'apply rc 143\n0\n1' "$tmp/held"

# 8. Hundreds of messages refused (a same-named table another program owns:
#    `flags owner`, held by `nft -i`; replaced with --force): every error is
#    read before the generation is asked, so the answer comes at once: exit 4,
#    nothing changed (before, the answer was dropped and apply waited 30 s).
{
    echo "version: 1"; echo "policy: refused"; echo "networks:"
    i=0; while [ $i -lt 200 ]; do echo "  n$i: [10.$i.0.0/16]"; i=$((i + 1)); done
    echo "rules:"
    i=0; while [ $i -lt 200 ]; do printf '  - allow: %d/tcp\n    from: n%d\n' $((2000 + i)) $i; i=$((i + 1)); done
} >"$tmp/refused.yaml"
ns '
cd "$tmp"
mkfifo owner.in
nft -i <owner.in >/dev/null 2>&1 &
exec 3>owner.in
echo "add table inet portcullis { flags owner; }" >&3
i=0; until nft list table inet portcullis >/dev/null 2>&1 || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
nft list ruleset >owned0
timeout 20 $w "$bin" apply --force refused.yaml >/dev/null 2>refused.err; echo "apply rc $?"
nft list ruleset | cmp -s - owned0 || echo "the owned table changed"
exec 3>&-
wait
' >"$tmp/owned" 2>&1
expect "hundreds of refused messages: exit 4 at once, nothing changed" \
    'apply rc 4' "$tmp/owned" \
    "^portcullis apply: nothing was changed (ruleset generation [0-9]*)$" "$tmp/refused.err"

# 9. Standard output closed, full, or a pipe nobody reads: the table is
#    applied, so the status is 0, and the report that could not be written is
#    said on standard error with the outcome (before: exit 3, "no
#    CAP_NET_ADMIN" by the table, and nothing at all for the pipe).
ns '
cd "$root"
$w "$bin" apply "$pol" >&- 2>"$tmp/closed.err"; echo "closed rc $?"
nft list tables
$w "$bin" apply "$pol" >/dev/full 2>"$tmp/full.err"; echo "full rc $?"
rm -f "$tmp/nobody"; mkfifo "$tmp/nobody"
sh -c "exec <\"\$1\"" sh "$tmp/nobody" &
exec 4>"$tmp/nobody"
wait
$w "$bin" apply "$pol" >&4 2>"$tmp/pipe.err"; echo "pipe rc $?"
exec 4>&-
' >"$tmp/stdout" 2>&1
expect "standard output closed, full or a closed pipe: applied, exit 0" \
    'closed rc 0\ntable inet portcullis\nfull rc 0\npipe rc 0' "$tmp/stdout"
for c in "closed:Bad file descriptor" "full:No space left on device" "pipe:Broken pipe"; do
    f=${c%%:*} why=${c#*:}
    if grep -q "^portcullis apply: cannot write the report to standard output ($why); table inet portcullis was applied (generation [0-9]* -> [0-9]*)$" "$tmp/$f.err"; then
        pass "standard output $f: the outcome on standard error"
    else
        fail "standard output $f: the outcome on standard error"
        cat "$tmp/$f.err"
    fi
done

# 10. Out of memory (an address-space limit, at three points of reading,
#     resolving, lowering and building a 100 000-rule policy): exit 3 with
#     "out of memory (N bytes); stopped, no ruleset was changed", no core,
#     the table applied before untouched (before: abort(), exit 134, a core).
#     The bare binary: valgrind and ASan need more address space than this.
awk 'BEGIN {
    print "version: 1"; print "policy: huge"; print "networks:"
    for (i = 0; i < 10000; i++) printf "  n%d: [10.%d.%d.0/24]\n", i, int(i / 256), i % 256
    print "rules:"
    for (i = 0; i < 100000; i++) printf "  - allow: %d/tcp\n    from: n%d\n", 1024 + i % 60000, i % 10000
}' >"$tmp/huge.yaml"
if (ulimit -v 20000 && "$bin" --version) >/dev/null 2>&1; then
    ns '
cd "$root"
"$bin" apply "$pol" >/dev/null 2>&1
"$nldump" portcullis >"$tmp/before-oom"
for kb in 20000 60000 120000; do
    (ulimit -c 0; ulimit -v $kb; exec "$bin" apply "$tmp/huge.yaml") >/dev/null 2>"$tmp/oom.err"
    echo "$kb rc $?"
    tail -n 1 "$tmp/oom.err" | sed "s/([0-9]* bytes)/(N bytes)/"
done
"$nldump" portcullis | cmp -s - "$tmp/before-oom" || echo "the table changed"
' >"$tmp/oom" 2>&1
    m="portcullis: out of memory (N bytes); stopped, no ruleset was changed"
    expect "out of memory: exit 3, said, nothing changed" \
        "20000 rc 3\n$m\n60000 rc 3\n$m\n120000 rc 3\n$m" "$tmp/oom"
else
    echo "skipped: out of memory (this binary does not start in 20 MB of address space: ASan)"
fi

# 11. check --kernel without CAP_NET_ADMIN names itself (not plain check,
#     which needs nothing); it has no --force.
if command -v setpriv >/dev/null 2>&1; then
    ns '
cd "$root"
setpriv --reuid=65534 --regid=65534 --clear-groups $w "$bin" check --kernel "$pol" >/dev/null 2>"$tmp/err"; echo "check rc $?"
$w "$bin" check --kernel --force "$pol" >/dev/null 2>&1; echo "force rc $?"
' >"$tmp/ckperm" 2>&1
    expect "check --kernel without CAP_NET_ADMIN names check --kernel; no --force" \
        'check rc 3\nforce rc 2' "$tmp/ckperm" \
        "^portcullis check: check --kernel needs CAP_NET_ADMIN (run it as root)$" "$tmp/err"
fi

# 12. Another program commits before every attempt (restart_shim, preloaded):
#     the kernel refuses each (ERESTART); when the retries run out, apply
#     says that nothing was changed, exit 4, the table as it was.
shim=$(dirname "$nldump")/restart_shim.so
export shim
ns '
cd "$root"
$w "$bin" apply "$pol" >/dev/null 2>&1
"$nldump" portcullis >"$tmp/before-restart"
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 LD_PRELOAD="$shim" \
    timeout 60 $w "$bin" apply "$other" >/dev/null 2>"$tmp/restart.err"; echo "apply rc $?"
"$nldump" portcullis | cmp -s - "$tmp/before-restart" || echo "the table changed"
' >"$tmp/restart" 2>&1
expect "retries run out: exit 4, says nothing was changed, the table as it was" 'apply rc 4' "$tmp/restart" \
    "^portcullis apply: another program changed the ruleset before each of 101 attempts; nothing was changed (ruleset generation [0-9]*). Try again when it is quieter$" "$tmp/restart.err"

# 13. What apply and check --kernel say is what the kernel did (restart_shim,
#     preloaded, as PC_SHIM says).  Exit 0 and "applied" only for a commit.
preload() { echo "ASAN_OPTIONS=\${ASAN_OPTIONS:+\$ASAN_OPTIONS:}verify_asan_link_order=0 LD_PRELOAD=\$shim PC_SHIM=$1"; }
printf '%s\n' 'version: 1' 'policy: pr2' 'defaults: {input: drop, established: none}' 'rules:' \
    '  - allow: 22/tcp' '    interface: pcsA' >"$tmp/pr2.yaml"
# 13a. Another program makes table inet portcullis (no comment) just before
#      the first sending: refused (ERESTART), and the retry meets a foreign
#      table: refused, exit 4, the foreign table as it was (before: "applied",
#      exit 0, and the kernel held the other program's empty table).
for c in apply "check --kernel"; do
    ns "
cd \"\$tmp\"
$(preload foreign) timeout 60 \$w \"\$bin\" $c pr2.yaml >foreign.out 2>foreign.err; echo \"rc \$?\"
nft list ruleset
" >"$tmp/foreign" 2>&1
    expect "$c: a foreign table made between attempts: refused, exit 4, left as it was" \
        'rc 4\ntable inet portcullis {\n}' "$tmp/foreign" \
        "^portcullis ${c%% *}: table inet portcullis exists and portcullis does not manage it (its comment does not start with 'managed by portcullis'; another program made it between two attempts); nothing was changed" \
        "$tmp/foreign.err"
    [ -s "$tmp/foreign.out" ] && { fail "$c: a foreign table: nothing on standard output"; cat "$tmp/foreign.out"; }
done
# 13b. The first read after the sending fails: apply cannot know whether the
#      kernel committed (exit 5); check --kernel knows nothing changed but not
#      whether the kernel accepts the table (exit 5, and says so).
ns "
cd \"\$tmp\"
$(preload recv-error) timeout 60 \$w \"\$bin\" apply pr2.yaml >/dev/null 2>recv-apply.err; echo \"apply rc \$?\"
$(preload recv-error) timeout 60 \$w \"\$bin\" check --kernel \"\$root/\$pol\" >/dev/null 2>recv-check.err; echo \"check rc \$?\"
" >"$tmp/recv" 2>&1
expect "a read failing after the sending: apply exit 5, outcome unknown" 'apply rc 5\ncheck rc 5' "$tmp/recv" \
    '^portcullis apply: the outcome is unknown: compare `nft list table inet portcullis` with the rendering$' "$tmp/recv-apply.err"
expect "a read failing after the sending: check --kernel says nothing changed, acceptance unknown" \
    'apply rc 5\ncheck rc 5' "$tmp/recv" \
    '^portcullis check: whether the kernel accepts the table is unknown; nothing was changed$' "$tmp/recv-check.err"
# 13c. The receive buffer said to overflow (ENOBUFS) after the sending, no
#      error seen, the generation moved: apply cannot tell its commit from
#      another program's, exit 5 (before: "nothing was changed", exit 4, and
#      the table applied); check --kernel: an error lost, nothing changed, 4.
ns "
cd \"\$tmp\"
$(preload enobufs) timeout 60 \$w \"\$bin\" apply pr2.yaml >/dev/null 2>enobufs-apply.err; echo \"apply rc \$?\"
nft list table inet portcullis | grep -c 'managed by portcullis; policy pr2'
$(preload enobufs) timeout 60 \$w \"\$bin\" check --kernel pr2.yaml >/dev/null 2>enobufs-check.err; echo \"check rc \$?\"
" >"$tmp/enobufs" 2>&1
expect "ENOBUFS after the sending, the generation moved: apply exit 5, outcome unknown" \
    'apply rc 5\n1\ncheck rc 4' "$tmp/enobufs" \
    '^portcullis apply: the outcome is unknown' "$tmp/enobufs-apply.err"
expect "ENOBUFS after the sending: check --kernel exit 4, nothing changed" \
    'apply rc 5\n1\ncheck rc 4' "$tmp/enobufs" \
    '^portcullis check: nothing was changed (ruleset generation [0-9]*)$' "$tmp/enobufs-check.err"
# 13d. An interrupt (SIGTERM) while another program commits before every
#      attempt: the retries stop, apply says so and that nothing changed,
#      then ends by the signal; the table as it was.
ns "
cd \"\$root\"
\$w \"\$bin\" apply \"\$pol\" >/dev/null 2>&1
\"\$nldump\" portcullis >\"\$tmp/before-term\"
$(preload restart) timeout 60 \$w \"\$bin\" apply \"\$other\" >/dev/null 2>\"\$tmp/term.err\" &
pid=\$!
i=0; until nft list table inet shim >/dev/null 2>&1 || [ \$i -ge 400 ]; do sleep 0.01; i=\$((i + 1)); done
kill -TERM \$pid; wait \$pid; echo \"apply rc \$?\"
\"\$nldump\" portcullis | cmp -s - \"\$tmp/before-term\" || echo 'the table changed'
" >"$tmp/term" 2>"$tmp/term.sh" # the shell's own word on the signal goes apart
expect "an interrupt during the retries: said, nothing changed, ended by the signal" \
    'apply rc 143' "$tmp/term" \
    "^portcullis apply: another program changed the ruleset before each of [0-9]* attempts, and an interrupt stopped the retries; nothing was changed (ruleset generation [0-9]*)$" \
    "$tmp/term.err"
# 13e. A system error after the sending (EPERM on the read that follows):
#      apply cannot know whether the kernel committed, exit 5 (before: "apply
#      needs CAP_NET_ADMIN", exit 3, while the table had been applied).
ns "
cd \"\$tmp\"
$(preload recv-eperm) timeout 60 \$w \"\$bin\" apply pr2.yaml >/dev/null 2>eperm.err; echo \"apply rc \$?\"
nft list table inet portcullis | grep -c 'managed by portcullis; policy pr2'
" >"$tmp/eperm" 2>&1
expect "EPERM after the sending: exit 5, outcome unknown, not a missing capability" \
    'apply rc 5\n1' "$tmp/eperm" '^portcullis apply: the outcome is unknown' "$tmp/eperm.err"
grep -q CAP_NET_ADMIN "$tmp/eperm.err" && { fail "EPERM after the sending: no word of CAP_NET_ADMIN"; cat "$tmp/eperm.err"; }
# 13f. Refused once (ERESTART), then the retry's first request fails: every
#      transaction sent was refused, so nothing changed, exit 4 (before: "the
#      outcome is unknown", exit 5).  Sending that fails: nothing changed, 4.
ns "
cd \"\$tmp\"
$(preload retry-error) timeout 60 \$w \"\$bin\" apply pr2.yaml >/dev/null 2>retry.err; echo \"retry rc \$?\"
$(preload send-error) timeout 60 \$w \"\$bin\" apply pr2.yaml >/dev/null 2>send.err; echo \"send rc \$?\"
nft list tables
" >"$tmp/unsent" 2>&1
expect "the retry cannot be prepared: nothing changed, exit 4" \
    'retry rc 4\nsend rc 4\ntable inet shim' "$tmp/unsent" \
    '^portcullis apply: nothing was changed: another program changed the ruleset, and the kernel refused the 1 transaction sent$' \
    "$tmp/retry.err"
expect "the sending fails: nothing changed, exit 4" \
    'retry rc 4\nsend rc 4\ntable inet shim' "$tmp/unsent" \
    '^portcullis apply: nothing was changed$' "$tmp/send.err"

finish
