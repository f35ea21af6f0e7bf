#!/usr/bin/env bash
# `make bench`: every benchmark, each reported as a ratio against a baseline
# measured in the same run. OpenBLAS's forced core type (set on this machine)
# slows it: benchmarks unset it; tests keep it.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${BUILD:-build}
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
export OMP_WAIT_POLICY=PASSIVE
THREADS=${THREADS:-$(nproc)}
cmake --build "$B" --target train_step_bench decode_bench store_bench report_bench checkpoint_bench \
  cross_entropy_bench >/dev/null

echo "== training step, d=128 seq=128 batch=8, $THREADS threads (C++ vs PyTorch-Python twin, same libtorch)"
printf "%-12s %12s %12s %14s %8s\n" model cpp_ms py_ms cpp_tok/s speedup
for m in transformer unitf hrm; do
  for rep in 1 2 3; do  # interleaved so drift hits both sides alike
    "$B/bench/train_step_bench" --model $m --threads "$THREADS" --steps 10 >>"/tmp/hrm_bench_cpp_$m"
    /usr/bin/python3 bench/hrm_twin.py --model $m --threads "$THREADS" --steps 10 >>"/tmp/hrm_bench_py_$m"
  done
  /usr/bin/python3 - "$m" <<'PY'
import json, statistics, sys, os
m = sys.argv[1]
def med(path):
    rows = [json.loads(l) for l in open(path)]
    os.remove(path)
    return statistics.median(r["ms_per_step"] for r in rows), statistics.median(r["tokens_per_s"] for r in rows)
c, ct = med(f"/tmp/hrm_bench_cpp_{m}")
p, _ = med(f"/tmp/hrm_bench_py_{m}")
print(f"{m:<12} {c:12.1f} {p:12.1f} {ct:14.0f} {p / c:7.2f}x")
PY
done
echo
echo "== generation, 64-token prompt + 128 greedy tokens, batch 1, d=128, 1 thread (KV cache vs recompute)"
"$B/bench/decode_bench" --threads 1
echo
echo "== training step, d=128 seq=128 batch=8, 1 thread: trainer's step vs libtorch's plain one"
"$B/bench/train_step_bench" --threads 1 --steps 10 --variant plain
"$B/bench/train_step_bench" --threads 1 --steps 10 --variant trainer
"$B/bench/train_step_bench" --threads 1 --steps 10 --model hrm --hrm-plain 1
echo
echo "== tied-head cross-entropy at V=50257 (chunked vs plain, time and peak memory)"
"$B/bench/cross_entropy_bench" --rows 2048 --d 256 --reps 3 --steps 3
echo
echo "== store"
"$B/bench/store_bench"
echo
echo "== report"
"$B/bench/report_bench"
echo
echo "== checkpoint, d=4096 shapes + AdamW state (save/load vs plain write+fsync/read of the same bytes)"
# One d=4096 block (3.2 GB file, ~6.5 GB peak); a whole d=4096 model is ~15 GB.
"$B/bench/checkpoint_bench" --blocks "${CKPT_BLOCKS:-1}" --dir "${CKPT_DIR:-/tmp}"
