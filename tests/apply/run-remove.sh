#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `portcullis remove`, as root, each case in a network namespace of its own
# (unshare -n): the host's ruleset is never touched.
# - apply then remove: the managed table is gone, the other tables (a
#   foreign `table inet filter` with a `policy drop` chain, a `table ip nat`)
#   are byte-identical (`nft list ruleset` before and after), and the
#   generation moved exactly once.
# - No table loaded: exit 0, says nothing was loaded, nothing changed.
# - A same-named table portcullis does not manage: refused (exit 4, left as
#   it was) unless --force.
# - --table: only the named table is removed.
# - Without CAP_NET_ADMIN: exit 3, nothing changed.
# - Usage: an argument is refused (exit 2).
. "$(dirname "$0")/../lib.sh"
nldump=$3
# PC_TEST_WRAPPER (valgrind, say) runs every portcullis command under it.
w=${PC_TEST_WRAPPER:-}

if [ "$(id -u)" != 0 ] || ! command -v nft >/dev/null 2>&1 || ! unshare -n true 2>/dev/null; then
    cannot_run "root, nft and network namespaces"
fi
export bin nldump w tmp root
unset SSH_CONNECTION
# What apply records of the table it installed goes here, not to /run.
export PORTCULLIS_STATE_DIR="$tmp/state"
mkdir -m 700 "$PORTCULLIS_STATE_DIR"
pol=policies/kdc-primary.yaml
export pol

# ns SCRIPT: runs SCRIPT (sh) in a new network namespace.
ns() { timeout 120 unshare -n sh -c "$1"; }

# The other tables: what no command of portcullis may touch.
cat >"$tmp/others.nft" <<'NFT'
table inet filter {
	set blocked {
		type ipv4_addr
		elements = { 192.0.2.7 }
	}
	chain input {
		type filter hook input priority 0; policy drop;
		ct state established,related accept
		ip saddr @blocked counter drop comment "fail2ban-like"
		tcp dport 22 accept
	}
}
table ip nat {
	chain postrouting {
		type nat hook postrouting priority 100; policy accept;
		oifname "eth0" masquerade
	}
}
NFT

# 1. apply then remove: the other tables byte-identical, one generation step.
ns '
cd "$root"
nft -f "$tmp/others.nft" || echo "cannot load the other tables"
nft list ruleset >"$tmp/others0"
$w "$bin" apply "$pol" >/dev/null 2>&1 || echo "apply failed"
$w "$bin" remove >"$tmp/out" 2>"$tmp/err"; echo "remove rc $?"
nft list ruleset | cmp -s - "$tmp/others0" || { echo "the ruleset is not what it was"; nft list ruleset | diff "$tmp/others0" -; }
nft list tables
' >"$tmp/remove" 2>&1
expect "apply then remove: only the managed table goes, the others byte-identical" \
    'remove rc 0\ntable inet filter\ntable ip nat' "$tmp/remove" \
    '^table inet portcullis removed; generation [0-9]* -> [0-9]*$' "$tmp/out"
before=$(sed -n 's/.*generation \([0-9]*\) -> \([0-9]*\)$/\1 \2/p' "$tmp/out")
set -- $before
if [ $# = 2 ] && [ "$2" = $(($1 + 1)) ]; then
    pass "remove is one transaction (the generation moved once)"
else
    fail "remove is one transaction (the generation moved once)"
    cat "$tmp/out"
fi

# 2. Nothing loaded: exit 0, said, nothing changed.
ns '
nft -f "$tmp/others.nft"
nft list ruleset >"$tmp/others0"
$w "$bin" remove >"$tmp/out" 2>"$tmp/err"; echo "remove rc $?"
nft list ruleset | cmp -s - "$tmp/others0" || echo "the ruleset changed"
cat "$tmp/err"
' >"$tmp/absent" 2>&1
expect "remove with no table loaded: exit 0, nothing changed" 'remove rc 0' "$tmp/absent" \
    '^table inet portcullis is not loaded; nothing was removed$' "$tmp/out"

# 3. A same-named table portcullis does not manage: refused unless --force.
ns '
nft -f "$tmp/others.nft"
nft add table inet portcullis "{ comment \"mine\"; }"
nft add chain inet portcullis mine
nft list ruleset >"$tmp/foreign0"
$w "$bin" remove >/dev/null 2>"$tmp/err"; echo "remove rc $?"
nft list ruleset | cmp -s - "$tmp/foreign0" || echo "the foreign table changed"
nft -f "$tmp/others.nft"
$w "$bin" remove --force >/dev/null 2>&1; echo "force rc $?"
nft list tables
' >"$tmp/foreign" 2>&1
expect "a foreign table of the same name: refused, removed only with --force" \
    'remove rc 4\nforce rc 0\ntable inet filter\ntable ip nat' "$tmp/foreign" \
    "remove: table inet portcullis exists and portcullis does not manage it .*nothing was changed.*remove it with --force" "$tmp/err"

# 4. --table: that table only.
ns '
cd "$root"
$w "$bin" apply "$pol" >/dev/null 2>&1 || echo "apply failed"
$w "$bin" apply --table kdc "$pol" >/dev/null 2>&1 || echo "apply --table failed"
$w "$bin" remove --table kdc >"$tmp/out" 2>&1; echo "remove rc $?"
nft list tables
$w "$bin" remove --table "no/such" >/dev/null 2>&1; echo "bad name rc $?"
' >"$tmp/table" 2>&1
expect "remove --table NAME removes that table only" \
    'remove rc 0\ntable inet portcullis\nbad name rc 2' "$tmp/table" \
    '^table inet kdc removed; generation' "$tmp/out"

# 5. Without CAP_NET_ADMIN.
if command -v setpriv >/dev/null 2>&1; then
    ns '
cd "$root"
$w "$bin" apply "$pol" >/dev/null 2>&1
nft list ruleset >"$tmp/mine0"
setpriv --reuid=65534 --regid=65534 --clear-groups $w "$bin" remove >/dev/null 2>"$tmp/err"; echo "remove rc $?"
nft list ruleset | cmp -s - "$tmp/mine0" || echo "the table changed"
' >"$tmp/eperm" 2>&1
    expect "without CAP_NET_ADMIN: exit 3, nothing changed" 'remove rc 3' "$tmp/eperm" \
        'remove: remove needs CAP_NET_ADMIN (run it as root)' "$tmp/err"
else
    skip "without CAP_NET_ADMIN" "setpriv"
fi

# 6. Usage: remove takes no policy.
$w "$bin" remove "$root/$pol" >/dev/null 2>"$tmp/err"
echo "rc $?" >"$tmp/usage"
expect "remove POLICY: a usage error" 'rc 2' "$tmp/usage" 'takes no policy' "$tmp/err"
$w "$bin" remove --help >"$tmp/help" 2>&1
echo "rc $?" >"$tmp/usage"
expect "remove --help: its options, --force said as delete" 'rc 0' "$tmp/usage" \
    '^  *--force  *replace (apply) or delete (remove) a table of that name' "$tmp/help"

finish
