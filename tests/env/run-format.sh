#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The C sources follow .clang-format: every tracked .c and .h file formats to
# itself.  Formatting differs between clang-format releases, so the check runs
# with the release the tree is formatted with (14, Debian 12's) and is skipped
# with any other.
. "$(dirname "$0")/../lib.sh"

command -v clang-format >/dev/null 2>&1 || cannot_run "clang-format"
version=$(clang-format --version | sed -n 's/.*clang-format version \([0-9]*\)\..*/\1/p')
if [ "$version" != 14 ]; then
    echo "skipped: the tree is formatted with clang-format 14, this is ${version:-unknown}"
    exit 77
fi
command -v git >/dev/null 2>&1 && git -C "$root" rev-parse --git-dir >/dev/null 2>&1 ||
    cannot_run "a git checkout (to list the tracked sources)"

files=$(git -C "$root" ls-files 'src/*.[ch]' 'include/*.h' 'tests/*.[ch]' 'tools/*.c' 'bench/*.c')
for f in $files; do
    if clang-format --style=file "$root/$f" | cmp -s - "$root/$f"; then
        passed=$((passed + 1))
    else
        fail "$f does not follow .clang-format (clang-format -i $f)"
    fi
done
echo "$passed files formatted as .clang-format says"
finish
