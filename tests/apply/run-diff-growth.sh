#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# diff of a table whose set's every element changed: a network of 10 000
# and of 40 000 hosts read from a list file (growth shape `listfile`)
# applied, then diffed against the same policy with every host moved to
# another /8.  CPU of the diff 40k/10k below the growth bound (6): each
# changed element once looked for the rule that uses its set through every
# object of both tables (40 000: 1.9 s of CPU, 15x the 10 000's).  As
# root, each size in a network namespace of its own; else 77.
#
# usage: run-diff-growth.sh PORTCULLIS DIR SPAWN
. "$(dirname "$0")/../lib.sh"

kernel_peak "$3"
for n in 10000 40000; do
    python3 - "$root/tests/growth" "$tmp/p$n.yaml" "$tmp/q$n.yaml" "$n" <<'PY'
import sys
sys.dont_write_bytecode = True
sys.path.insert(0, sys.argv[1])
import shapes
p, q, n = sys.argv[2], sys.argv[3], int(sys.argv[4])
shapes.write(p, "listfile", n)
text = open(p).read().replace(p.rsplit("/", 1)[1] + ".txt", q.rsplit("/", 1)[1] + ".txt")
open(q, "w").write(text)
open(q + ".txt", "w").write(open(p + ".txt").read().replace("10.", "11."))
PY
    mkdir -m 700 "$tmp/state$n"
    PORTCULLIS_STATE_DIR="$tmp/state$n" unshare -n sh -c \
        '"$1" apply "$2" >/dev/null 2>&1 || exit 1
         "$4" 3 -- diff "$1" diff "$3"' sh "$bin" "$tmp/p$n.yaml" "$tmp/q$n.yaml" "$spawn" \
        >"$tmp/cost$n" || { fail "apply of $n hosts"; finish; exit 1; }
done
# label median mean p10 p90 maxrss failures cpu: the diff exits 1 (changes), 3 times
python3 - "$tmp/cost10000" "$tmp/cost40000" >"$tmp/ratio" <<'PY'
import sys
a, b = (open(f).read().split("\t") for f in sys.argv[1:3])
ratio = int(b[7]) / max(int(a[7]), 1000)
print("diff cpu 10000: %.3f s, 40000: %.3f s, ratio %.2f" % (int(a[7]) / 1e6, int(b[7]) / 1e6, ratio))
print("ok" if ratio < 6 and a[6].strip() == "3" and b[6].strip() == "3" else "FAIL")
PY
cat "$tmp/ratio"
if tail -1 "$tmp/ratio" | grep -q '^ok$'; then
    pass "diff of 40 000 changed elements: CPU within the growth bound of 10 000"
else
    fail "diff of 40 000 changed elements: CPU within the growth bound of 10 000"
fi
finish
