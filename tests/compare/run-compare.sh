#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# End-to-end tests of `portcullis compare`: realistic changes of the shipped
# policies (tests/compare/cases/), each compared with the original by the real
# binary from the source root; stdout, stderr and the exit status are checked
# against tests/compare/golden/.  PC_UPDATE_GOLDEN=1 rewrites the goldens after
# an intentional change (review the diff before committing).
. "$(dirname "$0")/../lib.sh"
golden=$dir/golden
cases=tests/compare/cases

primary=policies/kdc-primary.yaml
# Changes that move verdicts: exit 1, one line per region.
check open-749 1 compare $primary $cases/open-749.yaml
check no-kpasswd-tcp 1 compare $primary $cases/no-kpasswd-tcp.yaml
check deny-inserted 1 compare $primary $cases/deny-inserted.yaml
check input-accept 1 compare $primary $cases/input-accept.yaml
check iprop-replica 1 compare policies/kdc-iprop.yaml $cases/iprop-replica.yaml
# The other way round: what opened now closes.
check open-749-back 1 compare $cases/open-749.yaml $primary
# Changes that move none: exit 0, and what changed in the text.
check same 0 compare $primary $primary
check comment 0 compare $primary $cases/comment.yaml
check split 0 compare $primary $cases/split.yaml
check renamed 0 compare $primary $cases/renamed.yaml
# --only: what opens, what closes.
check only-accept-opens 1 compare --only accept $primary $cases/open-749.yaml
check only-drop-opens 0 compare --only drop $primary $cases/open-749.yaml
check only-drop-closes 1 compare --only drop $primary $cases/no-kpasswd-tcp.yaml
# --json
check json-open-749 1 compare --json $primary $cases/open-749.yaml
check json-renamed 0 compare --json $primary $cases/renamed.yaml
# Usage, unreadable and invalid policies.
check only-bad 2 compare --only open $primary $primary
check one-policy 2 compare $primary
check missing 3 compare $primary policies/no-such-policy.yaml
check invalid 1 compare $primary tests/policies/bad/service-unknown.yaml

finish
