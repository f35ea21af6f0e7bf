#!/usr/bin/env bash
# Training-step speed on one GPU at the paper's scale, hrm's C++ against its
# PyTorch-Python twin in the same process environment and the same libtorch:
#   bench/gpu_bench.sh [--build DIR] [--steps N] [--warmup N] [--models "transformer unitf hrm"]
#                      [--no-compile] [--cpu-dry]
# For each family at d=4096, seq 1024, batch 12, GPT-2 vocabulary, bf16
# autocast over fp32 weights (grids/equal_param.yaml's paper profile: T L=4,
# UniTF M=12, HRM N=4 T=3, K=2): tokens/s of bench/train_step_bench and of
# bench/hrm_twin.py eager and under torch.compile, the ratios C++/eager and
# C++/compiled, MFU (FLOPs per step from `hrm flops` over the H200's dense
# bf16 peak, 989 TFLOP/s) and peak memory; then the same at the mini profile
# (d=128, seq 64, batch 8, byte vocabulary; eager only: a compile there costs
# more than the whole mini comparison).
# It builds hrm against the Python PyTorch's libtorch (CMAKE_PREFIX_PATH from
# `python3 -c 'import torch; ...'` unless set, as ../shared/gpu/env.sh sets it).
# --cpu-dry runs the same pipeline on the CPU with tiny shapes and the
# existing build (default build/), so that the script itself is exercised on
# machines without a GPU; its numbers mean nothing.
# Rows are also appended as JSON lines to $OUT/gpu_bench.jsonl when OUT is set.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-} STEPS=10 WARMUP=3 MODELS="transformer unitf hrm" COMPILE=1 DRY=0
while [ $# -gt 0 ]; do
  case $1 in
    --build) BUILD=$2; shift 2 ;;
    --steps) STEPS=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --models) MODELS=$2; shift 2 ;;
    --no-compile) COMPILE=0; shift ;;
    --cpu-dry) DRY=1; shift ;;
    *) echo "gpu_bench.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

PEAK_TFLOPS=989  # H200 SXM, dense bf16
if [ "$DRY" = 1 ]; then
  PY=${PYTHON:-/usr/bin/python3}
  BUILD=${BUILD:-build}
  DEVICE=cpu
  PAPER="--d 64 --seq 32 --batch 2"; PAPER_VOCAB=256
  MINI="--d 32 --seq 16 --batch 2"; MINI_VOCAB=256
  "$PY" -c 'import torch, sys; sys.exit(0 if hasattr(torch, "compile") else 1)' || COMPILE=0
  cmake --build "$BUILD" --target hrm train_step_bench >/dev/null
else
  PY=${PYTHON:-python3}
  BUILD=${BUILD:-build-gpu}
  DEVICE=cuda
  PAPER="--d 4096 --seq 1024 --batch 12"; PAPER_VOCAB=50257
  MINI="--d 128 --seq 64 --batch 8"; MINI_VOCAB=256
  "$PY" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' || {
    echo "gpu_bench.sh: $PY has no CUDA PyTorch (use --cpu-dry on a machine without a GPU)" >&2
    exit 2
  }
  export CMAKE_PREFIX_PATH=${CMAKE_PREFIX_PATH:-$("$PY" -c 'import torch; print(torch.utils.cmake_prefix_path)')}
  [ -f "$BUILD/build.ninja" ] || cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j"$(nproc)" --target hrm train_step_bench >/dev/null
fi
JSONL=${OUT:+$OUT/gpu_bench.jsonl}

# One row: the JSON lines of C++, eager and compiled runs, and `hrm flops`.
row() {  # profile model shape-flags vocab compile(0|1)
  local profile=$1 model=$2 shape=$3 vocab=$4 compile=$5 cpp py_eager py_comp flops key
  local common="--model $model $shape --steps $STEPS --warmup $WARMUP"
  # train_step_bench computes under bf16 autocast on CUDA, as the trainer does.
  if [ "$DEVICE" = cuda ]; then
    cpp=$("$BUILD/bench/train_step_bench" $common --vocab "$vocab" --device cuda | tail -1)
  else
    cpp=$("$BUILD/bench/train_step_bench" $common --threads 1 | tail -1)
  fi
  py_eager=$("$PY" bench/hrm_twin.py $common --vocab "$vocab" --device "$DEVICE" --bf16 \
             --threads 1 | tail -1)
  py_comp='{}'
  [ "$compile" = 1 ] && py_comp=$("$PY" bench/hrm_twin.py $common --vocab "$vocab" \
                                  --device "$DEVICE" --bf16 --compile --threads 1 | tail -1)
  local sets=""
  for kv in $shape; do
    case $kv in --*) key=${kv#--} ;; *) sets="$sets --set $key=$kv" ;; esac
  done
  flops=$("$BUILD/hrm" flops --set model="$model" --set vocab="$vocab" $sets --json)
  "$PY" - "$profile" "$model" "$cpp" "$py_eager" "$py_comp" "$flops" "$PEAK_TFLOPS" \
        "${JSONL:-}" <<'PY'
import json, re, sys
profile, model, cpp, eager, comp, flops, peak, jsonl = sys.argv[1:9]
cpp, eager, comp, flops = (json.loads(s) for s in (cpp, eager, comp, flops))
def tps(r): return r.get("tokens_per_s")
def mfu(r):
    if not r.get("ms_per_step"): return None
    return flops["total"] / (r["ms_per_step"] / 1e3) / (float(peak) * 1e12)
def fmt(v, spec):
    return "n/a".rjust(int(re.match(r"\d*", spec).group() or 0)) if v is None else format(v, spec)
def ratio(a, b): return None if not a or not b else a / b
row = {"profile": profile, "model": model, "flops_per_step": flops["total"],
       "cpp_tok_s": tps(cpp), "eager_tok_s": tps(eager), "compiled_tok_s": tps(comp),
       "cpp_over_eager": ratio(tps(cpp), tps(eager)),
       "cpp_over_compiled": ratio(tps(cpp), tps(comp)),
       "cpp_mfu": mfu(cpp), "eager_mfu": mfu(eager), "compiled_mfu": mfu(comp),
       "cpp_peak_mb": cpp.get("peak_mem_mb"), "eager_peak_mb": eager.get("peak_mem_mb"),
       "compiled_peak_mb": comp.get("peak_mem_mb")}
print(f"{profile:<6} {model:<12} {fmt(row['cpp_tok_s'], '11.0f')} {fmt(row['eager_tok_s'], '11.0f')}"
      f" {fmt(row['compiled_tok_s'], '11.0f')} {fmt(row['cpp_over_eager'], '7.2f')}"
      f" {fmt(row['cpp_over_compiled'], '7.2f')} {fmt(row['cpp_mfu'], '6.1%')}"
      f" {fmt(row['eager_mfu'], '6.1%')} {fmt(row['compiled_mfu'], '6.1%')}"
      f" {fmt(row['cpp_peak_mb'], '9.0f')} {fmt(row['eager_peak_mb'], '9.0f')}"
      f" {fmt(row['compiled_peak_mb'], '9.0f')}")
if jsonl:
    with open(jsonl, "a") as f:
        f.write(json.dumps(row) + "\n")
PY
}

echo "== training step on $DEVICE$([ "$DRY" = 1 ] && echo ' (--cpu-dry: tiny shapes, numbers mean nothing)'),"\
     "bf16 autocast, $STEPS timed steps after $WARMUP; MFU against $PEAK_TFLOPS TFLOP/s"
printf "%-6s %-12s %11s %11s %11s %7s %7s %6s %6s %6s %9s %9s %9s\n" profile model \
  cpp_tok/s eager_tok/s comp_tok/s cpp/eag cpp/cmp cppMFU eagMFU cmpMFU cpp_MB eager_MB comp_MB
for m in $MODELS; do row paper "$m" "$PAPER" "$PAPER_VOCAB" "$COMPILE"; done
for m in $MODELS; do row mini "$m" "$MINI" "$MINI_VOCAB" 0; done
