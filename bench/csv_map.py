# SPDX-License-Identifier: GPL-2.0-or-later
"""The Python peer of `portcullis lookup --registry CSV [--services FILE] NAME...`:
load the IANA CSV with the csv module and build the same name -> ports map:
ports as numbers (a single port or a LOW-HIGH range, checked to be 0-65535),
the protocol checked, and every row kept with its provenance (its line).
It does less than portcullis (no UTF-8, name or duplicate checks, no port
index, no historic-alias links), so the comparison favours Python.

With --strings it keeps only the port and protocol strings and the line, and
checks nothing: the least a map can be, shown beside the fair one.

usage: python3 bench/csv_map.py [--strings] CSV [--services FILE] NAME..."""
import csv
import sys

PROTOCOLS = {"", "tcp", "udp", "sctp", "dccp"}


def parse_port(text, where):
    if not text:
        return None
    lo, _, hi = text.partition("-")
    try:
        lo = int(lo)
        hi = int(hi) if hi else lo
    except ValueError:
        raise SystemExit("%s: bad port %r" % (where, text))
    if not 0 <= lo <= hi <= 65535:
        raise SystemExit("%s: bad port %r" % (where, text))
    return lo, hi


def load_csv_strings(path, names):
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = csv.reader(f)
        next(rows)
        line = rows.line_num + 1
        for row in rows:
            if row[0]:
                names.setdefault(row[0].lower(), []).append(("iana", row[1], row[2], line, None))
            line = rows.line_num + 1


def load_csv(path, names):
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = csv.reader(f)
        next(rows)
        line = rows.line_num + 1
        for row in rows:
            where = "%s:%d" % (path, line)
            if len(row) != 12:
                raise SystemExit("%s: expected 12 fields" % where)
            ports = parse_port(row[1], where)
            if row[2] not in PROTOCOLS:
                raise SystemExit("%s: bad protocol %r" % (where, row[2]))
            if row[0]:
                names.setdefault(row[0].lower(), []).append(("iana", ports, row[2], line, row))
            line = rows.line_num + 1


def load_services(path, names):
    with open(path, encoding="utf-8") as f:
        for line, text in enumerate(f, 1):
            fields = text.split("#", 1)[0].split()
            if len(fields) < 2 or "/" not in fields[1]:
                continue
            port, proto = fields[1].split("/", 1)
            if proto not in PROTOCOLS:
                continue
            ports = parse_port(port, "%s:%d" % (path, line))
            for name in [fields[0]] + fields[2:]:
                names.setdefault(name.lower(), []).append(("system", ports, proto, line, fields))


def main():
    args = sys.argv[1:]
    names = {}
    if args[0] == "--strings":
        args.pop(0)
        load_csv_strings(args.pop(0), names)
    else:
        load_csv(args.pop(0), names)
    if args and args[0] == "--services":
        args.pop(0)
        load_services(args.pop(0), names)
    for query in args:
        for layer, ports, proto, line, _ in names.get(query.lower(), []):
            print("%s\t%s/%s\t%s:%d" % (query, ports, proto or "any", layer, line))


main()
