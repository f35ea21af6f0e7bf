#!/usr/bin/env bash
# Successive halving against the full grid on the paper's HPSearch space
# (lr × warmup, HRM NT=12 and T-L4): grids/hpsearch.yaml trains every point to
# the end, grids/hpsearch_sha.yaml samples 9 trials per model and halves them
# (η = 3). Both run here, in this order, each into its own store, and the
# table compares, per model, the training steps each spent and how far the
# search's best final val_ce is from the grid's best (target: within 0.01
# nats at <= 1/3 of the grid's steps).
#
#   bench/search_bench.sh                 # mini profile, 2 slots
#   PROFILE=smoke SLOTS=4 bench/search_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
B=${BUILD:-build}
PROFILE=${PROFILE:-mini}
SLOTS=${SLOTS:-2}
OUT=${OUT:-/tmp/hrm_search_bench_$PROFILE}
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
cmake --build "$B" --target hrm >/dev/null
rm -rf "$OUT"
mkdir -p "$OUT"
for grid in hpsearch hpsearch_sha; do
  start=$(date +%s)
  "$B/hrm" sweep "grids/$grid.yaml" --profile "$PROFILE" --store "$OUT/$grid.db" \
    --slots "$SLOTS" "$@" 2>"$OUT/$grid.log"
  echo "$grid: $(( $(date +%s) - start )) s wall" >>"$OUT/wall.txt"
done
/usr/bin/python3 - "$OUT" "$PROFILE" <<'PY'
import json, sqlite3, sys
out, profile = sys.argv[1], sys.argv[2]
def runs(db):
    c = sqlite3.connect(f"{out}/{db}.db")
    rows = c.execute("""SELECT r.id, r.config, r.status,
        (SELECT max(step) FROM evals e WHERE e.run_id = r.id),
        (SELECT val_ce FROM evals e WHERE e.run_id = r.id ORDER BY step DESC LIMIT 1)
        FROM runs r""").fetchall()
    return [dict(id=i, config=json.loads(c_), status=s, steps=m or 0, val=v) for i, c_, s, m, v in rows]
grid, sha = runs("hpsearch"), runs("hpsearch_sha")
print(f"== successive halving vs grid, HPSearch space, profile {profile} (noisy: shared machine)")
print(f"{'model':<12} {'grid steps':>10} {'sha steps':>10} {'ratio':>6} {'grid best':>22} "
      f"{'sha best':>22} {'Δ val_ce':>9}")
for model in ("hrm", "transformer"):
    g = [r for r in grid if r["config"]["model"] == model]
    s = [r for r in sha if r["config"]["model"] == model]
    gs, ss = sum(r["steps"] for r in g), sum(r["steps"] for r in s)
    def best(rs):
        done = [r for r in rs if r["status"] == "done" and r["val"] is not None]
        return min(done, key=lambda r: r["val"])
    gb, sb = best(g), best(s)
    show = lambda r: f"{r['val']:.4f} (lr {r['config']['lr']:g}, w {r['config']['warmup']})"
    print(f"{model:<12} {gs:>10} {ss:>10} {ss / gs:>6.2f} {show(gb):>22} {show(sb):>22} "
          f"{sb['val'] - gb['val']:>+9.4f}")
print(open(f"{out}/wall.txt").read().strip())
PY
