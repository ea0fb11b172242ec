# SPDX-License-Identifier: GPL-2.0-or-later
# results.py FILE stats: "HOST changed=N failed=N unreachable=N" a line, from
# the record callback/record.py writes; results.py FILE task NAME KEY: "HOST
# VALUE" for each host's result of the task NAME (a role's too: "ROLE : NAME";
# VALUE as JSON).
import json
import sys

try:
    with open(sys.argv[1]) as f:
        run = json.load(f)
except (OSError, ValueError) as e:
    print("no record of the run: %s" % e)
    sys.exit(1)
if sys.argv[2] == "stats":
    for host, st in sorted(run["stats"].items()):
        print("%s changed=%d failed=%d unreachable=%d" % (host, st["changed"], st["failures"], st["unreachable"]))
else:
    for task in run["tasks"]:
        if task["name"] != sys.argv[3] and not task["name"].endswith(" : " + sys.argv[3]):
            continue
        for host, res in sorted(task["hosts"].items()):
            print("%s %s" % (host, json.dumps(res.get(sys.argv[4]))))
