#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# examples/review/review.sh and its pre-commit hook, run on a throwaway git
# repository of policies with a few commits: a harmless change, one that
# opens kerberos-adm (749) to the world, a stale rendering, a new policy; and
# the options the GitHub Actions and GitLab CI files pass exist.
# usage: run-review.sh PORTCULLIS DIR
. "$(dirname "$0")/../lib.sh"
command -v git >/dev/null 2>&1 || cannot_run git

review=$root/examples/review/review.sh
# The program under test, by the name the scripts run it by.
mkdir "$tmp/bin"
ln -s "$bin" "$tmp/bin/portcullis"
PATH=$tmp/bin:$PATH
export PATH
# git as on a fresh account: no configuration but this.
export HOME="$tmp/home" GIT_CONFIG_NOSYSTEM=1
mkdir "$HOME"
git config --global user.name 'Policy Author'
git config --global user.email 'author@example.org'
git config --global init.defaultBranch main

repo=$tmp/repo
mkdir -p "$repo/policies"
cd "$repo" || exit 1
git init -q .
cp "$root/policies/kdc-primary.yaml" "$root/policies/kdc-replica.yaml" policies/
mkdir rendered
portcullis render --target all --out-dir rendered policies/kdc-primary.yaml policies/kdc-replica.yaml \
    2>"$tmp/err" || { cat "$tmp/err"; exit 1; }
git add -A && git commit -q -m 'the policies and their renderings'
git checkout -q -b change

# review [ARGS...]: runs review.sh, standard output and error into $tmp/out,
# the comment into $tmp/comment; sets rc.
review() {
    rm -f "$tmp/comment"
    sh "$review" --comment "$tmp/comment" "$@" >"$tmp/out" 2>&1
    rc=$?
}
# has NAME PATTERN FILE...: passes when each FILE has a line matching PATTERN.
has() {
    name=$1 pattern=$2
    shift 2
    for f in "$@"; do
        if ! grep -q -- "$pattern" "$f"; then
            fail "$name: no line matching '$pattern' in $(basename "$f")"
            cat "$f"
            return
        fi
    done
    pass "$name"
}
status() {
    if [ "$rc" = "$2" ]; then pass "$1: exit $2"; else fail "$1: exit $rc, not $2"; cat "$tmp/out"; fi
}

# 1. No change at all.
review --base main
status unchanged 0
has 'unchanged: no change in verdicts' 'no change in verdicts' "$tmp/out" "$tmp/comment"
has 'unchanged: renderings up to date' 'up to date' "$tmp/comment"

# 2. A harmless change: a YAML comment and a rule split in two.
sed -i 's/^  - allow: \[kerberos, kpasswd\]$/  - allow: kerberos/' policies/kdc-primary.yaml
cat >>policies/kdc-primary.yaml <<'YAML'
  - allow: kpasswd              # split from the kerberos rule: same verdicts
    from: anywhere
YAML
portcullis render --target all --out-dir rendered policies/kdc-primary.yaml 2>/dev/null
git commit -q -am 'split the client rule in two'
review --base main
status harmless 0
has 'harmless: check passed' 'check --strict:\*\* passed' "$tmp/comment"
has 'harmless: no change in verdicts' 'no change in verdicts' "$tmp/comment"
grep -q 'review: passed, 0 of 2 policies change verdicts' "$tmp/out" && pass 'harmless: summary' ||
    { fail 'harmless: summary'; cat "$tmp/out"; }

# 3. kerberos-adm opened to the world (renderings regenerated, so only the
#    check fails): exit 1, the error, and the verdict change for 749.
git checkout -q -b open main
sed -i '/allow: kerberos-adm/,/from:/ s/from: admins/from: anywhere/' policies/kdc-primary.yaml
portcullis render --target all --out-dir rendered policies/kdc-primary.yaml policies/kdc-replica.yaml 2>/dev/null
git commit -q -am 'kadmin for everyone'
review --base main
status 'open 749' 1
has 'open 749: check error' "kerberos-adm' is open to anywhere.*open-to-anywhere" "$tmp/out" "$tmp/comment"
has 'open 749: the change in verdicts' 'input tcp 749.*drop -> accept' "$tmp/out" "$tmp/comment"
has 'open 749: the comment says verdicts change' 'kdc-primary.yaml`: \*\*verdicts change' "$tmp/comment"

# 4. A stale rendering: a replica added to the primary's admins, committed
#    without rendering again; then rendered: passes, and --fail-on-change
#    makes the change itself a failure.
git checkout -q -b stale main
sed -i 's|^  admins: \[198.51.100.0/24\]$|  admins: [198.51.100.0/24, 203.0.113.80]|' policies/kdc-primary.yaml
git commit -q -am 'one more administrator'
review --base main
status stale 1
has 'stale: the rendering is named' 'kdc-primary.nft' "$tmp/out"
has 'stale: the comment says stale' 'are stale' "$tmp/comment"
has 'stale: the new admin in the verdicts' '203.0.113.80' "$tmp/out"
portcullis render --target all --out-dir rendered policies/kdc-primary.yaml policies/kdc-replica.yaml 2>/dev/null
git commit -q -am 'rendered again'
review --base main
status 'rendered again' 0
has 'rendered again: 1 change' 'review: passed, 1 of 2 policies change verdicts' "$tmp/out"
review --base main --fail-on-change
status 'fail on change' 1

# 5. A policy the base does not have.
cp "$root/policies/heimdal-kdc.yaml" policies/
portcullis render --target all --out-dir rendered policies/heimdal-kdc.yaml 2>/dev/null
review --base main policies/heimdal-kdc.yaml
status 'new policy' 0
has 'new policy: said so' 'heimdal-kdc.yaml`: a new policy, not in `main`' "$tmp/comment"
rm policies/heimdal-kdc.yaml rendered/heimdal-kdc.*

# 6. The pre-commit hook refuses a commit with a stale rendering; the
#    same commit with --no-verify goes through.
cp "$root/examples/review/pre-commit" "$root/examples/review/review.sh" .git/hooks/
git checkout -q main
sed -i 's/  input: drop/  input: reject/' policies/kdc-primary.yaml
git add policies/kdc-primary.yaml
if git commit -q -m 'reject rather than drop' >"$tmp/out" 2>&1; then
    fail 'hook: a stale rendering was committed'
else
    has 'hook: refused' 'are stale\|FAILED' "$tmp/out"
fi
git commit -q --no-verify -m 'reject rather than drop' >"$tmp/out" 2>&1 && pass 'hook: --no-verify' ||
    { fail 'hook: --no-verify'; cat "$tmp/out"; }
# A commit that touches no policy does not run it.
echo notes >README
git add README
git commit -q -m 'a readme' >"$tmp/out" 2>&1 && [ ! -s "$tmp/out" ] && pass 'hook: other files pass' ||
    { fail 'hook: other files pass'; cat "$tmp/out"; }

# 7. Names git quotes (not ASCII) and names that are Markdown: compared all
#    the same, and the comment keeps them inline.
git checkout -q main
cafe=$(printf 'policies/kdc-caf\303\251.yaml')
cp policies/kdc-replica.yaml "$cafe"
tick='policies/a`b.yaml'
cp policies/kdc-replica.yaml "$tick"
git add policies && git commit -q --no-verify -m 'two more replicas'
git checkout -q -b names
for f in "$cafe" "$tick"; do
    sed -i 's|^  primary: \[192.0.2.10, "2001:db8:10::10"\]$|  primary: [192.0.2.10, 192.0.2.99, "2001:db8:10::10"]|' "$f"
done
git commit -q --no-verify -am 'a second primary'
review --base main "$cafe" "$tick"
has 'quoted name: compared' 'review: .*2 of 2 policies change verdicts' "$tmp/out"
if grep -q 'a new policy' "$tmp/comment"; then fail 'quoted name: taken for a new policy'; cat "$tmp/comment"; else pass 'quoted name: not a new policy'; fi
has 'backquote: inline and closed' "^\`policies/a'b.yaml\`: \*\*verdicts change" "$tmp/comment"

# 8. The hook runs for an include outside policies/ and for a deleted
#    rendering.
git checkout -q main
mkdir -p shared
printf 'networks:\n  extra: [203.0.113.0/24]\n' >shared/nets.yaml
git add shared && git commit -q --no-verify -m 'a shared file'
echo '# changed' >>shared/nets.yaml
git add shared/nets.yaml
git commit -q -m 'shared file changed' >"$tmp/out" 2>&1
has 'hook: runs for any YAML file' '== portcullis check --strict' "$tmp/out"
git rm -q rendered/kdc-replica.nft
if git commit -q -m 'a rendering deleted' >"$tmp/out" 2>&1; then
    fail 'hook: a deleted rendering was committed'
else
    has 'hook: a deleted rendering refused' 'are stale\|FAILED' "$tmp/out"
fi
git reset -q --hard

# 9. Usage and environment.
sh "$review" --bogus >"$tmp/out" 2>&1
rc=$?
status 'bad option' 2
sh "$review" --help >"$tmp/out" 2>&1
rc=$?
status help 0
has 'help: usage' '^usage: review.sh' "$tmp/out"
review --base no-such-branch
status 'unknown base' 2
PORTCULLIS=$tmp/none review --base main
status 'no portcullis' 3
(cd "$tmp" && sh "$review" --base main >"$tmp/out" 2>&1)
rc=$?
status 'not a repository' 3

# 10. The CI files run only options that exist: each `portcullis CMD --opt` and
#    each option given to review.sh there.
for f in "$root/examples/review/github-actions.yml" "$root/examples/review/gitlab-ci.yml"; do
    name=$(basename "$f")
    bad=
    grep -o 'portcullis [a-z]\+ --[a-z-]\+' "$f" | sort -u >"$tmp/uses"
    [ -s "$tmp/uses" ] || bad="no portcullis command"
    while read -r _ cmd opt; do
        portcullis "$cmd" --help 2>&1 | grep -q -- "$opt\b" || bad="$bad portcullis $cmd $opt"
    done <"$tmp/uses"
    grep -o 'review.sh"\? --[a-z-]\+\( [^ ]*\)\? --[a-z-]\+' "$f" | grep -o -- '--[a-z-]\+' | sort -u >"$tmp/opts"
    [ -s "$tmp/opts" ] || bad="$bad no review.sh call"
    while read -r opt; do
        sh "$review" --help | grep -q -- "$opt\b" || bad="$bad review.sh $opt"
    done <"$tmp/opts"
    if [ -z "$bad" ]; then pass "$name: the options exist"; else fail "$name:$bad"; fi
    # The gate is the target branch's review.sh, not the one under review.
    if grep -q 'git show "origin/[^"]*:$REVIEW_SH" >' "$f" && ! grep -q 'sh "$REVIEW_SH"' "$f"; then
        pass "$name: review.sh from the target branch"
    else
        fail "$name: review.sh from the change under review"
    fi
done

finish
