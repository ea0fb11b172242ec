#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Registry loading, per process, side by side in one run (the commands
# interleave in a shuffled order, so machine noise hits them alike):
#   portcullis lookup on the embedded registry   vs  getent services
#   portcullis lookup --registry CSV (run-time parse with provenance)
#                                                vs  Python csv building the same map
#                                                    (and, for reference, a Python map of
#                                                    bare strings that checks nothing)
# usage: bench/registry.sh [BUILD_DIR]   (PC_BENCH_RUNS sets the runs per command)
set -eu
build=${1:-build}
runs=${PC_BENCH_RUNS:-300}
csv=data/service-names-port-numbers.csv
services=tests/data/services
[ -r /etc/services ] && services=/etc/services
spawn=$build/pc-bench-spawn
pc=$build/portcullis
py=/usr/bin/python3
[ -x "$py" ] || py=python3

out=$("$spawn" "$runs" \
    -- "portcullis lookup kerberos-adm (embedded)" "$pc" lookup kerberos-adm \
    -- "getent services kerberos-adm" getent services kerberos-adm \
    -- "portcullis lookup --registry CSV kerberos-adm" "$pc" lookup --registry "$csv" kerberos-adm \
    -- "python3 csv: the same name -> ports map" "$py" bench/csv_map.py "$csv" kerberos-adm \
    -- "python3 csv: strings only, nothing checked" "$py" bench/csv_map.py --strings "$csv" kerberos-adm \
    -- "portcullis: CSV + services + 4 names" "$pc" lookup --registry "$csv" --services "$services" \
        kerberos kpasswd kerberos-adm krb5_prop \
    -- "python3: CSV + services + 4 names" "$py" bench/csv_map.py "$csv" --services "$services" \
        kerberos kpasswd kerberos-adm krb5_prop \
    -- "python3 -c pass (start-up only)" "$py" -c pass \
    -- "/bin/true (process start-up)" /bin/true)

echo "registry loading, per process, $runs runs each, $(nproc) cores, $(uname -r)"
echo "$out" | awk -F '\t' '
    { label[NR] = $1; med[NR] = $2; mean[NR] = $3; p10[NR] = $4; p90[NR] = $5; rss[NR] = $6; fail[NR] = $7 }
    END {
        printf "| %-46s | %9s | %9s | %9s | %9s | %8s |\n", "command", "median ms", "mean ms", "p10 ms", "p90 ms", "max RSS"
        printf "|%s|%s|%s|%s|%s|%s|\n", "------------------------------------------------", "-----------", "-----------", "-----------", "-----------", "----------"
        for (i = 1; i <= NR; i++)
            printf "| %-46s | %9.2f | %9.2f | %9.2f | %9.2f | %5d KiB |%s\n", label[i], med[i] / 1000, mean[i] / 1000, p10[i] / 1000, p90[i] / 1000, rss[i], fail[i] ? " FAILED " fail[i] "x" : ""
        printf "\nratios (medians):\n"
        printf "  embedded lookup / getent                 = %.2f  (target <= 1)\n", med[1] / med[2]
        printf "  python same map / --registry lookup      = %.1fx (target >= 10x)\n", med[4] / med[3]
        printf "  python strings only / --registry lookup  = %.1fx\n", med[5] / med[3]
        printf "  the same with services + 4 names         = %.1fx\n", med[7] / med[6]
        printf "  parse cost over start-up: portcullis %.2f ms, python %.2f ms\n", (med[3] - med[1]) / 1000, (med[4] - med[8]) / 1000
    }'
