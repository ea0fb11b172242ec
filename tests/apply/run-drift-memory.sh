#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The memory of `diff`, as root in a network namespace of its own (the host's
# ruleset is never touched): with the table of 100 000 addresses (one network
# that 10 rules use) loaded, diff holds no object per element on either side,
# so its peak resident memory stays within check's of the same policy plus
# 4 MiB (it was check + 16 MiB: an object and a string per element, on both
# sides; then 9 MiB, a transaction built and read back for diff and another
# for what apply would send; now 1 MiB: the elements both compare are read
# off the model, never written into a transaction, and the kernel's are
# looked up in those as they are read, not kept).  The same addresses in a
# list file (`networks: {big: {file: F}}`): within check + 2 MiB (5-6 MiB
# with the transactions built, under 1 MiB now).  Registered only
# in a build without sanitizers and run without a wrapper (the kernel
# suite), which change what memory is.
. "$(dirname "$0")/../lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v nft >/dev/null 2>&1 || ! unshare -n true 2>/dev/null; then
    cannot_run "root, nft and network namespaces"
fi
export bin tmp

# ns SCRIPT: runs SCRIPT (sh) in a new network namespace, its loopback up.
ns() { unshare -n sh -c "ip link set lo up; $1"; }

python3 -c "import sys; sys.path.insert(0, sys.argv[1]); import shapes; shapes.write(sys.argv[2], 'bignet', 100000)" \
    "$root/tests/growth" "$tmp/big.yaml"
# The same policy with its addresses in a list file.
python3 -c "
import re, sys
y = open(sys.argv[1]).read()
m = re.search(r'^  big: \\[(.*)\\]$', y, re.M)
open(sys.argv[3], 'w').write(m.group(1).replace(', ', '\\n') + '\\n')
open(sys.argv[2], 'w').write(y[:m.start()] + '  big: {file: big.txt}' + y[m.end():])
" "$tmp/big.yaml" "$tmp/list.yaml" "$tmp/big.txt"
# within POLICY MIB: in a namespace of its own, POLICY applied, then check's
# and diff's exit statuses and whether diff's peak RSS is within check's + MIB.
within() {
    ns "
cd \"\$tmp\"
\"\$bin\" apply $1 >/dev/null 2>&1 || echo 'apply failed'
peak() { python3 -c 'import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' \"\$@\"; }
set -- \$(peak \"\$bin\" check $1) \$(peak \"\$bin\" diff $1)
echo \"check rc \$1 diff rc \$3\"
if [ \"\$4\" -le \$((\$2 + $2 * 1024)) ]; then echo 'diff within check + $2 MiB'; else echo \"diff \$4 KiB, check \$2 KiB\"; fi
"
}

within list.yaml 2 >"$tmp/mem-list" 2>&1
expect "diff memory of 100 000 addresses from a list file: within check's + 2 MiB" \
    'check rc 0 diff rc 0\ndiff within check + 2 MiB' "$tmp/mem-list"
within big.yaml 4 >"$tmp/mem" 2>&1
expect "diff memory of 100 000 addresses: within check's + 4 MiB" \
    'check rc 0 diff rc 0\ndiff within check + 4 MiB' "$tmp/mem"

finish
