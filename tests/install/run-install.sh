#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The installed tree: `meson install --destdir` into a temporary directory,
# then what an administrator meets on the host.
# - The binary is in sbin; --version prints the IANA snapshot's date, the
#   practice layer's SHA-256 and where the registry sources are.
# - A rule's provenance (data/FILE:LINE) names a line of a file installed
#   under the data directory, and that line is the service's.
# - Both manual pages render without a warning (man --warnings).
# - The bash completion parses (bash -n) and completes commands, options,
#   --target values and service names (compgen, as bash calls it).
# - portcullis.service passes `systemd-analyze verify` (with nothing said).
# - The example policy is installed as /etc/portcullis/policy.yaml, passes
#   check --strict, and a second install keeps an edited policy.
. "$(dirname "$0")/../lib.sh"
build=$3

command -v meson >/dev/null 2>&1 || cannot_run "meson"
dest=$tmp/dest
if ! meson install -C "$build" --destdir "$dest" --no-rebuild --quiet >"$tmp/install.log" 2>&1; then
    fail "meson install --destdir"
    cat "$tmp/install.log"
    finish
    exit 1
fi
sbin=$(find "$dest" -path '*/sbin/portcullis' -type f | head -1)
prefix=${sbin%/sbin/portcullis}
inst=${prefix#"$dest"}
if [ -x "$sbin" ]; then pass "the binary is installed in sbin"; else fail "the binary is installed in sbin"; fi
data=$prefix/share/portcullis

# --version
"$sbin" --version >"$tmp/version" 2>&1
if grep -q '^portcullis [0-9]' "$tmp/version" &&
    grep -q '^IANA registry snapshot [0-9]\{4\}-[0-9][0-9]-[0-9][0-9]: data/service-names-port-numbers.csv sha256 [0-9a-f]\{64\}$' "$tmp/version" &&
    grep -q "^practice layer: data/practice.services sha256 $(sha256sum "$data/data/practice.services" | cut -c1-64)$" "$tmp/version" &&
    grep -qx "registry sources: $inst/share/portcullis/data/" "$tmp/version"; then
    pass "--version: the version, the snapshot's date, the sources' hashes and where they are"
else
    fail "--version: the version, the snapshot's date, the sources' hashes and where they are"
    cat "$tmp/version"
fi
if [ "$(sha256sum "$data/data/service-names-port-numbers.csv" | cut -c1-64)" = "$(sed -n 's/^IANA.* sha256 //p' "$tmp/version")" ]; then
    pass "the installed IANA snapshot is the one compiled in"
else
    fail "the installed IANA snapshot is the one compiled in"
fi

# Provenance names a line of an installed file: data/FILE:LINE is read
# relative to the data directory, and that line is the service's.
etc=$(find "$dest" -path '*/portcullis/policy.yaml' -type f | head -1)
# NAME data/FILE:LINE, from explain's rows (NAME PORT LAYER SOURCE) and
# lookup's (LAYER PORT NAME STATE SOURCE).
{
    "$sbin" explain "$etc" | awk '$NF ~ /^data\// && NF == 4 { print $1, $NF }'
    "$sbin" lookup kerberos | awk '$NF ~ /^data\// && NF == 5 { print $3, $NF }'
} 2>/dev/null | sort -u >"$tmp/refs"
bad=0
while read -r name ref; do
    file=${ref%:*} line=${ref##*:}
    sed -n "${line}p" "$data/$file" | grep -q "^$name[,	]" ||
        { bad=1; echo "$name $ref: $(sed -n "${line}p" "$data/$file" 2>&1 | cut -c1-60)"; }
done <"$tmp/refs"
if [ $bad = 0 ] && grep -q ' data/service-names-port-numbers.csv:' "$tmp/refs" && grep -q ' data/practice.services:' "$tmp/refs"; then
    pass "provenance (data/FILE:LINE) is a line of a file installed in $inst/share/portcullis"
else
    fail "provenance (data/FILE:LINE) is a line of a file installed in $inst/share/portcullis"
    cat "$tmp/refs"
fi

# The manual pages.
for page in man8/portcullis.8 man5/portcullis-policy.5; do
    f=$prefix/share/man/$page
    if [ ! -f "$f" ]; then
        fail "$page is installed"
        continue
    fi
    warn=$(MANWIDTH=80 man --warnings -l "$f" 2>&1 >/dev/null)
    if [ -z "$warn" ] && [ "$(MANWIDTH=80 man -l "$f" 2>/dev/null | wc -l)" -gt 50 ]; then
        pass "$page renders without warnings"
    else
        fail "$page renders without warnings"
        echo "$warn"
    fi
done
for word in remove apply render explain lookup check SSH_CONNECTION EXAMPLES FILES ENVIRONMENT \
    --allow-lockout --kernel --packets --out-dir --no-jump --force --table --version \
    --sarif --check-up-to-date; do
    MANWIDTH=200 man -l "$prefix/share/man/man8/portcullis.8" 2>/dev/null | grep -q -e "$word" ||
        { fail "portcullis(8) says $word"; continue; }
done
pass "portcullis(8) names every command, option, section"

# The bash completion.
comp=$prefix/share/bash-completion/completions/portcullis
if bash -n "$comp"; then pass "the completion parses (bash -n)"; else fail "the completion parses (bash -n)"; fi
# complete WORDS...: what bash offers for the last word.
complete() {
    PATH="$prefix/sbin:$PATH" bash -c '
. "$1"; _portcullis_datadir=$2; shift 2
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
_portcullis
printf "%s\n" "${COMPREPLY[@]}"' complete "$comp" "$data" "$@" 2>&1
}
check_offer() { # NAME WANT WORDS...: WANT (a line) is among the offers
    name=$1 want=$2
    shift 2
    if complete "$@" | grep -qx -e "$want"; then pass "completion: $name"; else
        fail "completion: $name"
        complete "$@" | head -5
    fi
}
check_offer "portcullis lo -> lookup" lookup portcullis lo
check_offer "portcullis re -> remove" remove portcullis re
check_offer "portcullis lookup kerb -> kerberos" kerberos portcullis lookup kerb
check_offer "portcullis lookup krb5 -> krb5_prop (practice)" krb5_prop portcullis lookup krb5
check_offer "portcullis remove --f -> --force" --force portcullis remove --f
check_offer "portcullis render --target nft-j -> nft-json" nft-json portcullis render --target nft-j
check_offer "portcullis reg -> registry" registry portcullis reg
check_offer "portcullis registry a -> audit" audit portcullis registry a
check_offer "portcullis registry audit --no -> --no-services" --no-services portcullis registry audit --no
check_offer "portcullis registry u -> update" update portcullis registry u
check_offer "portcullis check --sa -> --sarif" --sarif portcullis check --sa
check_offer "portcullis render --check -> --check-up-to-date" --check-up-to-date portcullis render --check
check_offer "portcullis comp -> compare" compare portcullis comp
check_offer "portcullis compare --g -> --git" --git portcullis compare --g
check_offer "portcullis compare --only d -> drop" drop portcullis compare --only d
if [ "$(complete portcullis lo)" = lookup ]; then pass "completion: lo offers lookup only"; else fail "completion: lo offers lookup only"; fi

# The unit.
unit=$(find "$dest" -name portcullis.service -type f | head -1)
if ! command -v systemd-analyze >/dev/null 2>&1; then
    skip "systemd-analyze verify" "systemd-analyze"
elif [ -z "$unit" ]; then
    fail "portcullis.service is installed"
else
    mkdir "$tmp/unit"
    # The paths written in it, moved into the temporary tree.
    sed "s|$inst/|$prefix/|g" "$unit" >"$tmp/unit/portcullis.service"
    grep -q "^ExecStart=$prefix/sbin/portcullis apply .*/portcullis/policy.yaml$" "$tmp/unit/portcullis.service" &&
        grep -q "^ExecStop=$prefix/sbin/portcullis remove$" "$tmp/unit/portcullis.service" &&
        grep -q "^ExecReload=$prefix/sbin/portcullis apply " "$tmp/unit/portcullis.service" ||
        fail "the unit applies, reloads and removes"
    if out=$(MANPATH="$prefix/share/man" timeout 60 systemd-analyze verify "$tmp/unit/portcullis.service" 2>&1) &&
        [ -z "$out" ]; then
        pass "systemd-analyze verify portcullis.service: nothing to say"
    else
        fail "systemd-analyze verify portcullis.service"
        echo "$out"
    fi
fi

# The unit's commands, run as systemd would, in a network namespace: start
# loads the table, a reload of an invalid policy fails with the diagnostics
# (the journal gets standard error) and leaves the table loaded as it was,
# stop removes that table and leaves another program's.
if [ -n "$unit" ] && [ "$(id -u)" = 0 ] && command -v nft >/dev/null 2>&1 && unshare -n true 2>/dev/null; then
    cmd() { sed -n "s/^$1=//p" "$tmp/unit/portcullis.service"; }
    start=$(cmd ExecStart) reload=$(cmd ExecReload) stop=$(cmd ExecStop)
    cp "$etc" "$tmp/policy.good"
    export start reload stop etc tmp
    env -u SSH_CONNECTION timeout 120 unshare -n sh -c '
nft add table inet filter
nft add chain inet filter input "{ type filter hook input priority 0; policy drop; }"
$start >/dev/null 2>&1; echo "start rc $?"
nft list ruleset >"$tmp/loaded"
printf "version: 1\npolicy: broken\nrules:\n  - allow: kerberoz\n" >"$etc"
$reload >/dev/null 2>"$tmp/reload.err"; echo "reload rc $?"
nft list ruleset | cmp -s - "$tmp/loaded" || echo "the failed reload changed the ruleset"
cp "$tmp/policy.good" "$etc"
$stop >/dev/null 2>&1; echo "stop rc $?"
nft list tables
' >"$tmp/unitrun" 2>&1
    if [ "$(cat "$tmp/unitrun")" = "$(printf 'start rc 0\nreload rc 1\nstop rc 0\ntable inet filter')" ] &&
        grep -q "error: unknown service 'kerberoz'" "$tmp/reload.err"; then
        pass "the unit: start loads, an invalid policy fails the reload and leaves the table, stop removes only it"
    else
        fail "the unit: start loads, an invalid policy fails the reload and leaves the table, stop removes only it"
        cat "$tmp/unitrun" "$tmp/reload.err"
    fi
else
    skip "the unit's commands in a namespace" "root, nft and network namespaces"
fi

# The example policy, and a second install that keeps an edited one.
if [ -n "$etc" ] && "$sbin" check --strict "$etc" >/dev/null 2>&1; then
    pass "the example policy is installed and passes check --strict"
else
    fail "the example policy is installed and passes check --strict"
fi
echo "# edited" >>"$etc"
cp "$etc" "$tmp/edited"
meson install -C "$build" --destdir "$dest" --no-rebuild --quiet >/dev/null 2>&1
if cmp -s "$etc" "$tmp/edited"; then pass "a second install keeps the administrator's policy"; else
    fail "a second install keeps the administrator's policy"
fi
finish
