#!/usr/bin/env bash
# `make demo`: the mini-profile EqualParam (Table 6) and UniTF (Table 12)
# sweeps on the built-in corpus, on this machine's CPU slots, then the tables
# and report.html. Interrupted, the same command resumes where it stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
HRM=${HRM:-build/hrm}
STORE=${STORE:-runs/demo/hrm.db}
SLOTS=${SLOTS:-2}
PROFILE=${PROFILE:-mini}

for grid in equal_param unitf; do
  "$HRM" sweep "grids/$grid.yaml" --profile "$PROFILE" --store "$STORE" --slots "$SLOTS" --threads 1
done
echo
"$HRM" report table6 --store "$STORE" --format md
echo
"$HRM" report table12 --store "$STORE" --format md
"$HRM" report --paper --store "$STORE" --out runs/demo/report
echo
echo "report: runs/demo/report/report.html   store: $STORE (sqlite3 $STORE 'select * from final_evals')"
