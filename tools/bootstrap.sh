#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs the Debian packages that building and testing portcullis need,
# and only those that are missing.  Needs root (or sudo) only to install.
set -eu

pkgs="gcc meson ninja-build pkg-config libnftnl-dev libmnl-dev libyaml-dev libcmocka-dev
valgrind python3 iproute2 nftables iptables"
[ "${PC_BOOTSTRAP_EXTRA:-}" ] && pkgs="$pkgs $PC_BOOTSTRAP_EXTRA"

missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: missing packages:$missing (this script installs with apt-get only)" >&2
    exit 1
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo=sudo
    else
        echo "bootstrap: run as root (or install sudo) to install:$missing" >&2
        exit 1
    fi
fi
echo "bootstrap: installing$missing"
$sudo apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
