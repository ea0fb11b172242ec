#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# A structural check of SARIF 2.1.0 logs as portcullis writes them (check
# --sarif), for what GitHub code scanning reads: the properties the OASIS
# schema requires and the types and values it allows, for every object
# portcullis emits, and no property the schema does not define there (a typo
# would be silently ignored by a viewer).  The schema itself is not packaged
# anywhere to validate against offline, so this checks the parts we use.
# Usage: sarif-check.py FILE...; exit 1 with the problems listed.
import json
import re
import sys

problems = []


def bad(where, what):
    problems.append("%s: %s" % (where, what))


def keys(where, obj, required, allowed):
    if not isinstance(obj, dict):
        bad(where, "not an object")
        return False
    for k in required:
        if k not in obj:
            bad(where, "missing '%s'" % k)
    for k in obj:
        if k not in allowed and k not in required:
            bad(where, "'%s' is not a property of this object in SARIF 2.1.0" % k)
    return True


def string(where, v, empty=False):
    if not isinstance(v, str) or (not empty and not v):
        bad(where, "not a non-empty string: %r" % (v,))


def integer(where, v, low):
    if not isinstance(v, int) or isinstance(v, bool) or v < low:
        bad(where, "not an integer >= %d: %r" % (low, v))


# RFC 3986 URI reference: unreserved, percent-encoded, sub-delims, ':', '@', '/'.
uri_re = re.compile(r"^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*$")


def check_message(where, m):
    if keys(where, m, ["text"], []):
        string(where + ".text", m.get("text"))


def check_location(where, loc):
    if not keys(where, loc, ["physicalLocation"], []):
        return
    pl = loc["physicalLocation"]
    if not keys(where + ".physicalLocation", pl, ["artifactLocation"], ["region"]):
        return
    al = pl["artifactLocation"]
    if keys(where + ".artifactLocation", al, ["uri"], []):
        uri = al.get("uri")
        string(where + ".uri", uri)
        if isinstance(uri, str) and not uri_re.match(uri):
            bad(where + ".uri", "not a URI reference: %r" % uri)
        if isinstance(uri, str) and re.match(r"^[^/]*:", uri) and not uri.startswith("file:"):
            bad(where + ".uri", "a relative path that reads as a scheme: %r" % uri)
    if "region" in pl:
        r = pl["region"]
        if keys(where + ".region", r, ["startLine"], ["startColumn"]):
            integer(where + ".startLine", r.get("startLine"), 1)
            if "startColumn" in r:
                integer(where + ".startColumn", r["startColumn"], 1)


def check_run(where, run):
    if not keys(where, run, ["tool", "results"], ["invocations", "columnKind"]):
        return
    tool = run["tool"]
    ids = []
    if keys(where + ".tool", tool, ["driver"], []):
        d = tool["driver"]
        if keys(where + ".driver", d, ["name"], ["version", "informationUri", "rules"]):
            string(where + ".driver.name", d.get("name"))
            if "version" in d:
                string(where + ".driver.version", d["version"])
            for i, rule in enumerate(d.get("rules", [])):
                w = "%s.rules[%d]" % (where, i)
                if keys(w, rule, ["id"], ["shortDescription"]):
                    string(w + ".id", rule.get("id"))
                    ids.append(rule.get("id"))
                    if "shortDescription" in rule:
                        check_message(w + ".shortDescription", rule["shortDescription"])
            if len(set(ids)) != len(ids):
                bad(where + ".rules", "a rule id is listed twice")
    if run.get("columnKind", "unicodeCodePoints") not in ("unicodeCodePoints", "utf16CodeUnits"):
        bad(where + ".columnKind", "not a columnKind: %r" % run["columnKind"])
    for i, inv in enumerate(run.get("invocations", [])):
        w = "%s.invocations[%d]" % (where, i)
        if keys(w, inv, ["executionSuccessful"], ["exitCode"]):
            if not isinstance(inv["executionSuccessful"], bool):
                bad(w, "executionSuccessful is not a boolean")
            if "exitCode" in inv:
                integer(w + ".exitCode", inv["exitCode"], 0)
    if not isinstance(run["results"], list):
        bad(where + ".results", "not an array")
        return
    for i, res in enumerate(run["results"]):
        w = "%s.results[%d]" % (where, i)
        if not keys(w, res, ["message"], ["ruleId", "ruleIndex", "level", "locations", "suppressions"]):
            continue
        check_message(w + ".message", res["message"])
        if res.get("level", "warning") not in ("none", "note", "warning", "error"):
            bad(w + ".level", "not a level: %r" % res["level"])
        if "ruleId" in res and res["ruleId"] not in ids:
            bad(w + ".ruleId", "names no rule of the driver: %r" % res["ruleId"])
        if "ruleIndex" in res:
            k = res["ruleIndex"]
            integer(w + ".ruleIndex", k, 0)
            if isinstance(k, int) and (k >= len(ids) or ids[k] != res.get("ruleId")):
                bad(w + ".ruleIndex", "is not the index of its ruleId")
        for n, loc in enumerate(res.get("locations", [])):
            check_location("%s.locations[%d]" % (w, n), loc)
        for n, s in enumerate(res.get("suppressions", [])):
            sw = "%s.suppressions[%d]" % (w, n)
            if keys(sw, s, ["kind"], ["justification"]) and s["kind"] not in ("inSource", "external"):
                bad(sw, "not a suppression kind: %r" % s["kind"])


for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        log = json.load(f)
    if not keys(path, log, ["version", "runs"], ["$schema"]):
        continue
    if log.get("version") != "2.1.0":
        bad(path, "version is not 2.1.0")
    if not isinstance(log["runs"], list) or not log["runs"]:
        bad(path, "runs is not a non-empty array")
        continue
    for i, run in enumerate(log["runs"]):
        check_run("%s: runs[%d]" % (path, i), run)

for p in problems:
    print(p)
sys.exit(1 if problems else 0)
