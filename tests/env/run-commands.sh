#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Every external command the tests call gets onto a fresh machine.
# (b) Each command of tests/env/commands marked `bootstrap` has its package in
#     the bootstrap's table (sh tools/bootstrap.sh --list), with the same
#     package where the bootstrap names the command too; each marked `bench`
#     is in the Makefile's PC_BOOTSTRAP_EXTRA.
# (a) Every word of the test scripts (tests/**/*.sh, *.py and meson.build,
#     the Makefile, meson.build, .ci/run; comments and plain messages left
#     out, and for Python only string literals) that names a command on this
#     machine is either from a package of the base system below or in
#     tests/env/commands; and each listed command installed here comes from
#     the package the list names (or one that package depends on).
# (a) needs dpkg-query to tell which package a command is from: without it
#     the test exits 77 (SKIP), and fails under CI.
#
# The base system: what a minimal Debian has before anything is installed,
# plus make, which runs the bootstrap.  Everything else must be bootstrapped.
base="apt bash bsdutils coreutils dash debconf debianutils diffutils dpkg findutils gawk grep gzip
libc-bin login make mawk mount passwd procps sed tar util-linux"
base=$(echo $base)
. "$(dirname "$0")/../lib.sh"
list="$dir/commands"

# The list without its comments: COMMAND PACKAGE HOW.
sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$list" >"$tmp/list"
if awk 'NF != 3 || ($3 != "bootstrap" && $3 != "bench" && $3 != "optional" && $3 != "word") { exit 1 }' \
    "$tmp/list"; then
    pass "tests/env/commands: every line is COMMAND PACKAGE bootstrap|bench|optional|word"
else
    fail "tests/env/commands: every line is COMMAND PACKAGE bootstrap|bench|optional|word"
fi

# (b) The list against the bootstrap.
if ! sh "$root/tools/bootstrap.sh" --list >"$tmp/needs"; then
    fail "tools/bootstrap.sh --list"
fi
extra=$(sed -n 's/.*PC_BOOTSTRAP_EXTRA="\([^"]*\)".*/\1/p' "$root/Makefile" | head -1)
while read -r cmd pkg how; do
    case $how in
    bootstrap)
        if awk -v p="$pkg" '$3 == p { found = 1 } END { exit !found }' "$tmp/needs"; then
            pass "$cmd: its package $pkg is in the bootstrap"
        else
            fail "$cmd: its package $pkg is not in tools/bootstrap.sh's needs: add it there"
        fi
        other=$(awk -v c="$cmd" '$1 == "cmd" && $2 == c { print $3 }' "$tmp/needs")
        if [ -n "$other" ] && [ "$other" != "$pkg" ]; then
            fail "$cmd: tests/env/commands says package $pkg, tools/bootstrap.sh says $other"
        fi
        ;;
    bench)
        case " $extra " in
        *" $pkg "*) pass "$cmd: its package $pkg is installed by make bench-deps" ;;
        *) fail "$cmd: its package $pkg is not in the Makefile's PC_BOOTSTRAP_EXTRA" ;;
        esac
        ;;
    esac
done <"$tmp/list"

# (a) The scripts against the list.
if ! command -v dpkg-query >/dev/null 2>&1; then
    [ "$failed" = 0 ] || { finish; exit; }
    cannot_run "dpkg-query, to tell which package a command is from"
fi

# which_cmd CMD: where CMD is on a Debian system's PATH (not the caller's,
# which may hold shims of its own); nothing for builtins.
syspath=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
which_cmd() {
    p=$(PATH=$syspath command -v -- "$1" 2>/dev/null) || return 1
    case $p in /*) echo "$p" ;; *) return 1 ;; esac
}
# paths CMD: the file the command is and, through links, the file it runs.
paths() {
    p=$(which_cmd "$1") || return 1
    for f in "$p" "$(readlink -f "$p")"; do
        # /bin and /usr/bin are one directory on a merged /usr: dpkg knows one name.
        case $f in
        /usr/bin/* | /usr/sbin/*) echo "$f ${f#/usr}" ;;
        /bin/* | /sbin/*) echo "$f /usr$f" ;;
        *) echo "$f" ;;
        esac
    done
}

cd "$root" || exit 1
scripts=$(find tests -path tests/fuzz/corpus -prune -o -path tests/fuzz/campaign -prune -o \
    -path '*/golden' -prune -o -type f \( -name '*.sh' -o -name '*.py' -o -name meson.build \) -print |
    sort)
scripts="$scripts Makefile meson.build .ci/run"
# shellcheck disable=SC2086
for f in $scripts; do
    case $f in
    *.py) grep -o "[\"'][A-Za-z0-9._+-]*[\"']" "$f" | tr -d "\"'" ;;
    *) sed -e 's/\(^\|[[:space:]]\)#.*//' -e 's/"[^"$`]*"//g' "$f" | tr -c 'A-Za-z0-9._+-' '\n' ;;
    esac | sed -e '/^$/d' -e '/^[-.]/d' -e "s|\$| $f|"
done | sort -u >"$tmp/words"

# The words that name a file in a directory of that PATH, less the listed ones.
for d in $(echo $syspath | tr ':' ' '); do
    ls "$d" 2>/dev/null
done | sort -u >"$tmp/onpath"
cut -d' ' -f1 "$tmp/words" | sort -u | comm -12 - "$tmp/onpath" >"$tmp/named"
cut -d' ' -f1 "$tmp/list" | sort -u | comm -23 "$tmp/named" - >"$tmp/unlisted"

# Which package owns each: one dpkg-query for every file (it reads its whole
# database each time).  owned: PATH PACKAGE lines; owners CMD: CMD's packages.
awk '$3 != "word" { print $1 }' "$tmp/list" | cat - "$tmp/unlisted" | sort -u | while read -r w; do
    for f in $(paths "$w"); do echo "$w $f"; done
done >"$tmp/paths"
# shellcheck disable=SC2046
dpkg-query -S $(cut -d' ' -f2 "$tmp/paths" | sort -u) 2>/dev/null | grep -v '^diversion by' |
    sed -n 's/^\([^/]*\): \(\/.*\)/\2 \1/p' | sed 's/:[a-z0-9]*\(,\|$\)/\1/g' |
    awk '{ n = split(substr($0, length($1) + 2), p, /, */); for (i = 1; i <= n; i++) print $1, p[i] }' |
    sort -u >"$tmp/owned"
owners() {
    awk -v w="$1" 'NR == FNR { if ($1 == w) want[$2] = 1; next } $1 in want { print $2 }' \
        "$tmp/paths" "$tmp/owned" | sort -u
}

bad=0
while read -r w; do
    which_cmd "$w" >/dev/null || continue
    pkgs=$(owners "$w")
    ok=0
    for p in $pkgs; do
        case " $base " in *" $p "*) ok=1 ;; esac
    done
    [ $ok = 1 ] && continue
    bad=1
    where=$(awk -v w="$w" '$1 == w { printf "%s%s", sep, $2; sep = ", " }' "$tmp/words")
    if [ -n "$pkgs" ]; then
        fail "$where: $w (Debian package $(echo $pkgs | sed 's/ /, /g')) is not in a base system nor in tests/env/commands: add it there, and its package to tools/bootstrap.sh"
    else
        fail "$where: $w ($(which_cmd "$w"), from no Debian package) is not in tests/env/commands: add it there"
    fi
done <"$tmp/unlisted"
[ $bad = 0 ] && pass "every command the scripts call is in a base system or in tests/env/commands"

# Each listed command that is installed here comes from the package the list names.
while read -r cmd pkg how; do
    [ "$how" = word ] && continue
    which_cmd "$cmd" >/dev/null || continue
    pkgs=$(owners "$cmd")
    deps=$(dpkg-query -W -f='${Depends}, ${Pre-Depends}' "$pkg" 2>/dev/null |
        tr ',|' '\n\n' | sed -e 's/^ *//' -e 's/[ :(].*//')
    ok=0
    for p in $pkgs; do
        [ "$p" = "$pkg" ] && ok=1
        for d in $deps; do [ "$p" = "$d" ] && ok=1; done
    done
    if [ $ok = 1 ]; then
        pass "$cmd is from $pkg"
    else
        fail "tests/env/commands: $cmd is from $(echo $pkgs | sed 's/ /, /g') here, not from $pkg"
    fi
done <"$tmp/list"

finish
