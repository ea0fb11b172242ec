#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A PC_TEST_WRAPPER that runs some commands under another wrapper (valgrind)
# and the rest as they are:
#
#   PC_TEST_WRAPPER="wrap-sample.sh DIR WRAPPER... --" (then BIN ARGS...)
#
# A command's shape is its subcommand, its options, and the short lowercase
# words after them (`--target pf`, `--family ipv6`); file names, addresses
# and packets are not part of it.  The Nth command of a shape in this run
# goes under WRAPPER when N is a power of two (the first, second, fourth,
# eighth...) or a multiple of PC_SAMPLE_EVERY (default 16): every shape is
# checked, the common ones more than once.  DIR is an empty directory of the
# run's where each command leaves a line in its shape's file (shape.*), and
# each one wrapped a line in `wrapped`; commands of one shape run at the same
# time may both take the same N, which only changes which of them is checked.  Everything the sampler needs is in the
# wrapper's words, so it survives a test that clears the environment.
set -u
if [ $# -lt 3 ]; then
    echo "usage: wrap-sample.sh DIR WRAPPER... -- BIN [ARG...]" >&2
    exit 2
fi
dir=$1
shift
wrapper=
while [ $# -gt 0 ] && [ "$1" != -- ]; do
    wrapper="$wrapper $1"
    shift
done
if [ $# = 0 ] || [ -z "$wrapper" ] || [ ! -d "$dir" ]; then
    echo "wrap-sample.sh: needs a directory, a wrapper and --" >&2
    exit 2
fi
shift
bin=$1
shift

shape=
after_option=0
for a in "$@"; do
    case $a in
    -*)
        shape="$shape ${a%%=*}"
        after_option=1
        continue
        ;;
    esac
    if [ -z "$shape" ]; then
        shape=$a
    elif [ $after_option = 1 ] && [ ${#a} -le 16 ]; then
        case $a in *[!a-z0-9-]*) ;; *) shape="$shape $a" ;; esac
    fi
    after_option=0
done

f=$dir/shape.$(printf '%s' "$shape" | cksum | cut -d' ' -f1)
printf '%s\n' "$shape" >>"$f"
n=$(wc -l <"$f")
every=${PC_SAMPLE_EVERY:-16}
if [ $((n & (n - 1))) = 0 ] || [ $((n % every)) = 0 ]; then
    printf '%s\n' "$shape" >>"$dir/wrapped"
    exec $wrapper "$bin" "$@"
fi
exec "$bin" "$@"
