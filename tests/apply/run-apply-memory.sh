#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# apply's peak memory against the floor's (bench/floor.c: the same table,
# set and elements as raw netlink attributes in one batch and one
# sendmsg()), issue 18's target: 200 000 host addresses in a list file
# (`networks: {big: {file: F}}`), each process in a network namespace of
# its own (the host's ruleset is never touched) and, for apply, a state
# directory of its own (a first apply: the whole table, then its record).
# Within 2x the floor's peak RSS: 2.36x when the prefixes (24 bytes an
# address) stayed whole beside the batch and the record was built after
# it, 1.7x now that their pages go back as the batch is written and the
# record is read off the batch.  The same hosts written in the YAML (one
# flow list on one line, 2.6 MB): within 1.9x, 1.93x when the text was held
# whole with the prefixes, 1.45x now that its pages go back as its
# addresses are read, 1.72x to 1.82x against the floor that no longer sets a
# 1 MiB buffer to zero whole, with pages given back in steps of 512 KiB (the
# floor's own peak moves between 4570 and 4800 KiB from run to run, the
# YAML apply's between 8230 and 8350).  The larger of 3 runs each,
# interleaved by
# SPAWN (bench/spawn.c, a small process: one forked from python3 starts
# with python's memory, which Linux counts in the peak of what it runs).
# A ratio, not an amount; registered only in a build without sanitizers and
# run without a wrapper (the kernel suite).
#
# usage: run-apply-memory.sh PORTCULLIS DIR SPAWN FLOOR
. "$(dirname "$0")/../lib.sh"

kernel_peak "$3"
floor=$4
if [ ! -x "$floor" ]; then
    echo "FAIL: no pc-bench-floor given ($floor)"
    exit 1
fi

python3 -c "import sys; sys.path.insert(0, sys.argv[1]); import render; render.write_list_policy(sys.argv[2], 1, 200000)" \
    "$root/bench" "$tmp"
python3 -c "import sys; sys.path.insert(0, sys.argv[1]); import apply; apply.write_policy(sys.argv[2], 200000, 'hosts')" \
    "$root/bench" "$tmp/yaml.yaml"
# The addresses as the floor sends them: one rule of render.write_list_policy
# names them on port 1024, the floor's set holds the same elements.
python3 - "$spawn" "$bin" "$floor" "$tmp/list.yaml" "$tmp/yaml.yaml" >"$tmp/ratio" 2>&1 <<'PY'
import subprocess, sys
spawn, b, floor, pol, yaml = sys.argv[1:6]
fresh = ["/bin/sh", "-c", 'PORTCULLIS_STATE_DIR="$PORTCULLIS_STATE_DIR/$$" "$0" "$@" >/dev/null 2>&1']
quiet = ["/bin/sh", "-c", '"$0" "$@" >/dev/null 2>&1']
out = subprocess.run([spawn, "3", "--", "floor"] + quiet + ["unshare", "-n", floor, "200000", "hosts"] +
                     ["--", "apply"] + fresh + ["unshare", "-n", b, "apply", pol] +
                     ["--", "yaml"] + fresh + ["unshare", "-n", b, "apply", yaml],
                     check=True, stdout=subprocess.PIPE, text=True).stdout
rows = {f[0]: (int(f[5]), int(f[6])) for f in (l.split("\t") for l in out.splitlines())}
print("failures", rows["floor"][1], rows["apply"][1], rows["yaml"][1])
for label, most in (("apply", 2), ("yaml", 1.9)):
    ratio = rows[label][0] / rows["floor"][0]
    print("%s within %gx the floor" % (label, most) if ratio <= most else
          "%s %d KiB, floor %d KiB: %.2fx" % (label, rows[label][0], rows["floor"][0], ratio))
PY
expect "apply of 200 000 hosts: peak RSS within 2x the floor's (list file), 1.9x (YAML)" \
    'failures 0 0 0\napply within 2x the floor\nyaml within 1.9x the floor' "$tmp/ratio"

finish
