#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The review workflow: `render --out-dir` and `--check-up-to-date` with one
# policy and several, files named after each; `--check-up-to-date DIR` against a directory
# of renderings (identical, stale, missing, left over, unreadable, several
# options, a network's list file edited), its diff brought back with `git apply`; and `check --sarif` on a
# file name that needs escaping, checked by tests/cli/sarif-check.py (which
# must refuse a broken log).
. "$(dirname "$0")/../lib.sh"

command -v git >/dev/null 2>&1 || cannot_run "git (git apply)"
command -v python3 >/dev/null 2>&1 || cannot_run "python3"

# run NAME WANT ARGS...: the command from $tmp/w, its output in $tmp/out and $tmp/err.
run() {
    name=$1 want=$2
    shift 2
    # shellcheck disable=SC2086
    (cd "$tmp/w" && timeout 120 ${PC_TEST_WRAPPER:-} "$bin" "$@") >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ "$rc" = "$want" ]; then
        return 0
    fi
    fail "$name: exit status $rc, expected $want"
    sed 's/^/  /' "$tmp/err" | tail -5
    return 1
}

mkdir -p "$tmp/w/policies" "$tmp/w/rendered"
cp "$root/policies/kdc-primary.yaml" "$root/policies/kdc-replica.yaml" "$tmp/w/policies/"
cd "$tmp/w" || exit 1
"$bin" render --target all --out-dir rendered policies/kdc-primary.yaml 2>/dev/null ||
    { fail "render --out-dir"; finish; exit 1; }
snapshot=$(ls rendered)

# Up to date: nothing on standard output, exit 0.
if run identical 0 render --check-up-to-date rendered policies/kdc-primary.yaml; then
    expect identical "" "$tmp/out" "are what the policy renders now" "$tmp/err"
fi
# No file is written, none removed.
[ "$(ls rendered)" = "$snapshot" ] && pass "nothing written" || fail "nothing written"

# Stale: a rule of the policy changed since the files were rendered.
sed 's/^    comment: kadmind, for the administrators only$/    comment: kadmind, for the administrators alone/' policies/kdc-primary.yaml >p.yaml
mv p.yaml policies/kdc-primary.yaml
if run stale 1 render --check-up-to-date rendered policies/kdc-primary.yaml; then
    if grep -q '^rendered/kdc-primary\.nft is not what policies/kdc-primary.yaml renders now' "$tmp/out" ||
        grep -q '^rendered/portcullis\.nft is not what policies/kdc-primary.yaml renders now' "$tmp/out"; then
        pass "stale: says which file"
    else
        fail "stale: says which file"; head -5 "$tmp/out"
    fi
    if grep -q '^--- a/rendered/' "$tmp/out" && grep -q '^+++ b/rendered/' "$tmp/out" &&
        grep -q '^@@ -[0-9]*,[0-9]* +[0-9]*,[0-9]* @@$' "$tmp/out"; then
        pass "stale: unified diff with a/ and b/"
    else
        fail "stale: unified diff with a/ and b/"; head -5 "$tmp/out"
    fi
    if grep -q "is not up to date: 5 of 5 files differ" "$tmp/err" &&
        grep -q "^  portcullis render --target all --out-dir rendered policies/kdc-primary.yaml$" "$tmp/err"; then
        pass "stale: the summary and the command that regenerates"
    else
        fail "stale: the summary and the command that regenerates"; cat "$tmp/err"
    fi
    # The diff is a patch: applied, the directory is up to date.
    cp "$tmp/out" "$tmp/stale.patch"
    if git apply "$tmp/stale.patch" && run applied 0 render --check-up-to-date rendered policies/kdc-primary.yaml; then
        pass "git apply of the diff brings the directory up to date"
    else
        fail "git apply of the diff brings the directory up to date"
    fi
fi

# Missing: one file removed; the rest are fine.
victim=$(ls rendered | grep '\.pf$')
rm "rendered/$victim"
if run missing 1 render --check-up-to-date rendered policies/kdc-primary.yaml; then
    expect missing "" /dev/null "1 is missing" "$tmp/err"
    grep -q "^rendered/$victim is missing: policies/kdc-primary.yaml renders it:$" "$tmp/out" &&
        grep -q "^--- /dev/null$" "$tmp/out" &&
        pass "missing: names the file" || { fail "missing: names the file"; head -3 "$tmp/out"; }
fi
"$bin" render --target all --out-dir rendered policies/kdc-primary.yaml 2>/dev/null

# Left over: a rendering of this policy under a name render does not write now.
cp "rendered/$victim" rendered/old-name.pf
if run extra 1 render --check-up-to-date rendered policies/kdc-primary.yaml; then
    if grep -q "^rendered/old-name.pf was rendered from policies/kdc-primary.yaml, which no longer writes it (remove it):$" "$tmp/out" &&
        grep -q "^+++ /dev/null$" "$tmp/out" && grep -q "left over" "$tmp/err"; then
        pass "extra: a left-over rendering of the policy"
    else
        fail "extra: a left-over rendering of the policy"; head -3 "$tmp/out"; cat "$tmp/err"
    fi
fi
rm rendered/old-name.pf
# A file of the same suffix that another policy rendered is not this one's business.
"$bin" render --target pf -o rendered/other.pf policies/kdc-replica.yaml 2>/dev/null
echo "a note of my own" >rendered/notes.nft
run others 0 render --check-up-to-date rendered policies/kdc-primary.yaml && pass "others left alone"
rm rendered/other.pf rendered/notes.nft

# --target: only that target's files (both families for iptables).
rm rendered/*.pf
run target-nft 0 render --target nft --check-up-to-date rendered policies/kdc-primary.yaml &&
    expect target-nft "" "$tmp/out" "the 1 file in" "$tmp/err"
run target-iptables 0 render --target iptables --check-up-to-date rendered policies/kdc-primary.yaml &&
    expect target-iptables "" "$tmp/out" "the 2 files in" "$tmp/err"
# Other options are part of the comparison: another --table renders other text.
if run table 1 render --table kdcfw --target nft --check-up-to-date rendered policies/kdc-primary.yaml; then
    grep -q -- "--table kdcfw --out-dir rendered policies/kdc-primary.yaml$" "$tmp/err" &&
        pass "table: the command names --table" || { fail "table: the command names --table"; cat "$tmp/err"; }
fi

# A directory that does not exist: every file is missing.
run no-dir 1 render --check-up-to-date no-such-dir policies/kdc-primary.yaml &&
    expect no-dir "" /dev/null "5 are missing" "$tmp/err"
# A file that cannot be read (a directory in its place): exit 3.
"$bin" render --target all --out-dir rendered policies/kdc-primary.yaml 2>/dev/null
nftfile=$(ls rendered | grep '\.nft$')
rm "rendered/$nftfile" && mkdir "rendered/$nftfile"
run unreadable 3 render --check-up-to-date rendered policies/kdc-primary.yaml &&
    expect unreadable "" /dev/null "cannot read rendered/$nftfile: " "$tmp/err"
rmdir "rendered/$nftfile"
# A symbolic link in DIR is never read (its target's contents would be in the
# diff): said so, counted stale, exit 1; --out-dir then replaces the link.
echo "SECRET-TOKEN-1234" >secret.txt
pffile=$(ls rendered | grep '\.pf$')
rm "rendered/$pffile" && ln -s ../secret.txt "rendered/$pffile"
if run symlink 1 render --target pf --check-up-to-date rendered policies/kdc-primary.yaml; then
    if grep -q SECRET "$tmp/out" "$tmp/err"; then
        fail "symlink: the target's contents are not shown"
    else
        pass "symlink: the target's contents are not shown"
    fi
    expect symlink "rendered/$pffile is not a regular file (a symlink to ../secret.txt): replace it with the rendering" \
        "$tmp/out" "1 of 1 file differs" "$tmp/err"
fi
# A link left over under another name is not read either.
ln -s ../secret.txt rendered/old-link.pf
run symlink-extra 1 render --target pf --check-up-to-date rendered policies/kdc-primary.yaml &&
    ! grep -q SECRET "$tmp/out" && pass "symlink-extra: not read" || fail "symlink-extra: not read"
rm rendered/old-link.pf
if run symlink-replace 0 render --target pf --out-dir rendered policies/kdc-primary.yaml &&
    [ ! -L "rendered/$pffile" ] && [ "$(cat secret.txt)" = SECRET-TOKEN-1234 ]; then
    pass "symlink-replace: --out-dir replaces the link, not its target"
else
    fail "symlink-replace: --out-dir replaces the link, not its target"; ls -l rendered secret.txt
fi
run symlink-fixed 0 render --target pf --check-up-to-date rendered policies/kdc-primary.yaml &&
    pass "symlink-fixed"
# -o FILE through the user's own link writes the file it points to (the link stays).
echo precious >victim.nft
ln -s victim.nft own-link.nft
if run output-link 0 render --target nft -o own-link.nft policies/kdc-primary.yaml &&
    [ -L own-link.nft ] && grep -q "generated by portcullis" victim.nft; then
    pass "output-link: -o follows the user's own link"
else
    fail "output-link: -o follows the user's own link"
fi
# --out-dir makes a missing directory, one level, not its parents.
if run mkdir-out 0 render --target nft --out-dir new-dir policies/kdc-primary.yaml &&
    [ -f new-dir/kdc-primary.nft ]; then
    pass "mkdir-out: the directory is made"
else
    fail "mkdir-out: the directory is made"
fi
run mkdir-parents 3 render --target nft --out-dir no/such/dir policies/kdc-primary.yaml &&
    expect mkdir-parents "" "$tmp/out" "cannot make the directory no/such/dir: No such file or directory (its parent directory does not exist" "$tmp/err" &&
    [ ! -e no ] && pass "mkdir-parents: no parent made"
# Usage: it writes nothing, so no -o or --out-dir with it.
run usage-out-dir 2 render --check-up-to-date rendered --out-dir rendered policies/kdc-primary.yaml &&
    expect usage-out-dir "" "$tmp/out" "compares, it writes nothing" "$tmp/err"
run usage-output 2 render --check-up-to-date rendered -o x.nft policies/kdc-primary.yaml &&
    pass "usage-output"
# A policy with errors: exit 1, nothing compared.
printf 'version: 1\npolicy: bad\nrules:\n  - allow: kerbros\n' >bad.yaml
run bad-policy 1 render --check-up-to-date rendered bad.yaml &&
    expect bad-policy "" "$tmp/out" "unknown service 'kerbros'" "$tmp/err"

# Several policies into one directory, each under its own file name.
mkdir multi
if run several 0 render --target all --out-dir multi policies/kdc-primary.yaml policies/kdc-replica.yaml &&
    [ "$(ls multi | tr '\n' ' ')" = "kdc-primary.ip6tables kdc-primary.iptables kdc-primary.nft kdc-primary.nft.json kdc-primary.pf kdc-replica.ip6tables kdc-replica.iptables kdc-replica.nft kdc-replica.nft.json kdc-replica.pf " ]; then
    pass "several policies: named after each"
else
    fail "several policies: named after each"; ls multi
fi
(cd "$root" && "$bin" render policies/kdc-replica.yaml 2>/dev/null) >"$tmp/replica.nft"
cmp -s multi/kdc-replica.nft "$tmp/replica.nft" && pass "several policies: the same text as one" ||
    fail "several policies: the same text as one"
run several-check 0 render --check-up-to-date multi policies/kdc-primary.yaml policies/kdc-replica.yaml &&
    expect several-check "" "$tmp/out" "the 10 files in multi are what the policies render now" "$tmp/err"
sed 's/^description: .*/description: changed/' policies/kdc-replica.yaml >p.yaml && mv p.yaml policies/kdc-replica.yaml
if run several-stale 1 render --check-up-to-date multi policies/kdc-primary.yaml policies/kdc-replica.yaml; then
    if [ "$(grep -c '^multi/kdc-replica\.' "$tmp/out")" -ge 1 ] && ! grep -q '^multi/kdc-primary\.' "$tmp/out" &&
        grep -q -- "--out-dir multi policies/kdc-primary.yaml policies/kdc-replica.yaml$" "$tmp/err"; then
        pass "several policies: only the stale one's files"
    else
        fail "several policies: only the stale one's files"; grep -v '^[-+ @]' "$tmp/out"; cat "$tmp/err"
    fi
fi
"$bin" render --target all --out-dir multi policies/kdc-replica.yaml 2>/dev/null
# The names of earlier builds (the table's): left over from the policy.
cp multi/kdc-primary.nft multi/portcullis.nft
run old-names 1 render --check-up-to-date multi policies/kdc-primary.yaml policies/kdc-replica.yaml &&
    grep -q "^multi/portcullis.nft was rendered from policies/kdc-primary.yaml, which no longer writes it" "$tmp/out" &&
    pass "old-names: the table-named file is left over" || fail "old-names: the table-named file is left over"
rm multi/portcullis.nft
# Two policies named alike would write the same files: refused, nothing written.
mkdir other dup
cp policies/kdc-replica.yaml other/
run same-name 2 render --target all --out-dir dup policies/kdc-replica.yaml other/kdc-replica.yaml &&
    expect same-name "" "$tmp/out" "'policies/kdc-replica.yaml' and 'other/kdc-replica.yaml' would both write kdc-replica.nft" "$tmp/err" &&
    [ -z "$(ls dup)" ] && pass "same-name: nothing written"
run same-name-check 2 render --check-up-to-date multi policies/kdc-replica.yaml other/kdc-replica.yaml &&
    pass "same-name-check"
# Several policies without a directory: a usage error.
run several-stdout 2 render policies/kdc-primary.yaml policies/kdc-replica.yaml &&
    expect several-stdout "" "$tmp/out" "several with --out-dir" "$tmp/err"
# Standard input: named after the policy's own name.
mkdir stdin
(cd "$tmp/w" && "$bin" render --target nft --out-dir stdin - <policies/kdc-primary.yaml) 2>/dev/null &&
    [ "$(ls stdin)" = kdc-primary.nft ] && pass "stdin: named after the policy" || fail "stdin: named after the policy"

# A network read from a list file: the list's SHA-256 is in every header, so
# a list edited after the rendering makes the renderings stale (the policy
# itself unchanged), and the diff shows the header line and the element.
mkdir -p "$tmp/w/lst/lists" "$tmp/w/lst/out"
cp "$root/examples/kdc-blocklist.yaml" "$tmp/w/lst/"
cp -R "$root/examples/include" "$tmp/w/lst/"
cp "$root/examples/lists/blocklist.txt" "$tmp/w/lst/lists/"
"$bin" render --target all --out-dir lst/out lst/kdc-blocklist.yaml 2>/dev/null || fail "list: render --out-dir"
if run list-identical 0 render --check-up-to-date lst/out lst/kdc-blocklist.yaml; then
    pass "list: up to date"
fi
echo "192.0.2.77" >>"$tmp/w/lst/lists/blocklist.txt"
if run list-stale 1 render --check-up-to-date lst/out lst/kdc-blocklist.yaml; then
    if grep -q '^-# list lst/lists/blocklist.txt sha256 ' "$tmp/out" &&
        grep -q '^+# list lst/lists/blocklist.txt sha256 ' "$tmp/out" && grep -q '192.0.2.77' "$tmp/out"; then
        pass "list: an edited list makes the renderings stale"
    else
        fail "list: an edited list makes the renderings stale"; head -20 "$tmp/out"
    fi
fi

# check --sarif and --json on a file whose name holds a tab, a quote and a
# backslash: valid JSON, and a URI with them percent-encoded.
weird=$(printf 'we\tird"\\x.yaml')
cp "$root/tests/cli/report-escape.yaml" "$weird"
if run sarif-name 1 check --sarif "$weird" policies/kdc-replica.yaml; then
    cp "$tmp/out" "$tmp/weird.sarif"
    if python3 "$dir/sarif-check.py" "$tmp/weird.sarif" &&
        grep -q '"uri": "we%09ird%22%5Cx.yaml"' "$tmp/weird.sarif"; then
        pass "sarif: a file name that needs escaping"
    else
        fail "sarif: a file name that needs escaping"
    fi
fi
if run json-name 1 check --json "$weird"; then
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["policies"][0]["file"] == sys.argv[2], d' \
        "$tmp/out" "$weird" && pass "json: a file name that needs escaping" ||
        fail "json: a file name that needs escaping"
fi
# The structural check refuses what is not SARIF (so its passing means something).
python3 - "$tmp/weird.sarif" "$tmp/broken" <<'PY'
import json, sys
log = json.load(open(sys.argv[1]))
cases = {
    "version": lambda l: l.update(version="2.0"),
    "level": lambda l: l["runs"][0]["results"][0].update(level="fatal"),
    "uri": lambda l: l["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"].update(uri="a b"),
    "ruleIndex": lambda l: l["runs"][0]["results"][0].update(ruleIndex=99),
    "startLine": lambda l: l["runs"][0]["results"][0]["locations"][0]["physicalLocation"].update(region={"startLine": 0}),
    "unknown-key": lambda l: l["runs"][0].update(result=[]),
}
for name, spoil in cases.items():
    broken = json.loads(json.dumps(log))
    spoil(broken)
    with open("%s-%s" % (sys.argv[2], name), "w") as f:
        json.dump(broken, f)
PY
for f in "$tmp"/broken-*; do
    if python3 "$dir/sarif-check.py" "$f" >/dev/null; then
        fail "sarif-check refuses ${f##*/}"
    else
        pass "sarif-check refuses ${f##*/}"
    fi
done

finish
