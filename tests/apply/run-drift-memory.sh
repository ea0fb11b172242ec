#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The memory of `diff`, as root in a network namespace of its own (the host's
# ruleset is never touched): with the table of 100 000 addresses (one network
# that 10 rules use) loaded, diff holds no object per element on either side,
# so its peak resident memory stays within check's of the same policy plus
# 4 MiB (it was check + 16 MiB: an object and a string per element, on both
# sides; then a transaction built and read back for diff and another for what
# apply would send; now the elements both compare are read off the model,
# never written into a transaction, and the kernel's are looked up in those
# as they are read, not kept): +11 MiB before, +2.6 now.  The same addresses
# in a list file (`networks: {big: {file: F}}`): within check + 4 MiB too
# (+10.5 before, +2.6 now: the transaction's records and their index).
# And issue 14's measure: diff of 200 000 list-file addresses, listed out of
# order, within a tenth of what `nft list table` of the same table takes
# (129-133 MiB): 13.2 MiB while the record of the last apply was read whole
# beside its elements, 16 while qsort() sorted the addresses through a copy
# of them, 11.9 now; then an element deleted and one added by hand, which
# diff names.  Registered only in a build without
# sanitizers and run without a wrapper (the kernel suite), which change what
# memory is.
#
# usage: run-drift-memory.sh PORTCULLIS DIR SPAWN: the peak RSS is taken by
# SPAWN (bench/spawn.c), a small process: one forked from python3 starts with
# python's memory, which Linux counts in the peak of what it runs (a floor of
# about 10 MiB, above check's own).
. "$(dirname "$0")/../lib.sh"

kernel_peak "$3"

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
# peak CMD...: CMD's exit status (0 or 1) and peak RSS in KiB.
cat >"$tmp/peak" <<'END'
#!/bin/sh
"$spawn" 1 -- m "$@" | awk '{ print ($7 ? 1 : 0), $6 }'
END
chmod +x "$tmp/peak"
# within POLICY MIB: in a namespace of its own, POLICY applied, then check's
# and diff's exit statuses and whether diff's peak RSS is within check's + MIB.
within() {
    ns "
cd \"\$tmp\"
\"\$bin\" apply $1 >/dev/null 2>&1 || echo 'apply failed'
set -- \$(\"\$tmp/peak\" \"\$bin\" check $1) \$(\"\$tmp/peak\" \"\$bin\" diff $1)
echo \"check rc \$1 diff rc \$3\"
if [ \"\$4\" -le \$((\$2 + $2 * 1024)) ]; then echo 'diff within check + $2 MiB'; else echo \"diff \$4 KiB, check \$2 KiB\"; fi
"
}

# tenth POLICY: in a namespace of its own, POLICY applied, then whether diff's
# peak RSS is within a tenth of `nft list table`'s.
tenth() {
    ns "
cd \"\$tmp\"
\"\$bin\" apply $1 >/dev/null 2>&1 || echo 'apply failed'
set -- \$(\"\$tmp/peak\" \"\$(command -v nft)\" list table inet portcullis) \$(\"\$tmp/peak\" \"\$bin\" diff $1)
echo \"nft rc \$1 diff rc \$3\"
if [ \$((\$4 * 10)) -le \"\$2\" ]; then echo 'diff within a tenth of nft'; else echo \"diff \$4 KiB, nft list table \$2 KiB\"; fi
nft delete element inet portcullis n_big_v4 '{ 10.1.2.3 }'
nft add element inet portcullis n_big_v4 '{ 10.250.0.9 }'
\"\$bin\" diff $1 2>/dev/null | grep '^[-+].element'; echo \"diff rc after the hand edit: \$?\"
"
}

# Listed out of order (a fixed shuffle): sorting them must not take a copy.
python3 -c "
import random, sys
hosts = ['10.%d.%d.%d\\n' % (a >> 16 & 255, a >> 8 & 255, a & 255) for a in range(1, 200001)]
random.Random(14).shuffle(hosts)
open(sys.argv[1], 'w').write(''.join(hosts))
" "$tmp/big200.txt"
sed 's/big.txt/big200.txt/' "$tmp/list.yaml" >"$tmp/list200.yaml"
tenth list200.yaml >"$tmp/mem-tenth" 2>&1
expect "diff memory of 200 000 addresses from a list file: a tenth of nft list table's; an element taken away and one added by hand found among them" \
    'nft rc 0 diff rc 0\ndiff within a tenth of nft\n+\telement n_big_v4: 10.1.2.3\n-\telement n_big_v4: 10.250.0.9\ndiff rc after the hand edit: 0' "$tmp/mem-tenth"

within list.yaml 4 >"$tmp/mem-list" 2>&1
expect "diff memory of 100 000 addresses from a list file: within check's + 4 MiB" \
    'check rc 0 diff rc 0\ndiff within check + 4 MiB' "$tmp/mem-list"
within big.yaml 4 >"$tmp/mem" 2>&1
expect "diff memory of 100 000 addresses: within check's + 4 MiB" \
    'check rc 0 diff rc 0\ndiff within check + 4 MiB' "$tmp/mem"

finish
