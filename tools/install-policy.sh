#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Run by `meson install`: puts the example policy at DIR/policy.yaml unless a
# policy is there already, so an administrator's policy is never replaced.
# Usage: install-policy.sh EXAMPLE DIR (DIR under $DESTDIR when it is set).
set -eu
dir=${DESTDIR:-}$2
mkdir -p "$dir"
if [ -e "$dir/policy.yaml" ]; then
    echo "keeping $dir/policy.yaml (the example is in the data directory)"
else
    cp "$1" "$dir/policy.yaml"
    chmod 0644 "$dir/policy.yaml"
fi
