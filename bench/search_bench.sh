#!/usr/bin/env bash
# Successive halving against the full grid on the paper's HPSearch space
# (lr × warmup, HRM NT=12 and T-L4): grids/hpsearch.yaml trains every point to
# the end; grids/hpsearch_sha.yaml samples 9 trials per model and halves them
# (η = 3); `sha on grid points` halves the grid's own points (the 5 learning
# rates of both models × 2 warmups, 10 per model), so that "did it find the
# grid's best" has a plain answer. All run here, in this order, each into its
# own store and run directories (the grid-point search would otherwise find
# the grid's runs trained), and the table compares, per model, the training steps each spent
# and how far its best final val_ce is from the grid's best (target: within
# 0.01 nats at <= 1/3 of the grid's steps).
#
#   bench/search_bench.sh                 # mini profile, 2 slots
#   PROFILE=smoke SLOTS=4 bench/search_bench.sh
#   ONLY=transformer bench/search_bench.sh    # one model's runs (the others excluded)
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
# Copies of the two grids, and the grid's points as a sha search
# (hpsearch_sha.yaml with a grid sampler); with ONLY=model, the other model's
# runs excluded.
cp grids/profiles.yaml grids/hpsearch.yaml grids/hpsearch_sha.yaml "$OUT/"
sed -e 's/^name: hpsearch_sha/name: hpsearch_sha_grid/' -e '/^search:/,$d' grids/hpsearch_sha.yaml \
  >"$OUT/hpsearch_sha_grid.yaml"
cat >>"$OUT/hpsearch_sha_grid.yaml" <<'YAML'
search:
  sampler: grid
  space:
    lr: {choice: [6.0e-4, 3.0e-4, 1.0e-4, 3.0e-5, 1.0e-5]}
    warmup: {choice: [1000, 500]}
  scheduler: {type: sha, min_evals: 1, reduction_factor: 3, metric: val_ce}
YAML
if [ -n "${ONLY:-}" ]; then
  other=$([ "$ONLY" = hrm ] && echo transformer || echo hrm)
  for g in hpsearch hpsearch_sha hpsearch_sha_grid; do
    printf 'exclude:\n  - {model: %s}\n' "$other" >>"$OUT/$g.yaml"
  done
fi
for grid in "$OUT/hpsearch" "$OUT/hpsearch_sha" "$OUT/hpsearch_sha_grid"; do
  name=$(basename "$grid")
  start=$(date +%s)
  "$B/hrm" sweep "$grid.yaml" --profile "$PROFILE" --store "$OUT/$name.db" \
    --runs-dir "$OUT/$name-runs" --slots "$SLOTS" "$@" 2>"$OUT/$name.log"
  echo "$name: $(( $(date +%s) - start )) s wall" >>"$OUT/wall.txt"
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
grid = runs("hpsearch")
searches = [("sha, sampled", runs("hpsearch_sha")), ("sha on grid points", runs("hpsearch_sha_grid"))]
print(f"== successive halving vs grid, HPSearch space, profile {profile} (noisy: shared machine)")
print(f"{'model':<12} {'search':<19} {'steps':>6} {'grid steps':>10} {'ratio':>6} "
      f"{'grid best':>24} {'search best':>24} {'Δ val_ce':>9}")
def best(rs):
    done = [r for r in rs if r["status"] == "done" and r["val"] is not None]
    return min(done, key=lambda r: r["val"])
show = lambda r: f"{r['val']:.4f} (lr {r['config']['lr']:g}, w {r['config']['warmup']})"
for model in ("hrm", "transformer"):
    g = [r for r in grid if r["config"]["model"] == model]
    if not g:
        continue
    gs, gb = sum(r["steps"] for r in g), best(g)
    for name, rs in searches:
        s = [r for r in rs if r["config"]["model"] == model]
        ss, sb = sum(r["steps"] for r in s), best(s)
        print(f"{model:<12} {name:<19} {ss:>6} {gs:>10} {ss / gs:>6.2f} {show(gb):>24} "
              f"{show(sb):>24} {sb['val'] - gb['val']:>+9.4f}")
print(open(f"{out}/wall.txt").read().strip())
PY
