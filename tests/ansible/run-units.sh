#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The unit tests of the Ansible collection (contrib/ansible: the module's
# arguments and phases against a stand-in for portcullis, the action
# plugin's gathering of a policy's files and its sequence of calls: check on
# the controller, apply, confirm over a reset connection, wait and verify),
# with Debian's ansible-core.
. "$(dirname "$0")/../lib.sh"
py=/usr/bin/python3
if [ ! -x $py ] || ! $py -c 'import ansible.module_utils.basic, yaml' 2>/dev/null; then
    cannot_run "ansible-core (Debian's, for /usr/bin/python3)"
fi
cd "$root/contrib/ansible" || exit 1
# Ansible's files under $tmp, not in the home directory.  One process each:
# once ansible.plugins is imported, Ansible's collection
# loader answers for ansible_collections, as it does under ansible-test.
rc=0
for kind in modules action; do
    LC_ALL=C.UTF-8 PYTHONDONTWRITEBYTECODE=1 HOME="$tmp" ANSIBLE_HOME="$tmp/ansible" \
        ANSIBLE_LOCAL_TEMP="$tmp/ansible-local" $py -m unittest -v \
        ansible_collections/portcullis/firewall/tests/unit/plugins/$kind/test_portcullis_policy.py >>"$tmp/log" 2>&1 || rc=1
done
cat "$tmp/log"
n=$(grep -c ' \.\.\. ok$' "$tmp/log")
bad=$(grep -c ' \.\.\. \(FAIL\|ERROR\)$' "$tmp/log")
echo "$n passed, $bad failed"
[ $rc = 0 ] && [ "$bad" = 0 ] && [ "$n" -gt 0 ]
