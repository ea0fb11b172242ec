#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Output paths and includes, as an attacker sharing the host would use them:
# links planted in sticky directories, `-o /dev/stdout` onto pipes and files
# opened for append, includes that point at files the policy's author could
# not read, and include graphs that would explode if every path were read
# again.  The cases that plant files for another user run as root (CI does);
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
elif [ "${CI:-}" = true ]; then
    fail "planted links: CI must run them as root"
fi

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

[ "$passed" = 0 ] && [ "$failed" = 0 ] && exit 77
finish
