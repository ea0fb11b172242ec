#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `portcullis status`, and the warnings of apply and check --kernel about the
# other tables that filter the same packets, as root, each case in a network
# namespace of its own (unshare -n): the host's ruleset is never touched.
# - status lists every table portcullis manages (two: --table a, --table b)
#   with its policy, the SHA-256 render prints, when, the file's path, the
#   counts apply reported, and whether the file still matches (changed,
#   removed); --table narrows it; --json (checked with python3).
# - A foreign `policy drop` base chain on input, a chain that jumps to a
#   reject, a verdict map and a drop rule are listed as able to drop what
#   portcullis accepts; a prerouting chain is not listed.  A table loaded
#   from the rendering is managed, and records no hash, time or path.
# - apply warns (exit 0 still) when another managed table is active, and when
#   another table's base chain can drop what the policy accepts; check
#   --kernel says the same.
# - Without CAP_NET_ADMIN: exit 3; usage errors: exit 2.
# - Tables made and removed meanwhile: status reads again and succeeds.
# - A table replaced while status reads it: counted whole, one table or
#   the other (the generation checked), or exit 3 saying so.
# - Other programs' names with control bytes (weird-names.py): escaped in
#   the text, exact in the JSON.
# - A policy with an include: the SHA-256 apply records covers both files
#   (of their SHA-256s, in order), and editing or removing the include alone
#   makes status say the policy changed.
. "$(dirname "$0")/../lib.sh"
w=${PC_TEST_WRAPPER:-}

if [ "$(id -u)" != 0 ] || ! command -v nft >/dev/null 2>&1 || ! unshare -n true 2>/dev/null; then
    cannot_run "root, nft and network namespaces"
fi
export bin w tmp root
unset SSH_CONNECTION
# What apply records of the table it installed goes here, not to /run.
export PORTCULLIS_STATE_DIR="$tmp/state"
mkdir -m 700 "$PORTCULLIS_STATE_DIR"

# check NAME: passes when the namespace script's output ($tmp/out) is exactly "ok".
check() {
    if [ "$(cat "$tmp/out")" = ok ]; then
        pass "$1"
    else
        fail "$1"
        cat "$tmp/out"
    fi
}

# 1. Nothing managed, nothing else.
unshare -n sh -c '$w "$bin" status >"$tmp/s" 2>&1; echo "rc $?"; cat "$tmp/s"' >"$tmp/out" 2>&1
if [ "$(cat "$tmp/out")" = "$(printf 'rc 0\nno table managed by portcullis\nno other table has base chains on the same hooks')" ]; then
    pass "status with nothing loaded"
else
    fail "status with nothing loaded"
    cat "$tmp/out"
fi

# 2. Two managed tables and a foreign policy-drop chain; the JSON checked.
cp "$root/policies/kdc-primary.yaml" "$tmp/a.yaml"
cp "$root/policies/kdc-replica.yaml" "$tmp/b.yaml"
unshare -n sh -e -c '
cd "$tmp"
$w "$bin" apply --table a a.yaml >a.out 2>a.err
$w "$bin" apply --table b b.yaml >b.out 2>b.err
nft -f - <<NFT
table inet filter {
	chain input {
		type filter hook input priority 0; policy drop;
	}
}
table ip keep {
	chain c {
		type filter hook input priority 10; policy accept;
		tcp dport 9 jump sub
	}
	chain sub {
		reject
	}
	chain o {
		type filter hook output priority -5; policy accept;
	}
}
table ip6 six {
	chain f {
		type filter hook forward priority -10; policy accept;
		meta l4proto vmap { tcp : drop }
	}
	chain pre {
		type filter hook prerouting priority 0; policy drop;
	}
	chain out {
		type filter hook output priority 20; policy accept;
		udp dport 53 drop
	}
}
NFT
(cd "$root" && "$bin" render --table c policies/kdc-primary.yaml) | nft -f -
$w "$bin" status >text
$w "$bin" status --json >json
$w "$bin" status --table b >only-b
$w "$bin" apply --table b b.yaml >/dev/null 2>b2.err
$w "$bin" check --kernel --table b b.yaml >/dev/null 2>check.err
echo "# changed" >>a.yaml
rm b.yaml
$w "$bin" status >after
set +e
$w "$bin" status --table zz >/dev/null 2>zz.err; echo "zz rc $?" >rcs
$w "$bin" status extra >/dev/null 2>&1; echo "arg rc $?" >>rcs
$w "$bin" status --table "a b" >/dev/null 2>&1; echo "name rc $?" >>rcs
if command -v setpriv >/dev/null 2>&1; then
	setpriv --reuid=65534 --regid=65534 --clear-groups $w "$bin" status >/dev/null 2>eperm.err
	echo "eperm rc $?" >>rcs
fi
' >"$tmp/ns.out" 2>&1 || { fail "status: the namespace script"; cat "$tmp/ns.out"; }

sha_a=$(cd "$root" && "$bin" render policies/kdc-primary.yaml 2>/dev/null | sed -n 's/^# policy .* sha256 \([0-9a-f]*\)$/\1/p' | head -1)
python3 - "$tmp" "$sha_a" >"$tmp/out" 2>&1 <<'PY'
import json, re, sys
tmp, sha_a = sys.argv[1], sys.argv[2]
problems = []
def want(cond, what):
    if not cond:
        problems.append(what)
text = open(f"{tmp}/text").read()
doc = json.load(open(f"{tmp}/json"))
def counts(out):
    m = re.search(r": (\d+) chains, (\d+) rules, (\d+) sets and maps, (\d+) elements", out)
    return [int(x) for x in m.groups()]
managed = {t["table"]: t for t in doc["managed"]}
want(sorted(managed) == ["a", "b", "c"], f"managed tables {sorted(managed)}")
c = managed.get("c", {})
want(c.get("policy") == "kdc-primary" and c.get("sha256") is None and c.get("file") == "unknown"
     and c.get("rules") == managed.get("a", {}).get("rules"), f"c, loaded from the rendering: {c}")
want("table inet c: policy kdc-primary; it records no hash, time or path" in open(f"{tmp}/text").read(),
     "text: c records nothing")
six = [o for o in doc["others"] if o["table"] == "six"]
want([(o["chain"], o["hook"], o["priority"], o["why"]) for o in six] ==
     [("f", "forward", -10, ["verdict-map"]), ("out", "output", 20, ["drop"])], f"ip6 six: {six}")
for name, pol in (("a", "kdc-primary"), ("b", "kdc-replica")):
    t = managed.get(name, {})
    want(t.get("family") == "inet" and t.get("policy") == pol, f"{name}: policy {t.get('policy')}")
    want(t.get("path") == f"{tmp}/{name}.yaml", f"{name}: path {t.get('path')}")
    want(t.get("file") == "matches" and t.get("file_sha256") == t.get("sha256"), f"{name}: file {t.get('file')}")
    want([t.get(k) for k in ("chains", "rules", "sets", "elements")] == counts(open(f"{tmp}/{name}.out").read()),
         f"{name}: counts differ from apply's report")
    want(isinstance(t.get("applied"), int) and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", t.get("applied_utc", "")),
         f"{name}: applied {t.get('applied')} {t.get('applied_utc')}")
want(managed.get("a", {}).get("sha256") == sha_a, "a: sha256 is not the one render prints")
others = {(o["family"], o["table"], o["chain"]): o for o in doc["others"]}
want(sorted(others) == [("inet", "filter", "input"), ("ip", "keep", "c"), ("ip", "keep", "o"),
                        ("ip6", "six", "f"), ("ip6", "six", "out")], f"others {sorted(others)}")
f = others.get(("inet", "filter", "input"), {})
want(f.get("hook") == "input" and f.get("priority") == 0 and f.get("policy") == "drop" and f.get("can_drop") is True
     and f.get("why") == ["policy"], f"inet filter input: {f}")
c = others.get(("ip", "keep", "c"), {})
want(c.get("can_drop") is True and c.get("why") == ["reject"] and c.get("priority") == 10, f"ip keep c: {c}")
o = others.get(("ip", "keep", "o"), {})
want(o.get("can_drop") is False and o.get("priority") == -5 and o.get("hook") == "output", f"ip keep o: {o}")
# The text says the same.
want(f"table inet a: policy kdc-primary, applied " in text, "text: table a")
want(f"  sha256 {sha_a}\n  from {tmp}/a.yaml, which still matches\n" in text, "text: a matches")
want("table inet b: policy kdc-replica" in text, "text: table b")
want("3 tables managed by portcullis filter the same hooks" in text, "text: three managed tables")
want("  table inet filter, chain input: filter hook input, priority 0, policy drop: can drop what portcullis accepts (its policy is drop)\n" in text,
     "text: the foreign drop chain")
want("  table ip keep, chain c: filter hook input, priority 10, policy accept: can drop what portcullis accepts (a rule rejects)\n" in text,
     "text: the jump to a reject")
want("  table ip keep, chain o: filter hook output, priority -5, policy accept\n" in text, "text: the harmless chain")
only = open(f"{tmp}/only-b").read()
want("table inet b:" in only and "table inet a:" not in only, "--table b")
after = open(f"{tmp}/after").read()
want(re.search(rf"  from {re.escape(tmp)}/a.yaml, which has changed since \(sha256 now [0-9a-f]{{64}}\)\n", after), "a changed")
want(f"  from {tmp}/b.yaml, which cannot be read now (No such file or directory)\n" in after, "b removed")
rcs = open(f"{tmp}/rcs").read().split("\n")
want("zz rc 1" in rcs and "arg rc 2" in rcs and "name rc 2" in rcs, f"statuses {rcs}")
want(not any(r.startswith("eperm") for r in rcs) or "eperm rc 3" in rcs, f"without CAP_NET_ADMIN: {rcs}")
if any(r.startswith("eperm") for r in rcs):
    want("status needs CAP_NET_ADMIN" in open(f"{tmp}/eperm.err").read(), "eperm message")
want("no table inet zz managed by portcullis" in open(f"{tmp}/zz.err").read(), "zz message")
# apply and check --kernel warn, and still succeed.
for name in ("b2.err", "check.err"):
    err = open(f"{tmp}/{name}").read()
    cmd = "apply" if name == "b2.err" else "check"
    want(f"portcullis {cmd}: warning: table inet a, also managed by portcullis (policy kdc-primary), filters the same hooks" in err,
         f"{cmd}: the other managed table: {err}")
    want(f"portcullis {cmd}: warning: table inet filter, chain input (hook input, priority 0) can drop what this policy accepts (its policy is drop)" in err,
         f"{cmd}: the foreign drop chain: {err}")
    want("table ip keep, chain c (hook input, priority 10) can drop" in err, f"{cmd}: the jump to a reject")
    want("chain o " not in err, f"{cmd}: a chain that cannot drop is named: {err}")
    want("table inet c, also managed by portcullis" in err, f"{cmd}: the table loaded from the rendering")
    want("table ip6 six, chain f (hook forward, priority -10) can drop what this policy accepts (a verdict map may drop)" in err
         and "table ip6 six, chain out (hook output, priority 20) can drop what this policy accepts (a rule drops)" in err,
         f"{cmd}: the ip6 chains: {err}")
b1 = open(f"{tmp}/b.err").read()
want("table inet a, also managed by portcullis" in b1 and "inet filter" not in b1, f"first apply of b: {b1}")
want(open(f"{tmp}/a.err").read() == "", "the first apply warns of nothing")
print("\n".join(problems) if problems else "ok")
PY
check "status: two managed tables, foreign chains, --json, drift; apply and check --kernel warn"

# 3. Tables made and removed while status reads: it reads again, and succeeds.
unshare -n sh -c '
i=0
while [ $i -lt 400 ]; do
	nft -f - <<NFT
table ip churn$i {
	chain c {
		type filter hook input priority 5; policy accept;
		drop
	}
}
NFT
	nft delete table ip churn$i
	i=$((i + 1))
done &
churn=$!
n=0 bad=0
while [ $n -lt 40 ]; do
	$w "$bin" status >/dev/null 2>"$tmp/churn.err" || { bad=$((bad + 1)); cat "$tmp/churn.err"; }
	n=$((n + 1))
done
kill $churn 2>/dev/null
wait
[ $bad = 0 ] && echo ok
' >"$tmp/out" 2>&1
check "status while another program adds and removes tables"

# 4. Names and comments with control bytes (another program's): escaped in
#    the text, exact in the JSON.
unshare -n sh -e -c '
nft add table ip f
python3 "$root/tests/apply/weird-names.py"
$w "$bin" status >"$tmp/w.text" 2>&1
$w "$bin" status --json >"$tmp/w.json" 2>&1
$w "$bin" apply "$root/policies/kdc-primary.yaml" >/dev/null 2>"$tmp/w.err"
' >"$tmp/w.out" 2>&1 || { fail "names with control bytes: the namespace script"; cat "$tmp/w.out"; }
python3 - "$tmp" >"$tmp/out" 2>&1 <<'PY'
import json, sys
tmp = sys.argv[1]
text, err = open(tmp + "/w.text").read(), open(tmp + "/w.err").read()
d = json.load(open(tmp + "/w.json"))
ok = (r"table inet t\nx: policy a\x1b[31mb;" in text and r"chain c\nd: filter hook input" in text
      and r"table ip f, chain c\nd (hook input" in err and r"table inet t\nx, also managed" in err
      and "\x1b" not in text + err and text.count("\n") == 4 and err.count("\n") == 2
      and d["managed"][0]["table"] == "t\nx" and d["managed"][0]["policy"] == "a\x1b[31mb"
      and d["others"][0]["chain"] == "c\nd")
print("ok" if ok else text + err + json.dumps(d))
PY
check "names with control bytes: escaped in the text, exact in the JSON"

# 5. A policy with an include: what apply records covers the include, and
#    status sees the include change.
mkdir "$tmp/inc"
printf 'version: 1\npolicy: inc\ninclude: nets.yaml\nrules:\n  - allow: 88/tcp\n    from: lan\n' >"$tmp/inc/main.yaml"
printf 'networks:\n  lan: [10.1.0.0/16]\n' >"$tmp/inc/nets.yaml"
unshare -n sh -e -c '
cd "$tmp/inc"
$w "$bin" apply main.yaml >/dev/null 2>&1
$w "$bin" status --json >s1.json
echo "# edited" >>nets.yaml
$w "$bin" status >s2.text
$w "$bin" status --json >s2.json
rm nets.yaml
$w "$bin" status --json >s3.json
' >"$tmp/inc.out" 2>&1 || { fail "a policy with an include: the namespace script"; cat "$tmp/inc.out"; }
python3 - "$tmp/inc" >"$tmp/out" 2>&1 <<'PY'
import hashlib, json, sys
d = sys.argv[1]
def sha(b): return hashlib.sha256(b).hexdigest()
main = open(d + "/main.yaml", "rb").read()
nets = b"networks:\n  lan: [10.1.0.0/16]\n"
want = sha((sha(main) + "\n" + sha(nets) + "\n").encode())
edited = sha((sha(main) + "\n" + sha(nets + b"# edited\n") + "\n").encode())
t1, t2, t3 = (json.load(open("%s/s%d.json" % (d, i)))["managed"][0] for i in (1, 2, 3))
text = open(d + "/s2.text").read()
problems = []
if t1["sha256"] != want or t1["file"] != "matches" or t1["file_sha256"] != want:
    problems.append("applied: %s" % t1)
if t2["file"] != "changed" or t2["file_sha256"] != edited or t2["sha256"] != want:
    problems.append("include edited: %s" % t2)
if "which has changed since (sha256 now %s)" % edited not in text:
    problems.append("text: " + text)
if t3["file"] != "changed":
    problems.append("include removed: %s" % t3)
print("\n".join(problems) if problems else "ok")
PY
check "a policy with an include: apply records both files, status sees the include edited or gone"

# 5b. A network from a list file: what apply records covers the list after
#     the policy's files, and status sees the list change or go.
mkdir "$tmp/lst"
printf 'version: 1\npolicy: lst\nnetworks:\n  bad: {file: bad.txt}\nrules:\n  - reject: 88/tcp\n    from: bad\n' >"$tmp/lst/main.yaml"
printf '192.0.2.7\n' >"$tmp/lst/bad.txt"
unshare -n sh -e -c '
cd "$tmp/lst"
$w "$bin" apply main.yaml >/dev/null 2>&1
$w "$bin" status --json >s1.json
echo "192.0.2.8 # edited" >>bad.txt
$w "$bin" status --json >s2.json
rm bad.txt
$w "$bin" status --json >s3.json
' >"$tmp/lst.out" 2>&1 || { fail "a policy with a list file: the namespace script"; cat "$tmp/lst.out"; }
python3 - "$tmp/lst" >"$tmp/out" 2>&1 <<'PY'
import hashlib, json, sys
d = sys.argv[1]
def sha(b): return hashlib.sha256(b).hexdigest()
main = open(d + "/main.yaml", "rb").read()
bad = b"192.0.2.7\n"
want = sha((sha(main) + "\n" + sha(bad) + "\n").encode())
edited = sha((sha(main) + "\n" + sha(bad + b"192.0.2.8 # edited\n") + "\n").encode())
t1, t2, t3 = (json.load(open("%s/s%d.json" % (d, i)))["managed"][0] for i in (1, 2, 3))
problems = []
if t1["sha256"] != want or t1["file"] != "matches":
    problems.append("applied: %s" % t1)
if t2["file"] != "changed" or t2["file_sha256"] != edited:
    problems.append("list edited: %s" % t2)
if t3["file"] != "changed":
    problems.append("list removed: %s" % t3)
print("\n".join(problems) if problems else "ok")
PY
check "a policy with a list file: apply records it, status sees the list edited or gone"

# 5. Status while another process replaces a table of 50 000 addresses with
#    one of 50 001 (and back): every status that succeeds counts the elements
#    of one table or the other, never part of each; one that cannot get a
#    consistent read says so, exit 3.
mkdir "$tmp/race"
for n in 50000 50001; do
    awk -v n=$n 'BEGIN {
        print "version: 1\npolicy: big\nnetworks:\n  many:"
        for (i = 0; i < n; i++) {
            a = 2 * i
            printf "    - 10.%d.%d.%d\n", int(a / 65536), int(a / 256) % 256, a % 256
        }
        print "defaults: {input: drop}\nrules:\n  - allow: 88/tcp\n    from: many"
    }' >"$tmp/race/big$n.yaml"
done
unshare -n sh -c '
cd "$tmp/race"
"$bin" apply big50001.yaml >/dev/null 2>&1
"$bin" status | sed -n "s/.* \([0-9]*\) elements$/\1/p" >want
"$bin" apply big50000.yaml >/dev/null 2>&1
"$bin" status | sed -n "s/.* \([0-9]*\) elements$/\1/p" >>want
( i=0; while [ $i -lt 6 ] && [ ! -e stop ]; do "$bin" apply big50001.yaml >/dev/null 2>&1; sleep 1
    "$bin" apply big50000.yaml >/dev/null 2>&1; sleep 1; i=$((i + 1)); done ) &
writer=$!
n=0 torn=0 failed=0 good=0
while [ $n -lt 12 ] && kill -0 $writer 2>/dev/null; do
    $w "$bin" status >out 2>err; rc=$?
    count=$(sed -n "s/.* \([0-9]*\) elements$/\1/p" out)
    if [ $rc = 0 ]; then
        if grep -qx "$count" want; then good=$((good + 1)); else torn=$((torn + 1)); echo "torn: $count"; fi
    elif [ $rc != 3 ] || ! grep -q "changed it during each of 9 reads" err; then
        failed=$((failed + 1)); cat err
    fi
    n=$((n + 1))
done
touch stop
wait $writer
[ $torn = 0 ] && [ $failed = 0 ] && [ $good -gt 0 ] && [ "$(wc -l <want)" = 2 ] && echo ok || { echo "good $good"; cat want; }
' >"$tmp/out" 2>&1
check "status while the table is replaced: the counts of one table or the other"

# A table made dormant by hand filters nothing: status says so (text and
# JSON), and show prints its flags as nft writes them.
unshare -n sh -e -c '
cd "$tmp"
$w "$bin" apply a.yaml >/dev/null 2>&1
nft add table inet portcullis "{ flags dormant; }"
$w "$bin" status >st.out 2>&1
$w "$bin" status --json >st.json 2>&1
$w "$bin" show >show.out 2>&1
grep -q "^  dormant: its base chains are unhooked and it filters nothing (flags dormant, which portcullis never sets); .portcullis apply. replaces the table$" st.out
python3 -c "import json,sys; t=json.load(open(\"st.json\"))[\"managed\"][0]; sys.exit(0 if t[\"dormant\"] is True else 1)"
grep -q "^table inet portcullis { flags dormant; }" show.out
$w "$bin" apply a.yaml >/dev/null 2>&1
$w "$bin" status --json >st.json 2>&1
python3 -c "import json,sys; t=json.load(open(\"st.json\"))[\"managed\"][0]; sys.exit(0 if t[\"dormant\"] is False else 1)"
echo ok
' >"$tmp/out" 2>&1
check "a dormant table: said by status, shown as nft writes it, and apply replaces it"

finish
