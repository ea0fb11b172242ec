#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The Ansible collection over real SSH (contrib/ansible): network namespaces
# for a controller (198.51.100.2, in the admins network), a primary KDC
# (192.0.2.10), two replicas (192.0.2.11, .12) and a client (203.0.113.50),
# joined by a bridge in a namespace of its own.  Each KDC runs sshd on its own
# address with a host key made here, in a mount namespace of its own whose
# /usr, /etc and /var are overlays on tmpfs and /run a tmpfs: what the play
# installs there (the package, /etc/portcullis, dpkg's database) stays there
# and is gone with the namespace.  Nothing is installed on this machine.
# 1. A broken policy: the play fails on the controller with the diagnostic
#    (file:line:col), and no host sees an SSH login.
# 2. contrib/ansible/examples/site.yml: every KDC changed; then real TCP and
#    UDP traffic: clients get 88 and 464 on the primary, 88 on the replicas;
#    kadmin (749/tcp) only from the admins; kprop (754/tcp) on the replicas
#    from the primary only.
# 3. Again: changed=0 on every host.  The plays after it leave the package's
#    tasks out (proven by 2 and 3).
# 4. A rule added by hand with nft on a replica: --check --diff says changed
#    for that host only, with the rule in the diff; a normal run removes it.
# 5. A policy without SSH on a replica (confirm_timeout 4): rolled_back, the
#    host answers SSH again, its verdicts are the old ones, and its policy
#    file is the old one (the site run after it changes nothing).
# 6. state: absent removes the table (changed), then changes nothing.
# The package: PC_ANSIBLE_DEB, else the one the deb test leaves in the build
# directory (BUILD/deb/portcullis_*.deb, BUILD the third argument); without
# one the hosts get the build's binary copied in, and the package case says
# skip.
. "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
col=$root/contrib/ansible
py=/usr/bin/python3

if [ "$(id -u)" != 0 ] || ! unshare -n true 2>/dev/null || ! command -v ip >/dev/null 2>&1 ||
    ! command -v nft >/dev/null 2>&1 || ! command -v ansible-playbook >/dev/null 2>&1 ||
    ! command -v sshd >/dev/null 2>&1 || ! command -v ssh-keygen >/dev/null 2>&1 || [ ! -x $py ]; then
    cannot_run "root, network namespaces, ip, nft, ansible-playbook (ansible-core), sshd (openssh-server) and ssh-keygen"
fi
unset SSH_CONNECTION SSH_AUTH_SOCK
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

deb=${PC_ANSIBLE_DEB:-}
if [ -z "$deb" ] && [ -n "${3:-}" ]; then
    for f in "$3"/deb/portcullis_*.deb; do [ -f "$f" ] && deb=$f; done
fi
[ -z "$deb" ] || deb=$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")

id=$$
BR=pcabr$id CTL=pcactl$id K1=pcak1$id K2=pcak2$id K3=pcak3$id CLI=pcacli$id
hosts="$K1 $K2 $K3"
all="$CTL $K1 $K2 $K3 $CLI"
cleanup() {
    for n in $all $BR; do
        for p in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    done
    for n in $all $BR; do ip netns del "$n" 2>/dev/null; done
    # the mounts were in the namespaces' own mount namespaces: nothing is mounted here
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

addr_of() {
    case $1 in
    "$CTL") echo 198.51.100.2 ;; "$K1") echo 192.0.2.10 ;; "$K2") echo 192.0.2.11 ;;
    "$K3") echo 192.0.2.12 ;; "$CLI") echo 203.0.113.50 ;;
    esac
}
# A run killed outright (SIGKILL: a timeout's second signal) could not clean
# up: the namespaces of a run whose process is gone are removed first.
for n in $(ip netns list 2>/dev/null | awk '{print $1}'); do
    case $n in
    pcabr*) pid=${n#pcabr} ;; pcactl*) pid=${n#pcactl} ;; pcacli*) pid=${n#pcacli} ;;
    pcak[123]*) pid=${n#pcak?} ;;
    *) continue ;;
    esac
    case $pid in '' | *[!0-9]*) continue ;; esac
    [ "$pid" != "$id" ] && ! kill -0 "$pid" 2>/dev/null || continue
    for p in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    ip netns del "$n" 2>/dev/null
done
ip netns add $BR && ip -n $BR link add br0 type bridge && ip -n $BR link set br0 up || {
    fail namespaces
    finish
    exit 1
}
i=0
for n in $all; do
    i=$((i + 1))
    ip netns add "$n" &&
        ip -n $BR link add "p$i" type veth peer name eth0 netns "$n" &&
        ip -n $BR link set "p$i" master br0 && ip -n $BR link set "p$i" up &&
        ip -n "$n" link set lo up && ip -n "$n" link set eth0 up &&
        ip -n "$n" addr add "$(addr_of "$n")/32" dev eth0 &&
        for net in 192.0.2.0/24 198.51.100.0/24 203.0.113.0/24; do
            ip -n "$n" route add $net dev eth0 || exit 1
        done || {
        fail "namespace $n"
        finish
        exit 1
    }
done

# The keys: one client key for the controller, one host key per KDC.
ssh-keygen -q -t ed25519 -N '' -C pc-ansible-test -f "$tmp/client_key" || exit 1
start_host() {
    n=$1 a=$(addr_of "$1") d=$tmp/$1
    mkdir -p "$d" && ssh-keygen -q -t ed25519 -N '' -f "$d/host_key" || return 1
    cat >"$d/sshd_config" <<EOF
ListenAddress $a
Port 22
HostKey $d/host_key
AuthorizedKeysFile $tmp/client_key.pub
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile none
LogLevel VERBOSE
Subsystem sftp internal-sftp
EOF
    # the host's own /usr, /etc, /var (overlays) and /run; then sshd
    ip netns exec "$n" unshare -m --propagation private sh -c '
        d=$1 bin=$2 deb=$3
        mkdir -p "$d/fs" && mount -t tmpfs pcansible "$d/fs" || exit 1
        for x in usr etc var; do
            mkdir -p "$d/fs/$x.up" "$d/fs/$x.work" &&
                mount -t overlay pcansible -o "lowerdir=/$x,upperdir=$d/fs/$x.up,workdir=$d/fs/$x.work" "/$x" || exit 1
        done
        mount -t tmpfs pcansible /run && mkdir -m 755 /run/sshd || exit 1
        rm -rf /etc/portcullis
        # without the package, the build'"'"'s binary (the harness'"'"'s install)
        [ -n "$deb" ] || cp "$bin" /usr/sbin/portcullis || exit 1
        exec /usr/sbin/sshd -D -E "$d/sshd.log" -f "$d/sshd_config"
    ' sh "$d" "$bin" "$deb" &
    # ip netns exec, unshare and sh each exec the next: this is sshd
    echo $! >"$d/pid"
}
# in_host HOST CMD...: CMD in that KDC's network and mount namespaces.
in_host() {
    h=$1
    shift
    nsenter -t "$(cat "$tmp/$h/pid")" -m -n "$@"
}
for n in $hosts; do start_host "$n" || exit 1; done
for n in $hosts; do
    ip netns exec "$n" timeout 600 $py "$here/listen.py" 600 &
done
# sshd answers within 10 s, or the test fails
for n in $hosts; do
    a=$(addr_of "$n") ok=0
    for _ in $(seq 1 50); do
        if ip netns exec $CTL timeout 2 $py -c "import socket; socket.create_connection(('$a', 22), timeout=1).close()" 2>/dev/null; then
            ok=1
            break
        fi
        sleep 0.2
    done
    [ $ok = 1 ] || {
        fail "sshd on $a"
        cat "$tmp/$n/sshd.log"
        finish
        exit 1
    }
done

# The controller: an inventory of those addresses, portcullis on its PATH,
# Ansible's files under $tmp.
mkdir -p "$tmp/ctlbin" "$tmp/work" "$tmp/ahome" && ln -s "$bin" "$tmp/ctlbin/portcullis"
cat >"$tmp/inventory.yml" <<EOF
kdcs:
  vars:
    ansible_user: root
    ansible_ssh_private_key_file: $tmp/client_key
    ansible_python_interpreter: $py
  children:
    kdc_primary:
      hosts:
        kdc1: {ansible_host: $(addr_of "$K1")}
    kdc_replicas:
      hosts:
        kdc2: {ansible_host: $(addr_of "$K2")}
        kdc3: {ansible_host: $(addr_of "$K3")}
EOF
cat >"$tmp/ansible.cfg" <<EOF
[defaults]
host_key_checking = False
timeout = 3
forks = 5
remote_tmp = $tmp/remote
local_tmp = $tmp/local
retry_files_enabled = False
[ssh_connection]
ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o IdentitiesOnly=yes -o LogLevel=ERROR
control_path_dir = $tmp/cp
pipelining = True
EOF
if [ -n "$deb" ]; then
    install_vars="portcullis_install=deb portcullis_deb=$deb"
else
    install_vars="portcullis_install=none"
fi
# play OUT ARGS...: ansible-playbook in the controller's namespace, its
# record (callback/record.py) in $tmp/OUT.json, its output in $tmp/OUT.out;
# bounded.
play() {
    out=$1
    shift
    ip netns exec $CTL env LC_ALL=C.UTF-8 PATH="$tmp/ctlbin:$PATH" HOME="$tmp/ahome" ANSIBLE_HOME="$tmp/ahome" \
        ANSIBLE_CONFIG="$tmp/ansible.cfg" ANSIBLE_COLLECTIONS_PATH="$col" ANSIBLE_CALLBACK_PLUGINS="$here/callback" \
        ANSIBLE_CALLBACKS_ENABLED=record PC_ANSIBLE_RECORD="$tmp/$out.json" \
        ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 \
        timeout 240 ansible-playbook -i "$tmp/inventory.yml" -e "$install_vars" \
        -e "portcullis_build_dir=$tmp/work portcullis_confirm_timeout=10" "$@" >"$tmp/$out.out" 2>&1
}
stats() { $py "$here/results.py" "$tmp/$1.json" stats; }
field() { $py "$here/results.py" "$tmp/$1.json" task "$2" "$3"; }
logins() { cat "$tmp"/*/sshd.log 2>/dev/null | grep -c 'Accepted publickey'; }
# verdicts FROM TO PROTO/PORT...: one line, each "PROTO/PORT:accepted|dropped"
verdicts() {
    f=$1 a=$(addr_of "$2")
    shift 2
    v=""
    for pp in "$@"; do
        v="$v${v:+ }$pp:$(ip netns exec "$f" timeout 5 $py "$here/probe.py" "$a" "${pp%/*}" "${pp#*/}")"
    done
    echo "$v"
}
# expect_verdicts NAME FROM TO WANT: WANT is verdicts' line
expect_verdicts() {
    probes=$(echo "$4" | sed -E 's/:(accepted|dropped)//g')
    # shellcheck disable=SC2086
    got=$(verdicts "$2" "$3" $probes)
    if [ "$got" = "$4" ]; then pass "$1"; else
        fail "$1"
        echo "  expected: $4"
        echo "  got:      $got"
    fi
}
site=$col/examples/site.yml

# Before any policy: everything the listeners serve is reachable.
expect_verdicts "no policy yet: kadmin reachable from a client" $CLI "$K1" "tcp/749:accepted"

# 1. A broken policy stops the play on the controller.
before=$(logins)
play broken "$site" -e "portcullis_policy_src=$here/policies/broken.yaml"
rc=$?
if [ $rc != 0 ] && grep -q "broken.yaml:6:12: error: unknown service 'kerberoz'" "$tmp/broken.out" &&
    [ "$(logins)" = "$before" ] && [ "$(stats broken | grep -c 'failed=1 unreachable=0$')" = 3 ]; then
    pass "a broken policy stops the play on the controller, no host touched"
else
    fail "a broken policy stops the play on the controller, no host touched (status $rc, logins $before -> $(logins))"
    stats broken
    head -c 3000 "$tmp/broken.out"
fi

# 2. The realm.
play site1 "$site"
rc=$?
if [ $rc = 0 ] && [ "$(field site1 'The firewall policy' changed)" = "kdc1 true
kdc2 true
kdc3 true" ]; then
    pass "site.yml: every KDC changed"
else
    fail "site.yml: every KDC changed (status $rc)"
    stats site1
    tail -c 6000 "$tmp/site1.out"
fi
if [ -n "$deb" ]; then
    if [ "$(field site1 'Install the package' changed)" = "kdc1 true
kdc2 true
kdc3 true" ] && [ "$(in_host "$K2" dpkg-query -W -f '${db:Status-Status}' portcullis)" = installed ] &&
        [ "$(dpkg-query -W -f '${db:Status-Status}' portcullis 2>/dev/null)" != installed ]; then
        pass "the role installs the package"
    else
        fail "the role installs the package"
        field site1 'Install the package' msg
    fi
else
    skip "the role installs the package" "the Debian package (BUILD/deb/portcullis_*.deb, which the deb test leaves, or PC_ANSIBLE_DEB)"
fi
expect_verdicts "primary: clients get kerberos and kpasswd" $CLI "$K1" \
    "tcp/88:accepted udp/88:accepted tcp/464:accepted udp/464:accepted"
expect_verdicts "primary: no kadmin or kprop for clients" $CLI "$K1" "tcp/749:dropped tcp/754:dropped"
expect_verdicts "primary: kadmin from the admins" $CTL "$K1" "tcp/749:accepted"
for r in "$K2" "$K3"; do
    expect_verdicts "replica $(addr_of "$r"): clients get kerberos only" $CLI "$r" \
        "tcp/88:accepted udp/88:accepted tcp/464:dropped udp/464:dropped tcp/749:dropped"
    expect_verdicts "replica $(addr_of "$r"): kprop from the primary" "$K1" "$r" "tcp/754:accepted"
    expect_verdicts "replica $(addr_of "$r"): no kprop from a client or the admins" $CLI "$r" "tcp/754:dropped"
    expect_verdicts "replica $(addr_of "$r"): no kprop from the admins" $CTL "$r" "tcp/754:dropped"
done
expect_verdicts "replica 192.0.2.11: no kprop from the other replica" "$K3" "$K2" "tcp/754:dropped"

# 3. Again: nothing changes.
play site2 "$site"
rc=$?
want="kdc1 changed=0 failed=0 unreachable=0
kdc2 changed=0 failed=0 unreachable=0
kdc3 changed=0 failed=0 unreachable=0"
if [ $rc = 0 ] && [ "$(stats site2)" = "$want" ]; then pass "site.yml again: changed=0 on every host"; else
    fail "site.yml again: changed=0 on every host (status $rc)"
    stats site2
fi

# The package is proven by now (installed, then changed=0): the plays below
# are about the policy, and leave its tasks out (each costs seconds a host).
[ -z "$deb" ] || install_vars="portcullis_install=none"

# 4. A rule added by hand on a replica: check mode reports it, a run removes it.
ip netns exec "$K2" nft add rule inet portcullis input tcp dport 3306 accept
play check --check --diff "$site"
rc=$?
if [ $rc = 0 ] && [ "$(field check 'The firewall policy' changed)" = "kdc1 false
kdc2 true
kdc3 false" ] && field check 'The firewall policy' diff | grep -q 'kdc2 .*added by hand.*tcp dport 3306 accept' &&
    ip netns exec "$K2" nft list table inet portcullis | grep -q 'dport 3306'; then
    pass "check mode: the hand-added rule, on that replica only, in the diff"
else
    fail "check mode: the hand-added rule, on that replica only, in the diff (status $rc)"
    field check 'The firewall policy' diff
fi
play site3 "$site"
rc=$?
if [ $rc = 0 ] && [ "$(field site3 'The firewall policy' changed)" = "kdc1 false
kdc2 true
kdc3 false" ] && ! ip netns exec "$K2" nft list table inet portcullis | grep -q 'dport 3306'; then
    pass "a normal run removes the hand-added rule"
else
    fail "a normal run removes the hand-added rule (status $rc)"
    stats site3
fi

# 5. A policy that cuts the controller off: the host rolls it back.
old=$(verdicts $CLI "$K3" tcp/88 tcp/749)
oldkprop=$(verdicts "$K1" "$K3" tcp/754)
t0=$(date +%s)
play lockout "$here/lockout.yml" -e "target=kdc3 policy=$here/policies/no-ssh.yaml confirm=4"
rc=$?
t1=$(date +%s)
rolled=$(field lockout 'Apply the policy without SSH' rolled_back)
status=$(field lockout 'Apply the policy without SSH' status)
if [ $rc != 0 ] && [ "$rolled" = "kdc3 true" ] && [ $((t1 - t0)) -le 60 ] &&
    echo "$status" | grep -q '"policy": "kdc-replica"' && echo "$status" | grep -q '"file": "matches"' &&
    echo "$status" | grep -q '"confirm_deadline": null'; then
    pass "a policy without SSH: rolled_back, status says kdc-replica, matching its file ($((t1 - t0)) s)"
else
    fail "a policy without SSH: rolled_back (status $rc, $((t1 - t0)) s)"
    echo "$rolled"
    echo "$status"
    field lockout 'Apply the policy without SSH' msg
    tail -c 3000 "$tmp/lockout.out"
fi
if [ "$(verdicts $CLI "$K3" tcp/88 tcp/749)" = "$old" ] && [ "$(verdicts "$K1" "$K3" tcp/754)" = "$oldkprop" ]; then
    pass "after the rollback the old verdicts are back"
else
    fail "after the rollback the old verdicts are back: $(verdicts $CLI "$K3" tcp/88 tcp/749) $(verdicts "$K1" "$K3" tcp/754)"
fi
play site4 "$site"
rc=$?
if [ $rc = 0 ] && [ "$(stats site4)" = "$want" ] &&
    in_host "$K3" cat /etc/portcullis/policy.yaml | cmp -s - "$tmp/work/kdc-replica.yaml"; then
    pass "after the rollback SSH answers and the host's policy file is the old one (changed=0)"
else
    fail "after the rollback SSH answers and the host's policy file is the old one (status $rc)"
    stats site4
    field site4 'The firewall policy' diff_text
fi

# 6. state: absent.
play absent1 "$here/absent.yml" -e target=kdc3
rc1=$?
play absent2 "$here/absent.yml" -e target=kdc3
rc2=$?
if [ $rc1 = 0 ] && [ $rc2 = 0 ] && [ "$(field absent1 'Remove the firewall' changed)" = "kdc3 true" ] &&
    [ "$(field absent2 'Remove the firewall' changed)" = "kdc3 false" ] &&
    ! ip netns exec "$K3" nft list table inet portcullis >/dev/null 2>&1; then
    pass "state: absent removes the table, then changes nothing"
else
    fail "state: absent removes the table, then changes nothing (status $rc1 $rc2)"
fi
finish
