#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# check --listening against real sockets, as root, in a network namespace
# of its own (unshare -n) with a veth pair holding 10.1.0.1 and
# 2001:db8:1::1: listeners.py opens a KDC's sockets (88 and 464 on TCP and
# UDP, 749, 754 on 10.1.0.1; 2121 on every IPv6 address, IPv6 only; 8888 on
# 127.0.0.1; 45000/udp, a client's port of the ephemeral range) and names
# itself krb5kdc.
# - kdc.yaml: allowed-not-listening for 2222/tcp, listening-dropped for 754
#   (the replicas) and 2121, a note for 749 (admins only), nothing of 8888;
#   the process named; --strict fails (1); --Wno-listening-dropped.
# - --json: valid, the sockets in `listening`, the codes in `diagnostics`;
#   --sarif names the new rules.
# - open.yaml: nothing dropped, nothing missing.
# - As another user: the process is not named, and a note says why.
# - --listening with --kernel: 2.
# Pids and inodes vary: they are written as N in the goldens.
. "$(dirname "$0")/../lib.sh"
golden=$dir/golden

in_own_netns "$@"

ip link set lo up
ip link add pcl0 type veth peer name pcl1 || cannot_run "veth interfaces"
ip addr add 10.1.0.1/24 dev pcl0
ip -6 addr add 2001:db8:1::1/64 dev pcl0 nodad
ip link set pcl0 up
ip link set pcl1 up

# start ARGS...: listeners.py ARGS, its pid in $last, once it is ready.
pids=""
n=0
trap 'kill $pids 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
start() {
    n=$((n + 1))
    ready=$tmp/ready$n
    python3 "$dir/listeners.py" "$@" </dev/null >"$ready" 2>&1 &
    last=$!
    pids="$pids $last"
    i=0
    while [ "$(cat "$ready" 2>/dev/null)" != ready ] && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    [ "$(cat "$ready")" = ready ] || { cat "$ready"; echo "FAIL: the listeners did not start"; exit 1; }
}
# stop: ends the listeners start started last.
stop() {
    kill "$last"
    wait "$last" 2>/dev/null
}

start tcp:10.1.0.1:88 udp:10.1.0.1:88 tcp:10.1.0.1:464 udp:10.1.0.1:464 \
    tcp:10.1.0.1:749 tcp:10.1.0.1:754 'tcp:[::]:2121:v6only' tcp:127.0.0.1:8888 udp:0.0.0.0:45000

# Each case checked against its golden, run from this directory, with pids and inodes written as N.
check_dir=$dir
check_sed='s/pid [0-9]+/pid N/g; s/"(pid|inode)": [0-9]+/"\1": N/g'
check kdc 0 check --listening kdc.yaml
check kdc-strict 1 check --listening --strict kdc.yaml
check kdc-wno 0 check --listening --Wno-listening-dropped kdc.yaml
check kdc-json 0 check --listening --json kdc.yaml
check open 0 check --listening open.yaml
check kernel 2 check --listening --kernel kdc.yaml

# The JSON parsed: the sockets and the findings.
(cd "$dir" && "$bin" check --listening --json kdc.yaml) >"$tmp/j" 2>&1
if python3 - "$tmp/j" <<'PY'; then pass "json sockets and codes"; else fail "json sockets and codes"; cat "$tmp/j"; fi
import json, sys
j = json.load(open(sys.argv[1]))
socks = {(s["protocol"], s["address"], s["port"]): s for s in j["listening"]}
assert len(socks) == 9, socks
assert socks[("udp", "0.0.0.0", 45000)]["ephemeral"] is True
assert not any("45000" in d["message"] for d in j["policies"][0]["diagnostics"])
assert socks[("tcp", "127.0.0.1", 8888)]["loopback"] is True
assert socks[("tcp", "10.1.0.1", 754)]["process"] == "krb5kdc"
assert isinstance(socks[("tcp", "10.1.0.1", 754)]["pid"], int)
assert socks[("tcp", "::", 2121)]["v6only"] is True
assert socks[("udp", "10.1.0.1", 88)]["loopback"] is False
codes = sorted(d["code"] for d in j["policies"][0]["diagnostics"])
assert codes.count("listening-dropped") == 2, codes
assert codes.count("allowed-not-listening") == 1, codes
assert codes.count("listening-restricted") == 1, codes
assert j["status"] == 0
PY
(cd "$dir" && "$bin" check --listening --sarif kdc.yaml) >"$tmp/s" 2>&1
if python3 - "$tmp/s" <<'PY'; then pass "sarif"; else fail "sarif"; cat "$tmp/s"; fi
import json, sys
s = json.load(open(sys.argv[1]))
run = s["runs"][0]
ids = {r["id"] for r in run["tool"]["driver"]["rules"]}
assert {"listening-dropped", "allowed-not-listening", "listening-restricted"} <= ids, ids
assert any(r["ruleId"] == "listening-dropped" for r in run["results"])
PY

# Another user reads the sockets (sock_diag needs no privilege) but not the
# descriptors of root's processes.
cp "$dir/kdc.yaml" "$tmp/kdc.yaml"
chmod 755 "$tmp"
setpriv --reuid=65534 --regid=65534 --clear-groups ${PC_TEST_WRAPPER:-} "$bin" check --listening "$tmp/kdc.yaml" >"$tmp/u.out" 2>"$tmp/u.err"
rc=$?
if [ $rc = 0 ] && grep -q 'tcp port 754 on 10.1.0.1 (process not shown by /proc, uid 0) listens' "$tmp/u.err" &&
    grep -q 'note: the descriptors of [0-9]* process.* could not be read.*\[listening-owner\]' "$tmp/u.err"; then
    pass "another user"
else
    fail "another user (exit $rc)"
    cat "$tmp/u.out" "$tmp/u.err"
fi

# A process whose name holds an escape sequence and a newline: escaped in
# the text, exact in the JSON.
export PC_COMM='\x1b[2Jev\nil'
start tcp:10.1.0.1:4000
unset PC_COMM
(cd "$dir" && "$bin" check --listening kdc.yaml) >/dev/null 2>"$tmp/e3"
(cd "$dir" && "$bin" check --listening --json kdc.yaml) >"$tmp/j3" 2>&1
if grep -q 'tcp port 4000 on 10.1.0.1 (\\x1b\[2Jev\\nil, pid' "$tmp/e3" && ! grep -q "$(printf '\033')" "$tmp/e3" &&
    python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); assert any(s["process"] == "\x1b[2Jev\nil" for s in j["listening"])' "$tmp/j3"; then
    pass "process names escaped"
else
    fail "process names escaped"
    cat "$tmp/e3"
fi
stop

# 250 more sockets that input drops: 200 findings shown, the rest counted.
ports=""
p=30000
while [ $p -lt 30250 ]; do
    ports="$ports udp:10.1.0.1:$p"
    p=$((p + 1))
done
# shellcheck disable=SC2086
start $ports
(cd "$dir" && "$bin" check --listening --json kdc.yaml) >"$tmp/j2" 2>&1
if python3 - "$tmp/j2" <<'PY'; then pass "at most 200 shown"; else fail "at most 200 shown"; head -c 2000 "$tmp/j2"; fi
import json, sys
j = json.load(open(sys.argv[1]))
p = j["policies"][0]
assert len(j["listening"]) == 259, len(j["listening"])
assert len(p["diagnostics"]) == 201, len(p["diagnostics"])  # practice-only, then 200
assert p["not_shown"] == 52 + 2, p["not_shown"]
assert p["warnings"] == 253, p["warnings"]
PY
stop
finish
