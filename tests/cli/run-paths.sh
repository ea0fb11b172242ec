#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Output paths and includes, as an attacker sharing the host would use them:
# links planted in sticky directories, `-o /dev/stdout` onto pipes and files
# opened for append, includes that point at files the policy's author could
# not read, include graphs that would explode if every path were read again,
# and renders interrupted while they write.  The cases that plant files for another user run as root (CI does);
# elsewhere they are skipped, and the whole runner exits 77 if none could run.
. "$(dirname "$0")/../lib.sh"
policy=$root/policies/kdc-replica.yaml
other=65534
is_root=0
[ "$(id -u)" = 0 ] && is_root=1

# run NAME: the binary with the remaining arguments; status in $rc, stdout in
# $tmp/out, stderr in $tmp/err.
run() {
    # shellcheck disable=SC2086
    timeout 60 ${PC_TEST_WRAPPER:-} "$bin" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
}

"$bin" render "$policy" >"$tmp/plain.nft" 2>/dev/null || fail "render to stdout"

# ---- render -o through links -----------------------------------------------
if [ $is_root = 1 ]; then
    # A link planted by another user in a sticky world-writable directory,
    # pointing at a file of root's: refused, the file and the link untouched.
    mkdir "$tmp/sticky" && chmod 1777 "$tmp/sticky"
    echo "root's own file" >"$tmp/victim"
    ln -s "$tmp/victim" "$tmp/sticky/out.nft"
    chown -h $other "$tmp/sticky/out.nft"
    run render -o "$tmp/sticky/out.nft" "$policy"
    if [ $rc = 3 ] && [ "$(cat "$tmp/victim")" = "root's own file" ] && [ -L "$tmp/sticky/out.nft" ] &&
        grep -q "cannot write $tmp/sticky/out.nft: it is a symbolic link owned by uid $other in $tmp/sticky, a directory other users can write (mode 1777, owner uid 0): it is not followed" "$tmp/err" &&
        [ "$(ls -A "$tmp/sticky" | wc -l)" = 1 ]; then
        pass "a link planted in a sticky directory is not followed"
    else
        fail "a link planted in a sticky directory is not followed (status $rc)"; cat "$tmp/err"
    fi
    # The same through a link of root's that leads to the planted one.
    ln -s "$tmp/sticky/out.nft" "$tmp/via"
    run render -o "$tmp/via" "$policy"
    [ $rc = 3 ] && [ "$(cat "$tmp/victim")" = "root's own file" ] &&
        grep -q "cannot write $tmp/via: $tmp/sticky/out.nft is a symbolic link owned by uid $other" "$tmp/err" &&
        pass "a planted link further along a chain" || fail "a planted link further along a chain (status $rc)"
    # A group-writable directory is no better.
    mkdir "$tmp/group" && chmod 775 "$tmp/group"
    ln -s "$tmp/victim" "$tmp/group/out.nft"
    chown -h $other "$tmp/group/out.nft"
    run render -o "$tmp/group/out.nft" "$policy"
    [ $rc = 3 ] && [ "$(cat "$tmp/victim")" = "root's own file" ] &&
        pass "a foreign link in a group-writable directory" ||
        fail "a foreign link in a group-writable directory (status $rc)"
    # Links that only their directory's owner or the caller could make: followed,
    # the file they name replaced, the link kept.
    mkdir "$tmp/own" && chmod 755 "$tmp/own"
    ln -s "$tmp/victim" "$tmp/own/out.nft"
    run render -o "$tmp/own/out.nft" "$policy"
    if [ $rc = 0 ] && cmp -s "$tmp/victim" "$tmp/plain.nft" && [ -L "$tmp/own/out.nft" ]; then
        pass "root's link in root's directory is followed"
    else
        fail "root's link in root's directory is followed (status $rc)"; cat "$tmp/err"
    fi
    echo "root's own file" >"$tmp/victim"
    chown -h root "$tmp/sticky/out.nft"
    run render -o "$tmp/sticky/out.nft" "$policy"
    [ $rc = 0 ] && cmp -s "$tmp/victim" "$tmp/plain.nft" &&
        pass "root's link in a sticky directory is followed" ||
        fail "root's link in a sticky directory is followed (status $rc)"
    mkdir "$tmp/theirs" && chown $other "$tmp/theirs"
    ln -s "$tmp/victim" "$tmp/theirs/out.nft" && chown -h $other "$tmp/theirs/out.nft"
    echo "root's own file" >"$tmp/victim"
    run render -o "$tmp/theirs/out.nft" "$policy"
    [ $rc = 0 ] && cmp -s "$tmp/victim" "$tmp/plain.nft" &&
        pass "a link owned by its directory's owner is followed" ||
        fail "a link owned by its directory's owner is followed (status $rc)"
    # --out-dir: the same walk for every file written.
    echo "root's own file" >"$tmp/victim"
    ln -s "$tmp/victim" "$tmp/sticky/kdc-replica.nft"
    chown -h $other "$tmp/sticky/kdc-replica.nft"
    run render --target all --out-dir "$tmp/sticky" "$policy"
    [ $rc = 3 ] && [ "$(cat "$tmp/victim")" = "root's own file" ] &&
        grep -q "cannot write $tmp/sticky/kdc-replica.nft: it is a symbolic link owned by uid $other" "$tmp/err" &&
        pass "--out-dir with a planted link" || fail "--out-dir with a planted link (status $rc)"
    # A planted link as a directory of the path, not its last component:
    # refused the same way, for -o and for --out-dir, in a sticky directory
    # and in a group-writable one.
    mkdir "$tmp/victimdir" "$tmp/grp"
    echo ORIGINAL >"$tmp/victimdir/victim.conf" && chmod 600 "$tmp/victimdir/victim.conf"
    chgrp "$(id -gn $other 2>/dev/null || echo $other)" "$tmp/grp" && chmod 2775 "$tmp/grp"
    for d in sticky grp; do
        ln -s "$tmp/victimdir" "$tmp/$d/d" && chown -h $other "$tmp/$d/d"
        run render -o "$tmp/$d/d/victim.conf" "$policy"
        [ $rc = 3 ] && [ "$(cat "$tmp/victimdir/victim.conf")" = ORIGINAL ] &&
            grep -q "cannot write $tmp/$d/d/victim.conf: $tmp/$d/d is a symbolic link owned by uid $other in $tmp/$d, a directory other users can write" "$tmp/err" &&
            pass "-o through a planted link to a directory ($d)" ||
            { fail "-o through a planted link to a directory ($d, status $rc)"; cat "$tmp/err"; }
        run render --target all --out-dir "$tmp/$d/d" "$policy"
        [ $rc = 3 ] && [ "$(ls -A "$tmp/victimdir")" = victim.conf ] &&
            pass "--out-dir through a planted link to a directory ($d)" ||
            { fail "--out-dir through a planted link to a directory ($d, status $rc)"; ls -A "$tmp/victimdir"; }
        # The same link further in: the file named through it and a ..
        run render -o "$tmp/$d/d/../victimdir/victim.conf" "$policy"
        [ $rc = 3 ] && [ "$(cat "$tmp/victimdir/victim.conf")" = ORIGINAL ] &&
            pass "-o through a planted link and .. ($d)" ||
            fail "-o through a planted link and .. ($d, status $rc)"
        rm "$tmp/$d/d"
    done
    # root's own link to a directory, in the sticky directory: followed (its
    # target written with a trailing slash).
    ln -s "$tmp/victimdir/" "$tmp/sticky/mine"
    run render -o "$tmp/sticky/mine/victim.conf" "$policy"
    [ $rc = 0 ] && cmp -s "$tmp/victimdir/victim.conf" "$tmp/plain.nft" &&
        pass "root's link to a directory is followed" ||
        fail "root's link to a directory is followed (status $rc)"
    run render -o "$tmp/sticky/mine/new.nft" "$policy"
    [ $rc = 0 ] && cmp -s "$tmp/victimdir/new.nft" "$tmp/plain.nft" &&
        pass "a new file through root's link to a directory" ||
        { fail "a new file through root's link to a directory (status $rc)"; cat "$tmp/err"; }
    rm "$tmp/sticky/mine"
else
    skip "render -o through planted links" "root (to plant links as another user)"
fi

# ---- --out-dir: every file or none ---------------------------------------------
# An earlier rendering, then a new one where one name is taken by a directory:
# exit 3, and every file of the earlier rendering is still there, unchanged,
# with no temporary file left.
mkdir "$tmp/od"
"$bin" render --target all --out-dir "$tmp/od" "$policy" 2>/dev/null || fail "--out-dir: the first rendering"
for f in "$tmp/od"/*; do cp "$f" "$f.before"; done
# The new policy has the same file name (files are named after it).
mkdir "$tmp/new"
sed 's/^policy: .*/policy: second/' "$policy" >"$tmp/new/kdc-replica.yaml"
rm "$tmp/od/kdc-replica.iptables" "$tmp/od/kdc-replica.iptables.before"
mkdir "$tmp/od/kdc-replica.iptables"
run render --target all --out-dir "$tmp/od" "$tmp/new/kdc-replica.yaml"
same=1
for f in nft nft.json ip6tables pf; do
    cmp -s "$tmp/od/kdc-replica.$f" "$tmp/od/kdc-replica.$f.before" || same=0
done
if [ $rc = 3 ] && [ $same = 1 ] && [ "$(ls -A "$tmp/od" | wc -l)" = 9 ] &&
    grep -q "cannot write $tmp/od/kdc-replica.iptables: it is a directory" "$tmp/err" &&
    grep -q "none of the 5 files was replaced" "$tmp/err"; then
    pass "--out-dir: a failure replaces no file"
else
    fail "--out-dir: a failure replaces no file (status $rc, unchanged $same)"; cat "$tmp/err"; ls -A "$tmp/od"
fi
rmdir "$tmp/od/kdc-replica.iptables"
run render --target all --out-dir "$tmp/od" "$tmp/new/kdc-replica.yaml"
[ $rc = 0 ] && [ "$(grep -l 'policy second' "$tmp/od"/kdc-replica.* | wc -l)" = 5 ] &&
    pass "--out-dir: every file replaced" || fail "--out-dir: every file replaced (status $rc)"

# ---- the mode of what render -o writes ----------------------------------------
# A new file gets what `>` gives it (0666 less the umask); a file replaced keeps
# its permissions (and, for root, its owner and group).
mkdir "$tmp/mode"
(umask 022 && exec "$bin" render -o "$tmp/mode/new.nft" "$policy" 2>/dev/null)
[ "$(stat -c %a "$tmp/mode/new.nft")" = 644 ] && pass "a new file: 0666 less the umask" ||
    fail "a new file: 0666 less the umask (mode $(stat -c %a "$tmp/mode/new.nft"))"
(umask 077 && exec "$bin" render -o "$tmp/mode/private.nft" "$policy" 2>/dev/null)
[ "$(stat -c %a "$tmp/mode/private.nft")" = 600 ] && pass "a new file under umask 077" ||
    fail "a new file under umask 077 (mode $(stat -c %a "$tmp/mode/private.nft"))"
echo old >"$tmp/mode/kept.nft"
chmod 640 "$tmp/mode/kept.nft"
want=640
if [ $is_root = 1 ]; then
    chown $other:$other "$tmp/mode/kept.nft"
    want="640 $other:$other"
fi
(umask 077 && exec "$bin" render -o "$tmp/mode/kept.nft" "$policy" 2>/dev/null)
got=$(stat -c %a "$tmp/mode/kept.nft")
[ $is_root = 1 ] && got="$got $(stat -c %u:%g "$tmp/mode/kept.nft")"
[ "$got" = "$want" ] && cmp -s "$tmp/mode/kept.nft" "$tmp/plain.nft" &&
    pass "a replaced file keeps its mode and owner" ||
    fail "a replaced file keeps its mode and owner (want $want, got $got)"

# ---- render -o onto descriptors, pipes and FIFOs ------------------------------
# Into a pipe: written in place.
timeout 60 "$bin" render -o /dev/stdout "$policy" 2>"$tmp/err" | cat >"$tmp/piped"
cmp -s "$tmp/piped" "$tmp/plain.nft" && pass "-o /dev/stdout into a pipe" ||
    { fail "-o /dev/stdout into a pipe"; cat "$tmp/err"; }
# Onto a file opened for append: appended, what was there kept.
echo "an earlier line" >"$tmp/log"
timeout 60 "$bin" render -o /dev/stdout "$policy" >>"$tmp/log" 2>/dev/null
rc=$?
{ echo "an earlier line"; cat "$tmp/plain.nft"; } >"$tmp/want"
[ $rc = 0 ] && cmp -s "$tmp/log" "$tmp/want" && pass "-o /dev/stdout >>log appends" ||
    fail "-o /dev/stdout >>log appends (status $rc)"
timeout 60 "$bin" render -o /dev/fd/1 "$policy" >>"$tmp/log" 2>/dev/null &&
    timeout 60 "$bin" render -o /proc/self/fd/1 "$policy" >>"$tmp/log" 2>/dev/null
rc=$?
cat "$tmp/plain.nft" "$tmp/plain.nft" >>"$tmp/want"
[ $rc = 0 ] && cmp -s "$tmp/log" "$tmp/want" && pass "-o /dev/fd/1 and /proc/self/fd/1 append" ||
    fail "-o /dev/fd/1 and /proc/self/fd/1 append (status $rc)"
run render -o /dev/fd/9 "$policy"
[ $rc = 3 ] && grep -q "cannot write /dev/fd/9: descriptor 9 is not open" "$tmp/err" &&
    pass "-o a descriptor that is not open" || fail "-o a descriptor that is not open (status $rc)"
run render -o /dev/stdin "$policy" </dev/null
[ $rc = 3 ] && grep -q "descriptor 0 is not open for writing" "$tmp/err" &&
    pass "-o a descriptor open for reading" || fail "-o a descriptor open for reading (status $rc)"
# A FIFO with a reader: written in place, still a FIFO.
mkfifo "$tmp/fifo"
timeout 60 cat "$tmp/fifo" >"$tmp/fifo.out" &
reader=$!
# Until the reader has the FIFO open, the write is refused (ENXIO): retry, bounded.
i=0
rc=3
while [ $i -lt 50 ]; do
    run render -o "$tmp/fifo" "$policy"
    [ $rc = 0 ] && break
    sleep 0.1; i=$((i + 1))
done
wait $reader
[ $rc = 0 ] && [ -p "$tmp/fifo" ] && cmp -s "$tmp/fifo.out" "$tmp/plain.nft" &&
    pass "a FIFO with a reader" || fail "a FIFO with a reader (status $rc)"

# ---- includes that would echo what their author could not read --------------
if [ $is_root = 1 ]; then
    mkdir "$tmp/inc" "$tmp/inc/shared" && chmod 1777 "$tmp/inc/shared"
    printf 'TOPSECRET-4242: hunter2\nnetworks:\n  lan: [TOPSECRET-4343]\n' >"$tmp/inc/secret"
    chmod 600 "$tmp/inc/secret"
    ln -s "$tmp/inc/secret" "$tmp/inc/shared/nets.yaml"
    chown -h $other "$tmp/inc/shared/nets.yaml"
    printf 'version: 1\npolicy: p\ninclude: shared/nets.yaml\nrules:\n  - allow: 88/udp\n    from: lan\n' \
        >"$tmp/inc/planted.yaml"
    for cmd in check explain render; do
        run $cmd "$tmp/inc/planted.yaml"
        if [ $rc = 1 ] && ! grep -q TOPSECRET "$tmp/err" "$tmp/out" &&
            grep -q "^$tmp/inc/planted.yaml:3:10: error: '$tmp/inc/shared/nets.yaml' is not read: it is a symbolic link owned by uid $other in '$tmp/inc/shared', a directory other users can write (mode 1777).*\[include-refused\]" "$tmp/err"; then
            pass "$cmd: an include through a planted link is not read"
        else
            fail "$cmd: an include through a planted link is not read (status $rc)"; cat "$tmp/err"
        fi
    done
    # A policy of another user's naming a file only root can read.
    mkdir "$tmp/inc/theirs"
    printf 'version: 1\npolicy: p\ninclude: ../secret\nrules:\n  - allow: 88/udp\n    from: lan\n' \
        >"$tmp/inc/theirs/p.yaml"
    chown -R $other "$tmp/inc/theirs"
    run check "$tmp/inc/theirs/p.yaml"
    [ $rc = 1 ] && ! grep -q TOPSECRET "$tmp/err" &&
        grep -q "p.yaml:3:10: error: '.*secret' is not read: uid $other, who owns the including file, cannot read it (owner uid 0, mode 0600)" "$tmp/err" &&
        pass "an include its author could not read" || fail "an include its author could not read (status $rc)"
    # A hard link to it, made in a directory everyone can write.
    rm "$tmp/inc/shared/nets.yaml"
    ln "$tmp/inc/secret" "$tmp/inc/shared/nets.yaml"
    run check "$tmp/inc/planted.yaml"
    [ $rc = 1 ] && ! grep -q TOPSECRET "$tmp/err" && grep -q "it has 2 hard links and lies in" "$tmp/err" &&
        pass "a hard link in a shared directory is not read" ||
        fail "a hard link in a shared directory is not read (status $rc)"
    # The same in a directory of the other user's own, which only they can write.
    mkdir "$tmp/inc/home" && chown $other "$tmp/inc/home" && chmod 755 "$tmp/inc/home"
    ln "$tmp/inc/secret" "$tmp/inc/home/nets.yaml"
    sed 's|shared/nets.yaml|home/nets.yaml|' "$tmp/inc/planted.yaml" >"$tmp/inc/home.yaml"
    run check "$tmp/inc/home.yaml"
    [ $rc = 1 ] && ! grep -q TOPSECRET "$tmp/err" &&
        grep -q "uid $other, who owns the directory that holds it, cannot read it (owner uid 0, mode 0600)" "$tmp/err" &&
        pass "a hard link in another user's directory is not read" ||
        fail "a hard link in another user's directory is not read (status $rc)"
    # root's own link in root's directory to root's own file: read as before.
    printf 'networks:\n  lan: [192.0.2.0/24]\n' >"$tmp/inc/nets-root"
    chmod 600 "$tmp/inc/nets-root"
    ln -s nets-root "$tmp/inc/nets.yaml"
    sed 's|shared/nets.yaml|nets.yaml|' "$tmp/inc/planted.yaml" >"$tmp/inc/own.yaml"
    run check "$tmp/inc/own.yaml"
    [ $rc = 0 ] && pass "root's link to root's include" || { fail "root's link to root's include (status $rc)"; cat "$tmp/err"; }
    # A file every user may read, in a directory only root may search: its
    # author could not reach it.  The directories above are searchable
    # ($tmp itself made so), so only the mode 700 one stops them.
    chmod 755 "$tmp"
    mkdir "$tmp/inc/priv" && chmod 700 "$tmp/inc/priv"
    printf 'TOPSECRET-5151: x\n' >"$tmp/inc/priv/readable" && chmod 644 "$tmp/inc/priv/readable"
    printf 'version: 1\npolicy: p\ninclude: ../priv/readable\nrules:\n  - allow: 88/udp\n' >"$tmp/inc/theirs/q.yaml"
    chown $other "$tmp/inc/theirs/q.yaml"
    run check "$tmp/inc/theirs/q.yaml"
    [ $rc = 1 ] && ! grep -q TOPSECRET "$tmp/err" &&
        grep -q "q.yaml:3:10: error: '.*readable' is not read: uid $other, who owns the including file, cannot reach it: a directory on the way is not searchable for them (owner uid 0, mode 0700) \[include-refused\]" "$tmp/err" &&
        pass "an include in a directory its author cannot search" ||
        { fail "an include in a directory its author cannot search (status $rc)"; cat "$tmp/err"; }
    # The same file once that directory is searchable: read (and its line shown).
    chmod 711 "$tmp/inc/priv"
    run check "$tmp/inc/theirs/q.yaml"
    [ $rc = 1 ] && grep -q "unknown key 'TOPSECRET-5151'" "$tmp/err" &&
        pass "an include in a directory its author can search" ||
        { fail "an include in a directory its author can search (status $rc)"; cat "$tmp/err"; }
    chmod 700 "$tmp/inc/priv"
    # Whoever can write the including file is its author: a policy on standard
    # input, or one group or other users may write, includes only what every
    # user may read and reach.
    printf 'version: 1\npolicy: p\ninclude: %s\nrules:\n  - allow: 88/udp\n    from: lan\n' "$tmp/inc/secret" \
        >"$tmp/inc/abs.yaml"
    run check - <"$tmp/inc/abs.yaml"
    [ $rc = 1 ] && ! grep -q TOPSECRET "$tmp/err" &&
        grep -q "^<stdin>:3:10: error: '$tmp/inc/secret' is not read: a policy on standard input may come from any user, so its includes are read only if every user can read them; not every user can read it (owner uid 0, mode 0600) \[include-refused\]" "$tmp/err" &&
        pass "a policy on standard input including a file of root's" ||
        { fail "a policy on standard input including a file of root's (status $rc)"; cat "$tmp/err"; }
    for mode in 666 664; do
        chmod $mode "$tmp/inc/abs.yaml"
        run check "$tmp/inc/abs.yaml"
        [ $rc = 1 ] && ! grep -q TOPSECRET "$tmp/err" &&
            grep -q "abs.yaml:3:10: error: '$tmp/inc/secret' is not read: the including file can be written by users other than its owner (mode 0$mode), so its includes are read only if every user can read them; not every user can read it" "$tmp/err" &&
            pass "a policy of root's of mode $mode including a file of root's" ||
            { fail "a policy of root's of mode $mode including a file of root's (status $rc)"; cat "$tmp/err"; }
    done
    # An include every user may read and reach: read from standard input too.
    mkdir "$tmp/pubinc" && printf 'networks:\n  lan: [192.0.2.0/24]\n' >"$tmp/pubinc/nets.yaml"
    printf 'version: 1\npolicy: p\ninclude: %s\nrules:\n  - allow: 88/udp\n    from: lan\n' "$tmp/pubinc/nets.yaml" \
        >"$tmp/pubinc/p.yaml"
    run check - <"$tmp/pubinc/p.yaml"
    [ $rc = 0 ] && pass "a policy on standard input including a public file" ||
        { fail "a policy on standard input including a public file (status $rc)"; cat "$tmp/err"; }
else
    skip "includes through planted links and of unreadable files" "root (to plant files as another user)"
fi
# /proc, /sys and /dev hold no policies: refused at the include, nothing echoed.
for special in /proc/self/environ /proc/self/cmdline /sys/kernel/hostname /dev/stdin; do
    printf 'version: 1\npolicy: p\ninclude: %s\nrules:\n  - allow: 88/udp\n' "$special" >"$tmp/special.yaml"
    PC_TEST_MARKER=MARKER-9d1c run check "$tmp/special.yaml" </dev/null
    if [ $rc = 1 ] && ! grep -q "MARKER-9d1c\|SHELL=\|PATH=" "$tmp/err" &&
        grep -q "^$tmp/special.yaml:3:10: error: '$special' is not read: it is under /[a-z]*: includes are read from ordinary files only \[include-refused\]" "$tmp/err"; then
        pass "include: $special"
    else
        fail "include: $special (status $rc)"; head -5 "$tmp/err"
    fi
done

# ---- include graphs: each file read once ---------------------------------------
# A diamond: a includes b and c, both include common.yaml: accepted, common's
# network defined once, the file hashed once in the header.
mkdir "$tmp/dia"
printf 'networks:\n  common: [192.0.2.1]\n' >"$tmp/dia/common.yaml"
printf 'include: common.yaml\nnetworks:\n  b: [192.0.2.2]\n' >"$tmp/dia/b.yaml"
printf 'include: common.yaml\nnetworks:\n  c: [192.0.2.3]\n' >"$tmp/dia/c.yaml"
printf 'version: 1\npolicy: d\ninclude: [b.yaml, c.yaml, b.yaml]\nrules:\n  - allow: 88/udp\n    from: [common, b, c]\n' \
    >"$tmp/dia/a.yaml"
run render "$tmp/dia/a.yaml"
if [ $rc = 0 ] && [ ! -s "$tmp/err" ] && [ "$(grep -c '^# include .*common.yaml sha256' "$tmp/out")" = 1 ] &&
    [ "$(grep -c '^# include ' "$tmp/out")" = 3 ] && grep -q '192.0.2.1' "$tmp/out"; then
    pass "a diamond of includes"
else
    fail "a diamond of includes (status $rc)"; cat "$tmp/err"
fi
# A cycle is still one.
printf 'include: a.yaml\n' >>"$tmp/dia/common.yaml"
run check "$tmp/dia/a.yaml"
[ $rc = 1 ] && grep -q "common.yaml:3:10: error: '.*a.yaml' is already being read: includes must not form a cycle \[include-cycle\]" "$tmp/err" &&
    pass "a cycle through a diamond" || fail "a cycle through a diamond (status $rc)"

# Nine files, each including the next five times (5^8 = 390 625 paths; it
# took 24 GB): read once each, in bounded memory (256 MiB of address space,
# where the instrumented builds do not need more than that to start).
mkdir "$tmp/fan"
for i in 1 2 3 4 5 6 7; do
    n=$((i + 1))
    printf 'include: [f%d.yaml, f%d.yaml, f%d.yaml, f%d.yaml, f%d.yaml]\nnetworks:\n  n%d: [192.0.2.%d]\n' \
        $n $n $n $n $n $i $i >"$tmp/fan/f$i.yaml"
done
printf 'networks:\n  n8: [192.0.2.8]\n' >"$tmp/fan/f8.yaml"
printf 'version: 1\npolicy: fan\ninclude: [f1.yaml, f1.yaml, f1.yaml, f1.yaml, f1.yaml]\nrules:\n  - allow: 88/udp\n    from: [n1, n8]\n' \
    >"$tmp/fan/top.yaml"
limit="ulimit -v 262144;"
grep -q __asan_init "$bin" 2>/dev/null && limit=
# shellcheck disable=SC2016
timeout 120 sh -c "$limit"' exec "$1" render "$2"' sh "$bin" "$tmp/fan/top.yaml" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc = 0 ] && [ "$(grep -c '^# include ' "$tmp/out")" = 8 ] &&
    pass "nine files each including the next five times" ||
    { fail "nine files each including the next five times (status $rc)"; head -5 "$tmp/err"; }

# ---- includes that cost work before they are read --------------------------------
# 40 links in a chain, each target padded with `d/../` 800 times, listed 1000
# times (a 4 KB policy; it took about 60 s): the include is resolved once,
# refused as it passes 1024 path components, and the same refusal said at
# every listing.  10 s is far above the fixed cost, far below the old one.
mkdir -p "$tmp/pad/d"
pad=$(i=0; while [ $i -lt 800 ]; do printf 'd/../'; i=$((i + 1)); done)
i=0
while [ $i -lt 40 ]; do ln -s "${pad}l$((i + 1))" "$tmp/pad/l$i"; i=$((i + 1)); done
printf 'networks:\n  n: [192.0.2.1]\n' >"$tmp/pad/l40"
list=$(i=0; while [ $i -lt 1000 ]; do printf 'l0, '; i=$((i + 1)); done)
printf 'version: 1\npolicy: p\ninclude: [%sl0]\nrules:\n  - allow: 88/udp\n    from: n\n' "$list" >"$tmp/pad/p.yaml"
timeout 10 "$bin" check "$tmp/pad/p.yaml" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc = 1 ] &&
    grep -q "p.yaml:3:11: error: '$tmp/pad/l0' is not read: resolving it walks more than 1024 path components (those of the symbolic links followed counted) \[include-limit\]" "$tmp/err" &&
    pass "a padded chain of links listed 1000 times" ||
    { fail "a padded chain of links listed 1000 times (status $rc)"; head -5 "$tmp/err"; }
# The same chain without the padding: read, through its 40 links.
i=0
while [ $i -lt 40 ]; do ln -sf "l$((i + 1))" "$tmp/pad/l$i"; i=$((i + 1)); done
run check "$tmp/pad/p.yaml"
[ $rc = 0 ] && pass "a chain of 40 links listed 1001 times" ||
    { fail "a chain of 40 links listed 1001 times (status $rc)"; head -5 "$tmp/err"; }

# ---- file names that hold line breaks ---------------------------------------------
# explain prints every file name escaped, as the diagnostics do: a policy or a
# services file whose name holds a newline cannot start a line of its own.
mkdir "$tmp/nl"
nlpol="$tmp/nl/$(printf 'a\nrule 9  b.yaml')"
nlsvc="$tmp/nl/$(printf 's\nkdcx 9 tcp')"
printf 'version: 1\npolicy: x\nrules:\n  - allow: kdcx\n    from: 192.0.2.1\n' >"$nlpol"
printf 'kdcx 88/tcp\n' >"$nlsvc"
run explain --services "$nlsvc" "$nlpol"
if [ $rc = 0 ] && ! grep -q '^rule 9\|^kdcx 9' "$tmp/out" &&
    grep -q '^file: .*/nl/a\\nrule 9  b.yaml$' "$tmp/out" &&
    grep -q "^rule 1  .*/nl/a\\\\nrule 9  b.yaml:4:5  allow input$" "$tmp/out" &&
    grep -q "system    .*/nl/s\\\\nkdcx 9 tcp:1$" "$tmp/out"; then
    run explain --services "$nlsvc" "$nlpol" --packet 'tcp 192.0.2.1 -> 192.0.2.9 88'
    if [ $rc = 0 ] && [ "$(wc -l <"$tmp/out")" = 3 ] &&
        grep -q "by rule 1 at .*/nl/a\\\\nrule 9  b.yaml:4:5: allow kdcx 88/tcp (system .*/nl/s\\\\nkdcx 9 tcp:1)$" "$tmp/out" &&
        grep -q "^    from 192.0.2.1, written at .*/nl/a\\\\nrule 9  b.yaml:5$" "$tmp/out"; then
        pass "explain escapes the file names it prints"
    else
        fail "explain --packet escapes the file names it prints (status $rc)"; cat "$tmp/out"
    fi
else
    fail "explain escapes the file names it prints (status $rc)"; cat "$tmp/out"
fi

# ---- render -o interrupted ---------------------------------------------------
# The new file has no name until it is whole (O_TMPFILE), and from its naming
# to its rename an interrupt waits: render stopped at any point leaves the old
# file or the new one and nothing beside it.  Background jobs of a script
# start with SIGINT ignored, so each render runs through `env
# --default-signal=INT`.  Where the test directory cannot hold a file without
# a name, render names it from the start (as before) and these cases cannot
# hold: skipped there.
wide_policy big 5000 >"$tmp/big.yaml"
mkdir "$tmp/killed"
out=$tmp/killed/out.nft
"$bin" render -o "$tmp/big.nft" "$tmp/big.yaml" 2>/dev/null || fail "render of 5 000 rules"
if ! python3 -c 'import os, sys; os.close(os.open(sys.argv[1], os.O_TMPFILE | os.O_WRONLY, 0o600))' \
    "$tmp/killed" 2>/dev/null; then
    skip "render -o interrupted" "a test directory on a filesystem with O_TMPFILE"
else
    # SIGTERM, SIGINT and SIGHUP at 30 points spread from 30 % to 120 % of the
    # least time of three renders of 5 000 rules; SIGKILL at 10 more, where
    # only the file is checked (a kill between the naming and the rename,
    # microseconds apart, would leave the temporary name).  Before, the
    # output's temporary name was made when it was opened, and a kill while
    # it was written (about the last tenth of the render) left it behind.
    took=
    for i in 1 2 3; do
        t0=$(date +%s%N)
        "$bin" render -o "$out" "$tmp/big.yaml" 2>/dev/null
        t=$((($(date +%s%N) - t0) / 1000000))
        [ -z "$took" ] || [ $t -lt "$took" ] && took=$t
    done
    old=0 new=0 other=0 left=0 i=0
    echo old >"$out"
    while [ $i -lt 40 ]; do
        case $((i % 4)) in 0) sig=TERM ;; 1) sig=INT ;; 2) sig=HUP ;; 3) sig=KILL ;; esac
        ms=$((took * (30 + 90 * i / 40) / 100))
        env --default-signal=INT "$bin" render -o "$out" "$tmp/big.yaml" 2>/dev/null &
        pid=$!
        sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
        kill -$sig $pid 2>/dev/null
        wait $pid 2>/dev/null
        if [ "$(cat "$out")" = old ]; then old=$((old + 1))
        elif cmp -s "$out" "$tmp/big.nft"; then new=$((new + 1)); echo old >"$out"
        else other=$((other + 1)); fi
        if [ "$(ls -A "$tmp/killed")" != out.nft ]; then
            [ $sig = KILL ] || left=$((left + 1))
            find "$tmp/killed" -name 'out.nft.tmp-*' -delete
        fi
        i=$((i + 1))
    done
    if [ $other = 0 ] && [ $left = 0 ] && [ $old -gt 0 ]; then
        pass "render -o interrupted at 40 points: the old file or the new, nothing left beside it (old $old, new $new; a render takes $took ms)"
    else
        fail "render -o interrupted at 40 points: old $old new $new other $other, temporary files left by SIGTERM/SIGINT/SIGHUP $left (a render takes $took ms)"
    fi
    # The same, SIGTERM sent the moment a temporary name shows in the
    # directory (watched until the render ends): 10 renders.
    seen=0 left=0 i=0
    while [ $i -lt 10 ]; do
        "$bin" render -o "$out" "$tmp/big.yaml" 2>/dev/null &
        pid=$!
        while kill -0 $pid 2>/dev/null; do
            case "$(ls -A "$tmp/killed")" in
            *.tmp-*) kill -TERM $pid 2>/dev/null; seen=$((seen + 1)); break ;;
            esac
        done
        wait $pid 2>/dev/null
        [ "$(ls -A "$tmp/killed")" = out.nft ] || left=$((left + 1))
        find "$tmp/killed" -name 'out.nft.tmp-*' -delete
        i=$((i + 1))
    done
    [ $left = 0 ] && pass "render -o stopped as soon as a temporary name shows: nothing left ($seen of 10 seen)" ||
        fail "render -o stopped as soon as a temporary name shows: $left of 10 left one"
    # The rename held back 300 ms (slow_rename.so, preloaded) and SIGTERM,
    # SIGINT or SIGHUP sent in that wait: the signal waits, the new file is
    # put in place, then the signal ends the render (status 128 + its number).
    slow=$(dirname "$bin")/tests/slow_rename.so
    for sig in TERM:143 INT:130 HUP:129; do
        echo old >"$out"
        rm -f "$tmp/mark"
        ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 LD_PRELOAD="$slow" \
            PC_SLOW_RENAME_MARK="$tmp/mark" PC_SLOW_RENAME_MS=300 \
            env --default-signal=INT "$bin" render -o "$out" "$tmp/big.yaml" 2>/dev/null &
        pid=$!
        n=0
        while [ ! -e "$tmp/mark" ] && [ $n -lt 1000 ] && kill -0 $pid 2>/dev/null; do
            sleep 0.01; n=$((n + 1))
        done
        kill -"${sig%:*}" $pid 2>/dev/null
        wait $pid 2>/dev/null
        rc=$?
        if [ -e "$tmp/mark" ] && [ $rc = "${sig#*:}" ] && cmp -s "$out" "$tmp/big.nft" &&
            [ "$(ls -A "$tmp/killed")" = out.nft ]; then
            pass "SIG${sig%:*} between the naming and the rename waits for the rename (status $rc)"
        else
            fail "SIG${sig%:*} between the naming and the rename waits for the rename (status $rc, want ${sig#*:}; in the directory: $(ls -A "$tmp/killed" | tr '\n' ' '))"
            find "$tmp/killed" -name 'out.nft.tmp-*' -delete
        fi
    done
fi
# Without /proc (a chroot, a mount namespace), where an older kernel would not
# let a file without a name be named, render names it from the start and
# still replaces the file.  As root; not in the sanitizer build, whose
# runtime reads its options and the leaks at exit through /proc.
if [ $is_root = 1 ] && ! grep -q __asan_init "$bin" 2>/dev/null; then
    echo old >"$out"
    unshare -m sh -c 'umount -l /proc && exec "$0" render -o "$1" "$2"' "$bin" "$out" "$tmp/big.yaml" \
        >/dev/null 2>"$tmp/err"
    rc=$?
    [ $rc = 0 ] && cmp -s "$out" "$tmp/big.nft" && [ "$(ls -A "$tmp/killed")" = out.nft ] &&
        pass "render -o without /proc" || { fail "render -o without /proc (status $rc)"; cat "$tmp/err"; }
fi

[ "$passed" = 0 ] && [ "$failed" = 0 ] && exit 77
finish
