#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# tools/bootstrap.sh on a host that is not Debian: a PATH of its own (a
# directory of links to the commands it needs, and nothing else: no
# dpkg-query, no apt-get).
# - Everything there: exit 0, silent, nothing installed.
# - A command missing, no apt-get: exit 1, naming the command and its package.
# - No pkg-config module found: exit 1, naming the four libraries.
# - A command missing, with an apt-get (a stand-in that records its arguments
#   and puts the command in place): it installs that package alone, then
#   looks again and exits 0; with an apt-get that installs nothing, exit 1.
# - PC_BOOTSTRAP_EXTRA without dpkg-query: named as missing.
. "$(dirname "$0")/../lib.sh"
boot=$root/tools/bootstrap.sh

# The commands the bootstrap needs, and those it runs itself.
names="$(sh "$boot" --list | awk '$1 == "cmd" { print $2 }') id"
why=""
for c in $names; do
    command -v "$c" >/dev/null 2>&1 || why="$why $c"
done
[ -z "$why" ] || cannot_run "every command the bootstrap looks for; missing:$why"
mkdir "$tmp/bin"
for c in $names; do
    ln -s "$(command -v "$c")" "$tmp/bin/$c"
done

# run NAME [VAR=VALUE...]: the bootstrap with PATH=$tmp/bin (and those
# variables); its status in $tmp/NAME.rc, its output in $tmp/NAME.out.
run() {
    n=$1
    shift
    timeout 60 env -u CI -u PC_BOOTSTRAP_EXTRA PATH="$tmp/bin" "$@" /bin/sh "$boot" >"$tmp/$n.out" 2>&1
    echo $? >"$tmp/$n.rc"
}
# expect NAME STATUS OUTPUT: the run NAME exited STATUS and printed exactly OUTPUT.
expect() {
    if [ "$(cat "$tmp/$1.rc")" = "$2" ] && [ "$(cat "$tmp/$1.out")" = "$3" ]; then
        pass "$1"
    else
        fail "$1 (status $(cat "$tmp/$1.rc"), wanted $2)"
        printf '%s\n' "--- wanted" "$3" "--- got"
        cat "$tmp/$1.out"
    fi
}

[ ! -e "$tmp/bin/dpkg-query" ] && [ ! -e "$tmp/bin/apt-get" ] && pass "no dpkg-query, no apt-get" ||
    fail "no dpkg-query, no apt-get"

run everything-here
expect everything-here 0 ""

nft=$(readlink "$tmp/bin/nft")
rm "$tmp/bin/nft"
run missing-no-apt
expect missing-no-apt 1 "bootstrap: missing: command nft (nftables)
bootstrap: there is no apt-get here to install them: install them (each Debian package is named in parentheses), then run this again"

mkdir "$tmp/no-modules"
run no-libraries PKG_CONFIG_LIBDIR="$tmp/no-modules" PKG_CONFIG_PATH=
expect no-libraries 1 "bootstrap: missing: library libnftnl (libnftnl-dev), library libmnl (libmnl-dev), library yaml-0.1 (libyaml-dev), library cmocka (libcmocka-dev), command nft (nftables)
bootstrap: there is no apt-get here to install them: install them (each Debian package is named in parentheses), then run this again"

# An apt-get that records its arguments, and for `install` links the command
# back in; sudo, should the test not be root, runs its arguments.
cat >"$tmp/bin/apt-get" <<EOF
#!/bin/sh
echo "\$*" >>"$tmp/apt.log"
[ "\$1" = install ] && [ -n "\${PC_FAKE_INSTALL:-}" ] && $(command -v ln) -s "$nft" "$tmp/bin/nft"
exit 0
EOF
printf '#!/bin/sh\nexec "$@"\n' >"$tmp/bin/sudo"
chmod +x "$tmp/bin/apt-get" "$tmp/bin/sudo"
run installs PC_FAKE_INSTALL=1
expect installs 0 "bootstrap: installing nftables"
if [ "$(cat "$tmp/apt.log")" = "update -qq
install -y -qq --no-install-recommends nftables" ]; then
    pass "apt-get asked for nftables alone"
else
    fail "apt-get asked for nftables alone"
    cat "$tmp/apt.log"
fi

rm "$tmp/bin/nft"
run installs-nothing
expect installs-nothing 1 "bootstrap: installing nftables
bootstrap: still missing after apt-get: command nft (nftables)"
ln -s "$nft" "$tmp/bin/nft"

rm "$tmp/bin/apt-get"
run extra-no-dpkg PC_BOOTSTRAP_EXTRA="ferm time"
expect extra-no-dpkg 1 "bootstrap: missing: package ferm, package time
bootstrap: there is no apt-get here to install them: install them (each Debian package is named in parentheses), then run this again"

finish
