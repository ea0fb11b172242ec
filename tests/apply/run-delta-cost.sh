#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# What a one-address delta costs against what reading the policy costs, as
# root in a network namespace of its own (the host's ruleset is never
# touched): 100 000 host addresses in a list file that 10 rules use, loaded
# by apply, then one address added and taken away again, each a delta.  The
# delta reads, resolves and lowers the policy as check does; what it adds
# (the record of the last apply read and compared, the new one written) is
# held within 1.5x check's CPU time (the least of 7 runs each, a delta and a
# check in turn: 2.6x when the transaction was built and read back, 1.6-1.7x
# when the record was read into fresh pages and copied out an element at a
# time, 1.25-1.35x now) and within check's peak RSS plus 4 MiB (8 MiB more
# then).  The peak RSS is taken by SPAWN
# (bench/spawn.c, a small process): one forked from python3 starts with
# python's memory, which Linux counts in the peak of what it runs.
# Ratios and differences, not times; registered only in a build without
# sanitizers and run without a wrapper (the kernel suite).
#
# usage: run-delta-cost.sh PORTCULLIS DIR SPAWN
. "$(dirname "$0")/../lib.sh"

kernel_peak "$3"

python3 -c "
import sys
hosts = ['10.%d.%d.%d' % (a >> 16 & 255, a >> 8 & 255, a & 255) for a in range(1, 100001)]
rules = ''.join('  - allow: %d/tcp\n    from: big\n' % (1024 + i) for i in range(10))
for name, extra in (('one', []), ('two', ['10.250.0.1'])):
    open(sys.argv[1] + '/' + name + '.txt', 'w').write('\n'.join(hosts + extra) + '\n')
    open(sys.argv[1] + '/' + name + '.yaml', 'w').write(
        'version: 1\npolicy: cost\ndefaults:\n  icmp: none\n  loopback: none\n'
        'networks:\n  big: {file: ' + name + '.txt}\nrules:\n' + rules)
" "$tmp"
unshare -n sh -c '
ip link set lo up
cd "$tmp"
"$bin" apply one.yaml >/dev/null 2>&1 || echo "apply failed"
python3 - "$bin" "$spawn" <<"PY"
import os, subprocess, sys
b, spawn = sys.argv[1], sys.argv[2]
def peak(*args):
    out = subprocess.run([spawn, "1", "--", "m", b] + list(args), check=True,
                         stdout=subprocess.PIPE, text=True).stdout.split()
    return int(out[5])
def run(*args):
    pid = os.fork()
    if pid == 0:
        fd = os.open("/dev/null", os.O_WRONLY)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.execv(b, [b] + list(args))
    _, st, ru = os.wait4(pid, 0)
    return os.waitstatus_to_exitcode(st), ru.ru_utime + ru.ru_stime, ru.ru_maxrss
# In turn, so that what else the machine does weighs on both alike.
delta, check = [], []
for i in range(7):
    delta.append(run("apply", ("two.yaml", "one.yaml")[i % 2]))
    check.append(run("check", "one.yaml"))
print("apply rc", sorted(set(r[0] for r in delta)), "check rc", sorted(set(r[0] for r in check)))
dc, cc = min(r[1] for r in delta), min(r[1] for r in check)
# The table holds the addresses of two.yaml: one.yaml, then two.yaml, each a delta.
dm = max(peak("apply", "one.yaml"), peak("apply", "two.yaml"))
cm = max(peak("check", "one.yaml") for _ in range(2))
print("delta CPU within 1.5x check" if dc <= 1.5 * cc else "delta CPU %.1f ms, check %.1f ms" % (dc * 1e3, cc * 1e3))
print("delta RSS within check + 4 MiB" if dm <= cm + 4096 else "delta RSS %d KiB, check %d KiB" % (dm, cm))
PY
' >"$tmp/cost" 2>&1
expect "a one-address delta of 100 000: CPU within 1.5x check's, peak RSS within check's + 4 MiB" \
    'apply rc [0] check rc [0]\ndelta CPU within 1.5x check\ndelta RSS within check + 4 MiB' "$tmp/cost"

finish
