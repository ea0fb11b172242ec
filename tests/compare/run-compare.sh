#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# End-to-end tests of `portcullis compare`: realistic changes of the shipped
# policies (tests/compare/cases/), each compared with the original by the real
# binary from the source root; stdout, stderr and the exit status are checked
# against tests/compare/golden/.  PC_UPDATE_GOLDEN=1 rewrites the goldens after
# an intentional change (review the diff before committing).
. "$(dirname "$0")/../lib.sh"
golden=$dir/golden
cases=tests/compare/cases

primary=policies/kdc-primary.yaml
# Changes that move verdicts: exit 1, one line per region.
check open-749 1 compare $primary $cases/open-749.yaml
check no-kpasswd-tcp 1 compare $primary $cases/no-kpasswd-tcp.yaml
check deny-inserted 1 compare $primary $cases/deny-inserted.yaml
check input-accept 1 compare $primary $cases/input-accept.yaml
check iprop-replica 1 compare policies/kdc-iprop.yaml $cases/iprop-replica.yaml
# The other way round: what opened now closes.
check open-749-back 1 compare $cases/open-749.yaml $primary
# Two unrelated policies: interfaces and wildcards, destinations, rejects,
# what is of no use (IPv6 without neighbour discovery).
check features-interfaces 1 compare tests/render/features.yaml tests/render/probe-interfaces.yaml
# A limit: beyond its rate later rules and the default decide, a change too.
check limit-added 1 compare $cases/limit-0.yaml $cases/limit-1.yaml
check limit-beyond 1 compare $cases/limit-1.yaml $cases/limit-2.yaml
check limit-rate 1 compare $cases/limit-1.yaml $cases/limit-rate.yaml
check limit-only-accept 1 compare --only accept $cases/limit-1.yaml $cases/limit-2.yaml
check limit-only-drop 0 compare --only drop $cases/limit-1.yaml $cases/limit-2.yaml
check limit-same-beyond 0 compare $cases/limit-2.yaml $cases/limit-0.yaml
check json-limit-beyond 1 compare --json $cases/limit-1.yaml $cases/limit-2.yaml
# Interfaces: lo alone when no rule names one; the classes in JSON name what they leave out.
check loopback-none 1 compare $cases/limit-0.yaml $cases/loopback-none.yaml
check json-loopback-none 1 compare --json --only drop $cases/limit-0.yaml $cases/loopback-none.yaml
check json-features-interfaces 1 compare --json --only accept tests/render/features.yaml tests/render/probe-interfaces.yaml
# A rule of numbers in place of one of a name keeps the name; output says its destinations.
check service-kept 1 compare $cases/svc-named.yaml $cases/svc-numbers.yaml
# A network redefined: each label says whose network it is.
check network-redefined 1 compare $cases/admins-old.yaml $cases/admins-new.yaml
check json-network-redefined 1 compare --json $cases/admins-old.yaml $cases/admins-new.yaml
# Of no use before and after, for another reason: a note, no verdict change.
check reason-only 0 compare $cases/reason-replies.yaml $cases/reason-nd.yaml
check json-reason-only 0 compare --json $cases/reason-replies.yaml $cases/reason-nd.yaml
# Changes that move none: exit 0, and what changed in the text.
check same 0 compare $primary $primary
check comment 0 compare $primary $cases/comment.yaml
check split 0 compare $primary $cases/split.yaml
check renamed 0 compare $primary $cases/renamed.yaml
check moved 0 compare $primary $cases/moved.yaml
check icmp-none 0 compare $primary $cases/icmp-none.yaml
# The same addresses written otherwise: neither a rule nor a network changed.
check net-halves 0 compare $cases/net-24.yaml $cases/net-halves.yaml
check net-inside 0 compare $cases/net-24.yaml $cases/net-inside.yaml
check net-rule-halves 0 compare $cases/net-24.yaml $cases/net-rule-halves.yaml
check json-net-halves 0 compare --json $cases/net-24.yaml $cases/net-halves.yaml
# --only: what opens, what closes.
check only-accept-opens 1 compare --only accept $primary $cases/open-749.yaml
check only-drop-opens 0 compare --only drop $primary $cases/open-749.yaml
check only-drop-closes 1 compare --only drop $primary $cases/no-kpasswd-tcp.yaml
# --json
check json-open-749 1 compare --json $primary $cases/open-749.yaml
check json-renamed 0 compare --json $primary $cases/renamed.yaml
# Usage, unreadable and invalid policies.
check only-bad 2 compare --only open $primary $primary
check one-policy 2 compare $primary
check missing 3 compare $primary policies/no-such-policy.yaml
check invalid 1 compare $primary tests/policies/bad/service-unknown.yaml

# --git REV POLICY: the policy and its includes as a throwaway repository's
# revisions hold them, against the files as they are now.
if ! command -v git >/dev/null 2>&1; then
    skip git-cases git
    finish
    exit
fi
repo=$tmp/repo
export HOME="$tmp" GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.org \
    GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.org
mkdir -p "$repo/policies" "$repo/examples/include" "$tmp/elsewhere"
cp "$root/policies/kdc-iprop.yaml" "$repo/policies/"
git -C "$repo" init -q
# A revision whose include is missing, one whose policy is broken, then the good one.
git -C "$repo" add policies && git -C "$repo" commit -q -m one && git -C "$repo" tag no-include
sed 's/allow: iprop/allow: ipropp/' "$root/policies/kdc-iprop.yaml" >"$repo/policies/kdc-iprop.yaml"
cp "$root/examples/include/example-networks.yaml" "$repo/examples/include/"
git -C "$repo" add . && git -C "$repo" commit -q -m two && git -C "$repo" tag broken
cp "$root/policies/kdc-iprop.yaml" "$repo/policies/"
git -C "$repo" commit -q -a -m three && git -C "$repo" tag good
check_dir=$repo
check git-same 0 compare --git good policies/kdc-iprop.yaml
# A replica added in the include, in the working tree only.
sed 's/replicas: \[/replicas: [192.0.2.99, /' "$root/examples/include/example-networks.yaml" \
    >"$repo/examples/include/example-networks.yaml"
check git-include-changed 1 compare --git good policies/kdc-iprop.yaml
check git-broken 1 compare --git broken policies/kdc-iprop.yaml
check git-no-include 1 compare --git no-include policies/kdc-iprop.yaml
check git-unknown-revision 3 compare --git nosuch policies/kdc-iprop.yaml
check git-absent 3 compare --git good policies/nope.yaml
check git-option-revision 2 compare --git --output=x policies/kdc-iprop.yaml
check git-two-policies 2 compare --git good policies/kdc-iprop.yaml policies/kdc-iprop.yaml
check git-outside 2 compare --git good ../x.yaml
# Symbolic links the revision holds: followed inside the repository, not out of it, not forever.
ln -s kdc-iprop.yaml "$repo/policies/link.yaml"
ln -s ../../x.yaml "$repo/policies/out.yaml"
ln -s loop.yaml "$repo/policies/loop.yaml"
git -C "$repo" add policies && git -C "$repo" commit -q -m links && git -C "$repo" tag links
check git-symlink 1 compare --git links policies/link.yaml
check git-symlink-outside 3 compare --git links policies/out.yaml
check git-symlink-loop 3 compare --git links policies/loop.yaml
check_dir=$repo/policies
check git-subdirectory 1 compare --git good kdc-iprop.yaml
check git-symlink-subdirectory 1 compare --git links link.yaml
# Paths that leave the repository's directory and come back, or absolute, inside it.
check git-reentering 1 compare --git good ../../repo/policies/kdc-iprop.yaml
# (its output names the temporary directory: the status and the first line only)
abs_out=$(cd "$repo/policies" && "$bin" compare --git good "$repo/policies/kdc-iprop.yaml" 2>&1)
abs_st=$?
case "$abs_st $abs_out" in
"1 input tcp 2121 (iprop) from 192.0.2.99 in not lo: drop -> accept"*) pass git-absolute ;;
*) fail git-absolute; printf '%s\n' "exit $abs_st: $abs_out" | head -5 ;;
esac
check git-reentering-outside 2 compare --git good ../../elsewhere/x.yaml
check_dir=$tmp/elsewhere
check git-not-a-repository 3 compare --git good x.yaml
# A network read from a list file: the revision's list (read through git, as
# includes are) against the working tree's; the same at the top of the tree,
# where the policy's files are joined to "REV:FILE".
check_dir=$repo
mkdir -p "$repo/examples/lists" "$repo/lists"
cp "$root/examples/kdc-blocklist.yaml" "$repo/examples/"
cp "$root/examples/lists/blocklist.txt" "$repo/examples/lists/"
printf '%s\n' 'version: 1' 'policy: top' 'networks:' '  blocklist: {file: lists/top.txt}' \
    'rules:' '  - reject: kerberos' '    from: blocklist' '  - allow: kerberos' >"$repo/top.yaml"
printf '192.0.2.5\n' >"$repo/lists/top.txt"
git -C "$repo" add . && git -C "$repo" commit -q -m lists && git -C "$repo" tag lists
check git-list-same 0 compare --git lists examples/kdc-blocklist.yaml
printf '192.0.2.99  # added in the working tree\n' >>"$repo/examples/lists/blocklist.txt"
printf '192.0.2.6\n' >>"$repo/lists/top.txt"
check git-list-changed 1 compare --git lists examples/kdc-blocklist.yaml
check git-list-top 1 compare --git lists top.yaml
rm "$repo/lists/top.txt"
check git-list-missing 1 compare --git lists top.yaml
check_dir=

finish
