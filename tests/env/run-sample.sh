#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/wrap-sample.sh, the sampler check-valgrind runs the CLI suite
# through: the first, second, fourth... and every 16th command of a shape
# go under the wrapper, the others run as they are; file names, addresses
# and packets are not part of a shape, options and their short words are;
# the wrapper's exit status (valgrind's 99) is the command's; it needs no
# variable of the environment; a wrong call is a usage error.
. "$(dirname "$0")/../lib.sh"
sample=$dir/../wrap-sample.sh

# A stand-in wrapper that notes each command it is given, then runs it.
cat >"$tmp/note" <<'EOF'
#!/bin/sh
echo "$*" >>"$NOTE"
exec "$@"
EOF
printf '#!/bin/sh\nexit 99\n' >"$tmp/fail99"
chmod +x "$tmp/note" "$tmp/fail99"
export NOTE="$tmp/noted"
mkdir "$tmp/d" "$tmp/e" "$tmp/f"

# run DIR WRAPPER ARG...: one command through the sampler, its status in rc.
run() {
    d=$1 wrap=$2
    shift 2
    env -i PATH="$PATH" NOTE="$NOTE" sh "$sample" "$tmp/$d" $wrap -- "$@" >/dev/null 2>&1
    rc=$?
}

i=1
while [ $i -le 50 ]; do
    run d "$tmp/note" /bin/echo check "/x/$i/policy.yaml"
    [ $rc = 0 ] || fail "a command through the sampler: exit $rc"
    i=$((i + 1))
done
got=$(sed 's|.*/x/\([0-9]*\)/.*|\1|' "$NOTE" | tr '\n' ' ')
[ "$got" = "1 2 4 8 16 32 48 " ] && pass "one shape: the 1st, 2nd, 4th, 8th, 16th, 32nd and 48th wrapped" ||
    fail "one shape: wrapped '$got'"
[ "$(wc -l <"$tmp/d/wrapped")" = 7 ] && [ "$(cat "$tmp/d"/shape.* | wc -l)" = 50 ] &&
    pass "the run's directory counts 50 commands, 7 wrapped" || fail "the run's directory's counts"

: >"$NOTE"
run e "$tmp/note" /bin/echo render --target pf a.yaml
run e "$tmp/note" /bin/echo render --target nft a.yaml
run e "$tmp/note" /bin/echo render --target=nft b.yaml
run e "$tmp/note" /bin/echo render --family ipv6 --target pf c.yaml
run e "$tmp/note" /bin/echo explain a.yaml --packet 'tcp 192.0.2.1 -> 88'
run e "$tmp/note" /bin/echo explain b.yaml --packet 'udp 192.0.2.9 -> 464'
run e "$tmp/note" /bin/echo explain c.yaml --packet 'udp 192.0.2.9 -> 464'
shapes=$(cat "$tmp/e"/shape.* | sort -u | tr '\n' '|')
[ "$shapes" = "explain --packet|render --family ipv6 --target pf|render --target|render --target nft|render --target pf|" ] &&
    pass "shapes: options and their short words, not files nor packets" || fail "shapes: '$shapes'"
[ "$(wc -l <"$NOTE")" = 6 ] && ! grep -q "c.yaml --packet" "$NOTE" &&
    pass "the third command of a shape runs unwrapped" || fail "third of a shape: $(cat "$NOTE")"

run f "$tmp/fail99" /bin/true lookup kerberos
[ $rc = 99 ] && pass "the wrapper's exit status is the command's" || fail "the wrapper's 99: exit $rc"
run f "$tmp/fail99" /bin/true lookup kerberos
[ $rc = 99 ] && pass "the second of a shape is wrapped" || fail "second: exit $rc"
run f "$tmp/fail99" /bin/false lookup kerberos
[ $rc = 1 ] && pass "the third runs as it is" || fail "third: exit $rc"

for args in "" "$tmp/f" "$tmp/f --" "$tmp/f valgrind" "$tmp/nosuch valgrind -- /bin/true"; do
    env -i PATH="$PATH" sh "$sample" $args >/dev/null 2>&1
    rc=$?
    [ $rc = 2 ] && pass "usage '$args': exit 2" || fail "usage '$args': exit $rc"
done
finish
