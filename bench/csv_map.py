# SPDX-License-Identifier: GPL-2.0-or-later
"""The Python peer of `portcullis lookup --registry CSV [--services FILE] NAME...`:
load the IANA CSV with the csv module into a name -> [(port, protocol, line)]
map that keeps each row's provenance (its line), optionally add a services(5)
file the same way, and answer each name.

usage: python3 bench/csv_map.py CSV [--services FILE] NAME..."""
import csv
import sys


def load_csv(path, names):
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = csv.reader(f)
        next(rows)
        line = rows.line_num + 1
        for row in rows:
            if len(row) != 12:
                raise SystemExit("%s:%d: expected 12 fields" % (path, line))
            name, port, proto = row[0], row[1], row[2]
            if name:
                names.setdefault(name.lower(), []).append(("iana", port, proto, line))
            line = rows.line_num + 1


def load_services(path, names):
    with open(path, encoding="utf-8") as f:
        for line, text in enumerate(f, 1):
            text = text.split("#", 1)[0].split()
            if len(text) < 2 or "/" not in text[1]:
                continue
            port, proto = text[1].split("/", 1)
            for name in [text[0]] + text[2:]:
                names.setdefault(name.lower(), []).append(("system", port, proto, line))


def main():
    args = sys.argv[1:]
    names = {}
    load_csv(args.pop(0), names)
    if args and args[0] == "--services":
        args.pop(0)
        load_services(args.pop(0), names)
    for query in args:
        for layer, port, proto, line in names.get(query.lower(), []):
            print("%s\t%s/%s\t%s:%d" % (query, port, proto or "any", layer, line))


main()
