#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Makes sure that what building and testing portcullis need is here.  It
# looks first: every command on the PATH (command -v) and every library
# pkg-config knows (pkg-config --exists).  Only for what is missing does it
# install the Debian package that provides it, with apt-get (as root, or
# through sudo); without apt-get it names what is missing and exits 1.
# PC_BOOTSTRAP_EXTRA: more Debian packages (make bench-deps), which it asks
# dpkg-query about.
#
#   sh tools/bootstrap.sh          check, and install what is missing
#   sh tools/bootstrap.sh --list   print the table of needs: KIND NAME PACKAGE
set -eu

# What is needed: KIND (cmd: a command on the PATH, lib: a pkg-config
# module), NAME, and the Debian package that provides it.  The tests' own
# list of the commands they call (tests/env/commands) is checked against it.
needs='
cmd cc                 gcc
cmd meson              meson
cmd ninja              ninja-build
cmd pkg-config         pkg-config
lib libnftnl           libnftnl-dev
lib libmnl             libmnl-dev
lib yaml-0.1           libyaml-dev
lib cmocka             libcmocka-dev
cmd valgrind           valgrind
cmd python3            python3
cmd ip                 iproute2
cmd nft                nftables
cmd iptables           iptables
cmd iptables-restore   iptables
cmd iptables-save      iptables
cmd ip6tables          iptables
cmd ip6tables-restore  iptables
cmd ip6tables-save     iptables
cmd clang-format       clang-format
cmd git                git
cmd man                man-db
cmd systemd-analyze    systemd
cmd dpkg-buildpackage  dpkg-dev
cmd dh                 debhelper
cmd lintian            lintian
cmd deb-systemd-helper init-system-helpers
'

if [ "${1:-}" = --list ]; then
    printf '%s\n' "$needs" | while read -r kind name pkg; do
        if [ -n "$kind" ]; then printf '%s %s %s\n' "$kind" "$name" "$pkg"; fi
    done
    exit 0
fi
if [ $# != 0 ]; then
    echo "usage: sh tools/bootstrap.sh [--list]" >&2
    exit 2
fi

# Sets missing (a readable list) and packages (each package once).
survey() {
    missing=""
    packages=""
    have_pkgconfig=0
    command -v pkg-config >/dev/null 2>&1 && have_pkgconfig=1
    # The here-document keeps the loop in this shell, so it can set variables.
    while read -r kind name pkg; do
        [ -n "$kind" ] || continue
        case $kind in
        cmd) command -v "$name" >/dev/null 2>&1 && continue ;;
        lib) [ $have_pkgconfig = 1 ] && pkg-config --exists "$name" 2>/dev/null && continue ;;
        esac
        what="command"
        [ "$kind" = lib ] && what=library
        missing="$missing${missing:+, }$what $name ($pkg)"
        case " $packages " in *" $pkg "*) ;; *) packages="$packages${packages:+ }$pkg" ;; esac
    done <<EOF
$needs
EOF
    for pkg in ${PC_BOOTSTRAP_EXTRA:-}; do
        if command -v dpkg-query >/dev/null 2>&1 &&
            [ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)" = installed ]; then
            continue
        fi
        missing="$missing${missing:+, }package $pkg"
        case " $packages " in *" $pkg "*) ;; *) packages="$packages${packages:+ }$pkg" ;; esac
    done
}

survey
[ -z "$packages" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: missing: $missing" >&2
    echo "bootstrap: there is no apt-get here to install them: install them (each Debian package is named in parentheses), then run this again" >&2
    exit 1
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo=sudo
    else
        echo "bootstrap: missing: $missing" >&2
        echo "bootstrap: run this as root (or install sudo) to install: $packages" >&2
        exit 1
    fi
fi
echo "bootstrap: installing $packages"
$sudo apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $packages

survey
if [ -n "$packages" ]; then
    echo "bootstrap: still missing after apt-get: $missing" >&2
    exit 1
fi
